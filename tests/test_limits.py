"""The request size limit: ZooKeeper's jute.maxbuffer, enforced before sending (real server
and in-memory one), and raised for a server started with a larger one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from waits import until_states

from aiozkreg import (
    ConnectionLossError,
    Registry,
    RequestTooLargeError,
    SessionState,
    ZKRegError,
)
from aiozkreg.testing import MemoryZooKeeper, ZooKeeperServer

LIMIT = 0xFFFFF  # ZooKeeper's default jute.maxbuffer
RAISED = 4 * 1024 * 1024


def set_data_fitting(zk: Registry, path: str, frame: int) -> bytes:
    """Data that makes ``zk.set(path, data)`` a frame of exactly ``frame`` bytes."""
    server_path = (zk.chroot + path).encode()
    overhead = 4 + 4 + (4 + len(server_path)) + 4 + 4  # xid, opcode, path, data length, version
    return b"x" * (frame - overhead)


async def test_big_write_refused_while_others_in_flight_succeed(hosts: str) -> None:
    """A write over the limit raises at the call; 200 writes in flight with it all succeed,
    on the same session and link (no reconnect)."""
    async with Registry(hosts) as zk:
        await zk.create("/big", b"small")
        session = zk.client_id[0]
        states = zk.states()

        async def refused(data: bytes) -> BaseException:
            # gather starts this after the 200 creates have been sent, before any reply
            with pytest.raises(RequestTooLargeError) as caught:
                await zk.set("/big", data)
            return caught.value

        too_big = (b"x" * (LIMIT + 1), set_data_fitting(zk, "/big", LIMIT + 1))
        *created, first, second = await asyncio.gather(
            *(zk.create(f"/n{i}", b"v" * 1000) for i in range(200)),
            *(refused(data) for data in too_big),
        )
        assert created == [f"/n{i}" for i in range(200)]
        for error in (first, second):
            assert isinstance(error, ValueError) and isinstance(error, ZKRegError)
            assert isinstance(error, RequestTooLargeError)
            assert error.limit == LIMIT and str(LIMIT) in str(error)
            assert "max_request_size" in str(error)
        assert (await zk.get("/big"))[0] == b"small"
        assert zk.client_id[0] == session
    assert [change.state async for change in states] == [SessionState.CLOSED]


async def test_the_limit_is_the_frame_length(hosts: str) -> None:
    """A request whose frame (after the length prefix) is exactly the limit is written;
    one byte more is refused before sending, with the exact size."""
    async with Registry(hosts) as zk:
        await zk.create("/edge")
        fits = set_data_fitting(zk, "/edge", LIMIT)
        await zk.set("/edge", fits)
        assert (await zk.get("/edge"))[0] == fits
        with pytest.raises(RequestTooLargeError) as caught:
            await zk.set("/edge", fits + b"x")
        assert (caught.value.size, caught.value.limit) == (LIMIT + 1, LIMIT)


async def test_server_drops_the_link_one_byte_over_its_limit(hosts: str) -> None:
    """With the client's limit raised past the server's, the server drops the link for a
    frame one byte over its jute.maxbuffer: what the default limit prevents."""
    async with Registry(hosts, max_request_size=LIMIT + 1) as zk:
        await zk.create("/edge")
        states = zk.states()
        with pytest.raises(ConnectionLossError):
            await zk.set("/edge", set_data_fitting(zk, "/edge", LIMIT + 1))
        await until_states(states, SessionState.SUSPENDED, SessionState.CONNECTED)
        assert (await zk.get("/edge"))[0] == b""


async def test_transaction_over_the_limit_is_refused_whole(hosts: str) -> None:
    """Operations under the limit each but over it together: commit raises and applies
    nothing; data over the limit alone is refused as it is added."""
    async with Registry(hosts) as zk:
        half = b"x" * 600_000
        with pytest.raises(RequestTooLargeError):
            await zk.transaction().create("/a", half).create("/b", half).commit()
        assert await zk.get_children("/") == []
        with pytest.raises(RequestTooLargeError):
            zk.transaction().set_data("/a", b"x" * (LIMIT + 1))


@pytest.fixture(scope="module")
def big_server() -> Iterator[ZooKeeperServer]:
    """A real server started with -Djute.maxbuffer=4 MiB."""
    with ZooKeeperServer(jvm_options=[f"-Djute.maxbuffer={RAISED}"]) as server:
        yield server


@pytest.fixture(params=["real", "memory"])
def big_hosts(request: pytest.FixtureRequest) -> Iterator[str]:
    """A server whose jute.maxbuffer is 4 MiB: the real one, then the in-memory one."""
    if request.param == "real":
        yield request.getfixturevalue("big_server").address
        return
    with MemoryZooKeeper(jute_maxbuffer=RAISED) as server:
        yield server.hosts


async def test_raised_limit_for_a_server_with_a_larger_jute_maxbuffer(big_hosts: str) -> None:
    """Registry(max_request_size=...) matching the server's jute.maxbuffer writes 2 MiB;
    a registry with the default limit still refuses it at the call."""
    data = bytes(range(256)) * (2 * 1024 * 1024 // 256)
    async with (
        Registry(big_hosts, max_request_size=RAISED) as zk,
        Registry(big_hosts) as default,
    ):
        path = await zk.create("/aiozkreg-big-", sequential=True)
        try:
            await zk.set(path, data)
            assert (await default.get(path))[0] == data
            with pytest.raises(RequestTooLargeError, match=str(LIMIT)):
                await default.set(path, data)
        finally:
            await zk.delete(path)


@pytest.mark.parametrize(("value", "error"), [(0, ValueError), (-1, ValueError), ("1", TypeError)])
def test_max_request_size_is_checked(value: object, error: type[Exception]) -> None:
    """A max_request_size that is not a positive int is refused when the registry is made."""
    with pytest.raises(error, match="max_request_size"):
        Registry("127.0.0.1:2181", max_request_size=value)  # type: ignore[arg-type]
