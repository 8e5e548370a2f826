"""A minimal pipelined ZooKeeper client: the server-bound limit for the benchmarks.

It does as little Python per request as a client can: its frames are made
by aiozkreg's wire codec (``aiozkreg._wire``, the same encoders aiozkreg's
own link uses) and sent with one ``transport.write``; a reply is matched
with one ``unpack_from`` and a dict pop, and its body is not parsed on the
future API. It only knows connect, create, getData, ping and close, has no
reconnects, no chroot and no watches. It is a measuring stick, not a
client to use.

Wire format (jute): every frame is a 4-byte big-endian length and a body.
A request body is ``xid:int type:int`` then the request's fields; a reply
body is ``xid:int zxid:long err:int`` then the response's fields.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiozkreg._jute import STAT
from aiozkreg._types import OPEN_ACL_UNSAFE
from aiozkreg._wire import (
    INT,
    PING_FRAME,
    REPLY,
    Close,
    Connect,
    Create,
    GetData,
    Handshake,
    read_string,
)

__all__ = ["MinimalClient", "MinimalError"]


class MinimalError(Exception):
    """The server answered with a non-zero error code."""

    def __init__(self, code: int) -> None:
        super().__init__(f"ZooKeeper error {code}")
        self.code = code


class MinimalClient(asyncio.Protocol):
    """One connection, one session, many requests in flight matched by xid."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._pending: dict[int, asyncio.Future[bytes]] = {}
        self._xid = 0
        self._handshake: asyncio.Future[int] = self._loop.create_future()
        self._pinger: asyncio.Task[None] | None = None
        self.session_id = 0

    @classmethod
    async def connect(cls, host: str, port: int, *, timeout_ms: int = 30_000) -> MinimalClient:
        """Open a connection and a new session, and keep it alive with pings."""
        loop = asyncio.get_running_loop()
        _, client = await loop.create_connection(cls, host, port)
        assert client._transport is not None
        connect = Connect(0, timeout_ms, 0, bytes(16), False).encode()
        client._transport.write(INT.pack(len(connect)) + connect)
        granted_ms = await asyncio.wait_for(client._handshake, 10.0)
        client._pinger = asyncio.create_task(client._ping_every(granted_ms / 3000))
        return client

    # -- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        end = len(buf)
        offset = 0
        pending = self._pending
        while end - offset >= 4:
            (size,) = INT.unpack_from(buf, offset)
            stop = offset + 4 + size
            if stop > end:
                break
            if not self._handshake.done():
                handshake = Handshake.decode(bytes(buf[offset + 4 : stop]))
                self.session_id = handshake.session_id
                self._handshake.set_result(handshake.timeout_ms)
            else:
                xid, _, err = REPLY.unpack_from(buf, offset + 4)
                future = pending.pop(xid, None)
                if future is not None and not future.done():
                    if err:
                        future.set_exception(MinimalError(err))
                    else:
                        future.set_result(bytes(buf[offset + 4 + REPLY.size : stop]))
            offset = stop
        del buf[:offset]

    def connection_lost(self, exc: Exception | None) -> None:
        error = ConnectionError(f"connection lost: {exc}")
        if not self._handshake.done():
            self._handshake.set_exception(error)
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(error)

    # -- requests: the future API sends at once and resolves with the raw body ----------

    def _send(self, frame: bytes, xid: int) -> asyncio.Future[bytes]:
        future = self._loop.create_future()
        self._pending[xid] = future
        assert self._transport is not None
        self._transport.write(INT.pack(len(frame)) + frame)
        return future

    def create_future(self, path: str, value: bytes) -> asyncio.Future[bytes]:
        """Send a persistent create with an open ACL; the reply body is the created path."""
        self._xid = xid = self._xid + 1
        return self._send(Create(path, value, OPEN_ACL_UNSAFE).encode(xid), xid)

    def get_future(self, path: str) -> asyncio.Future[bytes]:
        """Send a getData without a watch; the reply body is the data, then the stat."""
        self._xid = xid = self._xid + 1
        return self._send(GetData(path).encode(xid), xid)

    # -- the same as coroutines, with the replies parsed ---------------------------------

    async def create(self, path: str, value: bytes) -> str:
        body = await self.create_future(path, value)
        return read_string(body, 0)[0]

    async def get(self, path: str) -> tuple[bytes, tuple[int, ...]]:
        body = await self.get_future(path)
        (size,) = INT.unpack_from(body, 0)
        size = max(size, 0)
        return body[4 : 4 + size], STAT.unpack_from(body, 4 + size)

    # -- lifecycle ----------------------------------------------------------------------

    async def _ping_every(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            if self._transport is None or self._transport.is_closing():
                return
            self._transport.write(PING_FRAME)

    async def close(self) -> None:
        """End the session (CloseSession) and the connection."""
        pinger, self._pinger = self._pinger, None
        if pinger is not None:
            pinger.cancel()
            await asyncio.gather(pinger, return_exceptions=True)
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        self._xid = xid = self._xid + 1
        future = self._send(Close().encode(xid), xid)
        with contextlib.suppress(TimeoutError, ConnectionError, MinimalError):
            await asyncio.wait_for(future, 2.0)
        transport.close()
