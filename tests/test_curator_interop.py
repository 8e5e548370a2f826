"""Interop with Apache Curator 5.4's own x-discovery client (Java), against a real ZooKeeper.

Curator runs as a subprocess (tests/java/CuratorProbe.java, see
tests/curator_probe.py) on the same chrooted connect string as the test's
registry. Skipped, with the reason, only where Java or Curator's jars are
missing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from curator_probe import CuratorProbe, ProbeError, compile_probe, unavailable
from waits import first_snapshot

from aiozkreg import CuratorFormat, Provider, Registry

BASE = "/services"
SERVICE = "/services/echo"
URI_SPEC = "{scheme}://{address}:{port}"


@pytest.fixture(scope="session")
def curator_classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compiled probe, once per session; skips where Java or Curator is missing."""
    reason = unavailable()
    if reason is not None:
        pytest.skip(f"Curator interop needs Java and Curator: {reason}.")
    return compile_probe(tmp_path_factory.mktemp("curator-probe"))


@pytest_asyncio.fixture
async def curator(
    curator_classes: Path, zookeeper_hosts: str, tmp_path: Path
) -> AsyncIterator[CuratorProbe]:
    """Curator's client connected to this test's chroot."""
    async with CuratorProbe(curator_classes, zookeeper_hosts, tmp_path / "probe.err") as probe:
        yield probe


def _node_document(data: bytes) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(data)
    return document


# -- Curator reads what aiozkreg writes ------------------------------------------------


async def test_curator_reads_our_registration_field_by_field(
    registry: Registry, curator: CuratorProbe
) -> None:
    """Curator's ServiceDiscovery<Map> reads every field of an aiozkreg Curator registration."""
    await registry.ensure_path(SERVICE)
    fmt = CuratorFormat(ssl_port=8443, uri_spec=URI_SPEC)
    reg = await registry.register(SERVICE, "10.0.0.7:8080", format=fmt, weight=3, zone="eu-1")
    plain = await registry.register(SERVICE, "10.0.0.8:8080", format="curator")
    ids = {reg.nodes[0].rpartition("/")[2]: reg, plain.nodes[0].rpartition("/")[2]: plain}
    instances = {i["id"]: i for i in await curator.query(BASE, "echo", "map")}
    assert instances.keys() == ids.keys()
    for ident, registration in ids.items():
        assert instances[ident]["registrationTimeUTC"] == registration.announcement.time_ms
    full = instances[reg.nodes[0].rpartition("/")[2]]
    assert full == {
        "name": "echo",
        "id": reg.nodes[0].rpartition("/")[2],
        "address": "10.0.0.7",
        "port": 8080,
        "sslPort": 8443,
        "payload": {"weight": 3, "zone": "eu-1"},
        "payloadClass": "java.util.LinkedHashMap",
        "registrationTimeUTC": reg.announcement.time_ms,
        "serviceType": "DYNAMIC",
        "uriSpec": [
            {"value": "scheme", "variable": True},
            {"value": "://", "variable": False},
            {"value": "address", "variable": True},
            {"value": ":", "variable": False},
            {"value": "port", "variable": True},
        ],
        "uri": "https://10.0.0.7:8080",  # Curator fills the template (https: an sslPort is set)
        "enabled": True,
    }
    bare = instances[plain.nodes[0].rpartition("/")[2]]
    assert (bare["address"], bare["port"], bare["sslPort"]) == ("10.0.0.8", 8080, None)
    assert (bare["payload"], bare["uriSpec"], bare["enabled"]) == (None, None, True)


async def test_curator_sees_enabled_false_after_update(
    registry: Registry, curator: CuratorProbe
) -> None:
    """reg.update(enabled=False) makes Curator's isEnabled() false; enabled=True makes it true."""
    await registry.ensure_path(SERVICE)
    reg = await registry.register(SERVICE, "10.0.0.7:8080", format="curator", weight=3)
    await reg.update(enabled=False)
    (instance,) = await curator.query(BASE, "echo")
    assert instance["enabled"] is False
    assert instance["payload"] == {"weight": 3}  # the flag is not a payload key
    await reg.update(enabled=True)
    (instance,) = await curator.query(BASE, "echo")
    assert instance["enabled"] is True and instance["payload"] == {"weight": 3}


async def test_curator_sees_enabled_false_when_registered_disabled(
    registry: Registry, curator: CuratorProbe
) -> None:
    """register(..., enabled=False) is an instance Curator reports as not enabled, payload null."""
    await registry.ensure_path(SERVICE)
    await registry.register(SERVICE, "10.0.0.7:8080", format="curator", enabled=False)
    (instance,) = await curator.query(BASE, "echo", "void")
    assert (instance["enabled"], instance["payload"]) == (False, None)


@pytest.mark.parametrize("payload", ["void", "string", "map"])
async def test_no_properties_is_readable_by_every_payload_type(
    registry: Registry, curator: CuratorProbe, payload: str
) -> None:
    """No properties, payload null: ServiceDiscovery<Void>, <String> and <Map> all read it."""
    await registry.ensure_path(SERVICE)
    await registry.register(SERVICE, "10.0.0.7:8080", format="curator")
    (instance,) = await curator.query(BASE, "echo", payload)
    assert (instance["address"], instance["port"], instance["payload"]) == ("10.0.0.7", 8080, None)


