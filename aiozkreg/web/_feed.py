"""One live tree and the session state, fanned out to every open page as server-sent events.

:class:`Feed` owns two loops, run by :meth:`Feed.run` in one task group:
one follows ``zk.tree(path)`` and turns each snapshot into a *delta*
message (:class:`~._model.Model` works it out once for every page), the
other follows ``zk.states()`` and sends the session state. Each page
holds a :class:`Subscription`: a reset message first (everything), then
the messages in order. A page that falls more than :data:`BACKLOG`
messages behind gets one reset instead of them, so a stalled browser
costs a bounded queue, never the feed.

When the tree ends (its root deleted) or cannot be opened, the page is
told why (``status``), and the feed waits for the node and opens the
tree again: a watch on PATH wakes it, and it looks again every
:data:`RECHECK` seconds for a PATH that resolves through symlinks.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import Any

from .._backoff import Backoff
from .._errors import LinkLoop, NoNodeError, ServerError, ZKConnectionError
from .._registry import Registry
from .._states import SessionState, StateChange
from .._subtree import TreeSnapshot
from ._model import Model

__all__ = ["BACKLOG", "Feed", "Subscription", "message", "text_message"]

log = logging.getLogger("aiozkreg.web")

BACKLOG = 64
"""Messages a page may fall behind before it is sent one reset instead."""
HEARTBEAT = 15.0
"""Seconds of quiet after which a page is sent a comment (so dead connections are found)."""
RECHECK = 5.0
"""Seconds between looks for a missing PATH (besides the watch on it)."""
INTERVAL = 0.1
"""Seconds at least between two deltas: changes in between are sent together."""


def message(event: str, data: Any) -> bytes:
    """A server-sent event: ``event: NAME`` and one line of JSON."""
    return text_message(event, json.dumps(data, separators=(",", ":")))


def text_message(event: str, data: str) -> bytes:
    """A server-sent event of JSON text already made (one line: JSON escapes newlines)."""
    return f"event: {event}\ndata: {data}\n\n".encode()


KEEP_ALIVE = b": keep-alive\n\n"
RETRY = b"retry: 1000\n\n"
"""How soon (ms) a page's browser connects again after losing the stream."""


class Subscription:
    """One page's messages, a reset first; iterate to read them (bytes, ready to send)."""

    def __init__(self, feed: Feed) -> None:
        self._feed = feed
        self._queue: deque[bytes] = deque()
        self._reset = True
        self._closed = False
        self._wake = asyncio.Event()

    def push(self, data: bytes) -> None:
        if len(self._queue) >= BACKLOG:
            self.reset()
            return
        self._queue.append(data)
        self._wake.set()

    def reset(self) -> None:
        """Send everything again instead of what is queued."""
        self._queue.clear()
        self._reset = True
        self._wake.set()

    def close(self) -> None:
        """End the iteration (once what is queued is read); idempotent."""
        self._closed = True
        self._wake.set()
        self._feed.unsubscribe(self)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[bytes]:
        while True:
            if self._reset:
                self._reset = False
                self._queue.clear()
                yield self._feed.reset_message()
            elif self._queue:
                yield self._queue.popleft()
            elif self._closed:
                return
            else:
                self._wake.clear()
                try:
                    async with asyncio.timeout(HEARTBEAT):
                        await self._wake.wait()
                except TimeoutError:  # quiet for a while: say so, to find a dead connection
                    yield KEEP_ALIVE


