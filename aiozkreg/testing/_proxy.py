"""A TCP proxy that cuts or stalls its links on demand, for partition tests.

States, switched at once by :meth:`FaultProxy.cut`, :meth:`FaultProxy.stall`
and :meth:`FaultProxy.heal`:

``forwarding``
    Bytes flow both ways; a new connection is forwarded to the target.
``cut``
    Every link is reset (``SO_LINGER`` 0: the client reads a reset or EOF
    at once, the server too); a new connection is accepted and reset.
``stalled``
    A black hole: sockets stay open and nothing is forwarded either way,
    not even a close. New connections are accepted and forwarded nothing
    (the target is not even dialled).

:meth:`~FaultProxy.heal` returns to forwarding. A stalled link resumes where
it stopped: bytes it received while stalled are then delivered, in order,
and so is a close. A cut link is gone for good; clients reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import socket
import struct
from types import TracebackType

from .._tasks import TaskOwner

__all__ = ["FaultProxy", "ProxyState"]

log = logging.getLogger("aiozkreg.testing")

_LINGER_ZERO = struct.pack("ii", 1, 0)
_CHUNK = 65536


class ProxyState(enum.Enum):
    """What a :class:`FaultProxy` does with its links."""

    FORWARDING = "forwarding"
    CUT = "cut"
    STALLED = "stalled"


def _reset(writer: asyncio.StreamWriter | None) -> None:
    """Close a connection with a TCP reset rather than a graceful FIN."""
    if writer is None or writer.transport.is_closing():
        return
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
    writer.transport.abort()


class _Ended(Exception):
    """One direction of a link reached its end; the link closes."""


class _Link:
    """One client connection and, once dialled, its connection to the target."""

    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None

    def reset(self) -> None:
        _reset(self.client)
        _reset(self.upstream)

    def close(self) -> None:
        """Close both ends gracefully, after any bytes already written."""
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.close()


class FaultProxy:
    """Forward ``127.0.0.1:port`` to ``target_host:target_port``, with faults on demand.

    ``async with FaultProxy(host, port) as proxy:`` starts and closes it.
    Every task it runs belongs to one task group, cancelled and awaited by
    :meth:`close`; a task that fails unexpectedly (not a peer going away)
    stops the proxy, and :meth:`close` raises that failure to its owner.
    """

    def __init__(
        self, target_host: str, target_port: int, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._target = (target_host, target_port)
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._owner = TaskOwner(f"FaultProxy to {target_host}:{target_port}", self._failed)
        self._failure: BaseException | None = None
        self._links: dict[asyncio.Task[None], _Link] = {}
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._state = ProxyState.FORWARDING

    @property
    def host(self) -> str:
        """The address the proxy listens on."""
        return self._host

    @property
    def port(self) -> int:
        """The port the proxy listens on (known once started)."""
        if self._port == 0:
            raise RuntimeError("The FaultProxy is not started.")
        return self._port

    @property
    def address(self) -> str:
        """``"HOST:PORT"`` to connect through the proxy."""
        return f"{self._host}:{self.port}"

    @property
    def target(self) -> tuple[str, int]:
        """Where new links are forwarded to."""
        return self._target

    @property
    def state(self) -> ProxyState:
        """Forwarding, cut or stalled."""
        return self._state

    @property
    def connections(self) -> int:
        """How many client connections are open through the proxy."""
        return len(self._links)

    async def start(self) -> None:
        """Listen; a no-op if already listening."""
        if self._server is None:
            await self._owner.start()
            self._server = await asyncio.start_server(self._accepted, self._host, self._port)
            self._port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening, reset every link, and await every task; idempotent.

        Raises the failure that stopped the proxy, if a task of it failed.
        """
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for link in self._links.values():
            link.reset()
        await self._owner.close()
        if server is not None:
            await server.wait_closed()
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def _failed(self, failure: BaseException) -> None:
        self._failure = failure
        for link in self._links.values():
            link.reset()

    def cut(self) -> None:
        """Reset every link now and reset new connections, until :meth:`heal`."""
        self._state = ProxyState.CUT
        self._flowing.clear()
        for task, link in list(self._links.items()):
            link.reset()
            task.cancel()

    def stall(self) -> None:
        """Forward nothing, either way, on old and new links, until :meth:`heal`."""
        self._state = ProxyState.STALLED
        self._flowing.clear()

    def heal(self) -> None:
        """Forward again: stalled links resume, new connections are forwarded."""
        self._state = ProxyState.FORWARDING
        self._flowing.set()

    def retarget(self, host: str, port: int) -> None:
        """Forward new connections to ``host:port``; open links keep their target."""
        self._target = (host, port)

    async def __aenter__(self) -> FaultProxy:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._server is None or self._state is ProxyState.CUT or not self._owner.running:
            _reset(writer)
            return
        link = _Link(writer)
        task = self._owner.spawn(self._forward(link, reader), name="fault proxy link")
        self._links[task] = link
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._links.pop(task, None)

    async def _forward(self, link: _Link, reader: asyncio.StreamReader) -> None:
        """Dial the target once flowing, then copy both ways until either side ends."""
        ended = False
        try:
            await self._flowing.wait()
            try:
                up_reader, link.upstream = await asyncio.open_connection(*self._target)
            except OSError as exc:
                log.debug("fault proxy cannot reach %s:%d: %s", *self._target, exc)
                return
            try:
                async with asyncio.TaskGroup() as pumps:
                    pumps.create_task(self._pump(reader, link.upstream))
                    pumps.create_task(self._pump(up_reader, link.client))
            except* _Ended:
                ended = True
        finally:
            if ended:
                link.close()
            else:
                link.reset()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy bytes one way, holding each chunk (and the end) while not flowing."""
        while True:
            try:
                data = await reader.read(_CHUNK)
            except ConnectionError:
                data = b""
            await self._flowing.wait()
            if not data:
                raise _Ended
            writer.write(data)
            try:
                await writer.drain()
            except ConnectionError as exc:
                raise _Ended from exc
