"""Registrations others can trust: updates in place, refusals that surface and back off,
force delete that ends our own registrations; on the real server and the in-memory one."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator

import pytest
from waits import first_snapshot, until_states

from aiozkreg import (
    ACL,
    OPEN_ACL_UNSAFE,
    NoAuthError,
    NoNodeError,
    Perm,
    Registry,
    SessionState,
    make_digest_acl,
)
from aiozkreg.testing import FaultProxy, expire_session, settle


class _Records(logging.Handler):
    """Collects ``aiozkreg.supervisor`` records and wakes waiters on each one."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.changed.set()

    async def until(self, predicate: object, timeout: float = 20) -> None:
        async with asyncio.timeout(timeout):
            while not any(predicate(r) for r in self.records):  # type: ignore[operator]
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
def supervisor_log() -> Iterator[_Records]:
    handler = _Records()
    logger = logging.getLogger("aiozkreg.supervisor")
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


async def test_update_rewrites_the_node_in_place(hosts: str) -> None:
    """update() is a setData: same node (czxid), and a watcher never sees it missing."""
    async with Registry(hosts) as zk, Registry(hosts) as other:
        await zk.ensure_path("/svc")
        reg = await zk.register("/svc", "10.0.0.1:80", n=0)
        node = reg.nodes[0]
        first = await other.exists(node)
        assert first is not None
        seen: list[tuple[str, ...]] = []
        names = await other.children("/svc")
        names(lambda view: seen.append(tuple(view)))
        data = await other.properties(node)
        for n in range(1, 11):
            await reg.update(n=n)
        await first_snapshot(data, lambda snap: snap.get("n") == 10)
        await settle(other)
        stat = await other.exists(node)
        assert stat is not None and stat.czxid == first.czxid and stat.version == 10
        assert seen == [("10.0.0.1:80",)]  # never gone, never back
        assert json.loads((await other.get(node))[0])["n"] == 10


async def test_registration_stays_read_only_to_others_and_ours_to_rewrite(
    zookeeper_hosts: str, fault_proxy: FaultProxy, fault_proxy_hosts: str
) -> None:
    """Others cannot write our registration; we can, after a reconnect and after an expiry."""
    async with (
        Registry(fault_proxy_hosts, session_timeout=4) as zk,
        Registry(zookeeper_hosts) as other,
    ):
        reg = await zk.register("/", "10.0.0.1:80", n=0)
        node = reg.nodes[0]
        with pytest.raises(NoAuthError):
            await other.set(node, b"{}")
        session = zk.client_id[0]
        states = zk.states()
        fault_proxy.cut()  # the link drops; the same session re-attaches
        await until_states(states, SessionState.SUSPENDED)
        fault_proxy.heal()
        await until_states(states, SessionState.CONNECTED)
        await reg.update(n=1)
        assert zk.client_id[0] == session
        await expire_session(zk, hosts=zookeeper_hosts)
        await settle(zk)
        await reg.update(n=2)
        stat = await other.exists(node)
        assert stat is not None and stat.ephemeral_owner == zk.client_id[0] != session
        assert json.loads((await other.get(node))[0])["n"] == 2
        with pytest.raises(NoAuthError):
            await other.set(node, b"{}")
        acl, _ = await other.get_acls(node)
        assert ACL(Perm.READ, "world", "anyone") in acl


async def test_update_while_restoring_is_written_by_the_restore(hosts: str) -> None:
    """An update made while the node is gone is what the re-created node holds."""
    async with Registry(hosts) as zk, Registry(hosts) as other:
        reg = await zk.register("/", "10.0.0.1:80", n=0)
        await other.delete(reg.nodes[0])  # the supervisor re-creates it
        await reg.update(n=1)
        await settle(zk)
        assert json.loads((await other.get(reg.nodes[0]))[0])["n"] == 1
        assert reg.error is None


