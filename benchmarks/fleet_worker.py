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
  the driver compares with the truth it reads with a client of its own.

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
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiozkreg import Providers, Registration, Registry, SessionState, Tree
from aiozkreg.testing import expire_session

clock = time.monotonic

ROOT = "/fleet"
SERVICES = 20
SESSION_TIMEOUT = 10.0
CHUNK = 25  # registries started at once


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

    def __init__(self, number: int, service: int, view: Providers) -> None:
        self.number = number
        self.service = service
        self.view = view
        self.history: list[tuple[float, str]] = []
        self.last: list[tuple[str, Any]] = []
        view(self._changed)

    def _changed(self, view: Providers) -> None:
        self.last = sorted((p.name, p.properties.get("epoch")) for p in view.all)
        self.history.append((clock(), fingerprint(self.last)))

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

    def __init__(self, index: int, hosts: str) -> None:
        self.index = index
        self.zk = Registry(hosts, session_timeout=SESSION_TIMEOUT)
        self.registrations: list[Registration] = []
        self.sets: list[WatchedSet] = []
        self.trees: list[Tree] = []
        self.states: list[tuple[float, str, int]] = []
        self.changed = asyncio.Event()
        self.epoch = 0

    async def start(self, group: asyncio.TaskGroup | None) -> None:
        assert group is not None
        await self.zk.start()
        group.create_task(self._follow())
        for service, name in provider_slots(self.index):
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

    # -- what the scenarios ask ---------------------------------------------------------

    async def back(self, since: float, grace: float, timeout: float) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            rows = await asyncio.gather(*(m.back(since, grace) for m in self.members))
        return {"members": rows}

    async def update(self, slots: list[list[int]], epoch: int) -> dict[str, Any]:
        """Set ``epoch`` on each given registration ([member, slot]); times and failures."""

        async def one(member: int, slot: int) -> tuple[float, str | None]:
            try:
                await self.by_index[member].registrations[slot].update(epoch=epoch)
            except Exception as exc:  # the update stays the registration's: it is rewritten
                return clock(), type(exc).__name__
            return clock(), None

        done = await asyncio.gather(*(one(m, k) for m, k in slots))
        return {"done": [t for t, _ in done], "errors": [e for _, e in done if e]}

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

    async def settle(self, timeout: float) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            await asyncio.gather(*(m.zk.settle(timeout=timeout) for m in self.members))
        return {}

    async def sets(self, since: float) -> dict[str, Any]:
        return {"sets": [w.since(since) for m in self.members for w in m.sets]}

    async def sessions(self) -> dict[str, Any]:
        """Each member's session id, server, and counters (requests by operation)."""
        rows = []
        for m in self.members:
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
                }
            )
        return {"members": rows}

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
        for m in worker.members:
            with contextlib.suppress(Exception):
                await m.close()


def main() -> None:
    logging.basicConfig(level=logging.ERROR, format="%(asctime)s %(name)s: %(message)s")
    hosts, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    asyncio.run(serve(Worker(hosts, first, count)))


if __name__ == "__main__":
    main()
