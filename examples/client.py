"""A client that load-balances over the live set of providers.

It opens a provider set (``zk.providers``) on the providers' path and sends
each request to the provider it picks: round robin over whatever is
registered, enabled and not ejected now. A provider that cannot be reached
is noted; two such errors within 30 s leave it out of the picks for 30 s,
and the request goes to the next one::

    python examples/client.py /demo/echo/providers

Without ``AIOZKREG_HOSTS`` it starts a throwaway ZooKeeper and one echo
provider of its own, so there is something to talk to.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

from _zookeeper import command_line, zk_path, zookeeper
from provider import EchoProvider

from aiozkreg import Provider, Providers, Registry


async def _send(provider: Provider, message: str) -> str:
    reader, writer = await asyncio.open_connection(provider.host, provider.port)
    try:
        writer.write(message.encode() + b"\n")
        await writer.drain()
        return (await reader.readline()).decode().strip()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


class Client:
    """Sends one-line requests to providers picked from a live provider set."""

    def __init__(self, providers: Providers, attempts: int = 3) -> None:
        self.providers = providers
        self.attempts = attempts

    async def call(self, message: str) -> str:
        """Send one line to a provider and return its answer, trying others on failure."""
        for attempt in range(1, self.attempts + 1):
            # a lease counts the request as outstanding work on the provider
            async with self.providers.lease(wait=True, timeout=10) as provider:
                try:
                    return await _send(provider, message)
                except OSError:
                    self.providers.note_error(provider)
                    if attempt == self.attempts:
                        raise
        raise AssertionError("unreachable")


async def main(path: str, requests: int = 5) -> None:
    async with zookeeper() as hosts, Registry(hosts) as zk:
        own = None
        if not os.environ.get("AIOZKREG_HOSTS"):  # a throwaway server: bring a provider
            await zk.ensure_path(path)
            own = await EchoProvider(zk, path).start()
        try:
            async with zk.providers(path) as providers:
                client = Client(providers)
                for i in range(requests):
                    print(await client.call(f"request {i}"))
        finally:
            if own is not None:
                await own.stop()


if __name__ == "__main__":
    parser = command_line(__doc__)
    parser.add_argument(
        "path", nargs="?", default="/demo/echo/providers", type=zk_path, help="providers' path"
    )
    asyncio.run(main(parser.parse_args().path))
