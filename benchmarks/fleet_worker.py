"""One worker process of the fleet benchmark: many registries in one event loop.

``fleet.py`` starts a few of these (so that one event loop is not the
bottleneck) and drives them with JSON lines on stdin; each command gets one
JSON line back on stdout. Times are ``time.monotonic()``, which is the same
clock in every process of the machine (CLOCK_MONOTONIC), so the driver can
put a worker's events next to the moment it killed a server.

What each registry keeps, all the time:

- its state changes, timed (from ``zk.states()``);
- for each provider set it holds, every state it showed, timed, as a
  fingerprint (the providers' names and their ``epoch`` property), which
  the driver compares with the truth it reads with a client of its own,
  and when it first showed each ``epoch`` (how long a change took to
  reach it).

Besides the fleet's registries a worker may hold groups of *watchers*
(``add_watchers``): registries that register nothing and only hold
provider sets, on a connect string of their own (observers only, say) and
optionally ``read_only=True``; scenarios 5 and 6 use them.

    python benchmarks/fleet_worker.py HOSTS FIRST COUNT   # registries FIRST..FIRST+COUNT-1
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiozkreg import Providers, Registration, Registry, SessionState, Tree
from aiozkreg.testing import expire_session

clock = time.monotonic

ROOT = "/fleet"
SERVICES = 20
SESSION_TIMEOUT = 10.0
CHUNK = 25  # registries started at once
PROBE = f"{ROOT}/probe"  # the node watchers try to write while the quorum is lost


def service_path(service: int) -> str:
    return f"{ROOT}/svc-{service:02d}"


def provider_slots(index: int) -> list[tuple[int, str]]:
    """The two (service, node name) a registry registers, spread over the services."""
    host = f"10.{index // 65536}.{index // 256 % 256}.{index % 256}"
    return [((2 * index + k) % SERVICES, f"{host}:{8000 + k}") for k in range(2)]


def fingerprint(pairs: Iterable[tuple[str, Any]]) -> str:
    """A short digest of a provider set's state: names and epochs."""
    text = json.dumps(sorted(pairs, key=lambda p: p[0]))
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


class WatchedSet:
    """A provider set and every state it showed."""

    def __init__(
        self, number: int, service: int, view: Providers, changed: asyncio.Event | None = None
    ) -> None:
        self.number = number
        self.service = service
        self.view = view
        self.history: list[tuple[float, str]] = []
        self.last: list[tuple[str, Any]] = []
        self.first_seen: dict[Any, float] = {}  # epoch -> when a provider first showed it
        self.notify = changed
        view(self._changed)

    def _changed(self, view: Providers) -> None:
        now = clock()
        self.last = sorted((p.name, p.properties.get("epoch")) for p in view.all)
        self.history.append((now, fingerprint(self.last)))
        for _, epoch in self.last:
            self.first_seen.setdefault(epoch, now)
        if self.notify is not None:
            self.notify.set()

    def since(self, t: float) -> dict[str, Any]:
        before = [fp for at, fp in self.history if at <= t]
        return {
            "set": self.number,
            "service": self.service,
            "at_start": before[-1] if before else None,
            "changes": [(at, fp) for at, fp in self.history if at > t],
            "last": self.last,
        }


