"""Issue 3: request throughput with many requests in flight, and sequential latency.

Each client works in its own fresh parent node per round. One round of one
client is, in this order:

1. N creates of 32-byte persistent nodes, all in flight at once (ops/s);
2. N get_data of those nodes, all in flight (ops/s);
3. M creates one after another, each timed (p50 and p99, ms);
4. M get_data one after another, each timed (p50 and p99, ms);

and the client's CPU time (``time.process_time``, the whole process, so
kazoo's threads count) divided by the number of requests, for each of the
four. Every round runs every client back to back, starting with a
different one each round so that none always runs first; every cell is the
median over rounds.
"""

from __future__ import annotations

import re
from collections import defaultdict

from _bench import Benchmark, Better, Comparison, Context, Measurement, percentile, quiet
from clients import CLIENTS, Client, MinimalClientLimit

ORDER = 10
SECTION = "Requests"
VALUE = b"v" * 32
BATCH_TARGET = 0.7  # aiozkreg >= 0.7x the minimal client for in-flight throughput


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


async def _warm_up(ctx: Context, clients: list[Client]) -> None:
    """Get the server's JIT compiler past its first tiers, then touch every client's paths."""
    limit = next(c for c in clients if isinstance(c, MinimalClientLimit))
    parent = ctx.fresh_path("warm-up")
    await limit.make_parent(parent)
    size = 3000
    for batch in range(ctx.scale(12, 2)):
        paths = [f"{parent}/b{batch}-{i}" for i in range(size)]
        await limit.create_in_flight(paths, VALUE)
        await limit.get_in_flight(paths)
        await limit.get_sequential(paths[:200])
    for client in clients:
        await _one_round(ctx, client, ctx.scale(1000, 100), ctx.scale(200, 50))


Row = tuple[str, str, Better, float]  # work, unit, better, value


async def _one_round(ctx: Context, client: Client, in_flight: int, sequential: int) -> list[Row]:
    """One client's four measurements in a fresh parent node."""
    parent = ctx.fresh_path(_slug(client.name))
    await client.make_parent(parent)
    paths = [f"{parent}/n{i:05d}" for i in range(in_flight)]
    seq_paths = [f"{parent}/s{i:05d}" for i in range(sequential)]

    quiet()
    creates = await client.create_in_flight(paths, VALUE)
    quiet()
    gets = await client.get_in_flight(paths)
    quiet()
    seq_creates = await client.create_sequential(seq_paths, VALUE)
    quiet()
    seq_gets = await client.get_sequential(paths[:sequential])

    def p(latencies: list[int], q: float) -> float:
        return percentile(latencies, q) / 1e6

    cpu = "client CPU per request"
    return [
        (f"{in_flight:,} creates, all in flight", "ops/s", "higher", in_flight / creates.wall),
        (f"{in_flight:,} get_data, all in flight", "ops/s", "higher", in_flight / gets.wall),
        ("sequential create, p50", "ms", "lower", p(seq_creates.latencies_ns, 50)),
        ("sequential create, p99", "ms", "lower", p(seq_creates.latencies_ns, 99)),
        ("sequential get, p50", "ms", "lower", p(seq_gets.latencies_ns, 50)),
        ("sequential get, p99", "ms", "lower", p(seq_gets.latencies_ns, 99)),
        (f"{cpu}, creates in flight", "µs", "lower", creates.cpu / in_flight * 1e6),
        (f"{cpu}, gets in flight", "µs", "lower", gets.cpu / in_flight * 1e6),
        (f"{cpu}, sequential create", "µs", "lower", seq_creates.cpu / sequential * 1e6),
        (f"{cpu}, sequential get", "µs", "lower", seq_gets.cpu / sequential * 1e6),
    ]


async def run(ctx: Context) -> list[Measurement]:
    in_flight = ctx.scale(3000, 500)
    sequential = ctx.scale(500, 100)
    rows: dict[tuple[str, str, Better, str], list[float]] = defaultdict(list)
    clients: list[Client] = []
    try:
        for cls in CLIENTS:
            client = cls()
            await client.start(ctx.address)
            clients.append(client)
        await _warm_up(ctx, clients)
        for round_ in range(ctx.rounds):
            shift = round_ % len(clients)
            for client in clients[shift:] + clients[:shift]:
                for work, unit, better, value in await _one_round(
                    ctx, client, in_flight, sequential
                ):
                    rows[(work, unit, better, client.name)].append(value)
    finally:
        for client in reversed(clients):
            await client.close()

    # Rows in the order they were first recorded, columns in CLIENTS order.
    order = {cls.name: i for i, cls in enumerate(CLIENTS)}
    works = list(dict.fromkeys(key[:3] for key in rows))
    return [
        Measurement(SECTION, work, client, unit, better, tuple(rows[(work, unit, better, client)]))
        for work, unit, better in works
        for client in sorted(order, key=order.__getitem__)
        if (work, unit, better, client) in rows
    ]


BENCHMARKS = [
    Benchmark(
        name="requests",
        section=SECTION,
        description=(
            "Creates and get_data, all in flight (ops/s) and one at a time "
            "(latency percentiles), plus the client's CPU per request."
        ),
        run=run,
        comparisons=(
            Comparison("aiozkreg", "minimal", {"all in flight": BATCH_TARGET}),
            Comparison("aiozkreg", "aiozk"),
        ),
    )
]
