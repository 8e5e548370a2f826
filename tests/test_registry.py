"""Registry lifecycle, connect strings and the kazoo-style shortcuts, on a real server
(the lifecycle and shortcuts also on the in-memory one)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from waits import until_states

from aiozkreg import (
    AuthFailedError,
    BadVersionError,
    FailedConnect,
    InvalidPathError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    Registry,
    RegistryClosedError,
    SessionState,
    TransactionError,
)
from aiozkreg.testing import FaultProxy
from aiozkreg.testing._process import free_ports


def _own_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("aiozkreg")]


async def test_chroot_in_connect_string(zookeeper_hosts: str, zookeeper_server: object) -> None:
    """Paths are relative to the connect string's chroot, on the way in and out."""
    chroot = zookeeper_hosts[zookeeper_hosts.index("/") :]
    async with Registry(zookeeper_hosts) as zk:
        assert zk.chroot == chroot
        assert await zk.create("/x", b"1") == "/x"
        seq = await zk.create("/x/s-", sequential=True)
        assert seq.startswith("/x/s-")
        fired: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        await zk.get_children("/x", watch=fired.set_result)
        await zk.create("/x/y")
        event = await asyncio.wait_for(fired, 5)
        assert event.path == "/x"
    async with Registry(zookeeper_server.address) as root:  # type: ignore[attr-defined]
        data, _ = await root.get(chroot + "/x")
        assert data == b"1"