class Member:
    """One registry of the fleet: its registrations, its provider sets, its states."""

    def __init__(self, index: int, hosts: str, *, read_only: bool = False) -> None:
        self.index = index
        self.zk = Registry(hosts, session_timeout=SESSION_TIMEOUT, read_only=read_only)
        self.registrations: list[Registration] = []
        self.sets: list[WatchedSet] = []
        self.trees: list[Tree] = []
        self.states: list[tuple[float, str, int]] = []
        self.changed = asyncio.Event()
        self.epoch = 0

    async def start(self, group: asyncio.TaskGroup | None, *, register: bool = True) -> None:
        assert group is not None
        await self.zk.start()
        group.create_task(self._follow())
        for service, name in provider_slots(self.index) if register else ():
            host, _, port = name.rpartition(":")
            reg = await self.zk.register(
                service_path(service), (host, int(port)), n=self.index, epoch=0
            )
            self.registrations.append(reg)

    async def _follow(self) -> None:
        async for change in self.zk.states():
            self.states.append((clock(), change.state.name, change.session_id))
            self.changed.set()

    def lost_since(self, t: float) -> bool:
        return any(at > t and state != "CONNECTED" for at, state, _ in self.states)

    async def back(self, since: float, grace: float) -> dict[str, Any]:
        """Wait until the session is usable after ``since``: attached again if it lost
        its link (or, if it never did within ``grace`` s, now), then one request."""
        loop_end = clock() + grace
        while True:
            after = [(at, s) for at, s, _ in self.states if at > since]
            lost = any(s != "CONNECTED" for _, s in after)
            if lost and after[-1][1] == "CONNECTED" and self.zk.state is SessionState.CONNECTED:
                break
            if not lost and clock() >= loop_end:
                break
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.05 if not lost else None):
                    await self.changed.wait()
        attached = next(
            (at for at, s, _ in reversed(self.states) if at > since and s == "CONNECTED"), None
        )
        await self.zk.exists(ROOT)
        return {
            "member": self.index,
            "lost": lost,
            "attached": attached,
            "usable": clock(),
            "expired": any(at > since and s == "EXPIRED" for at, s, _ in self.states),
            "server": self.zk.connected_to,
            "state": self.zk.state.name,
        }

    async def close(self) -> None:
        for watched in self.sets:
            await watched.view.close()
        await self.zk.close()


