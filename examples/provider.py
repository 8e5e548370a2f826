"""A provider service: an asyncio echo server that registers itself while it runs.

Run it against the ZooKeeper named by ``AIOZKREG_HOSTS`` (or, without it, a
throwaway one it starts, which only this process can see)::

    python examples/provider.py /demo/echo/providers

It serves on a free port, registers ``127.0.0.1:PORT`` under the path for as
long as it runs, and unregisters when stopped (Ctrl-C).
"""

from __future__ import annotations

import asyncio
import contextlib

from _zookeeper import command_line, zk_path, zookeeper

from aiozkreg import Registration, Registry


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while line := await reader.readline():
            writer.write(b"echo " + line)
            await writer.drain()
    writer.close()


class EchoProvider:
    """An echo server plus its registration, started and stopped together."""

    def __init__(self, registry: Registry, path: str, **properties: object) -> None:
        self.registry = registry
        self.path = path
        self.properties = properties
        self.server: asyncio.Server | None = None
        self.registration: Registration | None = None

    @property
    def address(self) -> str:
        assert self.server is not None
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"{host}:{port}"

    async def start(self) -> EchoProvider:
        self.server = await asyncio.start_server(_echo, "127.0.0.1", 0)
        self.registration = await self.registry.register(self.path, self.address, **self.properties)
        return self

    async def stop(self) -> None:
        if self.registration is not None:
            await self.registration.unregister()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def main(path: str) -> None:
    async with zookeeper() as hosts, Registry(hosts) as zk:
        await zk.ensure_path(path)
        provider = await EchoProvider(zk, path).start()
        print(f"serving on {provider.address}, registered under {path}; Ctrl-C to stop")
        try:
            await asyncio.Event().wait()
        finally:
            await provider.stop()


if __name__ == "__main__":
    parser = command_line(__doc__)
    parser.add_argument(
        "path", nargs="?", default="/demo/echo/providers", type=zk_path, help="where to register"
    )
    path = parser.parse_args().path
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(path))
