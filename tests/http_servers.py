"""A minimal HTTP/1.1 server on loopback for the HTTP adapter tests: stdlib asyncio only.

Every response names the server (``X-Server`` and the body), so a test can
count where requests went. Paths with a meaning:

- ``/hold``: the request is recorded, then answered once ``release`` is set;
- ``/stream``: a chunked response whose first chunk goes at once and whose
  end waits for ``release``;
- anything else: answered at once.

``kill()`` stops it like a crashed process: the listening socket and every
connection close, while its registration stays in ZooKeeper.

:func:`registered_servers` starts such servers registered on a real ZooKeeper
(the adapters' tests use it as their ``serve`` fixture); :class:`Preferring`
is a strategy that makes picks predictable.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence

from aiozkreg import Provider, Registry

SERVICE = "/services/echo"
Serve = Callable[..., Awaitable["HttpServer"]]


class HttpServer:
    """One HTTP/1.1 server on 127.0.0.1 that counts the requests it receives."""

    def __init__(self, name: str, *, tls: ssl.SSLContext | None = None) -> None:
        self.name = name
        self.tls = tls
        self.requests: list[tuple[str, str]] = []  # (method, path), in arrival order
        self.release = asyncio.Event()
        self._arrived = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> HttpServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port: int = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def count(self, method: str | None = None) -> int:
        """Requests received (of ``method``, if given)."""
        return sum(1 for m, _ in self.requests if method in (None, m))

    async def wait_requests(self, n: int, timeout: float = 10) -> None:
        """Return once at least ``n`` requests have arrived."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= n)

    async def kill(self) -> None:
        """Stop listening and drop every connection (the registration is left alone)."""
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
        for writer in list(self._writers):
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()
        if self._handlers:
            await asyncio.wait(self._handlers)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> HttpServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.kill()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        try:
            while await self._one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            self._handlers.discard(task)
            self._writers.discard(writer)
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if line:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        async with self._arrived:
            self.requests.append((method, path))
            self._arrived.notify_all()
        text = f"{self.name} {method} {path} {len(body)}".encode()
        server = f"X-Server: {self.name}\r\nX-Host: {headers.get('host', '')}\r\n"
        if path == "/stream":
            writer.write(
                f"HTTP/1.1 200 OK\r\n{server}Transfer-Encoding: chunked\r\n\r\n".encode()
                + _chunk(b"first ")
            )
            await writer.drain()
            await self.release.wait()
            writer.write(_chunk(text) + _chunk(b""))
        else:
            if path == "/hold":
                await self.release.wait()
            writer.write(
                f"HTTP/1.1 200 OK\r\n{server}Content-Length: {len(text)}\r\n\r\n".encode() + text
            )
        await writer.drain()
        return headers.get("connection", "").lower() != "close"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


@contextlib.contextmanager
def refusing(count: int = 1) -> Iterator[list[str]]:
    """``127.0.0.1:PORT`` addresses that refuse connections: bound, never listening, held."""
    with contextlib.ExitStack() as stack:
        addresses = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            addresses.append(f"127.0.0.1:{sock.getsockname()[1]}")
        yield addresses


@contextlib.contextmanager
def unanswered() -> Iterator[str]:
    """``127.0.0.1:PORT`` where a connect times out: a listener whose queue is full, never read.

    Linux drops a SYN to a listener whose accept queue is full, so the
    connecting side hears nothing until its connect timeout.
    """
    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        for _ in range(2):  # the first fills the queue, the second waits in vain
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(address)
        yield f"127.0.0.1:{address[1]}"


@contextlib.asynccontextmanager
async def registered_servers(registry: Registry) -> AsyncIterator[Serve]:
    """``start(name, path=SERVICE, *, register=True, **properties)``: an HTTP server on
    loopback, registered under ``path``; every one is released and killed at the end."""
    await registry.ensure_path(SERVICE)
    started: list[HttpServer] = []

    async def start(
        name: str, path: str = SERVICE, *, register: bool = True, **properties: object
    ) -> HttpServer:
        server = await HttpServer(name).start()
        started.append(server)
        if register:
            await registry.register(path, server.address, **properties)
        return server

    yield start
    for server in started:
        server.release.set()
        await server.kill()


class Preferring:
    """A strategy that picks the first candidate in a fixed order of addresses."""

    def __init__(self, order: Sequence[str]) -> None:
        self.order = list(order)

    def pick(self, candidates: Sequence[Provider], load: object) -> Provider | None:
        ranked = sorted(candidates, key=lambda p: self.order.index(p.address))
        return ranked[0] if ranked else None
