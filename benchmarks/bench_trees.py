"""Issue 5: import, export, walk and delete of a 5,000-node tree.

The tree: 50 top nodes (``/svc00 : service`` with an ``owner``), each with
99 children (``/host000`` with an ``address`` and a ``weight``): 5,000
nodes below the import point, every one with two properties, as tree text.

aiozkreg does each operation with one call (``import_tree``,
``export_tree``, ``[p async for p in walk()]``, ``delete_recursive``),
which keeps many requests in flight. The baseline is the reference
(zc.zk) way with kazoo, one round trip at a time, in a worker thread:

- import: walk the parsed tree (``aiozkreg.parse_tree``) in preorder and
  ``create`` each node, ``set`` if it exists (1 round trip per node here);
- export: ``get`` and ``get_children`` per node, recursively, then the
  text with ``aiozkreg.format_tree`` (2 per node);
- walk: ``get_children`` per node, recursively (1 per node);
- delete: ``get_children`` per node, children deleted first (2 per node).

Each round runs both clients back to back (alternating which goes first),
each in its own fresh parent node; every operation's wall time is one cell.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from _bench import Benchmark, Comparison, Context, Measurement, quiet
from _common import Rows
from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError

from aiozkreg import Registry, TextNode, format_tree, parse_tree
from aiozkreg._encoding import decode_properties, encode_properties

ORDER = 30
SECTION = "Trees"
REG = "aiozkreg"
KAZOO = "kazoo, one at a time"
SPEEDUP_TARGET = 5.0

clock = time.perf_counter


def tree_text(tops: int, children: int) -> str:
    lines: list[str] = []
    for t in range(tops):
        lines += [f"/svc{t:02d} : service", f"  owner = 'team-{t % 7}'"]
        for c in range(children):
            lines += [
                f"  /host{c:03d}",
                f"    address = '10.{t}.{c}.1:8080'",
                f"    weight = {c % 10}",
            ]
    return "\n".join(lines) + "\n"


def _name(path: str) -> str:
    return path.rpartition("/")[2]


# -- aiozkreg --------------------------------------------------------------------------


async def _aiozkreg_round(ctx: Context, zk: Registry, text: str, nodes: int) -> dict[str, float]:
    parent = ctx.fresh_path("tree")
    await zk.ensure_path(parent)
    times: dict[str, float] = {}
    quiet()
    start = clock()
    await zk.import_tree(text, parent)
    times["import"] = clock() - start
    quiet()
    start = clock()
    exported = await zk.export_tree(parent)
    times["export"] = clock() - start
    quiet()
    start = clock()
    paths = [p async for p in zk.walk(parent)]
    times["walk"] = clock() - start
    quiet()
    start = clock()
    await zk.delete_recursive(parent)
    times["delete"] = clock() - start
    _check(exported, paths, nodes)
    if await zk.exists(parent) is not None:
        raise RuntimeError(f"delete_recursive left {parent}")
    return times


def _check(exported: str, paths: list[str], nodes: int) -> None:
    """Both clients did the whole work: every node exported and walked."""
    count = sum(1 for _ in parse_tree(exported).walk()) - 2  # the virtual root, the parent
    if count != nodes or len(paths) != nodes + 1:
        raise RuntimeError(f"exported {count} and walked {len(paths) - 1} of {nodes} nodes")


# -- kazoo, one request at a time ------------------------------------------------------------


def _kazoo_import(client: KazooClient, tree: TextNode, parent: str) -> None:
    for path, node in tree.walk(parent):
        if path == parent:
            continue
        data = encode_properties(node.properties)
        try:
            client.create(path, data)
        except NodeExistsError:
            client.set(path, data)


def _kazoo_export(client: KazooClient, path: str) -> TextNode:
    data, _ = client.get(path)
    node = TextNode(decode_properties(data, path))
    for name in sorted(client.get_children(path)):
        node.children[name] = _kazoo_export(client, f"{path}/{name}")
    return node


def _kazoo_walk(client: KazooClient, path: str, out: list[str]) -> None:
    out.append(path)
    for name in sorted(client.get_children(path)):
        _kazoo_walk(client, f"{path}/{name}", out)


def _kazoo_delete(client: KazooClient, path: str) -> None:
    for name in client.get_children(path):
        _kazoo_delete(client, f"{path}/{name}")
    client.delete(path)


def _kazoo_round(client: KazooClient, parent: str, text: str, nodes: int) -> dict[str, float]:
    """In a worker thread."""
    client.ensure_path(parent)
    times: dict[str, float] = {}
    quiet()
    start = clock()
    _kazoo_import(client, parse_tree(text), parent)
    times["import"] = clock() - start
    quiet()
    start = clock()
    exported = format_tree(_kazoo_export(client, parent), _name(parent))
    times["export"] = clock() - start
    quiet()
    start = clock()
    paths: list[str] = []
    _kazoo_walk(client, parent, paths)
    times["walk"] = clock() - start
    quiet()
    start = clock()
    _kazoo_delete(client, parent)
    times["delete"] = clock() - start
    _check(exported, paths, nodes)
    if client.exists(parent) is not None:
        raise RuntimeError(f"the recursive delete left {parent}")
    return times


# -- the benchmark ------------------------------------------------------------------------------


async def run(ctx: Context) -> list[Measurement]:
    tops, children = ctx.scale(50, 10), ctx.scale(99, 19)
    nodes = tops * (children + 1)
    text = tree_text(tops, children)
    rows = Rows(SECTION)
    zk = Registry(ctx.address)
    await zk.start()
    kazoo = KazooClient(hosts=ctx.address, timeout=10.0)
    await asyncio.to_thread(kazoo.start, 10.0)
    variants: list[tuple[str, Callable[[], Awaitable[dict[str, float]]]]] = [
        (REG, lambda: _aiozkreg_round(ctx, zk, text, nodes)),
        (
            KAZOO,
            lambda: asyncio.to_thread(
                _kazoo_round, kazoo, ctx.fresh_path("kazoo-tree"), text, nodes
            ),
        ),
    ]
    work = {
        "import": f"import {nodes:,} nodes (tree text)",
        "export": f"export {nodes:,} nodes (tree text)",
        "walk": f"walk {nodes:,} nodes",
        "delete": f"delete_recursive {nodes:,} nodes",
    }
    rounds = min(ctx.rounds, 5)  # kazoo takes seconds a round; 5 rounds are plenty
    try:
        for _, variant in variants:  # warm-up, not recorded
            await variant()
        for round_ in range(rounds):
            shift = round_ % len(variants)
            for client, variant in variants[shift:] + variants[:shift]:
                times = await variant()
                for key, label in work.items():
                    rows.add(label, "ms", "lower", client, times[key] * 1e3)
                rows.add("all four", "ms", "lower", client, sum(times.values()) * 1e3)
    finally:
        await asyncio.to_thread(_stop, kazoo)
        await zk.close()
    return rows.measurements([REG, KAZOO])


def _stop(client: KazooClient) -> None:
    client.stop()
    client.close()


BENCHMARKS = [
    Benchmark(
        name="trees",
        section=SECTION,
        description=(
            "Import, export, walk and delete_recursive of a 5,000-node tree, "
            "vs kazoo one request at a time (the zc.zk way)."
        ),
        run=run,
        comparisons=(Comparison(REG, KAZOO, {"": SPEEDUP_TARGET}),),
    )
]
