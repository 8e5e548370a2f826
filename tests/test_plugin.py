"""The pytest plugin, as a user gets it: installed aiozkreg, fixtures by name, nothing else."""

from __future__ import annotations

import pytest
from kazoo.client import KazooClient

from aiozkreg.testing import ZooKeeperServer
from aiozkreg.testing._chroot import RawClient, create_path, delete_tree

# A bound on each inner pytest run, so a hang fails the test instead of orphaning a child.
TIMEOUT = 120

USER_TESTS = """
import asyncio
import pathlib

import pytest
from kazoo.client import KazooClient


def kazoo(hosts):
    client = KazooClient(hosts=hosts)
    client.start(timeout=10)
    return client


def test_hosts_is_a_chroot_on_the_server(zookeeper_server, zookeeper_hosts):
    address, _, chroot = zookeeper_hosts.partition("/")
    assert address == zookeeper_server.address
    assert chroot.startswith("aiozkreg-test-")
    pathlib.Path("chroot.txt").write_text("/" + chroot)


def test_chroot_is_usable_and_the_last_one_is_gone(zookeeper_server, zookeeper_hosts):
    client = kazoo(zookeeper_hosts)
    try:
        client.create("/node", b"x")
        assert client.get("/node")[0] == b"x"
    finally:
        client.stop()
    root = kazoo(zookeeper_server.address)
    try:
        assert root.exists(pathlib.Path("chroot.txt").read_text()) is None
    finally:
        root.stop()


@pytest.mark.asyncio
async def test_fault_proxy(fault_proxy, fault_proxy_hosts, zookeeper_chroot):
    assert fault_proxy_hosts == fault_proxy.address + zookeeper_chroot
    reader, writer = await asyncio.open_connection(fault_proxy.host, fault_proxy.port)
    writer.write(b"ruok")
    assert await asyncio.wait_for(reader.readexactly(4), 5) == b"imok"
    writer.close()
    reader, writer = await asyncio.open_connection(fault_proxy.host, fault_proxy.port)
    fault_proxy.cut()
    try:
        assert await asyncio.wait_for(reader.read(), 2) == b""
    except ConnectionResetError:
        pass
    writer.close()


@pytest.mark.asyncio
async def test_registry_fixture(registry, zookeeper_hosts):
    assert registry.hosts == zookeeper_hosts
    async with registry.register("/", "user:1"):
        assert await registry.get_children("/") == ["user:1"]


def test_failure_shows_the_server_log(zookeeper_hosts):
    assert zookeeper_hosts == "deliberately wrong"
"""


def test_fixtures_work_from_the_entry_point(pytester: pytest.Pytester) -> None:
    """A user's test file gets working server, chroot, proxy and registry fixtures."""
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=TIMEOUT)
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["*ZooKeeper log *zookeeper.log (last lines)*"])


def test_missing_zookeeper_fails_the_fixture(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ZooKeeper, a test using the fixtures errors with the advice; it is not skipped."""
    monkeypatch.setenv("ZOOKEEPER_CLASSPATH", "/nonexistent/zookeeper.jar")
    pytester.makepyfile(test_user="def test_needs_zookeeper(zookeeper_hosts):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=TIMEOUT)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cannot run a ZooKeeper server*apt-get install zookeeper*"])


def test_slow_marker_is_registered(pytester: pytest.Pytester) -> None:
    """The plugin registers the ``slow`` marker, so --strict-markers accepts it."""
    pytester.makepyfile(
        test_user="import pytest\n\n@pytest.mark.slow\ndef test_marked():\n    pass\n"
    )
    result = pytester.runpytest_subprocess(
        "--strict-markers", "-p", "no:cacheprovider", timeout=TIMEOUT
    )
    result.assert_outcomes(passed=1)


def test_chroot_helpers_create_and_delete_a_tree(zookeeper_server: ZooKeeperServer) -> None:
    """The raw helper creates nested paths and deletes whole trees, ephemerals included."""
    kazoo = KazooClient(hosts=zookeeper_server.address)
    kazoo.start(timeout=10)
    try:
        with RawClient(zookeeper_server.host, zookeeper_server.port) as raw:
            create_path(raw, "/raw-helper/a/b")
            create_path(raw, "/raw-helper/a/b")
            assert kazoo.exists("/raw-helper/a/b")
            kazoo.create("/raw-helper/a/c", ephemeral=True)
            assert sorted(raw.get_children("/raw-helper/a")) == ["b", "c"]
            delete_tree(raw, "/raw-helper")
            delete_tree(raw, "/raw-helper")
        assert kazoo.exists("/raw-helper") is None
    finally:
        kazoo.stop()
        kazoo.close()


def test_each_test_gets_its_own_empty_chroot(
    zookeeper_server: ZooKeeperServer, zookeeper_chroot: str, zookeeper_hosts: str
) -> None:
    """zookeeper_hosts is the server's address plus a fresh, empty chroot node."""
    assert zookeeper_hosts == zookeeper_server.address + zookeeper_chroot
    kazoo = KazooClient(hosts=zookeeper_server.address)
    kazoo.start(timeout=10)
    try:
        assert kazoo.get_children(zookeeper_chroot) == []
    finally:
        kazoo.stop()
        kazoo.close()
