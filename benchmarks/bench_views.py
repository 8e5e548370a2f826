"""Issue 4: registration and views.

Four benchmarks, each with its own table:

``view-latency``
    One session creates a child, another session's watcher sees it: the
    time from just before the create until the watcher has the new name,
    p50 and p99 over 200 children per round. aiozkreg with ``register()``
    (its real registration path) and with a bare ``create(ephemeral=True)``,
    both seen through ``async for names in view``; aiozk's
    ``ChildrenWatcher`` recipe; kazoo's ``ChildrenWatch``.
``view-fanout``
    100 watchers of one path in one session; another session creates a
    child; the time until all 100 callbacks have seen it. aiozkreg with 100
    ``children()`` views (one shared source), aiozk with 100
    ``ChildrenWatcher`` recipes, kazoo with 100 ``ChildrenWatch`` objects.
    Also counted: the client's watch registrations for the path, the
    watches the server holds for it, and the requests the watching session
    sends per change.
``view-restore``
    A registry with 1,000 registrations under one path has its session
    expired; from the new session's CONNECTED until an observer registry's
    view shows all 1,000 again, and until ``settle()`` returns.
``view-memory``
    Python memory (tracemalloc) per live view on 2,000 distinct paths, per
    additional view of a watched path, per properties view beyond its data,
    and what is left after closing them; kazoo's ``ChildrenWatch`` and
    aiozk's ``ChildrenWatcher`` on the same paths for comparison.

All clients run in this one process and event loop (kazoo in worker
threads), against the suite's one server.
"""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Container, Sequence
from functools import partial
from typing import Any

import aiozk
from _bench import Benchmark, Comparison, Context, Measurement, percentile, quiet
from _common import Rows, goal_comparison, packets_received, server_watch_count
from aiozk import WatchEvent
from kazoo.client import KazooClient
from kazoo.recipe.watchers import ChildrenWatch

from aiozkreg import Registry, SessionState
from aiozkreg.testing import expire_session, settle

ORDER = 20

REG = "aiozkreg"
REG_CREATE = "aiozkreg, create"
AIOZK = "aiozk"
KAZOO = "kazoo"

DATA = b'{"pid":1}'
CHUNK = 250  # requests in flight while setting up

clock = time.perf_counter


# -- clients -------------------------------------------------------------------------


async def _registry(ctx: Context) -> Registry:
    registry = Registry(ctx.address)
    await registry.start()
    return registry


async def _aiozk(ctx: Context) -> aiozk.ZKClient:
    client = aiozk.ZKClient(ctx.address, session_timeout=10)
    await client.start()
    return client


async def _kazoo(ctx: Context) -> KazooClient:
    client = KazooClient(hosts=ctx.address, timeout=10.0)
    await asyncio.to_thread(client.start, 10.0)
    return client


async def _kazoo_close(client: KazooClient) -> None:
    def close() -> None:
        client.stop()
        client.close()

    await asyncio.to_thread(close)


async def _chunked(calls: Sequence[Callable[[], Awaitable[Any]]]) -> list[Any]:
    results: list[Any] = []
    for i in range(0, len(calls), CHUNK):
        results += await asyncio.gather(*(call() for call in calls[i : i + CHUNK]))
    return results


def _ms(seconds: float) -> float:
    return seconds * 1e3


# -- 1. registration to view ---------------------------------------------------------------

LATENCY = "Registration and views: registration to view"
SEEN = "child created → another session's watcher has it"
CALL = "the writer's register() / create() returns"

#: Per child: until the watcher had it, and until the writer's call returned (s).
Timings = tuple[list[float], list[float]]


