"""The session layer under faults: resets, outages, black holes, expiry, failover, auth."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from waits import until_states

from aiozkreg import (
    NoAuthError,
    Registry,
    RegistryClosedError,
    SessionState,
    WatchedEvent,
    make_digest_acl,
)
from aiozkreg._connection import Connection
from aiozkreg.testing import FaultProxy, ZooKeeperEnsemble, ZooKeeperServer, expire_session


class Recorder:
    """A watch callback that records events and wakes a waiter."""

    def __init__(self) -> None:
        self.events: list[WatchedEvent] = []
        self.changed = asyncio.Event()

    def __call__(self, event: WatchedEvent) -> None:
        self.events.append(event)
        self.changed.set()


async def test_reset_link_recovers_at_once_with_same_session(
    fault_proxy: FaultProxy, fault_proxy_hosts: str
) -> None:
    """After a reset link heals, the next request completes well under a second, same session."""
    async with Registry(fault_proxy_hosts, session_timeout=8.0) as zk:
        await zk.create("/eph", ephemeral=True)
        czxid = (await zk.exists("/eph")).czxid  # type: ignore[union-attr]
        session = zk.client_id[0]
        states = zk.states()
        fault_proxy.cut()
        await until_states(states, SessionState.SUSPENDED)  # noticed at once, not a heartbeat later
        fault_proxy.heal()
        loop = asyncio.get_running_loop()
        began = loop.time()
        stat = await zk.exists("/eph")
        assert loop.time() - began < 1.0
        assert zk.client_id[0] == session
        assert stat is not None and stat.czxid == czxid


async def test_loss_is_noticed_immediately_on_reset(
    fault_proxy: FaultProxy, fault_proxy_hosts: str
) -> None:
    """A reset link suspends the session within a fraction of the timeout (no heartbeat wait)."""
    async with Registry(fault_proxy_hosts, session_timeout=30.0) as zk:
        states = zk.states()
        loop = asyncio.get_running_loop()
        began = loop.time()
        fault_proxy.cut()
        await until_states(states, SessionState.SUSPENDED)
        assert loop.time() - began < 1.0
        fault_proxy.heal()
        await until_states(states, SessionState.CONNECTED)


@pytest.mark.slow
async def test_server_outage_shorter_than_timeout_keeps_session() -> None:
    """Server stopped 4 s with an 8 s session: the same session and ephemeral node continue."""
    server = ZooKeeperServer()
    try:
        await server.astart()
        async with Registry(server.address, session_timeout=8.0) as zk:
            await zk.create("/eph", b"x", ephemeral=True)
            czxid = (await zk.exists("/eph")).czxid  # type: ignore[union-attr]
            session = zk.client_id[0]
            states = zk.states()
            await server.astop()
            await until_states(states, SessionState.SUSPENDED)
            await asyncio.sleep(4.0)  # the outage itself, not a synchronisation
            await server.astart()
            changes = await until_states(states, SessionState.CONNECTED)
            assert SessionState.EXPIRED not in [c.state for c in changes]
            assert zk.client_id[0] == session
            stat = await zk.exists("/eph")
            assert stat is not None and stat.czxid == czxid
    finally:
        server.close()


@pytest.mark.slow
async def test_black_hole_longer_than_timeout_makes_new_session(
    zookeeper_hosts: str, fault_proxy: FaultProxy, fault_proxy_hosts: str
) -> None:
    """A stalled link is declared lost by ping timeout; after heal a new session follows."""
    async with (
        Registry(zookeeper_hosts) as observer,
        Registry(fault_proxy_hosts, session_timeout=1.0) as zk,
    ):
        await zk.create("/eph", ephemeral=True)
        deleted = Recorder()
        assert await observer.exists("/eph", watch=deleted) is not None
        old = zk.client_id[0]
        states = zk.states()
        loop = asyncio.get_running_loop()
        began = loop.time()
        fault_proxy.stall()
        await until_states(states, SessionState.SUSPENDED)
        assert loop.time() - began < 1.5  # 2/3 of the timeout, plus scheduling
        await asyncio.wait_for(deleted.changed.wait(), 20)  # the server expired the session
        assert [e.type.name for e in deleted.events] == ["DELETED"]
        fault_proxy.heal()
        changes = await until_states(states, SessionState.EXPIRED, SessionState.CONNECTED)
        assert [c.state for c in changes][-3:] == [
            SessionState.EXPIRED,
            SessionState.CONNECTING,
            SessionState.CONNECTED,
        ]
        assert zk.client_id[0] not in (0, old)
        assert await zk.exists("/") is not None


async def test_expire_session_forces_new_session(hosts: str) -> None:
    """expire_session() makes the server end the session; the registry opens a new one."""
    async with Registry(hosts) as observer, Registry(hosts) as zk:
        await zk.create("/eph", ephemeral=True)
        states = zk.states()
        old = await expire_session(zk)
        await until_states(states, SessionState.EXPIRED, SessionState.CONNECTED)
        assert zk.client_id[0] != old
        assert await observer.exists("/eph") is None


async def _set_three_watches(zk: Registry) -> tuple[Recorder, Recorder, Recorder]:
    data, child, exist = Recorder(), Recorder(), Recorder()
    await zk.get("/d", watch=data)
    await zk.get_children("/c", watch=child)
    assert await zk.exists("/e", watch=exist) is None
    return data, child, exist


async def test_watches_fire_once_for_changes_while_disconnected(
    zookeeper_hosts: str, fault_proxy: FaultProxy, fault_proxy_hosts: str
) -> None:
    """Data, child and exist watches set before a disconnect fire exactly once after it."""
    async with Registry(zookeeper_hosts) as other, Registry(fault_proxy_hosts) as zk:
        await other.create("/d", b"0")
        await other.create("/c")
        data, child, exist = await _set_three_watches(zk)
        states = zk.states()
        fault_proxy.cut()
        await until_states(states, SessionState.SUSPENDED)
        await other.set("/d", b"1")
        await other.create("/c/x")
        await other.create("/e")
        fault_proxy.heal()
        await until_states(states, SessionState.CONNECTED)
        async with asyncio.timeout(10):
            for recorder in (data, child, exist):
                await recorder.changed.wait()
        await zk.settle()  # a round trip (any duplicate would come first), callbacks run
        assert [e.type.name for e in data.events] == ["CHANGED"]
        assert [e.type.name for e in child.events] == ["CHILD"]
        assert [e.type.name for e in exist.events] == ["CREATED"]


async def test_watches_do_not_fire_when_nothing_changed(
    zookeeper_hosts: str, fault_proxy: FaultProxy, fault_proxy_hosts: str
) -> None:
    """Watches re-set after a reconnect stay silent when nothing changed meanwhile."""
    async with Registry(zookeeper_hosts) as other, Registry(fault_proxy_hosts) as zk:
        await other.create("/d", b"0")
        await other.create("/c")
        await other.create("/unrelated")
        recorders = await _set_three_watches(zk)
        states = zk.states()
        fault_proxy.cut()
        await until_states(states, SessionState.SUSPENDED)
        await other.set("/unrelated", b"moves the zxid on")
        fault_proxy.heal()
        await until_states(states, SessionState.CONNECTED)
        await zk.settle()  # a round trip, and the callbacks it scheduled run
        assert [r.events for r in recorders] == [[], [], []]
        await other.set("/d", b"2")  # and the watch is still armed on the server
        await asyncio.wait_for(recorders[0].changed.wait(), 10)


async def test_watchers_told_of_expiry(hosts: str) -> None:
    """When the session expires, every pending watch is told so (EXPIRED) exactly once."""
    async with Registry(hosts) as zk:
        await zk.create("/d")
        recorder = Recorder()
        await zk.get("/d", watch=recorder)
        await expire_session(zk)
        await asyncio.wait_for(recorder.changed.wait(), 10)
        assert [e.type.name for e in recorder.events] == ["EXPIRED"]


async def test_requests_wait_for_reconnect(fault_proxy: FaultProxy, fault_proxy_hosts: str) -> None:
    """A request issued while suspended waits for the reconnect instead of failing."""
    async with Registry(fault_proxy_hosts, session_timeout=8.0) as zk:
        states = zk.states()
        fault_proxy.cut()
        await until_states(states, SessionState.SUSPENDED)
        pending = asyncio.create_task(zk.create("/made-while-down"))
        done, _ = await asyncio.wait({pending}, timeout=0.3)
        assert not done
        fault_proxy.heal()
        assert await asyncio.wait_for(pending, 10) == "/made-while-down"


async def test_request_while_suspended_times_out(
    fault_proxy: FaultProxy, fault_proxy_hosts: str
) -> None:
    """A request waiting for a reconnect gives up after the request timeout."""
    from aiozkreg import RequestTimeoutError

    async with Registry(fault_proxy_hosts, session_timeout=8.0, request_timeout=0.3) as zk:
        states = zk.states()
        fault_proxy.cut()
        await until_states(states, SessionState.SUSPENDED)
        with pytest.raises(RequestTimeoutError):
            await zk.exists("/")
        fault_proxy.heal()


async def test_digest_auth_survives_reconnect(
    zookeeper_hosts: str, fault_proxy: FaultProxy, fault_proxy_hosts: str
) -> None:
    """Digest credentials are re-sent after a reconnect: a protected node stays readable."""
    acl = [make_digest_acl("alice", "secret")]
    async with Registry(fault_proxy_hosts, auth=[("digest", "alice:secret")]) as zk:
        await zk.create("/private", b"mine", acl=acl)
        states = zk.states()
        fault_proxy.cut()
        await until_states(states, SessionState.SUSPENDED)
        fault_proxy.heal()
        await until_states(states, SessionState.CONNECTED)
        data, _ = await zk.get("/private")
        assert data == b"mine"
        async with Registry(zookeeper_hosts) as stranger:
            with pytest.raises(NoAuthError):
                await stranger.get("/private")
        await zk.delete("/private")


async def test_close_while_disconnected_is_bounded(
    fault_proxy: FaultProxy, fault_proxy_hosts: str
) -> None:
    """close() while the server is unreachable returns within seconds and leaves no task."""
    zk = Registry(fault_proxy_hosts, session_timeout=10.0)
    await zk.start()
    states = zk.states()
    fault_proxy.stall()
    loop = asyncio.get_running_loop()
    began = loop.time()
    await zk.close()
    assert loop.time() - began < 3.0
    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("aiozkreg")] == []
    changes = [c async for c in states]
    assert changes[-1].state is SessionState.CLOSED
    fault_proxy.heal()


@pytest.mark.slow
async def test_ensemble_leader_killed_keeps_session(
    zookeeper_ensemble: ZooKeeperEnsemble,
) -> None:
    """Killing the leader moves the client to another member; session and ephemerals survive."""
    ensemble = zookeeper_ensemble
    leader = ensemble.member(ensemble.leader())
    zk = Registry(ensemble.connect_string, session_timeout=4.0)
    for _ in range(30):  # make sure the client sits on the leader, so it has to move
        await zk.start()
        if zk.connected_to == leader.address:
            break
        await zk.close()
        zk = Registry(ensemble.connect_string, session_timeout=4.0)
    assert zk.connected_to == leader.address
    try:
        path = await zk.create("/failover-", b"x", ephemeral=True, sequential=True)
        czxid = (await zk.exists(path)).czxid  # type: ignore[union-attr]
        session = zk.client_id[0]
        states = zk.states()
        await asyncio.to_thread(leader.kill)
        await until_states(states, SessionState.SUSPENDED, SessionState.CONNECTED)
        assert zk.connected_to != leader.address
        assert zk.client_id[0] == session
        stat = await zk.exists(path)
        assert stat is not None and stat.czxid == czxid
        await zk.delete(path)
    finally:
        await zk.close()
        await asyncio.to_thread(ensemble.start, leader.id)


async def test_read_in_flight_at_loss_waits_without_blocking_the_loop(
    fault_proxy: FaultProxy, fault_proxy_hosts: str
) -> None:
    """A read retried after a link drop waits for the reconnect; the event loop keeps running."""
    async with Registry(fault_proxy_hosts, session_timeout=8.0, request_timeout=3.0) as zk:
        await zk.create("/x", b"1")
        loop = asyncio.get_running_loop()
        stalls: list[float] = []
        stop = asyncio.Event()

        async def heartbeat() -> None:
            last = loop.time()
            while not stop.is_set():
                await asyncio.sleep(0.01)  # measures the loop, synchronises nothing
                now = loop.time()
                stalls.append(now - last)
                last = now

        beating = asyncio.create_task(heartbeat())
        reads = [asyncio.create_task(zk.get("/x")) for _ in range(20)]

        async def cut() -> None:  # runs after the reads have been sent, before replies
            fault_proxy.cut()

        await asyncio.create_task(cut())
        states = zk.states()
        await until_states(states, SessionState.SUSPENDED)
        fault_proxy.heal()
        results = await asyncio.gather(*reads)
        stop.set()
        await beating
        assert all(data == b"1" for data, _ in results)
        assert max(stalls) < 0.5


class _BrokenReconnect:
    """A connector whose every connect after the first fails with a bug (no server can
    make the keeper itself fail): ``release`` lets the failure happen."""

    def __init__(self, failure: BaseException) -> None:
        self.failure = failure
        self.release = asyncio.Event()
        self.release.set()
        self.opened = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.opened += 1
        if self.opened > 1:
            await self.release.wait()
            raise self.failure
        return await Connection.open(*args, **kwargs)


async def test_keeper_failure_closes_the_registry_loudly(
    fault_proxy: FaultProxy, fault_proxy_hosts: str, caplog: pytest.LogCaptureFixture
) -> None:
    """If the session keeper ever fails (a bug), the registry closes and says so."""
    broken = _BrokenReconnect(RuntimeError("bug in the keeper"))
    zk = Registry(fault_proxy_hosts, session_timeout=8.0, connector=broken)
    await zk.start()
    states = zk.states()
    fault_proxy.cut()
    await until_states(states, SessionState.CLOSED)
    assert any(r.levelname == "CRITICAL" for r in caplog.records)
    with pytest.raises(RegistryClosedError):
        await zk.exists("/")
    await asyncio.wait_for(zk.close(), 5)
    fault_proxy.heal()


async def test_keeper_failure_is_the_cause_of_registry_closed(
    fault_proxy: FaultProxy, fault_proxy_hosts: str
) -> None:
    """After the keeper fails, waiting and later requests raise RegistryClosedError whose
    __cause__ is that failure; close() still returns."""
    failure = RuntimeError("bug in the keeper")
    broken = _BrokenReconnect(failure)
    broken.release.clear()
    zk = Registry(fault_proxy_hosts, session_timeout=8.0, connector=broken)
    await zk.start()
    states = zk.states()
    fault_proxy.cut()
    await until_states(states, SessionState.SUSPENDED)
    waiting = asyncio.create_task(zk.exists("/"))  # starts before the failure below
    broken.release.set()
    await until_states(states, SessionState.CLOSED)
    for attempt in (waiting, zk.exists("/"), zk.create("/x"), zk.get_children("/")):
        with pytest.raises(RegistryClosedError, match="internal failure") as caught:
            await attempt
        assert caught.value.__cause__ is failure
    with pytest.raises(RegistryClosedError) as caught:
        await zk.properties("/")
    assert caught.value.__cause__ is failure
    await asyncio.wait_for(zk.close(), 5)
    fault_proxy.heal()


@pytest.mark.parametrize(("session_timeout", "per_try"), [(1, 0.5), (4, 1), (8, 2), (30, 2)])
def test_handshake_timeout_is_what_the_docs_say(session_timeout: float, per_try: float) -> None:
    """Each connect attempt may take a quarter of the session timeout, between 0.5 and 2 s,
    as docs/sessions.md says."""
    from pathlib import Path

    from aiozkreg._keeper import handshake_timeout

    assert handshake_timeout(session_timeout) == per_try
    docs = (Path(__file__).resolve().parent.parent / "docs" / "sessions.md").read_text()
    assert "a quarter of the session timeout, between 0.5 and 2 s" in " ".join(docs.split())
