"""Issue 12: the live subtree, ``zk.tree(path)``, against kazoo's ``TreeCache``.

``subtree``
    One subtree of 100 services x 99 providers with JSON data (10,101 nodes
    with the services and the root), mirrored by ``zk.tree()`` (one
    persistent recursive watch) and by kazoo's ``TreeCache`` (a data and a
    child watch per node), one after the other on the suite's server:

    - the time to a complete initial load (the tree open; TreeCache's
      ``INITIALIZED`` event);
    - a provider's data updated by another session, until the mirror has
      the new data (p50 and p99 over 200 updates per round); for reference,
      the same for a child created under a single ``children()`` view;
    - the watches the server holds for the mirror (``mntr``'s
      ``zk_watch_count``, before and after), the requests the mirroring
      session sends per change (``cons``), and the Python memory
      (tracemalloc) per mirrored node.
``subtree-snapshot``
    What a new snapshot costs after one node's data changed, on trees of
    1,000 to 100,000 nodes (pure, no server): :func:`aiozkreg._subtree.apply`
    on the persistent map, against copying a dict of the nodes, the way a
    mirror without a persistent map would hand out an immutable snapshot.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import threading
import time
import tracemalloc
from typing import Any

from _bench import Benchmark, Comparison, Context, Measurement, percentile, quiet
from _common import Rows, goal_comparison, packets_received, server_watch_count
from kazoo.client import KazooClient
from kazoo.recipe.cache import TreeCache, TreeEvent

from aiozkreg import Registry
from aiozkreg._subtree import TreeSnapshot, apply
from aiozkreg._types import ZnodeStat

ORDER = 27

REG = "aiozkreg tree"
KAZOO = "kazoo TreeCache"
DICT = "dict copy"
MAP = "aiozkreg snapshot"

CHUNK = 250  # creates in flight while setting up
LOAD_ROUNDS = 5  # a load of 10,000 nodes is long enough to need fewer rounds

clock = time.perf_counter


def _ms(seconds: float) -> float:
    return seconds * 1e3


def _provider(service: int, provider: int, version: int = 0) -> bytes:
    return json.dumps(
        {
            "host": f"10.{service}.{provider // 250}.{provider % 250}",
            "port": 8080,
            "weight": 1,
            "zone": "abc"[provider % 3],
            "version": version,
        }
    ).encode()


async def _populate(zk: Registry, root: str, services: int, providers: int) -> list[str]:
    """The subtree: ``services`` services of ``providers`` providers each; their paths."""
    await zk.ensure_path(root)
    await asyncio.gather(
        *(zk.create(f"{root}/s{s:03d}", b'{"kind": "service"}') for s in range(services))
    )
    paths = [f"{root}/s{s:03d}/p{p:03d}" for s in range(services) for p in range(providers)]
    datas = [_provider(s, p) for s in range(services) for p in range(providers)]
    for i in range(0, len(paths), CHUNK):
        await asyncio.gather(
            *(
                zk.create(path, data)
                for path, data in zip(paths[i : i + CHUNK], datas[i : i + CHUNK], strict=True)
            )
        )
    return paths


def _traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


# -- aiozkreg ----------------------------------------------------------------------------


async def _load_aiozkreg(ctx: Context, root: str) -> float:
    zk = Registry(ctx.address)
    await zk.start()
    try:
        quiet()
        start = clock()
        tree = await zk.tree(root)
        took = clock() - start
        await tree.close()
    finally:
        await zk.close()
    return took


async def _memory_aiozkreg(ctx: Context, root: str) -> tuple[float, int]:
    """Bytes per mirrored node, and the watches the server added for the tree."""
    zk = Registry(ctx.address)
    await zk.start()
    try:
        watches = server_watch_count(ctx)
        tracemalloc.start()
        try:
            base = _traced()
            tree = await zk.tree(root)
            per_node = (_traced() - base) / len(tree)
        finally:
            tracemalloc.stop()
        added = server_watch_count(ctx) - watches
        await tree.close()
    finally:
        await zk.close()
    return per_node, added


async def _changes_aiozkreg(
    ctx: Context, writer: Registry, root: str, paths: list[str], n: int, seed: int
) -> tuple[list[float], float]:
    """Per update: until the tree had the new data; and the requests sent per update."""
    zk = Registry(ctx.address)
    await zk.start()
    try:
        tree = await zk.tree(root)
        waiting: dict[tuple[str, bytes], asyncio.Future[float]] = {}
        stream = tree.changes()

        async def consume() -> None:
            async for change in stream:
                if change.node is not None:
                    future = waiting.pop((change.path, change.node.data), None)
                    if future is not None:
                        future.set_result(clock())

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0)
        rng = random.Random(seed)
        loop = asyncio.get_running_loop()
        latencies: list[float] = []
        sent = packets_received(ctx, zk.client_id[0])
        quiet()
        for i in range(n):
            path = rng.choice(paths)
            data = json.dumps({"update": i, "seed": seed}).encode()
            seen = waiting[(path, data)] = loop.create_future()
            start = clock()
            await writer.set(path, data)
            latencies.append(await asyncio.wait_for(seen, 10) - start)
        per_change = (packets_received(ctx, zk.client_id[0]) - sent) / n
        await tree.close()
        await asyncio.wait_for(consumer, 10)
    finally:
        await zk.close()
    return latencies, per_change


async def _children_view(ctx: Context, writer: Registry, n: int) -> list[float]:
    """For reference: a child created, until a single children view has it."""
    parent = ctx.fresh_path("subtree-children")
    await writer.ensure_path(parent)
    zk = Registry(ctx.address)
    await zk.start()
    try:
        view = await zk.children(parent)
        waiting: dict[str, asyncio.Future[float]] = {}

        async def consume() -> None:
            async for names in view:
                now = clock()
                for name in names:
                    future = waiting.pop(name, None)
                    if future is not None:
                        future.set_result(now)

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0)
        loop = asyncio.get_running_loop()
        latencies: list[float] = []
        quiet()
        for i in range(n):
            seen = waiting[f"c{i}"] = loop.create_future()
            start = clock()
            await writer.create(f"{parent}/c{i}", b"{}")
            latencies.append(await asyncio.wait_for(seen, 10) - start)
        await view.close()
        await asyncio.wait_for(consumer, 10)
    finally:
        await zk.close()
    await writer.delete_recursive(parent)
    return latencies


# -- kazoo ---------------------------------------------------------------------------------


class _KazooTree:
    """A TreeCache in a fresh kazoo client; its events noted from kazoo's thread."""

    def __init__(self, ctx: Context, root: str) -> None:
        self.client = KazooClient(hosts=ctx.address, timeout=10.0)
        self.root = root
        self.loaded = threading.Event()
        self.updates: dict[tuple[str, bytes], float] = {}
        self.update_seen = threading.Condition()
        self.cache: TreeCache | None = None

    def _listen(self, event: Any) -> None:
        if event.event_type == TreeEvent.INITIALIZED:
            self.loaded.set()
        elif event.event_type == TreeEvent.NODE_UPDATED:
            now = clock()
            with self.update_seen:
                self.updates[(event.event_data.path, event.event_data.data)] = now
                self.update_seen.notify_all()

    def start(self) -> float:
        """Connect, then time the cache's initial load."""
        self.client.start(10.0)
        quiet()
        start = clock()
        self.cache = TreeCache(self.client, self.root)
        self.cache.listen(self._listen)
        self.cache.start()
        if not self.loaded.wait(120):
            raise TimeoutError("TreeCache did not initialise in 120 s")
        return clock() - start

    def wait_update(self, path: str, data: bytes) -> float:
        with self.update_seen:
            if not self.update_seen.wait_for(lambda: (path, data) in self.updates, 10):
                raise TimeoutError(f"TreeCache did not see {path} updated")
            return self.updates[(path, data)]

    @property
    def session_id(self) -> int:
        return int(self.client._session_id)

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
        self.client.stop()
        self.client.close()


