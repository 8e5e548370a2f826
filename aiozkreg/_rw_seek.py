"""While attached to a read-only server, look for one that serves read-write.

A server without quorum serves ``read_only=True`` sessions from its last
state. When the quorum comes back that server may stay read-only for a
while (an observer rejoins only at its next election notification, which
backs off up to a minute), and a session left there reads stale data. So,
as ZooKeeper's Java client does, a session attached read-only asks the
other servers of its connect string with the ``isro`` four-letter word
whether they serve read-write (``rw``) or read-only (``ro``), in rounds
whose pause doubles from 0.1 s to a minute. The first that answers ``rw``
is where the session goes next.

ZooKeeper answers ``isro`` where it is whitelisted, which it does by
itself on servers run with ``readonlymode.enabled=true``; a server that
does not answer (not whitelisted, down, silent) is no candidate this round.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl as _ssl
from collections.abc import Callable, Sequence

from ._backoff import Backoff

FIRST = 0.1  # seconds before the first round (the Java client's too)
CAP = 60.0  # at most this between rounds
PROBE_TIMEOUT = 2.0  # for one server's answer

Server = tuple[str, int]


async def serves_read_write(
    host: str, port: int, *, ssl: _ssl.SSLContext | None = None, timeout: float = PROBE_TIMEOUT
) -> bool:
    """Whether the server at ``host:port`` answers ``isro`` with ``rw``."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port, ssl=ssl)
            try:
                writer.write(b"isro")
                reply = await reader.read(2)
            finally:
                writer.close()
                with contextlib.suppress(OSError):  # the server closes first: nothing lost
                    await writer.wait_closed()
    except (OSError, TimeoutError):  # down, refusing, silent: not a candidate this round
        return False
    return reply == b"rw"


async def seek_read_write(
    candidates: Callable[[], Sequence[Server]], *, ssl: _ssl.SSLContext | None = None
) -> Server:
    """Ask ``candidates()`` round after round (see the module docstring); return the first
    server that serves read-write. Runs until one does, or until cancelled."""
    backoff = Backoff(cap=CAP, first=FIRST, jitter=0.2)
    while True:
        await asyncio.sleep(backoff.delay())
        for host, port in candidates():
            if await serves_read_write(host, port, ssl=ssl):
                return host, port
