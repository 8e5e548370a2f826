"""Run the benchmark suite against one throwaway ZooKeeper server.

    .venv/bin/python benchmarks/run.py              # everything (make bench)
    .venv/bin/python benchmarks/run.py --quick      # a smoke run with small counts
    .venv/bin/python benchmarks/run.py --only requests
    .venv/bin/python benchmarks/run.py --list

Benchmarks live in ``benchmarks/bench_*.py`` (see ``_bench.py`` for what a
module provides); this script finds them, starts one ZooKeeperServer, runs
every selected benchmark in one event loop, prints a Markdown report and
writes it with the raw numbers to ``benchmarks/results/``: ``latest.md`` and
``latest.json`` for a full run (whose report also replaces the one between
the markers in ``docs/performance.md``), ``partial.*`` (not committed) otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib
import json
import logging
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _bench import Benchmark, Context, Measurement, render_section  # noqa: E402

from aiozkreg.testing import ZooKeeperServer  # noqa: E402

RESULTS = HERE / "results"
DOC = HERE.parent / "docs" / "performance.md"
DOC_START = "<!-- latest results: written by benchmarks/run.py -->"
DOC_END = "<!-- end of latest results -->"

#: The harness's server, but with the JVM's full JIT (the harness stops at C1
#: for fast test start-up; production servers run C2), room for the ~250,000
#: nodes a run makes, and no snapshot in the middle of a measurement.
SERVER_JVM_OPTIONS = (
    "-XX:TieredStopAtLevel=4",
    "-Xmx1g",
    "-Dzookeeper.snapCount=10000000",
)


def discover() -> list[Benchmark]:
    """Every benchmark of every ``bench_*.py`` module, sections in ``ORDER``."""
    modules = [importlib.import_module(p.stem) for p in sorted(HERE.glob("bench_*.py"))]
    modules.sort(key=lambda m: getattr(m, "ORDER", 100))
    return [bench for module in modules for bench in module.BENCHMARKS]


def machine(server: ZooKeeperServer) -> dict[str, Any]:
    """What the numbers depend on: cores, CPU, Python, ZooKeeper and the libraries."""
    srvr = server.four_letter_word("srvr")
    zk = re.search(r"Zookeeper version: ([0-9.]+)", srvr)
    cpu = ""
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = found.group(1) if found else ""
    except OSError:
        pass
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "zookeeper": zk.group(1) if zk else "unknown",
        "zookeeper_srvr": srvr.splitlines()[0],
        "java": (java.stderr.splitlines() or [""])[0],
        "server_jvm_options": list(SERVER_JVM_OPTIONS),
        "aiozkreg": version("aiozkreg"),
        "aiozk": version("aiozk"),
        "kazoo": version("kazoo"),
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


class CpuWatch:
    """CPU seconds used while the benchmarks ran: by us, by the server, and by everyone else.

    The machine is shared (2 cores, the JVM, and maybe other people's test
    runs), so the report says how much CPU went to processes that are not
    part of the measurement, and how much the hypervisor stole.
    """

    def __init__(self, server_pid: int | None) -> None:
        self._server_pid = server_pid
        self._start = self._sample()

    @staticmethod
    def _system() -> tuple[float, float, float]:
        """(busy, steal, all) seconds of all cores since boot, from /proc/stat."""
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        tick = os.sysconf("SC_CLK_TCK")
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        steal = fields[7] if len(fields) > 7 else 0
        total = sum(fields[:8])
        return (total - idle - steal) / tick, steal / tick, total / tick

    def _server(self) -> float:
        if self._server_pid is None:
            return 0.0
        try:
            stat = Path(f"/proc/{self._server_pid}/stat").read_text()
        except OSError:
            return 0.0
        fields = stat.rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _sample(self) -> tuple[float, float, float, float, float]:
        times = os.times()
        return (*self._system(), times.user + times.system, self._server())

    def result(self) -> dict[str, float]:
        end = self._sample()
        busy, steal, total, ours, server = (b - a for a, b in zip(self._start, end, strict=True))
        return {
            "cpu_seconds_available": round(total, 2),
            "cpu_seconds_benchmark_process": round(ours, 2),
            "cpu_seconds_zookeeper": round(server, 2),
            "cpu_seconds_other_processes": round(max(0.0, busy - ours - server), 2),
            "cpu_seconds_stolen": round(steal, 2),
        }


def _znode_count(server: ZooKeeperServer) -> int | None:
    found = re.search(r"^Node count: (\d+)", server.four_letter_word("srvr"), re.M)
    return int(found.group(1)) if found else None


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=HERE, capture_output=True, text=True, check=False, timeout=10
    )
    return done.stdout.strip()


def report(
    info: dict[str, Any],
    benches: list[Benchmark],
    results: dict[str, list[Measurement]],
    ctx: Context,
) -> str:
    lines = [
        f"Run {info['date']}, {info['seconds']:.0f} s: {info['nproc']} cores ({info['cpu']}), "
        f"Python {info['python']}, ZooKeeper {info['zookeeper']} ({info['java']}), "
        f"aiozkreg {info['aiozkreg']} at {info['git_commit']}"
        f"{' (uncommitted changes)' if info['git_dirty'] else ''}, aiozk {info['aiozk']}, "
        f"kazoo {info['kazoo']}. {ctx.rounds} rounds{', quick' if ctx.quick else ''}; "
        "each cell is the median over rounds ± half their range; a ratio is the median "
        "of the per-round ratios (lowest-highest round in brackets), above 1 = faster.",
        "",
        f"CPU while measuring: {info['cpu_seconds_available']:.0f} core-seconds available, "
        f"benchmark process {info['cpu_seconds_benchmark_process']:.1f}, "
        f"ZooKeeper {info['cpu_seconds_zookeeper']:.1f}, "
        f"other processes {info['cpu_seconds_other_processes']:.1f}, "
        f"stolen by the hypervisor {info['cpu_seconds_stolen']:.1f}.",
        "",
    ]
    sections = list(dict.fromkeys(b.section for b in benches if b.name in results))
    for section in sections:
        here = [b for b in benches if b.section == section and b.name in results]
        measured = [m for b in here for m in results[b.name]]
        comparisons = [c for b in here for c in b.comparisons]
        lines += [f"### {section}", "", render_section(section, measured, comparisons), ""]
    return "\n".join(lines)


async def run_all(benches: list[Benchmark], ctx: Context) -> dict[str, list[Measurement]]:
    results: dict[str, list[Measurement]] = {}
    for bench in benches:
        print(f"running {bench.name}: {bench.description}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        results[bench.name] = await bench.run(ctx)
        print(f"  {bench.name}: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this benchmark")
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument("--rounds", type=int, help="rounds per measurement (default 11, quick 2)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("kazoo").setLevel(logging.ERROR)
    logging.getLogger("aiozk").setLevel(logging.ERROR)

    benches = discover()
    if args.list:
        for bench in benches:
            print(f"{bench.name:16} [{bench.section}] {bench.description}")
        return 0
    if args.only:
        unknown = set(args.only) - {b.name for b in benches}
        if unknown:
            parser.error(f"no benchmark named {', '.join(sorted(unknown))} (see --list)")
        benches = [b for b in benches if b.name in args.only]
    rounds = args.rounds or (2 if args.quick else 11)
    full = not (args.quick or args.only or args.rounds)

    started = time.monotonic()
    with ZooKeeperServer(jvm_options=SERVER_JVM_OPTIONS) as server:
        info = machine(server)
        ctx = Context(address=server.address, quick=args.quick, rounds=rounds)
        info["load_before"] = os.getloadavg()
        watch = CpuWatch(server.pid)
        results = asyncio.run(run_all(benches, ctx))
        info.update(watch.result())
        info["znodes_at_end"] = _znode_count(server)
        info["load_after"] = os.getloadavg()
    info["date"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    info["seconds"] = time.monotonic() - started

    text = report(info, benches, results, ctx)
    print(text)
    stem = "latest" if full else "partial"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stem}.md").write_text(text)
    ratios = {
        name: {
            f"{comp.title}: {mine.work}": comp.ratios(mine, base)
            for comp in next(b for b in benches if b.name == name).comparisons
            for mine in measured
            if mine.client == comp.client
            for base in measured
            if base.client == comp.baseline and base.work == mine.work
        }
        for name, measured in results.items()
    }
    payload = {
        "machine": info,
        "ratios": ratios,
        "settings": {"quick": ctx.quick, "rounds": ctx.rounds, "only": args.only},
        "benchmarks": {
            name: [{**asdict(m), "value": m.value} for m in measured]
            for name, measured in results.items()
        },
    }
    (RESULTS / f"{stem}.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS / stem}.md and .json", file=sys.stderr)
    if full and update_doc(text):
        print(f"updated the results in {DOC}", file=sys.stderr)
    return 0


def update_doc(text: str) -> bool:
    """Put a full run's report between the markers in docs/performance.md, if it has them."""
    try:
        doc = DOC.read_text()
    except FileNotFoundError:
        return False
    start, end = doc.find(DOC_START), doc.find(DOC_END)
    if start < 0 or end < start:
        return False
    DOC.write_text(doc[: start + len(DOC_START)] + "\n\n" + text.strip() + "\n\n" + doc[end:])
    return True


if __name__ == "__main__":
    sys.exit(main())
