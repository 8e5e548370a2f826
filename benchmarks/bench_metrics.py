"""Issue 13: what metrics cost on the request path.

``metrics``
    The same requests through one registry in three modes, switched batch
    by batch: no latency observer ("metrics off": ``zk.metrics()``'s
    counters are always kept); ``aiozkreg.otel.instrument(zk)`` while no
    SDK is configured (OpenTelemetry's API alone: its global proxy
    provider); instrumented with the SDK (a ``MeterProvider`` with an
    in-memory reader, collected after every batch; the collection is timed
    on its own row, as an exporter does it once a minute). Each round is one
    batch of each mode back to back, in a rotating order, so the machine's
    drift hits the three alike: get_data and set_data all in flight, and
    get_data one at a time, the process's CPU per request
    (``time.process_time``).
``metrics-observer``
    What the latency observer (the sampler and the SDK's ``record()``)
    costs per request in isolation, at 100, 1,000 and 30,000 requests a
    second of one operation (the part of the difference above that does
    not drown in the machine's noise), next to what a get_data costs the
    process at that rate without metrics: paced one at a time at 100 and
    1,000 a second (a service at that rate pays the wake-ups), all in
    flight at 30,000. The observer's work is added to the request's, on the
    same thread, so their sum is the request with metrics on.

Goal: the SDK-instrumented registry's CPU per request within 5 % of the
uninstrumented one's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from _bench import Benchmark, Comparison, Context, Measurement, quiet
from _common import Rows
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from aiozkreg import Registry
from aiozkreg._metrics import LatencyObserver
from aiozkreg.otel import DURATION_BUCKETS, _Latency, instrument

ORDER = 12
SECTION = "Metrics: CPU per request, instrumented or not"
OFF = "metrics off"
API = "otel API, no SDK"
SDK = "otel SDK"
VALUE = b"v" * 32
TARGET = 1 / 1.05  # at most 5 % more CPU per request
COLLECT = "one collection by the SDK's reader (every instrument)"


Mode = tuple[str, LatencyObserver | None, InMemoryMetricReader | None]


async def _modes(zk: Registry) -> tuple[list[Mode], MeterProvider]:
    """The three ways to run: no observer; the API's (global proxy provider, no SDK); the
    SDK's (an in-memory reader, collected after each batch)."""
    counters = zk._session.counters  # the benchmark switches observers batch by batch
    instrument(zk)  # the global provider: no SDK has been set in this process
    api = counters.latency
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    instrument(zk, provider)
    sdk = counters.latency
    return [(OFF, None, None), (API, api, None), (SDK, sdk, reader)], provider


async def _cpu(
    zk: Registry, mode: Mode, work: Callable[[], Awaitable[object]], count: int
) -> tuple[float, float]:
    """µs of the process's CPU per request for ``work`` in ``mode``; and, with the SDK, µs
    of one collection after it (timed on its own: an exporter collects once a minute)."""
    _, observer, reader = mode
    zk._session.counters.latency = observer
    quiet()
    cpu = time.process_time()
    await work()
    per_request = (time.process_time() - cpu) / count * 1e6
    collected = 0.0
    if reader is not None:
        cpu = time.process_time()
        reader.get_metrics_data()
        collected = (time.process_time() - cpu) * 1e6
    return per_request, collected


