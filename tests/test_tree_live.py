"""zk.tree(path): a live subtree on one persistent recursive watch (and the per-node
fallback), on the real server and the in-memory one."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from server_view import requests_received, watch_count
from waits import first_snapshot, until_states

from aiozkreg import (
    ACL,
    InvalidPathError,
    NoAuthError,
    NoNodeError,
    Perm,
    Registry,
    SessionState,
    UnimplementedError,
    make_digest_acl,
)
from aiozkreg._connection import Connection
from aiozkreg._subtree import TreeChange, TreeSnapshot
from aiozkreg._wire import (
    Connect,
    Request,
)
from aiozkreg._wire_watches import (
    AddWatch,
)
from aiozkreg.testing import FaultProxy, MemoryZooKeeper, expire_session

SERVICES = 3
PROVIDERS = 3
NODES = 1 + SERVICES * (1 + PROVIDERS)
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "service_table.py"


async def _populate(zk: Registry, root: str = "/svc") -> None:
    await zk.create(root, b'{"kind": "root"}')
    for s in range(SERVICES):
        await zk.create(f"{root}/s{s}", json.dumps({"service": s}).encode())
        for p in range(PROVIDERS):
            await zk.create(f"{root}/s{s}/p{p}", json.dumps({"weight": p}).encode())


async def _take(changes: AsyncIterator[TreeChange], count: int) -> list[tuple[str, str]]:
    """The next ``count`` changes as (kind, path), bounded in time."""
    got: list[tuple[str, str]] = []
    try:
        async with asyncio.timeout(10):
            async for change in changes:
                got.append((change.kind, change.path))
                if len(got) == count:
                    return got
    except TimeoutError:
        raise AssertionError(f"{count} changes not seen in 10 s, only {got}") from None
    raise AssertionError(f"the changes ended after {got}")


def _consistent(snapshot: TreeSnapshot) -> bool:
    """Each listed child is in the snapshot, and each node's parent is (but the root's)."""
    for path in snapshot.nodes:
        node = snapshot[path]
        if any(f"{path.rstrip('/')}/{name}" not in snapshot for name in node.children):
            return False
        parent = path.rsplit("/", 1)[0] or "/"
        if path != snapshot.root and parent not in snapshot:
            return False
    return True


async def _no_persistent_watches(host: str, port: int, connect: Connect, **options: Any) -> Any:
    """A connector to a real server whose links answer addWatch as ZooKeeper 3.5 does
    (no server of ours refuses it on demand)."""
    link, handshake = await Connection.open(host, port, connect, **options)
    send = link.send

    def refusing(request: Request[Any], **kwargs: Any) -> asyncio.Future[Any]:
        if not isinstance(request, AddWatch):
            return send(request, **kwargs)
        refused: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        refused.set_exception(UnimplementedError(path=kwargs.get("path")))
        return refused

    link.send = refusing  # type: ignore[method-assign]
    return link, handshake


@pytest.fixture(params=["persistent", "per-node"])
def tree_hosts(request: pytest.FixtureRequest, hosts: str) -> tuple[str, dict[str, Any]]:
    """The test's hosts, with servers that have persistent watches and ones that don't
    (a memory server made without them; a real one reached through a refusing link)."""
    if request.param == "persistent":
        return hosts, {}
    if hosts.startswith("memory://"):
        memory = MemoryZooKeeper(persistent_watches=False)
        request.addfinalizer(memory.close)
        memory.ensure_path("/aiozkreg-test")
        return f"{memory.hosts}/aiozkreg-test", {}
    return hosts, {"connector": _no_persistent_watches}


@pytest.fixture
async def writer(tree_hosts: tuple[str, dict[str, Any]]) -> AsyncIterator[Registry]:
    async with Registry(tree_hosts[0]) as zk:
        await _populate(zk)
        yield zk


@pytest.fixture
async def zk(tree_hosts: tuple[str, dict[str, Any]]) -> AsyncIterator[Registry]:
    hosts, options = tree_hosts
    async with Registry(hosts, **options) as registry:
        yield registry


async def test_loads_the_whole_subtree(writer: Registry, zk: Registry) -> None:
    """The tree holds every node, in preorder with sorted children, with data and stat."""
    async with zk.tree("/svc") as tree:
        assert len(tree) == NODES
        assert list(tree)[:3] == ["/svc", "/svc/s0", "/svc/s0/p0"]
        node = tree["/svc/s1"]
        assert node.children == ("p0", "p1", "p2") and node.properties == {"service": 1}
        assert node.path == "/svc/s1" and not node.ephemeral and node.stat.version == 0
        assert "/svc/s2/p2" in tree and tree.get("/svc/nope") is None


async def test_reports_each_kind_of_change_in_order(writer: Registry, zk: Registry) -> None:
    """An update, a new node (and one below it), a deletion: each reported once, in order."""
    async with zk.tree("/svc") as tree:
        changes = tree.changes()
        await writer.set("/svc/s1/p1", b'{"weight": 9}')
        await writer.create("/svc/s9", b"{}")
        await writer.create("/svc/s9/p0", b"{}")
        await writer.delete("/svc/s0/p2")
        assert await _take(changes, 4) == [
            ("updated", "/svc/s1/p1"),
            ("added", "/svc/s9"),
            ("added", "/svc/s9/p0"),
            ("removed", "/svc/s0/p2"),
        ]
        assert tree["/svc/s1/p1"].properties == {"weight": 9}
        assert tree["/svc/s9"].children == ("p0",) and tree["/svc/s0"].children == ("p0", "p1")


async def test_callbacks_see_every_state(writer: Registry, zk: Registry) -> None:
    """A callback is called with the tree now and after each change."""
    async with zk.tree("/svc") as tree:
        seen: list[int] = []
        tree(lambda t: seen.append(len(t)))
        await writer.create("/svc/s0/p9")
        await first_snapshot(tree, lambda snap: "/svc/s0/p9" in snap)
        assert seen == [NODES, NODES + 1]


async def test_one_persistent_watch_and_none_left_after_close(hosts: str) -> None:
    """The server holds one persistent recursive watch for the whole tree (mntr counts it
    twice: it sits in the data and the child table), and none after close."""
    async with Registry(hosts) as writer, Registry(hosts) as zk:
        await _populate(writer)
        before = watch_count(zk)
        tree = await zk.tree("/svc")
        assert watch_count(zk) == before + 2
        await tree.close()
        await zk.settle()  # the removal is answered
        assert watch_count(zk) == before


async def test_trees_of_one_path_share_one_source(hosts: str) -> None:
    """Two trees of one path share one watch and one mirror; closing one leaves the other."""
    async with Registry(hosts) as writer, Registry(hosts) as zk:
        await _populate(writer)
        before = watch_count(zk)
        a = await zk.tree("/svc")
        b = await zk.tree("/svc")
        assert watch_count(zk) == before + 2 and dict(a) == dict(b)
        await a.close()
        await writer.set("/svc/s0", b'{"x": 1}')
        await first_snapshot(b, lambda snap: snap["/svc/s0"].properties == {"x": 1})


async def test_root_deleted_ends_the_tree(writer: Registry, zk: Registry) -> None:
    """Deleting the root (after its subtree) reports each node removed, then ends the tree
    as a view ends."""
    async with zk.tree("/svc") as tree:
        every = set(tree)
        changes = tree.changes()
        await writer.delete_recursive("/svc")
        async with asyncio.timeout(10):
            seen = [change async for change in changes]
        assert all(change.kind == "removed" for change in seen)
        assert {change.path for change in seen} == every
        assert tree.deleted and len(tree) == 0
        assert [snap async for snap in tree] == []


async def test_slow_consumer_gets_the_latest_snapshot(writer: Registry, zk: Registry) -> None:
    """A consumer that falls behind gets the latest snapshot, never a queue of them."""
    async with zk.tree("/svc") as tree:
        snapshots = aiter(tree)
        first = await anext(snapshots)
        for n in range(20):
            await writer.set("/svc/s0", json.dumps({"n": n}).encode())
        await first_snapshot(tree, lambda snap: snap["/svc/s0"].properties == {"n": 19})
        latest = await anext(snapshots)
        assert latest["/svc/s0"].properties == {"n": 19}
        assert first["/svc/s0"].properties == {"service": 0}  # an old snapshot never changes


async def test_consumer_too_far_behind_gets_resync(writer: Registry, zk: Registry) -> None:
    """A changes() consumer more than its buffer behind gets one 'resync' instead."""
    async with zk.tree("/svc") as tree:
        changes = tree.changes(buffer=3)
        for n in range(6):
            await writer.create(f"/svc/s0/x{n}")
        await first_snapshot(tree, lambda snap: "/svc/s0/x5" in snap)
        first = await anext(changes)
        assert (first.kind, first.path) == ("resync", "/svc")
        await writer.create("/svc/s0/after")
        assert await _take(changes, 1) == [("added", "/svc/s0/after")]


async def test_snapshots_stay_consistent_under_concurrent_writes(
    writer: Registry, zk: Registry
) -> None:
    """While another session adds and removes nodes at every depth, no snapshot lists a
    child it lacks or holds a node without its parent."""
    async with zk.tree("/svc") as tree:
        rng = random.Random(7)
        done = asyncio.Event()
        checked = 0

        async def check() -> None:
            nonlocal checked
            async for snapshot in tree:
                assert _consistent(snapshot)
                checked += 1
                if done.is_set() and "/svc/end" in snapshot:
                    return

        checking = asyncio.create_task(check())
        for step in range(150):
            service = f"/svc/s{rng.randrange(SERVICES)}"
            node = f"{service}/n{rng.randrange(10)}"
            if await writer.exists(node) is None:
                await writer.create(node, makepath=True)
                await writer.create(f"{node}/leaf{step}")
            else:
                await writer.delete_recursive(node)
        done.set()
        await writer.create("/svc/end")
        await asyncio.wait_for(checking, 20)
        assert checked > 1
        truth = {p async for p in writer.walk("/svc")}
        assert set(tree) == truth


async def test_reconnect_without_changes_reads_nothing(zookeeper_hosts: str) -> None:
    """A brief disconnect with nothing changed meanwhile costs no reads: the server counts
    only the handshake's requests."""
    server, chroot = zookeeper_hosts.split("/", 1)
    host, port = server.rsplit(":", 1)
    async with (
        FaultProxy(host, int(port)) as proxy,
        Registry(zookeeper_hosts) as writer,
        Registry(f"{proxy.address}/{chroot}", session_timeout=30) as zk,
    ):
        await _populate(writer)
        tree = await zk.tree("/svc")
        states = zk.states()
        proxy.cut()
        await until_states(states, SessionState.SUSPENDED)
        proxy.heal()
        await until_states(states, SessionState.CONNECTED)
        await zk.settle()
        sent = requests_received(zk, writer)  # the new link's: auth, SetWatches2, settle's
        await zk.settle()
        assert requests_received(zk, writer) - sent == 1  # settle's own exists: no reads
        assert len(tree) == NODES


