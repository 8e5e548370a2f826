"""zk.providers() and register(format=) against a real ZooKeeper."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from server_view import watch_count
from waits import first_snapshot

from aiozkreg import (
    CuratorFormat,
    NoAuthError,
    NoProvidersError,
    Provider,
    Registry,
    RegistryClosedError,
    ServerSetFormat,
    make_digest_acl,
)
from aiozkreg.testing import expire_session, settle

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
FORMATS = ["zc.zk", "curator", "serverset"]


def _addresses(snapshot: tuple[Provider, ...]) -> list[str]:
    return [p.address for p in snapshot]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# -- registering in each format --------------------------------------------------------


async def test_curator_registration_layout(registry: Registry) -> None:
    """A curator registration is an ephemeral <uuid4> child holding Curator's instance JSON."""
    await registry.ensure_path("/services/echo")
    fmt = CuratorFormat(ssl_port=8443, uri_spec="{scheme}://{address}:{port}")
    reg = await registry.register("/services/echo", "10.0.0.7:8080", format=fmt, weight=3)
    (node,) = reg.nodes
    name = node.rpartition("/")[2]
    assert UUID.match(name) and reg.format == "curator"
    data, stat = await registry.get(node)
    assert stat.ephemeral_owner == registry.client_id[0]
    document = json.loads(data)
    assert list(document) == [
        "name",
        "id",
        "address",
        "port",
        "sslPort",
        "payload",
        "registrationTimeUTC",
        "serviceType",
        "uriSpec",
    ]
    assert document["name"] == "echo" and document["id"] == name
    assert (document["address"], document["port"], document["sslPort"]) == ("10.0.0.7", 8080, 8443)
    assert document["payload"]["@class"] == "java.util.LinkedHashMap"
    assert document["payload"]["weight"] == 3 and "pid" not in document["payload"]
    assert document["serviceType"] == "DYNAMIC" and document["uriSpec"]["parts"][0] == {
        "value": "scheme",
        "variable": True,
    }
    assert "enabled" not in document
    assert reg.properties["weight"] == 3


async def test_serverset_registration_layout(registry: Registry) -> None:
    """A serverset registration is an ephemeral member_%010d child with the full member JSON."""
    await registry.ensure_path("/aurora/echo")
    fmt = ServerSetFormat(shard=4, additional_endpoints={"http": ("", 8081)})
    reg = await registry.register("/aurora/echo", "10.0.0.1:8080", format=fmt, zone="b")
    (node,) = reg.nodes
    assert re.fullmatch(r"/aurora/echo/member_[0-9]{10}", node) and reg.format == "serverset"
    data, stat = await registry.get(node)
    assert stat.ephemeral_owner == registry.client_id[0]
    document = json.loads(data)
    assert document["serviceEndpoint"] == {"host": "10.0.0.1", "port": 8080}
    assert document["additionalEndpoints"] == {"http": {"host": "10.0.0.1", "port": 8081}}
    assert document["status"] == "ALIVE" and document["shard"] == 4
    assert document["metadata"]["zone"] == "b"
    assert reg.properties["zone"] == "b"


async def test_format_errors_come_early(registry: Registry) -> None:
    """An unknown format fails at the call; a curator address without a port fails on await."""
    with pytest.raises(ValueError, match="Unknown format"):
        registry.register("/", "h:1", format="eureka")
    with pytest.raises(ValueError, match="Unknown strategy"):
        registry.providers("/", strategy="fastest")
    with pytest.raises(ValueError, match="HOST:PORT"):
        await registry.register("/", "no-port", format="curator")
    assert await registry.get_children("/") == []


async def test_curator_update_keeps_identity(registry: Registry) -> None:
    """update() rewrites a Curator payload, keeping the instance id and registration time."""
    reg = await registry.register("/", "10.0.0.7:8080", format="curator", weight=1)
    before = json.loads((await registry.get(reg.nodes[0]))[0])
    providers = await registry.providers("/")
    await reg.update(weight=5)
    after = json.loads((await registry.get(reg.nodes[0]))[0])
    assert after["id"] == before["id"]
    assert after["registrationTimeUTC"] == before["registrationTimeUTC"]
    assert after["payload"]["weight"] == 5
    snapshot = await first_snapshot(providers, lambda s: len(s) == 1 and s[0].weight == 5)
    assert snapshot[0].id == before["id"]


