"""The fleet benchmark's scenarios (issue 14), each one repeat at a time.

Every scenario returns ``{row: value}`` for one repeat; ``fleet.py`` runs
the repeats and reports the median and range of each row. A row's name
carries its unit after a comma (``"every session usable again, s"``).

1. :func:`leader_killed`: SIGKILL the leader while one registration per
   service is updated; time until every session has made a request again,
   until every provider set shows the truth again; what was lost.
2. :func:`rolling_restart`: stop and start each member in turn (followers
   first, the leader last) under a steady churn of updates; afterwards each
   provider set's state is compared with the truth.
3. :func:`mass_expiry`: 100 sessions expired at once by the server; time
   until every registration is back and every provider set shows it; the
   requests per second the ensemble served meanwhile.
4. :func:`reconnect_herd`: SIGKILL the follower with the most clients;
   when its sessions (and the kazoo clients') attach again.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import sys
import threading
import time
from typing import Any

from fleet_driver import Fleet

clock = time.monotonic

Row = dict[str, float]


def sets_correct(sets: list[dict[str, Any]], truth: dict[int, str], since: float) -> list[float]:
    """For each provider set, since when (s after ``since``) it has shown the truth;
    ``nan`` for a set whose last state is not the truth (it missed an event)."""
    out = []
    for row in sets:
        want = truth[row["service"]]
        states = [(since, row["at_start"]), *row["changes"]]
        if states[-1][1] != want:
            out.append(float("nan"))
            continue
        at = states[-1][0]
        for t, fp in reversed(states):
            if fp != want:
                break
            at = t
        out.append(at - since)
    return out


async def explain(fleet: Fleet, sets: list[dict[str, Any]], values: list[float]) -> None:
    """Say on stderr how the first few wrong provider sets differ from the truth."""
    for row, value in list(zip(sets, values, strict=True)):
        if value == value:
            continue
        truth = {tuple(p) for p in await fleet.truth_pairs(row["service"])}
        shown = {tuple(p) for p in row["last"]}
        print(
            f"  set {row['set']} (service {row['service']}) differs: "
            f"shows {sorted(shown - truth)[:4]}, misses {sorted(truth - shown)[:4]}",
            file=sys.stderr,
        )
        break


def wrong(values: list[float]) -> int:
    return sum(1 for v in values if v != v)


def worst(values: list[float]) -> float:
    good = [v for v in values if v == v]
    return max(good) if good else float("nan")


async def sessions_lost(fleet: Fleet, before: dict[int, dict[str, Any]], spared: set[int]) -> int:
    after = await fleet.sessions()
    return sum(
        1 for m, row in after.items() if m not in spared and row["session"] != before[m]["session"]
    )


class Sampler:
    """The ensemble's packets received per 100 ms, read with ``srvr`` in a thread."""

    def __init__(self, fleet: Fleet, every: float = 0.1) -> None:
        self.fleet = fleet
        self.every = every
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            at = clock()
            total = sum(int(r.get("received", 0)) for r in self.fleet.srvr().values())
            self.samples.append((at, total))
            self._stop.wait(max(0.0, self.every - (clock() - at)))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def rates(self, start: float, end: float) -> list[float]:
        """Requests per second between consecutive samples inside [start, end]."""
        inside = [(t, n) for t, n in self.samples if start - self.every <= t <= end + self.every]
        return [
            (n2 - n1) / (t2 - t1) for (t1, n1), (t2, n2) in itertools.pairwise(inside) if t2 > t1
        ]


async def peak_rate(fleet: Fleet, seconds: float = 3.0, in_flight: int = 4) -> Row:
    """What the ensemble serves at most: every registry keeps reads in flight."""
    cpu = fleet.cpu_seconds()
    with Sampler(fleet) as sampler:
        start = clock()
        replies = await fleet.ask_all("load", seconds=seconds, in_flight=in_flight)
        end = clock()
    rates = sampler.rates(start + 0.5, end - 0.2)
    done = sum(r["requests"] for r in replies)
    return {
        "peak, requests/s": done / (end - start),
        "peak, best 100 ms, requests/s": max(rates) if rates else float("nan"),
        "ensemble CPU per request, µs": (fleet.cpu_seconds() - cpu) / done * 1e6,
    }


