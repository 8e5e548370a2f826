"""Profile one client's requests with cProfile: where does the CPU per request go?

    .venv/bin/python benchmarks/profile_requests.py                  # aiozkreg, creates in flight
    .venv/bin/python benchmarks/profile_requests.py --op get --top 40
    .venv/bin/python benchmarks/profile_requests.py --op seq-get --client minimal
    .venv/bin/python benchmarks/profile_requests.py --dump /tmp/reg.prof   # for snakeviz etc.

It starts its own ZooKeeper server, warms it up, then profiles only the
requested work (``--batches`` batches of ``--n`` requests). cProfile slows
Python down about twofold, so read the shares, not the absolute times.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clients import CLIENTS, Client, MinimalClientLimit

from aiozkreg.testing import ZooKeeperServer

VALUE = b"v" * 32
OPS = ("create", "get", "seq-create", "seq-get")


async def _work(client: Client, op: str, parent: str, n: int) -> None:
    paths = [f"{parent}/n{i:05d}" for i in range(n)]
    if op == "create":
        await client.create_in_flight(paths, VALUE)
    elif op == "get":
        await client.get_in_flight(paths)
    elif op == "seq-create":
        await client.create_sequential(paths, VALUE)
    else:
        await client.get_sequential(paths)


async def profile(address: str, name: str, op: str, n: int, batches: int) -> cProfile.Profile:
    by_name = {cls.name: cls for cls in CLIENTS}
    client = by_name[name]()
    limit = MinimalClientLimit()
    await client.start(address)
    await limit.start(address)
    try:
        # Warm the server up with the cheap client, and lay out the nodes to read.
        await limit.make_parent("/warm")
        for b in range(8):
            paths = [f"/warm/b{b}-{i}" for i in range(3000)]
            await limit.create_in_flight(paths, VALUE)
            await limit.get_in_flight(paths)
        parents = [f"/p/b{b}" for b in range(batches)]
        for parent in parents:
            await client.make_parent(parent)
            if op in ("get", "seq-get"):
                await limit.create_in_flight([f"{parent}/n{i:05d}" for i in range(n)], VALUE)
        profiler = cProfile.Profile()
        profiler.enable()
        for parent in parents:
            await _work(client, op, parent, n)
        profiler.disable()
        return profiler
    finally:
        await limit.close()
        await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--client", default="aiozkreg", choices=[c.name for c in CLIENTS])
    parser.add_argument("--op", default="create", choices=OPS)
    parser.add_argument("--n", type=int, default=3000, help="requests per batch")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--top", type=int, default=30, help="rows to print")
    parser.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumtime)")
    parser.add_argument("--dump", type=Path, help="also write the raw profile here")
    args = parser.parse_args(argv)

    with ZooKeeperServer(jvm_options=("-XX:TieredStopAtLevel=4",)) as server:
        profiler = asyncio.run(profile(server.address, args.client, args.op, args.n, args.batches))
    if args.dump:
        profiler.dump_stats(args.dump)
    stats = pstats.Stats(profiler)
    requests = args.n * args.batches
    print(f"{args.client}, {args.op}: {requests} requests profiled; times are under cProfile")
    print_by_file(stats, requests)
    stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
    return 0


def _where(filename: str) -> str:
    """``aiozk/protocol/part.py`` from a full path; built-ins as they are."""
    path = Path(filename)
    for package in ("aiozkreg", "aiozk", "asyncio", "kazoo", "benchmarks"):
        if package in path.parts:
            index = len(path.parts) - 1 - path.parts[::-1].index(package)
            return "/".join(path.parts[index:])
    return filename if filename.startswith("~") else path.name


def print_by_file(stats: pstats.Stats, requests: int) -> None:
    """Own time per source file, in µs per request (under cProfile), largest first."""
    per_file: dict[str, float] = {}
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    raw = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, func), (_cc, _nc, own, _cum, _callers) in raw.items():
        key = _where(filename) if filename != "~" else func
        per_file[key] = per_file.get(key, 0.0) + own
    total = sum(per_file.values())
    print(f"own time by file: {total / requests * 1e6:.1f} µs per request in all")
    for key, own in sorted(per_file.items(), key=lambda kv: -kv[1])[:20]:
        print(f"  {own / requests * 1e6:7.2f} µs  {own / total:6.1%}  {key}")
    print()


if __name__ == "__main__":
    sys.exit(main())
