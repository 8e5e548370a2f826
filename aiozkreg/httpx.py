"""Calling providers with httpx: a transport that sends a service's requests to its providers.

Installed with the ``httpx`` extra (``pip install 'aiozkreg[httpx]'``)::

    import httpx
    from aiozkreg.httpx import ZooKeeperTransport

    transport = ZooKeeperTransport(zk, {"echo": "/services/echo"}, strategy="p2c", retries=2)
    async with httpx.AsyncClient(transport=transport) as client:
        r = await client.get("http://echo/hello")  # to a provider of /services/echo

For a host in the mapping, each request goes to a provider picked by that
path's provider set (``zk.providers(path, strategy=...)``, opened on first
use and kept), holding a lease on it until the response is closed (for a
streamed response, when its stream closes), so ``p2c`` sees outstanding
work. A connect error or connect timeout is noted against the provider
(``note_error``: repeated errors eject it) and, for an idempotent method,
the request goes to another provider, up to ``retries`` times. Other hosts
go to the inner transport unchanged. See docs/discovery.md, "Calling
providers".
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING

try:
    import httpx
except ImportError as exc:  # pragma: no cover - the extra is not installed
    raise ImportError("aiozkreg.httpx needs httpx: pip install 'aiozkreg[httpx]'.") from exc

from ._calling import ServiceSets, another, failure_text, normal_host
from ._errors import ZKRegError
from ._provider import Provider
from ._providers import Providers

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from ._balancing import Clock, Strategy
    from ._formats import WireFormat
    from ._registry import Registry

__all__ = ["IDEMPOTENT_METHODS", "PROVIDER_EXTENSION", "ZooKeeperTransport"]

log = logging.getLogger("aiozkreg.httpx")

#: The methods retried on another provider after a connect error (RFC 9110's idempotent ones).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})

#: The key of ``response.extensions`` that holds the :class:`~aiozkreg.Provider` called.
PROVIDER_EXTENSION = "aiozkreg.provider"

_CONNECT_FAILURES = (httpx.ConnectError, httpx.ConnectTimeout)


class _State(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class ZooKeeperTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends requests for mapped hosts to providers found in ZooKeeper.

    ``services`` maps host names (as in the URL: ``"echo"`` for
    ``http://echo/...``) to service paths. ``strategy``, ``format``,
    ``error_threshold``, ``error_window``, ``ejection`` and ``clock`` are
    given to each provider set (see ``zk.providers``). ``retries``: how many
    other providers an idempotent request tries after a connect error.
    ``wait``: seconds a request waits for a provider when none is
    available (0: fail at once with :class:`httpx.ConnectError`).
    ``transport``: where requests go (default ``httpx.AsyncHTTPTransport()``,
    made and closed here; one you give is yours to close).
    """

    def __init__(
        self,
        zk: Registry,
        services: Mapping[str, str],
        *,
        strategy: str | Strategy = "p2c",
        retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
        wait: float = 0.0,
        format: str | WireFormat | None = None,
        error_threshold: int = 2,
        error_window: float = 30.0,
        ejection: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, not {retries!r}.")
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
        self._retries = retries
        self._wait = wait
        self._owns_inner = transport is None
        self._inner = transport if transport is not None else httpx.AsyncHTTPTransport()
        self._state = _State.OPEN

    @property
    def services(self) -> Mapping[str, str]:
        """Host name -> service path, as mapped."""
        return self._sets.paths

    @property
    def closed(self) -> bool:
        return self._state is _State.CLOSED

    async def providers(self, host: str) -> Providers:
        """The provider set the transport uses for a mapped ``host`` (opened if it is not yet).

        ``KeyError`` for a host that is not mapped.
        """
        self._check_open()
        name = normal_host(host)
        if self._sets.path_of(name) is None:
            raise KeyError(host)
        return await self._sets.get(name)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``: to a provider if its host is mapped, else to the inner transport."""
        self._check_open()
        host = request.url.host
        path = self._sets.path_of(host)
        if path is None:
            return await self._inner.handle_async_request(request)
        try:
            providers = await self._sets.get(host)
            provider = await providers.pick(wait=self._wait > 0, timeout=self._wait)
        except ZKRegError as exc:
            raise httpx.ConnectError(failure_text(host, path, exc), request=request) from exc
        retries = self._retries if request.method in IDEMPOTENT_METHODS else 0
        tried: set[str] = set()
        while True:
            lease = _Lease(providers.lease(provider))
            await lease.hold()
            try:
                response = await self._inner.handle_async_request(_aimed(request, provider))
            except _CONNECT_FAILURES as exc:
                await lease.release()
                providers.note_error(provider)
                tried.add(provider.address)
                following = another(providers, tried) if retries else None
                if following is None:
                    raise
                log.debug(
                    "%s %s: can't connect to %s (%r); trying %s.",
                    request.method,
                    request.url,
                    provider.address,
                    exc,
                    following.address,
                )
                retries -= 1
                provider = following
                continue
            except BaseException:
                await lease.release()
                raise
            stream = response.stream
            if isinstance(stream, httpx.AsyncByteStream):
                response.stream = _LeasedStream(stream, lease)
            else:  # no async body to hold the lease until it closes
                await lease.release()
            response.extensions[PROVIDER_EXTENSION] = provider
            return response

    async def aclose(self) -> None:
        """Close the provider sets opened, and the inner transport if it was made here.

        Never the registry. Idempotent; a request after it raises ``RuntimeError``.
        """
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        try:
            await self._sets.close()
        finally:
            if self._owns_inner:
                await self._inner.aclose()

    def _check_open(self) -> None:
        if self._state is _State.CLOSED:
            raise RuntimeError("Cannot send a request: the ZooKeeperTransport is closed.")

    def __repr__(self) -> str:
        services = ", ".join(f"{h}={p}" for h, p in self._sets.paths.items())
        return f"<ZooKeeperTransport {self._state.value} {services}>"


def _aimed(request: httpx.Request, provider: Provider) -> httpx.Request:
    """``request`` sent to ``provider``: its scheme, host and port; ``Host`` too, if httpx set it.

    A provider with only an SSL port (Curator's ``sslPort``) is called over
    https; an https URL goes to the provider's SSL port if it has one.
    """
    url = request.url
    scheme = url.scheme
    ssl_port = provider.ssl_port
    if scheme == "https":
        port = provider.port if ssl_port is None else ssl_port
    elif ssl_port is not None and ssl_port == provider.port:
        scheme, port = "https", ssl_port
    else:
        port = provider.port
    aimed = _aim_url(url, scheme, provider.host, port)
    sent = httpx.Request(
        request.method,
        aimed,
        headers=request.headers,
        stream=request.stream,
        extensions=request.extensions,
    )
    if request.headers.get("host") == url.netloc.decode("ascii"):  # httpx's own default
        sent.headers["Host"] = aimed.netloc.decode("ascii")
    return sent


_DEFAULT_PORTS = {"http": 80, "https": 443}
_PLAIN_HOST = re.compile(r"[a-z0-9.-]+|[0-9a-f:.]+")  # a lower-case DNS name, IPv4 or IPv6


def _copied_url(url: httpx.URL, scheme: str, host: str, port: int) -> httpx.URL:
    """``url`` with another scheme, host and port: httpx's own way (it parses the URL again)."""
    return url.copy_with(scheme=scheme, host=host, port=port)


def _replaced_url(url: httpx.URL, scheme: str, host: str, port: int) -> httpx.URL:
    """The same as :func:`_copied_url` for a plain host, without parsing the URL again.

    Re-parsing costs more than the rest of the transport's work per request;
    this replaces the three fields of httpx's parsed form (a named tuple),
    with the default port left out as httpx does. Used only if it gives
    what ``copy_with`` gives (checked once, at import, by :func:`_url_aimer`).
    """
    if _PLAIN_HOST.fullmatch(host) is None:
        return _copied_url(url, scheme, host, port)
    aimed = httpx.URL.__new__(httpx.URL)
    no_port = _DEFAULT_PORTS.get(scheme) == port
    aimed._uri_reference = url._uri_reference._replace(
        scheme=scheme, host=host, port=None if no_port else port
    )
    return aimed


def _url_aimer() -> Callable[[httpx.URL, str, str, int], httpx.URL]:
    """:func:`_replaced_url` if it agrees with ``copy_with`` on this httpx, else ``copy_with``."""
    samples = [
        ("http://echo/a/b?c=1&d=%20#f", "http", "127.0.0.1", 8080),
        ("http://echo/", "https", "::1", 443),
        ("https://user@echo:9/x", "http", "host-1.example", 80),
    ]
    try:
        for text, scheme, host, port in samples:
            url = httpx.URL(text)
            fast, slow = (
                _replaced_url(url, scheme, host, port),
                _copied_url(url, scheme, host, port),
            )
            if (str(fast), fast.netloc, fast.port, fast.raw_path) != (
                str(slow),
                slow.netloc,
                slow.port,
                slow.raw_path,
            ) or fast != slow:
                return _copied_url
    except Exception:  # httpx's parsed form changed: use its public way
        return _copied_url
    return _replaced_url


_aim_url = _url_aimer()


class _Lease:
    """A provider lease held past the call that took it: released once, whoever releases it."""

    __slots__ = ("_context", "_held")

    def __init__(self, context: AbstractAsyncContextManager[Provider]) -> None:
        self._context = context
        self._held = False

    async def hold(self) -> None:
        await self._context.__aenter__()
        self._held = True

    async def release(self) -> None:
        if self._held:
            self._held = False
            await self._context.__aexit__(None, None, None)


class _LeasedStream(httpx.AsyncByteStream):
    """A response body that gives its provider lease back when it is closed."""

    __slots__ = ("_lease", "_stream")

    def __init__(self, stream: httpx.AsyncByteStream, lease: _Lease) -> None:
        self._stream = stream
        self._lease = lease

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            await self._lease.release()
