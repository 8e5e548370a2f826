"""zk.metrics() and aiozkreg.otel.instrument(zk): what a registry counts, read directly and
through OpenTelemetry's SDK (its in-memory reader), during real reconnects and expiries."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from server_view import watch_count
from waits import first_snapshot, until_states

from aiozkreg import (
    ACL,
    OPEN_ACL_UNSAFE,
    Metrics,
    NoNodeError,
    Perm,
    Registry,
    SessionState,
    make_digest_acl,
)
from aiozkreg.otel import _Sampler, instrument
from aiozkreg.testing import FaultProxy, expire_session, settle

OPERATIONS_DOC = Path(__file__).resolve().parent.parent / "docs" / "operations.md"


@pytest.fixture
def reader() -> Iterator[tuple[InMemoryMetricReader, MeterProvider]]:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    yield reader, provider
    provider.shutdown()


def _points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    """Each metric's data points, by metric name, as the SDK collected them now."""
    data = reader.get_metrics_data()
    out: dict[str, list[Any]] = {}
    if data is None:
        return out
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                out.setdefault(metric.name, []).extend(metric.data.data_points)
    return out


def _value(points: dict[str, list[Any]], name: str, **attributes: str) -> float:
    """The value of the one data point of ``name`` with ``attributes``."""
    found = [
        p.value
        for p in points.get(name, [])
        if all(p.attributes.get(k) == v for k, v in attributes.items())
    ]
    assert len(found) == 1, (name, attributes, points.get(name))
    return float(found[0])


async def test_counts_requests_and_failures_by_operation(hosts: str) -> None:
    """Each request is counted under its ZooKeeper operation; one that raised is also a
    failure (a missing node is one, a create is not). (The NoNode also sends an exists
    for the chroot, counted too.)"""
    async with Registry(hosts) as zk:
        before = zk.metrics()
        await zk.create("/m")
        await zk.set("/m", b"1")
        await zk.get("/m")
        with pytest.raises(NoNodeError):
            await zk.get("/missing")
        after = zk.metrics()
        ops = ("create", "setData", "getData")
        delta = {op: after.requests[op] - before.requests.get(op, 0) for op in ops}
        assert delta == {"create": 1, "setData": 1, "getData": 2}
        failed = {op: after.failures.get(op, 0) - before.failures.get(op, 0) for op in ops}
        assert failed == {"create": 0, "setData": 0, "getData": 1}
        assert isinstance(after, Metrics) and after.state is SessionState.CONNECTED
        assert (after.connects, after.reconnects, after.expiries) == (1, 0, 0)


async def test_gauges_follow_views_watches_and_registrations(hosts: str) -> None:
    """views, watches and live_registrations rise and fall with what the registry holds;
    watches match what the server says it holds."""
    async with Registry(hosts) as zk:
        await zk.ensure_path("/svc")
        base = zk.metrics()
        server_base = watch_count(zk)
        children = await zk.children("/svc")
        props = await zk.properties("/svc")
        reg = await zk.register("/svc", "10.0.0.1:80")
        await settle(zk)
        now = zk.metrics()
        assert now.views - base.views == 2
        assert now.live_registrations - base.live_registrations == 1
        assert now.watches - base.watches == watch_count(zk) - server_base > 0
        await children.close()
        await props.close()
        await reg.unregister()
        await settle(zk)
        end = zk.metrics()
        assert (end.views, end.live_registrations) == (base.views, base.live_registrations)