# -- reading ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_providers_read_each_format(registry: Registry, fmt: str) -> None:
    """providers(format=...) reads registrations made in that format, in name order."""
    await registry.ensure_path("/svc")
    for i in range(3):
        await registry.register("/svc", f"10.0.0.{i}:80", format=fmt, weight=i + 1)
    providers = await registry.providers("/svc", format=fmt)
    assert sorted(_addresses(tuple(providers))) == ["10.0.0.0:80", "10.0.0.1:80", "10.0.0.2:80"]
    assert [p.name for p in providers] == sorted(p.name for p in providers)
    assert {p.format for p in providers} == {fmt}
    assert sorted(p.weight for p in providers) == [1.0, 2.0, 3.0]
    assert len(providers) == 3 and "10.0.0.1:80" in providers


async def test_auto_detect_reads_every_format_and_skips_the_rest(registry: Registry) -> None:
    """With no format each child is detected; weight vectors and config children are skipped."""
    await registry.ensure_path("/svc")
    for i, fmt in enumerate(FORMATS):
        await registry.register("/svc", f"10.0.0.{i}:80", format=fmt)
    await registry.create("/svc/vector_0000000001", b'{"vector":[]}', ephemeral=True)
    await registry.create("/svc/config", b'{"threads":4}')
    providers = await registry.providers("/svc")
    assert sorted((p.format, p.address) for p in providers) == [
        ("curator", "10.0.0.1:80"),
        ("serverset", "10.0.0.2:80"),
        ("zc.zk", "10.0.0.0:80"),
    ]
    only = await registry.providers("/svc", format="serverset")
    assert _addresses(tuple(only)) == ["10.0.0.2:80"]


async def test_nodes_written_by_other_tools_are_read(registry: Registry) -> None:
    """A Curator instance and a ServerSet member written by other tools are discovered."""
    curator = {
        "name": "echo",
        "id": "5f6d0a3e-8f0c-4a8e-9a55-0d2f5f1b7c11",
        "address": "10.1.0.1",
        "port": 9000,
        "sslPort": None,
        "payload": {"@class": "com.example.Details", "weight": 2},
        "registrationTimeUTC": 1700000000000,
        "serviceType": "DYNAMIC",
        "uriSpec": None,
    }
    member = {
        "serviceEndpoint": {"host": "10.1.0.2", "port": 9000},
        "additionalEndpoints": {},
        "status": "ALIVE",
        "shardId": 1,
        "metadata": {"zone": "a"},
    }
    await registry.create(f"/echo/{curator['id']}", json.dumps(curator).encode(), makepath=True)
    await registry.create("/echo/member_", json.dumps(member).encode(), sequential=True)
    providers = await registry.providers("/echo")
    first, second = sorted(providers, key=lambda p: p.address)
    assert (first.format, first.weight, dict(first.properties)) == ("curator", 2.0, {"weight": 2})
    assert (second.format, second.shard, dict(second.properties)) == ("serverset", 1, {"zone": "a"})