async def test_reconnect_reads_only_what_changed_meanwhile(zookeeper_hosts: str) -> None:
    """Changes made while the link was down are reported exactly once each after the
    reconnect, reading only those nodes (the same session: no full re-read)."""
    server, chroot = zookeeper_hosts.split("/", 1)
    host, port = server.rsplit(":", 1)
    async with (
        FaultProxy(host, int(port)) as proxy,
        Registry(zookeeper_hosts) as writer,
        Registry(f"{proxy.address}/{chroot}", session_timeout=30) as zk,
    ):
        await _populate(writer)
        session = zk.client_id[0]
        tree = await zk.tree("/svc")
        changes = tree.changes()
        states = zk.states()
        proxy.cut()
        await until_states(states, SessionState.SUSPENDED)
        await writer.set("/svc/s1/p1", b'{"weight": 5}')
        await writer.create("/svc/s2/new")
        await writer.delete("/svc/s0/p0")
        proxy.heal()
        await until_states(states, SessionState.CONNECTED)
        got = sorted(await _take(changes, 3))
        assert got == [
            ("added", "/svc/s2/new"),
            ("removed", "/svc/s0/p0"),
            ("updated", "/svc/s1/p1"),
        ]
        await zk.settle()
        assert zk.client_id[0] == session
        assert set(tree) == {p async for p in writer.walk("/svc")}
        await writer.set("/svc/s1/p1", b'{"weight": 6}')  # and the watch still works
        assert await _take(changes, 1) == [("updated", "/svc/s1/p1")]


