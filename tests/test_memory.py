"""The in-memory ZooKeeper: the same wire-level transcript as a real 3.8 server,
scripted session loss, timeouts while partitioned, and its registry of names."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from memory_script import create, per_client, transcript
from waits import first_snapshot, until_states

from aiozkreg import (
    ConnectionLossError,
    FailedConnect,
    NoNodeError,
    Registry,
    RequestTooLargeError,
    SessionState,
    WatchedEvent,
)
from aiozkreg._connection import Connection
from aiozkreg._transport import NO_REQUEST_LIMIT, Link, LinkListener
from aiozkreg._wire import Close, Connect, Exists, Handshake, SetData
from aiozkreg.testing import MemoryZooKeeper, ZooKeeperServer, settle
from aiozkreg.testing._memory import open_memory_link


@pytest.fixture(scope="module")
def fresh_server() -> Iterator[ZooKeeperServer]:
    """A real server of our own: zxids and the root's stat start from scratch, as in memory."""
    with ZooKeeperServer() as server:
        yield server


async def test_transcript_matches_the_real_server(fresh_server: ZooKeeperServer) -> None:
    """Replies (codes, header zxids, bodies, stats), events and their order, handshakes
    and dropped links are the same on the memory server as on a fresh real one."""

    async def real(connect: Connect, listener: LinkListener) -> tuple[Link, Handshake]:
        host, port = fresh_server.host, fresh_server.port
        return await Connection.open(host, port, connect, listener=listener, timeout=5)

    with MemoryZooKeeper() as server:

        async def memory(connect: Connect, listener: LinkListener) -> tuple[Link, Handshake]:
            return await open_memory_link(server.name, 0, connect, listener=listener, timeout=5)

        expected = await transcript(real)
        got = await transcript(memory)
    assert len(expected) > 200  # the script really ran
    assert per_client(got) == per_client(expected)


# -- the link: the in-memory one behaves as the socket one -----------------------------------


class _Listener:
    """A link listener that records what it hears and, if asked, fails on an event."""

    def __init__(self, *, fail_on_event: bool = False) -> None:
        self.events: list[tuple[int, str]] = []
        self.failures: list[Exception] = []
        self.lost = 0
        self.fail_on_event = fail_on_event

    def watch_event(self, event_type: int, state: int, server_path: str) -> None:
        self.events.append((event_type, server_path))
        if self.fail_on_event:
            raise RuntimeError("a bug in the watch machinery")

    def link_lost(self, link: Link) -> None:
        self.lost += 1

    def link_failed(self, link: Link, error: Exception) -> None:
        self.failures.append(error)


Open = Callable[..., Awaitable[Link]]  # (listener, max_request_size=...) -> a new link


@pytest.fixture(params=["real", "memory"])
def open_link(request: pytest.FixtureRequest, zookeeper_server: ZooKeeperServer) -> Iterator[Open]:
    """Open a raw link with a new session, to the real server or to an in-memory one."""
    connect = Connect(0, 5000, 0, bytes(16), False)
    with MemoryZooKeeper() as memory:

        async def opener(listener: LinkListener, limit: int = NO_REQUEST_LIMIT) -> Link:
            if request.param == "real":
                host, port = zookeeper_server.host, zookeeper_server.port
                link, _ = await Connection.open(
                    host, port, connect, listener=listener, timeout=5, max_request_size=limit
                )
            else:
                link, _ = await open_memory_link(
                    memory.name, 0, connect, listener=listener, timeout=5, max_request_size=limit
                )
            return link

        yield opener


async def _close(link: Link) -> None:
    if not link.closed:
        await asyncio.wait_for(link.send(Close()), 5)
    link.abort()


async def test_a_failing_reply_hook_reaches_the_listener_and_drops_the_link(
    open_link: Open,
) -> None:
    """A reply hook that raises is a bug of ours: the reply's caller still gets its value,
    the listener's link_failed gets the exception, the link drops, later requests fail."""
    listener = _Listener()
    link = await open_link(listener)

    def hook(err: int) -> None:
        raise RuntimeError("a bug in a hook")

    first = link.send(Exists("/"), hook=hook)
    second = link.send(Exists("/"))
    stat = await asyncio.wait_for(first, 5)
    assert stat.num_children >= 1
    with pytest.raises(ConnectionLossError):
        await asyncio.wait_for(second, 5)
    await asyncio.wait_for(link.wait_closed(), 5)
    assert [str(exc) for exc in listener.failures] == ["a bug in a hook"]
    assert isinstance(link.close_reason, ConnectionLossError)
    assert listener.lost == 1


async def test_a_failing_watch_listener_reaches_link_failed(open_link: Open) -> None:
    """An exception from the listener's watch_event drops the link and goes to link_failed;
    the request whose reply came after the event fails, although the server applied it."""
    listener = _Listener(fail_on_event=True)
    link = await open_link(listener)
    path = f"/watched-{id(listener)}"
    with pytest.raises(NoNodeError):  # the watch is set all the same
        await asyncio.wait_for(link.send(Exists(path, True)), 5)
    with pytest.raises(ConnectionLossError):
        await asyncio.wait_for(link.send(create(path, flags=1)), 5)
    await asyncio.wait_for(link.wait_closed(), 5)
    assert listener.events == [(1, path)]
    assert [type(exc) for exc in listener.failures] == [RuntimeError]


