"""The seam between the session and a server: what a link is, how one is opened.

A *link* carries requests to one server and replies back; a *connector*
opens one and completes the handshake. The session is given a connector
(as httpcore's pool is given its network backend) and never knows what is
behind it: :mod:`._connection` is the socket one, and
``aiozkreg.testing``'s in-memory ZooKeeper provides another, registered
for ``memory://`` connect strings in :mod:`._schemes` when the testing
package is imported. Both resolve replies with :class:`PendingReplies`.

The link tells its :class:`LinkListener` (the session) of watch events, of
its own loss, and of a failure of the listener's code while a reply or an
event was being handled: a bug of ours, which must reach the registry's
owner instead of passing for a protocol error.
"""

from __future__ import annotations

import asyncio
import ssl as _ssl
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from ._errors import ZKRegError, error_for_code
from ._wire import Connect, Handshake, Request

R = TypeVar("R")

DEFAULT_MAX_REQUEST_SIZE = 0xFFFFF
"""ZooKeeper's default ``jute.maxbuffer``. The server reads a request's 4-byte
length prefix and closes the connection if that length (the frame after the
prefix: xid, opcode and body) is greater than ``jute.maxbuffer``
(``NIOServerCnxn.readLength`` and ``NettyServerCnxn``, 3.8); a frame of
exactly this many bytes is accepted."""
NO_REQUEST_LIMIT = 0x7FFFFFFF  # the largest length a frame prefix can carry

ReplyHook = Callable[[int], None]
"""Called with a reply's error code as it is dispatched, before any later frame."""


class LinkListener(Protocol):
    """What a link tells the session, on the loop, as it happens."""

    def watch_event(self, event_type: int, state: int, server_path: str) -> None: ...
    def link_lost(self, link: Link) -> None: ...
    def link_failed(self, link: Link, error: Exception) -> None:
        """The listener's own code (a hook, a watch callback) raised: not the server's doing."""


class Link(Protocol):
    """A connection to one server, after the handshake."""

    last_zxid: int
    last_recv: float
    last_send: float

    @property
    def address(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    @property
    def close_reason(self) -> BaseException | None: ...
    @property
    def pending_count(self) -> int: ...
    def send(
        self, request: Request[R], *, path: str | None = None, hook: ReplyHook | None = None
    ) -> asyncio.Future[R]:
        """Send ``request``; the future resolves with its reply's value (``path`` names the
        node in errors). RequestTooLargeError, before anything is sent, for an oversize one."""

    async def drain(self) -> None: ...
    def ping(self) -> None: ...
    def abort(self, reason: BaseException | None = None) -> None: ...
    async def wait_closed(self) -> None: ...


class Connector(Protocol):
    """Open a link to ``host:port`` and hand-shake within ``timeout`` seconds."""

    async def __call__(
        self,
        host: str,
        port: int,
        connect: Connect,
        *,
        listener: LinkListener,
        timeout: float,
        ssl: _ssl.SSLContext | None = None,
        max_request_size: int = NO_REQUEST_LIMIT,
    ) -> tuple[Link, Handshake]: ...


class ProtocolError(ZKRegError):
    """The server sent something we cannot read: the link is dropped and made again."""


class Pending:
    """A request waiting for its reply."""

    __slots__ = ("future", "hook", "path", "request")

    def __init__(
        self,
        future: asyncio.Future[Any],
        request: Request[Any],
        path: str | None,
        hook: ReplyHook | None,
    ) -> None:
        self.future = future
        self.request = request
        self.path = path
        self.hook = hook

    def deliver(self, err: int, value: Any) -> None:
        """Run the hook, then resolve the future (unless its caller gave up).

        The future is resolved even if the hook raises; the hook's exception
        then propagates to the link, which hands it to its listener.
        """
        try:
            if self.hook is not None:
                self.hook(err)
        finally:
            future = self.future
            if not future.done():
                if err and not self.request.parse_on_error:
                    future.set_exception(error_for_code(err, self.path))
                else:
                    future.set_result(value)


class PendingReplies:
    """The requests a link has sent and not yet had answered, by key (the xid).

    A request whose caller gave up (cancelled) stays until its reply comes
    and is then dropped, so the table never goes out of step with the server.
    Requests of a kind that always goes with one xid (two SetWatches in
    flight, say) wait for their replies in the order they were sent, which
    is the order the server answers them in.
    """

    __slots__ = ("_loop", "_table")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._table: dict[int, Pending | deque[Pending]] = {}

    def __len__(self) -> int:
        return sum(len(e) if isinstance(e, deque) else 1 for e in self._table.values())

    def add(
        self, key: int, request: Request[R], path: str | None, hook: ReplyHook | None
    ) -> asyncio.Future[R]:
        future: asyncio.Future[R] = self._loop.create_future()
        entry = Pending(future, request, path, hook)
        waiting = self._table.get(key)
        if waiting is None:
            self._table[key] = entry
        elif isinstance(waiting, deque):
            waiting.append(entry)
        else:
            self._table[key] = deque((waiting, entry))
        return future

    def take(self, key: int) -> Pending | None:
        entry = self._table.pop(key, None)
        if not isinstance(entry, deque):
            return entry
        first = entry.popleft()
        if entry:
            self._table[key] = entry[0] if len(entry) == 1 else entry
        return first

    def fail_all(self, reason: BaseException) -> None:
        """The link is gone: every waiting caller gets (a copy of) ``reason``."""
        table, self._table = self._table, {}
        for value in table.values():
            for entry in value if isinstance(value, deque) else (value,):
                if not entry.future.done():
                    entry.future.set_exception(copy_error(reason))


def copy_error(exc: BaseException) -> BaseException:
    """A fresh exception like ``exc`` (same type, message and cause) for each waiter."""
    try:
        copy = type(exc)(str(exc))
    except TypeError:  # a constructor that takes other arguments: share the original
        return exc
    copy.__cause__ = exc.__cause__
    return copy
