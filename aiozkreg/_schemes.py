"""Which connector opens the links of a connect string.

``host:port,...`` strings are served by sockets (:class:`~._connection.Connection`).
A ``SCHEME://NAME`` string is served by the connector registered for
``SCHEME``: ``aiozkreg.testing`` registers ``memory`` (its in-process
ZooKeeper) when it is imported, so the core never imports the testing
package. A scheme nobody registered is refused when the registry starts.
"""

from __future__ import annotations

import ssl as _ssl

from ._connection import Connection
from ._errors import FailedConnect
from ._paths import ConnectString
from ._transport import NO_REQUEST_LIMIT, Connector, Link, LinkListener
from ._wire import Connect, Handshake

_CONNECTORS: dict[str, Connector] = {}
_HINTS = {"memory": "import aiozkreg.testing and start a MemoryZooKeeper"}


def register_scheme(scheme: str, connector: Connector) -> None:
    """Serve ``SCHEME://`` connect strings with ``connector`` (the last one registered wins)."""
    _CONNECTORS[scheme] = connector


def connector_for(connect_string: ConnectString) -> Connector:
    """The connector for ``connect_string``'s scheme (sockets when it has none)."""
    if not connect_string.scheme:
        return Connection.open
    connector = _CONNECTORS.get(connect_string.scheme)
    if connector is not None:
        return connector
    return _Unknown(connect_string.scheme)


class _Unknown:
    """A connector for a scheme nobody registered: every attempt fails, saying why."""

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme

    async def __call__(
        self,
        host: str,
        port: int,
        connect: Connect,
        *,
        listener: LinkListener,
        timeout: float,
        ssl: _ssl.SSLContext | None = None,
        max_request_size: int = NO_REQUEST_LIMIT,
    ) -> tuple[Link, Handshake]:
        connector = _CONNECTORS.get(self.scheme)  # registered since the registry was made
        if connector is not None:
            return await connector(
                host,
                port,
                connect,
                listener=listener,
                timeout=timeout,
                ssl=ssl,
                max_request_size=max_request_size,
            )
        hint = _HINTS.get(self.scheme, "no transport is registered for it")
        raise FailedConnect(f"Can't open {self.scheme}://{host}: {hint}.")