class Feed:
    """The live picture of ``path`` for every page (see the module's docstring)."""

    def __init__(
        self,
        zk: Registry,
        path: str,
        *,
        hide: str | None = None,
        config: dict[str, Any] | None = None,
        interval: float = INTERVAL,
    ) -> None:
        self.zk = zk
        self.path = path
        self._hide = hide
        self.config = config or {}
        self._interval = interval
        self.model = Model(hide)
        self.session: dict[str, Any] = self._session_info(zk.state, zk.client_id[0], None)
        self.status: dict[str, Any] = {"status": "loading", "message": f"Reading {path}..."}
        self._subscriptions: list[Subscription] = []
        self._reset: bytes | None = None
        self._closed = False

    # -- pages ---------------------------------------------------------------------------

    def subscribe(self) -> Subscription:
        """A new page's stream (ended at once if the feed is closed)."""
        subscription = Subscription(self)
        if self._closed:
            subscription.close()
        else:
            self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    @property
    def pages(self) -> int:
        """How many pages are connected."""
        return len(self._subscriptions)

    def reset_message(self) -> bytes:
        """Everything a page shows, as one message (made once per change)."""
        if self._reset is None:
            head = json.dumps(
                {"config": self.config, "session": self.session, "status": self.status},
                separators=(",", ":"),
            )
            data = f'{head[:-1]},"model":{self.model.json()}}}'
            self._reset = RETRY + text_message("reset", data)
        return self._reset

    def _send(self, data: bytes) -> None:
        self._reset = None
        for subscription in list(self._subscriptions):
            subscription.push(data)

    def close(self) -> None:
        """End every page's stream; later pages get none. Idempotent."""
        self._closed = True
        for subscription in list(self._subscriptions):
            subscription.close()

    # -- the loops -----------------------------------------------------------------------

    async def run(self) -> None:
        """Follow the session and the tree until cancelled; a bug of ours propagates."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._follow_session(), name="aiozkreg serve: session")
            group.create_task(self._follow_tree(), name="aiozkreg serve: tree")

    @staticmethod
    def _session_info(state: SessionState, session_id: int, server: str | None) -> dict[str, Any]:
        live = state in (SessionState.CONNECTED, SessionState.CONNECTED_READ_ONLY)
        return {
            "state": state.value,
            "live": live,
            "session_id": f"0x{session_id:x}" if session_id else None,
            "server": server,
        }

    def _set_session(self, change: StateChange) -> None:
        server = change.server if change.server is not None else self.session["server"]
        self.session = self._session_info(change.state, change.session_id, server)
        self._send(message("session", self.session))

    async def _follow_session(self) -> None:
        states = self.zk.states()  # before reading the state: no change is missed
        self._set_session(StateChange(self.zk.state, self.zk.client_id[0]))
        async for change in states:
            self._set_session(change)

    def _set_status(
        self,
        status: str,
        text: str,
        real_path: str | None = None,
        unreadable: Iterable[str] = (),
    ) -> None:
        self.status = {
            "status": status,
            "message": text,
            "real_path": real_path,
            "unreadable": sorted(unreadable),  # left out: this session may not read them
        }
        self._send(message("status", self.status))

    def _restart(self) -> None:
        """A new tree (or none): every page starts again from a reset."""
        self.model = Model(self._hide)
        self._reset = None
        for subscription in self._subscriptions:
            subscription.reset()

    def publish(self, snapshot: TreeSnapshot) -> None:
        """Tell every page what changed in ``snapshot``."""
        frame = self.model.advance(snapshot)
        if frame:
            self._send(text_message("delta", frame.json()))

    async def _follow_tree(self) -> None:
        backoff = Backoff(cap=10.0, first=0.5)
        missing = False  # PATH was missing: wait for it before opening the tree again
        while True:
            try:
                if missing:
                    await self._until_exists()
                    missing = False
                await self._show_tree(backoff)
                self._restart()
                self._set_status("missing", f"{self.path} was deleted; waiting for it to be made")
                missing = True
            except NoNodeError:
                if missing:  # the wait itself found no node to watch (a chroot gone, say)
                    await asyncio.sleep(backoff.delay())
                self._restart()
                self._set_status("missing", f"{self.path} does not exist; waiting for it")
                missing = True
            except ServerError as exc:  # refused (no read permission, say): tell, try again later
                self._set_status("error", f"ZooKeeper refused to show {self.path}: {exc}")
                log.warning("Cannot follow %s (%s); trying again.", self.path, exc)
                await asyncio.sleep(backoff.delay())
            except ZKConnectionError as exc:  # the session state says it; try again
                log.debug("Cannot follow %s now (%s); trying again.", self.path, exc)
                await asyncio.sleep(backoff.delay())

    async def _show_tree(self, backoff: Backoff) -> None:
        """Publish every snapshot of the tree until it ends (raises why, if it failed)."""
        async with self.zk.tree(self.path) as tree:
            backoff.reset()
            self._restart()
            showing = f"Showing {self.path}"
            self._set_status("live", showing, tree.real_path, tree.unreadable)
            async for snapshot in tree:
                self.publish(snapshot)
                if sorted(tree.unreadable) != self.status["unreadable"]:
                    self._set_status("live", showing, tree.real_path, tree.unreadable)
                await asyncio.sleep(self._interval)  # pacing: a burst of changes is one delta

    async def _until_exists(self) -> None:
        """Return when PATH may exist: the watch on it fired, or it resolves (through links,
        which that watch does not see: looked at every :data:`RECHECK` seconds)."""
        appeared = asyncio.Event()
        if await self.zk.exists(self.path, watch=lambda _event: appeared.set()) is not None:
            return
        while True:  # one watch for the whole wait
            try:
                async with asyncio.timeout(RECHECK):
                    await appeared.wait()
                return
            except TimeoutError:  # no event: does PATH resolve through links now?
                try:
                    await self.zk.resolve(self.path)
                    return
                except (NoNodeError, LinkLoop):
                    continue  # not yet: wait on