async def test_expiry_reports_exactly_the_differences(writer: Registry, zk: Registry) -> None:
    """After an expiry the tree re-reads and reports each difference once, nothing else."""
    async with zk.tree("/svc") as tree:
        changes = tree.changes()
        await writer.create("/svc/s0/e1", ephemeral=True)
        assert await _take(changes, 1) == [("added", "/svc/s0/e1")]
        states = zk.states()
        await _expire_after(zk, states, writer)
        got = sorted(await _take(changes, 2))
        assert got == [("removed", "/svc/s1/p0"), ("updated", "/svc/s2")]
        await zk.settle()
        assert set(tree) == {p async for p in writer.walk("/svc")}
        assert "/svc/s0/e1" in tree  # the writer's ephemeral is not ours: it stays


async def _expire_after(zk: Registry, states: AsyncIterator[Any], writer: Registry) -> None:
    """Expire ``zk``'s session, with two changes made while it is gone."""
    await expire_session(zk)
    await until_states(states, SessionState.EXPIRED)
    await writer.delete("/svc/s1/p0")
    await writer.set("/svc/s2", b'{"changed": true}')


async def test_symlinked_root_is_followed(writer: Registry, zk: Registry) -> None:
    """The root resolves through symlinks; the nodes are the real ones."""
    await writer.create("/links", b'{"svc ->": "/svc"}')
    async with zk.tree("/links/svc") as tree:
        assert tree.real_path == "/svc" and len(tree) == NODES