async def test_hosts_default_from_environment(
    zookeeper_hosts: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without hosts, the registry connects to $AIOZKREG_HOSTS."""
    monkeypatch.setenv("AIOZKREG_HOSTS", zookeeper_hosts)
    async with Registry() as zk:
        assert zk.hosts == zookeeper_hosts
        assert await zk.exists("/") is not None


def test_hosts_default_without_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no hosts and no environment variable, the default is 127.0.0.1:2181."""
    monkeypatch.delenv("AIOZKREG_HOSTS", raising=False)
    assert Registry().hosts == "127.0.0.1:2181"


@pytest.mark.parametrize(
    "hosts", ["", "h:notaport", "h:70000", "a,,b", "::1:2181", "h:2181/bad/", "h:1/a//b"]
)
def test_malformed_connect_string(hosts: str) -> None:
    """A malformed connect string is refused at once with a clear ValueError."""
    with pytest.raises(ValueError):
        Registry(hosts)


async def test_failed_connect_in_bounded_time() -> None:
    """Against a closed port, start() raises FailedConnect within its timeout, leaving no task."""
    (port,) = free_ports(1)
    zk = Registry(f"127.0.0.1:{port}", connect_timeout=1.0)
    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(FailedConnect, match="Can't connect"):
        await zk.start()
    assert loop.time() - began < 3.0
    assert _own_tasks() == []
    with pytest.raises(RegistryClosedError):
        await zk.exists("/")


async def test_close_returns_after_failed_connect() -> None:
    """try: start() finally: close() with nothing listening: FailedConnect, then close()
    returns at once and nothing is left running."""
    (port,) = free_ports(1)
    zk = Registry(f"127.0.0.1:{port}", connect_timeout=0.5)
    with pytest.raises(FailedConnect):
        try:
            await zk.start()
        finally:
            await asyncio.wait_for(zk.close(), 1)
    await asyncio.wait_for(zk.close(), 1)  # and again
    assert _own_tasks() == []


async def test_close_returns_after_failed_connect_in_memory() -> None:
    """A memory:// server that does not exist fails start() at once; close() returns."""
    zk = Registry("memory://aiozkreg-no-such-server")
    with pytest.raises(FailedConnect):
        try:
            await zk.start()
        finally:
            await asyncio.wait_for(zk.close(), 1)
    assert _own_tasks() == []


async def test_close_returns_after_auth_failure(hosts: str) -> None:
    """Credentials the server rejects: AuthFailedError from start(), then close() returns."""
    zk = Registry(hosts, auth=[("nosuchscheme", "user:secret")])
    with pytest.raises(AuthFailedError):
        try:
            await zk.start()
        finally:
            await asyncio.wait_for(zk.close(), 1)
    assert _own_tasks() == []
    with pytest.raises(RegistryClosedError):
        await zk.exists("/")


class Listener:
    """A port that accepts connections and drops them at once, or keeps them silent."""

    def __init__(self, *, drop: bool) -> None:
        self.drop = drop
        self.hosts = ""
        self.attempts = 0
        self.tried_thrice = asyncio.Event()
        self._held: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Listener:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.hosts = f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._held:
            writer.transport.abort()
        await self._server.wait_closed()

    def _accept(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.attempts += 1
        if self.attempts >= 3:
            self.tried_thrice.set()
        if self.drop:
            writer.transport.abort()
        else:
            self._held.append(writer)  # a black hole: accepted, never answered


@pytest.mark.parametrize("wait", [False, True])
@pytest.mark.parametrize("target", ["closed port", "stalled proxy"])
async def test_start_timeout_gives_up_in_time(
    zookeeper_server: object, wait: bool, target: str
) -> None:
    """start(timeout=T) raises FailedConnect after about T seconds, with or without wait,
    against a closed port and against a proxy that accepts and never answers."""
    async with FaultProxy(zookeeper_server.host, zookeeper_server.port) as proxy:  # type: ignore[attr-defined]
        if target == "stalled proxy":
            proxy.stall()
            hosts = proxy.address
        else:
            hosts = f"127.0.0.1:{free_ports(1)[0]}"
        zk = Registry(hosts, wait=wait, session_timeout=10.0)
        loop = asyncio.get_running_loop()
        began = loop.time()
        with pytest.raises(FailedConnect, match="within 1 s"):
            await zk.start(timeout=1.0)
        took = loop.time() - began
        assert 0.9 <= took < 2.5, took
        await asyncio.wait_for(zk.close(), 1)
        assert _own_tasks() == []


@pytest.mark.parametrize("drop", [True, False], ids=["dropped", "silent"])
async def test_wait_without_timeout_keeps_trying_until_cancelled(drop: bool) -> None:
    """wait=True and no timeout: start() tries again and again; cancelling it leaves nothing
    running, and close() returns at once."""
    async with Listener(drop=drop) as listener:
        zk = Registry(listener.hosts, wait=True, session_timeout=1.0)
        starting = asyncio.create_task(zk.start())
        await asyncio.wait_for(listener.tried_thrice.wait(), 20)
        assert not starting.done()
        starting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await starting
        assert _own_tasks() == []
        await asyncio.wait_for(zk.close(), 1)
        with pytest.raises(RegistryClosedError):
            await zk.exists("/")


async def test_close_during_start_ends_it() -> None:
    """close() from another task while start(wait=True) is still trying: start() raises
    RegistryClosedError, close() returns, nothing is left running."""
    async with Listener(drop=True) as listener:
        zk = Registry(listener.hosts, wait=True, session_timeout=1.0)
        starting = asyncio.create_task(zk.start())
        await asyncio.wait_for(listener.tried_thrice.wait(), 20)  # start() is under way
        await asyncio.wait_for(zk.close(), 1)
        with pytest.raises(RegistryClosedError):
            await asyncio.wait_for(starting, 1)
        assert _own_tasks() == []


async def test_close_racing_the_end_of_start_leaves_nothing_running(memory_hosts: str) -> None:
    """close() called as start() attaches: start() completes or raises RegistryClosedError,
    and either way no task of the registry outlives close()."""
    zk = Registry(memory_hosts)
    states = zk.states()
    starting = asyncio.create_task(zk.start())
    await until_states(states, SessionState.CONNECTED)  # start() has not resumed yet
    await zk.close()
    with contextlib.suppress(RegistryClosedError):
        await starting
    assert _own_tasks() == []


async def test_wait_connects_once_server_appears(zookeeper_server: object) -> None:
    """With wait=True, start() keeps trying and succeeds once the server is reachable."""
    proxy = FaultProxy(zookeeper_server.host, zookeeper_server.port)  # type: ignore[attr-defined]
    async with proxy:
        proxy.cut()
        zk = Registry(proxy.address, wait=True, session_timeout=4.0)
        starting = asyncio.create_task(zk.start())
        done, _ = await asyncio.wait({starting}, timeout=0.5)
        assert not done, "start() returned while no server was reachable"
        proxy.heal()
        await asyncio.wait_for(starting, 10)
        assert await zk.exists("/") is not None
        await zk.close()


async def test_close_is_idempotent_and_use_after_close_fails(hosts: str) -> None:
    """close() twice is fine; any request afterwards raises RegistryClosedError."""
    zk = Registry(hosts)
    with pytest.raises(RegistryClosedError, match="not started"):
        await zk.exists("/")
    await zk.start()
    await zk.close()
    await zk.close()
    with pytest.raises(RegistryClosedError):
        await zk.exists("/")
    with pytest.raises(RegistryClosedError):
        await zk.start()
    assert _own_tasks() == []


async def test_close_removes_ephemeral_nodes_promptly(hosts: str) -> None:
    """close() sends CloseSession: the ephemeral node is gone at once for other clients."""
    async with Registry(hosts) as observer:
        zk = Registry(hosts)
        await zk.start()
        await zk.create("/eph", ephemeral=True)
        await zk.close()
        assert await observer.exists("/eph") is None


async def test_started_in_one_task_closed_in_another(hosts: str) -> None:
    """A registry started in one task is usable and closable from others."""
    zk = Registry(hosts)
    await asyncio.create_task(zk.start())
    await asyncio.create_task(zk.create("/t"))
    await asyncio.create_task(zk.close())
    assert _own_tasks() == []


async def test_shortcuts(hosts: str) -> None:
    """create/get/set/exists/get_children/delete/ensure_path behave as kazoo's."""
    async with Registry(hosts) as zk:
        assert await zk.exists("/a") is None
        await zk.ensure_path("/a/b/c")
        await zk.ensure_path("/a/b/c")
        assert sorted(await zk.get_children("/a")) == ["b"]
        stat = await zk.set("/a/b", b"v")
        assert stat.version == 1
        data, stat = await zk.get("/a/b")
        assert (data, stat.version) == (b"v", 1)
        with pytest.raises(BadVersionError):
            await zk.set("/a/b", b"w", version=0)
        with pytest.raises(NodeExistsError):
            await zk.create("/a/b")
        with pytest.raises(NoNodeError):
            await zk.create("/q/r")
        assert await zk.create("/q/r", b"x", makepath=True) == "/q/r"
        with pytest.raises(NotEmptyError):
            await zk.delete("/a/b")
        await zk.delete("/a/b/c")
        await zk.delete("/a/b", version=1)
        with pytest.raises(NoNodeError):
            await zk.get("/a/b")
        eph = await zk.create("/e", ephemeral=True)
        assert (await zk.exists(eph)).ephemeral_owner == zk.client_id[0]  # type: ignore[union-attr]


@pytest.mark.parametrize("path", ["relative", "/trailing/", "/a//b", "/a/./b", "/a/../b"])
async def test_bad_paths_raise_before_sending(hosts: str, path: str) -> None:
    """A path ZooKeeper would reject raises InvalidPathError (a ValueError) and writes nothing."""
    async with Registry(hosts) as zk:
        with pytest.raises(InvalidPathError):
            await zk.create(path)
        with pytest.raises(ValueError):
            await zk.get(path)
        assert await zk.get_children("/") == []


async def test_non_bytes_data_is_refused(hosts: str) -> None:
    """Node data must be bytes: a str raises TypeError and nothing is created."""
    async with Registry(hosts) as zk:
        with pytest.raises(TypeError, match="bytes"):
            await zk.create("/s", "text")  # type: ignore[arg-type]
        assert await zk.exists("/s") is None


async def test_transaction_commits_all(hosts: str) -> None:
    """A transaction applies every operation and returns their results."""
    async with Registry(hosts) as zk:
        results = (
            await zk.transaction()
            .create("/t", b"0")
            .set_data("/t", b"1")
            .check("/t", 1)
            .create("/t/c")
            .delete("/t/c")
            .commit()
        )
        assert results[0] == "/t" and results[1].version == 1
        assert results[2:] == [True, "/t/c", True]


async def test_failed_transaction_raises_with_per_operation_results(hosts: str) -> None:
    """A failing transaction applies nothing and raises with each operation's outcome."""
    async with Registry(hosts) as zk:
        txn = zk.transaction().create("/ok").delete("/missing").create("/later")
        with pytest.raises(TransactionError) as caught:
            await txn.commit()
        results = caught.value.results
        assert results[0] is None
        assert isinstance(results[1], NoNodeError)
        assert results[2] is None
        assert await zk.exists("/ok") is None


async def test_many_requests_in_flight(hosts: str) -> None:
    """Hundreds of requests pipelined on one connection each get their own reply."""
    async with Registry(hosts) as zk:
        await asyncio.gather(*(zk.create(f"/n{i}", str(i).encode()) for i in range(500)))
        replies = await asyncio.gather(*(zk.get(f"/n{i}") for i in range(500)))
        assert [data for data, _ in replies] == [str(i).encode() for i in range(500)]


async def test_cancelled_request_leaves_connection_healthy(hosts: str) -> None:
    """Requests cancelled in flight never corrupt the xid table: the next thousand succeed."""
    async with Registry(hosts) as zk:
        await zk.create("/c", b"data")
        states = zk.states()
        for _ in range(20):
            doomed = [asyncio.create_task(zk.get("/c")) for _ in range(10)]

            async def cancel(tasks: list[asyncio.Task[Any]]) -> None:
                for task in tasks:  # runs after they have sent, before any reply
                    task.cancel()

            await asyncio.gather(*doomed, cancel(doomed), return_exceptions=True)
            assert all(task.cancelled() for task in doomed)
        replies = await asyncio.gather(*(zk.get("/c") for _ in range(1000)))
        assert all(data == b"data" for data, _ in replies)
    assert [change.state async for change in states] == [SessionState.CLOSED]  # no reconnect
