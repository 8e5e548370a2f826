"""What a benchmark module provides, and what it gets back: the suite's small framework.

A benchmark module is a file ``benchmarks/bench_<topic>.py`` with a list
``BENCHMARKS`` of :class:`Benchmark` objects (and, optionally, an ``ORDER``
integer that places its section in the report; lower comes first). ``run.py``
finds the modules by name, starts one ZooKeeper server, and awaits each
benchmark's ``run(ctx)``, which returns :class:`Measurement` objects. Each
measurement is one cell of a Markdown table: the section names the table,
``work`` the row and ``client`` the column.
"""

from __future__ import annotations

import gc
import itertools
import math
import statistics
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Better = Literal["higher", "lower"]


@dataclass(frozen=True, slots=True)
class Measurement:
    """One number (the median over rounds) and the per-round values behind it."""

    section: str
    work: str
    client: str
    unit: str
    better: Better
    rounds: tuple[float, ...]

    @property
    def value(self) -> float:
        return statistics.median(self.rounds)

    @property
    def spread(self) -> float:
        """Half the range of the rounds, relative to the median (0.05 = ±5 %)."""
        if len(self.rounds) < 2 or self.value == 0:
            return 0.0
        return (max(self.rounds) - min(self.rounds)) / 2 / abs(self.value)


@dataclass(frozen=True, slots=True)
class Comparison:
    """A ratio column: how fast ``client`` is relative to ``baseline`` (1.0 = as fast).

    For higher-is-better rows it is ``client / baseline``; for lower-is-better
    rows ``baseline / client``, so above 1 always means faster. ``targets``
    maps a part of a row's name (``work``) to the ratio the project aims for.

    The ratio is paired by round: a benchmark runs every client in each round,
    back to back, so a slow spell of the shared machine hits both sides of a
    pair. The reported ratio is the median of the per-round ratios (the
    ratio of the medians when the rounds don't pair up).
    """

    client: str
    baseline: str
    targets: dict[str, float] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"{self.client} vs {self.baseline}"

    def target(self, work: str) -> float | None:
        return next((t for part, t in self.targets.items() if part in work), None)

    def ratios(self, mine: Measurement, base: Measurement) -> tuple[float, ...]:
        """One ratio per round (or a single one, of the medians)."""
        pairs = list(zip(mine.rounds, base.rounds, strict=False))
        if len(mine.rounds) != len(base.rounds) or not pairs:
            pairs = [(mine.value, base.value)]
        if mine.better == "lower":
            pairs = [(b, a) for a, b in pairs]
        return tuple(a / b if b else math.nan for a, b in pairs)

    def ratio(self, mine: Measurement, base: Measurement) -> float:
        return statistics.median(self.ratios(mine, base))


@dataclass(slots=True)
class Context:
    """What every benchmark gets: the server, the scale, and fresh node names."""

    address: str
    quick: bool
    rounds: int
    root: str = "/bench"
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def host(self) -> str:
        return self.address.rpartition(":")[0]

    @property
    def port(self) -> int:
        return int(self.address.rpartition(":")[2])

    def scale(self, full: int, quick: int) -> int:
        """``full`` normally, ``quick`` under ``--quick``."""
        return quick if self.quick else full

    def fresh_path(self, label: str) -> str:
        """A path no benchmark has used in this run (its parent is ``root``)."""
        return f"{self.root}/{label}-{next(self._counter)}"


@dataclass(frozen=True, slots=True)
class Benchmark:
    """A named benchmark: ``run(ctx)`` returns the cells it measured."""

    name: str
    section: str
    description: str
    run: Callable[[Context], Awaitable[list[Measurement]]]
    comparisons: tuple[Comparison, ...] = ()


# -- statistics ------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), nearest-rank on the sorted samples."""
    ordered = sorted(samples)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def quiet() -> None:
    """Collect garbage now, so a collection left over from setup doesn't land in a timing."""
    gc.collect()


# -- rendering -------------------------------------------------------------------------


def format_value(value: float) -> str:
    if math.isnan(value):
        return "-"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _cell(m: Measurement) -> str:
    text = format_value(m.value)
    if len(m.rounds) > 1:
        text += f" ±{m.spread * 100:.0f}%"
    return text


def render_section(
    section: str, measurements: Sequence[Measurement], comparisons: Sequence[Comparison]
) -> str:
    """One Markdown table: rows are the work, columns the clients, then the ratios."""
    rows: dict[tuple[str, str], dict[str, Measurement]] = {}
    clients: list[str] = []
    for m in measurements:
        if m.section != section:
            continue
        rows.setdefault((m.work, m.unit), {})[m.client] = m
        if m.client not in clients:
            clients.append(m.client)
    header = ["work", "unit", *clients, *(c.title for c in comparisons)]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---", "---"] + ["---:"] * (len(header) - 2)) + "|",
    ]
    for (work, unit), cells in rows.items():
        line = [work, unit, *(_cell(cells[c]) if c in cells else "-" for c in clients)]
        for comp in comparisons:
            mine, base = cells.get(comp.client), cells.get(comp.baseline)
            if mine is None or base is None:
                line.append("-")
                continue
            ratios = comp.ratios(mine, base)
            ratio = statistics.median(ratios)
            text = f"{ratio:.2f}"
            if len(ratios) > 1:
                text += f" ({min(ratios):.2f}-{max(ratios):.2f})"
            target = comp.target(work)
            if target is not None:
                verdict = "met" if ratio >= target else "**missed**"
                text += f", target {target:.2f} {verdict}"
            line.append(text)
        lines.append("| " + " | ".join(line) + " |")
    return "\n".join(lines)