class Worker:
    """The registries of this process, and the commands the driver sends."""

    def __init__(self, hosts: str, first: int, count: int) -> None:
        self.hosts = hosts
        self.members = [Member(i, hosts) for i in range(first, first + count)]
        self.by_index = {m.index: m for m in self.members}
        self.churn: asyncio.Task[dict[str, int]] | None = None
        self.group: asyncio.TaskGroup | None = None
        self.groups: dict[str, list[Member]] = {}  # watchers, by group name
        self.set_changed = asyncio.Event()

    async def setup(self, group: asyncio.TaskGroup | None, sets: list[list[int]]) -> dict[str, Any]:
        self.group = group
        started = clock()
        for i in range(0, len(self.members), CHUNK):
            await asyncio.gather(*(m.start(group) for m in self.members[i : i + CHUNK]))
        for number, service, member in sets:
            await self.open_set(number, service, member)
        return {"seconds": clock() - started, "sets": len(sets)}

    async def open_set(self, number: int, service: int, member: int) -> None:
        m = self.by_index[member]
        view = await m.zk.providers(service_path(service))
        m.sets.append(WatchedSet(number, service, view))

    async def respawn(self) -> dict[str, Any]:
        """Close every registry and start a new one in its place (new sessions, spread over
        the servers afresh), with the same registrations and provider sets."""
        started = clock()
        sets = [[w.number, w.service, m.index] for m in self.members for w in m.sets]
        for i in range(0, len(self.members), CHUNK):
            await asyncio.gather(*(m.close() for m in self.members[i : i + CHUNK]))
        self.members = [Member(m.index, self.hosts) for m in self.members]
        self.by_index = {m.index: m for m in self.members}
        await self.setup(self.group, sets)
        return {"seconds": clock() - started}

    async def open_sets(self, sets: list[list[int]]) -> dict[str, Any]:
        for number, service, member in sets:
            await self.open_set(number, service, member)
        return {}

    async def close_sets(self, numbers: list[int]) -> dict[str, Any]:
        wanted = set(numbers)
        for m in self.members:
            for watched in [w for w in m.sets if w.number in wanted]:
                await watched.view.close()
                m.sets.remove(watched)
        return {}

    def _of(self, group: str | None) -> list[Member]:
        """The fleet's registries, or the watchers of ``group``."""
        return self.members if group is None else self.groups.get(group, [])

    # -- what the scenarios ask ---------------------------------------------------------

    async def back(
        self, since: float, grace: float, timeout: float, group: str | None = None
    ) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            rows = await asyncio.gather(*(m.back(since, grace) for m in self._of(group)))
        return {"members": rows}

    async def update(self, slots: list[list[int]], epoch: int) -> dict[str, Any]:
        """Set ``epoch`` on each given registration ([member, slot]); times and failures."""

        async def one(member: int, slot: int) -> tuple[float, float, str | None]:
            started = clock()
            try:
                await self.by_index[member].registrations[slot].update(epoch=epoch)
            except Exception as exc:  # the update stays the registration's: it is rewritten
                return started, clock(), type(exc).__name__
            return started, clock(), None

        done = await asyncio.gather(*(one(m, k) for m, k in slots))
        return {
            "slots": slots,
            "started": [t for t, _, _ in done],
            "done": [t for _, t, _ in done],
            "errors": [e for _, _, e in done if e],
        }

    async def bounce(self, slots: list[list[int]]) -> dict[str, Any]:
        """Unregister each given registration and register it again (a provider leaves and
        comes back: two membership changes)."""

        async def one(member: int, slot: int) -> None:
            m = self.by_index[member]
            old = m.registrations[slot]
            await old.unregister()
            m.registrations[slot] = await m.zk.register(
                old.path, old.address, **{k: v for k, v in old.properties.items() if k != "pid"}
            )

        await asyncio.gather(*(one(m, k) for m, k in slots))
        return {}

    async def open_tree(self, member: int) -> dict[str, Any]:
        m = self.by_index[member]
        m.trees.append(await m.zk.tree(ROOT))
        return {}

    async def close_trees(self) -> dict[str, Any]:
        for m in self.members:
            for tree in m.trees:
                await tree.close()
            m.trees.clear()
        return {}

    async def _churn(self, rate: float, epoch: int) -> dict[str, int]:
        """Update random registrations at ``rate`` per second until cancelled."""
        counts = {"updates": 0, "failed": 0}
        pending: set[asyncio.Task[None]] = set()

        async def one(reg: Registration) -> None:
            try:
                await reg.update(epoch=epoch)
                counts["updates"] += 1
            except Exception:
                counts["failed"] += 1  # rewritten by the supervisor when it can

        try:
            while True:
                m = random.choice(self.members)
                reg = random.choice(m.registrations)
                epoch += 1
                task = asyncio.create_task(one(reg))
                pending.add(task)
                task.add_done_callback(pending.discard)
                await asyncio.sleep(random.expovariate(rate))
        except asyncio.CancelledError:
            if pending:
                await asyncio.wait(pending, timeout=30)
            return counts

    async def start_churn(self, rate: float, epoch: int) -> dict[str, Any]:
        self.churn = asyncio.create_task(self._churn(rate, epoch))
        return {}

    async def stop_churn(self) -> dict[str, Any]:
        if self.churn is None:
            return {}
        self.churn.cancel()
        counts = await self.churn
        self.churn = None
        return counts

    async def expire(self, members: list[int], at: float) -> dict[str, Any]:
        """At ``at``, expire the sessions of ``members`` all at once; then wait until each
        is back in a new session with its registrations restored (settle)."""
        chosen = [self.by_index[i] for i in members]
        await asyncio.sleep(max(0.0, at - clock()))
        await asyncio.gather(*(expire_session(m.zk, attempts=20) for m in chosen))
        expired = clock()

        async def restored(m: Member) -> float:
            while not any(at > expired - 5 and s == "EXPIRED" for at, s, _ in m.states):
                m.changed.clear()
                await m.changed.wait()
            await m.zk.settle(timeout=60)
            return clock()

        times = await asyncio.gather(*(restored(m) for m in chosen))
        return {"expired": expired, "restored": times}

    async def settle(self, timeout: float, group: str | None = None) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            await asyncio.gather(*(m.zk.settle(timeout=timeout) for m in self._of(group)))
        return {}

    async def sets(self, since: float, group: str | None = None) -> dict[str, Any]:
        return {"sets": [w.since(since) for m in self._of(group) for w in m.sets]}

    async def sessions(self, group: str | None = None) -> dict[str, Any]:
        """Each member's session id, server, and counters (requests by operation)."""
        rows = []
        for m in self._of(group):
            metrics = m.zk.metrics()
            rows.append(
                {
                    "member": m.index,
                    "session": m.zk.client_id[0],
                    "server": m.zk.connected_to,
                    "expiries": metrics.expiries,
                    "reconnects": metrics.reconnects,
                    "requests": dict(metrics.requests),
                    "watches": metrics.watches,
                    "live": len([r for r in m.registrations if r.active]),
                    "state": m.zk.state.name,
                }
            )
        return {"members": rows}

    # -- watchers (scenarios 5 and 6) -----------------------------------------------------

    async def add_watchers(
        self, group: str, hosts: str, numbers: list[int], read_only: bool
    ) -> dict[str, Any]:
        """Start a registry on ``hosts`` for each number, registering nothing."""
        members = [Member(n, hosts, read_only=read_only) for n in numbers]
        self.groups.setdefault(group, []).extend(members)
        for i in range(0, len(members), CHUNK):
            chunk = members[i : i + CHUNK]
            await asyncio.gather(*(m.start(self.group, register=False) for m in chunk))
        return {}

    async def watch(self, group: str, sets: list[list[int]]) -> dict[str, Any]:
        """For each [number, service], a provider set of the service on that watcher."""
        by_number = {m.index: m for m in self._of(group)}
        for number, service in sets:
            m = by_number[number]
            view = await m.zk.providers(service_path(service))
            m.sets.append(WatchedSet(number, service, view, self.set_changed))
        return {}

    async def drop_watchers(self, group: str) -> dict[str, Any]:
        """Close the watchers of ``group`` (their provider sets and registries)."""
        for m in self.groups.pop(group, []):
            await m.close()
        return {}

    async def unwatch(self, group: str) -> dict[str, Any]:
        for m in self._of(group):
            for watched in m.sets:
                await watched.view.close()
            m.sets.clear()
        return {}

    async def attached(
        self, group: str, since: float, states: list[str], timeout: float
    ) -> dict[str, Any]:
        """Wait (up to ``timeout`` s) until every watcher of ``group`` has reached one of
        ``states`` after ``since``; when each first did (None: not yet)."""
        members = self._of(group)

        def when(m: Member) -> float | None:
            return next((at for at, s, _ in m.states if at > since and s in states), None)

        try:
            async with asyncio.timeout(timeout):
                for m in members:
                    while when(m) is None:
                        m.changed.clear()
                        await m.changed.wait()
        except TimeoutError:  # reported: the ones that did not attach have no time
            pass
        return {"members": [{"member": m.index, "at": when(m)} for m in members]}

    async def seen(self, group: str, epoch: int, timeout: float) -> dict[str, Any]:
        """Wait until every provider set of ``group`` has shown ``epoch`` (up to ``timeout``
        s); when each first did, by service, and how many never did."""
        sets = [w for m in self._of(group) for w in m.sets]
        try:
            async with asyncio.timeout(timeout):
                while not all(epoch in w.first_seen for w in sets):
                    self.set_changed.clear()
                    await self.set_changed.wait()
        except TimeoutError:  # reported: the driver counts the sets that missed it
            pass
        return {
            "seen": [[w.service, w.first_seen[epoch]] for w in sets if epoch in w.first_seen],
            "missed": sum(1 for w in sets if epoch not in w.first_seen),
        }

    async def probe(self, group: str, timeout: float) -> dict[str, Any]:
        """What each watcher of ``group`` can still do (while the quorum is lost): pick from
        its provider sets, read, write; each outcome counted."""
        counts: Counter[str] = Counter()

        async def attempt(kind: str, call: Callable[[], Awaitable[Any]]) -> None:
            try:
                async with asyncio.timeout(timeout):
                    await call()
            except TimeoutError:
                counts[f"{kind}: no answer in {timeout:g} s"] += 1
            except Exception as exc:  # counted by kind: what a caller would have got
                counts[f"{kind}: {type(exc).__name__}"] += 1
            else:
                counts[f"{kind}: worked"] += 1

        async def one(m: Member) -> None:
            for watched in m.sets:
                await attempt("pick()", watched.view.pick)
            await attempt("read", lambda: m.zk.get_children(ROOT))
            await attempt("write", lambda: m.zk.set(PROBE, b"probe"))

        members = self._of(group)
        states = Counter(m.zk.state.name for m in members)
        await asyncio.gather(*(one(m) for m in members))
        prints = [[w.service, fingerprint(w.last)] for m in members for w in m.sets]
        return {"counts": dict(counts), "states": dict(states), "prints": prints}

    async def try_start(
        self, hosts: str, count: int, read_only: bool, timeout: float
    ) -> dict[str, Any]:
        """Start ``count`` new registries on ``hosts`` and close them: how each start ended."""

        async def one() -> str:
            zk = Registry(
                hosts, session_timeout=SESSION_TIMEOUT, read_only=read_only, connect_timeout=timeout
            )
            try:
                await zk.start()
            except Exception as exc:  # counted: this registry could not start
                return type(exc).__name__
            finally:
                await zk.close()
            return "started"

        return {"results": dict(Counter(await asyncio.gather(*(one() for _ in range(count)))))}

    async def load(self, seconds: float, in_flight: int) -> dict[str, Any]:
        """Keep ``in_flight`` reads going per registry for ``seconds``: the ensemble's peak."""
        end = clock() + seconds
        done = 0

        async def reader(m: Member) -> None:
            nonlocal done
            while clock() < end:
                await m.zk.exists(ROOT)
                done += 1

        await asyncio.gather(*(reader(m) for m in self.members for _ in range(in_flight)))
        return {"requests": done}