class _AsyncSeen:
    """When each child name was first seen, and futures for the names awaited."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self._waiting: dict[str, asyncio.Future[float]] = {}

    def expect(self, name: str) -> asyncio.Future[float]:
        future = asyncio.get_running_loop().create_future()
        self._waiting[name] = future
        return future

    def saw(self, names: Sequence[str]) -> None:
        now = clock()
        for name in names:
            if name not in self.at:
                self.at[name] = now
                future = self._waiting.pop(name, None)
                if future is not None and not future.done():
                    future.set_result(now)


async def _latency_aiozkreg(
    ctx: Context, writer: Registry, watcher: Registry, n: int, *, register: bool
) -> Timings:
    parent = ctx.fresh_path("register-view" if register else "create-view")
    await writer.ensure_path(parent)
    seen = _AsyncSeen()
    view = await watcher.children(parent)

    async def consume() -> None:
        async for names in view:
            seen.saw(names)

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0)
    latencies: list[float] = []
    calls: list[float] = []
    registrations = []
    created: list[str] = []
    try:
        quiet()
        for i in range(n):
            name = f"h:{i + 1}"
            arrived = seen.expect(name)
            start = clock()
            if register:
                registrations.append(await writer.register(parent, name))
            else:
                created.append(await writer.create(f"{parent}/{name}", DATA, ephemeral=True))
            calls.append(clock() - start)
            latencies.append(await asyncio.wait_for(arrived, 10) - start)
    finally:
        await view.close()
        await asyncio.wait_for(consumer, 10)
        await asyncio.gather(*(r.unregister() for r in registrations))
        await asyncio.gather(*(writer.delete(path) for path in created))
    return latencies, calls


async def _latency_aiozk(
    ctx: Context, writer: aiozk.ZKClient, watcher: aiozk.ZKClient, n: int
) -> Timings:
    parent = ctx.fresh_path("aiozk-view")
    await writer.ensure_path(parent)
    seen = _AsyncSeen()
    ready = asyncio.get_running_loop().create_future()

    def callback(children: Any) -> None:
        if isinstance(children, list):
            seen.saw(children)
        if not ready.done():
            ready.set_result(None)

    recipe = watcher.recipes.ChildrenWatcher()
    recipe.add_callback(parent, callback)
    await asyncio.wait_for(ready, 10)
    latencies: list[float] = []
    calls: list[float] = []
    created: list[str] = []
    try:
        quiet()
        for i in range(n):
            name = f"h:{i + 1}"
            arrived = seen.expect(name)
            start = clock()
            await writer.create(f"{parent}/{name}", data=DATA, ephemeral=True)
            calls.append(clock() - start)
            created.append(f"{parent}/{name}")
            latencies.append(await asyncio.wait_for(arrived, 10) - start)
    finally:
        recipe.remove_callback(parent, callback)
        await asyncio.gather(*(writer.delete(path, force=True) for path in created))
    return latencies, calls


def _latency_kazoo(writer: KazooClient, watcher: KazooClient, parent: str, n: int) -> Timings:
    """In a worker thread: create children one by one, each awaited through a ChildrenWatch."""
    writer.ensure_path(parent)
    at: dict[str, float] = {}
    waiting: dict[str, threading.Event] = {}
    stop = threading.Event()

    def callback(children: list[str]) -> bool | None:
        now = clock()
        if stop.is_set():
            return False
        for name in children:
            if name not in at:
                at[name] = now
                event = waiting.get(name)
                if event is not None:
                    event.set()
        return None

    ChildrenWatch(watcher, parent, callback)  # calls back once before returning
    latencies: list[float] = []
    calls: list[float] = []
    created: list[str] = []
    try:
        gc.collect()
        for i in range(n):
            name = f"h:{i + 1}"
            arrived = waiting[name] = threading.Event()
            start = clock()
            created.append(writer.create(f"{parent}/{name}", DATA, ephemeral=True))
            calls.append(clock() - start)
            if not arrived.wait(10):
                raise TimeoutError(f"kazoo's ChildrenWatch never saw {name}")
            latencies.append(at[name] - start)
    finally:
        stop.set()
        for result in [writer.delete_async(path) for path in created]:
            result.get()
    return latencies, calls


async def run_latency(ctx: Context) -> list[Measurement]:
    n = ctx.scale(200, 50)
    rows = Rows(LATENCY)
    writer, watcher = await _registry(ctx), await _registry(ctx)
    aiozk_writer, aiozk_watcher = await _aiozk(ctx), await _aiozk(ctx)
    kazoo_writer, kazoo_watcher = await _kazoo(ctx), await _kazoo(ctx)
    variants: list[tuple[str, Callable[[int], Awaitable[Timings]]]] = [
        (REG, lambda k: _latency_aiozkreg(ctx, writer, watcher, k, register=True)),
        (REG_CREATE, lambda k: _latency_aiozkreg(ctx, writer, watcher, k, register=False)),
        (AIOZK, lambda k: _latency_aiozk(ctx, aiozk_writer, aiozk_watcher, k)),
        (
            KAZOO,
            lambda k: asyncio.to_thread(
                _latency_kazoo, kazoo_writer, kazoo_watcher, ctx.fresh_path("kazoo-view"), k
            ),
        ),
    ]
    try:
        for _, variant in variants:  # warm-up, not recorded
            await variant(ctx.scale(50, 10))
        for round_ in range(ctx.rounds):
            shift = round_ % len(variants)
            for client, variant in variants[shift:] + variants[:shift]:
                latencies, calls = await variant(n)
                rows.add(f"{SEEN}, p50", "ms", "lower", client, _ms(percentile(latencies, 50)))
                rows.add(f"{SEEN}, p99", "ms", "lower", client, _ms(percentile(latencies, 99)))
                rows.add(f"{CALL}, p50", "ms", "lower", client, _ms(percentile(calls, 50)))
    finally:
        await _kazoo_close(kazoo_watcher)
        await _kazoo_close(kazoo_writer)
        await aiozk_watcher.close()
        await aiozk_writer.close()
        await watcher.close()
        await writer.close()
    return rows.measurements([REG, REG_CREATE, AIOZK, KAZOO])


# -- 2. 100 views of one path ----------------------------------------------------------------

FANOUT = "Registration and views: 100 views of one path"
FANOUT_GOAL_MS = 5.0


class _Fanout:
    """Which of ``size`` watchers have seen the current target name, and when."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.target: str | None = None
        self.hit = [False] * size
        self.count = 0
        self.first = self.last = 0.0
        self._done: Callable[[], Any] = lambda: None

    def arm(self, target: str, done: Callable[[], Any]) -> None:
        self.hit = [False] * self.size
        self.count = 0
        self._done = done
        self.target = target

    def saw(self, index: int, names: Container[str]) -> None:
        target = self.target
        if target is None or self.hit[index] or target not in names:
            return
        now = clock()
        self.hit[index] = True
        self.count += 1
        if self.count == 1:
            self.first = now
        if self.count == self.size:
            self.last = now
            self._done()


