"""Fresh on open: a view opened after this registry's write shows it, on the real server
and the in-memory one; a deleted or failed source is never handed out again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from waits import first_snapshot

from aiozkreg import (
    ACL,
    NoAuthError,
    Perm,
    Registry,
    make_digest_acl,
)
from aiozkreg.testing import FaultProxy, expire_session, settle

ROUNDS = 20


@pytest.fixture
async def zk(hosts: str) -> AsyncIterator[Registry]:
    async with Registry(hosts) as registry:
        await registry.create("/cfg", b'{"n": 0}')
        yield registry


async def test_properties_opened_after_set_show_it(zk: Registry) -> None:
    """With a view of /cfg open, set() then properties() gives the new value, every time."""
    async with zk.properties("/cfg"):
        for n in range(1, ROUNDS + 1):
            await zk.set("/cfg", json.dumps({"n": n}).encode())
            async with zk.properties("/cfg") as fresh:
                assert fresh["n"] == n


async def test_children_opened_after_create_show_it(zk: Registry) -> None:
    """With a view of /cfg's children open, create() then children() lists the new child."""
    async with zk.children("/cfg"):
        for n in range(ROUNDS):
            await zk.create(f"/cfg/c{n:02}")
            async with zk.children("/cfg") as fresh:
                assert f"c{n:02}" in fresh and len(fresh) == n + 1


async def test_providers_opened_after_register_show_it(zk: Registry) -> None:
    """With a provider set open, register() then providers() includes the new provider."""
    async with zk.providers("/cfg"):
        for n in range(1, 6):
            await zk.register("/cfg", f"10.0.0.1:{8000 + n}")
            async with zk.providers("/cfg") as fresh:
                assert f"10.0.0.1:{8000 + n}" in fresh and len(fresh) == n


async def test_property_link_target_write_is_seen_by_a_new_view(zk: Registry) -> None:
    """A write to the node a property link points at shows in a view opened after it."""
    await zk.create("/shared", b'{"threads": 1}')
    await zk.set("/cfg", json.dumps({"threads =>": "/shared"}).encode())
    async with zk.properties("/cfg") as first:
        assert first["threads"] == 1
        await zk.set("/shared", b'{"threads": 2}')
        async with zk.properties("/cfg") as fresh:
            assert fresh["threads"] == 2


async def test_node_deleted_and_created_again_gets_a_fresh_source(zk: Registry) -> None:
    """A view whose node was deleted is not shared: a new view after re-create shows the node."""
    old = await zk.properties("/cfg")
    await zk.delete("/cfg")
    await settle(zk)
    assert old.deleted and dict(old) == {}
    await zk.create("/cfg", b'{"n": "again"}')
    fresh = await zk.properties("/cfg")
    assert not fresh.deleted and dict(fresh) == {"n": "again"}
    assert old.deleted  # the old view stays ended
    await zk.set("/cfg", b'{"n": "later"}')
    await first_snapshot(fresh, lambda snap: snap.get("n") == "later")


async def test_quick_delete_and_create_is_seen_by_a_new_view(zk: Registry) -> None:
    """Delete and re-create with a view open: a view opened after shows the new data."""
    async with zk.properties("/cfg"), zk.children("/cfg"):
        for n in range(ROUNDS):
            await zk.delete("/cfg")
            await zk.create("/cfg", json.dumps({"n": n}).encode())
            await zk.create("/cfg/kid")
            async with zk.properties("/cfg") as fresh, zk.children("/cfg") as kids:
                assert fresh["n"] == n and not fresh.deleted
                assert list(kids) == ["kid"] and not kids.deleted
            await zk.delete("/cfg/kid")


async def test_clean_shared_view_opens_without_a_round_trip(zookeeper_hosts: str) -> None:
    """A second view of a watched path with nothing pending opens while the link is stalled."""
    server, chroot = zookeeper_hosts.split("/", 1)
    host, port = server.rsplit(":", 1)
    async with (
        FaultProxy(host, int(port)) as proxy,
        Registry(f"{proxy.address}/{chroot}", session_timeout=10) as zk,
    ):
        await zk.create("/cfg", b'{"n": 1}')
        async with zk.properties("/cfg"), zk.children("/cfg"):
            await settle(zk)
            proxy.stall()
            try:
                async with asyncio.timeout(3):
                    again = await zk.properties("/cfg")
                    kids = await zk.children("/cfg")
            finally:
                proxy.heal()
            assert again["n"] == 1 and list(kids) == []


async def _forbid_reading(owner: Registry, path: str) -> None:
    """Give ``path`` an ACL that only the digest user ``admin`` may read."""
    await owner.set_acls(path, [make_digest_acl("admin", "secret", Perm.ALL)])


async def test_view_refused_by_acl_ends_with_the_error(hosts: str) -> None:
    """A view whose re-read (after an expiry) gets NoAuthError exposes it, raises it
    from its iterators, and calls its callbacks a last time."""
    async with (
        Registry(hosts, auth=[("digest", "admin:secret")]) as admin,
        Registry(hosts) as zk,
    ):
        await admin.create("/secret", b'{"v": 1}')
        try:
            view = await zk.properties("/secret")
            kids = await zk.children("/secret")
            calls: list[Exception | None] = []
            view(lambda v: calls.append(v.error))
            snapshots = aiter(view)
            assert dict(await anext(snapshots)) == {"v": 1}
            await _forbid_reading(admin, "/secret")
            await expire_session(zk)  # every view re-reads in the new session: refused
            async with asyncio.timeout(10):
                with pytest.raises(NoAuthError):
                    await anext(snapshots)
                with pytest.raises(NoAuthError):
                    async for _ in kids:
                        pass
            assert isinstance(view.error, NoAuthError) and isinstance(kids.error, NoAuthError)
            assert calls[0] is None and isinstance(calls[-1], NoAuthError)
            assert dict(view) == {"v": 1}  # the last state it read
            with pytest.raises(NoAuthError):
                await zk.properties("/secret")  # a new view is not handed the failed source
        finally:
            await admin.set_acls("/secret", [ACL(Perm.ALL, "world", "anyone")])
        await admin.set("/secret", b'{"v": 2}')
        again = await zk.properties("/secret")
        assert again["v"] == 2 and again.error is None


async def test_provider_set_refused_by_acl_raises_from_pick(hosts: str) -> None:
    """A provider set that can no longer read its path raises the refusal from pick()."""
    async with (
        Registry(hosts, auth=[("digest", "admin:secret")]) as admin,
        Registry(hosts) as zk,
    ):
        await admin.create("/svc")
        await admin.register("/svc", "10.0.0.1:80")
        try:
            providers = await zk.providers("/svc")
            assert (await providers.pick()).address == "10.0.0.1:80"
            await _forbid_reading(admin, "/svc")
            await expire_session(zk)
            async with asyncio.timeout(10):
                with pytest.raises(NoAuthError):
                    async for _ in providers:
                        pass
            assert isinstance(providers.error, NoAuthError)
            with pytest.raises(NoAuthError):
                await providers.pick()
        finally:
            await admin.set_acls("/svc", [ACL(Perm.ALL, "world", "anyone")])
