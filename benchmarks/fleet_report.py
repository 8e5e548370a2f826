"""The fleet benchmark's report: Markdown tables from the repeats, and writing them into docs.

Each scenario is a table of its rows: the median over repeats, the range
(lowest-highest repeat), and the goal of issue 14 where it sets one (for
scenarios 5 and 6, its standing goals: nothing lost, every set right). A goal
is *met* when every repeat meets it, *met by the median* when the median
does but some repeat does not, and *missed* otherwise.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

#: Issue 14's goals: a part of a row's name -> the most the row may be.
GOALS: dict[str, dict[str, float]] = {
    "1": {
        "registrations lost": 0,
        "sessions lost": 0,
        "every provider set right again, s after the new leader": 2.0,
        "provider sets wrong at the end": 0,
    },
    "2": {"registrations lost": 0, "sessions lost": 0, "provider sets wrong at the end": 0},
    "3": {
        "every registration back, s after the last expiry": 2.0,
        "every provider set shows it, s after the last expiry": 2.0,
        "registrations lost": 0,
        "provider sets wrong at the end": 0,
    },
    "4": {
        "registrations lost": 0,
        "sessions lost": 0,
        "aiozkreg: largest share in 100 ms, %": 25.0,
    },
    # scenarios 5 and 6 (the follow-up): the standing goals, nothing lost, every set right
    "5": {
        "registrations lost": 0,
        "watchers on observers: sessions lost": 0,
        "watchers on voters: sessions lost": 0,
        "watchers on observers: provider sets wrong at the end": 0,
        "watchers on voters: provider sets wrong at the end": 0,
    },
    "6a": {"registrations lost": 0, "fleet sessions lost": 0, "provider sets wrong at the end": 0},
    "6b": {"registrations lost": 0, "fleet sessions lost": 0, "provider sets wrong at the end": 0},
}


def fmt(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "-"
    if value == 0 or (value == int(value) and abs(value) >= 10):
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _verdict(values: list[float], limit: float) -> str:
    good = [v for v in values if not math.isnan(v)]
    if len(good) < len(values):
        return "**missed** (a repeat has no value)"
    if max(good) <= limit:
        return "met"
    if statistics.median(good) <= limit:
        return "met by the median, **not every repeat**"
    return "**missed**"


def scenario_table(key: str, repeats: list[dict[str, float]]) -> str:
    lines = [
        "| measure | median | range | goal |",
        "|---|---:|---:|---|",
    ]
    names = list(dict.fromkeys(name for row in repeats for name in row))
    for name in names:
        values = [row[name] for row in repeats if name in row]
        good = [v for v in values if not math.isnan(v)] or [math.nan]
        median = statistics.median(good)
        spread = f"{fmt(min(good))}-{fmt(max(good))}" if len(values) > 1 else ""
        if math.isnan(median):  # no repeat has a value (nothing to time)
            spread = ""
        limit = GOALS.get(key, {}).get(name)
        goal = "" if limit is None else f"≤ {fmt(limit)}: {_verdict(values, limit)}"
        lines.append(f"| {name} | {fmt(median)} | {spread} | {goal} |")
    return "\n".join(lines)


def herd_table(herds: dict[str, list[float]], bin_width: float = 0.1) -> str:
    """Re-attaches per 100 ms after the kill, as shares of each client's total."""
    clients = [c for c in ("aiozkreg", "kazoo") if herds.get(c)]
    if not clients:
        return ""
    last = max(max(herds[c]) for c in clients)
    bins = int(last / bin_width) + 1
    counts = {c: [0] * bins for c in clients}
    for c in clients:
        for t in herds[c]:
            counts[c][min(bins - 1, max(0, int(t / bin_width)))] += 1
    header = "| ms after the kill | " + " | ".join(f"{c} (n={len(herds[c])})" for c in clients)
    lines = [header + " |", "|---|" + "---|" * len(clients)]
    for i in range(bins):
        if not any(counts[c][i] for c in clients):
            continue
        cells = []
        for c in clients:
            share = 100 * counts[c][i] / len(herds[c])
            cells.append(f"{share:4.1f} % {'█' * round(share / 2.5)}")
        lo = int(i * bin_width * 1000)
        lines.append(f"| {lo}-{lo + int(bin_width * 1000)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render(results: dict[str, Any]) -> str:
    s, m = results["settings"], results["machine"]
    peak = results.get("peak", {})
    cpu = results.get("cpu", {})
    lines = [
        f"Run {m['date']}, {results['seconds']:.0f} s in all: {m['nproc']} cores, a 3-server "
        f"ensemble (the test harness's servers), {s['registries']} registries in "
        f"{s['workers']} processes, 2 registrations each over 20 services, "
        f"{s['sets']} provider sets, {s['kazoo']} kazoo clients; aiozkreg {m['aiozkreg']}, "
        f"kazoo {m['kazoo']}. {s['repeats']} repeats per scenario (the rolling restart "
        f"{max(1, s['repeats'] * 3 // 5)}); median and lowest-highest repeat.",
        "",
        f"Setting up the fleet took {results.get('setup_seconds', 0):.1f} s. The ensemble's "
        f"peak with every registry keeping 4 reads in flight: "
        f"{fmt(peak.get('peak, requests/s', math.nan))} requests/s "
        f"(busiest 100 ms: {fmt(peak.get('peak, best 100 ms, requests/s', math.nan))}/s), "
        f"{fmt(peak.get('ensemble CPU per request, µs', math.nan))} µs of ensemble CPU per "
        f"request. CPU over the run: the three servers {cpu.get('ensemble', 0):.0f} s, "
        f"the worker processes {cpu.get('workers', 0):.0f} s.",
    ]
    observed = [k for k in ("5", "6a", "6b") if k in results["scenarios"]]
    if observed:
        setups = ", ".join(f"{t:.1f} s" for t in results.get("observed_setup_seconds", []))
        lines += [
            "",
            f"Scenarios {', '.join(observed)} ran on ensembles of their own (the first "
            f"stays as it was, so 1-4 compare with earlier runs): 3 voters and "
            f"{s.get('observers', 2)} observers, started with `-Dreadonlymode.enabled=true`; "
            f"the {s['registries']} registries on the voters only; the provider sets held "
            "by watchers, registries that register nothing, one set each (3 per service): "
            f"in 5, {s['sets']} on the voters and {s['sets']} on the observers, "
            f"{s.get('rounds', 15)} rounds of one update per service for each group and "
            "repeat (the group measured first alternates), then both watching while the "
            f"leader is killed; in 6, {s['sets']} with `read_only=True` and {s['sets']} "
            "without, on every member, while 2 of the 3 voters (the leader among them) "
            "are killed and started again once the others serve read-only and have been "
            "probed. 6a keeps ZooKeeper's default (global) sessions; 6b sets "
            "`localSessionsEnabled` and `localSessionsUpgradingEnabled`, which a read-only "
            f"server needs to give sessions. Setting up those fleets took {setups}; the "
            f"ensembles' CPU over them: {cpu.get('observed ensembles', 0):.0f} s.",
        ]
    for key, scenario in sorted(results["scenarios"].items()):
        lines += ["", f"#### {key}. {scenario['title']}", ""]
        lines.append(scenario_table(key, scenario["repeats"]))
        if key == "4":
            lines += [
                "",
                "Re-attaches after the kill, every repeat together (share of each "
                "client's re-attaches per 100 ms):",
                "",
                herd_table(results.get("herds", {})),
            ]
    return "\n".join(lines)


def render_costs(results: dict[str, Any]) -> str:
    """The growth table and the per-change breakdown for docs/scaling.md."""
    costs: dict[str, dict[str, float]] = results.get("costs", {})
    if not costs:
        return "(no cost measurement in this run)"
    s, m = results["settings"], results["machine"]
    main = [
        "sessions",
        "server watches",
        "client watches",
        "requests per data change",
        "requests per provider leaving and coming back",
    ]
    lines = [
        f"Measured {m['date']} by `make bench-fleet` ({s['registries']} registries, "
        "2 registrations each over 20 services, 30 providers per service).",
        "",
        "| configuration | " + " | ".join(main) + " |",
        "|---|" + "---:|" * len(main),
    ]
    for label, row in costs.items():
        lines.append(f"| {label} | " + " | ".join(fmt(row.get(k, math.nan)) for k in main) + " |")
    lines += ["", "Requests per change, by operation (all sessions together):", ""]
    lines += ["| configuration | operation | per change |", "|---|---|---:|"]
    for label, row in costs.items():
        for key, value in row.items():
            if key.startswith("  "):
                lines.append(f"| {label} | {key.strip()} | {fmt(value)} |")
    idle = {k: v for row in costs.values() for k, v in row.items() if k.startswith("idle")}
    rows = list(costs.values())
    first, last = rows[0], rows[3] if len(rows) > 3 else {}
    if idle:
        lines += [
            "",
            "Idle (pings only): with the registrations only, "
            f"{fmt(first.get('idle packets/s', math.nan))} packets/s and "
            f"{fmt(first.get('idle ensemble CPU, % of a core', math.nan))} % of a core for the "
            "ensemble; with the most provider sets, "
            f"{fmt(last.get('idle packets/s', math.nan))} packets/s and "
            f"{fmt(last.get('idle ensemble CPU, % of a core', math.nan))} % of a core.",
        ]
    return "\n".join(lines)


def write_between(path: Path, name: str, text: str) -> bool:
    """Replace what lies between ``<!-- NAME: ... -->`` and ``<!-- end of NAME -->``."""
    try:
        doc = path.read_text()
    except FileNotFoundError:
        return False
    start_mark = f"<!-- {name}: written by benchmarks/fleet.py -->"
    end_mark = f"<!-- end of {name} -->"
    start, end = doc.find(start_mark), doc.find(end_mark)
    if start < 0 or end < start:
        return False
    path.write_text(doc[: start + len(start_mark)] + "\n\n" + text.strip() + "\n\n" + doc[end:])
    return True
