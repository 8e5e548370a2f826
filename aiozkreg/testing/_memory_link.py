"""A client's link to the in-memory ZooKeeper: the :class:`~aiozkreg._connection.Link` seam.

The server handles each request the moment it is sent and queues the
reply on the link; watch notifications it triggers are queued the same
way, on every link that holds the watch. A link delivers its queue in
order on later turns of the event loop, as a socket would: a reply comes
after the events triggered by earlier requests and before those of later
ones, its hook runs as it is delivered, and a close comes in a turn of its
own after everything queued before it (or at once, dropping the queue, when
the server resets the link).

As the real link does, :meth:`MemoryLink.send` refuses a request whose frame
(serialised as the real link would) is longer than ``max_request_size``
with :class:`~aiozkreg.RequestTooLargeError`, and hands the server the
frame's length, which it checks against its own ``jute_maxbuffer``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import struct
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import _codec
from .._connection import NO_REQUEST_LIMIT, Pending, ReplyHook, WatchCallback
from .._errors import ConnectionLossError, RequestTooLargeError, error_for_code

if TYPE_CHECKING:
    from ._memory import MemoryZooKeeper, ServerSession

log = logging.getLogger("aiozkreg.testing.memory")

_SYNC_CONNECTED = 3


class _Reply:
    __slots__ = ("err", "key", "response", "zxid")

    def __init__(self, key: int, err: int, zxid: int, response: Any) -> None:
        self.key, self.err, self.zxid, self.response = key, err, zxid, response


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


def _copy(exc: BaseException) -> BaseException:
    copy = type(exc)(str(exc))
    copy.__cause__ = exc.__cause__
    return copy


def _coerce(response: Any, response_cls: type[Any]) -> Any:
    """``response`` as ``response_cls`` would parse it (a round trip if the class differs)."""
    if isinstance(response, response_cls) or not hasattr(response, "render"):
        return response
    fmt, values = response.render()
    return response_cls.deserialize(struct.pack("!" + fmt, *values))


class MemoryLink:
    """One connection of a client to a :class:`MemoryZooKeeper`."""

    def __init__(self, server: MemoryZooKeeper, on_watch: WatchCallback) -> None:
        self.host = server.name
        self.port = 0
        self.loop = asyncio.get_running_loop()
        self._server: MemoryZooKeeper | None = server  # None once the server dropped us
        self._on_watch = on_watch
        self.session: ServerSession | None = None
        self.ids: list[tuple[str, str]] = [("ip", "127.0.0.1")]  # as a loopback client
        self.watches: set[tuple[bool, str]] = set()  # (child watch?, server path)
        self._pending: dict[int, Pending] = {}
        self._keys = itertools.count(1)
        self._outbox: deque[_Item] = deque()
        self._flush_handle: asyncio.Handle | None = None
        self._closed = asyncio.Event()
        self._close_reason: BaseException | None = None
        self.last_zxid = 0
        self.last_recv = self.loop.time()
        self.last_send = self.last_recv
        self.on_lost: Callable[[Any], None] | None = None
        self.max_request_size = NO_REQUEST_LIMIT  # the session sets its own

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
        return len(self._pending)

    def send(
        self,
        request: Any,
        response_cls: type[Any] | None,
        *,
        xid: int | None = None,
        hook: ReplyHook | None = None,
        path: str | None = None,
    ) -> asyncio.Future[Any]:
        """Hand ``request`` to the server; the future resolves when its reply is delivered."""
        if self._closed.is_set():
            reason = self._close_reason
            raise _copy(reason) if reason else ConnectionLossError(f"{self.address} is closed.")
        size = len(_codec.encode(request, 0))  # the frame after the length prefix
        if size > self.max_request_size:
            raise RequestTooLargeError(size, self.max_request_size)
        key = next(self._keys)
        future: asyncio.Future[Any] = self.loop.create_future()
        self._pending[key] = Pending(future, response_cls, hook, path)
        self.last_send = self.loop.time()
        if self._server is not None:  # else it is dropped: the close fails the future
            self._server._handle(self, key, request, size)
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
        server, self._server = self._server, None
        if server is not None:
            server._detach(self)
        self._outbox.clear()
        self._finish(self._close_reason)

    async def wait_closed(self) -> None:
        await self._closed.wait()

    # -- the server's side -----------------------------------------------------------

    def queue_reply(self, key: int, err: int, zxid: int, response: Any = None) -> None:
        self._put(_Reply(key, err, zxid, response))

    def queue_event(self, type_: int, path: str) -> None:
        self._put(_Event(type_, path))

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

    def _put(self, item: _Item) -> None:
        if self._closed.is_set():
            return
        self._outbox.append(item)
        if self._flush_handle is None:
            try:
                self._flush_handle = self.loop.call_soon(self._flush)
            except RuntimeError:  # its event loop is closed: no one is listening
                server, self._server = self._server, None
                if server is not None:
                    server._detach(self)
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
            except Exception as exc:  # as the real link does with a bad frame
                log.error("Protocol error on %s: %s", self.address, exc)
                self.abort(ConnectionLossError(f"Protocol error on {self.address}: {exc}"))

    def _deliver(self, item: _Reply | _Event | _Ping) -> None:
        if isinstance(item, _Event):
            self._on_watch(item.type, _SYNC_CONNECTED, item.path)
            return
        if item.zxid > 0:
            self.last_zxid = item.zxid
        if isinstance(item, _Ping):
            return
        entry = self._pending.pop(item.key, None)
        if entry is None:
            return
        if entry.hook is not None:
            entry.hook(item.err)
        if entry.future.done():  # the caller gave up
            return
        cls = entry.response_cls
        if item.err and not getattr(cls, "parse_on_error", False):
            entry.future.set_exception(error_for_code(item.err, entry.path))
        elif cls is None:
            entry.future.set_result(None)
        else:
            entry.future.set_result(_coerce(item.response, cls))

    def _finish(self, reason: BaseException) -> None:
        if self._closed.is_set():
            return
        if self._close_reason is None:
            self._close_reason = reason
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        pending, self._pending = self._pending, {}
        for entry in pending.values():
            if not entry.future.done():
                entry.future.set_exception(_copy(self._close_reason))
        self._closed.set()
        if self.on_lost is not None:
            self.on_lost(self)
