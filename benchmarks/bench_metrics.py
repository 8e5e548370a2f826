"""Issue 13: what metrics cost on the request path.

``metrics``
    The same requests through three registries, back to back in each round
    (the order rotating): one not instrumented (``zk.metrics()``'s counters
    are always kept, so this is "metrics off" as users can have it); one
    instrumented with ``aiozkreg.otel.instrument(zk)`` while no SDK is
    configured (OpenTelemetry's API alone: its global proxy provider); one
    instrumented with the SDK (a ``MeterProvider`` with an in-memory reader,
    collected once after each measurement, inside the measured CPU time,
    far more often than a real exporter's 60 s). For each: creates and
    get_data all in flight, and get_data one at a time, the client's CPU per
    request (``time.process_time``).

``metrics-observer``
    What the latency observer (the sampler and the SDK's ``record()``)
    costs per request in isolation, at 100, 1,000 and 30,000 requests a
    second of one operation: the part of the difference above that does not
    drown in the machine's noise.

Goal: the SDK-instrumented registry's CPU per request within 5 % of the
uninstrumented one's.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from _bench import Benchmark, Comparison, Context, Measurement, quiet
from _common import Rows
from clients import RegistryClient
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from aiozkreg.otel import DURATION_BUCKETS, _Latency, instrument

ORDER = 12
SECTION = "Metrics: CPU per request, instrumented or not"
OFF = "metrics off"
API = "otel API, no SDK"
SDK = "otel SDK"
VALUE = b"v" * 32
TARGET = 1 / 1.05  # at most 5 % more CPU per request


class _Instrumented(RegistryClient):
    """A registry reported through OpenTelemetry (``reader`` None: the API alone)."""

    def __init__(self, name: str, with_sdk: bool) -> None:
        self.name = name
        self.reader = InMemoryMetricReader() if with_sdk else None
        self.provider = MeterProvider(metric_readers=[self.reader]) if self.reader else None

    async def start(self, address: str) -> None:
        await super().start(address)
        instrument(self.registry, self.provider)

    def collect(self) -> None:
        if self.reader is not None:
            self.reader.get_metrics_data()

    async def close(self) -> None:
        await super().close()
        if self.provider is not None:
            self.provider.shutdown()


class _Plain(RegistryClient):
    name = OFF

    def collect(self) -> None:
        return None


Client = _Plain | _Instrumented


async def _cpu(client: Client, work: Callable[[], Awaitable[Any]]) -> float:
    """The process's CPU time for ``work`` and one collection after it (s)."""
    quiet()
    cpu = time.process_time()
    await work()
    client.collect()
    return time.process_time() - cpu


async def _round(ctx: Context, client: Client, rows: Rows, n: int, sequential: int) -> None:
    parent = ctx.fresh_path("metrics")
    await client.make_parent(parent)
    paths = [f"{parent}/n{i:05d}" for i in range(n)]
    seconds = await _cpu(client, lambda: client.create_in_flight(paths, VALUE))
    rows.add(f"{n:,} creates, all in flight", "µs", "lower", client.name, seconds / n * 1e6)
    seconds = await _cpu(client, lambda: client.get_in_flight(paths))
    rows.add(f"{n:,} get_data, all in flight", "µs", "lower", client.name, seconds / n * 1e6)
    seconds = await _cpu(client, lambda: client.get_sequential(paths[:sequential]))
    per = seconds / sequential * 1e6
    rows.add(f"{sequential:,} get_data, one at a time", "µs", "lower", client.name, per)


async def run(ctx: Context) -> list[Measurement]:
    n, sequential = ctx.scale(3000, 300), ctx.scale(500, 100)
    rows = Rows(SECTION)
    clients: list[Client] = [_Plain(), _Instrumented(API, False), _Instrumented(SDK, True)]
    try:
        for client in clients:
            await client.start(ctx.address)
        for client in clients:  # warm up, unrecorded
            await _round(ctx, client, Rows("warm-up"), n, sequential)
        for round_ in range(ctx.rounds):
            shift = round_ % len(clients)
            for client in clients[shift:] + clients[:shift]:
                await _round(ctx, client, rows, n, sequential)
    finally:
        for client in clients:
            await client.close()
    return rows.measurements([OFF, API, SDK])


OBSERVER = "Metrics: the latency observer alone"


def _observer_cost(rate: int, n: int) -> float:
    """µs per request the SDK-backed latency observer costs at ``rate`` requests a second
    of one operation (the clock advanced by hand, so the sampler sees that rate)."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    try:
        histogram = provider.get_meter("bench").create_histogram(
            "d", unit="s", explicit_bucket_boundaries_advisory=DURATION_BUCKETS
        )
        now = 0.0

        def clock() -> float:
            nonlocal now
            now += 1 / rate
            return now

        observer = _Latency(histogram, {"aiozkreg.hosts": "bench"}, 100, clock)
        quiet()
        cpu = time.process_time()
        for _ in range(n):
            observer(4, 0.001, False)
        return (time.process_time() - cpu) / n * 1e6
    finally:
        provider.shutdown()


async def run_observer(ctx: Context) -> list[Measurement]:
    rows = Rows(OBSERVER)
    n = ctx.scale(200_000, 20_000)
    for _ in range(ctx.rounds):
        for rate in (100, 1_000, 30_000):
            per = _observer_cost(rate, n)
            rows.add(f"one operation at {rate:,} requests/s", "µs/request", "lower", SDK, per)
    return rows.measurements([SDK])


BENCHMARKS = [
    Benchmark(
        name="metrics",
        section=SECTION,
        description="Client CPU per request: not instrumented, OpenTelemetry API alone, SDK.",
        run=run,
        comparisons=(Comparison(SDK, OFF, {"": TARGET}), Comparison(API, OFF, {"": TARGET})),
    ),
    Benchmark(
        name="metrics-observer",
        section=OBSERVER,
        description="CPU the SDK-backed latency observer adds per request, by request rate.",
        run=run_observer,
    ),
]
