"""FaultProxy: forwarding, cut, stall (a black hole), heal, close; and expiry through it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable

import pytest
from kazoo.client import KazooClient, KazooState

from aiozkreg.testing import FaultProxy, ProxyState, ZooKeeperServer

# A negative check ("nothing arrives") can only wait a bounded while.
QUIET = 0.3
PROMPT = 2.0


class Echo:
    """A target server that echoes bytes and records each connection's end."""

    def __init__(self) -> None:
        self.ended = asyncio.Event()
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            self.ended.set()
            writer.close()

    @property
    def port(self) -> int:
        assert self.server is not None
        port: int = self.server.sockets[0].getsockname()[1]
        return port


@pytest.fixture
async def echo() -> AsyncIterator[Echo]:
    """A running echo server."""
    target = Echo()
    target.server = await asyncio.start_server(target.handle, "127.0.0.1", 0)
    async with target.server:
        yield target


@pytest.fixture
async def proxy(echo: Echo) -> AsyncIterator[FaultProxy]:
    """A started proxy in front of the echo server."""
    async with FaultProxy("127.0.0.1", echo.port) as proxy:
        yield proxy


async def connect(proxy: FaultProxy) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A client connection through the proxy."""
    return await asyncio.open_connection(proxy.host, proxy.port)


async def round_trip(proxy: FaultProxy, payload: bytes = b"ping") -> bytes:
    """Send ``payload`` on a new connection and return what comes back."""
    reader, writer = await connect(proxy)
    try:
        writer.write(payload)
        async with asyncio.timeout(PROMPT):
            return await reader.readexactly(len(payload))
    finally:
        writer.close()


async def read_end(reader: asyncio.StreamReader) -> bytes:
    """Read until the connection ends, by EOF or reset; return the bytes before it."""
    try:
        async with asyncio.timeout(PROMPT):
            return await reader.read()
    except ConnectionResetError:
        return b""


async def test_forwards_both_ways(proxy: FaultProxy) -> None:
    """Bytes sent through a forwarding proxy reach the target and come back."""
    assert proxy.state is ProxyState.FORWARDING
    assert proxy.address == f"127.0.0.1:{proxy.port}"
    assert await round_trip(proxy, b"hello") == b"hello"


async def test_cut_resets_links_at_once_and_refuses_new_ones(proxy: FaultProxy) -> None:
    """cut() ends an open link promptly and resets new connections until heal()."""
    reader, writer = await connect(proxy)
    writer.write(b"x")
    assert await reader.readexactly(1) == b"x"
    assert proxy.connections == 1
    proxy.cut()
    assert proxy.state is ProxyState.CUT
    assert await read_end(reader) == b""
    writer.close()
    late_reader, late_writer = await connect(proxy)
    late_writer.write(b"y")
    assert await read_end(late_reader) == b""
    late_writer.close()
    assert proxy.connections == 0


async def test_heal_after_cut_forwards_new_connections(proxy: FaultProxy) -> None:
    """After cut() then heal(), a new connection is forwarded again."""
    proxy.cut()
    proxy.heal()
    assert await round_trip(proxy) == b"ping"


async def test_stall_forwards_nothing_and_keeps_sockets_open(proxy: FaultProxy) -> None:
    """stall() delivers nothing while the link stays open; heal() delivers what was held."""
    reader, writer = await connect(proxy)
    writer.write(b"a")
    assert await reader.readexactly(1) == b"a"
    proxy.stall()
    assert proxy.state is ProxyState.STALLED
    writer.write(b"held")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(QUIET):
            await reader.read(1)
    assert not reader.at_eof() and not writer.is_closing()
    assert proxy.connections == 1
    proxy.heal()
    async with asyncio.timeout(PROMPT):
        assert await reader.readexactly(4) == b"held"
    writer.close()


async def test_stall_accepts_new_connections_into_a_black_hole(proxy: FaultProxy) -> None:
    """A connection made while stalled gets no answer, then is forwarded after heal()."""
    proxy.stall()
    reader, writer = await connect(proxy)
    writer.write(b"late")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(QUIET):
            await reader.read(1)
    proxy.heal()
    async with asyncio.timeout(PROMPT):
        assert await reader.readexactly(4) == b"late"
    writer.close()


async def test_stall_holds_back_a_close(proxy: FaultProxy, echo: Echo) -> None:
    """A client's close during a stall does not reach the target until heal()."""
    reader, writer = await connect(proxy)
    writer.write(b"a")
    assert await reader.readexactly(1) == b"a"
    proxy.stall()
    writer.close()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(QUIET):
            await echo.ended.wait()
    proxy.heal()
    async with asyncio.timeout(PROMPT):
        await echo.ended.wait()