async def test_refused_restore_backs_off_surfaces_and_recovers(
    hosts: str, supervisor_log: _Records
) -> None:
    """Restores the server refuses set reg.error, are logged once, retried by one node of
    the parent with growing delays (no spinning), and succeed once the ACL allows again."""
    async with (
        Registry(hosts, auth=[("digest", "admin:secret")]) as admin,
        Registry(hosts) as zk,
    ):
        await admin.create("/svc")
        regs = [await zk.register("/svc", f"10.0.0.1:{port}") for port in range(1, 6)]
        providers = await admin.children("/svc")
        await admin.set_acls(
            "/svc", [ACL(Perm.READ, "world", "anyone"), make_digest_acl("admin", "secret")]
        )
        try:
            await expire_session(zk)
            await first_snapshot(providers, lambda names: not names)

            def refusal(record: logging.LogRecord) -> bool:
                message = record.getMessage()
                return record.levelno == logging.WARNING and message.startswith("ZooKeeper refused")

            await supervisor_log.until(refusal)
            began = asyncio.get_running_loop().time()

            def retry(number: int) -> object:
                return lambda r: r.getMessage().endswith(f"(attempt {number} refused).")

            await supervisor_log.until(retry(4))
            elapsed = asyncio.get_running_loop().time() - began
            # four waits of 0.1, 0.2, 0.4, 0.8 s, less at most 20 % jitter: no spinning
            assert elapsed >= 0.8 * (0.1 + 0.2 + 0.4)
            retries = [r for r in supervisor_log.records if r.getMessage().startswith("Retrying")]
            assert len(retries) == 4  # one node probes for the parent; the others wait
            assert sum(1 for r in supervisor_log.records if refusal(r)) == len(regs)  # once each
            assert all(reg.active and isinstance(reg.error, NoAuthError) for reg in regs)
        finally:
            await admin.set_acls("/svc", OPEN_ACL_UNSAFE)
        await first_snapshot(providers, lambda names: len(names) == len(regs))
        await settle(zk)
        assert all(reg.error is None for reg in regs)
        assert any("is back after" in r.getMessage() for r in supervisor_log.records)


async def test_restore_summary_says_what_was_not_restored(
    hosts: str, supervisor_log: _Records
) -> None:
    """After an expiry the summary counts nodes held by others instead of saying 'all'."""
    async with Registry(hosts) as zk, Registry(hosts) as other:
        await zk.ensure_path("/svc")
        mine = await zk.register("/svc", "10.0.0.1:1")
        contested = await zk.register("/svc", "10.0.0.1:2")
        view = await other.children("/svc")
        dead = zk.client_id[0]
        await expire_session(zk)
        await first_snapshot(view, lambda names: "10.0.0.1:1" not in names)
        await other.create("/svc/10.0.0.1:2", b"{}", ephemeral=True)  # before we restore it
        await supervisor_log.until(lambda r: r.getMessage().startswith("Restored 1 of 2"))
        assert zk.client_id[0] != dead
        assert mine.error is None
        assert contested.error is not None and "held by another session" in str(contested.error)
        assert not any(r.getMessage().startswith("Restored all") for r in supervisor_log.records)


async def test_force_delete_ends_our_own_registrations(hosts: str) -> None:
    """delete_recursive(force=True) over our live registrations ends them: none comes back."""
    async with Registry(hosts) as zk:
        for round_ in range(5):
            await zk.ensure_path("/svc/providers")
            regs = [await zk.register("/svc/providers", f"10.0.0.1:{p}") for p in range(1, 21)]
            await zk.delete_recursive("/svc", force=True)  # no NotEmptyError from a restore
            assert not any(reg.active for reg in regs), round_
            await settle(zk)
            assert await zk.exists("/svc") is None
            assert zk.registrations == []


async def test_force_delete_leaves_other_registries_registrations_to_their_owners(
    hosts: str,
) -> None:
    """Another registry's registration under a force-deleted path waits for its parent
    (reg.error says so) and is back once the parent is."""
    async with Registry(hosts) as zk, Registry(hosts) as other:
        await zk.ensure_path("/svc/providers")
        theirs = await other.register("/svc/providers", "10.0.0.2:80")
        await zk.delete_recursive("/svc", force=True)
        await settle(other)
        assert theirs.active and isinstance(theirs.error, NoNodeError)
        assert "/svc/providers" in str(theirs.error)
        await zk.ensure_path("/svc/providers")
        await settle(other)
        assert theirs.error is None
        assert await zk.get_children("/svc/providers") == ["10.0.0.2:80"]