class _FanoutResult:
    def __init__(self) -> None:
        self.first: list[float] = []
        self.last: list[float] = []
        self.client_watches = 0
        self.server_watches = 0
        self.requests_per_change = 0.0


async def _fanout_aiozkreg(
    ctx: Context, writer: Registry, watcher: Registry, size: int, changes: int
) -> _FanoutResult:
    parent = ctx.fresh_path("fanout")
    await writer.ensure_path(parent)
    result = _FanoutResult()
    before = await asyncio.to_thread(server_watch_count, ctx)
    views = [await watcher.children(parent) for _ in range(size)]
    fan = _Fanout(size)
    for index, view in enumerate(views):
        view(partial(_view_saw, fan, index))
    result.client_watches = len(watcher._session.watches)
    result.server_watches = await asyncio.to_thread(server_watch_count, ctx) - before
    sid = watcher.client_id[0]
    packets = await asyncio.to_thread(packets_received, ctx, sid)
    created: list[str] = []
    try:
        quiet()
        for change in range(changes):
            done = asyncio.get_running_loop().create_future()
            fan.arm(f"n{change}", partial(done.set_result, None))
            start = clock()
            created.append(await writer.create(f"{parent}/n{change}", DATA, ephemeral=True))
            await asyncio.wait_for(done, 10)
            result.first.append(fan.first - start)
            result.last.append(fan.last - start)
        await asyncio.sleep(0.05)  # the rest of the re-reads, as for the others
        sent = await asyncio.to_thread(packets_received, ctx, sid) - packets
        result.requests_per_change = sent / changes
    finally:
        for view in views:
            await view.close()
        await asyncio.gather(*(writer.delete(path) for path in created))
    return result


def _view_saw(fan: _Fanout, index: int, view: Any) -> None:
    fan.saw(index, view)


