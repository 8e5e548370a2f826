"""A registry's metrics as OpenTelemetry instruments (extra ``otel``: opentelemetry-api only).

::

    from aiozkreg.otel import instrument

    instrumentation = instrument(zk)            # the global MeterProvider, or pass one

Everything ``zk.metrics()`` holds becomes an observable instrument, read
only when the SDK collects (nothing is done per request for them), and
request latency a histogram, ``aiozkreg.request.duration`` (seconds, by
``zookeeper.operation`` and ``outcome``). OpenTelemetry's Python SDK spends
several microseconds on each ``record()``, a fifth of what a whole request
costs aiozkreg, so the histogram records every request up to
``latency_budget`` a second per operation and, above that rate, one in N
(N from the rate just before; the budget is kept per tenth of a second, so a
burst costs no more): its distribution stays true, and its
count is a sample; ``aiozkreg.requests`` is the exact count. Without an
SDK configured the API's instruments do nothing. See docs/operations.md.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from ._metrics import Metrics, op_name
from ._states import SessionState

try:
    from opentelemetry import metrics as _otel
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "aiozkreg.otel needs OpenTelemetry's API: pip install 'aiozkreg[otel]'"
    ) from exc

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, Histogram, MeterProvider, Observation

    from ._registry import Registry

__all__ = ["DURATION_BUCKETS", "Instrumentation", "instrument"]

#: Bucket bounds (seconds) suggested to the SDK for the request latency histogram.
DURATION_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

OPERATION = "zookeeper.operation"


WINDOW = 0.1  # seconds: the sampler's budget is kept per window, so bursts stay cheap


class _Sampler:
    """Which of one operation's requests the histogram records (see the module docstring).

    Every request while an operation stays within its budget (``per_second``,
    kept per :data:`WINDOW`); above that, one in ``every``, from the previous
    window's rate; and within a window ``every`` doubles at each record past
    the budget, so a burst records only logarithmically more.
    """

    __slots__ = ("budget", "countdown", "every", "recorded", "seen", "window_start")

    def __init__(self, per_second: int, now: float) -> None:
        self.budget = max(1.0, per_second * WINDOW)
        self.every = 1  # record one request in ``every``
        self.countdown = 1
        self.seen = 0
        self.recorded = 0
        self.window_start = now

    def take(self, now: float) -> bool:
        elapsed = now - self.window_start
        if elapsed >= WINDOW:
            expected = self.seen * WINDOW / elapsed  # in a window, at the last one's rate
            self.every = max(1, math.ceil(expected / self.budget))
            self.countdown = min(self.countdown, self.every)  # not a burst's long wait
            self.seen = self.recorded = 0
            self.window_start = now
        self.seen += 1
        self.countdown -= 1
        if self.countdown > 0:
            return False
        if self.recorded >= self.budget:
            self.every *= 2
        self.countdown = self.every
        self.recorded += 1
        return True


class _Latency:
    """The registry's latency observer: sampled records into the histogram."""

    __slots__ = ("_attributes", "_budget", "_clock", "_histogram", "_samplers")

    def __init__(
        self,
        histogram: Histogram,
        attributes: Mapping[str, str],
        budget: int,
        clock: Callable[[], float],
    ) -> None:
        self._histogram = histogram
        self._attributes = dict(attributes)
        self._budget = budget
        self._clock = clock
        self._samplers: dict[int, tuple[_Sampler, dict[bool, dict[str, str]]]] = {}

    def __call__(self, opcode: int, seconds: float, failed: bool) -> None:
        now = self._clock()
        entry = self._samplers.get(opcode)
        if entry is None:
            base = {**self._attributes, OPERATION: op_name(opcode)}
            labels = {False: {**base, "outcome": "ok"}, True: {**base, "outcome": "error"}}
            entry = self._samplers[opcode] = (_Sampler(self._budget, now), labels)
        if entry[0].take(now):
            self._histogram.record(seconds, entry[1][failed])