async def test_close_ends_links_and_is_idempotent(echo: Echo) -> None:
    """close() resets open links, stops listening, and may be called twice."""
    proxy = FaultProxy("127.0.0.1", echo.port)
    await proxy.start()
    port = proxy.port
    reader, writer = await connect(proxy)
    writer.write(b"z")
    assert await reader.readexactly(1) == b"z"
    await proxy.close()
    await proxy.close()
    assert await read_end(reader) == b""
    writer.close()
    assert proxy.connections == 0
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_unreachable_target_resets_the_client() -> None:
    """A connection to a proxy whose target is down is ended, not left hanging."""
    async with FaultProxy("127.0.0.1", 1) as proxy:
        reader, writer = await connect(proxy)
        assert await read_end(reader) == b""
        writer.close()


async def test_retarget_moves_new_connections(proxy: FaultProxy) -> None:
    """retarget() sends new connections to another server; open links stay put."""
    upper = Echo()

    async def shout(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write((await reader.read(65536)).upper())
        await writer.drain()
        writer.close()

    upper.server = await asyncio.start_server(shout, "127.0.0.1", 0)
    async with upper.server:
        old_reader, old_writer = await connect(proxy)
        proxy.retarget("127.0.0.1", upper.port)
        assert proxy.target == ("127.0.0.1", upper.port)
        assert await round_trip(proxy, b"abc") == b"ABC"
        old_writer.write(b"abc")
        assert await old_reader.readexactly(3) == b"abc"
        old_writer.close()


def kazoo(hosts: str, timeout: float = 10.0) -> KazooClient:
    """A started kazoo client (the independent client for these tests)."""
    client = KazooClient(hosts=hosts, timeout=timeout)
    client.start(timeout=10)
    return client


def stop(*clients: KazooClient) -> None:
    """Stop and close kazoo clients."""
    for client in clients:
        client.stop()
        client.close()


@pytest.mark.slow
@pytest.mark.parametrize("fault", [FaultProxy.cut, FaultProxy.stall], ids=["cut", "stall"])
async def test_partition_longer_than_timeout_expires_session(
    zookeeper_server: ZooKeeperServer,
    fault_proxy: FaultProxy,
    zookeeper_chroot: str,
    fault: Callable[[FaultProxy], None],
) -> None:
    """A client partitioned by the proxy past its timeout loses its session and ephemerals."""
    victim = await asyncio.to_thread(kazoo, fault_proxy.address + zookeeper_chroot, 1.0)
    observer = await asyncio.to_thread(kazoo, zookeeper_server.address + zookeeper_chroot)
    try:
        lost = threading.Event()
        victim.add_listener(lambda state: lost.set() if state == KazooState.LOST else None)
        await asyncio.to_thread(victim.create, "/ephemeral", ephemeral=True)
        gone = threading.Event()
        assert await asyncio.to_thread(observer.exists, "/ephemeral", watch=lambda e: gone.set())
        fault(fault_proxy)
        assert await asyncio.to_thread(gone.wait, 10.0), "the ephemeral node outlived its session"
        fault_proxy.heal()
        assert await asyncio.to_thread(lost.wait, 10.0), "the victim never learnt of the expiry"
    finally:
        await asyncio.to_thread(stop, victim, observer)


async def test_short_partition_keeps_the_session(
    zookeeper_server: ZooKeeperServer, fault_proxy: FaultProxy, zookeeper_chroot: str
) -> None:
    """A cut shorter than the session timeout costs a reconnect, not the session."""
    victim = await asyncio.to_thread(kazoo, fault_proxy.address + zookeeper_chroot, 10.0)
    try:
        session_id = victim.client_id[0]
        await asyncio.to_thread(victim.create, "/ephemeral", ephemeral=True)
        suspended, back = threading.Event(), threading.Event()

        def listen(state: KazooState) -> None:
            if state == KazooState.SUSPENDED:
                suspended.set()
            elif state == KazooState.CONNECTED and suspended.is_set():
                back.set()

        victim.add_listener(listen)
        fault_proxy.cut()
        assert await asyncio.to_thread(suspended.wait, PROMPT)
        fault_proxy.heal()
        assert await asyncio.to_thread(back.wait, 10.0)
        assert victim.client_id[0] == session_id
        assert await asyncio.to_thread(victim.exists, "/ephemeral")
    finally:
        await asyncio.to_thread(stop, victim)
