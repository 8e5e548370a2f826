"""The fleet benchmark's scenarios on an ensemble with observers (issue 14 follow-up).

Both run on their own ensemble, 3 voters and 2 observers, never on the
one of scenarios 1-4 (which stays 3 voters, so that its numbers compare
with earlier runs). The fleet's registries talk to the voters only; the
provider sets are held by *watchers* (registries that register nothing,
``fleet_worker.py``'s groups), one set each, 3 per service.

5. :func:`watchers_on_observers`: the same changes (one registration per
   service updated, round after round) with the watchers on the voters,
   then on the observers (the order alternates by repeat): how soon every
   provider set shows a change (p50, p99), how long the writes take, and
   what the voters (and the leader, and the observers) spent per change,
   in CPU and in packets received. Then, with both groups watching, the
   leader is killed: do the watchers on observers lose their link or their
   session, and when are their provider sets right again.
6. :func:`quorum_lost`: 2 of the 3 voters (the leader among them) are
   killed; the survivor and the observers turn read-only
   (``-Dreadonlymode.enabled=true``). Two groups of watchers on every
   member, one with ``read_only=True``: what they can still do (``pick()``,
   reads, writes), whether new read-only registries start; the fleet
   updates one registration per service meanwhile. Then the voters are
   started again: when is every registry usable, every provider set right,
   and what was lost. Run on two ensembles: ZooKeeper's default (global
   sessions), and with ``localSessionsEnabled`` (which read-only sessions
   need).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
from typing import Any

from fleet_driver import Fleet, clock
from fleet_scenarios import Row, explain, sets_correct, wrong
from fleet_worker import PROBE, provider_slots

#: The JVM option and zoo.cfg settings of the two read-only capable ensembles.
READ_ONLY_JVM = ("-Dreadonlymode.enabled=true",)
LOCAL_SESSIONS = {"localSessionsEnabled": "true", "localSessionsUpgradingEnabled": "true"}

ON_VOTERS, ON_OBSERVERS = "on voters", "on observers"
READ_ONLY, PLAIN = "read-only", "plain"


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) of ``values``, nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def addresses(members: list[Any]) -> str:
    return ",".join(m.address for m in members)


async def setup_observed(fleet: Fleet, watchers: int) -> None:
    """Scenario 5's two groups: ``watchers`` on the voters, as many on the observers."""
    ensemble = fleet.ensemble
    await fleet.add_watchers(ON_VOTERS, addresses(list(ensemble.voters)), watchers, False)
    await fleet.add_watchers(ON_OBSERVERS, addresses(list(ensemble.observers)), watchers, False)


async def setup_quorum(fleet: Fleet, watchers: int) -> None:
    """Scenario 6's two groups on every member, one read-only; their provider sets open.
    (Scenario 5's groups, if any, are closed first.)"""
    for group in [g for g in fleet.groups if g not in (READ_ONLY, PLAIN)]:
        await fleet.drop_watchers(group)
    assert fleet.truth_client is not None
    await fleet.truth_client.ensure_path(PROBE)
    hosts = fleet.ensemble.connect_string
    await fleet.add_watchers(READ_ONLY, hosts, watchers, True)
    await fleet.add_watchers(PLAIN, hosts, watchers, False)
    await asyncio.gather(fleet.watch(READ_ONLY), fleet.watch(PLAIN))


# -- 5. watchers on observers -----------------------------------------------------------------


