"""Force a real, server-side session expiry (the same-session-id trick, or in memory)."""

from __future__ import annotations

import asyncio
import logging

from .._connection import Connection
from .._errors import ZKRegError
from .._paths import parse_hosts
from .._registry import Registry
from .._transport import Link
from .._wire import Close, Connect
from ._memory import find_server

log = logging.getLogger("aiozkreg.testing")


async def expire_session(
    registry: Registry, *, hosts: str | None = None, attempts: int = 10
) -> int:
    """Make the server end ``registry``'s session now; return the dead session id.

    Attaches a second connection with the victim's session id and password,
    sends CloseSession on it, then checks that the server refuses to attach
    that session again. The registry learns of the expiry from the server,
    exactly as it would in production. ``hosts`` (default: the registry's
    servers) lets a test reach the server directly when the registry goes
    through a fault proxy. For a ``memory://`` registry the in-memory server
    ends the session itself (:meth:`MemoryZooKeeper.expire`).
    """
    session_id, password = registry.client_id
    if not session_id:
        raise ValueError("The registry has no session to expire.")
    connect_string = parse_hosts(hosts or registry.hosts)
    if connect_string.scheme == "memory":  # an in-memory server expires it directly
        name = connect_string.servers[0][0]
        server = find_server(name)
        if server is None:
            raise RuntimeError(f"No in-memory ZooKeeper is named {name!r}.")
        await server.expire(session_id)
        return session_id
    servers = connect_string.servers
    for attempt in range(attempts):
        host, port = servers[attempt % len(servers)]
        try:
            if not await _attach(host, port, session_id, password, close=True):
                return session_id
            if not await _attach(host, port, session_id, password, close=False):
                return session_id
        except (OSError, ZKRegError, TimeoutError) as exc:
            log.debug("expire_session attempt %d on %s:%d: %s", attempt, host, port, exc)
    raise RuntimeError(f"Could not expire session 0x{session_id:x} in {attempts} attempts.")


async def _attach(host: str, port: int, session_id: int, password: bytes, *, close: bool) -> bool:
    """Attach to the session; True if the server accepted it (then optionally close it)."""
    connect = Connect(0, 60000, session_id, password, False)
    conn, handshake = await Connection.open(host, port, connect, listener=_Deaf(), timeout=2.0)
    try:
        if handshake.expired:
            return False
        if close:
            async with asyncio.timeout(2.0):
                await conn.send(Close())
        return True
    finally:
        conn.abort()
        await conn.wait_closed()


class _Deaf:
    """The listener of the borrowed link: it sets no watches and has nothing to hear."""

    def watch_event(self, event_type: int, state: int, server_path: str) -> None:
        pass

    def link_lost(self, link: Link) -> None:
        pass

    def link_failed(self, link: Link, error: Exception) -> None:
        pass  # no code of ours runs on this link's replies
