"""A client that load-balances over the live set of providers.

It watches the providers' path with a children view and sends each request
to the next provider in turn (round robin over whatever is registered now)::

    python examples/client.py /demo/echo/providers
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys

from aiozkreg import Children, Registry


class RoundRobin:
    """Picks providers in turn from a live children view."""

    def __init__(self, providers: Children) -> None:
        self.providers = providers
        self._turn = itertools.count()

    def pick(self) -> str:
        names = sorted(self.providers)
        if not names:
            raise LookupError(f"No provider is registered under {self.providers.path}.")
        return names[next(self._turn) % len(names)]

    async def call(self, message: str) -> str:
        """Send one line to a provider and return its answer."""
        host, port = self.pick().rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            writer.write(message.encode() + b"\n")
            await writer.drain()
            return (await reader.readline()).decode().strip()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def main(path: str, requests: int = 5) -> None:
    async with Registry() as zk, zk.children(path) as providers:
        balancer = RoundRobin(providers)
        for i in range(requests):
            print(await balancer.call(f"request {i}"))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "/demo/echo/providers"))
