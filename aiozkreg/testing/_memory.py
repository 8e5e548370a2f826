"""An in-process ZooKeeper for unit tests (``memory://NAME`` connect strings).

Placeholder: the emulation arrives with issue 7.
"""

from __future__ import annotations

import ssl as _ssl
from typing import Any

from .._connection import Handshake, Link, WatchCallback
from .._errors import ConnectionLossError


async def open_memory_link(
    host: str,
    port: int,
    request: Any,
    *,
    on_watch: WatchCallback,
    timeout: float,
    ssl: _ssl.SSLContext | None = None,
) -> tuple[Link, Handshake]:
    """Attach to the in-memory server ``host``."""
    raise ConnectionLossError(f"No in-memory ZooKeeper named {host!r} (not implemented yet).")