async def test_a_real_reconnect_is_counted(
    fault_proxy: FaultProxy,
    fault_proxy_hosts: str,
    reader: tuple[InMemoryMetricReader, MeterProvider],
) -> None:
    """A link cut and healed: connects 2, reconnects 1, no expiry, the state gauge back on
    CONNECTED; the same through OpenTelemetry."""
    memory, provider = reader
    async with Registry(fault_proxy_hosts, session_timeout=8.0) as zk:
        instrument(zk, provider)
        states = zk.states()
        fault_proxy.cut()
        await until_states(states, SessionState.SUSPENDED)
        assert zk.metrics().state is SessionState.SUSPENDED
        points = _points(memory)
        assert _value(points, "aiozkreg.session.state", state="suspended") == 1
        assert _value(points, "aiozkreg.session.state", state="connected") == 0
        fault_proxy.heal()
        await until_states(states, SessionState.CONNECTED)
        metrics = zk.metrics()
        assert (metrics.connects, metrics.reconnects, metrics.expiries) == (2, 1, 0)
        points = _points(memory)
        assert _value(points, "aiozkreg.connects") == 2
        assert _value(points, "aiozkreg.reconnects") == 1
        assert _value(points, "aiozkreg.session.expiries") == 0
        assert _value(points, "aiozkreg.session.state", state="connected") == 1


async def test_a_real_expiry_with_restores_is_counted(
    zookeeper_hosts: str, reader: tuple[InMemoryMetricReader, MeterProvider]
) -> None:
    """A session expired by the server: one expiry, a reconnect, and each registration
    restored counted once; through OpenTelemetry too, with the registry's attributes."""
    memory, provider = reader
    async with Registry(zookeeper_hosts) as zk, Registry(zookeeper_hosts) as observer:
        instrument(zk, provider, attributes={"service": "echo"})
        await zk.ensure_path("/svc")
        for port in range(1, 4):
            await zk.register("/svc", f"10.0.0.1:{port}")
        providers = await observer.children("/svc")
        await expire_session(zk)
        await first_snapshot(providers, lambda names: len(names) == 3)
        await settle(zk)
        metrics = zk.metrics()
        assert (metrics.expiries, metrics.restored, metrics.restore_failures) == (1, 3, 0)
        assert metrics.connects == 2 and metrics.live_registrations == 3
        points = _points(memory)
        assert _value(points, "aiozkreg.session.expiries", service="echo") == 1
        assert _value(points, "aiozkreg.registrations.restored", service="echo") == 3
        assert _value(points, "aiozkreg.registrations.live", service="echo") == 3
        assert (
            _value(points, "aiozkreg.requests", service="echo", **{"zookeeper.operation": "create"})
            == metrics.requests["create"]
        )


async def test_refused_restores_are_counted(hosts: str) -> None:
    """Restores the server refuses (the parent's ACL changed) count as restore failures;
    once allowed again the nodes are restored and counted."""
    async with (
        Registry(hosts, auth=[("digest", "admin:secret")]) as admin,
        Registry(hosts) as zk,
    ):
        await admin.create("/svc")
        reg = await zk.register("/svc", "10.0.0.1:1")
        providers = await admin.children("/svc")
        await admin.set_acls(
            "/svc", [ACL(Perm.READ, "world", "anyone"), make_digest_acl("admin", "secret")]
        )
        try:
            await expire_session(zk)
            await first_snapshot(providers, lambda names: not names)
            await settle(zk)  # the restores ran and were refused (now backing off)
            assert reg.error is not None
            assert zk.metrics().restore_failures >= 1
        finally:
            await admin.set_acls("/svc", OPEN_ACL_UNSAFE)
        await first_snapshot(providers, lambda names: len(names) == 1)
        await settle(zk)
        assert zk.metrics().restored == 1


async def test_latency_histogram_by_operation(
    hosts: str, reader: tuple[InMemoryMetricReader, MeterProvider]
) -> None:
    """Every request (below the budget) is one latency record under its operation and
    outcome; the histogram's count matches the request counter."""
    memory, provider = reader
    async with Registry(hosts) as zk:
        instrument(zk, provider, latency_budget=1000)
        await zk.create("/lat")
        for _ in range(20):
            await zk.get("/lat")
        with pytest.raises(NoNodeError):
            await zk.get("/nothing")
        points = _points(memory)["aiozkreg.request.duration"]
        by = {(p.attributes["zookeeper.operation"], p.attributes["outcome"]): p for p in points}
        assert by[("getData", "ok")].count == 20
        assert by[("getData", "error")].count == 1
        assert by[("create", "ok")].count == 1
        assert 0 < by[("getData", "ok")].sum < 20 * 10  # seconds, bounded by the timeout
        assert list(by[("getData", "ok")].explicit_bounds)[:2] == [0.0001, 0.00025]


