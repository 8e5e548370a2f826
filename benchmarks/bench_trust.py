"""Issue 10: what live state you can trust costs.

``trust-freshness``
    Opening a view of a path another view already watches: with nothing
    pending (the shared source is handed out as it is: no round trip), and
    right after this registry's own ``set()`` of that path (the new view
    waits for the re-read the write's watch event started), against a view
    of an unwatched path (a full load) and one ``exists()`` round trip.
    Also: the requests the server receives per clean open (its ``cons``).
``trust-update``
    ``reg.update()`` rewriting the registration in place (one setData),
    against what it did before (a delete and a create in one transaction).
``trust-refused``
    100 registrations whose restore the server refuses (their parent's ACL
    no longer lets the registry create): the client CPU spent per second
    over the 10 s after the expiry (3 s with ``--quick``), and the attempts
    made in that time (one node probes for the parent, the others wait).
"""

from __future__ import annotations

import asyncio
import logging
import time

from _bench import Benchmark, Context, Measurement
from _common import Rows, goal_comparison, packets_received

from aiozkreg import ACL, OPEN_ACL_UNSAFE, Perm, Registry, make_digest_acl
from aiozkreg.testing import expire_session, settle

ORDER = 25
REG = "aiozkreg"
BEFORE = "delete + create (before)"

clock = time.perf_counter


async def _registry(ctx: Context, **options: object) -> Registry:
    registry = Registry(ctx.address, **options)  # type: ignore[arg-type]
    await registry.start()
    return registry


def _us(seconds: float, count: int) -> float:
    return seconds / count * 1e6


# -- 1. freshness ------------------------------------------------------------------------

FRESH = "Trust: fresh on open"
CLEAN = "open a view of a watched path, nothing pending"
AFTER_WRITE = "open it right after this registry's set() of it"
COLD = "open a view of an unwatched path (a full load)"
EXISTS = "one exists() round trip"
PACKETS = "requests the server receives per clean open"


async def run_freshness(ctx: Context) -> list[Measurement]:
    n = ctx.scale(2000, 200)
    rows = Rows(FRESH)
    zk = await _registry(ctx)
    try:
        path = ctx.fresh_path("fresh")
        await zk.create(path, b'{"n":0}', makepath=True)
        cold = [f"{path}/c{i}" for i in range(n)]
        await asyncio.gather(*(zk.create(p, b"{}") for p in cold))
        keeper = await zk.properties(path)
        for round_ in range(ctx.rounds + 1):
            await settle(zk)
            before = packets_received(ctx, zk.client_id[0])
            began = clock()
            for _ in range(n):
                view = await zk.properties(path)
                await view.close()
            clean = clock() - began
            packets = packets_received(ctx, zk.client_id[0]) - before - 1  # less the cons
            after = 0.0
            for i in range(n):
                await zk.set(path, b'{"n":%d}' % i)
                began = clock()
                view = await zk.properties(path)
                after += clock() - began
                await view.close()
            began = clock()
            for p in cold:
                view = await zk.properties(p)
                await view.close()
            full = clock() - began
            began = clock()
            for _ in range(n):
                await zk.exists(path)
            exists = clock() - began
            if round_ == 0:
                continue  # warm-up
            rows.add(CLEAN, "µs", "lower", REG, _us(clean, n))
            rows.add(AFTER_WRITE, "µs", "lower", REG, _us(after, n))
            rows.add(COLD, "µs", "lower", REG, _us(full, n))
            rows.add(EXISTS, "µs", "lower", REG, _us(exists, n))
            rows.add(PACKETS, "count", "lower", REG, max(packets, 0) / n)
        await keeper.close()
        await zk.delete_recursive(path)
    finally:
        await zk.close()
    return rows.measurements([REG])


# -- 2. update in place ------------------------------------------------------------------

UPDATE = "Trust: updating a registration"
UPDATE_ROW = "update() of one registration, per call"