async def test_a_repointed_symlink_moves_the_tree(writer: Registry, zk: Registry) -> None:
    """A link on the way to the root pointed elsewhere: the tree mirrors the new target,
    reports the change, and follows writes there, not at the old one."""
    await _populate(writer, "/svc2")
    await writer.create("/links", b'{"svc ->": "/svc"}')
    async with zk.tree("/links/svc") as tree:
        changes = tree.changes()
        await writer.set("/links", b'{"svc ->": "/svc2"}')
        got = await _take(changes, 2 * NODES)  # each old node removed, each new one added
        assert {kind for kind, _ in got} == {"removed", "added"}
        assert tree.real_path == "/svc2"
        assert set(tree) == {p async for p in writer.walk("/svc2")}
        await writer.set("/svc/s0", b'{"old": "target"}')
        await writer.set("/svc2/s1", b'{"new": "target"}')
        assert await _take(changes, 1) == [("updated", "/svc2/s1")]


async def test_refused_reads_end_the_tree_with_the_error(hosts: str) -> None:
    """A tree whose re-read the server refuses (after an expiry, its ACL changed) raises
    NoAuthError from its iterators and exposes it."""
    async with (
        Registry(hosts, auth=[("digest", "admin:secret")]) as admin,
        Registry(hosts) as zk,
    ):
        await _populate(admin)
        try:
            tree = await zk.tree("/svc")
            await admin.set_acls("/svc", [make_digest_acl("admin", "secret", Perm.ALL)])
            await expire_session(zk)
            async with asyncio.timeout(10):
                with pytest.raises(NoAuthError):
                    async for _ in tree.changes():
                        pass
            assert isinstance(tree.error, NoAuthError)
        finally:
            await admin.set_acls("/svc", [ACL(Perm.ALL, "world", "anyone")])


async def test_fallback_watches_each_node() -> None:
    """On a server without persistent watches the tree holds a data and a child watch on
    each node (as TreeCache does), follows changes all the same, and removes them all
    from the server on close."""
    memory = MemoryZooKeeper(persistent_watches=False)
    try:
        async with Registry(memory.hosts) as writer, Registry(memory.hosts) as zk:
            await _populate(writer)
            before = memory.watch_count()
            async with zk.tree("/svc") as tree:
                assert memory.watch_count() - before == 2 * NODES
                changes = tree.changes()
                await writer.create("/svc/s0/late", b"{}")
                assert await _take(changes, 1) == [("added", "/svc/s0/late")]
                await writer.set("/svc/s0/late", b'{"v": 1}')
                await writer.delete("/svc/s1/p0")
                assert await _take(changes, 2) == [
                    ("updated", "/svc/s0/late"),
                    ("removed", "/svc/s1/p0"),
                ]
            await zk.settle()
            assert memory.watch_count() == before  # closed: the server holds none of them
    finally:
        memory.close()


async def test_a_tree_opened_after_a_write_shows_it(writer: Registry, zk: Registry) -> None:
    """A second tree of a watched path, opened right after this registry's write returned,
    has that write (the shared mirror is waited for, not handed out stale)."""
    async with zk.tree("/svc") as first:
        await zk.set("/svc/s0/p0", b'{"fresh": 1}')
        await zk.create("/svc/s0/p9", b'{"new": 1}')
        async with zk.tree("/svc") as second:
            assert second["/svc/s0/p0"].data == b'{"fresh": 1}'
            assert "/svc/s0/p9" in second and "p9" in second["/svc/s0"].children
        assert first["/svc/s0/p0"].properties == {"fresh": 1}


