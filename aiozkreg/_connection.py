"""The socket link: one TCP (or TLS) connection to one server.

A :class:`Connection` is an :class:`asyncio.Protocol`. Frames are parsed and
dispatched inside ``data_received``, so there is no reader task to own: a
reply resolves its future (see :class:`~._transport.PendingReplies`), a
watch notification goes to the listener, and EOF or a reset is noticed at
once in ``connection_lost``. Many requests may be in flight; replies are
matched by xid.

Two kinds of failure are kept apart while a frame is handled: a frame we
cannot read is a :class:`~._transport.ProtocolError` (the link is dropped
and the session makes another); an exception from the listener's own code
(a reply hook, a watch callback) is a bug of ours, handed to the listener's
``link_failed`` so that it reaches the registry's owner.

Ping timing is the session's job; the connection only records when it last
heard from the server.
"""

from __future__ import annotations

import asyncio
import logging
import ssl as _ssl
import struct
from typing import TypeVar

from ._errors import ConnectionLossError, RequestTooLargeError, error_for_code
from ._transport import (
    NO_REQUEST_LIMIT,
    LinkListener,
    PendingReplies,
    ProtocolError,
    ReplyHook,
    copy_error,
)
from ._wire import (
    INT,
    PING_FRAME,
    PING_XID,
    REPLY,
    WATCH_XID,
    Connect,
    Handshake,
    Request,
    decode_event,
)

log = logging.getLogger("aiozkreg.connection")

R = TypeVar("R")

_MAX_FRAME = 64 * 1024 * 1024
_UNREADABLE = (struct.error, UnicodeDecodeError, ValueError, IndexError)


