"""aiozkreg.aiohttp: a resolver that gives aiohttp the providers registered on a real ZooKeeper."""

from __future__ import annotations

import asyncio
import json
import ssl
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import pytest
import trustme
from http_servers import SERVICE, HttpServer, Preferring, Serve, refusing, registered_servers

from aiozkreg import Registry
from aiozkreg.aiohttp import ZooKeeperResolver


@pytest.fixture
async def serve(registry: Registry) -> AsyncIterator[Serve]:
    """Start HTTP servers on loopback, each registered under SERVICE (or a given path)."""
    async with registered_servers(registry) as start:
        yield start


def session(resolver: ZooKeeperResolver, **connector: bool) -> aiohttp.ClientSession:
    """A session whose connector asks ``resolver`` for every new connection."""
    options = {"use_dns_cache": False, **connector}
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver, **options))


async def spread(http: aiohttp.ClientSession, n: int) -> Counter[str]:
    """Send ``n`` GETs one after the other; how many each server answered."""
    served: Counter[str] = Counter()
    for _ in range(n):
        async with http.get("http://echo/") as response:
            response.raise_for_status()
            served[response.headers["x-server"]] += 1
    return served


async def test_each_new_connection_goes_to_the_next_provider(
    registry: Registry, serve: Serve
) -> None:
    """With a connection per request, round_robin spreads requests exactly over three providers."""
    for name in "abc":
        await serve(name)
    async with (
        ZooKeeperResolver(registry, {"echo": SERVICE}) as resolver,
        session(resolver, force_close=True) as http,
    ):
        assert await spread(http, 30) == {"a": 10, "b": 10, "c": 10}


async def test_a_kept_alive_connection_stays_with_its_provider(
    registry: Registry, serve: Serve
) -> None:
    """The resolver is asked once per connection: a kept-alive connection serves one provider."""
    for name in "abc":
        await serve(name)
    async with (
        ZooKeeperResolver(registry, {"echo": SERVICE}) as resolver,
        session(resolver) as http,
    ):
        served = await spread(http, 12)
    assert len(served) == 1 and sum(served.values()) == 12


async def test_a_refused_provider_falls_back_to_the_next_address(
    registry: Registry, serve: Serve
) -> None:
    """The connector tries the other providers after a refusal; the error is not counted."""
    live = await serve("live")
    with refusing() as [dead]:
        await registry.register(SERVICE, dead)
        resolver = ZooKeeperResolver(
            registry, {"echo": SERVICE}, strategy=Preferring([dead, live.address])
        )
        async with resolver, session(resolver, force_close=True) as http:
            assert await spread(http, 3) == {"live": 3}
            providers = await resolver.providers("echo")
            assert providers.ejected == frozenset()  # the resolver never hears of it


async def test_no_provider_is_a_dns_error_naming_the_path(registry: Registry) -> None:
    """No provider under the path: aiohttp raises ClientConnectorDNSError naming the path."""
    await registry.ensure_path(SERVICE)
    async with (
        ZooKeeperResolver(registry, {"echo": SERVICE}) as resolver,
        session(resolver) as http,
    ):
        with pytest.raises(aiohttp.ClientConnectorDNSError, match=SERVICE):
            await http.get("http://echo/")


async def test_a_provider_that_joins_later_is_used(registry: Registry, serve: Serve) -> None:
    """A lookup waiting for a provider gets the one that registers."""
    await registry.ensure_path(SERVICE)
    async with (
        ZooKeeperResolver(registry, {"echo": SERVICE}, wait=10) as resolver,
        session(resolver) as http,
    ):
        waiting = asyncio.create_task(http.get("http://echo/"))
        await serve("late")
        async with await waiting as response:
            assert response.headers["x-server"] == "late"


async def test_other_names_fall_through_to_the_default_resolver(
    registry: Registry, serve: Serve
) -> None:
    """A name that is not mapped (localhost) is resolved as usual."""
    other = await serve("other", register=False)
    async with (
        ZooKeeperResolver(registry, {"echo": SERVICE}) as resolver,
        session(resolver) as http,
        http.get(f"http://localhost:{other.port}/") as r,
    ):
        assert await r.text() == "other GET / 0"


async def test_https_takes_the_ssl_port_and_checks_the_service_name(registry: Registry) -> None:
    """https://secure/ goes to a Curator instance's sslPort; TLS checks the name in the URL."""
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("secure").configure_cert(server_tls)
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    path = "/services/secure"
    await registry.ensure_path(path)
    async with HttpServer("tls", tls=server_tls) as server:
        instance = str(uuid.uuid4())
        data = {"name": "secure", "id": instance, "address": "127.0.0.1", "port": None}
        data |= {"sslPort": server.port, "payload": None, "serviceType": "DYNAMIC"}
        await registry.create(f"{path}/{instance}", json.dumps(data).encode(), ephemeral=True)
        async with (
            ZooKeeperResolver(registry, {"secure": path}) as resolver,
            session(resolver) as http,
            http.get("https://secure/x", ssl=client_tls) as r,
        ):
            assert await r.text() == "tls GET /x 0"


async def test_close_closes_the_sets_and_not_the_registry(registry: Registry, serve: Serve) -> None:
    """close() ends the provider sets it opened; the registry stays open; resolving then fails."""
    await serve("a")
    resolver = ZooKeeperResolver(registry, {"echo": SERVICE})
    providers = await resolver.providers("echo")
    await resolver.close()
    await resolver.close()
    assert resolver.closed and providers.closed
    assert await registry.exists(SERVICE) is not None
    with pytest.raises(RuntimeError, match="closed"):
        await resolver.resolve("echo", 80)