def _memory_kazoo(ctx: Context, root: str, nodes: int) -> tuple[float, int]:
    """In a worker thread: bytes per cached node, and the watches the server added."""
    mirror = _KazooTree(ctx, root)
    mirror.client.start(10.0)
    try:
        watches = server_watch_count(ctx)
        tracemalloc.start()
        try:
            base = _traced()
            mirror.cache = TreeCache(mirror.client, root)
            mirror.cache.listen(mirror._listen)
            mirror.cache.start()
            if not mirror.loaded.wait(120):
                raise TimeoutError("TreeCache did not initialise in 120 s")
            per_node = (_traced() - base) / nodes
        finally:
            tracemalloc.stop()
        added = server_watch_count(ctx) - watches
    finally:
        mirror.close()
    return per_node, added


async def _changes_kazoo(
    ctx: Context, writer: Registry, root: str, paths: list[str], n: int, seed: int
) -> tuple[list[float], float]:
    mirror = _KazooTree(ctx, root)
    await asyncio.to_thread(mirror.start)
    try:
        rng = random.Random(seed)
        latencies: list[float] = []
        sent = packets_received(ctx, mirror.session_id)
        quiet()
        for i in range(n):
            path = rng.choice(paths)
            data = json.dumps({"update": i, "seed": seed}).encode()
            start = clock()
            await writer.set(path, data)
            seen = await asyncio.to_thread(mirror.wait_update, path, data)
            latencies.append(seen - start)
        per_change = (packets_received(ctx, mirror.session_id) - sent) / n
    finally:
        await asyncio.to_thread(mirror.close)
    return latencies, per_change


