"""aiozkreg.httpx: requests to mapped hosts reach providers registered on a real ZooKeeper."""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from http_servers import (
    SERVICE,
    HttpServer,
    Preferring,
    Serve,
    refusing,
    registered_servers,
    unanswered,
)
from waits import first_snapshot

from aiozkreg import Provider, Registry
from aiozkreg.httpx import PROVIDER_EXTENSION, ZooKeeperTransport, _aimed, _copied_url


@pytest.fixture
async def serve(registry: Registry) -> AsyncIterator[Serve]:
    """Start HTTP servers on loopback, each registered under SERVICE (or a given path)."""
    async with registered_servers(registry) as start:
        yield start


class Recording(httpx.AsyncBaseTransport):
    """An inner transport that records where each request was sent, and whether it was closed."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.sent: list[str] = []
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.url.netloc.decode())
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        self.closed = True
        await self.inner.aclose()


def client(zk: Registry, **options: object) -> tuple[ZooKeeperTransport, httpx.AsyncClient]:
    """A transport mapping "echo" to SERVICE, and a client on it (which closes it)."""
    transport = ZooKeeperTransport(zk, {"echo": SERVICE}, **options)  # type: ignore[arg-type]
    return transport, httpx.AsyncClient(transport=transport, timeout=10)


async def spread(http: httpx.AsyncClient, n: int, path: str = "/") -> Counter[str]:
    """Send ``n`` GETs one after the other; how many each server answered."""
    served: Counter[str] = Counter()
    for _ in range(n):
        response = await http.get(f"http://echo{path}")
        response.raise_for_status()
        served[response.headers["x-server"]] += 1
    return served


# -- where a request is aimed (no server) -------------------------------------------------

AIMED = [
    # url, provider host, port, ssl_port -> url sent, Host header
    ("http://echo/a?b=1", "127.0.0.1", 8080, None, "http://127.0.0.1:8080/a?b=1", "127.0.0.1:8080"),
    ("http://echo/", "::1", 8080, None, "http://[::1]:8080/", "[::1]:8080"),
    ("http://echo/x", "10.0.0.1", 80, None, "http://10.0.0.1/x", "10.0.0.1"),
    ("http://echo:9999/x", "10.0.0.1", 8080, None, "http://10.0.0.1:8080/x", "10.0.0.1:8080"),
    ("http://echo/", "Node-1.Example", 8080, None, "http://node-1.example:8080/", None),
    ("http://echo/", "10.0.0.1", 8080, 8443, "http://10.0.0.1:8080/", None),
    ("http://echo/", "10.0.0.1", 8443, 8443, "https://10.0.0.1:8443/", "10.0.0.1:8443"),
    ("https://echo/", "10.0.0.1", 8080, 8443, "https://10.0.0.1:8443/", None),
    ("https://echo/", "10.0.0.1", 8080, None, "https://10.0.0.1:8080/", None),
    ("https://echo/", "10.0.0.1", 443, None, "https://10.0.0.1/", "10.0.0.1"),
]


@pytest.mark.parametrize(("url", "host", "port", "ssl_port", "sent", "header"), AIMED)
def test_a_request_is_aimed_at_its_provider(
    url: str, host: str, port: int, ssl_port: int | None, sent: str, header: str | None
) -> None:
    """Scheme, host and port come from the provider (https for SSL-only); so does httpx's Host."""
    provider = Provider(name=f"{host}:{port}", host=host, port=port, ssl_port=ssl_port)
    request = httpx.Request("GET", url, content=b"body")
    aimed = _aimed(request, provider)
    assert str(aimed.url) == sent
    assert aimed.url == _copied_url(request.url, aimed.url.scheme, host, aimed.url.port or port)
    assert aimed.headers["host"] == (header or aimed.url.netloc.decode())
    assert (aimed.method, aimed.read(), aimed.headers["content-length"]) == ("GET", b"body", "4")
    assert str(request.url) == url  # the caller's request is untouched


# -- balancing ------------------------------------------------------------------------


async def test_round_robin_takes_each_provider_in_turn(registry: Registry, serve: Serve) -> None:
    """round_robin sends exactly as many requests to each of three providers."""
    for name in "abc":
        await serve(name)
    _, http = client(registry, strategy="round_robin")
    async with http:
        assert await spread(http, 90) == {"a": 30, "b": 30, "c": 30}


async def test_random_uses_every_provider_about_evenly(registry: Registry, serve: Serve) -> None:
    """random spreads 300 requests over three providers, each within five sigma of 100."""
    for name in "abc":
        await serve(name)
    _, http = client(registry, strategy="random")
    async with http:
        served = await spread(http, 300)
    assert set(served) == {"a", "b", "c"}
    assert all(55 <= count <= 145 for count in served.values()), served