async def test_unreadable_nodes_are_left_out(hosts: str) -> None:
    """A node below the root this session may not read is not in the tree (nor listed by
    its parent); the rest is mirrored and followed."""
    async with (
        Registry(hosts, auth=[("digest", "admin:secret")]) as admin,
        Registry(hosts) as zk,
    ):
        await _populate(admin)
        secret = [make_digest_acl("admin", "secret", Perm.ALL)]
        await admin.create("/svc/s0/hidden", b'{"password": "x"}', acl=secret)
        try:
            async with zk.tree("/svc") as tree:
                assert "/svc/s0/hidden" not in tree
                assert "hidden" not in tree["/svc/s0"].children
                assert len(tree) == NODES
                assert tree.unreadable == {"/svc/s0/hidden"}
                changes = tree.changes()
                await admin.set("/svc/s1", b'{"still": "followed"}')
                assert await _take(changes, 1) == [("updated", "/svc/s1")]
        finally:
            await admin.delete("/svc/s0/hidden")  # the harness's clean-up may not read it


async def test_a_node_that_becomes_unreadable_goes_at_the_next_reload(hosts: str) -> None:
    """A mirrored node whose ACL stops this session reading it keeps its last state (the
    server tells a session nothing about nodes it may not read); the re-read after an
    expiry reports it removed and lists it in ``tree.unreadable``; readable again, the
    next re-read brings it back."""
    async with (
        Registry(hosts, auth=[("digest", "admin:secret")]) as admin,
        Registry(hosts) as zk,
    ):
        await _populate(admin)
        async with zk.tree("/svc") as tree:
            changes, states = tree.changes(), zk.states()
            await admin.set_acls("/svc/s2/p1", [make_digest_acl("admin", "secret", Perm.ALL)])
            try:
                await admin.set("/svc/s2/p1", b'{"now": "secret"}')
                await admin.set("/svc/s1", b'{"a": "later write"}')
                assert await _take(changes, 1) == [("updated", "/svc/s1")]
                assert tree["/svc/s2/p1"].properties == {"weight": 1}  # no event came
                await expire_session(zk)
                await until_states(states, SessionState.EXPIRED)
                assert await _take(changes, 1) == [("removed", "/svc/s2/p1")]
                assert tree.unreadable == {"/svc/s2/p1"}
                assert "p1" not in tree["/svc/s2"].children
            finally:
                await admin.set_acls("/svc/s2/p1", [ACL(Perm.ALL, "world", "anyone")])
            await expire_session(zk)
            await until_states(states, SessionState.EXPIRED)
            assert await _take(changes, 1) == [("added", "/svc/s2/p1")]
            assert tree["/svc/s2/p1"].properties == {"now": "secret"}
            assert tree.unreadable == frozenset()


async def test_bad_arguments_are_refused(writer: Registry, zk: Registry) -> None:
    """A malformed path, a missing root and a buffer below 1 are clear errors."""
    with pytest.raises(InvalidPathError):
        await zk.tree("svc")
    with pytest.raises(NoNodeError):
        await zk.tree("/nothing/here")
    async with zk.tree("/svc") as tree:
        with pytest.raises(ValueError, match="buffer"):
            tree.changes(buffer=0)


async def test_nodes_read_as_written(writer: Registry, zk: Registry) -> None:
    """A node's data, properties, stat, children and ephemeral flag are what a second
    client reads from the server."""
    await writer.create("/svc/s0/live", b'{"port": 8080}', ephemeral=True)
    async with zk.tree("/svc") as tree:
        node = tree["/svc/s0/live"]
        data, stat = await writer.get("/svc/s0/live")
        assert (node.data, node.stat, node.properties) == (data, stat, {"port": 8080})
        assert node.ephemeral and not tree["/svc/s0"].ephemeral
        assert tree["/svc/s0"].children == tuple(sorted(await writer.get_children("/svc/s0")))
        assert list(tree)[:3] == ["/svc", "/svc/s0", "/svc/s0/live"]


