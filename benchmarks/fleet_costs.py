"""What the fleet costs the ensemble, and how that grows (docs/scaling.md).

Measured in the running fleet, one configuration at a time:

- server side: sessions (connections), watches (``mntr zk_watch_count``,
  summed over the members), znodes; the ensemble's CPU and packets per
  second while the fleet is idle (pings only);
- client side: the requests every registry sent (``zk.metrics()``) for one
  data change in each service (``reg.update()``) and for one provider
  leaving and coming back in each service (unregister, register), divided
  by the number of changes; the changes themselves are included.

Configurations: the registrations alone, then 60, 120 and 240 provider
sets; and, on top of the 60, one registry watching every service with 20
provider sets, or with one tree (``zk.tree("/fleet")``).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from fleet_driver import Fleet
from fleet_worker import ROOT, SERVICES

clock = time.monotonic

Row = dict[str, float]


async def _requests(fleet: Fleet) -> Counter[str]:
    total: Counter[str] = Counter()
    for row in await fleet.rows("sessions"):
        total.update(row["requests"])
    return total


async def _quiet(fleet: Fleet, still: float = 0.3) -> Counter[str]:
    """Wait until no registry has sent a request for ``still`` seconds; the totals then.

    (Not ``settle()``: it sends a request of its own from every registry.)
    """
    last = await _requests(fleet)
    while True:
        await asyncio.sleep(still)
        now = await _requests(fleet)
        if now == last:
            return now
        last = now


def _per_change(before: Counter[str], after: Counter[str], changes: int) -> dict[str, float]:
    delta = after - before
    return {op: n / changes for op, n in sorted(delta.items())}


async def footprint(fleet: Fleet, offset: int) -> Row:
    """The configuration now: watches, sessions, requests per change."""
    await fleet.settle()
    watches = sum((await asyncio.to_thread(fleet.mntr, "zk_watch_count")).values())
    srvr = await asyncio.to_thread(fleet.srvr)
    sessions = await fleet.rows("sessions")
    client_watches = sum(r["watches"] for r in sessions)
    before = await _quiet(fleet)
    await fleet.per_member("update", fleet.one_per_service(offset), epoch=5000 + offset)
    middle = await _quiet(fleet)
    await fleet.per_member("bounce", fleet.one_per_service(offset + 1))
    after = await _quiet(fleet)
    update = _per_change(before, middle, SERVICES)
    bounce = _per_change(middle, after, SERVICES)
    row: Row = {
        "sessions": sum(1 for r in sessions if r["session"]),
        "znodes": max(int(r.get("nodes", 0)) for r in srvr.values()),
        "server watches": watches,
        "client watches": client_watches,
        "requests per data change": sum(update.values()),
        "requests per provider leaving and coming back": sum(bounce.values()),
    }
    row |= {f"  data change: {op}": n for op, n in update.items()}
    row |= {f"  leave and come back: {op}": n for op, n in bounce.items()}
    return row


async def idle(fleet: Fleet, seconds: float = 5.0) -> Row:
    """What the idle fleet costs the ensemble: packets and CPU per second."""
    await fleet.settle()
    received = sum(
        int(r.get("received", 0)) for r in (await asyncio.to_thread(fleet.srvr)).values()
    )
    cpu, start = fleet.cpu_seconds(), clock()
    await asyncio.sleep(seconds)
    elapsed = clock() - start
    now = sum(int(r.get("received", 0)) for r in (await asyncio.to_thread(fleet.srvr)).values())
    return {
        "idle packets/s": (now - received) / elapsed,
        "idle ensemble CPU, % of a core": 100 * (fleet.cpu_seconds() - cpu) / elapsed,
    }


def extra_sets(fleet: Fleet, first: int, count: int) -> list[list[int]]:
    """Provider sets ``first``..: one per (registry, service) pair not yet watched."""
    taken = {(member, service) for _, service, member in fleet.sets}
    out = []
    number, candidate = first, 1
    while len(out) < count:
        service = number % SERVICES
        member = (candidate * 7 + 1) % fleet.registries
        candidate += 1
        if (member, service) in taken:
            continue
        taken.add((member, service))
        out.append([number, service, member])
        number += 1
    return out


async def open_sets(fleet: Fleet, sets: list[list[int]]) -> None:
    await asyncio.gather(
        *(
            w.ask("open_sets", sets=[s for s in sets if fleet.worker_of(s[2]) is w])
            for w in fleet.workers
        )
    )
    fleet.sets += sets


async def close_sets(fleet: Fleet, sets: list[list[int]]) -> None:
    numbers = [s[0] for s in sets]
    await fleet.ask_all("close_sets", numbers=numbers)
    fleet.sets = [s for s in fleet.sets if s[0] not in set(numbers)]


async def growth(fleet: Fleet, base: list[list[int]]) -> list[tuple[str, Row]]:
    """Footprints from no provider set to 240, then one registry watching everything."""
    rows: list[tuple[str, Row]] = []
    offset = 0

    async def measure(label: str) -> None:
        nonlocal offset
        rows.append((label, await footprint(fleet, offset)))
        offset += 2

    idle_row = await idle(fleet)
    await measure("registrations only")
    rows[-1][1].update(idle_row)
    await open_sets(fleet, base)
    await measure(f"+ {len(base)} provider sets")
    more = extra_sets(fleet, 10_000, len(base))
    await open_sets(fleet, more)
    await measure(f"+ {2 * len(base)} provider sets")
    most = extra_sets(fleet, 20_000, 2 * len(base))
    await open_sets(fleet, most)
    await measure(f"+ {4 * len(base)} provider sets")
    rows[-1][1].update(await idle(fleet))
    await close_sets(fleet, more + most)
    # one registry that holds no set yet watches every service
    watcher = next(m for m in range(fleet.registries) if all(s[2] != m for s in fleet.sets))
    every = [[30_000 + s, s, watcher] for s in range(SERVICES)]
    await open_sets(fleet, every)
    await measure(f"{len(base)} sets + one registry with {SERVICES} provider sets")
    await close_sets(fleet, every)
    await fleet.worker_of(watcher).ask("open_tree", member=watcher)
    await measure(f"{len(base)} sets + one registry with one tree of {ROOT}")
    await fleet.ask_all("close_trees")
    return rows


def describe(rows: list[tuple[str, Row]]) -> dict[str, Any]:
    return {label: row for label, row in rows}