Handler = Callable[..., Awaitable[dict[str, Any]]]


async def serve(worker: Worker) -> None:
    """Run each command as it comes (several may be under way at once); replies carry
    the command's ``id``."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    commands: dict[str, Handler] = {
        "back": worker.back,
        "update": worker.update,
        "start_churn": worker.start_churn,
        "stop_churn": worker.stop_churn,
        "expire": worker.expire,
        "settle": worker.settle,
        "sets": worker.sets,
        "sessions": worker.sessions,
        "load": worker.load,
        "open_sets": worker.open_sets,
        "close_sets": worker.close_sets,
        "bounce": worker.bounce,
        "respawn": worker.respawn,
        "open_tree": worker.open_tree,
        "close_trees": worker.close_trees,
        "add_watchers": worker.add_watchers,
        "watch": worker.watch,
        "unwatch": worker.unwatch,
        "drop_watchers": worker.drop_watchers,
        "seen": worker.seen,
        "attached": worker.attached,
        "probe": worker.probe,
        "try_start": worker.try_start,
    }

    async def run(group: asyncio.TaskGroup, request: dict[str, Any]) -> None:
        ident, op = request.pop("id"), request.pop("op")
        try:
            if op == "setup":
                reply = await worker.setup(group, request["sets"])
            else:
                reply = await commands[op](**request)
            reply["ok"] = True
        except Exception as exc:
            logging.exception("command %s failed", op)
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        reply["id"] = ident
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()

    async with asyncio.TaskGroup() as group:
        while line := await reader.readline():
            request = json.loads(line)
            if request["op"] == "quit":
                break
            group.create_task(run(group, request))
        for m in [*worker.members, *(w for g in worker.groups.values() for w in g)]:
            with contextlib.suppress(Exception):
                await m.close()


def main() -> None:
    logging.basicConfig(level=logging.ERROR, format="%(asctime)s %(name)s: %(message)s")
    hosts, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    asyncio.run(serve(Worker(hosts, first, count)))


if __name__ == "__main__":
    main()