async def run_update(ctx: Context) -> list[Measurement]:
    n = ctx.scale(2000, 200)
    rows = Rows(UPDATE)
    zk = await _registry(ctx)
    try:
        path = ctx.fresh_path("update")
        await zk.ensure_path(path)
        reg = await zk.register(path, "10.0.0.1:8080", n=0)
        node = await zk.create(f"{path}/10.0.0.2:8080", b'{"n":0}', acl=reg.acl, ephemeral=True)
        for round_ in range(ctx.rounds + 1):
            began = clock()
            for i in range(n):
                await reg.update(n=i)
            in_place = clock() - began
            began = clock()
            for i in range(n):  # what update() did before: replace the node (a plain one)
                stat = await zk.exists(node)
                assert stat is not None
                txn = zk.transaction()
                txn.delete(node, stat.version)
                txn.create(node, b'{"n":%d}' % i, acl=reg.acl, ephemeral=True)
                await txn.commit()
            replaced = clock() - began
            await settle(zk)
            if round_ == 0:
                continue
            rows.add(UPDATE_ROW, "µs", "lower", REG, _us(in_place, n))
            rows.add(UPDATE_ROW, "µs", "lower", BEFORE, _us(replaced, n))
        await reg.unregister()
    finally:
        await zk.close()
    return rows.measurements([REG, BEFORE])


# -- 3. a refused restore ----------------------------------------------------------------

REFUSED = "Trust: a restore the server refuses"
CPU = "client CPU while 100 refused restores wait (from the expiry on)"
ATTEMPTS = "attempts per registration in that time"
IDLE = "client CPU of an idle registry with 100 registrations"


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Retrying "):
            self.retries += 1


async def _cpu_over(window: float) -> float:
    """Process CPU time (ms) per second of wall time over ``window`` seconds."""
    cpu = time.process_time()
    await asyncio.sleep(window)  # a measurement window, not a synchronisation
    return (time.process_time() - cpu) / window * 1e3


async def run_refused(ctx: Context) -> list[Measurement]:
    window = ctx.scale(10, 3)
    rows = Rows(REFUSED)
    logger = logging.getLogger("aiozkreg.supervisor")
    count = _Count()
    logger.addHandler(count)
    old_level, old_propagate = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # counted, not printed
    admin = await _registry(ctx, auth=[("digest", "admin:secret")])
    zk = await _registry(ctx, session_timeout=10.0)
    try:
        path = ctx.fresh_path("refused")
        await admin.ensure_path(path)
        regs = await asyncio.gather(*(zk.register(path, f"10.0.0.1:{p}") for p in range(1, 101)))
        for round_ in range(min(ctx.rounds, 3)):  # 25 s a round: three are plenty
            await settle(zk)
            idle = await _cpu_over(window)
            await admin.set_acls(
                path, [ACL(Perm.READ, "world", "anyone"), make_digest_acl("admin", "secret")]
            )
            await expire_session(zk)
            await settle(zk)  # settled: every restore refused and backing off
            assert all(reg.error is not None for reg in regs)
            count.retries = 0
            spent = await _cpu_over(window)
            attempts = count.retries / len(regs)
            await admin.set_acls(path, OPEN_ACL_UNSAFE)
            async with asyncio.timeout(60), admin.children(path) as providers:
                async for names in providers:  # the backoff's next attempts restore them
                    if len(names) == len(regs):
                        break
            await settle(zk)
            assert all(reg.error is None for reg in regs)
            rows.add(IDLE, "ms/s", "lower", REG, idle)
            rows.add(CPU, "ms/s", "lower", REG, spent)
            rows.add(ATTEMPTS, "count", "lower", REG, attempts)
            del round_
        await asyncio.gather(*(reg.unregister() for reg in regs))
    finally:
        logger.removeHandler(count)
        logger.setLevel(old_level)
        logger.propagate = old_propagate
        await zk.close()
        await admin.close()
    rows.goal(CPU, "ms/s", "lower", 20.0)
    return rows.measurements([REG])


BENCHMARKS = [
    Benchmark(
        name="trust-freshness",
        section=FRESH,
        description="A new view of a watched path: clean, right after a write, cold.",
        run=run_freshness,
    ),
    Benchmark(
        name="trust-update",
        section=UPDATE,
        description="update() in place (setData) against delete + create in a transaction.",
        run=run_update,
    ),
    Benchmark(
        name="trust-refused",
        section=REFUSED,
        description="Client CPU while 100 restores are refused by the server's ACL.",
        run=run_refused,
        comparisons=(goal_comparison(REG),),
    ),
]
