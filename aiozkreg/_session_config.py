"""What a session is asked to be: the registry's keywords, checked and parsed. No I/O."""

from __future__ import annotations

import ssl as _ssl
from collections.abc import Iterable
from dataclasses import dataclass

from . import _paths
from ._transport import DEFAULT_MAX_REQUEST_SIZE


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """What a session is asked to be: where, for how long, as whom."""

    connect_string: _paths.ConnectString
    requested_timeout: float | None = 10.0
    connect_timeout: float | None = None
    request_timeout: float | None = None
    auth: tuple[tuple[str, bytes], ...] = ()
    ssl: _ssl.SSLContext | None = None
    read_only: bool = False
    max_request_size: int = DEFAULT_MAX_REQUEST_SIZE

    @classmethod
    def make(
        cls,
        hosts: str,
        *,
        session_timeout: float | None = 10.0,
        connect_timeout: float | None = None,
        request_timeout: float | None = None,
        auth: Iterable[tuple[str, str | bytes]] = (),
        ssl: _ssl.SSLContext | None = None,
        read_only: bool = False,
        max_request_size: int = DEFAULT_MAX_REQUEST_SIZE,
    ) -> SessionConfig:
        """Check and parse the registry's keywords (ValueError / TypeError at once)."""
        if isinstance(max_request_size, bool) or not isinstance(max_request_size, int):
            raise TypeError("max_request_size must be an int (bytes).")
        if max_request_size < 1:
            raise ValueError(f"max_request_size must be positive, not {max_request_size}.")
        credentials = tuple(
            (scheme, secret if isinstance(secret, bytes) else secret.encode())
            for scheme, secret in auth
        )
        return cls(
            _paths.parse_hosts(hosts),
            session_timeout,
            connect_timeout,
            request_timeout,
            credentials,
            ssl,
            read_only,
            max_request_size,
        )