async def test_a_request_over_max_request_size_is_refused_unsent(open_link: Open) -> None:
    """send() raises RequestTooLargeError for a frame over the link's limit, sends nothing
    and keeps the link; a frame of exactly the limit goes out."""
    listener = _Listener()
    frame = len(SetData("/", b"x" * 100).encode(0))
    link = await open_link(listener, frame - 1)
    try:
        before = link.pending_count
        with pytest.raises(RequestTooLargeError) as caught:
            link.send(SetData("/", b"x" * 100))
        assert (caught.value.size, caught.value.limit) == (frame, frame - 1)
        assert link.pending_count == before and not link.closed
        path = f"/nowhere-{id(listener)}"
        exact = SetData(path, b"x" * (frame - 1 - len(SetData(path, b"").encode(0))))
        assert len(exact.encode(0)) == frame - 1
        with pytest.raises(NoNodeError):  # sent, and answered
            await asyncio.wait_for(link.send(exact), 5)
        assert not link.closed and listener.failures == []
    finally:
        await _close(link)


# -- scripted faults through the whole client stack ----------------------------------------


async def test_expire_deletes_ephemerals_and_the_supervisor_restores(
    memory_zookeeper: MemoryZooKeeper, memory_hosts: str
) -> None:
    """expire(): the ephemerals go at once, the client sees EXPIRED then a new session,
    and its registration comes back."""
    async with Registry(memory_hosts) as observer, Registry(memory_hosts) as zk:
        await zk.register("/", "p:1")
        view = await observer.children("/")
        old = zk.client_id[0]
        states = zk.states()
        await memory_zookeeper.expire(old)
        assert old not in memory_zookeeper.sessions
        await first_snapshot(view, lambda names: "p:1" not in names)
        await until_states(states, SessionState.EXPIRED, SessionState.CONNECTED)
        await first_snapshot(view, lambda names: "p:1" in names)
        await settle(zk)
        stat = await observer.exists("/p:1")
        assert stat is not None and stat.ephemeral_owner == zk.client_id[0] != old
        with pytest.raises(ValueError, match="has no session"):
            await memory_zookeeper.expire(old)


async def test_disconnect_keeps_the_session_and_recreates_nothing(
    memory_zookeeper: MemoryZooKeeper, memory_hosts: str
) -> None:
    """disconnect(): the link drops, the same session re-attaches, nothing is re-created."""
    async with Registry(memory_hosts) as zk:
        await zk.register("/", "p:1")
        before = await zk.exists("/p:1")
        session = zk.client_id[0]
        states = zk.states()
        assert memory_zookeeper.disconnect(session) == 1
        seen = await until_states(states, SessionState.SUSPENDED, SessionState.CONNECTED)
        assert SessionState.EXPIRED not in [change.state for change in seen]
        await settle(zk)
        assert zk.client_id[0] == session
        assert await zk.exists("/p:1") == before


async def test_in_flight_request_fails_on_disconnect_but_was_applied(
    memory_zookeeper: MemoryZooKeeper,
) -> None:
    """A reply lost with its link: the request fails with ConnectionLossError, yet it happened."""
    connect = Connect(0, 5000, 0, bytes(16), False)
    link, _ = await open_memory_link(
        memory_zookeeper.name, 0, connect, listener=_Listener(), timeout=1
    )
    future = link.send(create("/applied"))
    memory_zookeeper.disconnect()
    with pytest.raises(ConnectionLossError):
        await future
    assert link.closed
    async with Registry(memory_zookeeper.hosts) as zk:
        assert await zk.exists("/applied") is not None


async def test_session_times_out_while_partitioned(
    memory_zookeeper: MemoryZooKeeper, memory_hosts: str
) -> None:
    """A client cut off for longer than its timeout loses its session on the server's clock;
    after heal() it learns so, gets a new session and restores its registration."""
    async with (
        Registry(memory_hosts) as observer,
        Registry(memory_hosts, session_timeout=0.5) as zk,
    ):
        await zk.register("/", "p:1")
        view = await observer.children("/")
        old = zk.client_id[0]
        states = zk.states()
        memory_zookeeper.partition(old)
        await until_states(states, SessionState.SUSPENDED)
        await first_snapshot(view, lambda names: "p:1" not in names)  # the timeout ran out
        assert old not in memory_zookeeper.sessions
        memory_zookeeper.heal()
        await until_states(states, SessionState.EXPIRED, SessionState.CONNECTED)
        await first_snapshot(view, lambda names: "p:1" in names)
        assert zk.client_id[0] != old