# -- 1. the leader is killed ---------------------------------------------------------------


async def leader_killed(fleet: Fleet, repeat: int) -> Row:
    await fleet.settle()
    before = await fleet.sessions()
    leader = await fleet.leader()
    epoch = 1000 + repeat
    t_kill = await fleet.kill(leader)
    back, updates, t_leader = await asyncio.gather(
        fleet.rows("back", since=t_kill, grace=3.0, timeout=120.0),
        fleet.per_member("update", fleet.one_per_service(repeat), epoch=epoch),
        fleet.new_leader(leader),
    )
    await fleet.settle()
    truth, missing = await fleet.truth()
    rows = await fleet.rows("sets", "sets", since=t_kill)
    sets = sets_correct(rows, truth, t_kill)
    await explain(fleet, rows, sets)
    lost = await sessions_lost(fleet, before, set())
    await fleet.restart(leader)
    usable = [r["usable"] - t_kill for r in back]
    return {
        "new leader after the kill, s": t_leader - t_kill,
        "median session usable again, s": statistics.median(usable),
        "every session usable again, s": max(usable),
        "every provider set right again, s after the new leader": worst(sets) - (t_leader - t_kill),
        "provider sets wrong at the end": wrong(sets),
        "registrations lost": missing,
        "sessions lost": lost,
        "updates that raised": sum(len(u["errors"]) for u in updates),
    }


# -- 2. a rolling restart --------------------------------------------------------------------


async def rolling_restart(fleet: Fleet, repeat: int, rate: float = 30.0) -> Row:
    await fleet.settle()
    before = await fleet.sessions()
    leader = await fleet.leader()
    order = [m.id for m in fleet.ensemble.members if m.id != leader] + [leader]
    start = clock()
    await fleet.ask_all(
        "start_churn", rate=rate / len(fleet.workers), epoch=(repeat + 1) * 1_000_000
    )
    outages = []
    for member in order:
        t_stop = clock()
        await fleet.stop_member(member)
        await fleet.restart(member)
        back = await fleet.rows("back", since=t_stop, grace=0.5, timeout=120.0)
        outages += [r["attached"] - t_stop for r in back if r["lost"]]
    churn = await fleet.ask_all("stop_churn")
    duration = clock() - start
    await fleet.settle()
    truth, missing = await fleet.truth()
    rows = await fleet.rows("sets", "sets", since=start)
    sets = sets_correct(rows, truth, start)
    await explain(fleet, rows, sets)
    return {
        "restart of all three, s": duration,
        "slowest session attached again after a stop, s": max(outages, default=0.0),
        "updates during it": sum(c["updates"] + c["failed"] for c in churn),
        "updates that raised": sum(c["failed"] for c in churn),
        "provider sets wrong at the end": wrong(sets),
        "registrations lost": missing,
        "sessions lost": await sessions_lost(fleet, before, set()),
    }


# -- 3. 100 sessions expired at once ---------------------------------------------------------


