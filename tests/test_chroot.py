"""Chroots that do not exist yet: ensure_path() creates them, failures name them
(on the real server and the in-memory one, and in the CLI)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from server_view import requests_received

from aiozkreg import NoNodeError, Registry, TransactionError, _cli
from aiozkreg.testing import MemoryZooKeeper, ZooKeeperServer
from aiozkreg.testing._chroot import RawClient, delete_tree


@dataclass(frozen=True)
class Chroot:
    """A connect string whose chroot (two levels deep) does not exist, and the root's."""

    hosts: str
    root: str
    chroot: str


@pytest.fixture
def real_chroot(zookeeper_server: ZooKeeperServer) -> Iterator[Chroot]:
    """A fresh missing chroot on the real server; whatever a test made of it is deleted."""
    top = f"/aiozkreg-chroot-{uuid.uuid4().hex[:12]}"
    chroot = f"{top}/newapp"
    yield Chroot(f"{zookeeper_server.address}{chroot}", zookeeper_server.address, chroot)
    with RawClient(zookeeper_server.host, zookeeper_server.port) as client:
        delete_tree(client, top)


@pytest.fixture
def memory_chroot(memory_zookeeper: MemoryZooKeeper) -> Chroot:
    """A missing chroot on a fresh in-memory server."""
    chroot = "/aiozkreg-chroot/newapp"
    return Chroot(f"{memory_zookeeper.hosts}{chroot}", memory_zookeeper.hosts, chroot)


@pytest.fixture(params=["real", "memory"])
def missing(request: pytest.FixtureRequest) -> Chroot:
    """A missing chroot, once on the real server and once on the in-memory one."""
    value: Chroot = request.getfixturevalue(f"{request.param}_chroot")
    return value


def assert_names_chroot(error: BaseException, missing: Chroot) -> None:
    assert isinstance(error, NoNodeError), repr(error)
    assert error.chroot_missing
    assert error.path == missing.chroot
    assert f"chroot {missing.chroot}" in str(error) and "does not exist" in str(error)


async def test_ensure_path_creates_the_missing_chroot(missing: Chroot) -> None:
    """ensure_path() under a missing chroot creates the chroot and its ancestors too."""
    async with Registry(missing.hosts) as zk:
        await zk.ensure_path("/echo/providers")
        assert await zk.get_children("/echo") == ["providers"]
        await zk.ensure_path("/echo/providers")  # all there now: nothing to do
    async with Registry(missing.root) as root:
        assert await root.get_children(missing.chroot) == ["echo"]
        assert await root.exists(f"{missing.chroot}/echo/providers") is not None


async def test_ensure_path_of_root_creates_the_chroot(missing: Chroot) -> None:
    """ensure_path("/") makes the chroot node (with its missing ancestors) and nothing else."""
    async with Registry(missing.hosts) as zk:
        assert await zk.exists("/") is None
        await zk.ensure_path("/")
        assert await zk.exists("/") is not None
        assert await zk.get_children("/") == []


async def test_create_makepath_creates_the_missing_chroot(missing: Chroot) -> None:
    """create(makepath=True) under a missing chroot makes the chroot too."""
    async with Registry(missing.hosts) as zk:
        assert await zk.create("/a/b", b"x", makepath=True) == "/a/b"
        assert (await zk.get("/a/b"))[0] == b"x"


async def test_failures_in_a_missing_chroot_name_it(missing: Chroot) -> None:
    """Operations that fail because the chroot is missing raise NoNodeError naming it."""
    async with Registry(missing.hosts) as zk:
        attempts = {
            "get": zk.get("/echo"),
            "get root": zk.get("/"),
            "set": zk.set("/echo", b"x"),
            "create": zk.create("/echo"),
            "delete": zk.delete("/echo"),
            "children": zk.get_children("/echo/providers"),
            "acls": zk.get_acls("/echo"),
        }
        for name, attempt in attempts.items():
            with pytest.raises(NoNodeError) as caught:
                await attempt
            assert_names_chroot(caught.value, missing)
            assert isinstance(caught.value.__cause__, NoNodeError), name
        assert await zk.exists("/echo") is None  # an answer, not a failure
        with pytest.raises(TransactionError) as failed:
            await zk.transaction().create("/a").create("/a/b").commit()
        assert_names_chroot(failed.value.results[0], missing)
        assert missing.chroot in str(failed.value)


async def test_missing_node_below_an_existing_chroot_is_named_itself(hosts: str) -> None:
    """With the chroot there, NoNodeError names the missing node, not the chroot."""
    async with Registry(hosts) as zk:
        with pytest.raises(NoNodeError) as caught:
            await zk.get("/missing/child")
        assert caught.value.path == "/missing/child"
        assert not caught.value.chroot_missing


async def test_chroot_is_checked_only_after_a_no_node(zookeeper_hosts: str) -> None:
    """With a chroot, a success sends one request; a NoNode one more (the chroot check),
    as the server counts them."""
    async with Registry(zookeeper_hosts, session_timeout=30) as zk:  # no ping meanwhile
        await zk.create("/there", b"1")
        sent = requests_received(zk)
        await zk.get("/there")
        await zk.set("/there", b"2")
        assert await zk.exists("/nowhere") is None
        assert requests_received(zk) == sent + 3
        with pytest.raises(NoNodeError):
            await zk.get("/nowhere")
        assert requests_received(zk) == sent + 5
    root_hosts = zookeeper_hosts.split("/", 1)[0]
    async with Registry(root_hosts, session_timeout=30) as root:  # no chroot: no check
        sent = requests_received(root)
        with pytest.raises(NoNodeError):
            await root.get("/aiozkreg-nowhere")
        assert requests_received(root) == sent + 1


def test_cli_says_the_chroot_does_not_exist(
    real_chroot: Chroot, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI reports a missing chroot as such, not as "/: no such node"."""
    assert _cli.export_main(["--timeout", "10", real_chroot.hosts]) == 1
    err = capsys.readouterr().err
    assert err.startswith("zookeeper_export: error: the chroot ") and err.count("\n") == 1, err
    assert "in HOSTS does not exist (no such node)" in err
    assert "/: no such node" not in err


async def test_resolving_calls_in_a_missing_chroot_name_it(missing: Chroot) -> None:
    """resolve(), register(), views and exports under a missing chroot name the chroot."""
    async with Registry(missing.hosts) as zk:
        for call in (
            lambda: zk.resolve("/echo/providers"),
            lambda: zk.register("/echo/providers", "10.0.0.1:80"),
            lambda: zk.children("/echo/providers"),
            lambda: zk.properties("/echo"),
            lambda: zk.providers("/echo/providers"),
            lambda: zk.export_tree("/echo"),
            lambda: zk.import_tree("/x\n", "/echo"),
        ):
            with pytest.raises(NoNodeError) as caught:
                await call()
            assert_names_chroot(caught.value, missing)
