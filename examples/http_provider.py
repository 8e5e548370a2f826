"""An HTTP echo provider: a small HTTP/1.1 server that registers itself while it runs.

Run it against the ZooKeeper named by ``AIOZKREG_HOSTS`` (or, without it, a
throwaway one it starts, which only this process can see)::

    python examples/http_provider.py /demo/echo/http

It serves on a free port, registers ``127.0.0.1:PORT`` under the path for as
long as it runs, and unregisters when stopped (Ctrl-C). ``GET /?message=hi``
answers ``echo hi``; a POST answers ``echo`` and its body. Every answer
names the provider in an ``X-Provider`` header. (A real service would use
an HTTP framework; this one needs nothing but the standard library.)
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import parse_qs, urlsplit

from _zookeeper import command_line, zk_path, zookeeper

from aiozkreg import Registration, Registry


class HttpEchoProvider:
    """An HTTP echo server plus its registration, started and stopped together."""

    def __init__(self, registry: Registry, path: str, **properties: object) -> None:
        self.registry = registry
        self.path = path
        self.properties = properties
        self.server: asyncio.Server | None = None
        self.registration: Registration | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    @property
    def address(self) -> str:
        assert self.server is not None
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"{host}:{port}"

    async def start(self) -> HttpEchoProvider:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.registration = await self.registry.register(self.path, self.address, **self.properties)
        return self

    async def stop(self) -> None:
        """Unregister first (no new requests come), then stop serving."""
        if self.registration is not None:
            await self.registration.unregister()
        if self.server is not None:
            self.server.close()
            for writer in list(self._connections):
                writer.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while await self._answer(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client went away
        finally:
            self._connections.discard(writer)
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read one request and answer it; False when the connection should close."""
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        method, target, _ = head[0].split(" ", 2)
        headers = {}
        for line in head[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        if method == "POST":
            message = body.decode()
        else:
            message = parse_qs(urlsplit(target).query).get("message", [""])[0]
        answer = f"echo {message}".encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + f"X-Provider: {self.address}\r\nContent-Length: {len(answer)}\r\n\r\n".encode()
            + answer
        )
        await writer.drain()
        return headers.get("connection", "").lower() != "close"


async def main(path: str) -> None:
    async with zookeeper() as hosts, Registry(hosts) as zk:
        await zk.ensure_path(path)
        provider = await HttpEchoProvider(zk, path).start()
        print(f"serving HTTP on {provider.address}, registered under {path}; Ctrl-C to stop")
        try:
            await asyncio.Event().wait()
        finally:
            await provider.stop()


if __name__ == "__main__":
    parser = command_line(__doc__)
    parser.add_argument(
        "path", nargs="?", default="/demo/echo/http", type=zk_path, help="where to register"
    )
    path = parser.parse_args().path
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(path))
