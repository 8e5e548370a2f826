"""Configuration hot-reload through a live properties view.

A worker pool whose size follows the ``threads`` property of ``/echo``:
edit it anywhere (``zookeeper_set_property HOSTS /echo threads=8``) and the
pool resizes at once, with no restart::

    python examples/config_reload.py /echo [CHANGES]

It uses ``AIOZKREG_HOSTS``, or a throwaway ZooKeeper when that is not set.
With CHANGES (a number) it makes that many edits itself, prints how the
pool followed them, and exits; without, it runs until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from _zookeeper import command_line, zk_path, zookeeper

from aiozkreg import Registry


class Pool:
    """Stands in for a worker pool: it only remembers its size."""

    def __init__(self) -> None:
        self.size = 0

    def apply(self, settings: Mapping[str, Any]) -> None:
        size = int(settings.get("threads", 1))
        if size != self.size:
            print(f"pool resized {self.size} -> {size}", flush=True)
            self.size = size


async def follow(config: Any, pool: Pool, until: int | None = None) -> None:
    """Apply every new snapshot of the configuration to the pool."""
    async for snapshot in config:
        pool.apply(snapshot)
        if until is not None and pool.size == until:
            return


async def main(path: str, changes: int | None) -> None:
    async with zookeeper() as hosts, Registry(hosts) as zk:
        await zk.ensure_path(path)
        async with zk.properties(path) as config:
            pool = Pool()
            if changes is None:
                await follow(config, pool)
                return
            last = 1 + changes
            follower = asyncio.create_task(follow(config, pool, until=last))
            for threads in range(2, last + 1):  # another process would do this
                await config.update(threads=threads)
            await asyncio.wait_for(follower, 10)
            print(f"pool follows the configuration: {pool.size} threads")


if __name__ == "__main__":
    parser = command_line(__doc__)
    parser.add_argument("path", nargs="?", default="/echo", type=zk_path, help="the node to follow")
    parser.add_argument("changes", nargs="?", type=int, help="make this many edits, then exit")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.path, args.changes))