async def test_whole_server_partition_refuses_then_heals(memory_zookeeper: MemoryZooKeeper) -> None:
    """partition() drops every link and refuses connections; a short one keeps the session."""
    async with Registry(memory_zookeeper.hosts) as zk:
        session = zk.client_id[0]
        states = zk.states()
        memory_zookeeper.partition()
        await until_states(states, SessionState.SUSPENDED)
        with pytest.raises(FailedConnect):
            await Registry(memory_zookeeper.hosts, connect_timeout=0.1).start()
        memory_zookeeper.heal()
        await until_states(states, SessionState.CONNECTED)
        assert zk.client_id[0] == session


async def test_unknown_name_fails_at_once() -> None:
    """A memory:// name no server has: FailedConnect right away, not after the connect timeout."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(FailedConnect, match="No in-memory ZooKeeper is named 'nobody-here'"):
        await Registry("memory://nobody-here/app").start()
    assert loop.time() - began < 0.5


async def test_closed_server_is_gone_and_its_clients_suspended() -> None:
    """close() unregisters the name and drops every link; the name can be used again."""
    server = MemoryZooKeeper("closing-test")
    assert server.hosts == "memory://closing-test"
    with pytest.raises(ValueError, match="already exists"):
        MemoryZooKeeper("closing-test")
    async with Registry(server.hosts) as zk:
        states = zk.states()
        server.close()
        server.close()
        await until_states(states, SessionState.SUSPENDED)
        with pytest.raises(FailedConnect):
            await Registry(server.hosts).start()
        with MemoryZooKeeper("closing-test") as again:
            assert again.sessions == frozenset()


def test_names_are_unique_and_checked() -> None:
    """Default names differ; a name with a '/' (it would read as a chroot) is refused."""
    with MemoryZooKeeper() as one, MemoryZooKeeper() as two:
        assert one.name != two.name
        assert repr(one).startswith(f"<MemoryZooKeeper {one.hosts} zxid=0x0")
    with pytest.raises(ValueError, match="Bad in-memory ZooKeeper name"):
        MemoryZooKeeper("a/b")


async def test_memory_hosts_fixture_is_a_chroot(
    memory_zookeeper: MemoryZooKeeper, memory_hosts: str
) -> None:
    """memory_hosts is the fixture server chrooted to a node it made; paths are relative."""
    assert memory_hosts == f"{memory_zookeeper.hosts}/aiozkreg-test"
    async with Registry(memory_hosts) as zk:
        await zk.create("/here")
    async with Registry(memory_zookeeper.hosts) as root:
        assert await root.get_children("/aiozkreg-test") == ["here"]
        assert sorted(await root.get_children("/")) == ["aiozkreg-test", "zookeeper"]


def _doc_example() -> str:
    text = (Path(__file__).resolve().parent.parent / "docs" / "testing.md").read_text()
    section = text.split("## In-memory ZooKeeper", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None
    return block.group(1)


async def test_testing_doc_memory_example() -> None:
    """docs/testing.md's in-memory example passes as written."""
    namespace: dict[str, Any] = {}
    exec(compile(_doc_example(), "docs/testing.md", "exec"), namespace)
    await namespace["test_provider_survives_expiry"]()
    with MemoryZooKeeper() as server:
        server.ensure_path("/aiozkreg-test")
        await namespace["test_with_the_fixtures"](server, f"{server.hosts}/aiozkreg-test")


class _Recorder:
    """A watch callback that records event types and wakes a waiter."""

    def __init__(self) -> None:
        self.types: list[str] = []
        self.changed = asyncio.Event()

    def __call__(self, event: WatchedEvent) -> None:
        self.types.append(event.type.name)
        self.changed.set()


async def test_watches_fire_once_for_what_changed_while_partitioned(
    memory_zookeeper: MemoryZooKeeper, memory_hosts: str
) -> None:
    """Through the whole client: after a partition the session's watches are re-set, those
    whose node changed fire exactly once, the others stay armed and silent."""
    async with Registry(memory_hosts) as other, Registry(memory_hosts) as zk:
        for path in ("/d", "/c", "/quiet"):
            await other.create(path, b"0")
        data, child, exist, quiet = _Recorder(), _Recorder(), _Recorder(), _Recorder()
        await zk.get("/d", watch=data)
        await zk.get_children("/c", watch=child)
        assert await zk.exists("/e", watch=exist) is None
        await zk.get("/quiet", watch=quiet)
        states = zk.states()
        memory_zookeeper.partition(zk.client_id[0])
        await until_states(states, SessionState.SUSPENDED)
        await other.set("/d", b"1")
        await other.create("/c/x")
        await other.create("/e")
        memory_zookeeper.heal()
        await until_states(states, SessionState.CONNECTED)
        async with asyncio.timeout(10):
            for recorder in (data, child, exist):
                await recorder.changed.wait()
        await zk.settle()  # a round trip (a duplicate would come first), callbacks run
        assert (data.types, child.types, exist.types, quiet.types) == (
            ["CHANGED"],
            ["CHILD"],
            ["CREATED"],
            [],
        )
        await other.set("/quiet", b"1")  # still armed on the server
        await asyncio.wait_for(quiet.changed.wait(), 10)