class Connection(asyncio.Protocol):
    """A framed, pipelined link to one server. Create with :meth:`open`."""

    def __init__(self, listener: LinkListener, host: str, port: int, max_request_size: int) -> None:
        self.host = host
        self.port = port
        self.max_request_size = max_request_size
        self._listener = listener
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._handshake: asyncio.Future[Handshake] = self._loop.create_future()
        self._replies = PendingReplies(self._loop)
        self._xid = 0
        self._closed = asyncio.Event()
        self._close_reason: BaseException | None = None
        self._writable = asyncio.Event()
        self._writable.set()
        self.last_zxid = 0
        self.last_recv = self._loop.time()
        self.last_send = self.last_recv

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        connect: Connect,
        *,
        listener: LinkListener,
        timeout: float,
        ssl: _ssl.SSLContext | None = None,
        max_request_size: int = NO_REQUEST_LIMIT,
    ) -> tuple[Connection, Handshake]:
        """Connect and complete the handshake within ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        conn: Connection | None = None
        try:
            async with asyncio.timeout(timeout):
                _, conn = await loop.create_connection(
                    lambda: cls(listener, host, port, max_request_size),
                    host,
                    port,
                    ssl=ssl,
                    server_hostname=host if ssl is not None else None,
                )
                conn._write(connect.encode())
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
                (size,) = INT.unpack_from(buf, offset)
                if size < 0 or size > _MAX_FRAME:
                    raise ProtocolError(f"Bad frame size {size} from {self.address}.")
                if end - offset - 4 < size:
                    break
                frame = bytes(buf[offset + 4 : offset + 4 + size])
                offset += 4 + size
                self._dispatch(frame)
        except ProtocolError as exc:
            log.error("Protocol error from %s: %s", self.address, exc)
            self.abort(ConnectionLossError(f"Protocol error from {self.address}: {exc}"))
        except Exception as exc:  # a bug in the listener's code: its owner must hear of it
            self.abort(ConnectionLossError(f"The link to {self.address} was dropped: {exc!r}"))
            self._listener.link_failed(self, exc)
        finally:
            del buf[:offset]

    def connection_lost(self, exc: Exception | None) -> None:
        if self._close_reason is None:
            detail = f": {exc}" if exc else ""
            self._close_reason = ConnectionLossError(
                f"Connection to {self.address} was lost{detail}."
            )
        reason = self._close_reason
        if not self._handshake.done():
            self._handshake.set_exception(copy_error(reason))
            self._handshake.exception()  # retrieved: open() may already be gone
        self._replies.fail_all(reason)
        self._writable.set()
        self._closed.set()
        self._listener.link_lost(self)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # -- dispatch -------------------------------------------------------------

    def _dispatch(self, frame: bytes) -> None:
        if not self._handshake.done():
            self._answer_handshake(frame)
            return
        try:
            xid, zxid, err = REPLY.unpack_from(frame, 0)
        except struct.error as exc:
            raise ProtocolError(f"A frame of {len(frame)} bytes is no reply.") from exc
        if zxid > 0:
            self.last_zxid = zxid
        if xid == WATCH_XID:
            try:
                event_type, state, path = decode_event(frame[REPLY.size :])
            except _UNREADABLE as exc:
                raise ProtocolError(f"Unreadable watch event: {exc}") from exc
            self._listener.watch_event(event_type, state, path)
            return
        if xid == PING_XID:
            return
        entry = self._replies.take(xid)
        if entry is None:
            log.debug("Dropping reply to xid %d (caller gone).", xid)
            return
        value = None
        if not err or entry.request.parse_on_error:
            try:
                value = entry.request.decode(frame[REPLY.size :])
            except _UNREADABLE as exc:
                raise ProtocolError(f"Unreadable reply to {entry.request!r}: {exc}") from exc
        entry.deliver(err, value)

    def _answer_handshake(self, frame: bytes) -> None:
        if len(frame) == REPLY.size:  # a bare reply header: the server refused us
            _xid, _zxid, err = REPLY.unpack_from(frame, 0)
            refusal = ConnectionLossError(
                f"{self.address} refused the session: {error_for_code(err)}"
            )
            self._handshake.set_exception(refusal)
            self.abort(ConnectionLossError(str(refusal)))
            return
        try:
            self._handshake.set_result(Handshake.decode(frame))
        except _UNREADABLE as exc:
            raise ProtocolError(f"Unreadable handshake: {exc}") from exc

    # -- sending --------------------------------------------------------------

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def pending_count(self) -> int:
        return len(self._replies)

    @property
    def close_reason(self) -> BaseException | None:
        return self._close_reason

    def _write(self, payload: bytes) -> None:
        if self._transport is None or self._closed.is_set():
            reason = self._close_reason
            raise (
                copy_error(reason)
                if reason
                else ConnectionLossError(f"Connection to {self.address} is closed.")
            )
        self._transport.write(INT.pack(len(payload)) + payload)
        self.last_send = self._loop.time()

    def send(
        self, request: Request[R], *, path: str | None = None, hook: ReplyHook | None = None
    ) -> asyncio.Future[R]:
        """Send ``request``; the future resolves with its reply's value.

        ``hook`` is called with the reply's error code while the reply is
        being dispatched, before any later frame: the place to record a watch
        exactly when the server has set it. A request longer than
        ``max_request_size`` raises :class:`RequestTooLargeError` unsent.
        """
        xid = request.fixed_xid
        if xid is None:
            self._xid = xid = (self._xid % 0x7FFFFFFF) + 1
        payload = request.encode(xid)
        if len(payload) > self.max_request_size:
            raise RequestTooLargeError(len(payload), self.max_request_size)
        self._write(payload)
        return self._replies.add(xid, request, path, hook)

    async def drain(self) -> None:
        """Wait while the transport's write buffer is over its high mark."""
        if not self._writable.is_set():
            await self._writable.wait()

    def ping(self) -> None:
        """Send a ping; its reply only refreshes :attr:`last_recv`."""
        if self._transport is not None and not self._closed.is_set():
            self._transport.write(PING_FRAME)
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
