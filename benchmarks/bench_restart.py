"""Issue 14: how soon one client is usable again after its server restarts.

``restart-promptness``
    A standalone ZooKeeper server of its own (not the suite's) is stopped
    (SIGTERM) and started again, once per round, while 4 registries and 4
    kazoo clients are connected to it; their sessions survive the restart.
    For each client: the time from the moment the restarted server first
    accepts a TCP connection (polled every 5 ms) until the client is usable
    again (aiozkreg: an ``exists`` issued during the outage returns, since
    requests wait for the reconnect; kazoo: its state listener reports
    CONNECTED). Rows: the median and the slowest client of each round, and
    the slowest of the whole run, with issue 14's goals (median at most
    0.5 s, no stall over 1 s). Also: how long the server took from
    accepting connections to serving requests (``srvr`` reports a mode).

The herd side of the trade (the same reconnect loop spreading a fleet's
reconnects when a server of an ensemble dies) is measured by
``make bench-fleet`` (benchmarks/fleet.py), not here.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import threading
import time

from _bench import Benchmark, Comparison, Context, Measurement
from _common import Rows, goal_comparison
from kazoo.client import KazooClient, KazooState

from aiozkreg import Registry
from aiozkreg.testing import ZooKeeperServer
from aiozkreg.testing._fourlw import server_mode

ORDER = 70

REG = "aiozkreg"
KAZOO = "kazoo"
SECTION = "Restart promptness: one client after its server restarts"
MEDIAN = "server accepts connections → client usable, median of the round"
SLOWEST = "server accepts connections → client usable, slowest of the round"
WORST = "server accepts connections → client usable, slowest of the run"
SERVING = "server accepts connections → server serves requests"
CLIENTS = 4

clock = time.monotonic


def _await_accept(server: ZooKeeperServer, stop: threading.Event) -> tuple[float, float]:
    """Poll the port until it accepts, then until the server serves: both moments."""
    accepted = None
    while not stop.is_set():
        try:
            with socket.create_connection((server.host, server.port), timeout=0.2):
                accepted = clock()
                break
        except OSError:
            time.sleep(0.005)
    assert accepted is not None, "stopped before the server accepted"
    while not stop.is_set():
        if server_mode(server.host, server.port, timeout=0.5) == "standalone":
            return accepted, clock()
        time.sleep(0.01)
    return accepted, float("nan")


class _KazooWatch:
    """A connected kazoo client and the moments it (re)connected."""

    def __init__(self, address: str) -> None:
        self.client = KazooClient(hosts=address, timeout=10.0)
        self.connected: list[float] = []
        self.changed = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self.client.add_listener(self._listen)

    def _listen(self, state: str) -> None:  # on kazoo's thread
        if state == KazooState.CONNECTED:
            self.connected.append(clock())
            self._loop.call_soon_threadsafe(self.changed.set)

    async def connected_since(self, since: float) -> float:
        """When the client was first connected after ``since`` (waiting for it)."""
        while not (times := [t for t in self.connected if t > since]):
            self.changed.clear()
            await self.changed.wait()
        return min(times)

    def close(self) -> None:
        self.client.stop()
        self.client.close()


async def _round(
    server: ZooKeeperServer, registries: list[Registry], kazoos: list[_KazooWatch]
) -> tuple[float, float, list[float], list[float]]:
    """One restart: (accepted, serving, aiozkreg usable times, kazoo usable times)."""
    await server.astop()
    stopped = clock()

    async def usable(zk: Registry) -> float:
        await zk.exists("/")
        return clock()

    waits = [asyncio.create_task(usable(zk)) for zk in registries]
    stop = threading.Event()
    await asyncio.to_thread(server.launch)
    try:
        accepted, serving = await asyncio.to_thread(_await_accept, server, stop)
        ours = await asyncio.wait_for(asyncio.gather(*waits), 30)
        theirs = [await asyncio.wait_for(k.connected_since(stopped), 30) for k in kazoos]
    finally:
        stop.set()
    await asyncio.to_thread(server.wait_ready, 30.0)
    return accepted, serving, ours, theirs


async def restart(ctx: Context) -> list[Measurement]:
    rows = Rows(SECTION)
    rounds = ctx.scale(ctx.rounds, 2)
    server = ZooKeeperServer()
    await server.astart()
    registries = [Registry(server.address, session_timeout=10.0) for _ in range(CLIENTS)]
    kazoos = [_KazooWatch(server.address) for _ in range(CLIENTS)]
    ours_all: list[float] = []
    theirs_all: list[float] = []
    try:
        for zk in registries:
            await zk.start()
        await asyncio.gather(*(asyncio.to_thread(k.client.start, 10.0) for k in kazoos))
        sessions = [zk.client_id[0] for zk in registries]
        for _ in range(rounds):
            accepted, serving, ours, theirs = await _round(server, registries, kazoos)
            ours = [t - accepted for t in ours]
            theirs = [t - accepted for t in theirs]
            ours_all += ours
            theirs_all += theirs
            rows.add(SERVING, "s", "lower", "server", serving - accepted)
            for client, values in ((REG, ours), (KAZOO, theirs)):
                rows.add(MEDIAN, "s", "lower", client, statistics.median(values))
                rows.add(SLOWEST, "s", "lower", client, max(values))
        assert [zk.client_id[0] for zk in registries] == sessions, "a session was lost"
    finally:
        for zk in registries:
            await zk.close()
        await asyncio.gather(*(asyncio.to_thread(k.close) for k in kazoos))
        await asyncio.to_thread(server.close)
    rows.add(WORST, "s", "lower", REG, max(ours_all))
    rows.add(WORST, "s", "lower", KAZOO, max(theirs_all))
    rows.goal(MEDIAN, "s", "lower", 0.5)
    rows.goal(SLOWEST, "s", "lower", 1.0)
    rows.goal(WORST, "s", "lower", 1.0)
    return rows.measurements([REG, KAZOO, "server"])


BENCHMARKS = [
    Benchmark(
        "restart-promptness",
        SECTION,
        "a standalone server restarts: how soon 4 registries and 4 kazoo clients are usable",
        restart,
        comparisons=(Comparison(REG, KAZOO), goal_comparison(REG)),
    ),
]
