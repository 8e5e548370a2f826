"""The supervisor: keeps every live registration's nodes in place and up to date.

One per registry. Each node of each registration has a
:class:`~._restoring.KeptNode` record; at most one *check* of it runs at a
time, as a task of the registry's owner, with a bounded number in flight.
A check makes the node right for the current session:

- missing: create it (with the registration's current data and ACL);
- owned by this session: rewrite its data if it differs, and watch it;
- owned by one of our dead sessions: delete that leftover, create ours;
- owned by another live session: watch it, take over when it goes.

Checks run for every node when a new session replaces an expired one, and
for one node when its watch fires. An unregistered registration is never
checked again: :meth:`Supervisor.untrack` cancels and awaits its running
checks before it deletes the nodes, so nothing re-creates them after.

Failures are sorted where they happen:

- connection trouble: the check waits for the session and runs again;
- the server refuses (``NoAuthError`` when the parent's ACL no longer lets
  us create, say): the check retries with jittered exponential backoff
  capped near the session timeout, costing nothing while it waits;
  ``Registration.error`` holds the refusal until the node is back, and
  each new kind of failure is logged once (repeats at DEBUG);
- a missing parent or a name held by another session is not retried on a
  timer: a watch says when to look again; ``Registration.error`` says why
  the node is not there meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from . import _ops, _paths
from ._backoff import Backoff
from ._errors import (
    BadVersionError,
    NodeExistsError,
    NoNodeError,
    RegistryClosedError,
    ServerError,
    ZKConnectionError,
)
from ._registration import Registration
from ._restoring import REFUSED, Gate, KeptNode, Outcome, Round
from ._session import Session
from ._states import SessionState, StateChange
from ._tasks import TaskOwner
from ._watches import EventType, WatchedEvent, WatchKind

log = logging.getLogger("aiozkreg.supervisor")

_CONCURRENCY = 256
_FIRST_RETRY = 0.1


class Supervisor:
    """Keeps the registrations of one registry (see the module docstring)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.registrations: dict[Registration, list[KeptNode]] = {}  # ordered
        self._owner: TaskOwner | None = None
        self._limit = asyncio.Semaphore(_CONCURRENCY)
        self._busy = 0  # checks running or queued, not waiting out a backoff
        self._last_session = 0
        self._round: Round | None = None
        self._gates: dict[str, Gate] = {}
        self._closed = False
        self.idle = asyncio.Event()
        self.idle.set()
        session.states.listen(self._on_state)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, owner: TaskOwner) -> None:
        self._owner = owner
        self._last_session = self.session.session_id

    def close(self) -> None:
        """The registry closed (its owner cancels the checks): nothing is checked again."""
        self._closed = True

    # -- registrations -----------------------------------------------------------------

    async def track(self, registration: Registration) -> None:
        """Start keeping a registration whose nodes were just created."""
        nodes = [self._node(registration, path) for path in registration.nodes]
        self.registrations[registration] = nodes
        if len(nodes) == 1:
            await self._arm(nodes[0])
        else:
            await asyncio.gather(*(self._arm(node) for node in nodes))

    def _node(self, registration: Registration, path: str) -> KeptNode:
        node = KeptNode(registration, path)

        def watcher(event: WatchedEvent) -> None:
            if event.type is not EventType.EXPIRED:
                self._enqueue(node)

        node.watcher = watcher
        return node

    async def _arm(self, node: KeptNode) -> None:
        """Watch a node we just created (one round trip); check it fully if it is not ours."""
        try:
            stat = await _ops.exists(self.session, node.path, node.watcher)
        except (ZKConnectionError, ServerError):
            stat = None
        if stat is not None and stat.ephemeral_owner == self.session.session_id:
            node.owner = stat.ephemeral_owner
        else:
            self._enqueue(node)

    async def untrack(self, registration: Registration) -> None:
        """Stop keeping a registration, then delete the nodes this session owns."""
        nodes = self.registrations.pop(registration, [])
        running = [n.task for n in nodes if n.task is not None]
        for task in running:
            task.cancel()
        if running:  # a check in flight must not re-create a node after we delete it
            await asyncio.wait(running)
        watches = self.session.watches
        for node in nodes:
            if self._round is not None:
                self._round.pending.discard(node)
            for kind, path in (
                (WatchKind.DATA, node.path),
                (WatchKind.EXIST, node.path),
                (WatchKind.EXIST, _paths.split(node.path)[0]),
            ):
                watches.discard(kind, path, node.watcher)
        await asyncio.gather(*(self._delete_own(node.path) for node in nodes))

    async def _delete_own(self, path: str) -> None:
        stat = await _ops.exists(self.session, path)
        if stat is not None and stat.ephemeral_owner == self.session.session_id:
            with contextlib.suppress(NoNodeError):
                await _ops.delete(self.session, path, stat.version)

    async def rewrite(self, registration: Registration) -> None:
        """Write a registration's new data to its nodes, in place (setData).

        A node this session holds is written at once (a check running
        meanwhile writes only with compare-and-set, so the newest data
        wins); any other is left to a check, which writes the new data. A
        write that fails is handed to a check too, and the error raised.
        """
        nodes = self.registrations.get(registration, [])
        if len(nodes) == 1:
            await self._write(nodes[0])
            return
        results = await asyncio.gather(*(self._write(n) for n in nodes), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _write(self, node: KeptNode) -> None:
        session = self.session
        if node.owner != session.session_id:
            self._enqueue(node)
            return
        try:
            await _ops.set_data(session, node.path, node.registration.data)
        except NoNodeError:
            self._enqueue(node)  # deleted meanwhile: the check re-creates it with the new data
        except (ZKConnectionError, ServerError):
            self._enqueue(node)  # the check writes it when it can
            raise

    # -- checks --------------------------------------------------------------------------

    def _on_state(self, change: StateChange) -> None:
        if change.state is not SessionState.CONNECTED:
            return
        if change.session_id == self._last_session:
            return
        first = self._last_session == 0
        self._last_session = change.session_id
        if first or not self.registrations:
            return
        nodes = [node for nodes in self.registrations.values() for node in nodes]
        self._round = Round(nodes, asyncio.get_running_loop().time())
        log.info(
            "Restoring %d registration node(s) in new session 0x%x.",
            len(nodes),
            change.session_id,
        )
        for node in nodes:
            self._enqueue(node)

    def _enqueue(self, node: KeptNode) -> None:
        if self._closed or not node.registration.active or self._owner is None:
            return
        if node.task is not None:
            node.rerun = True
            if node.wake is not None:  # waiting out a backoff: look again now
                node.wake.set()
            return
        try:
            node.task = self._owner.spawn(self._keep(node), name=f"aiozkreg keep {node.path}")
        except RegistryClosedError:
            return  # closing: nothing is checked again
        self._busy += 1
        self.idle.clear()

    async def _keep(self, node: KeptNode) -> None:
        """Check ``node`` until it is right (or waiting on a watch), sorting failures."""
        registration = node.registration
        try:
            while registration.active:
                node.rerun = False
                try:
                    async with self._limit:
                        outcome = await self._check(node)
                except ZKConnectionError as exc:
                    log.debug("Checking %s waits for the session: %s", node.path, exc)
                    await self.session.wait_connected()
                    continue
                except ServerError as exc:
                    self.session.counters.restore_failures += 1
                    node.refused(exc)
                    self._after(node, REFUSED)
                    await self._back_off(node)
                    continue
                self._leave_gate(node)
                node.settled(outcome)
                self._after(node, outcome.value)
                if not node.rerun:
                    return
        except RegistryClosedError:
            return
        finally:
            self._leave_gate(node)
            node.task = None
            self._busy -= 1
            if self._busy == 0:
                self.idle.set()

    async def _back_off(self, node: KeptNode) -> None:
        """Wait before trying a refused node again (not counted as busy).

        Refusals are shared by the nodes of one parent (its ACL refuses them
        all alike): one node, the gate's *prober*, retries with backoff, and
        the others wait for it to get through. A watch event on a node cuts
        its wait short.
        """
        parent = _paths.split(node.path)[0]
        gate = self._gates.get(parent)
        if gate is None:
            gate = self._gates[parent] = Gate(
                Backoff(cap=max(1.0, self.session.timeout), first=_FIRST_RETRY)
            )
        delay: float | None = None
        if gate.prober is None or gate.prober is node:
            gate.prober = node
            delay = gate.backoff.delay()
            log.debug(
                "Retrying %s in %.2f s (attempt %d refused).", node.path, delay, node.attempts
            )
        node.wake = asyncio.Event()  # set by a watch event, or the prober getting through
        node.gate = gate
        gate.waiting.add(node)
        self._busy -= 1
        if self._busy == 0:
            self.idle.set()
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):  # None: no timer, wait for the prober
                    await node.wake.wait()
        finally:
            gate.waiting.discard(node)
            node.wake = None
            self._busy += 1
            self.idle.clear()

    def _leave_gate(self, node: KeptNode) -> None:
        """The node's check ended (in place, waiting on a watch, or cancelled): if it
        was probing, let the nodes waiting behind it try now."""
        gate, node.gate = node.gate, None
        if gate is None or gate.prober is not node:
            return
        gate.open()
        parent = _paths.split(node.path)[0]
        if self._gates.get(parent) is gate:
            del self._gates[parent]

    async def _check(self, node: KeptNode) -> Outcome:
        session = self.session
        registration = node.registration
        while registration.active:
            try:  # a data watch when it is there
                data, stat = await _ops.get(session, node.path, node.watcher)
            except NoNodeError:
                try:
                    await _ops.create(
                        session, node.path, registration.data, acl=registration.acl, ephemeral=True
                    )
                except NodeExistsError:
                    continue
                except NoNodeError:
                    parent = _paths.split(node.path)[0]
                    if await _ops.exists(session, parent, node.watcher) is not None:
                        continue  # it came back meanwhile
                    node.error = NoNodeError(
                        f"Can't restore {node.path}: its parent {parent} is gone; "
                        "waiting for it to come back.",
                        path=parent,
                    )
                    return Outcome.WAITING
                if await _ops.exists(session, node.path, node.watcher) is None:
                    continue  # gone at once: go again
                node.owner = session.session_id
                session.counters.restored += 1
                log.log(
                    logging.INFO if self._round is not None else logging.DEBUG,
                    "Restored %s.",
                    node.path,
                )
                return Outcome.IN_PLACE
            owner = stat.ephemeral_owner
            if owner in session.past_sessions:
                log.info("Replacing %s, left over from dead session 0x%x.", node.path, owner)
                with contextlib.suppress(NoNodeError):
                    await _ops.delete(session, node.path, stat.version)
                continue
            if owner != session.session_id:
                node.error = NodeExistsError(
                    f"{node.path} is held by another session (0x{owner:x}); "
                    "taking over when it goes.",
                    path=node.path,
                )
                return Outcome.HELD
            node.owner = owner
            if data != registration.data:  # an update that did not reach it yet
                try:
                    await _ops.set_data(session, node.path, registration.data, stat.version)
                except (NoNodeError, BadVersionError):
                    continue
            return Outcome.IN_PLACE
        return Outcome.IN_PLACE

    # -- outcomes ---------------------------------------------------------------------------

    def _after(self, node: KeptNode, outcome: str) -> None:
        """A check ended (or was refused): the registration's error, the round's count."""
        registration = node.registration
        errors = [n.error for n in self.registrations.get(registration, []) if n.error]
        registration.error = errors[-1] if errors else None
        round_ = self._round
        if round_ is not None and round_.done(node, outcome, asyncio.get_running_loop().time()):
            self._round = None