async def test_weighted_follows_the_weights(registry: Registry, serve: Serve) -> None:
    """weighted sends in proportion to weight (1:1:2), and never to weight 0."""
    await serve("a", weight=1)
    await serve("b", weight=1)
    await serve("c", weight=2)
    await serve("zero", weight=0)
    _, http = client(registry, strategy="weighted")
    async with http:
        served = await spread(http, 400)
    assert "zero" not in served
    assert 50 <= served["a"] <= 150 and 50 <= served["b"] <= 150, served
    assert 150 <= served["c"] <= 250, served


async def test_p2c_sees_the_leases_of_requests_in_flight(registry: Registry, serve: Serve) -> None:
    """p2c balances held requests exactly (5 and 5), because each holds a lease while in flight."""
    a, b = await serve("a"), await serve("b")
    transport, http = client(registry, strategy="p2c")
    async with http:
        calls = [asyncio.create_task(http.get("http://echo/hold")) for _ in range(10)]
        try:
            await a.wait_requests(5)
            await b.wait_requests(5)
            providers = await transport.providers("echo")
            assert (providers.outstanding(a.address), providers.outstanding(b.address)) == (5, 5)
        finally:
            a.release.set()
            b.release.set()
            responses = await asyncio.gather(*calls)
        assert Counter(r.headers["x-server"] for r in responses) == {"a": 5, "b": 5}
        assert providers.outstanding(a.address) == providers.outstanding(b.address) == 0


async def test_the_response_names_the_provider_and_the_host_header(
    registry: Registry, serve: Serve
) -> None:
    """The request goes to the provider's address with its Host; the response says which it was."""
    server = await serve("a")
    _, http = client(registry)
    async with http:
        response = await http.get("http://echo/hello?x=1")
        explicit = await http.get("http://echo/", headers={"Host": "echo.example"})
    assert response.text == "a GET /hello?x=1 0"
    assert response.headers["x-host"] == server.address
    assert explicit.headers["x-host"] == "echo.example"  # one you set is kept
    provider = response.extensions[PROVIDER_EXTENSION]
    assert isinstance(provider, Provider) and provider.address == server.address
    assert str(response.request.url) == "http://echo/hello?x=1"


# -- failures --------------------------------------------------------------------------


async def test_a_provider_killed_mid_test_is_ejected_and_requests_keep_succeeding(
    registry: Registry, serve: Serve
) -> None:
    """After a provider dies (still registered), every request succeeds and it gets ejected."""
    b = (await serve("a"), await serve("b"), await serve("c"))[1]
    transport, http = client(registry, strategy="round_robin")
    async with http:
        assert await spread(http, 9) == {"a": 3, "b": 3, "c": 3}
        await b.kill()
        served = await spread(http, 30)
        providers = await transport.providers("echo")
    assert b.count() == 3
    assert sum(served.values()) == 30 and set(served) == {"a", "c"}, served
    assert providers.ejected == {b.address}
    assert b.address in providers  # still registered: ejection is the client's own view


async def test_idempotent_requests_retry_on_another_provider(
    registry: Registry, serve: Serve
) -> None:
    """GET, PUT and DELETE refused by a dead provider go to another one; the errors eject it."""
    live = await serve("live")
    with refusing() as [dead]:
        await registry.register(SERVICE, dead)
        transport, http = client(registry, strategy=Preferring([dead, live.address]))
        async with http:
            assert (await http.get("http://echo/")).headers["x-server"] == "live"
            assert (await http.put("http://echo/", content=b"x")).headers["x-server"] == "live"
            providers = await transport.providers("echo")
            assert providers.ejected == {dead}  # two errors within the window
            assert (await http.delete("http://echo/")).headers["x-server"] == "live"
    assert [m for m, _ in live.requests] == ["GET", "PUT", "DELETE"]


async def test_a_connect_timeout_counts_and_a_get_goes_to_another_provider(
    registry: Registry, serve: Serve
) -> None:
    """A provider that never answers the connect times out, is retried around and ejected."""
    live = await serve("live")
    with unanswered() as silent:
        await registry.register(SERVICE, silent)
        transport = ZooKeeperTransport(
            registry, {"echo": SERVICE}, strategy=Preferring([silent, live.address])
        )
        timeout = httpx.Timeout(10, connect=0.2)
        async with httpx.AsyncClient(transport=transport, timeout=timeout) as http:
            for _ in range(2):
                assert (await http.get("http://echo/")).headers["x-server"] == "live"
            providers = await transport.providers("echo")
            assert providers.ejected == {silent}
            assert (await http.get("http://echo/")).headers["x-server"] == "live"


