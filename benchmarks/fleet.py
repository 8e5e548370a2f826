"""A fleet on an ensemble: scale, herd control and capacity, measured (issue 14).

    .venv/bin/python benchmarks/fleet.py            # make bench-fleet: the full run
    .venv/bin/python benchmarks/fleet.py --quick    # a smoke run: 60 registries, 1 repeat
    .venv/bin/python benchmarks/fleet.py --only 5 --only 6   # observers and read-only only

Starts a 3-server ensemble (``aiozkreg.testing.ZooKeeperEnsemble``) and a
few worker processes (``fleet_worker.py``) holding the registries between
them, each registry with 2 registrations spread over 20 services, plus
provider sets watching the services, and one process of kazoo clients
(``fleet_kazoo.py``). It measures what the fleet costs the ensemble
(``fleet_costs.py``), then runs the scenarios of ``fleet_scenarios.py``,
each repeated, and reports the median and range of every row. Scenarios 5
and 6 (``fleet_observers.py``: observers, read-only mode) run afterwards
on ensembles of their own, 3 voters and 2 observers started with
``-Dreadonlymode.enabled=true``: one with ZooKeeper's default sessions
(5, then 6a), one with local sessions enabled (6b); the first ensemble
stays as it was, so scenarios 1-4 compare with earlier runs.

The report goes to ``benchmarks/results/fleet.md`` (and every repeat to
``fleet.json``); a full run also writes it between the fleet markers of
docs/performance.md and the cost tables between those of docs/scaling.md.
A smaller or partial run writes ``results/partial.fleet.*`` (not committed).
This is not part of ``make bench``: ``run.py`` only runs ``bench_*.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fleet_costs  # noqa: E402
import fleet_observers as obs  # noqa: E402
import fleet_report  # noqa: E402
import fleet_scenarios as sc  # noqa: E402
from fleet_driver import Fleet  # noqa: E402

from aiozkreg.testing import ZooKeeperEnsemble  # noqa: E402

RESULTS = HERE / "results"
DOCS = HERE.parent / "docs"

Scenario = Callable[[Fleet, int], Awaitable[dict[str, float]]]
Prepare = Callable[[Fleet], Awaitable[None]]


async def repeat(
    fleet: Fleet, key: str, title: str, repeats: int, scenario: Scenario
) -> dict[str, Any]:
    """Run ``scenario`` ``repeats`` times; its rows, one dict per repeat."""
    rows = []
    for number in range(repeats):
        started = time.monotonic()
        rows.append(await scenario(fleet, number))
        print(
            f"scenario {key} ({title}), repeat {number + 1}/{repeats}: "
            f"{time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
    return {"title": title, "repeats": rows}


def wanted(args: argparse.Namespace, key: str) -> bool:
    """Whether ``--only`` (if given) asks for scenario ``key`` (``6`` asks for 6a and 6b)."""
    return not args.only or key in args.only or key[0] in args.only


async def run(args: argparse.Namespace, ensemble: ZooKeeperEnsemble, logs: Path) -> dict[str, Any]:
    fleet = Fleet(ensemble, args.registries, args.workers, args.kazoo, logs)
    out: dict[str, Any] = {"scenarios": {}, "herds": {}}
    cpu_start = fleet.cpu_seconds()
    print(f"starting {args.registries} registries in {args.workers} processes", file=sys.stderr)
    out["setup_seconds"] = await fleet.start(args.sets)
    try:
        if args.costs:
            print("measuring what the fleet costs", file=sys.stderr)
            out["costs"] = fleet_costs.describe(await fleet_costs.growth(fleet, fleet.base))
        else:
            await fleet_costs.open_sets(fleet, fleet.base)
        peak = await sc.peak_rate(fleet)
        out["peak"] = peak
        herds: dict[str, list[float]] = {}
        # the herd first, while the sessions are spread evenly over the servers
        scenarios: list[tuple[str, str, int, Scenario]] = [
            ("4", "The reconnect herd", args.repeats, lambda f, r: sc.reconnect_herd(f, r, herds)),
            ("1", "The leader is killed", args.repeats, sc.leader_killed),
            ("2", "A rolling restart", max(1, args.repeats * 3 // 5), sc.rolling_restart),
            (
                "3",
                "100 sessions expired at once",
                args.repeats,
                lambda f, r: sc.mass_expiry(
                    f, r, count=args.registries // 3, peak=peak["peak, best 100 ms, requests/s"]
                ),
            ),
        ]
        for key, title, repeats, scenario in scenarios:
            if wanted(args, key):
                out["scenarios"][key] = await repeat(fleet, key, title, repeats, scenario)
        out["herds"] = herds
    finally:
        out["cpu"] = {
            "ensemble": fleet.cpu_seconds() - cpu_start,
            "workers": fleet.workers_cpu(),
        }
        await fleet.stop()
    return out


async def run_observed(
    args: argparse.Namespace,
    ensemble: ZooKeeperEnsemble,
    logs: Path,
    plan: list[tuple[str, str, int, Prepare, Scenario]],
) -> dict[str, Any]:
    """Scenarios 5 and 6 on an ensemble with observers: the fleet's registries on its voters,
    the watchers each scenario prepares on the members it names."""
    voters = ",".join(m.address for m in ensemble.voters)
    fleet = Fleet(ensemble, args.registries, args.workers, 0, logs, hosts=voters)
    out: dict[str, Any] = {"scenarios": {}}
    cpu_start = fleet.cpu_seconds()
    print(
        f"starting {args.registries} registries on the voters of an ensemble with "
        f"{len(ensemble.observers)} observers",
        file=sys.stderr,
    )
    out["setup_seconds"] = await fleet.start(0)
    try:
        for key, title, repeats, prepare, scenario in plan:
            await prepare(fleet)
            out["scenarios"][key] = await repeat(fleet, key, title, repeats, scenario)
    finally:
        out["cpu"] = fleet.cpu_seconds() - cpu_start
        await fleet.stop()
    return out


def observed(args: argparse.Namespace, logs: Path, results: dict[str, Any]) -> None:
    """Scenarios 5, 6a (on one ensemble) and 6b (on another), into ``results``."""
    sets, rounds, repeats = args.sets, args.rounds, args.repeats
    quorum_repeats = repeats
    first: list[tuple[str, str, int, Prepare, Scenario]] = []
    if wanted(args, "5"):
        first.append(
            (
                "5",
                "Watchers on observers",
                repeats,
                lambda f: obs.setup_observed(f, sets),
                lambda f, r: obs.watchers_on_observers(f, r, rounds),
            )
        )
    if wanted(args, "6a"):
        first.append(
            (
                "6a",
                "Quorum lost, read-only watchers (global sessions, ZooKeeper's default)",
                quorum_repeats,
                lambda f: obs.setup_quorum(f, sets),
                obs.quorum_lost,
            )
        )
    second: list[tuple[str, str, int, Prepare, Scenario]] = []
    if wanted(args, "6b"):
        second.append(
            (
                "6b",
                "Quorum lost, read-only watchers (localSessionsEnabled)",
                quorum_repeats,
                lambda f: obs.setup_quorum(f, sets),
                obs.quorum_lost,
            )
        )
    results.setdefault("cpu", {})["observed ensembles"] = 0.0
    for plan, settings in ((first, None), (second, obs.LOCAL_SESSIONS)):
        if not plan:
            continue
        with ZooKeeperEnsemble(
            3, observers=args.observers, jvm_options=obs.READ_ONLY_JVM, settings=settings
        ) as ensemble:
            part = asyncio.run(run_observed(args, ensemble, logs, plan))
        results["scenarios"] |= part["scenarios"]
        results["cpu"]["observed ensembles"] += part["cpu"]
        results.setdefault("observed_setup_seconds", []).append(part["setup_seconds"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run at small scale (too few sessions move for the herd goal to mean much)",
    )
    parser.add_argument("--registries", type=int, help="sessions (a multiple of 10; 300)")
    parser.add_argument("--workers", type=int, help="processes holding them (default 3)")
    parser.add_argument("--sets", type=int, help="provider sets (default 60)")
    parser.add_argument("--kazoo", type=int, help="kazoo clients for scenario 4 (default 45)")
    parser.add_argument("--repeats", type=int, help="repeats per scenario (default 5)")
    parser.add_argument(
        "--observers", type=int, default=2, help="observers for scenarios 5 and 6 (default 2)"
    )
    parser.add_argument(
        "--rounds", type=int, help="changes per service per group in scenario 5 (default 15)"
    )
    parser.add_argument("--only", action="append", metavar="N", help="run only scenario N")
    parser.add_argument("--no-costs", dest="costs", action="store_false", help="skip the costs")
    args = parser.parse_args(argv)
    quick = args.quick
    args.registries = args.registries or (60 if quick else 300)
    args.workers = args.workers or (2 if quick else 3)
    args.sets = args.sets if args.sets is not None else (12 if quick else 60)
    args.kazoo = args.kazoo if args.kazoo is not None else (15 if quick else 45)
    args.repeats = args.repeats or (1 if quick else 5)
    args.rounds = args.rounds or (5 if quick else 15)
    full = not (quick or args.only) and args.registries >= 300 and args.costs
    if args.registries % 10:
        parser.error("--registries must be a multiple of 10")

    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    started = time.monotonic()
    logs = Path(tempfile.mkdtemp(prefix="aiozkreg-fleet-"))
    results: dict[str, Any] = {"scenarios": {}, "herds": {}}
    if any(wanted(args, key) for key in "1234"):
        with ZooKeeperEnsemble(3) as ensemble:
            results = asyncio.run(run(args, ensemble, logs))
    if args.observers and any(wanted(args, key) for key in ("5", "6a", "6b")):
        observed(args, logs, results)
    results["settings"] = {
        k: getattr(args, k)
        for k in ("registries", "workers", "sets", "kazoo", "repeats", "observers", "rounds")
    }
    results["machine"] = {
        "nproc": len(os.sched_getaffinity(0)),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "aiozkreg": version("aiozkreg"),
        "kazoo": version("kazoo"),
        "load": os.getloadavg(),
    }
    results["seconds"] = time.monotonic() - started
    text = fleet_report.render(results)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    stem = "fleet" if full else "partial.fleet"
    (RESULTS / f"{stem}.md").write_text(text + "\n")
    (RESULTS / f"{stem}.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {RESULTS / stem}.md and .json; worker logs in {logs}", file=sys.stderr)
    if full:
        fleet_report.write_between(DOCS / "performance.md", "fleet results", text)
        fleet_report.write_between(
            DOCS / "scaling.md", "fleet costs", fleet_report.render_costs(results)
        )
        print("updated docs/performance.md and docs/scaling.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