async def _changes(fleet: Fleet, group: str, rounds: int, epoch: int) -> Row:
    """``rounds`` rounds of one update per service, each seen by every set of ``group``."""
    await fleet.watch(group)
    await fleet.settle()
    voters = [m.id for m in fleet.ensemble.voters]
    observers = [m.id for m in fleet.ensemble.observers]
    leader = await fleet.leader()
    packets = await asyncio.to_thread(fleet.srvr)
    cpu = {i: fleet.member_cpu([i]) for i in voters + observers}
    seen: list[float] = []
    slowest: list[float] = []  # per change: until the last of its provider sets showed it
    writes: list[float] = []
    missed = 0
    for r in range(rounds):
        replies = await fleet.per_member("update", fleet.one_per_service(r), epoch=epoch + r)
        started: dict[int, float] = {}
        for reply in replies:
            for (member, slot), t0, t1 in zip(
                reply["slots"], reply["started"], reply["done"], strict=True
            ):
                started[provider_slots(member)[slot][0]] = t0
                writes.append(t1 - t0)
        shown = await fleet.ask_all("seen", group=group, epoch=epoch + r, timeout=10.0)
        last: dict[int, float] = {}
        for reply in shown:
            for service, at in reply["seen"]:
                seen.append(at - started[service])
                last[service] = max(last.get(service, 0.0), at - started[service])
            missed += reply["missed"]
        slowest += last.values()
    changes = rounds * len(started)
    after = await asyncio.to_thread(fleet.srvr)
    spent = {i: fleet.member_cpu([i]) - cpu[i] for i in cpu}
    await fleet.unwatch(group)

    def per_change(ids: list[int]) -> float:
        """CPU milliseconds these members spent per change."""
        return 1000 * sum(spent[i] for i in ids) / changes

    def received(ids: list[int]) -> float:
        total = sum(int(after[i]["received"]) - int(packets[i]["received"]) for i in ids)
        return total / changes

    return {
        "a change seen by a provider set, p50, ms": 1000 * percentile(seen, 0.5),
        "a change seen by a provider set, p99, ms": 1000 * percentile(seen, 0.99),
        "a change seen by all its provider sets, p50, ms": 1000 * percentile(slowest, 0.5),
        "a change seen by all its provider sets, p99, ms": 1000 * percentile(slowest, 0.99),
        "provider sets that missed a change": missed,
        "update() p50, ms": 1000 * percentile(writes, 0.5),
        "update() p99, ms": 1000 * percentile(writes, 0.99),
        f"CPU of the {len(voters)} voters per change, ms": per_change(voters),
        "CPU of the leader per change, ms": per_change([leader]),
        f"CPU of the {len(observers)} observers per change, ms": per_change(observers),
        "packets the voters received per change": received(voters),
        "packets the observers received per change": received(observers),
    }


async def _leader_killed(fleet: Fleet, repeat: int) -> Row:
    """Both groups watching; the leader is killed while one registration per service changes."""
    await asyncio.gather(fleet.watch(ON_VOTERS), fleet.watch(ON_OBSERVERS))
    await fleet.settle()
    groups = (ON_OBSERVERS, ON_VOTERS)
    before = {g: await fleet.sessions(g) for g in groups}
    observers = [m.id for m in fleet.ensemble.observers]
    leader = await fleet.leader()
    t_kill = await fleet.kill(leader)
    updates, t_leader, t_observing, *backs = await asyncio.gather(
        fleet.per_member("update", fleet.one_per_service(repeat + 7), epoch=90_000 + repeat),
        fleet.new_leader(leader),
        fleet.modes_reached(observers, {"observer"}, 60.0),
        *(fleet.rows("back", since=t_kill, grace=3.0, timeout=120.0, group=g) for g in groups),
    )
    await asyncio.gather(fleet.settle(), *(fleet.settle(group=g) for g in groups))
    truth, missing = await fleet.truth()
    row: Row = {
        "new leader, s after the kill": t_leader - t_kill,
        "observers observing again, s after the kill": t_observing - t_kill,
    }
    for g, back in zip(groups, backs, strict=True):
        rows = await fleet.rows("sets", "sets", since=t_kill, group=g)
        sets = sets_correct(rows, truth, t_kill)
        await explain(fleet, rows, sets)
        after = await fleet.sessions(g)
        moved = [r["attached"] - t_kill for r in back if r["lost"] and r["attached"]]
        good = [v for v in sets if v == v]
        row |= {
            f"watchers {g}: links lost": sum(1 for r in back if r["lost"]),
            f"watchers {g}: sessions lost": sum(
                1 for m, r in after.items() if r["session"] != before[g][m]["session"]
            ),
            f"watchers {g}: last attached again, s after the kill": max(moved, default=0.0),
            f"watchers {g}: every provider set right again, s after the new leader": (
                max(good) - (t_leader - t_kill) if good else float("nan")
            ),
            f"watchers {g}: provider sets wrong at the end": wrong(sets),
        }
    row["registrations lost"] = missing
    row["updates that raised"] = sum(len(u["errors"]) for u in updates)
    await fleet.restart(leader)
    await asyncio.gather(fleet.unwatch(ON_VOTERS), fleet.unwatch(ON_OBSERVERS))
    return row


