"""The fleet benchmark's driver side: the worker processes, the ensemble, and the truth.

- :class:`Proc` is one worker process (``fleet_worker.py`` or
  ``fleet_kazoo.py``) spoken to with JSON lines; several commands may be
  under way at once, matched to their replies by ``id``.
- :class:`Fleet` is all of them plus the ensemble: it asks every aiozkreg
  worker at once and merges the replies, kills and starts members, reads
  what the servers say about themselves (``srvr``, ``mntr``), and reads
  the truth (every service's providers) with a registry of its own.
  Its registries may talk to some members only (``hosts``), and it may
  hold groups of watchers besides (``add_watchers``), on other members.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from fleet_worker import SERVICES, fingerprint, provider_slots, service_path

from aiozkreg import Registry
from aiozkreg.testing import ZooKeeperEnsemble, four_letter_word

HERE = Path(__file__).resolve().parent
clock = time.monotonic


class Proc:
    """One worker process and its pending commands."""

    def __init__(self, name: str, argv: list[str], log: Path) -> None:
        self.name = name
        self.argv = argv
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None
        self._ids = itertools.count()
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        with self.log.open("ab") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                cwd=HERE,
                limit=64 * 1024 * 1024,
            )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            reply = json.loads(line)
            future = self._waiting.pop(reply.pop("id"), None)
            if future is not None and not future.done():
                future.set_result(reply)
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(RuntimeError(f"worker {self.name} ended; see {self.log}"))

    async def ask(self, op: str, **args: Any) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None
        ident = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        self.proc.stdin.write((json.dumps({"op": op, "id": ident, **args}) + "\n").encode())
        await self.proc.stdin.drain()
        reply = await future
        if not reply.pop("ok"):
            raise RuntimeError(f"worker {self.name}: {op} failed: {reply.get('error')}")
        return reply

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(b'{"op": "quit"}\n')
            await self.proc.stdin.drain()
            self.proc.stdin.close()
            async with asyncio.timeout(30):
                await self.proc.wait()
        except (TimeoutError, ConnectionError):
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            await self._reader


class Fleet:
    """The ensemble, the aiozkreg workers and the kazoo worker."""

    def __init__(
        self,
        ensemble: ZooKeeperEnsemble,
        registries: int,
        workers: int,
        kazoo: int,
        logs: Path,
        hosts: str | None = None,
    ) -> None:
        self.ensemble = ensemble
        self.hosts = hosts or ensemble.connect_string
        self.registries = registries
        per = -(-registries // workers)
        self.workers = [
            Proc(
                f"aiozkreg-{w}",
                ["fleet_worker.py", self.hosts, str(first), str(min(per, registries - first))],
                logs / f"worker-{w}.log",
            )
            for w, first in enumerate(range(0, registries, per))
        ]
        self.kazoo = (
            Proc("kazoo", ["fleet_kazoo.py", self.hosts, str(kazoo)], logs / "kazoo.log")
            if kazoo
            else None
        )
        self.per_worker = per
        self._ended_cpu = 0.0
        self.truth_client: Registry | None = None
        self.sets: list[list[int]] = []  # open: [number, service, member]
        self.base: list[list[int]] = []  # the provider sets the scenarios run with
        self.groups: dict[str, int] = {}  # watchers: group -> how many

    def worker_of(self, member: int) -> Proc:
        return self.workers[member // self.per_worker]

    async def start(self, sets: int) -> float:
        started = clock()
        procs = [*self.workers, *([self.kazoo] if self.kazoo else [])]
        await asyncio.gather(*(p.start() for p in procs))
        self.truth_client = Registry(self.hosts, session_timeout=10.0)
        await self.truth_client.start()
        for service in range(SERVICES):
            await self.truth_client.ensure_path(service_path(service))
        self.base = [[j, j % SERVICES, (j * 5) % self.registries] for j in range(sets)]
        await asyncio.gather(
            *(w.ask("setup", sets=[]) for w in self.workers),
            *([self.kazoo.ask("setup")] if self.kazoo else []),
        )
        await self.settle()
        return clock() - started

    async def stop(self) -> None:
        procs = [*self.workers, *([self.kazoo] if self.kazoo else [])]
        await asyncio.gather(*(p.stop() for p in procs))
        if self.truth_client is not None:
            await self.truth_client.close()

    # -- asking every worker ---------------------------------------------------------------

    async def ask_all(self, op: str, **args: Any) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(w.ask(op, **args) for w in self.workers)))

    async def rows(self, op: str, key: str = "members", **args: Any) -> list[dict[str, Any]]:
        return [row for reply in await self.ask_all(op, **args) for row in reply[key]]

    async def settle(self, timeout: float = 60.0, group: str | None = None) -> None:
        await self.ask_all("settle", timeout=timeout, group=group)

    async def per_member(
        self, op: str, slots: list[list[int]], **args: Any
    ) -> list[dict[str, Any]]:
        """Ask each worker ``op`` for the [member, slot] pairs that are its own."""
        by_worker: dict[int, list[list[int]]] = {}
        for member, slot in slots:
            by_worker.setdefault(member // self.per_worker, []).append([member, slot])
        return list(
            await asyncio.gather(
                *(self.workers[w].ask(op, slots=s, **args) for w, s in by_worker.items())
            )
        )

    def one_per_service(self, offset: int) -> list[list[int]]:
        """A [member, slot] registration in each service, a different one for each offset."""
        pairs = []
        for service in range(SERVICES):
            slot = service % 2
            # member m registers services 2m and 2m + 1 (mod 20)
            member = (service - slot) // 2 + 10 * (offset % (self.registries // 10))
            pairs.append([member, slot])
        return pairs

    async def sessions(self, group: str | None = None) -> dict[int, dict[str, Any]]:
        return {row["member"]: row for row in await self.rows("sessions", group=group)}

    # -- watchers: registries that only watch, on hosts of their own -------------------------

    def _spread(self, count: int) -> list[tuple[Proc, list[int]]]:
        """Watcher numbers 0..count-1, number n in worker n % workers."""
        step = len(self.workers)
        return [(w, list(range(i, count, step))) for i, w in enumerate(self.workers)]

    async def add_watchers(self, group: str, hosts: str, count: int, read_only: bool) -> None:
        """``count`` watchers in ``group`` on ``hosts``, spread over the worker processes."""
        await asyncio.gather(
            *(
                w.ask("add_watchers", group=group, hosts=hosts, numbers=ns, read_only=read_only)
                for w, ns in self._spread(count)
            )
        )
        self.groups[group] = count

    async def watch(self, group: str) -> None:
        """One provider set per watcher of ``group``: watcher n watches service n % 20."""
        await asyncio.gather(
            *(
                w.ask("watch", group=group, sets=[[n, n % SERVICES] for n in ns])
                for w, ns in self._spread(self.groups[group])
            )
        )
        await self.settle(group=group)

    async def unwatch(self, group: str) -> None:
        await self.ask_all("unwatch", group=group)

    async def drop_watchers(self, group: str) -> None:
        await self.ask_all("drop_watchers", group=group)
        del self.groups[group]

    # -- the truth -------------------------------------------------------------------------

    def expected(self) -> dict[int, set[str]]:
        """The provider names each service must have: every registration of the fleet."""
        names: dict[int, set[str]] = {s: set() for s in range(SERVICES)}
        for member in range(self.registries):
            for service, name in provider_slots(member):
                names[service].add(name)
        return names

    async def truth_pairs(self, service: int) -> list[tuple[str, Any]]:
        zk = self.truth_client
        assert zk is not None
        path = service_path(service)
        children = await zk.get_children(path)
        datas = await asyncio.gather(*(zk.get(f"{path}/{c}") for c in children))
        return sorted(
            (c, json.loads(d).get("epoch")) for c, (d, _) in zip(children, datas, strict=True)
        )

    async def truth(self) -> tuple[dict[int, str], int]:
        """Each service's fingerprint as an independent client reads it, and how many of
        the fleet's registrations are missing."""
        zk = self.truth_client
        assert zk is not None
        prints: dict[int, str] = {}
        missing = 0
        for service, names in self.expected().items():
            path = service_path(service)
            children = await zk.get_children(path)
            missing += len(names - set(children))
            datas = await asyncio.gather(*(zk.get(f"{path}/{c}") for c in children))
            pairs = [
                (c, json.loads(d).get("epoch")) for c, (d, _) in zip(children, datas, strict=True)
            ]
            prints[service] = fingerprint(pairs)
        return prints, missing

    # -- the ensemble ----------------------------------------------------------------------

    def server_pids(self) -> list[int]:
        return [m.pid for m in self.ensemble.members if m.pid is not None]

    async def leader(self) -> int:
        return await asyncio.to_thread(self.ensemble.leader, 30.0)

    def _bury(self, member: int) -> None:
        """Keep the CPU time of a member about to end (cpu_seconds() counts it on)."""
        pid = self.ensemble.member(member).pid
        self._ended_cpu += _cpu([pid] if pid is not None else [])

    async def kill(self, member: int) -> float:
        """SIGKILL a member; the moment just before the signal."""
        self._bury(member)
        at = clock()
        await asyncio.to_thread(self.ensemble.kill, member)
        return at

    async def stop_member(self, member: int) -> None:
        """SIGTERM a member and wait for it to exit."""
        self._bury(member)
        await asyncio.to_thread(self.ensemble.stop, member)

    async def restart(self, member: int) -> None:
        await asyncio.to_thread(self.ensemble.start, member)

    async def restart_together(self, members: list[int], timeout: float = 60.0) -> None:
        """Start several members at once (none can lead or follow before a quorum is up)."""
        chosen = [self.ensemble.member(i) for i in members]
        for m in chosen:
            await asyncio.to_thread(m.launch)
        await asyncio.gather(*(asyncio.to_thread(m.wait_ready, timeout) for m in chosen))

    async def modes_reached(self, members: list[int], modes: set[str], timeout: float) -> float:
        """Poll until every one of ``members`` reports one of ``modes``; when that was seen."""
        chosen = [self.ensemble.member(i) for i in members]
        deadline = clock() + timeout
        while clock() < deadline:
            now = await asyncio.gather(*(asyncio.to_thread(lambda m=m: m.mode) for m in chosen))
            if all(mode in modes for mode in now):
                return clock()
            await asyncio.sleep(0.02)
        raise RuntimeError(f"members {members} did not all reach {sorted(modes)} in {timeout} s")

    async def new_leader(self, excluding: int, timeout: float = 30.0) -> float:
        """Poll the other members until one leads; when it was first seen leading."""
        others = [m for m in self.ensemble.members if m.id != excluding]
        deadline = clock() + timeout
        while clock() < deadline:
            modes = await asyncio.gather(*(asyncio.to_thread(lambda m=m: m.mode) for m in others))
            if "leader" in modes:
                return clock()
            await asyncio.sleep(0.02)
        raise RuntimeError("no new leader")

    def srvr(self) -> dict[int, dict[str, int | str]]:
        """Per running member: packets received and sent, connections, mode, nodes."""
        out: dict[int, dict[str, int | str]] = {}
        for m in self.ensemble.members:
            if not m.running:
                continue
            try:
                text = four_letter_word(m.host, m.port, "srvr", timeout=1.0)
            except OSError:
                continue
            row: dict[str, int | str] = {}
            for key, pattern in (
                ("received", r"Received: (\d+)"),
                ("sent", r"Sent: (\d+)"),
                ("connections", r"Connections: (\d+)"),
                ("nodes", r"Node count: (\d+)"),
            ):
                found = re.search(pattern, text)
                if found:
                    row[key] = int(found.group(1))
            mode = re.search(r"Mode: (\S+)", text)
            row["mode"] = mode.group(1) if mode else "?"
            out[m.id] = row
        return out

    def mntr(self, key: str) -> dict[int, int]:
        """One ``mntr`` number from each running member."""
        out: dict[int, int] = {}
        for m in self.ensemble.members:
            if not m.running:
                continue
            try:
                text = four_letter_word(m.host, m.port, "mntr", timeout=2.0)
            except OSError:
                continue
            found = re.search(rf"^{re.escape(key)}\s+(\d+)", text, re.M)
            if found:
                out[m.id] = int(found.group(1))
        return out

    def member_cpu(self, members: list[int]) -> float:
        """CPU time used so far by these members' running JVMs."""
        pids = [self.ensemble.member(i).pid for i in members]
        return _cpu([p for p in pids if p is not None])

    def workers_cpu(self) -> float:
        """CPU time used so far by the worker processes (aiozkreg's and kazoo's)."""
        procs = [*self.workers, *([self.kazoo] if self.kazoo else [])]
        return _cpu([p.proc.pid for p in procs if p.proc is not None])

    def cpu_seconds(self) -> float:
        """CPU time used so far by the ensemble's JVMs (user + system), ended ones too."""
        return _cpu(self.server_pids()) + self._ended_cpu


def _cpu(pids: list[int]) -> float:
    """CPU time used so far by these processes (user + system), from /proc."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total
