"""The supervisor: keeps every live registration's nodes in place and up to date.

One per registry. Each node of each registration has a :class:`_Node`
record; at most one *check* of it runs at a time, as a task the supervisor
owns, with a bounded number in flight. A check makes the node right for
the current session:

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
import enum
import logging
from collections.abc import Callable

from . import _ops, _paths
from ._errors import (
    BadVersionError,
    NodeExistsError,
    NoNodeError,
    RegistryClosedError,
    ServerError,
    ZKConnectionError,
)
from ._registration import Registration
from ._session import (
    Backoff,
    EventType,
    Session,
    SessionState,
    StateChange,
    WatchedEvent,
    WatchKind,
)

log = logging.getLogger("aiozkreg.supervisor")

_CONCURRENCY = 256
_FIRST_RETRY = 0.1


class _Outcome(enum.Enum):
    IN_PLACE = "in place"
    HELD = "held by another session"
    WAITING = "waiting for its parent"


class _Node:
    """One node of a registration, as the supervisor keeps it."""

    __slots__ = (
        "attempts",
        "error",
        "gate",
        "kind",
        "owner",
        "path",
        "registration",
        "rerun",
        "task",
        "wake",
        "watcher",
    )

    def __init__(self, registration: Registration, path: str) -> None:
        self.registration = registration
        self.path = path
        self.watcher: Callable[[WatchedEvent], None] = _ignore
        self.task: asyncio.Task[None] | None = None
        self.rerun = False  # checked again when the running check ends
        self.owner = 0  # the session we last saw owning it
        self.error: Exception | None = None
        self.kind: str | None = None  # of the last failure logged
        self.attempts = 0
        self.gate: _Gate | None = None  # the refusals it waits behind
        self.wake: asyncio.Event | None = None  # set to cut a backoff wait short


class _Gate:
    """The refusals under one parent: who retries them, with which backoff."""

    __slots__ = ("backoff", "prober", "waiting")

    def __init__(self, backoff: Backoff) -> None:
        self.backoff = backoff
        self.prober: _Node | None = None
        self.waiting: set[_Node] = set()


class _Round:
    """A restore of every node in a new session, for the log line that sums it up."""

    def __init__(self, session_id: int, nodes: list[_Node], started: float) -> None:
        self.session_id = session_id
        self.pending = set(nodes)
        self.total = len(nodes)
        self.started = started
        self.outcomes: dict[str, int] = {}


class Supervisor:
    """Keeps the registrations of one registry (see the module docstring)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.registrations: dict[Registration, list[_Node]] = {}  # ordered
        self._tasks: set[asyncio.Task[None]] = set()
        self._limit = asyncio.Semaphore(_CONCURRENCY)
        self._busy = 0  # checks running or queued, not waiting out a backoff
        self._last_session = 0
        self._round: _Round | None = None
        self._gates: dict[str, _Gate] = {}
        self._closed = False
        self.idle = asyncio.Event()
        self.idle.set()
        session.add_state_listener(self._on_state)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self._last_session = self.session.session_id

    async def close(self) -> None:
        self._closed = True
        await _cancel_and_wait(list(self._tasks))

    # -- registrations -----------------------------------------------------------------

    async def track(self, registration: Registration) -> None:
        """Start keeping a registration whose nodes were just created."""
        nodes = [self._node(registration, path) for path in registration.nodes]
        self.registrations[registration] = nodes
        if len(nodes) == 1:
            await self._arm(nodes[0])
        else:
            await asyncio.gather(*(self._arm(node) for node in nodes))

    def _node(self, registration: Registration, path: str) -> _Node:
        node = _Node(registration, path)

        def watcher(event: WatchedEvent) -> None:
            if event.type is not EventType.EXPIRED:
                self._enqueue(node)

        node.watcher = watcher
        return node

    async def _arm(self, node: _Node) -> None:
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
        await _cancel_and_wait([n.task for n in nodes if n.task is not None])
        session = self.session
        for node in nodes:
            if self._round is not None:
                self._round.pending.discard(node)
            for kind, path in (
                (WatchKind.DATA, node.path),
                (WatchKind.EXIST, node.path),
                (WatchKind.EXIST, _paths.split(node.path)[0]),
            ):
                session.discard_watcher(kind, path, node.watcher)
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

    async def _write(self, node: _Node) -> None:
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
        self._round = _Round(change.session_id, nodes, asyncio.get_running_loop().time())
        log.info(
            "Restoring %d registration node(s) in new session 0x%x.",
            len(nodes),
            change.session_id,
        )
        for node in nodes:
            self._enqueue(node)

    def _enqueue(self, node: _Node) -> None:
        if self._closed or not node.registration.active:
            return
        if node.task is not None:
            node.rerun = True
            if node.wake is not None:  # waiting out a backoff: look again now
                node.wake.set()
            return
        self._busy += 1
        self.idle.clear()
        node.task = asyncio.create_task(self._keep(node), name=f"aiozkreg keep {node.path}")
        self._tasks.add(node.task)
        node.task.add_done_callback(self._tasks.discard)

    async def _keep(self, node: _Node) -> None:
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
                    self._refused(node, exc)
                    await self._back_off(node)
                    continue
                self._leave_gate(node)
                self._settled(node, outcome)
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

    async def _back_off(self, node: _Node) -> None:
        """Wait before trying a refused node again (not counted as busy).

        Refusals are shared by the nodes of one parent (its ACL refuses them
        all alike): one node, the gate's *prober*, retries with backoff, and
        the others wait for it to get through. A watch event on a node cuts
        its wait short.
        """
        parent = _paths.split(node.path)[0]
        gate = self._gates.get(parent)
        if gate is None:
            gate = self._gates[parent] = _Gate(
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

    def _leave_gate(self, node: _Node) -> None:
        """The node's check ended (in place, waiting on a watch, or cancelled): if it
        was probing, let the nodes waiting behind it try now."""
        gate, node.gate = node.gate, None
        if gate is None or gate.prober is not node:
            return
        for waiter in gate.waiting:
            if waiter.wake is not None:
                waiter.wake.set()
        parent = _paths.split(node.path)[0]
        if self._gates.get(parent) is gate:
            del self._gates[parent]

    async def _check(self, node: _Node) -> _Outcome:
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
                    return _Outcome.WAITING
                if await _ops.exists(session, node.path, node.watcher) is None:
                    continue  # gone at once: go again
                node.owner = session.session_id
                log.log(
                    logging.INFO if self._round is not None else logging.DEBUG,
                    "Restored %s.",
                    node.path,
                )
                return _Outcome.IN_PLACE
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
                return _Outcome.HELD
            node.owner = owner
            if data != registration.data:  # an update that did not reach it yet
                try:
                    await _ops.set_data(session, node.path, registration.data, stat.version)
                except (NoNodeError, BadVersionError):
                    continue
            return _Outcome.IN_PLACE
        return _Outcome.IN_PLACE

    # -- outcomes ---------------------------------------------------------------------------

    def _refused(self, node: _Node, exc: ServerError) -> None:
        node.error = exc
        node.attempts += 1
        kind = f"{type(exc).__name__}:{exc.code}"
        if kind != node.kind:
            node.kind = kind
            log.warning(
                "ZooKeeper refused to restore %s: %s Retrying with backoff; "
                "Registration.error holds it.",
                node.path,
                exc,
            )
        self._update_error(node.registration)
        self._round_done(node, "refused by the server")

    def _settled(self, node: _Node, outcome: _Outcome) -> None:
        if outcome is _Outcome.IN_PLACE:
            if node.attempts:
                log.info("%s is back after %d refused attempt(s).", node.path, node.attempts)
            node.error = None
            node.kind = None
            node.attempts = 0
        elif node.kind != outcome.value:
            node.kind = outcome.value
            log.warning("%s", node.error)
        self._update_error(node.registration)
        self._round_done(node, outcome.value)

    def _update_error(self, registration: Registration) -> None:
        errors = [n.error for n in self.registrations.get(registration, []) if n.error]
        registration.error = errors[-1] if errors else None

    def _round_done(self, node: _Node, outcome: str) -> None:
        round_ = self._round
        if round_ is None or node not in round_.pending:
            return
        round_.pending.discard(node)
        round_.outcomes[outcome] = round_.outcomes.get(outcome, 0) + 1
        if round_.pending:
            return
        self._round = None
        elapsed = asyncio.get_running_loop().time() - round_.started
        restored = round_.outcomes.pop(_Outcome.IN_PLACE.value, 0)
        if restored == round_.total:
            log.info("Restored all %d registration node(s) in %.3f s.", restored, elapsed)
            return
        others = ", ".join(f"{count} {what}" for what, count in sorted(round_.outcomes.items()))
        log.warning(
            "Restored %d of %d registration node(s) in %.3f s; %s (see Registration.error).",
            restored,
            round_.total,
            elapsed,
            others,
        )


def _ignore(event: WatchedEvent) -> None:
    """A placeholder watcher."""


async def _cancel_and_wait(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel ``tasks`` and wait for them to end, without swallowing our own cancellation."""
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            log.error("A registration check failed", exc_info=task.exception())
