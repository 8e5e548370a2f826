"""One link to one ZooKeeper server: framing, handshake and the xid table.

A :class:`Connection` is an :class:`asyncio.Protocol`. Frames are parsed and
dispatched inside ``data_received``, so there is no reader task to own: a
reply resolves its future, a watch notification goes to the session's
``on_watch`` callback (which only records it; user code never runs here),
and EOF or a reset is noticed at once in ``connection_lost``. Many requests
may be in flight; replies are matched by xid. A request whose caller gave up
(cancelled) stays in the table until its reply arrives and is then dropped,
so the table never goes out of step with the server.

Ping timing is the session's job (it owns the loop that waits on the link);
the connection only records when it last heard from the server.

A request whose frame is longer than :attr:`Connection.max_request_size` is
refused in :meth:`Connection.send` before anything is written (ZooKeeper
would drop the whole link over it, failing every request in flight).
"""

from __future__ import annotations

import asyncio
import logging
import ssl as _ssl
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiozk import protocol as _p

from . import _codec
from ._errors import ConnectionLossError, RequestTooLargeError, error_for_code

log = logging.getLogger("aiozkreg.connection")

_SIZE = struct.Struct("!i")
_REPLY = struct.Struct("!iqi")
_CONNECT = struct.Struct("!iiqi")
_MAX_FRAME = 64 * 1024 * 1024

DEFAULT_MAX_REQUEST_SIZE = 0xFFFFF
"""ZooKeeper's default ``jute.maxbuffer``. The server reads a request's 4-byte
length prefix and closes the connection if that length (the frame after the
prefix: xid, opcode and body) is greater than ``jute.maxbuffer``
(``NIOServerCnxn.readLength`` and ``NettyServerCnxn``, 3.8); a frame of
exactly this many bytes is accepted."""
NO_REQUEST_LIMIT = 0x7FFFFFFF  # a raw link's: the largest length a frame prefix can carry

WATCH_XID = -1
PING_XID = -2
AUTH_XID = -4
SET_WATCHES_XID = -8

_PING_FRAME = _SIZE.pack(8) + struct.pack("!ii", PING_XID, _p.PingRequest.opcode)

WatchCallback = Callable[[int, int, str], None]
ReplyHook = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Handshake:
    """The server's answer to a connect request."""

    session_id: int
    password: bytes
    timeout_ms: int
    read_only: bool

    @property
    def expired(self) -> bool:
        """The server refused to attach the session: it has expired."""
        return self.timeout_ms <= 0 or self.session_id == 0


