"""An HTTP client that calls a service by name through the httpx transport.

``ZooKeeperTransport`` maps the host name ``echo`` to the providers' path:
``GET http://echo/?message=...`` goes to a provider picked from the live
set (``p2c``: of two at random, the one with fewer requests in flight). A
provider that refuses the connection is noted (two such errors within 30 s
leave it out for 30 s) and the GET goes to another one::

    python examples/http_client.py /demo/echo/http

Without ``AIOZKREG_HOSTS`` it starts a throwaway ZooKeeper and two HTTP
echo providers of its own (examples/http_provider.py), so there is
something to talk to.
"""

from __future__ import annotations

import asyncio
import os

import httpx
from _zookeeper import command_line, zk_path, zookeeper
from http_provider import HttpEchoProvider

from aiozkreg import Registry
from aiozkreg.httpx import ZooKeeperTransport


async def call(client: httpx.AsyncClient, message: str) -> str:
    """Ask the echo service to echo ``message``."""
    response = await client.get("http://echo/", params={"message": message})
    response.raise_for_status()
    return response.text


async def main(path: str, requests: int = 5) -> None:
    async with zookeeper() as hosts, Registry(hosts) as zk:
        own: list[HttpEchoProvider] = []
        if not os.environ.get("AIOZKREG_HOSTS"):  # a throwaway server: bring providers
            await zk.ensure_path(path)
            own = [await HttpEchoProvider(zk, path).start() for _ in range(2)]
        try:
            # wait=10: a request waits up to 10 s for a provider when none is up
            transport = ZooKeeperTransport(zk, {"echo": path}, strategy="p2c", retries=2, wait=10)
            async with httpx.AsyncClient(transport=transport) as client:  # closes the transport
                for i in range(requests):
                    print(await call(client, f"request {i}"))
        finally:
            for provider in own:
                await provider.stop()


if __name__ == "__main__":
    parser = command_line(__doc__)
    parser.add_argument(
        "path", nargs="?", default="/demo/echo/http", type=zk_path, help="providers' path"
    )
    asyncio.run(main(parser.parse_args().path))
