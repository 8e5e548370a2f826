"""What the examples share: where they find a ZooKeeper (``$AIOZKREG_HOSTS``, else a
throwaway one), and their command line (``--help`` shows the example's docstring)."""

from __future__ import annotations

import argparse
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


def command_line(doc: str | None) -> argparse.ArgumentParser:
    """A parser for an example's arguments; ``--help`` prints ``doc`` (its docstring)."""
    return argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def zk_path(text: str) -> str:
    """An argument type: a ZooKeeper path (it starts with '/')."""
    if not text.startswith("/"):
        raise argparse.ArgumentTypeError(f"a ZooKeeper path starts with '/': {text!r}")
    return text