async def test_one_tree_lists_every_services_providers(hosts: str) -> None:
    """tree.providers(path) gives, for each service under the root, what a provider set
    of that path gives (each layout read, disabled ones out), and follows changes."""
    async with Registry(hosts) as services, Registry(hosts) as zk:
        for service in ("echo", "db", "log"):
            await services.ensure_path(f"/services/{service}/providers")
        await services.register("/services/echo/providers", "10.0.0.1:8080", weight=2)
        await services.register("/services/echo/providers", "10.0.0.2:8080", enabled=False)
        await services.register("/services/db/providers", "10.0.1.1:5432", format="curator")
        await services.register("/services/log/providers", "10.0.2.1:514", format="serverset")
        async with zk.tree("/services") as tree:
            for service in tree["/services"].children:
                path = f"/services/{service}/providers"
                async with zk.providers(path) as providers:
                    assert tree.providers(path) == tuple(providers)
                    assert tree.providers(path, available=False) == providers.all
            assert [p.address for p in tree.providers("/services/echo/providers")] == [
                "10.0.0.1:8080"
            ]
            assert tree.providers("/services/none") == ()
            changes = tree.changes()
            await services.register("/services/echo/providers", "10.0.0.3:8080")
            await _take(changes, 1)
            assert len(tree.providers("/services/echo/providers")) == 2


async def test_service_table_example(zookeeper_hosts: str) -> None:
    """examples/service_table.py follows three services' providers with one tree until it
    has all six, then cleans up."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLE),
        "/table",
        "6",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "AIOZKREG_HOSTS": zookeeper_hosts},
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    lines = out.decode().splitlines()
    assert proc.returncode == 0, lines
    assert lines[0] == "db: - | echo: - | search: -"
    assert lines[-2] == (
        "db: 10.0.0.1:8080, 10.0.0.4:8080 | echo: 10.0.0.0:8080, 10.0.0.3:8080"
        " | search: 10.0.0.2:8080, 10.0.0.5:8080"
    )
    assert lines[-1] == "one tree follows 13 nodes"
    async with Registry(zookeeper_hosts) as zk:
        assert await zk.exists("/table") is None


async def test_views_of_the_root_and_the_tree_do_not_silence_each_other(hosts: str) -> None:
    """In one registry, a children view, a properties view and an exists watch on a tree's
    root, opened before and after it, all keep following it and the tree sees every change
    below (ZooKeeper keeps one watch mode per path and connection: see _watches)."""
    async with Registry(hosts) as other, Registry(hosts) as zk:
        await _populate(other)
        kids = await zk.children("/svc")
        async with zk.tree("/svc") as tree:
            props = await zk.properties("/svc")
            created = asyncio.Event()
            await zk.exists("/svc/new", watch=lambda _event: created.set())
            changes = tree.changes()
            await other.set("/svc/s0/p0", b'{"weight": 9}')
            await other.create("/svc/new")
            await other.set("/svc", b'{"kind": "changed"}')
            assert await _take(changes, 3) == [
                ("updated", "/svc/s0/p0"),
                ("added", "/svc/new"),
                ("updated", "/svc"),
            ]
            await first_snapshot(kids, lambda names: "new" in names)
            await first_snapshot(props, lambda p: p.get("kind") == "changed")
            async with asyncio.timeout(10):
                await created.wait()
        await other.create("/svc/after")  # at once: the watches must not be lost in between
        await first_snapshot(kids, lambda names: "after" in names)
        await other.set("/svc", b'{"kind": "after"}')
        await first_snapshot(props, lambda p: p.get("kind") == "after")
        await props.close()
        await kids.close()


async def test_nested_trees_both_catch_up_after_a_reconnect(
    fault_proxy: FaultProxy, fault_proxy_hosts: str, zookeeper_hosts: str
) -> None:
    """Trees of /svc and /svc/s0 in one registry: a change made while the link was cut is
    reported by both after the reconnect, and both keep following."""
    async with Registry(zookeeper_hosts) as other, Registry(fault_proxy_hosts) as zk:
        await _populate(other)
        async with zk.tree("/svc") as outer, zk.tree("/svc/s0") as inner:
            outer_changes, inner_changes = outer.changes(), inner.changes()
            states = zk.states()
            fault_proxy.cut()
            await until_states(states, SessionState.SUSPENDED)
            await other.set("/svc/s0", b'{"while": "away"}')
            await other.create("/svc/s0/p9")
            fault_proxy.heal()
            expected = [("updated", "/svc/s0"), ("added", "/svc/s0/p9")]
            assert sorted(await _take(outer_changes, 2)) == sorted(expected)
            assert sorted(await _take(inner_changes, 2)) == sorted(expected)
            await other.set("/svc/s0/p1", b'{"later": 1}')
            assert await _take(outer_changes, 1) == [("updated", "/svc/s0/p1")]
            assert await _take(inner_changes, 1) == [("updated", "/svc/s0/p1")]