async def _load_kazoo(ctx: Context, root: str) -> float:
    mirror = _KazooTree(ctx, root)
    try:
        return await asyncio.to_thread(mirror.start)
    finally:
        await asyncio.to_thread(mirror.close)


# -- 1. the subtree ---------------------------------------------------------------------------

SUBTREE = "Live subtree: 100 services x 99 providers"
LOAD = "initial load, complete"
P50 = "one provider updated by another session → mirror has it, p50"
P99 = "one provider updated by another session → mirror has it, p99"
CHILD_P50 = "for reference: a child created → a children() view has it, p50"
WATCHES = "watches the server holds for the mirror (mntr)"
REQUESTS = "requests the mirroring session sends per change"
MEMORY = "Python memory per mirrored node"


async def run_subtree(ctx: Context) -> list[Measurement]:
    services, providers = ctx.scale(100, 10), ctx.scale(99, 9)
    updates = ctx.scale(200, 30)
    rows = Rows(SUBTREE)
    writer = Registry(ctx.address)
    await writer.start()
    root = ctx.fresh_path("subtree")
    try:
        paths = await _populate(writer, root, services, providers)
        nodes = 1 + services + len(paths)
        for _ in range(min(ctx.rounds, LOAD_ROUNDS)):  # back to back, alternating
            rows.add(LOAD, "ms", "lower", REG, _ms(await _load_aiozkreg(ctx, root)))
            rows.add(LOAD, "ms", "lower", KAZOO, _ms(await _load_kazoo(ctx, root)))
        reference: list[float] = []
        for round_ in range(min(ctx.rounds, LOAD_ROUNDS)):
            for client, measure in ((REG, _changes_aiozkreg), (KAZOO, _changes_kazoo)):
                latencies, per_change = await measure(ctx, writer, root, paths, updates, round_)
                rows.add(P50, "ms", "lower", client, _ms(percentile(latencies, 50)))
                rows.add(P99, "ms", "lower", client, _ms(percentile(latencies, 99)))
                rows.add(REQUESTS, "count", "lower", client, per_change)
            child = await _children_view(ctx, writer, updates)
            reference.append(_ms(percentile(child, 50)))
            rows.add(CHILD_P50, "ms", "lower", REG, reference[-1])
        per_node, watches = await _memory_aiozkreg(ctx, root)
        rows.add(WATCHES, "count", "lower", REG, watches)
        rows.add(MEMORY, "bytes", "lower", REG, per_node)
        per_node, watches = await asyncio.to_thread(_memory_kazoo, ctx, root, nodes)
        rows.add(WATCHES, "count", "lower", KAZOO, watches)
        rows.add(MEMORY, "bytes", "lower", KAZOO, per_node)
        # ZooKeeper 3.8's mntr counts one persistent recursive watch twice.
        rows.goal(WATCHES, "count", "lower", 2)
        rows.goal(P50, "ms", "lower", sorted(reference)[len(reference) // 2])
        await writer.delete_recursive(root)
    finally:
        await writer.close()
    return rows.measurements([REG, KAZOO])


# -- 2. the cost of a snapshot ---------------------------------------------------------------

SNAPSHOT = "Live subtree: the next snapshot after one node changed"


def _stat(i: int, modified: int = 0, version: int = 0) -> ZnodeStat:
    """Node ``i``'s stat (created at zxid ``i``), as written at zxid ``modified``."""
    return ZnodeStat(i, modified or i, 0, 0, version, 0, 0, 0, 10, 0, i)


def _snapshot(size: int) -> tuple[TreeSnapshot, list[str]]:
    root = "/t"
    reads: dict[str, tuple[bytes, ZnodeStat] | None] = {root: (b"", _stat(1))}
    services = max(1, size // 100)
    leaves = []
    for s in range(services):
        service = f"{root}/s{s}"
        reads[service] = (b"{}", _stat(2 + s))
        for p in range(99):
            leaf = f"{service}/p{p}"
            reads[leaf] = (b'{"port": 8080}', _stat(10_000 + s * 100 + p))
            leaves.append(leaf)
    return apply(TreeSnapshot(root), reads)[0], leaves


def _update(snapshot: TreeSnapshot, path: str, zxid: int) -> tuple[bytes, ZnodeStat]:
    """``path`` read again after a set() at ``zxid`` (new data, next version)."""
    stat = snapshot[path].stat
    return f'{{"port": {zxid % 65536}}}'.encode(), _stat(stat.czxid, zxid, zxid)


def _snapshot_cost(size: int, repeat: int) -> tuple[float, float, float, float]:
    """Per new snapshot after one update: µs and bytes, persistent map and dict copy."""
    snapshot, leaves = _snapshot(size)
    plain = dict(snapshot.items())
    rng = random.Random(size)
    picks = [rng.choice(leaves) for _ in range(repeat)]
    reads = [{leaf: _update(snapshot, leaf, 10**9 + i)} for i, leaf in enumerate(picks)]
    quiet()
    start = clock()
    for read in reads:
        snapshot = apply(snapshot, read)[0]
    mapped = (clock() - start) / repeat
    start = clock()
    for leaf in picks:
        copy = dict(plain)
        copy[leaf] = plain[leaf]
    copied = (clock() - start) / repeat
    again = [{leaf: _update(snapshot, leaf, 2 * 10**9 + i)} for i, leaf in enumerate(picks)]
    tracemalloc.start()
    try:
        base = _traced()
        kept = [snapshot := apply(snapshot, read)[0] for read in again[:20]]
        mapped_bytes = (_traced() - base) / len(kept)
        base = _traced()
        copies = [dict(plain) for _ in range(20)]
        copied_bytes = (_traced() - base) / len(copies)
    finally:
        tracemalloc.stop()
    return mapped * 1e6, copied * 1e6, mapped_bytes, copied_bytes


async def run_snapshot(ctx: Context) -> list[Measurement]:
    rows = Rows(SNAPSHOT)
    sizes = (1_000, 10_000, 100_000) if not ctx.quick else (1_000, 10_000)
    for _ in range(min(ctx.rounds, LOAD_ROUNDS)):
        for size in sizes:
            mapped, copied, mapped_bytes, copied_bytes = _snapshot_cost(size, ctx.scale(200, 50))
            rows.add(f"time, tree of {size:,} nodes", "µs", "lower", MAP, mapped)
            rows.add(f"time, tree of {size:,} nodes", "µs", "lower", DICT, copied)
            rows.add(f"memory kept, tree of {size:,} nodes", "bytes", "lower", MAP, mapped_bytes)
            rows.add(f"memory kept, tree of {size:,} nodes", "bytes", "lower", DICT, copied_bytes)
    return rows.measurements([MAP, DICT])


BENCHMARKS = [
    Benchmark(
        name="subtree",
        section=SUBTREE,
        description=(
            "zk.tree() against kazoo's TreeCache on 10,000 providers: initial load, "
            "change latency, server watches, requests per change, memory per node."
        ),
        run=run_subtree,
        comparisons=(goal_comparison(REG), Comparison(REG, KAZOO, {LOAD: 5.0, MEMORY: 1.0})),
    ),
    Benchmark(
        name="subtree-snapshot",
        section=SNAPSHOT,
        description="A new immutable snapshot after one change: persistent map vs dict copy.",
        run=run_snapshot,
        comparisons=(Comparison(MAP, DICT),),
    ),
]