async def _fanout_aiozk(
    ctx: Context, writer: aiozk.ZKClient, watcher: aiozk.ZKClient, size: int, changes: int
) -> _FanoutResult:
    parent = ctx.fresh_path("aiozk-fanout")
    await writer.ensure_path(parent)
    result = _FanoutResult()
    fan = _Fanout(size)
    loop = asyncio.get_running_loop()
    initial = [loop.create_future() for _ in range(size)]

    def callback(index: int, children: Any) -> None:
        if not initial[index].done():
            initial[index].set_result(None)
        if isinstance(children, list):
            fan.saw(index, children)

    before = await asyncio.to_thread(server_watch_count, ctx)
    recipes = []
    for index in range(size):
        recipe = watcher.recipes.ChildrenWatcher()
        recipe.add_callback(parent, partial(callback, index))
        recipes.append(recipe)
    await asyncio.wait_for(asyncio.gather(*initial), 10)
    key = (WatchEvent.CHILDREN_CHANGED, parent)
    result.client_watches = len(watcher.session.watch_callbacks.get(key, ()))
    result.server_watches = await asyncio.to_thread(server_watch_count, ctx) - before
    sid = watcher.session.session_id
    packets = await asyncio.to_thread(packets_received, ctx, sid)
    created: list[str] = []
    try:
        quiet()
        for change in range(changes):
            done = loop.create_future()
            fan.arm(f"n{change}", partial(done.set_result, None))
            start = clock()
            await writer.create(f"{parent}/n{change}", data=DATA, ephemeral=True)
            created.append(f"{parent}/n{change}")
            await asyncio.wait_for(done, 10)
            result.first.append(fan.first - start)
            result.last.append(fan.last - start)
        await asyncio.sleep(0.05)  # the rest of the re-reads (aiozk has no settle)
        sent = await asyncio.to_thread(packets_received, ctx, sid) - packets
        result.requests_per_change = sent / changes
    finally:
        for recipe in recipes:
            for callback_ in list(recipe.callbacks.get(parent, ())):
                recipe.remove_callback(parent, callback_)
        await asyncio.gather(*(writer.delete(path, force=True) for path in created))
    return result


def _fanout_kazoo(
    ctx: Context, writer: KazooClient, watcher: KazooClient, size: int, changes: int
) -> _FanoutResult:
    """In a worker thread: ``size`` ChildrenWatch objects on one path."""
    parent = ctx.fresh_path("kazoo-fanout")
    writer.ensure_path(parent)
    result = _FanoutResult()
    fan = _Fanout(size)
    stop = threading.Event()

    def callback(index: int, children: list[str]) -> bool | None:
        if stop.is_set():
            return False
        fan.saw(index, children)
        return None

    before = server_watch_count(ctx)
    for index in range(size):
        ChildrenWatch(watcher, parent, partial(callback, index))
    result.client_watches = len(watcher._child_watchers.get(parent, ()))
    result.server_watches = server_watch_count(ctx) - before
    sid = watcher.client_id[0]
    packets = packets_received(ctx, sid)
    created: list[str] = []
    try:
        gc.collect()
        for change in range(changes):
            done = threading.Event()
            fan.arm(f"n{change}", done.set)
            start = clock()
            created.append(writer.create(f"{parent}/n{change}", DATA, ephemeral=True))
            if not done.wait(10):
                raise TimeoutError("kazoo's ChildrenWatch objects were not all notified")
            result.first.append(fan.first - start)
            result.last.append(fan.last - start)
        time.sleep(0.05)  # the rest of the re-reads
        result.requests_per_change = (packets_received(ctx, sid) - packets) / changes
    finally:
        stop.set()
        for done_ in [writer.delete_async(path) for path in created]:
            done_.get()
    return result