class Link(Protocol):
    """What the session needs of a link to a server.

    :class:`Connection` is the real one; ``aiozkreg.testing``'s in-memory
    server provides another, so the whole client stack above runs unchanged
    against it.
    """

    host: str
    port: int
    last_zxid: int
    last_recv: float
    last_send: float
    on_lost: Callable[[Link], None] | None
    max_request_size: int
    """Longest request frame :meth:`send` accepts (else RequestTooLargeError)."""

    @property
    def address(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    @property
    def close_reason(self) -> BaseException | None: ...
    @property
    def pending_count(self) -> int: ...
    def send(
        self,
        request: Any,
        response_cls: type[Any] | None,
        *,
        xid: int | None = None,
        hook: ReplyHook | None = None,
        path: str | None = None,
    ) -> asyncio.Future[Any]: ...
    async def drain(self) -> None: ...
    def ping(self) -> None: ...
    def abort(self, reason: BaseException | None = None) -> None: ...
    async def wait_closed(self) -> None: ...


class Opener(Protocol):
    """Connect and hand-shake: ``Connection.open`` and the in-memory equivalent."""

    async def __call__(
        self,
        host: str,
        port: int,
        request: Any,
        *,
        on_watch: WatchCallback,
        timeout: float,
        ssl: _ssl.SSLContext | None = None,
    ) -> tuple[Link, Handshake]: ...


class Pending:
    """A request waiting for its reply (shared with the in-memory link)."""

    __slots__ = ("future", "hook", "path", "response_cls")

    def __init__(
        self,
        future: asyncio.Future[Any],
        response_cls: type[Any] | None,
        hook: ReplyHook | None,
        path: str | None,
    ) -> None:
        self.future = future
        self.response_cls = response_cls
        self.hook = hook
        self.path = path


def _parse_handshake(frame: bytes) -> Handshake:
    _version, timeout, session_id, pw_len = _CONNECT.unpack_from(frame, 0)
    offset = _CONNECT.size
    password = frame[offset : offset + max(pw_len, 0)]
    offset += max(pw_len, 0)
    read_only = len(frame) > offset and frame[offset] != 0
    return Handshake(session_id, bytes(password), timeout, read_only)


class Connection(asyncio.Protocol):
    """A framed, pipelined link to one server. Create with :meth:`open`."""

    def __init__(self, on_watch: WatchCallback, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._on_watch = on_watch
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._handshake: asyncio.Future[Handshake] = self._loop.create_future()
        self._pending: dict[int, Pending] = {}
        self._xid = 0
        self._closed = asyncio.Event()
        self._close_reason: BaseException | None = None
        self._writable = asyncio.Event()
        self._writable.set()
        self.last_zxid = 0
        self.on_lost: Callable[[Link], None] | None = None  # set by the session
        self.max_request_size = NO_REQUEST_LIMIT  # the session sets its own
        self.last_recv = self._loop.time()
        self.last_send = self.last_recv

    # -- opening -----------------------------------------------------------

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        request: Any,
        *,
        on_watch: WatchCallback,
        timeout: float,
        ssl: _ssl.SSLContext | None = None,
    ) -> tuple[Connection, Handshake]:
        """Connect and complete the handshake within ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        conn: Connection | None = None
        try:
            async with asyncio.timeout(timeout):
                _, conn = await loop.create_connection(
                    lambda: cls(on_watch, host, port),
                    host,
                    port,
                    ssl=ssl,
                    server_hostname=host if ssl is not None else None,
                )
                conn._write(request.serialize())
                handshake = await asyncio.shield(conn._handshake)
        except BaseException:
            if conn is not None:
                conn.abort(ConnectionLossError(f"Handshake with {host}:{port} failed."))
            raise
        return conn, handshake

    # -- asyncio.Protocol ----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self.last_recv = self._loop.time()
        buf = self._buffer
        buf += data
        offset = 0
        end = len(buf)
        try:
            while end - offset >= 4:
                (size,) = _SIZE.unpack_from(buf, offset)
                if size < 0 or size > _MAX_FRAME:
                    raise ConnectionLossError(f"Bad frame size {size} from {self.address}.")
                if end - offset - 4 < size:
                    break
                frame = bytes(buf[offset + 4 : offset + 4 + size])
                offset += 4 + size
                self._dispatch(frame)
        except Exception as exc:
            log.error("Protocol error from %s: %s", self.address, exc)
            del buf[:offset]
            self.abort(ConnectionLossError(f"Protocol error from {self.address}: {exc}"))
            return
        del buf[:offset]

    def connection_lost(self, exc: Exception | None) -> None:
        if self._close_reason is None:
            detail = f": {exc}" if exc else ""
            self._close_reason = ConnectionLossError(
                f"Connection to {self.address} was lost{detail}."
            )
        reason = self._close_reason
        if not self._handshake.done():
            self._handshake.set_exception(_copy(reason))
            self._handshake.exception()  # mark retrieved: open() may already be gone
        pending, self._pending = self._pending, {}
        for entry in pending.values():
            if not entry.future.done():
                entry.future.set_exception(_copy(reason))
        self._writable.set()
        self._closed.set()
        if self.on_lost is not None:
            self.on_lost(self)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # -- dispatch -------------------------------------------------------------

    def _dispatch(self, frame: bytes) -> None:
        if not self._handshake.done():
            if len(frame) == _REPLY.size:  # a bare reply header: the server refused us
                _xid, _zxid, err = _REPLY.unpack_from(frame, 0)
                refusal = ConnectionLossError(
                    f"{self.address} refused the session: {error_for_code(err)}"
                )
                self._handshake.set_exception(refusal)
                self.abort(ConnectionLossError(str(refusal)))
                return
            self._handshake.set_result(_parse_handshake(frame))
            return
        xid, zxid, err = _REPLY.unpack_from(frame, 0)
        if zxid > 0:
            self.last_zxid = zxid
        if xid == WATCH_XID:
            event = _p.WatchEvent.deserialize(frame[_REPLY.size :])
            self._on_watch(event.type, event.state, event.path)
            return
        if xid == PING_XID:
            return
        entry = self._pending.pop(xid, None)
        if entry is None:
            log.debug("Dropping reply to xid %d (caller gone).", xid)
            return
        if entry.hook is not None:
            entry.hook(err)
        if entry.future.done():
            return
        if err and not getattr(entry.response_cls, "parse_on_error", False):
            entry.future.set_exception(error_for_code(err, entry.path))
        elif entry.response_cls is None:
            entry.future.set_result(None)
        else:
            entry.future.set_result(_codec.decoder(entry.response_cls)(frame[_REPLY.size :]))

    # -- sending --------------------------------------------------------------

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def _write(self, payload: bytes) -> None:
        if self._transport is None or self._closed.is_set():
            raise (
                _copy(self._close_reason)
                if self._close_reason
                else ConnectionLossError(f"Connection to {self.address} is closed.")
            )
        self._transport.write(_SIZE.pack(len(payload)) + payload)
        self.last_send = self._loop.time()

    def send(
        self,
        request: Any,
        response_cls: type[Any] | None,
        *,
        xid: int | None = None,
        hook: ReplyHook | None = None,
        path: str | None = None,
    ) -> asyncio.Future[Any]:
        """Send ``request``; the future resolves with the parsed reply.

        ``hook`` is called with the reply's error code while the reply is
        being dispatched, before any later frame: the place to record a watch
        exactly when the server has set it.

        A request longer than :attr:`max_request_size` raises
        :class:`RequestTooLargeError` and is not sent.
        """
        if xid is None:
            self._xid = xid = (self._xid % 0x7FFFFFFF) + 1
        payload = _codec.encode(request, xid)
        if len(payload) > self.max_request_size:
            raise RequestTooLargeError(len(payload), self.max_request_size)
        future: asyncio.Future[Any] = self._loop.create_future()
        self._write(payload)
        self._pending[xid] = Pending(future, response_cls, hook, path)
        return future

    async def drain(self) -> None:
        """Wait while the transport's write buffer is over its high mark."""
        if not self._writable.is_set():
            await self._writable.wait()

    def ping(self) -> None:
        """Send a ping; its reply only refreshes :attr:`last_recv`."""
        if self._transport is not None and not self._closed.is_set():
            self._transport.write(_PING_FRAME)
            self.last_send = self._loop.time()

    # -- closing --------------------------------------------------------------

    def abort(self, reason: BaseException | None = None) -> None:
        """Drop the link at once; pending requests fail with ``reason``."""
        if self._close_reason is None:
            self._close_reason = reason or ConnectionLossError(
                f"Connection to {self.address} was closed."
            )
        if self._transport is not None:
            self._transport.abort()
        else:
            self.connection_lost(None)

    async def wait_closed(self) -> None:
        await self._closed.wait()

    @property
    def close_reason(self) -> BaseException | None:
        return self._close_reason


def _copy(exc: BaseException | None) -> BaseException:
    """A fresh exception like ``exc`` for each waiter (connection errors take one message),
    with the same ``__cause__``."""
    if exc is None:
        return ConnectionLossError("Connection closed.")
    copy = type(exc)(str(exc))
    copy.__cause__ = exc.__cause__
    return copy
