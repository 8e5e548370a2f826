"""Where does a tree operation's time go? Wall, CPU and a profile of each.

    .venv/bin/python benchmarks/profile_trees.py             # 50 x 99 tree, 3 repetitions
    .venv/bin/python benchmarks/profile_trees.py --top 25 --sort cumtime

It starts its own server (the suite's JVM options), warms it up, then for
each of import, export, walk and delete_recursive of the tree that
``bench_trees.py`` uses, prints the median wall time and the CPU time of
this process, next to the same number of requests sent all at once by
aiozkreg's shortcuts (``asyncio.gather`` over ``create``/``get``/...) and
by the minimal client. Then one cProfile run of each operation: own time
by file and the top functions. cProfile slows Python about twofold.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_trees import tree_text
from minimal_client import MinimalClient
from profile_requests import print_by_file
from run import SERVER_JVM_OPTIONS

from aiozkreg import Registry, parse_tree
from aiozkreg.testing import ZooKeeperServer

Op = Callable[[], Awaitable[Any]]


async def _timed(op: Op) -> tuple[float, float]:
    cpu = time.process_time()
    wall = time.perf_counter()
    await op()
    return time.perf_counter() - wall, time.process_time() - cpu


def _paths(parent: str, tops: int, children: int) -> list[str]:
    return [p for p, _ in parse_tree(tree_text(tops, children)).walk(parent) if p != parent]


async def main_async(
    address: str, tops: int, children: int, reps: int, top: int, sort: str
) -> None:
    host, _, port = address.rpartition(":")
    text = tree_text(tops, children)
    nodes = tops * (children + 1)
    minimal = await MinimalClient.connect(host, int(port))
    zk = Registry(address)
    await zk.start()
    counter = iter(range(10**6))
    try:
        await zk.ensure_path("/warm")
        for b in range(8):  # the server's JIT
            futures = [minimal.create_future(f"/warm/{b}-{i}", b"v" * 32) for i in range(3000)]
            await asyncio.gather(*futures)
            await asyncio.gather(*(minimal.get_future(f"/warm/{b}-{i}") for i in range(3000)))

        def fresh() -> str:
            return f"/t{next(counter)}"

        async def tree(parent: str) -> str:
            await zk.ensure_path(parent)
            await zk.import_tree(text, parent)
            return parent

        ops: dict[str, Callable[[str], Op]] = {
            "import_tree": lambda parent: lambda: zk.import_tree(text, parent),
            "export_tree": lambda parent: lambda: zk.export_tree(parent),
            "walk": lambda parent: lambda: _walk(zk, parent),
            "delete_recursive": lambda parent: lambda: zk.delete_recursive(parent),
        }
        print(f"{nodes:,} nodes; median of {reps}; wall ms / CPU ms of this process\n")
        profiles: dict[str, cProfile.Profile] = {}
        for name, make in ops.items():
            walls, cpus = [], []
            for rep in range(reps + 1):
                parent = fresh()
                if name == "import_tree":
                    await zk.ensure_path(parent)
                else:
                    await tree(parent)
                if rep == reps:  # one more, profiled
                    profiler = cProfile.Profile()
                    profiler.enable()
                    await make(parent)()
                    profiler.disable()
                    profiles[name] = profiler
                else:
                    wall, cpu = await _timed(make(parent))
                    walls.append(wall)
                    cpus.append(cpu)
            print(
                f"{name:17} {statistics.median(walls) * 1e3:7.0f} ms wall "
                f"{statistics.median(cpus) * 1e3:7.0f} ms CPU"
            )

        # The same requests, all sent at once, by aiozkreg's shortcuts and the minimal client.
        parent = fresh()
        await zk.ensure_path(parent)
        paths = _paths(parent, tops, children)
        data = b'{"address":"10.0.0.1:8080","weight":3}'
        tops_only = [p for p in paths if p.count("/") == 2]
        hosts = [p for p in paths if p.count("/") == 3]

        async def creates() -> None:
            await asyncio.gather(*(zk.create(p, data) for p in tops_only))
            await asyncio.gather(*(zk.create(p, data) for p in hosts))

        async def gets() -> None:
            await asyncio.gather(*(zk.get(p) for p in paths), *(zk.get_children(p) for p in paths))

        async def listings() -> None:
            await asyncio.gather(*(zk.get_children(p) for p in paths))

        async def deletes() -> None:
            await asyncio.gather(*(zk.delete(p) for p in hosts))
            await asyncio.gather(*(zk.delete(p) for p in tops_only))

        print(f"\nthe same requests all in flight, aiozkreg shortcuts ({len(paths):,} nodes):")
        for label, op in (
            ("create per node", creates),
            ("get + get_children per node", gets),
            ("get_children per node", listings),
            ("delete per node", deletes),
        ):
            wall, cpu = await _timed(op)
            print(f"  {label:29} {wall * 1e3:7.0f} ms wall {cpu * 1e3:7.0f} ms CPU")

        parent = fresh()
        await minimal.create(parent, b"")
        paths = _paths(parent, tops, children)
        tops_only = [p for p in paths if p.count("/") == 2]
        hosts = [p for p in paths if p.count("/") == 3]

        async def minimal_creates() -> None:
            await asyncio.gather(*(minimal.create_future(p, data) for p in tops_only))
            await asyncio.gather(*(minimal.create_future(p, data) for p in hosts))

        async def minimal_gets() -> None:
            await asyncio.gather(*(minimal.get_future(p) for p in paths + paths))

        print("the minimal client (the server's pace):")
        for label, op in (("create per node", minimal_creates), ("2 reads per node", minimal_gets)):
            wall, cpu = await _timed(op)
            print(f"  {label:29} {wall * 1e3:7.0f} ms wall {cpu * 1e3:7.0f} ms CPU")

        for name, profiler in profiles.items():
            print(f"\n== {name} (under cProfile) ==")
            stats = pstats.Stats(profiler)
            print_by_file(stats, nodes)
            stats.strip_dirs().sort_stats(sort).print_stats(top)
    finally:
        await zk.close()
        await minimal.close()


async def _walk(zk: Registry, parent: str) -> list[str]:
    return [p async for p in zk.walk(parent)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tops", type=int, default=50)
    parser.add_argument("--children", type=int, default=99)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--top", type=int, default=15, help="functions to print per operation")
    parser.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumtime)")
    args = parser.parse_args(argv)
    with ZooKeeperServer(jvm_options=SERVER_JVM_OPTIONS) as server:
        asyncio.run(
            main_async(server.address, args.tops, args.children, args.reps, args.top, args.sort)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
