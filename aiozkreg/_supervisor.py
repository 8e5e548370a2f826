"""The supervisor: keeps every live registration's ephemeral nodes in place.

One per registry, with one owned task that works through a queue of
(registration, node) checks, many at a time. A check makes the node right
for the current session:

- missing: create it (with the registration's current data and ACL);
- owned by this session: leave it, watch it;
- owned by one of our dead sessions: delete that leftover and create ours;
- owned by another live session: log, watch it, take over when it goes.

Checks are queued for every node when a new session replaces an expired
one, and for one node when its watch says it was deleted or changed. An
unregistered registration is never checked again. Connection trouble puts
the check back once the session is connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from . import _ops, _paths
from ._errors import NodeExistsError, NoNodeError, RegistryClosedError, ZKConnectionError
from ._registration import Registration
from ._session import EventType, Session, SessionState, StateChange, WatchedEvent, WatchKind

log = logging.getLogger("aiozkreg.supervisor")

_CONCURRENCY = 256

Item = tuple[Registration, str]


class Supervisor:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.registrations: dict[Registration, None] = {}  # ordered set
        self._watchers: dict[Item, Any] = {}
        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        self._queued: set[Item] = set()
        self._limit = asyncio.Semaphore(_CONCURRENCY)
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._restoring: set[Item] = set()
        self._restore_started = 0.0
        self._last_session = 0
        self.idle = asyncio.Event()
        self.idle.set()
        session.add_state_listener(self._on_state)

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        self._last_session = self.session.session_id
        if self._task is None:
            self._task = asyncio.create_task(self._work(), name="aiozkreg supervisor")

    async def close(self) -> None:
        tasks = [t for t in (self._task, *self._tasks) if t is not None]
        self._task = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise asyncio.CancelledError

    # -- registrations ---------------------------------------------------------------

    async def track(self, registration: Registration) -> None:
        """Start supervising a registration whose nodes were just created."""
        self.registrations[registration] = None
        await asyncio.gather(*(self._arm(registration, node) for node in registration.nodes))

    async def _arm(self, registration: Registration, node: str) -> None:
        """Watch a node we just created (one round trip); check it fully if it is not ours."""
        watcher = self._watcher_for((registration, node))
        stat = await _ops.exists(self.session, node, watcher)
        if stat is None or stat.ephemeral_owner != self.session.session_id:
            await self._check(registration, node)

    async def untrack(self, registration: Registration) -> None:
        """Stop supervising and delete the nodes this session owns."""
        self.registrations.pop(registration, None)
        for node in registration.nodes:
            watcher = self._watchers.pop((registration, node), None)
            if watcher is not None:
                self.session.discard_watcher(WatchKind.DATA, node, watcher)
        await asyncio.gather(*(self._delete_own(node) for node in registration.nodes))

    async def _delete_own(self, node: str) -> None:
        stat = await _ops.exists(self.session, node)
        if stat is not None and stat.ephemeral_owner == self.session.session_id:
            with contextlib.suppress(NoNodeError):
                await _ops.delete(self.session, node, stat.version)

    async def rewrite(self, registration: Registration) -> None:
        """Write a registration's new data to the nodes this session owns.

        The nodes are read-only by default, so each is replaced (delete and
        create in one transaction): no reader ever sees it missing.
        """

        async def write(node: str) -> None:
            stat = await _ops.exists(self.session, node)
            if stat is None or stat.ephemeral_owner != self.session.session_id:
                return  # the supervisor (re)creates it with the new data
            txn = _ops.Transaction(self.session)
            txn.delete(node, stat.version)
            txn.create(node, registration.data, acl=registration.acl, ephemeral=True)
            await txn.commit()

        await asyncio.gather(*(write(node) for node in registration.nodes))

    # -- checks -------------------------------------------------------------------------

    def _on_state(self, change: StateChange) -> None:
        if change.state is not SessionState.CONNECTED:
            return
        if change.session_id == self._last_session:
            return
        first = self._last_session == 0
        self._last_session = change.session_id
        if first or not self.registrations:
            return
        loop = asyncio.get_running_loop()
        self._restore_started = loop.time()
        items = [(r, n) for r in self.registrations for n in r.nodes]
        self._restoring = set(items)
        log.info(
            "Restoring %d registration node(s) in new session 0x%x.",
            len(items),
            change.session_id,
        )
        for item in items:
            self._enqueue(item)

    def _watcher_for(self, item: Item) -> Any:
        watcher = self._watchers.get(item)
        if watcher is None:

            def watcher(event: WatchedEvent) -> None:
                if event.type is not EventType.EXPIRED and item[0].active:
                    self._enqueue(item)

            self._watchers[item] = watcher
        return watcher

    def _enqueue(self, item: Item) -> None:
        if item in self._queued or not item[0].active:
            return
        self._queued.add(item)
        self.idle.clear()
        self._queue.put_nowait(item)

    async def _work(self) -> None:
        while True:
            item = await self._queue.get()
            await self._limit.acquire()
            task = asyncio.create_task(self._run_check(item), name="aiozkreg restore")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_check(self, item: Item) -> None:
        registration, node = item
        retry = False
        try:
            self._queued.discard(item)
            if registration.active:
                await self._check(registration, node)
        except RegistryClosedError:
            return
        except ZKConnectionError as exc:
            log.debug("Checking %s waits for the session: %s", node, exc)
            retry = True
        except Exception:
            log.exception("Restoring %s failed; retrying when the session is next connected.", node)
            retry = True
        finally:
            self._limit.release()
            if not retry:
                self._done(item)
        if retry:
            try:
                await self.session.wait_connected()
            except RegistryClosedError:
                return
            self._enqueue(item)

    def _done(self, item: Item) -> None:
        if item in self._restoring:
            self._restoring.discard(item)
            if not self._restoring:
                elapsed = asyncio.get_running_loop().time() - self._restore_started
                log.info("Restored all registrations in %.3f s.", elapsed)
        if not self._queued and not self._restoring:
            self.idle.set()

    async def _check(self, registration: Registration, node: str) -> None:
        session = self.session
        watcher = self._watcher_for((registration, node))
        while registration.active:
            stat = await _ops.exists(session, node)
            owner = stat.ephemeral_owner if stat is not None else None
            if stat is None:
                try:
                    await _ops.create(
                        session, node, registration.data, acl=registration.acl, ephemeral=True
                    )
                    log.info("Restored %s.", node)
                except NodeExistsError:
                    continue
                except NoNodeError:
                    parent = _paths.split(node)[0]
                    log.warning("Can't restore %s: %s is gone; waiting for it.", node, parent)
                    if await _ops.exists(session, parent, watcher) is not None:
                        continue  # it came back meanwhile
                    return
            elif owner in session.past_sessions:
                log.info("Replacing %s, left over from dead session 0x%x.", node, owner)
                with contextlib.suppress(NoNodeError):
                    await _ops.delete(session, node, stat.version)
                continue
            elif owner != session.session_id:
                log.warning(
                    "%s is held by another session (0x%x); taking over when it goes.",
                    node,
                    owner or 0,
                )
            # watch it: a data watch if it is there, else an exist watch
            if await _ops.exists(session, node, watcher) is None:
                continue  # gone in between: go again
            return