async def watchers_on_observers(fleet: Fleet, repeat: int, rounds: int = 15) -> Row:
    order = [ON_VOTERS, ON_OBSERVERS] if repeat % 2 == 0 else [ON_OBSERVERS, ON_VOTERS]
    measured: dict[str, Row] = {}
    for i, group in enumerate(order):
        measured[group] = await _changes(fleet, group, rounds, 100_000 * (repeat + 1) + 1000 * i)
    row: Row = {}
    for name in measured[ON_VOTERS]:  # side by side, in a fixed order
        for group in (ON_VOTERS, ON_OBSERVERS):
            row[f"watchers {group}: {name}"] = measured[group][name]
    return row | await _leader_killed(fleet, repeat)


# -- 6. quorum lost ---------------------------------------------------------------------------


def _probe_rows(group: str, reply: dict[str, Any], truth: dict[int, str]) -> Row:
    counts: dict[str, int] = reply["counts"]
    intact = sum(1 for service, fp in reply["prints"] if truth[service] == fp)
    print(f"  {group} watchers while the quorum is lost: {counts}", file=sys.stderr)

    def total(kind: str, outcome: str | None = None) -> int:
        return sum(
            n
            for key, n in counts.items()
            if key.startswith(kind) and (outcome is None or outcome in key)
        )

    return {
        f"{group} watchers: provider sets showing every provider as before": intact,
        f"{group} watchers: pick() worked": total("pick()", "worked"),
        f"{group} watchers: pick() raised": total("pick()") - total("pick()", "worked"),
        f"{group} watchers: reads answered": total("read", "worked"),
        f"{group} watchers: writes refused with NotReadOnlyError": total(
            "write", "NotReadOnlyError"
        ),
        f"{group} watchers: writes not answered within 1 s": total("write", "no answer"),
    }


