"""Calling providers with aiohttp: a resolver that answers a service's name with its providers.

Installed with the ``aiohttp`` extra (``pip install 'aiozkreg[aiohttp]'``)::

    import aiohttp
    from aiozkreg.aiohttp import ZooKeeperResolver

    async with ZooKeeperResolver(zk, {"echo": "/services/echo"}) as resolver:
        connector = aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False)
        async with aiohttp.ClientSession(connector=connector) as session:
            async with session.get("http://echo/hello") as r:  # a provider of /services/echo
                ...

The connector asks its resolver once per new connection, not per request:
the provider picked serves every request that connection carries. So the
resolver balances connections; it cannot hold a lease for a request, note
a failed connect against a provider, or retry a request elsewhere (the
httpx transport, ``aiozkreg.httpx``, does all three). The picked provider
comes first in the answer and the other available ones after it, so the
connector tries them in turn if the first refuses. See docs/discovery.md,
"Calling providers".
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING

try:
    from aiohttp.abc import AbstractResolver, ResolveResult
    from aiohttp.resolver import DefaultResolver
except ImportError as exc:  # pragma: no cover - the extra is not installed
    raise ImportError("aiozkreg.aiohttp needs aiohttp: pip install 'aiozkreg[aiohttp]'.") from exc

from ._calling import ServiceSets, failure_text, normal_host
from ._errors import ZKRegError
from ._provider import Provider
from ._providers import Providers

if TYPE_CHECKING:
    from ._balancing import Clock, Strategy
    from ._formats import WireFormat
    from ._registry import Registry

__all__ = ["ZooKeeperResolver"]

_HTTPS_PORT = 443


def _named(answer: ResolveResult, host: str) -> ResolveResult:
    """``answer`` as the answer for ``host`` (the name the URL gave)."""
    return ResolveResult(
        hostname=host,
        host=answer["host"],
        port=answer["port"],
        family=answer["family"],
        proto=answer["proto"],
        flags=answer["flags"],
    )


class ZooKeeperResolver(AbstractResolver):
    """An aiohttp resolver that resolves mapped host names to providers found in ZooKeeper.

    ``services`` maps host names (as in the URL) to service paths;
    ``strategy``, ``format``, ``error_threshold``, ``error_window``,
    ``ejection`` and ``clock`` are given to each provider set (see
    ``zk.providers``). ``wait``: seconds a lookup waits for a provider when
    none is available (0: fail at once). Other names go to ``resolver``
    (default: aiohttp's ``DefaultResolver``, made and closed here).
    """

    def __init__(
        self,
        zk: Registry,
        services: Mapping[str, str],
        *,
        strategy: str | Strategy = "round_robin",
        resolver: AbstractResolver | None = None,
        wait: float = 0.0,
        format: str | WireFormat | None = None,
        error_threshold: int = 2,
        error_window: float = 30.0,
        ejection: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        if wait < 0:
            raise ValueError(f"wait must be 0 or more seconds, not {wait!r}.")
        self._sets = ServiceSets(
            zk,
            services,
            strategy=strategy,
            format=format,
            error_threshold=error_threshold,
            error_window=error_window,
            ejection=ejection,
            clock=clock,
        )
        self._wait = wait
        self._owns_fallback = resolver is None
        self._fallback = resolver

    @property
    def services(self) -> Mapping[str, str]:
        """Host name -> service path, as mapped."""
        return self._sets.paths

    @property
    def closed(self) -> bool:
        return self._sets.closed

    async def providers(self, host: str) -> Providers:
        """The provider set used for a mapped ``host`` (opened if it is not yet); else KeyError."""
        name = normal_host(host)
        if self._sets.path_of(name) is None:
            raise KeyError(host)
        return await self._sets.get(name)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The picked provider's address first, then the other available ones; or the default.

        ``port`` is the URL's: 443 (https) takes a provider's SSL port when it
        has one; any other port is replaced by the provider's. No provider:
        ``socket.gaierror`` naming the service path (aiohttp raises it as a
        ``ClientConnectorDNSError``).
        """
        if self._sets.closed:
            raise RuntimeError("Cannot resolve: the ZooKeeperResolver is closed.")
        name = normal_host(host)
        path = self._sets.path_of(name)
        if path is None:
            return await self._default().resolve(host, port, family)
        try:
            providers = await self._sets.get(name)
            picked = await providers.pick(wait=self._wait > 0, timeout=self._wait)
        except ZKRegError as exc:
            raise socket.gaierror(socket.EAI_NONAME, failure_text(name, path, exc)) from exc
        ejected = providers.ejected
        order = [picked, *(p for p in providers if p != picked and p.address not in ejected)]
        results: list[ResolveResult] = []
        for provider in order:
            results += await self._addresses(host, provider, port, family)
        if not results:
            wanted = "IPv4" if family == socket.AF_INET else "IPv6"
            why = f"no {wanted} address among the providers under {path}"
            raise socket.gaierror(socket.EAI_NONAME, f"Can't call {name!r}: {why}.")
        return results

    async def _addresses(
        self, host: str, provider: Provider, port: int, family: int
    ) -> list[ResolveResult]:
        if port == _HTTPS_PORT and provider.ssl_port is not None:
            target = provider.ssl_port
        else:
            target = provider.port
        try:
            ip = ipaddress.ip_address(provider.host)
        except ValueError:  # a name: the default resolver's answers, at the provider's port
            found = await self._default().resolve(
                provider.host, target, socket.AddressFamily(family)
            )
            return [_named(answer, host) for answer in found]
        found_family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        if family not in (socket.AF_UNSPEC, found_family):
            return []
        return [
            {
                "hostname": host,
                "host": str(ip),
                "port": target,
                "family": found_family,
                "proto": socket.IPPROTO_TCP,
                "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            }
        ]

    def _default(self) -> AbstractResolver:
        if self._fallback is None:
            self._fallback = DefaultResolver()
        return self._fallback

    async def close(self) -> None:
        """Close the provider sets opened, and the default resolver if it was made here.

        Never the registry. Idempotent.
        """
        await self._sets.close()
        if self._owns_fallback and self._fallback is not None:
            fallback, self._fallback = self._fallback, None
            await fallback.close()

    async def __aenter__(self) -> ZooKeeperResolver:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        services = ", ".join(f"{h}={p}" for h, p in self._sets.paths.items())
        state = "closed" if self._sets.closed else "open"
        return f"<ZooKeeperResolver {state} {services}>"