def test_sampler_keeps_within_its_budget() -> None:
    """Below the budget every request is recorded; at 30x the budget about the budget a
    second is; a burst records about a tenth of a second's budget."""
    slow = _Sampler(1000, 0.0)
    assert sum(slow.take(i / 500) for i in range(1500)) == 1500
    fast = _Sampler(1000, 0.0)
    per_second = [0, 0, 0]
    for i in range(90_000):
        if fast.take(i / 30_000):
            per_second[i // 30_000] += 1
    assert all(900 <= n <= 1100 for n in per_second)
    burst = _Sampler(1000, 0.0)  # 3,000 at once: about a tenth of a second's budget
    assert sum(burst.take(0.0) for _ in range(3000)) <= 120


async def test_close_stops_observing_and_recording(
    hosts: str, reader: tuple[InMemoryMetricReader, MeterProvider]
) -> None:
    """After Instrumentation.close() the instruments observe nothing new and no latency is
    recorded; the registry keeps counting for zk.metrics()."""
    memory, provider = reader
    async with Registry(hosts) as zk:
        handle = instrument(zk, provider)
        await zk.exists("/")
        assert "aiozkreg.requests" in _points(memory)
        handle.close()
        handle.close()
        before = zk.metrics().requests["exists"]
        await zk.exists("/")
        points = _points(memory)
        assert not points.get("aiozkreg.requests")
        assert zk.metrics().requests["exists"] == before + 1


async def test_without_an_sdk_nothing_is_recorded(hosts: str) -> None:
    """With OpenTelemetry's no-op provider no latency observer is installed at all."""
    async with Registry(hosts) as zk:
        handle = instrument(zk, NoOpMeterProvider())
        assert not handle.records_latency
        await zk.exists("/")
        assert zk.metrics().requests["exists"] >= 1


def test_bad_budget_is_refused() -> None:
    """A latency budget below 1 is a ValueError."""
    with pytest.raises(ValueError, match="latency_budget"):
        instrument(Registry("127.0.0.1:1"), NoOpMeterProvider(), latency_budget=0)


def test_import_aiozkreg_does_not_import_opentelemetry() -> None:
    """import aiozkreg loads no OpenTelemetry module; aiozkreg.otel does."""
    code = (
        "import sys, aiozkreg\n"
        "assert not any(m.startswith('opentelemetry') for m in sys.modules), 'eager'\n"
        "import aiozkreg.otel\n"
        "assert 'opentelemetry.metrics' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_operations_doc_names_every_instrument(
    hosts: str, reader: tuple[InMemoryMetricReader, MeterProvider]
) -> None:
    """docs/operations.md's instrument table lists exactly the instruments instrument()
    makes, and its Metrics table every field of zk.metrics()."""
    memory, provider = reader
    text = OPERATIONS_DOC.read_text()
    documented = set(
        re.findall(r"^\| `(aiozkreg\.[a-z_.]+)` \| (?:observable|histogram)", text, re.M)
    )
    fields = set(re.findall(r"^\| `([a-z_]+)` \| (?:gauge|counter)", text, re.M))
    async with Registry(hosts) as zk:
        instrument(zk, provider)
        with pytest.raises(NoNodeError):
            await zk.get("/nothing")  # a failure, so that every instrument has a point
        assert set(_points(memory)) == documented
        assert fields == set(Metrics.__dataclass_fields__)
