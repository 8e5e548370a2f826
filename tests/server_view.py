"""What the server sees of its clients, asked of the server itself (not of a client's
state): the watches it holds, and the requests a connection has sent."""

from __future__ import annotations

import re

from aiozkreg import Registry
from aiozkreg.testing import four_letter_word
from aiozkreg.testing._memory import find_server

_CONS = re.compile(r"recved=(\d+),.*?sid=0x([0-9a-f]+)")
_WATCHES = re.compile(r"^zk_watch_count\s+(\d+)", re.M)


def _server(zk: Registry) -> str:
    """``host:port`` of the registry's (first) server, or ``memory://NAME``."""
    if zk.hosts.startswith("memory://"):
        return "memory://" + zk.hosts[len("memory://") :].partition("/")[0]
    return zk.hosts.partition("/")[0].split(",")[0]


def watch_count(zk: Registry) -> int:
    """How many watches (data, exist and child, of every session) ``zk``'s server holds."""
    server = _server(zk)
    if server.startswith("memory://"):
        memory = find_server(server[len("memory://") :])
        assert memory is not None
        return memory.watch_count()
    host, port = server.rsplit(":", 1)
    found = _WATCHES.search(four_letter_word(host, int(port), "mntr", timeout=5.0))
    assert found is not None, "no zk_watch_count in the server's mntr"
    return int(found.group(1))


def requests_received(zk: Registry, server: Registry | None = None) -> int:
    """How many requests (pings included) the server has had on ``zk``'s connection
    (asked through ``server``'s address when ``zk`` goes through a proxy)."""
    host, port = _server(server or zk).rsplit(":", 1)
    for line in four_letter_word(host, int(port), "cons", timeout=5.0).splitlines():
        found = _CONS.search(line)
        if found and int(found.group(2), 16) == zk.client_id[0]:
            return int(found.group(1))
    raise LookupError(f"session 0x{zk.client_id[0]:x} is not connected to {host}:{port}")
