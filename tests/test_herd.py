"""Herd control in the session keeper (issue 14): how reconnects are spread and spaced.

The timings these tests look at are the behaviour itself (a pause, a
spacing), so they are bounds, never exact values: lower bounds hold on any
machine (a sleep never ends early), and the upper bounds are generous.
"""

from __future__ import annotations

import asyncio
import itertools
from types import SimpleNamespace
from typing import Any

import pytest
from waits import until_states

from aiozkreg import ConnectionLossError, Registry, SessionState
from aiozkreg._keeper import Keeper, reconnect_pause, retry_caps
from aiozkreg._paths import parse_hosts
from aiozkreg.testing import MemoryZooKeeper


async def test_reconnects_after_a_server_drops_every_link_are_spread(
    memory_zookeeper: MemoryZooKeeper, memory_hosts: str
) -> None:
    """Sessions whose server drops every link re-attach spread over up to a second, not at once."""
    count = 20
    registries = [Registry(memory_hosts, session_timeout=10.0) for _ in range(count)]
    for zk in registries:
        await zk.start()
    try:
        loop = asyncio.get_running_loop()
        streams = [zk.states() for zk in registries]

        async def back(stream: Any) -> float:
            await until_states(stream, SessionState.SUSPENDED, SessionState.CONNECTED)
            return loop.time()

        waiting = [asyncio.create_task(back(s)) for s in streams]
        await asyncio.sleep(0)  # every stream is listening before the drop
        dropped = loop.time()
        assert memory_zookeeper.disconnect() == count
        times = sorted(t - dropped for t in await asyncio.gather(*waiting))
        assert times[-1] < reconnect_pause(10.0) + 2.0  # a pause, not an outage
        assert times[-1] - times[0] > 0.3  # spread: 20 uniform pauses over 1 s
        busiest = max(sum(1 for t in times if s <= t < s + 0.1) for s in times)
        assert busiest <= count // 2
    finally:
        for zk in registries:
            await zk.close()


async def test_the_server_just_lost_is_tried_last() -> None:
    """Servers are tried in shuffled order, the one the session was last attached to last."""
    session = SimpleNamespace(
        config=SimpleNamespace(connect_string=parse_hosts("a:1,b:2,c:3")), timeout=10.0
    )
    keeper = Keeper(session, wait=False)  # type: ignore[arg-type]
    firsts = {keeper.order()[0] for _ in range(100)}
    assert firsts == {("a", 1), ("b", 2), ("c", 3)}  # shuffled
    keeper.server = ("b", 2)
    orders = [keeper.order() for _ in range(100)]
    assert all(order[-1] == ("b", 2) and len(order) == 3 for order in orders)
    assert {order[0] for order in orders} == {("a", 1), ("c", 3)}


class _Attempts:
    """A connector that never attaches: silent, then refused, then answered-but-closed;
    it records when each attempt came and the time it was allowed."""

    def __init__(self, silent: int, refused: int, answered: int) -> None:
        self.phases = [silent, silent + refused, silent + refused + answered]
        self.calls: list[tuple[float, float]] = []  # (loop time, timeout)
        self.enough = asyncio.Event()

    async def __call__(self, host: str, port: int, connect: Any, **options: Any) -> Any:
        n = len(self.calls)
        self.calls.append((asyncio.get_running_loop().time(), options["timeout"]))
        if n + 1 >= self.phases[2]:
            self.enough.set()
        if n < self.phases[0]:
            raise TimeoutError  # as the link's own handshake timeout would
        if n < self.phases[1]:
            raise ConnectionRefusedError(111, "Connection refused")
        raise ConnectionLossError(f"{host}:{port} is not serving requests.")


async def _attempts(connector: _Attempts, session_timeout: float) -> None:
    zk = Registry("127.0.0.1:1", session_timeout=session_timeout, wait=True, connector=connector)
    starting = asyncio.create_task(zk.start())
    try:
        async with asyncio.timeout(60):
            await connector.enough.wait()
    finally:
        starting.cancel()
        await asyncio.wait([starting])
        await zk.close()


@pytest.mark.slow
async def test_retry_spacing_follows_what_the_server_says() -> None:
    """Timeouts double on silence; spacing stays ≤ 0.5 s while refused, restarts on an answer."""
    connector = _Attempts(silent=4, refused=8, answered=7)
    await _attempts(connector, session_timeout=10.0)
    limits = [limit for _, limit in connector.calls]
    assert limits[:4] == [0.5, 1.0, 2.0, 2.0]  # doubled up to a quarter of 10 s, at most 2 s
    quiet_cap, answered_cap = retry_caps(10.0)
    assert (quiet_cap, answered_cap) == (0.5, 1.0)
    times = [t for t, _ in connector.calls]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    refused, answered = gaps[4:12], gaps[12:18]  # after each attempt of the phase
    assert max(refused) < quiet_cap + 0.3  # never spaced beyond the cap (generously)
    assert sum(refused[-3:]) >= 3 * quiet_cap * 0.5  # but spaced out: not a busy loop
    assert answered[0] < 0.05 + 0.3  # the server answered: it is coming up, try again soon
    assert answered[-1] >= answered_cap * 0.5  # and back off while it cannot serve