async def test_post_and_patch_are_never_retried(registry: Registry, serve: Serve) -> None:
    """A POST or PATCH refused by its provider raises ConnectError; no other provider sees it."""
    live = await serve("live")
    with refusing() as [dead]:
        await registry.register(SERVICE, dead)
        transport, http = client(registry, strategy=Preferring([dead, live.address]))
        async with http:
            with pytest.raises(httpx.ConnectError):
                await http.post("http://echo/", content=b"once")
            with pytest.raises(httpx.ConnectError):
                await http.patch("http://echo/", content=b"once")
            providers = await transport.providers("echo")
            assert providers.ejected == {dead}  # the errors still count
            assert (await http.post("http://echo/")).headers["x-server"] == "live"
    assert live.requests == [("POST", "/")]


async def test_retries_are_bounded(registry: Registry, serve: Serve) -> None:
    """With retries=2 a GET tries three providers at most, then raises the last ConnectError."""
    live = await serve("live")
    inner = Recording()
    with refusing(4) as dead:
        for address in dead:
            await registry.register(SERVICE, address)
        order = [*dead, live.address]
        _, http = client(registry, strategy=Preferring(order), retries=2, transport=inner)
        async with http:
            with pytest.raises(httpx.ConnectError):
                await http.get("http://echo/")
            assert inner.sent == dead[:3]
            inner.sent.clear()
            no_retry = ZooKeeperTransport(
                registry, {"echo": SERVICE}, strategy=Preferring(order), retries=0, transport=inner
            )
            async with httpx.AsyncClient(transport=no_retry) as once:
                with pytest.raises(httpx.ConnectError):
                    await once.get("http://echo/")
            assert len(inner.sent) == 1
    assert live.count() == 0


async def test_no_provider_is_a_connect_error_naming_the_path(
    registry: Registry, serve: Serve
) -> None:
    """No provider registered, or no such path: httpx.ConnectError whose message names the path."""
    _, http = client(registry)
    async with http:
        with pytest.raises(httpx.ConnectError, match=SERVICE) as none:
            await http.get("http://echo/")
    assert "none is registered" in str(none.value)
    missing = ZooKeeperTransport(registry, {"gone": "/services/gone"})
    async with httpx.AsyncClient(transport=missing) as http:
        with pytest.raises(httpx.ConnectError, match="/services/gone"):
            await http.get("http://gone/")


async def test_a_provider_that_joins_later_is_used(registry: Registry, serve: Serve) -> None:
    """A request waiting for a provider gets the one that registers; later ones share the load."""
    transport, http = client(registry, strategy="round_robin", wait=10)
    async with http:
        waiting = asyncio.create_task(http.get("http://echo/"))
        providers = await transport.providers("echo")
        await serve("a")
        assert (await waiting).headers["x-server"] == "a"
        await serve("b")
        await first_snapshot(providers, lambda snapshot: len(snapshot) == 2)
        assert await spread(http, 10) == {"a": 5, "b": 5}


async def test_a_closed_registry_is_a_connect_error(registry: Registry, serve: Serve) -> None:
    """After the registry closes, requests to mapped hosts raise ConnectError naming the path."""
    await serve("a")
    _, http = client(registry)
    async with http:
        await http.get("http://echo/")
        await registry.close()
        with pytest.raises(httpx.ConnectError, match=SERVICE):
            await http.get("http://echo/")


# -- leases ----------------------------------------------------------------------------


async def test_cancelling_a_request_releases_its_lease(registry: Registry, serve: Serve) -> None:
    """A request cancelled while the provider holds it gives its lease back."""
    server = await serve("a")
    transport, http = client(registry)
    async with http:
        providers = await transport.providers("echo")
        call = asyncio.create_task(http.get("http://echo/hold"))
        await server.wait_requests(1)
        assert providers.outstanding(server.address) == 1
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert providers.outstanding(server.address) == 0
        server.release.set()
        assert (await http.get("http://echo/")).status_code == 200


async def test_a_streamed_response_holds_its_lease_until_closed(
    registry: Registry, serve: Serve
) -> None:
    """client.stream() keeps the lease while the body streams and releases it on close."""
    server = await serve("a")
    transport, http = client(registry)
    async with http:
        providers = await transport.providers("echo")
        async with http.stream("GET", "http://echo/stream") as response:
            chunks = response.aiter_raw()
            assert await anext(chunks) == b"first "
            assert providers.outstanding(server.address) == 1
            await chunks.aclose()
        assert providers.outstanding(server.address) == 0  # closed before the end
        server.release.set()
        async with http.stream("GET", "http://echo/stream") as response:
            assert providers.outstanding(server.address) == 1
            assert await response.aread() == b"first a GET /stream 0"
            assert providers.outstanding(server.address) == 0  # read to the end: closed
        await http.get("http://echo/")
        assert providers.outstanding(server.address) == 0


