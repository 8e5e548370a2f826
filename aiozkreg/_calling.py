"""What the HTTP adapters share: the provider sets a client keeps, one per mapped host.

``aiozkreg.httpx`` and ``aiozkreg.aiohttp`` map host names to service
paths. :class:`ServiceSets` opens a provider set (``zk.providers(path)``)
for a host the first time it is asked for one and keeps it; a set that has
ended (closed with the registry, its node deleted, or stopped by an error)
is replaced by a fresh one on the next request. ``close()`` closes the sets
it opened and never the registry. Imports neither httpx nor aiohttp.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._errors import NoProvidersError, RegistryClosedError, ZKRegError
from ._provider import Provider
from ._providers import Providers

if TYPE_CHECKING:
    from ._balancing import Clock, Strategy
    from ._formats import WireFormat
    from ._registry import Registry

__all__ = ["ServiceSets", "another", "failure_text", "normal_host"]


def normal_host(host: str) -> str:
    """A host name as the URL libraries give it: lower case, no trailing dot."""
    return host.lower().rstrip(".")


def _check_services(services: Mapping[str, str]) -> dict[str, str]:
    paths: dict[str, str] = {}
    for host, path in services.items():
        name = normal_host(host)
        if not name or any(c in name for c in ":/@[] "):
            raise ValueError(f"{host!r} is not a host name: map bare names, like 'echo'.")
        if not path.startswith("/"):
            raise ValueError(f"The service path for {host!r} must be absolute, not {path!r}.")
        paths[name] = path
    return paths


class ServiceSets:
    """The provider set of each mapped host, opened on first use and kept until ``close()``."""

    __slots__ = ("_closed", "_locks", "_options", "_paths", "_sets", "_zk")

    def __init__(
        self,
        zk: Registry,
        services: Mapping[str, str],
        *,
        strategy: str | Strategy,
        format: str | WireFormat | None,
        error_threshold: int,
        error_window: float,
        ejection: float,
        clock: Clock | None,
    ) -> None:
        self._zk = zk
        self._paths = _check_services(services)
        self._options: dict[str, Any] = {
            "strategy": strategy,
            "format": format,
            "error_threshold": error_threshold,
            "error_window": error_window,
            "ejection": ejection,
            "clock": clock,
        }
        zk.providers("/", **self._options)  # a bad strategy or format: ValueError now
        self._sets: dict[str, Providers] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._closed = False

    @property
    def paths(self) -> Mapping[str, str]:
        """Host name -> service path."""
        return self._paths

    @property
    def closed(self) -> bool:
        return self._closed

    def path_of(self, host: str) -> str | None:
        """The service path ``host`` (as the URL library gives it) is mapped to, or None."""
        return self._paths.get(host)

    async def get(self, host: str) -> Providers:
        """The live provider set of ``host``, opened now if there is none (or it ended).

        Raises what opening raises (``NoNodeError`` for a missing path,
        ``RegistryClosedError``...), and ``RegistryClosedError`` after ``close()``.
        """
        found = self._sets.get(host)
        if found is not None and _alive(found):
            return found
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:
            found = self._sets.get(host)
            if found is not None and _alive(found):
                return found
            if self._closed:
                raise RegistryClosedError("The client's provider sets are closed.")
            if found is not None:
                del self._sets[host]
                await found.close()
            opened = await self._zk.providers(self._paths[host], **self._options)
            if self._closed:  # closed while it opened
                await opened.close()
                raise RegistryClosedError("The client's provider sets are closed.")
            self._sets[host] = opened
            return opened

    def opened(self) -> Mapping[str, Providers]:
        """The sets opened so far, by host name."""
        return dict(self._sets)

    async def close(self) -> None:
        """Close every set opened; idempotent. The registry stays open."""
        self._closed = True
        sets, self._sets = list(self._sets.values()), {}
        for providers in sets:
            await providers.close()


def _alive(providers: Providers) -> bool:
    return not (providers.closed or providers.deleted or providers.error is not None)


def another(providers: Providers, tried: set[str]) -> Provider | None:
    """A provider the strategy picks among the available ones not ejected and not in ``tried``."""
    ejected = providers.ejected
    candidates = [p for p in providers if p.address not in tried and p.address not in ejected]
    if not candidates:
        return None
    load = {p.address: providers.outstanding(p) for p in candidates}
    return providers.strategy.pick(candidates, load)


def failure_text(host: str, path: str, exc: ZKRegError) -> str:
    """Why a mapped host cannot be called, in a sentence naming the service path."""
    if isinstance(exc, NoProvidersError):
        return f"Can't call {host!r}: {exc}"
    return f"Can't call {host!r}: the providers under {path} can't be read: {exc}"