async def run_fanout(ctx: Context) -> list[Measurement]:
    size = 100
    changes = ctx.scale(20, 5)
    rows = Rows(FANOUT)
    writer, watcher = await _registry(ctx), await _registry(ctx)
    aiozk_writer, aiozk_watcher = await _aiozk(ctx), await _aiozk(ctx)
    kazoo_writer, kazoo_watcher = await _kazoo(ctx), await _kazoo(ctx)
    variants: list[tuple[str, Callable[[int], Awaitable[_FanoutResult]]]] = [
        (REG, lambda k: _fanout_aiozkreg(ctx, writer, watcher, size, k)),
        (AIOZK, lambda k: _fanout_aiozk(ctx, aiozk_writer, aiozk_watcher, size, k)),
        (
            KAZOO,
            lambda k: asyncio.to_thread(_fanout_kazoo, ctx, kazoo_writer, kazoo_watcher, size, k),
        ),
    ]
    all_ = f"all {size} notified after a create"
    try:
        for _, variant in variants:  # warm-up, not recorded
            await variant(3)
        for round_ in range(ctx.rounds):
            shift = round_ % len(variants)
            for client, variant in variants[shift:] + variants[:shift]:
                r = await variant(changes)
                rows.add(f"{all_}, p50", "ms", "lower", client, _ms(percentile(r.last, 50)))
                rows.add(f"{all_}, p99", "ms", "lower", client, _ms(percentile(r.last, 99)))
                first = f"first of {size} notified, p50"
                rows.add(first, "ms", "lower", client, _ms(percentile(r.first, 50)))
                watches = "watch registrations in the client for the path"
                rows.add(watches, "count", "lower", client, r.client_watches)
                rows.add(
                    "watches the server holds for them", "count", "lower", client, r.server_watches
                )
                rows.add(
                    "requests from the watching session per change",
                    "count",
                    "lower",
                    client,
                    r.requests_per_change,
                )
    finally:
        await _kazoo_close(kazoo_watcher)
        await _kazoo_close(kazoo_writer)
        await aiozk_watcher.close()
        await aiozk_writer.close()
        await watcher.close()
        await writer.close()
    rows.goal(f"{all_}, p50", "ms", "lower", FANOUT_GOAL_MS)
    rows.goal("watch registrations in the client for the path", "count", "lower", 1)
    rows.goal("watches the server holds for them", "count", "lower", 1)
    return rows.measurements([REG, AIOZK, KAZOO])


# -- 3. restore after expiry ---------------------------------------------------------------------

RESTORE = "Registration and views: restore after expiry"
RESTORE_GOAL_MS = 1000.0


async def _restore_round(
    ctx: Context, registry: Registry, observer: Registry, view: Any, n: int
) -> tuple[float, float, float, int]:
    """Expire ``registry``'s session: (expiry to CONNECTED, CONNECTED to full view,
    CONNECTED to settled, requests the observer sent meanwhile)."""
    await settle(registry)
    await settle(observer)
    observer_sid = observer.client_id[0]
    packets = await asyncio.to_thread(packets_received, ctx, observer_sid)
    if len(view) != n:
        raise RuntimeError(f"the observer sees {len(view)} registrations, not {n}")
    loop = asyncio.get_running_loop()
    full: asyncio.Future[float] = loop.create_future()

    async def watch() -> None:
        dropped = False
        async for names in view:
            if len(names) < n:
                dropped = True
            elif dropped:
                full.set_result(loop.time())
                return

    watching = asyncio.create_task(watch())
    await asyncio.sleep(0)
    states = registry.states()
    old = registry.client_id[0]

    async def settled() -> float:
        await settle(registry, timeout=60)
        return loop.time()

    quiet()
    began = loop.time()
    await expire_session(registry)
    async for change in states:
        if change.state is SessionState.CONNECTED and change.session_id != old:
            connected = loop.time()
            break
    settling = asyncio.create_task(settled())
    try:
        seen = await asyncio.wait_for(full, 60)
        done = await settling
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
    await settle(observer)
    reads = await asyncio.to_thread(packets_received, ctx, observer_sid) - packets - 1  # settle
    return connected - began, seen - connected, done - connected, reads