# -- https, pass-through, lifecycle -----------------------------------------------------


async def test_an_ssl_only_curator_provider_is_called_over_https(registry: Registry) -> None:
    """A Curator instance with only an sslPort is called with https, verified against its cert."""
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    path = "/services/secure"
    await registry.ensure_path(path)
    async with HttpServer("tls", tls=server_tls) as server:
        instance = str(uuid.uuid4())
        data = {
            "name": "secure",
            "id": instance,
            "address": "127.0.0.1",
            "port": None,
            "sslPort": server.port,
            "payload": None,
            "registrationTimeUTC": 1700000000000,
            "serviceType": "DYNAMIC",
            "uriSpec": None,
        }
        await registry.create(f"{path}/{instance}", json.dumps(data).encode(), ephemeral=True)
        inner = Recording(httpx.AsyncHTTPTransport(verify=client_tls))
        transport = ZooKeeperTransport(registry, {"secure": path}, transport=inner)
        async with httpx.AsyncClient(transport=transport) as http:
            response = await http.get("http://secure/hello")
        await inner.aclose()
    assert response.text == "tls GET /hello 0"
    assert response.extensions[PROVIDER_EXTENSION].ssl_port == server.port
    assert inner.sent == [f"127.0.0.1:{server.port}"]


async def test_other_hosts_pass_through_unchanged(registry: Registry, serve: Serve) -> None:
    """A host not in the mapping goes to the inner transport as it is, with no provider involved."""
    other = await serve("other", register=False)
    inner = Recording()
    _, http = client(registry, transport=inner)
    async with http:
        response = await http.get(f"http://{other.address}/plain")
    assert response.text == "other GET /plain 0"
    assert response.headers["x-host"] == other.address
    assert PROVIDER_EXTENSION not in response.extensions
    assert inner.sent == [other.address]


async def test_aclose_closes_what_it_opened_and_not_the_registry(
    registry: Registry, serve: Serve
) -> None:
    """aclose() closes the provider sets, leaves a given transport and the registry open."""
    await serve("a")
    inner = Recording()
    transport = ZooKeeperTransport(registry, {"echo": SERVICE}, transport=inner)
    async with httpx.AsyncClient(transport=transport) as http:
        await http.get("http://echo/")
        providers = await transport.providers("echo")
    assert transport.closed and providers.closed
    assert not inner.closed
    await transport.aclose()  # a second time: nothing
    with pytest.raises(RuntimeError, match="closed"):
        await transport.handle_async_request(httpx.Request("GET", "http://echo/"))
    assert await registry.exists(SERVICE) is not None
    await inner.aclose()


def test_bad_arguments_are_refused_at_once(registry: Registry) -> None:
    """A bad strategy, host name, path or retry count: ValueError when the transport is made."""
    with pytest.raises(ValueError, match="strategy"):
        ZooKeeperTransport(registry, {"echo": SERVICE}, strategy="fastest")
    with pytest.raises(ValueError, match="host name"):
        ZooKeeperTransport(registry, {"echo:80": SERVICE})
    with pytest.raises(ValueError, match="absolute"):
        ZooKeeperTransport(registry, {"echo": "services/echo"})
    with pytest.raises(ValueError, match="retries"):
        ZooKeeperTransport(registry, {"echo": SERVICE}, retries=-1)


def test_importing_aiozkreg_imports_no_http_library() -> None:
    """import aiozkreg loads neither httpx nor aiohttp (they are extras)."""
    code = (
        "import sys, aiozkreg\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'aiohttp')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _docs_block(containing: str) -> str:
    """The python block of docs/discovery.md that contains ``containing``."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "discovery.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if containing in b]
    assert len(blocks) == 1, containing
    return blocks[0]


async def test_the_discovery_docs_examples_run(
    registry: Registry, zookeeper_hosts: str, serve: Serve
) -> None:
    """docs/discovery.md's httpx and aiohttp examples reach a registered provider as written."""
    server = await serve("a")
    printed: list[str] = []
    namespace: dict[str, Any] = {"print": lambda *a: printed.append(" ".join(map(str, a)))}
    source = _docs_block("ZooKeeperTransport").replace('"127.0.0.1:2181"', repr(zookeeper_hosts))
    exec(compile(source.replace("asyncio.run(main())", ""), "discovery.md", "exec"), namespace)
    await namespace["main"]()
    exec(compile(_docs_block("ZooKeeperResolver"), "discovery.md", "exec"), namespace)
    await namespace["call"](registry)
    assert printed == [f"200 {server.address}", "200"]
