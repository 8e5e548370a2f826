"""The session's state, and who hears of its changes.

::

    CONNECTING ──> CONNECTED ──(link lost)──> SUSPENDED ──> CONNECTED   (same session)
        ^                                         │
        └───── CONNECTING <── EXPIRED <───────────┘   (a new session follows)
    CLOSED   at the end (close(), or the registry's own failure)

:class:`StateBroadcast` holds the current state and tells its listeners
(the registry's own parts, synchronously: they only record what happened)
and every :class:`StateStream` (an async iterator a user holds) of each
change.
"""

from __future__ import annotations

import asyncio
import enum
import weakref
from collections.abc import Callable
from dataclasses import dataclass


class SessionState(enum.Enum):
    """Where the session stands."""

    CONNECTING = "connecting"
    """No session yet (or a new one is being made after expiry)."""
    CONNECTED = "connected"
    CONNECTED_READ_ONLY = "connected_read_only"
    """Attached to a read-only server (``read_only=True``): writes fail."""
    SUSPENDED = "suspended"
    """The link dropped; the session may still be alive on the server."""
    EXPIRED = "expired"
    """The server ended the session: ephemerals and watches are gone."""
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class StateChange:
    """One transition of the session state."""

    state: SessionState
    session_id: int
    server: str | None = None


StateListener = Callable[[StateChange], None]


class StateStream:
    """An async iterator of every later :class:`StateChange`; ends after ``CLOSED``."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[StateChange] = asyncio.Queue()
        self._done = False

    def push(self, change: StateChange) -> None:
        self._queue.put_nowait(change)

    def __aiter__(self) -> StateStream:
        return self

    async def __anext__(self) -> StateChange:
        if self._done:
            raise StopAsyncIteration
        change = await self._queue.get()
        if change.state is SessionState.CLOSED:
            self._done = True
        return change


class StateBroadcast:
    """The current state; listeners and streams hear of every change."""

    def __init__(self) -> None:
        self.state = SessionState.CONNECTING
        self._streams: weakref.WeakSet[StateStream] = weakref.WeakSet()
        self._listeners: list[StateListener] = []

    def stream(self) -> StateStream:
        stream = StateStream()
        if self.state is SessionState.CLOSED:
            stream.push(StateChange(SessionState.CLOSED, 0))
        else:
            self._streams.add(stream)
        return stream

    def listen(self, listener: StateListener) -> None:
        """Call ``listener`` synchronously on every change (the registry's own parts)."""
        self._listeners.append(listener)

    def set(self, state: SessionState, session_id: int, server: str | None) -> None:
        """Move to ``state`` (a repeated CONNECTED is announced again: a re-attach)."""
        if state is self.state and state is not SessionState.CONNECTED:
            return
        self.state = state
        change = StateChange(state, session_id, server)
        for stream in list(self._streams):
            stream.push(change)
        for listener in list(self._listeners):
            listener(change)