async def run_restore(ctx: Context) -> list[Measurement]:
    n = ctx.scale(1000, 200)
    rows = Rows(RESTORE)
    registry, observer = await _registry(ctx), await _registry(ctx)
    try:
        parent = ctx.fresh_path("restore")
        await registry.ensure_path(parent)
        registrations = await _chunked(
            [partial(registry.register, parent, f"h:{i + 1}") for i in range(n)]
        )
        view = await observer.children(parent)
        for round_ in range(ctx.rounds + 1):  # the first is a warm-up
            expiry, seen, settled, reads = await _restore_round(ctx, registry, observer, view, n)
            if round_ == 0:
                continue
            rows.add("expiry → new session connected", "ms", "lower", REG, _ms(expiry))
            rows.add(
                f"new session → observer's view has all {n:,} again",
                "ms",
                "lower",
                REG,
                _ms(seen),
            )
            rows.add("new session → settle(registry) returns", "ms", "lower", REG, _ms(settled))
            rows.add("observer's re-reads of the children", "count", "lower", REG, reads)
        await view.close()
        await asyncio.gather(*(r.unregister() for r in registrations))
    finally:
        await observer.close()
        await registry.close()
    rows.goal(f"new session → observer's view has all {n:,} again", "ms", "lower", RESTORE_GOAL_MS)
    rows.goal("new session → settle(registry) returns", "ms", "lower", RESTORE_GOAL_MS)
    return rows.measurements([REG])


# -- 4. memory per view ---------------------------------------------------------------------

MEMORY = "Registration and views: memory per view"
MEMORY_GOAL = 1024.0
PROPERTIES = {"address": "10.0.0.1:8080", "weight": 3, "zone": "a"}


def _traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def _closed(zk: Registry) -> None:
    """Wait for what closing views started: the watch removals sent to the server."""
    await settle(zk)


async def _memory_aiozkreg(ctx: Context, paths: list[str], raws: list[bytes]) -> dict[str, float]:
    """Bytes per view of each kind, in a fresh registry (nothing left from before)."""
    n = len(paths)
    zk = await _registry(ctx)
    out: dict[str, float] = {}
    try:
        gc.collect()
        tracemalloc.start()
        try:
            base = _traced()
            views = [await zk.children(p) for p in paths]
            mark = _traced()
            out["children"] = (mark - base) / n
            more = [await zk.children(p) for p in paths]
            out["extra"] = (_traced() - mark) / n
            mark = _traced()
            props = [await zk.properties(p) for p in paths]
            out["properties"] = (_traced() - mark) / n
            mark = _traced()
            data = [json.loads(raw) for raw in raws]  # what a properties view holds as data
            out["data"] = (_traced() - mark) / n
            del data
            for view in [*views, *more, *props]:
                await view.close()
            del views, more, props
            await _closed(zk)
            mark = _traced()
            out["left"] = (mark - base) / (3 * n)
            ends = []
            for _ in range(2):  # more cycles reuse that room: a leak would add to it
                again = [await zk.children(p) for p in paths]
                for view in again:
                    await view.close()
                del again
                await _closed(zk)
                ends.append(_traced())
            out["growth"] = (ends[1] - ends[0]) / n
        finally:
            tracemalloc.stop()
    finally:
        await zk.close()
    return out


async def _memory_aiozk(ctx: Context, paths: list[str]) -> float:
    client = await _aiozk(ctx)
    try:
        loop = asyncio.get_running_loop()
        loaded = loop.create_future()
        count = 0

        def callback(children: Any) -> None:
            nonlocal count
            count += 1
            if count == len(paths) and not loaded.done():
                loaded.set_result(None)

        recipe = client.recipes.ChildrenWatcher()
        gc.collect()
        tracemalloc.start()
        try:
            base = _traced()
            for path in paths:
                recipe.add_callback(path, callback)
            await asyncio.wait_for(loaded, 60)
            per_watch = (_traced() - base) / len(paths)
        finally:
            tracemalloc.stop()
        for path in paths:
            recipe.remove_callback(path, callback)
        await asyncio.sleep(0)
    finally:
        await client.close()
    return per_watch


def _memory_kazoo(ctx: Context, paths: list[str]) -> float:
    """In a worker thread: a ChildrenWatch per path, in a fresh client."""
    client = KazooClient(hosts=ctx.address, timeout=10.0)
    client.start(10.0)

    def callback(children: list[str]) -> None:
        return None

    try:
        gc.collect()
        tracemalloc.start()
        try:
            base = _traced()
            watches = [ChildrenWatch(client, path, callback) for path in paths]
            per_watch = (_traced() - base) / len(paths)
            del watches
        finally:
            tracemalloc.stop()
    finally:
        client.stop()
        client.close()
    return per_watch