async def test_object_payload_fails_clients_typed_void(
    registry: Registry, curator: CuratorProbe
) -> None:
    """An object payload fails a ServiceDiscovery<Void> for the whole service (why null matters)."""
    await registry.ensure_path(SERVICE)
    await registry.register(SERVICE, "10.0.0.7:8080", format="curator")
    await registry.register(SERVICE, "10.0.0.8:8080", format="curator", weight=2)
    with pytest.raises(ProbeError) as caught:
        await curator.query(BASE, "echo", "void")
    assert caught.value.type == "java.lang.ClassCastException"


async def test_service_cache_keeps_the_instance_through_updates(
    registry: Registry, curator: CuratorProbe
) -> None:
    """A live Curator ServiceCache never sees the instance list go empty while reg.update() runs."""
    await registry.ensure_path(SERVICE)
    reg = await registry.register(SERVICE, "10.0.0.7:8080", format="curator", weight=0)
    ident = reg.nodes[0].rpartition("/")[2]
    seen = [await curator.cache(BASE, "echo")]
    assert [i["id"] for i in seen[0]] == [ident]
    changes: list[dict[str, Any]] = [{"weight": n} for n in range(1, 6)]
    changes[2:2] = [{"enabled": False}, {"enabled": True}]
    for change in changes:
        await reg.update(**change)
        wanted = {**reg.properties}
        while True:  # every CACHE line up to the one that shows this update
            instances = await curator.expect("CACHE")
            seen.append(instances)
            assert [i["id"] for i in instances] == [ident], f"the cache saw {seen}"
            (instance,) = instances
            state = {**(instance["payload"] or {})}
            if "enabled" in wanted:
                state["enabled"] = instance["enabled"]
            if state == wanted:
                break
    assert all(len(instances) == 1 for instances in seen)


async def test_mixed_layouts_break_curator_readers(
    registry: Registry, curator: CuratorProbe
) -> None:
    """A zc.zk node among Curator's is an address-less instance; empty data fails the query."""
    await registry.ensure_path(SERVICE)
    await registry.register(SERVICE, "10.0.0.7:8080", format="curator")
    await registry.register(SERVICE, "10.0.0.1:8080", weight=3)  # zc.zk
    instances = await curator.query(BASE, "echo")
    assert sorted((i["address"], i["port"]) for i in instances if i["address"]) == [
        ("10.0.0.7", 8080)
    ]
    assert [(i["address"], i["port"]) for i in instances if not i["address"]] == [(None, None)]
    await registry.create(f"{SERVICE}/10.0.0.2:8080", b"", ephemeral=True)
    with pytest.raises(ProbeError, match="No content to map"):
        await curator.query(BASE, "echo")


# -- aiozkreg reads what Curator writes ------------------------------------------------


async def test_we_read_instances_curator_registers(
    registry: Registry, curator: CuratorProbe
) -> None:
    """zk.providers() reads Curator-registered instances field by field, enabled=false included."""
    await registry.ensure_path(SERVICE)
    disabled = await curator.register(
        BASE,
        {
            "name": "echo",
            "address": "10.1.0.1",
            "port": 9000,
            "sslPort": 9443,
            "uriSpec": URI_SPEC,
            "enabled": False,
            "payload": {"weight": 2, "zone": "a b"},
        },
    )
    plain = await curator.register(BASE, {"name": "echo", "address": "10.1.0.2", "port": 9001})
    written = _node_document(disabled["data"].encode())
    assert written["enabled"] is False  # Curator's own non-compatible serializer wrote it
    for fmt in (None, "curator"):
        providers = await registry.providers(SERVICE, format=fmt)
        # only the enabled one is available; both are listed
        await first_snapshot(providers, lambda s: [p.address for p in s] == ["10.1.0.2:9001"])
        first, second = sorted(providers.all, key=lambda p: p.address)
        assert first == Provider(
            name=written["id"],
            host="10.1.0.1",
            port=9000,
            properties={"weight": 2, "zone": "a b", "enabled": False},
            weight=2.0,
            enabled=False,
            format="curator",
            id=written["id"],
            ssl_port=9443,
            uri_spec=URI_SPEC,
        )
        assert not first.available
        plain_id = plain["path"].rpartition("/")[2]
        assert (second.name, second.id, second.address) == (plain_id, plain_id, "10.1.0.2:9001")
        assert (dict(second.properties), second.ssl_port, second.uri_spec) == ({}, None, None)
        assert second.available
        await providers.close()


async def test_we_write_what_curator_writes(registry: Registry, curator: CuratorProbe) -> None:
    """For the same instance aiozkreg's Curator layout is byte for byte what Curator writes."""
    await registry.ensure_path(SERVICE)
    for spec, properties in [
        ({"port": 9000, "payload": {"weight": 2, "zone": "a"}}, {"weight": 2, "zone": "a"}),
        (
            {"port": 9000, "sslPort": 9443, "uriSpec": URI_SPEC, "enabled": False},
            {"enabled": False},
        ),
        ({"port": 9000, "payload": {"zone": "é"}, "enabled": True}, {"zone": "é", "enabled": True}),
    ]:
        registered = await curator.register(BASE, {"name": "echo", "address": "10.1.0.1", **spec})
        theirs = registered["data"].encode()
        document = _node_document(theirs)
        fmt = CuratorFormat(ssl_port=spec.get("sslPort"), uri_spec=spec.get("uriSpec"))
        announcement = fmt.announce(
            SERVICE, "10.1.0.1", 9000, id=document["id"], time_ms=document["registrationTimeUTC"]
        )
        assert announcement.encode(properties) == theirs
        assert announcement.properties(theirs) == properties