async def run(ctx: Context) -> list[Measurement]:
    """Short batches, the three modes back to back in a rotating order, many times: each
    triple is one round, so the machine's drift hits all three alike."""
    n, sequential, triples = ctx.scale(3000, 300), ctx.scale(300, 50), ctx.scale(20, 3)
    rows = Rows(SECTION)
    zk = Registry(ctx.address)
    await zk.start()
    modes, provider = await _modes(zk)
    try:
        parent = ctx.fresh_path("metrics")
        await zk.ensure_path(parent)
        paths = [f"{parent}/n{i:05d}" for i in range(n)]
        await asyncio.gather(*(zk.create(p, VALUE) for p in paths))
        work: list[tuple[str, Callable[[], Awaitable[object]], int]] = [
            (f"{n:,} get_data, all in flight", lambda: _gets(zk, paths), n),
            (
                f"{sequential:,} get_data, one at a time",
                lambda: _one_by_one(zk, paths[:sequential]),
                sequential,
            ),
            (f"{n:,} set_data, all in flight", lambda: _sets(zk, paths), n),
        ]
        for _ in range(2):  # warm up, unrecorded
            for mode in modes:
                for _name, call, count in work:
                    await _cpu(zk, mode, call, count)
        for triple in range(triples):
            shift = triple % len(modes)
            for mode in modes[shift:] + modes[:shift]:
                for name, call, count in work:
                    per_request, collected = await _cpu(zk, mode, call, count)
                    rows.add(name, "µs", "lower", mode[0], per_request)
                    if collected:
                        rows.add(COLLECT, "µs", "lower", mode[0], collected)
        await zk.delete_recursive(parent)
    finally:
        await zk.close()
        provider.shutdown()
    return rows.measurements([OFF, API, SDK])


async def _gets(zk: Registry, paths: list[str]) -> None:
    await asyncio.gather(*(zk.get(p) for p in paths))


async def _sets(zk: Registry, paths: list[str]) -> None:
    await asyncio.gather(*(zk.set(p, VALUE) for p in paths))


async def _one_by_one(zk: Registry, paths: list[str]) -> None:
    for path in paths:
        await zk.get(path)


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


OBSERVED = "the observer alone"
ALONE = "a request, metrics off"
BOTH = "a request + the observer"


async def _request_cost(zk: Registry, path: str, rate: int, seconds: float) -> float:
    """µs of the process's CPU per get_data at ``rate`` a second, metrics off: paced one
    at a time below 1,000 a second (the wake-ups a service at that rate pays), else all
    in flight."""
    count = max(1, int(rate * seconds))
    quiet()
    cpu = time.process_time()
    if rate > 1_000:
        await asyncio.gather(*(zk.get(path) for _ in range(count)))
    else:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(count):
            await zk.get(path)
            pause = start + (i + 1) / rate - loop.time()
            if pause > 0:
                await asyncio.sleep(pause)
    return (time.process_time() - cpu) / count * 1e6


async def run_observer(ctx: Context) -> list[Measurement]:
    """Per round and rate: the observer alone (the clock advanced by hand), and a real
    request at that rate without it; their sum is the request with metrics on."""
    rows = Rows(OBSERVER)
    n, seconds = ctx.scale(200_000, 20_000), ctx.scale(2, 1) / 2
    zk = Registry(ctx.address)
    await zk.start()
    zk._session.counters.latency = None  # metrics off: the counters alone
    try:
        path = ctx.fresh_path("observer")
        await zk.create(path, VALUE, makepath=True)
        for _ in range(ctx.rounds):
            for rate in (100, 1_000, 30_000):
                work = f"one operation at {rate:,} requests/s"
                observer = _observer_cost(rate, n)
                request = await _request_cost(zk, path, rate, seconds)
                rows.add(work, "µs/request", "lower", OBSERVED, observer)
                rows.add(work, "µs/request", "lower", ALONE, request)
                rows.add(work, "µs/request", "lower", BOTH, request + observer)
        await zk.delete(path)
    finally:
        await zk.close()
    return rows.measurements([OBSERVED, ALONE, BOTH])


BENCHMARKS = [
    Benchmark(
        name="metrics",
        section=SECTION,
        description="Client CPU per request: not instrumented, OpenTelemetry API alone, SDK.",
        run=run,
        comparisons=(
            Comparison(SDK, OFF, {"flight": TARGET, "one at a time": TARGET}),
            Comparison(API, OFF, {"flight": TARGET, "one at a time": TARGET}),
        ),
    ),
    Benchmark(
        name="metrics-observer",
        section=OBSERVER,
        description="CPU the SDK-backed latency observer adds per request, by request rate.",
        run=run_observer,
        comparisons=(Comparison(BOTH, ALONE, {"requests/s": TARGET}),),
    ),
]
