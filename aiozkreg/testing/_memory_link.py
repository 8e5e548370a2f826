"""A client's link to the in-memory ZooKeeper: a :class:`~aiozkreg._transport.Link`.

The server handles each request the moment it is sent and queues the
reply's value on the link; watch notifications it triggers are queued the
same way, on every link that holds the watch. A link delivers its queue in
order on later turns of the event loop, as a socket would: a reply comes
after the events triggered by earlier requests and before those of later
ones, its hook runs as it is delivered, and a close comes in a turn of its
own after everything queued before it (or at once, dropping the queue, when
the server resets the link).

It behaves as the socket link (:mod:`aiozkreg._connection`) does:

- requests are numbered with xids the same way, and replies resolved by
  :meth:`~aiozkreg._transport.Pending.deliver` (the hook, then the future);
  a reply to a ping is only heard, never matched;
- :meth:`MemoryLink.send` refuses a request whose frame (after the length
  prefix) is longer than ``max_request_size`` with
  :class:`~aiozkreg.RequestTooLargeError`, sending nothing, and hands the
  server the frame's length for its own ``jute_maxbuffer`` check;
- an exception from the listener's code or a reply hook while a reply or an
  event is delivered is a bug of the client's: the link hands it to
  ``listener.link_failed`` and drops itself.

Closing from the client's side (:meth:`MemoryLink.abort`) takes effect at
once: pending requests fail and the listener hears ``link_lost``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import TYPE_CHECKING, TypeVar

from .._errors import ConnectionLossError, RequestTooLargeError
from .._transport import LinkListener, PendingReplies, ReplyHook, copy_error
from .._wire import PING_XID, Request

if TYPE_CHECKING:
    from ._memory import MemoryZooKeeper, ServerSession

log = logging.getLogger("aiozkreg.testing.memory")

R = TypeVar("R")

_SYNC_CONNECTED = 3  # the keeper state of every notification a connected session gets


class _Reply:
    __slots__ = ("err", "value", "xid", "zxid")

    def __init__(self, xid: int, err: int, zxid: int, value: object) -> None:
        self.xid, self.err, self.zxid, self.value = xid, err, zxid, value


class _Event:
    __slots__ = ("path", "type")

    def __init__(self, type_: int, path: str) -> None:
        self.type, self.path = type_, path


class _Ping:
    __slots__ = ("zxid",)

    def __init__(self, zxid: int) -> None:
        self.zxid = zxid


class _Close:
    __slots__ = ("reason",)

    def __init__(self, reason: BaseException) -> None:
        self.reason = reason


_Item = _Reply | _Event | _Ping | _Close


class MemoryLink:
    """One connection of a client to a :class:`MemoryZooKeeper`."""

    def __init__(
        self, server: MemoryZooKeeper, listener: LinkListener, max_request_size: int
    ) -> None:
        self.host = server.name
        self.port = 0
        self.max_request_size = max_request_size
        self.loop = asyncio.get_running_loop()
        self._server: MemoryZooKeeper | None = server  # None once either side dropped it
        self._listener = listener
        self.session: ServerSession | None = None
        self.ids: list[tuple[str, str]] = [("ip", "127.0.0.1")]  # as a loopback client
        self.watches: set[tuple[bool, str]] = set()  # (child watch?, server path)
        self._replies = PendingReplies(self.loop)
        self._xid = 0
        self._outbox: deque[_Item] = deque()
        self._flush_handle: asyncio.Handle | None = None
        self._closed = asyncio.Event()
        self._close_reason: BaseException | None = None
        self.last_zxid = 0
        self.last_recv = self.loop.time()
        self.last_send = self.last_recv

    # -- the Link protocol ---------------------------------------------------------

    @property
    def address(self) -> str:
        return f"memory://{self.host}"

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def close_reason(self) -> BaseException | None:
        return self._close_reason

    @property
    def pending_count(self) -> int:
        return len(self._replies)

    def send(
        self, request: Request[R], *, path: str | None = None, hook: ReplyHook | None = None
    ) -> asyncio.Future[R]:
        """Hand ``request`` to the server; the future resolves when its reply is delivered."""
        xid = request.fixed_xid
        if xid is None:
            self._xid = xid = (self._xid % 0x7FFFFFFF) + 1
        size = len(request.encode(xid))  # the frame after the length prefix
        if size > self.max_request_size:
            raise RequestTooLargeError(size, self.max_request_size)
        if self._closed.is_set():
            reason = self._close_reason
            raise (
                copy_error(reason) if reason else ConnectionLossError(f"{self.address} is closed.")
            )
        future = self._replies.add(xid, request, path, hook)
        self.last_send = self.loop.time()
        if self._server is not None:  # else it is being dropped: the close fails the future
            self._server._handle(self, xid, request, size)
        return future

    async def drain(self) -> None:
        """Nothing to wait for: the server takes every request at once."""

    def ping(self) -> None:
        if self._server is not None and not self._closed.is_set():
            self.last_send = self.loop.time()
            self._server._ping(self)

    def abort(self, reason: BaseException | None = None) -> None:
        """Close the link from the client's side, at once."""
        if self._closed.is_set():
            return
        if self._close_reason is None:
            self._close_reason = reason or ConnectionLossError(f"{self.address} was closed.")
        self._forget_server()
        self._outbox.clear()
        self._finish(self._close_reason)

    async def wait_closed(self) -> None:
        await self._closed.wait()

    # -- the server's side -----------------------------------------------------------

    def queue_reply(self, xid: int, err: int, zxid: int, value: object = None) -> None:
        self._put(_Reply(xid, int(err), zxid, value))

    def queue_event(self, type_: int, path: str) -> None:
        self._put(_Event(int(type_), path))

    def queue_ping(self, zxid: int) -> None:
        self._put(_Ping(zxid))

    def drop(self, reason: BaseException, *, graceful: bool) -> None:
        """The server closes the link: after what is queued, or at once (a reset)."""
        if self._server is None:
            return
        self._server = None
        if not graceful:
            self._outbox.clear()
        self._put(_Close(reason))

    def _forget_server(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server._detach(self)

    def _put(self, item: _Item) -> None:
        if self._closed.is_set():
            return
        self._outbox.append(item)
        if self._flush_handle is None:
            try:
                self._flush_handle = self.loop.call_soon(self._flush)
            except RuntimeError:  # its event loop is closed: no one is listening
                self._forget_server()
                self._outbox.clear()
                with contextlib.suppress(RuntimeError):  # waking a waiter needs the loop
                    self._closed.set()

    # -- delivery ------------------------------------------------------------------------

    def _flush(self) -> None:
        self._flush_handle = None
        delivered = False
        while self._outbox and not self._closed.is_set():
            item = self._outbox[0]
            if isinstance(item, _Close):
                if delivered:  # a close is read in a turn of its own
                    self._flush_handle = self.loop.call_soon(self._flush)
                    return
                self._outbox.clear()
                self._finish(item.reason)
                return
            self._outbox.popleft()
            delivered = True
            self.last_recv = self.loop.time()
            try:
                self._deliver(item)
            except Exception as exc:  # a bug in the listener's code: its owner must hear of it
                self._failed(exc)
                return

    def _deliver(self, item: _Reply | _Event | _Ping) -> None:
        if isinstance(item, _Event):
            self._listener.watch_event(item.type, _SYNC_CONNECTED, item.path)
            return
        if item.zxid > 0:
            self.last_zxid = item.zxid
        if isinstance(item, _Ping) or item.xid == PING_XID:
            return
        entry = self._replies.take(item.xid)
        if entry is None:
            log.debug("Dropping reply to xid %d (caller gone).", item.xid)
            return
        value = item.value if not item.err or entry.request.parse_on_error else None
        entry.deliver(item.err, value)

    def _failed(self, exc: Exception) -> None:
        """As the socket link does: drop the link, and tell the listener why."""
        if self._close_reason is None:
            self._close_reason = ConnectionLossError(
                f"The link to {self.address} was dropped: {exc!r}"
            )
        try:
            self._listener.link_failed(self, exc)
        finally:
            self.abort()

    def _finish(self, reason: BaseException) -> None:
        if self._closed.is_set():
            return
        if self._close_reason is None:
            self._close_reason = reason
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._replies.fail_all(self._close_reason)
        self._closed.set()
        self._listener.link_lost(self)
