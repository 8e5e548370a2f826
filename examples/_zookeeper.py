"""Where the examples find a ZooKeeper: ``$AIOZKREG_HOSTS``, else a throwaway one."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator

from aiozkreg.testing import ZooKeeperServer


@contextlib.asynccontextmanager
async def zookeeper() -> AsyncIterator[str]:
    """The connect string to use; a throwaway real server lives as long as the block."""
    hosts = os.environ.get("AIOZKREG_HOSTS")
    if hosts:
        yield hosts
        return
    server = ZooKeeperServer()
    await server.astart()
    print(f"(no AIOZKREG_HOSTS: using a throwaway ZooKeeper at {server.address})", file=sys.stderr)
    try:
        yield server.address
    finally:
        server.close()