async def quorum_lost(fleet: Fleet, repeat: int, new_registries: int = 5) -> Row:
    groups = (READ_ONLY, PLAIN)
    await asyncio.gather(fleet.settle(), *(fleet.settle(group=g) for g in groups))
    before = {g: await fleet.sessions(g) for g in (None, *groups)}
    ensemble = fleet.ensemble
    voters = [m.id for m in ensemble.voters]
    observers = [m.id for m in ensemble.observers]
    leader = await fleet.leader()
    survivor = next(v for v in voters if v != leader)
    victims = [leader, *(v for v in voters if v not in (leader, survivor))]
    truth_before, _ = await fleet.truth()
    t_kill = await fleet.kill(victims[0])  # the leader first: nothing commits after this
    await fleet.kill(victims[1])
    # the fleet goes on updating: one registration per service, waiting for the quorum
    updates = asyncio.gather(
        fleet.per_member("update", fleet.one_per_service(repeat + 3), epoch=200_000 + repeat)
    )
    try:
        t_ro = await fleet.modes_reached([survivor, *observers], {"read-only"}, 30.0)
        attached = await fleet.rows(
            "attached", group=READ_ONLY, since=t_kill, states=["CONNECTED_READ_ONLY"], timeout=3.0
        )
        read_only_at = [r["at"] - t_kill for r in attached if r["at"] is not None]
        probes = await asyncio.gather(
            *(w.ask("probe", group=g, timeout=1.0) for g in groups for w in fleet.workers),
            fleet.workers[0].ask(
                "try_start",
                hosts=ensemble.connect_string,
                count=new_registries,
                read_only=True,
                timeout=2.0,
            ),
        )
        t_restart = clock()
        await fleet.restart_together(victims)
    except BaseException:
        updates.cancel()
        raise
    watchers = fleet.groups[READ_ONLY]
    row: Row = {
        "read-only servers serving, s after the kill": t_ro - t_kill,
        f"read-only watchers attached read-only (of {watchers})": len(read_only_at),
        "read-only watchers: last attached read-only, s after the kill": max(
            read_only_at, default=float("nan")
        ),
    }
    n = len(fleet.workers)
    for i, g in enumerate(groups):
        merged: dict[str, Any] = {"counts": {}, "states": {}, "prints": []}
        for reply in probes[i * n : (i + 1) * n]:
            for part in ("counts", "states"):
                for key, value in reply[part].items():
                    merged[part][key] = merged[part].get(key, 0) + value
            merged["prints"] += reply["prints"]
        row |= _probe_rows(g, merged, truth_before)
    started = probes[-1]["results"]
    print(f"  new read-only registries during the outage: {started}", file=sys.stderr)
    row[f"new read-only registries started during the outage (of {new_registries})"] = started.get(
        "started", 0
    )
    row["outage: kill to restart, s"] = t_restart - t_kill
    # the voters are back
    back = await fleet.rows("back", since=t_kill, grace=1.0, timeout=120.0)
    _, missing_then = await fleet.truth()
    (done,) = await updates
    errors = [e for u in done for e in u["errors"]]
    if errors:
        print(f"  updates during the outage raised: {sorted(errors)}", file=sys.stderr)
    t_observing = await fleet.modes_reached(observers, {"observer"}, 120.0)
    backs = {
        g: await fleet.rows("back", since=t_kill, grace=1.0, timeout=120.0, group=g) for g in groups
    }
    await asyncio.gather(fleet.settle(), *(fleet.settle(group=g) for g in groups))
    truth, missing = await fleet.truth()
    row |= {
        "fleet: every registry usable again, s after the restart": max(r["usable"] for r in back)
        - t_restart,
        "fleet: registrations missing then": missing_then,
        "fleet: updates during the outage that completed": sum(
            len(u["done"]) - len(u["errors"]) for u in done
        ),
        "fleet: updates during the outage that raised": sum(len(u["errors"]) for u in done),
        "observers observing again, s after the restart": t_observing - t_restart,
    }
    wrong_sets = 0
    for g in groups:
        rows = await fleet.rows("sets", "sets", since=t_restart, group=g)
        sets = sets_correct(rows, truth, t_restart)
        await explain(fleet, rows, sets)
        wrong_sets += wrong(sets)
        good = [v for v in sets if v == v]
        attached_again = [r["attached"] for r in backs[g] if r["attached"] is not None]
        row |= {
            f"{g} watchers: last attached read-write again, s after the restart": (
                max(attached_again) - t_restart if attached_again else float("nan")
            ),
            f"{g} watchers: every provider set right again, s after the restart": (
                max(good) if good else float("nan")
            ),
        }
    after = {g: await fleet.sessions(g) for g in (None, *groups)}
    lost = {
        g: sum(1 for m, r in after[g].items() if r["session"] != before[g][m]["session"])
        for g in after
    }
    expiries = {
        g: sum(r["expiries"] - before[g][m]["expiries"] for m, r in after[g].items()) for g in after
    }
    row |= {
        "provider sets wrong at the end": wrong_sets,
        "registrations lost": missing,
        "fleet sessions lost": lost[None],
        "read-only watchers' sessions lost": lost[READ_ONLY],
        "read-only watchers' session expiries": expiries[READ_ONLY],
        "plain watchers' sessions lost": lost[PLAIN],
        "plain watchers' session expiries": expiries[PLAIN],
    }
    return row


def summary(rows: list[Row], name: str) -> float:
    """The median of one row over the repeats (for the report's prose)."""
    values = [r[name] for r in rows if name in r and r[name] == r[name]]
    return statistics.median(values) if values else float("nan")
