"""The supervisor's bookkeeping: each kept node, the refusals it waits behind, and the
summary of a restore round. No I/O; the supervisor (:mod:`._supervisor`) drives it."""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable

from ._backoff import Backoff
from ._errors import ServerError
from ._registration import Registration
from ._watches import WatchedEvent

log = logging.getLogger("aiozkreg.supervisor")


class Outcome(enum.Enum):
    """How a check of a node ended (a refusal raises instead)."""

    IN_PLACE = "in place"
    HELD = "held by another session"
    WAITING = "waiting for its parent"


REFUSED = "refused by the server"


def _ignore(event: WatchedEvent) -> None:
    """A watcher's placeholder until the supervisor gives it one."""


class KeptNode:
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
        self.gate: Gate | None = None  # the refusals it waits behind
        self.wake: asyncio.Event | None = None  # set to cut a backoff wait short

    def refused(self, exc: ServerError) -> None:
        """The server refused a check: remember it, and log each new kind once."""
        self.error = exc
        self.attempts += 1
        kind = f"{type(exc).__name__}:{exc.code}"
        if kind != self.kind:
            self.kind = kind
            log.warning(
                "ZooKeeper refused to restore %s: %s Retrying with backoff; "
                "Registration.error holds it.",
                self.path,
                exc,
            )

    def settled(self, outcome: Outcome) -> None:
        """A check ended without a refusal: in place, or waiting on a watch (logged once)."""
        if outcome is Outcome.IN_PLACE:
            if self.attempts:
                log.info("%s is back after %d refused attempt(s).", self.path, self.attempts)
            self.error = None
            self.kind = None
            self.attempts = 0
        elif self.kind != outcome.value:
            self.kind = outcome.value
            log.warning("%s", self.error)


class Gate:
    """The refusals under one parent (its ACL refuses its children alike): one node, the
    *prober*, retries with backoff; the others wait for it to get through."""

    __slots__ = ("backoff", "prober", "waiting")

    def __init__(self, backoff: Backoff) -> None:
        self.backoff = backoff
        self.prober: KeptNode | None = None
        self.waiting: set[KeptNode] = set()

    def open(self) -> None:
        """The prober got through (or left): the waiting nodes try now."""
        for waiter in self.waiting:
            if waiter.wake is not None:
                waiter.wake.set()


class Round:
    """A restore of every node in a new session, and the log line that sums it up."""

    def __init__(self, nodes: list[KeptNode], started: float) -> None:
        self.pending = set(nodes)
        self.total = len(nodes)
        self.started = started
        self.outcomes: dict[str, int] = {}

    def done(self, node: KeptNode, outcome: str, now: float) -> bool:
        """Count ``node``'s outcome; True (and the summary logged) when it was the last."""
        if node not in self.pending:
            return False
        self.pending.discard(node)
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if self.pending:
            return False
        elapsed = now - self.started
        restored = self.outcomes.pop(Outcome.IN_PLACE.value, 0)
        if restored == self.total:
            log.info("Restored all %d registration node(s) in %.3f s.", restored, elapsed)
            return True
        others = ", ".join(f"{count} {what}" for what, count in sorted(self.outcomes.items()))
        log.warning(
            "Restored %d of %d registration node(s) in %.3f s; %s (see Registration.error).",
            restored,
            self.total,
            elapsed,
            others,
        )
        return True