async def test_malformed_member_is_skipped_with_a_warning(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    """A member_ child whose data is no member is logged, left out, and in ``rejected``
    with why until its data is fixed."""
    await registry.create("/member_0000000009", b"not json")
    await registry.register("/", "10.0.0.1:80", format="serverset")
    with caplog.at_level(logging.WARNING, "aiozkreg.providers"):
        providers = await registry.providers("/")
        assert _addresses(tuple(providers)) == ["10.0.0.1:80"]
    assert "Skipping provider member_0000000009" in caplog.text
    (why,) = providers.rejected.values()
    assert list(providers.rejected) == ["member_0000000009"] and isinstance(why, ValueError)
    member = {"serviceEndpoint": {"host": "10.0.0.2", "port": 80}, "status": "ALIVE"}
    await registry.set("/member_0000000009", json.dumps(member).encode())
    await first_snapshot(providers, lambda s: _addresses(s) == ["10.0.0.1:80", "10.0.0.2:80"])
    assert providers.rejected == {}


async def test_unreadable_child_is_left_out(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    """A child we may not read is logged and left out; the set keeps following the others."""
    secret = [make_digest_acl("owner", "secret")]
    await registry.create("/10.0.0.9:80", b"{}", acl=secret)
    with caplog.at_level(logging.WARNING, "aiozkreg.providers"):
        providers = await registry.providers("/")
    assert tuple(providers) == () and "Can't read provider 10.0.0.9:80" in caplog.text
    assert list(providers.rejected) == ["10.0.0.9:80"]
    assert isinstance(providers.rejected["10.0.0.9:80"], NoAuthError)
    await registry.register("/", "10.0.0.1:80")
    await first_snapshot(providers, lambda s: _addresses(s) == ["10.0.0.1:80"])
    assert caplog.text.count("Can't read provider 10.0.0.9:80") == 1  # once, not per read
    await registry.delete("/10.0.0.9:80")  # the test harness could not read it to clean up
    await registry.register("/", "10.0.0.3:80")  # the listing after the delete: it is gone
    await first_snapshot(providers, lambda s: _addresses(s) == ["10.0.0.1:80", "10.0.0.3:80"])
    assert providers.rejected == {}


async def test_many_providers(registry: Registry) -> None:
    """Five hundred providers are all read (their data fetched with many requests in flight)."""
    await registry.ensure_path("/svc")
    await asyncio.gather(
        *(registry.register("/svc", f"10.0.{i // 250}.{i % 250}:80") for i in range(500))
    )
    providers = await registry.providers("/svc")
    assert len(providers) == 500
    assert len({p.address for p in providers}) == 500


# -- keeping current -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_set_follows_providers_coming_and_going(
    registry: Registry, zookeeper_hosts: str, fmt: str
) -> None:
    """Providers registered and unregistered by another client appear and disappear."""
    await registry.ensure_path("/svc")
    providers = await registry.providers("/svc")
    assert tuple(providers) == ()
    async with Registry(zookeeper_hosts) as other:
        a = await other.register("/svc", "10.0.0.1:80", format=fmt)
        await first_snapshot(providers, lambda s: _addresses(s) == ["10.0.0.1:80"])
        await other.register("/svc", "10.0.0.2:80", format=fmt)
        await first_snapshot(providers, lambda s: len(s) == 2)
        await a.unregister()
        await first_snapshot(providers, lambda s: _addresses(s) == ["10.0.0.2:80"])
    await first_snapshot(providers, lambda s: s == ())


@pytest.mark.parametrize("fmt", FORMATS)
async def test_data_changes_are_followed(registry: Registry, fmt: str) -> None:
    """A provider's data change is seen without a change of children: enabled=false takes it out."""
    await registry.ensure_path("/svc")
    reg = await registry.register("/svc", "10.0.0.1:80", format=fmt, weight=1)
    await registry.register("/svc", "10.0.0.2:80", format=fmt)
    providers = await registry.providers("/svc")
    await reg.update(weight=4)
    await first_snapshot(
        providers, lambda s: [p.weight for p in s if p.host == "10.0.0.1"] == [4.0]
    )
    await reg.update(enabled=False)
    await first_snapshot(providers, lambda s: _addresses(s) == ["10.0.0.2:80"])
    assert len(providers.all) == 2  # still registered, just not picked
    assert {(await providers.pick()).host for _ in range(5)} == {"10.0.0.2"}
    assert reg.properties["enabled"] is False and reg.properties["weight"] in (4, "4")
    await reg.update(enabled=True)
    await first_snapshot(providers, lambda s: len(s) == 2)


@pytest.mark.parametrize(
    ("fmt", "field", "before", "off", "on"),
    [
        ("curator", "enabled", None, False, True),  # Curator's own top-level field, or none
        ("serverset", "status", "ALIVE", "STOPPING", "ALIVE"),
    ],
)
async def test_enabled_is_written_in_the_format_s_own_terms(
    registry: Registry, fmt: str, field: str, before: Any, off: Any, on: Any
) -> None:
    """update(enabled=) sets Curator's `enabled` or the ServerSet status, no payload key."""
    reg = await registry.register("/", "10.0.0.1:80", format=fmt, zone="a")
    (node,) = reg.nodes
    assert json.loads((await registry.get(node))[0]).get(field) == before
    await reg.update(enabled=False)
    document = json.loads((await registry.get(node))[0])
    assert document[field] == off
    assert "enabled" not in (document.get("payload") or {})
    assert reg.properties == {"zone": "a", "enabled": False}
    await reg.update(enabled=True)
    assert json.loads((await registry.get(node))[0])[field] == on
    assert reg.properties == {"zone": "a", "enabled": True}


@pytest.mark.parametrize("fmt", FORMATS)
async def test_registered_disabled_in_every_format(registry: Registry, fmt: str) -> None:
    """register(..., enabled=False) is listed but never picked, and its properties round-trip."""
    reg = await registry.register("/", "10.0.0.1:80", format=fmt, enabled=False)
    providers = await registry.providers("/")
    assert tuple(providers) == () and [p.enabled for p in providers.all] == [False]
    assert reg.properties["enabled"] is False
    await reg.update(enabled=True)
    await first_snapshot(providers, lambda s: _addresses(s) == ["10.0.0.1:80"])


async def test_curator_instance_with_a_host_port_id(registry: Registry) -> None:
    """A Curator instance whose id looks like HOST:PORT is read as Curator's, at its own address."""
    instance = {
        "name": "echo",
        "id": "10.0.0.1:8080",
        "address": "10.0.0.7",
        "port": 9000,
        "sslPort": None,
        "payload": None,
        "registrationTimeUTC": 1700000000000,
        "serviceType": "DYNAMIC",
        "uriSpec": None,
    }
    await registry.create("/echo/10.0.0.1:8080", json.dumps(instance).encode(), makepath=True)
    (provider,) = await registry.providers("/echo")
    assert (provider.format, provider.address, provider.id) == (
        "curator",
        "10.0.0.7:9000",
        "10.0.0.1:8080",
    )


async def test_serverset_status_other_than_alive_is_not_picked(registry: Registry) -> None:
    """A member whose status turns STOPPING leaves the set; ALIVE again brings it back."""
    member = {"serviceEndpoint": {"host": "10.0.0.1", "port": 80}, "status": "ALIVE"}
    node = await registry.create("/member_", json.dumps(member).encode(), sequential=True)
    providers = await registry.providers("/")
    assert len(providers) == 1
    await registry.set(node, json.dumps({**member, "status": "STOPPING"}).encode())
    await first_snapshot(providers, lambda s: s == ())
    assert [p.status for p in providers.all] == ["STOPPING"]
    with pytest.raises(NoProvidersError, match="1 registered, 1 disabled or not ALIVE"):
        await providers.pick()
    await registry.set(node, json.dumps(member).encode())
    await first_snapshot(providers, lambda s: len(s) == 1)


async def test_callbacks_only_on_real_changes(registry: Registry) -> None:
    """Callbacks run on changes of the available set, not on rewrites of the same data."""
    seen: list[int] = []
    providers = await registry.providers("/")
    providers(lambda view: seen.append(len(view)))
    reg = await registry.register("/", "10.0.0.1:80", format="curator", weight=1)
    await first_snapshot(providers, lambda s: len(s) == 1)
    await settle(registry)
    await reg.update(weight=1)  # the node is rewritten with the same data
    await settle(registry)
    assert seen == [0, 1]


async def test_restored_set_after_its_own_expiry(registry: Registry, zookeeper_hosts: str) -> None:
    """After its registry's session expires a provider set re-reads and follows changes again."""
    await registry.ensure_path("/svc")
    providers = await registry.providers("/svc")
    async with Registry(zookeeper_hosts) as other:
        await other.register("/svc", "10.0.0.1:80", format="serverset")
        await first_snapshot(providers, lambda s: len(s) == 1)
        await expire_session(registry)
        await settle(registry)
        assert _addresses(tuple(providers)) == ["10.0.0.1:80"]
        await other.register("/svc", "10.0.0.2:80", format="curator")
        await first_snapshot(providers, lambda s: len(s) == 2)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_registration_restored_after_expiry(
    registry: Registry, zookeeper_hosts: str, fmt: str
) -> None:
    """After an expiry the same node (same member number, same Curator id) comes back, same data."""
    await registry.ensure_path("/svc")
    reg = await registry.register("/svc", "10.0.0.9:7000", format=fmt, weight=2)
    (node,) = reg.nodes
    data, _ = await registry.get(node)
    async with Registry(zookeeper_hosts) as observer:
        providers = await observer.providers("/svc")
        (before,) = await first_snapshot(providers, lambda s: len(s) == 1)
        dead = await expire_session(registry)
        await settle(registry)
        restored, stat = await observer.get(node)
        assert restored == data
        assert stat.ephemeral_owner == registry.client_id[0] != dead
        assert await observer.get_children("/svc") == [node.rpartition("/")[2]]
        await settle(observer)
        assert tuple(providers) == (before,)


async def test_set_follows_a_repointed_symlink(registry: Registry) -> None:
    """A set opened through a symlink reads its target, and follows it when it is re-pointed."""
    await registry.ensure_path("/blue")
    await registry.ensure_path("/green")
    await registry.register("/blue", "10.0.0.1:80", format="curator")
    await registry.register("/green", "10.0.0.2:80", format="serverset")
    await registry.ln("/blue", "/live")
    providers = await registry.providers("/live")
    assert providers.real_path == "/blue" and _addresses(tuple(providers)) == ["10.0.0.1:80"]
    await registry.ln("/green", "/live")
    await first_snapshot(providers, lambda s: _addresses(s) == ["10.0.0.2:80"])
    assert providers.real_path == "/green"


# -- picking ---------------------------------------------------------------------------


async def test_pick_on_an_empty_set_raises(registry: Registry) -> None:
    """pick() with nothing registered raises NoProvidersError naming the path."""
    await registry.ensure_path("/empty")
    providers = await registry.providers("/empty")
    with pytest.raises(NoProvidersError, match="under /empty: none is registered") as caught:
        await providers.pick()
    assert caught.value.path == "/empty"


async def test_pick_waits_for_a_provider(registry: Registry) -> None:
    """pick(wait=True) returns the first provider that registers."""
    providers = await registry.providers("/")
    waiter = asyncio.create_task(providers.pick(wait=True, timeout=20))
    await settle(registry)
    assert not waiter.done()
    await registry.register("/", "10.0.0.1:80", format="curator")
    assert (await waiter).address == "10.0.0.1:80"


async def test_pick_wait_gives_up(registry: Registry) -> None:
    """pick(wait=True) raises NoProvidersError once its timeout passes."""
    providers = await registry.providers("/")
    with pytest.raises(NoProvidersError, match=r"waited 0.05 s"):
        await providers.pick(wait=True, timeout=0.05)


async def test_round_robin_over_the_live_set(registry: Registry) -> None:
    """The default strategy takes the available providers in turn."""
    for i in range(3):
        await registry.register("/", f"10.0.0.{i}:80")
    providers = await registry.providers("/")
    picks = [(await providers.pick()).address for _ in range(6)]
    assert picks == ["10.0.0.0:80", "10.0.0.1:80", "10.0.0.2:80"] * 2


async def test_sticky_moves_when_its_provider_goes(registry: Registry) -> None:
    """sticky keeps its provider until it unregisters, then moves to another."""
    regs = {f"10.0.0.{i}:80": await registry.register("/", f"10.0.0.{i}:80") for i in range(3)}
    providers = await registry.providers("/", strategy="sticky")
    first = await providers.pick()
    assert {await providers.pick() for _ in range(20)} == {first}
    await regs[first.address].unregister()
    await first_snapshot(providers, lambda s: first not in s)
    second = await providers.pick()
    assert second != first
    assert {await providers.pick() for _ in range(20)} == {second}


async def test_errors_eject_and_the_ejection_decays(registry: Registry) -> None:
    """Two noted errors eject a provider from picks until the ejection period has passed."""
    clock = FakeClock()
    for i in range(2):
        await registry.register("/", f"10.0.0.{i}:80")
    providers = await registry.providers("/", strategy="random", clock=clock)
    bad = "10.0.0.0:80"
    assert not providers.note_error(bad)
    clock.now += 10
    assert providers.note_error("10.0.0.0:80")  # by node name: the same provider
    assert providers.ejected == {bad}
    assert len(providers) == 2  # still in the set: ejection only affects picks
    assert {(await providers.pick()).address for _ in range(50)} == {"10.0.0.1:80"}
    clock.now += 30
    assert providers.ejected == frozenset()
    assert {(await providers.pick()).address for _ in range(50)} == {bad, "10.0.0.1:80"}


async def test_everything_ejected_raises_and_says_why(registry: Registry) -> None:
    """With every provider ejected pick() raises, saying how many are ejected."""
    clock = FakeClock()
    reg = await registry.register("/", "10.0.0.1:80")
    providers = await registry.providers("/", error_threshold=1, ejection=5, clock=clock)
    assert providers.note_error(await providers.pick())
    with pytest.raises(NoProvidersError, match="1 registered, 1 ejected after errors"):
        await providers.pick()
    clock.now += 5
    assert (await providers.pick()).name == reg.nodes[0].rpartition("/")[2]


async def test_leases_count_outstanding_requests(registry: Registry) -> None:
    """Leases count outstanding work per provider, released on exit, even on cancellation."""
    await registry.register("/", "10.0.0.1:80")
    providers = await registry.providers("/")
    async with providers.lease() as provider:
        assert providers.outstanding(provider) == 1
        async with providers.lease(provider):
            assert providers.outstanding("10.0.0.1:80") == 2
        assert providers.outstanding(provider) == 1
    assert providers.outstanding(provider) == 0
    held = asyncio.Event()

    async def hold() -> None:
        async with providers.lease():
            held.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(hold())
    await held.wait()
    assert providers.outstanding(provider) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert providers.outstanding(provider) == 0


async def test_p2c_avoids_the_busy_provider(registry: Registry) -> None:
    """With p2c, a provider holding a lease is passed over for the idle one."""
    for i in range(2):
        await registry.register("/", f"10.0.0.{i}:80")
    providers = await registry.providers("/", strategy="p2c")
    busy = await providers.pick()
    async with providers.lease(busy):
        others = {(await providers.pick()).address for _ in range(20)}
    assert busy.address not in others and len(others) == 1


# -- lifecycle -------------------------------------------------------------------------


async def test_close_ends_iteration_and_releases_the_watches(
    registry: Registry, zookeeper_hosts: str
) -> None:
    """Closing ends iterators, removes every watch it set, and pick() then raises."""
    await registry.ensure_path("/svc")
    async with Registry(zookeeper_hosts) as other:  # its supervisor's watches are not ours
        for i in range(3):
            await other.register("/svc", f"10.0.0.{i}:80", format="serverset")
        await settle(other)
        baseline = watch_count(registry)  # the server's count: all sessions
        async with registry.providers("/svc") as providers:
            assert watch_count(registry) == baseline + 4  # the path and each child
            ended = asyncio.create_task(first_snapshot(providers, lambda s: False))
            await settle(registry)
        with pytest.raises(AssertionError, match="ended first"):
            await ended
        await settle(registry)  # the watch removals are answered
        assert watch_count(registry) == baseline
        with pytest.raises(RegistryClosedError, match="provider set of /svc is closed"):
            await providers.pick()


async def test_sets_of_one_path_share_one_source(registry: Registry) -> None:
    """Provider sets of one path share a single watched read, whatever their format or strategy."""
    await registry.register("/", "10.0.0.1:80")
    await settle(registry)
    baseline = watch_count(registry)
    a = await registry.providers("/")
    b = await registry.providers("/", format="zc.zk", strategy="random")
    # one child watch; the provider's data watch is the one the supervisor already holds
    assert watch_count(registry) == baseline + 1
    assert list(a) == list(b)
    await a.close()
    assert len(b) == 1


async def test_deleted_path_ends_the_set(registry: Registry) -> None:
    """When the service node is deleted the set ends and pick() says so."""
    await registry.ensure_path("/gone")
    providers = await registry.providers("/gone")
    await registry.delete("/gone")
    async with asyncio.timeout(20):
        async for _ in providers:
            pass
    assert providers.deleted
    with pytest.raises(NoProvidersError, match="the node was deleted"):
        await providers.pick(wait=True, timeout=5)


async def test_registry_close_closes_the_set(zookeeper_hosts: str) -> None:
    """A set outlives nothing: closing its registry closes it."""
    async with Registry(zookeeper_hosts) as zk:
        providers = await zk.providers("/")
    assert providers.closed
    with pytest.raises(RegistryClosedError):
        await providers.pick()


async def test_providers_of_a_missing_path(registry: Registry) -> None:
    """Opening the set of a missing path raises NoNodeError, like every view."""
    from aiozkreg import NoNodeError

    with pytest.raises(NoNodeError):
        await registry.providers("/nowhere")


def _doc_example(hosts: str) -> str:
    text = (Path(__file__).resolve().parent.parent / "docs" / "discovery.md").read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S)
    assert block is not None
    return block.group(1).replace('"127.0.0.1:2181"', repr(hosts))


async def test_discovery_doc_example_runs(zookeeper_hosts: str) -> None:
    """docs/discovery.md's example registers two Curator providers under one path, finds both."""
    source = _doc_example(zookeeper_hosts)
    printed: list[str] = []
    namespace: dict[str, Any] = {"print": lambda *a: printed.append(" ".join(map(str, a)))}
    exec(compile(source.replace("asyncio.run(main())", ""), "docs/discovery.md", "exec"), namespace)
    await namespace["main"]()
    assert printed == ["[('curator', '10.0.0.1:8080', 3.0), ('curator', '10.0.0.2:8080', 1.0)]"]