class Instrumentation:
    """What :func:`instrument` set up; :meth:`close` stops it (the registry stays)."""

    def __init__(self, zk: Registry, latency: _Latency | None) -> None:
        self._zk = zk
        self._latency = latency
        self.closed = False

    @property
    def records_latency(self) -> bool:
        """Whether request latencies go to a histogram (not with a no-op provider)."""
        return self._latency is not None and not self.closed

    def metrics(self) -> Metrics | None:
        """The registry's metrics for a collection; None once closed (nothing observed)."""
        return None if self.closed else self._zk.metrics()

    def close(self) -> None:
        """Stop recording latency and observing; idempotent. (OpenTelemetry's API cannot
        remove instruments: they stay registered and observe nothing.)"""
        self.closed = True
        counters = self._zk._session.counters
        if counters.latency is self._latency:
            counters.latency = None


def instrument(
    zk: Registry,
    meter_provider: MeterProvider | None = None,
    *,
    attributes: Mapping[str, str] | None = None,
    latency_budget: int = 100,
) -> Instrumentation:
    """Report ``zk``'s metrics through OpenTelemetry.

    ``meter_provider`` defaults to the global one. Every observation carries
    ``attributes`` (default ``{"aiozkreg.hosts": zk.hosts}``, which tells
    registries apart). ``latency_budget``: the request latencies recorded
    per operation and second before the histogram samples (at least 1).
    """
    if latency_budget < 1:
        raise ValueError(f"latency_budget must be at least 1, not {latency_budget}.")
    provider = meter_provider if meter_provider is not None else _otel.get_meter_provider()
    meter = provider.get_meter("aiozkreg", _version())
    labels = dict(attributes) if attributes is not None else {"aiozkreg.hosts": zk.hosts}
    latency: _Latency | None = None
    if not isinstance(provider, _otel.NoOpMeterProvider):
        histogram = meter.create_histogram(
            "aiozkreg.request.duration",
            unit="s",
            description="Time from a request's call to its reply (sampled above the budget).",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        latency = _Latency(histogram, labels, latency_budget, time.monotonic)
    handle = Instrumentation(zk, latency)
    _observe(meter, handle, labels)
    if latency is not None:
        zk._session.counters.latency = latency
    return handle


def _observe(meter: _otel.Meter, handle: Instrumentation, labels: Mapping[str, str]) -> None:
    """The observable instruments, each reading one field of ``zk.metrics()``."""
    from opentelemetry.metrics import Observation

    def scalar(field: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(options: CallbackOptions) -> Iterable[Observation]:
            metrics = handle.metrics()
            return [] if metrics is None else [Observation(getattr(metrics, field), labels)]

        return observe

    def by_operation(field: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(options: CallbackOptions) -> Iterable[Observation]:
            metrics = handle.metrics()
            counts: Mapping[str, int] = {} if metrics is None else getattr(metrics, field)
            return [Observation(n, {**labels, OPERATION: op}) for op, n in counts.items()]

        return observe

    def state(options: CallbackOptions) -> Iterable[Observation]:
        metrics = handle.metrics()
        if metrics is None:
            return []
        return [
            Observation(int(metrics.state is each), {**labels, "state": each.value})
            for each in SessionState
        ]

    counters = {
        "aiozkreg.connects": ("connects", "Links attached to the session, the first included."),
        "aiozkreg.reconnects": ("reconnects", "Links attached after the first."),
        "aiozkreg.session.expiries": ("expiries", "Sessions the server expired."),
        "aiozkreg.registrations.restored": (
            "restored",
            "Registration nodes the supervisor made again.",
        ),
        "aiozkreg.registrations.restore_failures": (
            "restore_failures",
            "Restores the server refused.",
        ),
    }
    for name, (field, description) in counters.items():
        meter.create_observable_counter(name, [scalar(field)], description=description)
    meter.create_observable_counter(
        "aiozkreg.requests", [by_operation("requests")], description="Requests, by operation."
    )
    meter.create_observable_counter(
        "aiozkreg.request.failures",
        [by_operation("failures")],
        description="Requests that raised (a server error, a lost connection, a timeout).",
    )
    gauges = {
        "aiozkreg.watches": ("watches", "Watches this session holds on the server."),
        "aiozkreg.views": ("views", "Open views (children, properties, providers, trees)."),
        "aiozkreg.registrations.live": ("live_registrations", "Live registrations."),
    }
    for name, (field, description) in gauges.items():
        meter.create_observable_gauge(name, [scalar(field)], description=description)
    meter.create_observable_gauge(
        "aiozkreg.session.state", [state], description="1 for the session's current state."
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aiozkreg")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"
