"""The supervisor: registrations and views survive session loss, on the real server
and the in-memory one."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from waits import first_snapshot, until_states

from aiozkreg import (
    ConnectionLossError,
    NodeExistsError,
    Registry,
    SessionState,
    WatchedEvent,
)
from aiozkreg._connection import Connection
from aiozkreg._wire import Connect, Handshake
from aiozkreg.testing import FaultProxy, ZooKeeperEnsemble, expire_session, settle


async def test_registrations_restored_after_expiry(hosts: str) -> None:
    """200 registrations are all re-created in the new session after an expiry."""
    async with Registry(hosts) as observer, Registry(hosts) as zk:
        await zk.ensure_path("/svc")
        await asyncio.gather(*(zk.register("/svc", f"10.0.0.1:{p}") for p in range(1, 201)))
        view = await observer.children("/svc")
        await expire_session(zk)
        await first_snapshot(view, lambda names: len(names) == 0)
        await first_snapshot(view, lambda names: len(names) == 200)
        await settle(zk)
        owners = {
            (await observer.exists(f"/svc/{name}")).ephemeral_owner  # type: ignore[union-attr]
            for name in view
        }
        assert owners == {zk.client_id[0]}


async def test_unregistered_is_never_restored(hosts: str) -> None:
    """A registration that was unregistered does not come back after an expiry."""
    async with Registry(hosts) as zk:
        kept = await zk.register("/", "kept:1")
        gone = await zk.register("/", "gone:1")
        await gone.unregister()
        await expire_session(zk)
        await settle(zk)
        assert sorted(await zk.get_children("/")) == ["kept:1"]
        assert kept.active and not gone.active


async def test_registration_deleted_by_another_client_comes_back(hosts: str) -> None:
    """A registration node deleted by anyone while registered is re-created."""
    async with Registry(hosts) as other, Registry(hosts) as zk:
        await zk.register("/", "victim:1")
        view = await other.children("/")
        await other.delete("/victim:1")
        await first_snapshot(view, lambda names: "victim:1" in names)
        await settle(zk)
        stat = await other.exists("/victim:1")
        assert stat is not None and stat.ephemeral_owner == zk.client_id[0]


async def test_brief_disconnect_recreates_nothing(
    fault_proxy: FaultProxy, fault_proxy_hosts: str
) -> None:
    """A disconnect the session survives re-creates nothing: same czxid, same session."""
    async with Registry(fault_proxy_hosts, session_timeout=8.0) as zk:
        await zk.register("/", "stay:1")
        before = await zk.exists("/stay:1")
        states = zk.states()
        fault_proxy.cut()
        async for change in states:
            if change.state is SessionState.SUSPENDED:
                break
        fault_proxy.heal()
        async for change in states:
            if change.state is SessionState.CONNECTED:
                break
        await settle(zk)
        after = await zk.exists("/stay:1")
        assert before is not None and after is not None
        assert after.czxid == before.czxid


async def test_views_refresh_after_expiry_only_on_change(hosts: str) -> None:
    """After an expiry every view is re-read; callbacks fire only if the state changed."""
    async with Registry(hosts) as other, Registry(hosts) as zk:
        await other.create("/same", b'{"a":1}')
        await other.create("/moved", b'{"a":1}')
        same_calls: list[dict[str, Any]] = []
        moved_calls: list[dict[str, Any]] = []
        (await zk.properties("/same"))(lambda v: same_calls.append(dict(v)))
        (await zk.properties("/moved"))(lambda v: moved_calls.append(dict(v)))
        states = zk.states()
        await expire_session(zk)
        async for change in states:
            if change.state is SessionState.EXPIRED:
                break
        await other.set("/moved", b'{"a":2}')  # while the old session is gone
        await settle(zk)
        assert same_calls == [{"a": 1}]
        assert moved_calls == [{"a": 1}, {"a": 2}]


class _ExpiresOnce:
    """A connector whose next re-attach is answered "expired" while the server keeps the old
    session alive: no server does that on demand, and it is how one of our dead sessions
    can leave a node behind."""

    def __init__(self) -> None:
        self.armed = False

    async def __call__(self, host: str, port: int, connect: Connect, **options: Any) -> Any:
        link, handshake = await Connection.open(host, port, connect, **options)
        if self.armed and connect.session_id:
            self.armed = False
            return link, Handshake(0, bytes(16), 0, False)
        return link, handshake


async def test_node_left_by_dead_session_is_replaced(
    zookeeper_hosts: str, fault_proxy: FaultProxy, fault_proxy_hosts: str
) -> None:
    """A registration node still owned by one of our dead sessions is replaced by ours."""
    expires = _ExpiresOnce()
    async with (
        Registry(zookeeper_hosts) as other,
        Registry(fault_proxy_hosts, session_timeout=10.0, connector=expires) as zk,
    ):
        reg = await zk.register("/", "dup:1")
        dead = zk.client_id[0]
        states = zk.states()
        expires.armed = True
        fault_proxy.cut()
        await until_states(states, SessionState.SUSPENDED)
        fault_proxy.heal()
        await until_states(states, SessionState.EXPIRED, SessionState.CONNECTED)
        await zk.settle()
        stat = await other.exists("/dup:1")
        assert stat is not None and stat.ephemeral_owner == zk.client_id[0] != dead
        assert reg.properties["pid"] == json.loads((await other.get("/dup:1"))[0])["pid"]
        assert reg.error is None


async def test_node_held_by_live_session_is_taken_over_when_it_goes(
    hosts: str,
) -> None:
    """A node another live session holds is watched, and taken over when it disappears."""
    async with Registry(hosts) as zk:
        reg = await zk.register("/", "contested:1")
        other = Registry(hosts)
        await other.start()
        await zk.delete("/contested:1")
        await other.create("/contested:1", b'{"other":true}', ephemeral=True)
        await settle(zk)
        stat = await zk.exists("/contested:1")
        assert stat is not None and stat.ephemeral_owner == other.client_id[0]
        gone = asyncio.Event()

        def on_change(event: WatchedEvent) -> None:
            gone.set()

        await zk.exists("/contested:1", watch=on_change)
        await other.close()
        await asyncio.wait_for(gone.wait(), 10)
        await settle(zk)
        stat = await zk.exists("/contested:1")
        assert stat is not None and stat.ephemeral_owner == zk.client_id[0]
        assert reg.active


@pytest.mark.slow
async def test_partition_longer_than_timeout(
    zookeeper_hosts: str, fault_proxy: FaultProxy, fault_proxy_hosts: str
) -> None:
    """After a partition longer than the timeout, every registration is back and views
    show what changed meanwhile."""
    async with (
        Registry(zookeeper_hosts) as other,
        Registry(fault_proxy_hosts, session_timeout=1.0) as zk,
    ):
        await other.ensure_path("/svc")
        await other.create("/conf", b'{"v":1}')
        await asyncio.gather(*(zk.register("/svc", f"h:{p}") for p in range(1, 4)))
        providers = await zk.children("/svc")
        conf = await zk.properties("/conf")
        watcher = await other.children("/svc")
        fault_proxy.stall()
        await first_snapshot(watcher, lambda names: len(names) == 0)  # the server expired us
        await other.set("/conf", b'{"v":2}')
        await other.create("/svc/newcomer:1", ephemeral=True)
        fault_proxy.heal()
        await first_snapshot(watcher, lambda names: len(names) == 4)
        await settle(zk)
        assert sorted(providers) == ["h:1", "h:2", "h:3", "newcomer:1"]
        assert conf["v"] == 2


@pytest.mark.slow
async def test_ensemble_leader_killed_loses_no_registration(
    zookeeper_ensemble: ZooKeeperEnsemble,
) -> None:
    """With the leader killed, no registration is lost and views keep updating."""
    ensemble = zookeeper_ensemble
    leader = ensemble.leader()
    async with (
        Registry(ensemble.connect_string, session_timeout=4.0) as zk,
        Registry(ensemble.connect_string, session_timeout=4.0) as other,
    ):
        await zk.ensure_path("/ens")
        regs = await asyncio.gather(*(zk.register("/ens", f"h:{p}") for p in range(1, 21)))
        view = await zk.children("/ens")
        czxids = {n: (await zk.exists(f"/ens/{n}")).czxid for n in view}  # type: ignore[union-attr]
        try:
            await asyncio.to_thread(ensemble.kill, leader)
            for _ in range(10):  # a write in flight when the leader dies fails: retry
                try:
                    await other.create("/ens/after-kill:1", ephemeral=True)
                    break
                except ConnectionLossError:
                    continue
                except NodeExistsError:
                    break
            await first_snapshot(view, lambda names: "after-kill:1" in names)
            await settle(zk)
            for name, czxid in czxids.items():
                stat = await other.exists(f"/ens/{name}")
                assert stat is not None and stat.czxid == czxid
            assert all(r.active for r in regs)
        finally:
            await asyncio.to_thread(ensemble.start, leader)


async def test_registration_waits_for_its_parent(hosts: str) -> None:
    """When a registration's parent is deleted, it is not re-created until the parent is back."""
    async with Registry(hosts) as zk:
        await zk.ensure_path("/svc/providers")
        await zk.register("/svc/providers", "p:1")
        # all at once, so the supervisor cannot put the node back in between
        await (
            zk.transaction()
            .delete("/svc/providers/p:1")
            .delete("/svc/providers")
            .delete("/svc")
            .commit()
        )
        await settle(zk)
        assert await zk.exists("/svc") is None  # the supervisor did not resurrect it
        await zk.ensure_path("/svc/providers")
        await settle(zk)
        assert await zk.get_children("/svc/providers") == ["p:1"]


async def test_session_loss_and_restoration_are_logged(
    hosts: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Session loss is logged at WARNING, restoration at INFO with counts."""
    async with Registry(hosts) as zk:
        await asyncio.gather(*(zk.register("/", f"log:{p}") for p in range(1, 4)))
        with caplog.at_level("INFO", logger="aiozkreg"):
            await expire_session(zk)
            await settle(zk)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    infos = [r.getMessage() for r in caplog.records if r.levelname == "INFO"]
    assert any(m.startswith("Session 0x") and m.endswith("expired.") for m in warnings)
    assert any(m.startswith("Restoring 3 registration node(s) in new session") for m in infos)
    assert any(m.startswith("Restored all 3 registration node(s) in") for m in infos)