async def mass_expiry(fleet: Fleet, repeat: int, count: int = 100, peak: float = 0.0) -> Row:
    await fleet.settle()
    before = await fleet.sessions()
    step = max(1, fleet.registries // count)
    chosen = [m for m in range(repeat % step, fleet.registries, step)][:count]
    by_worker: dict[int, list[int]] = {}
    for m in chosen:
        by_worker.setdefault(m // fleet.per_worker, []).append(m)
    with Sampler(fleet) as sampler:
        at = clock() + 0.3
        replies = await asyncio.gather(
            *(fleet.workers[w].ask("expire", members=ms, at=at) for w, ms in by_worker.items())
        )
        await fleet.settle()
        truth, missing = await fleet.truth()
        expired = max(r["expired"] for r in replies)  # the last expiry was done
        rows = await fleet.rows("sets", "sets", since=at)
        sets = [v - (expired - at) for v in sets_correct(rows, truth, at)]
        end = expired + max(worst(sets), 0.0) + 0.2
        await asyncio.sleep(max(0.0, end + 0.3 - clock()))
    await explain(fleet, rows, sets)
    restored = max(t for r in replies for t in r["restored"]) - expired
    rates = sampler.rates(expired, max(end, expired + restored))
    after = await fleet.sessions()
    sent: dict[str, int] = {}
    for m, r in after.items():
        for op, n in r["requests"].items():
            sent[op] = sent.get(op, 0) + n - before[m]["requests"].get(op, 0)
    print(f"  requests sent by the fleet: {sorted(sent.items())}", file=sys.stderr)
    lost = await sessions_lost(fleet, before, set(chosen))
    row = {
        "requests the fleet sent (settle() included)": sum(sent.values()),
        f"expiring {len(chosen)} sessions (the test harness), s": expired - at,
        "every registration back, s after the last expiry": restored,
        "every provider set shows it, s after the last expiry": worst(sets),
        "provider sets wrong at the end": wrong(sets),
        "registrations lost": missing,
        "other sessions lost": lost,
        "ensemble requests/s during recovery, mean": statistics.mean(rates) if rates else 0,
        "ensemble requests/s during recovery, busiest 100 ms": max(rates) if rates else 0,
    }
    if peak:
        row["busiest 100 ms of recovery, share of peak"] = (
            row["ensemble requests/s during recovery, busiest 100 ms"] / peak
        )
    return row


# -- 4. the reconnect herd -------------------------------------------------------------------


def largest_window_share(times: list[float], window: float = 0.1) -> float:
    """The largest share of ``times`` inside any ``window``-long interval."""
    ordered = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(ordered):
        while ordered[j] < t - window:
            j += 1
        best = max(best, i - j + 1)
    return best / len(ordered) if ordered else float("nan")


async def reconnect_herd(fleet: Fleet, repeat: int, herds: dict[str, list[float]]) -> Row:
    if repeat:  # every repeat starts with the sessions spread evenly, as after a deploy
        await asyncio.gather(
            fleet.ask_all("respawn"), *([fleet.kazoo.ask("respawn")] if fleet.kazoo else [])
        )
    await fleet.settle()
    before = await fleet.sessions()
    leader = await fleet.leader()
    on: dict[str, int] = {}
    for row in before.values():  # the fleet's sessions per server
        on[row["server"]] = on.get(row["server"], 0) + 1
    followers = [m for m in fleet.ensemble.members if m.id != leader]
    victim = max(followers, key=lambda m: on.get(m.address, 0)).id
    t_kill = await fleet.kill(victim)
    waits = [fleet.rows("back", since=t_kill, grace=2.0, timeout=120.0)]
    if fleet.kazoo is not None:
        waits.append(fleet.kazoo.ask("back", since=t_kill, grace=2.0, timeout=120.0))
    replies = await asyncio.gather(*waits)
    ours = [r["attached"] - t_kill for r in replies[0] if r["lost"]]
    row: Row = {
        "aiozkreg sessions that moved": len(ours),
        "aiozkreg: largest share in 100 ms, %": 100 * largest_window_share(ours),
        "aiozkreg: first to last re-attach, s": max(ours) - min(ours) if ours else 0,
        "aiozkreg: last re-attach after the kill, s": max(ours) if ours else 0,
    }
    herds.setdefault("aiozkreg", []).extend(ours)
    if fleet.kazoo is not None:
        theirs = [
            r["attached"] - t_kill for r in replies[1]["members"] if r["lost"] and r["attached"]
        ]
        herds.setdefault("kazoo", []).extend(theirs)
        row |= {
            "kazoo clients that moved": len(theirs),
            "kazoo: largest share in 100 ms, %": 100 * largest_window_share(theirs),
            "kazoo: first to last re-attach, s": max(theirs) - min(theirs) if theirs else 0,
            "kazoo: last re-attach after the kill, s": max(theirs) if theirs else 0,
        }
    await fleet.restart(victim)
    await fleet.settle()
    _, missing = await fleet.truth()
    row["registrations lost"] = missing
    row["sessions lost"] = await sessions_lost(fleet, before, set())
    return row