async def run_memory(ctx: Context) -> list[Measurement]:
    n = ctx.scale(2000, 300)
    rows = Rows(MEMORY)
    setup = await _registry(ctx)
    parent = ctx.fresh_path("memory")
    paths = [f"{parent}/n{i:04d}" for i in range(n)]
    raw = json.dumps(PROPERTIES, separators=(",", ":")).encode()
    try:
        await setup.ensure_path(parent)
        await _chunked([partial(setup.create, path, raw) for path in paths])
    finally:
        await setup.close()
    raws = [raw] * n  # the bytes outlive the measurement: only the decoded data counts
    own = f"children view, each on its own path ({n:,})"

    async def aiozkreg_() -> None:
        out = await _memory_aiozkreg(ctx, paths, raws)
        rows.add(own, "bytes", "lower", REG, out["children"])
        rows.add("another children view of a watched path", "bytes", "lower", REG, out["extra"])
        rows.add("properties view, each on its own path", "bytes", "lower", REG, out["properties"])
        rows.add("  of which the decoded data (a dict)", "bytes", "lower", REG, out["data"])
        rows.add(
            "properties view beyond its data",
            "bytes",
            "lower",
            REG,
            out["properties"] - out["data"],
        )
        rows.add("left per view after closing them all", "bytes", "lower", REG, out["left"])
        rows.add(
            "growth per view from the 2nd to the 3rd open-and-close cycle",
            "bytes",
            "lower",
            REG,
            out["growth"],
        )

    async def aiozk_() -> None:
        rows.add(own, "bytes", "lower", AIOZK, await _memory_aiozk(ctx, paths))

    async def kazoo_() -> None:
        rows.add(own, "bytes", "lower", KAZOO, await asyncio.to_thread(_memory_kazoo, ctx, paths))

    variants: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        (REG, aiozkreg_),
        (AIOZK, aiozk_),
        (KAZOO, kazoo_),
    ]
    rounds = min(ctx.rounds, 3)  # deterministic to a few bytes: 3 rounds show it
    for round_ in range(rounds):
        shift = round_ % len(variants)
        for _, variant in variants[shift:] + variants[:shift]:
            await variant()
    rows.goal(own, "bytes", "lower", MEMORY_GOAL)
    rows.goal("another children view of a watched path", "bytes", "lower", MEMORY_GOAL)
    rows.goal("properties view beyond its data", "bytes", "lower", MEMORY_GOAL)
    return rows.measurements([REG, AIOZK, KAZOO])


BENCHMARKS = [
    Benchmark(
        name="view-latency",
        section=LATENCY,
        description=(
            "A child created by one session, seen by another session's watcher: "
            "register()/create() + children view, aiozk ChildrenWatcher, kazoo ChildrenWatch."
        ),
        run=run_latency,
        comparisons=(
            Comparison(REG, AIOZK, {"has it, p50": 1.0}),
            Comparison(REG_CREATE, AIOZK, {"has it, p50": 1.0}),
            Comparison(REG, KAZOO),
        ),
    ),
    Benchmark(
        name="view-fanout",
        section=FANOUT,
        description="100 watchers of one path in one session, all notified of a new child.",
        run=run_fanout,
        comparisons=(goal_comparison(REG), Comparison(REG, AIOZK), Comparison(REG, KAZOO)),
    ),
    Benchmark(
        name="view-restore",
        section=RESTORE,
        description="1,000 registrations restored after a session expiry, seen by an observer.",
        run=run_restore,
        comparisons=(goal_comparison(REG),),
    ),
    Benchmark(
        name="view-memory",
        section=MEMORY,
        description="Python memory (tracemalloc) per live view, vs aiozk and kazoo watchers.",
        run=run_memory,
        comparisons=(goal_comparison(REG), Comparison(REG, AIOZK), Comparison(REG, KAZOO)),
    ),
]
