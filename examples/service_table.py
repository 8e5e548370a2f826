"""Every service's providers, followed with one live subtree.

What a load balancer or a dashboard needs: the table of every service
under a root and its providers, kept current with one ZooKeeper watch
however many services and providers there are::

    python examples/service_table.py /services [PROVIDERS]

It uses ``AIOZKREG_HOSTS``, or a throwaway ZooKeeper when that is not set.
With PROVIDERS (a number) it registers that many providers itself, spread
over three services (another process would), prints the table each time it
changes, and exits when the table has them all; without, it prints the
table on every change until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from _zookeeper import command_line, zk_path, zookeeper

from aiozkreg import Registry, Tree, TreeSnapshot

SERVICES = ("echo", "db", "search")


def table(root: str, snapshot: TreeSnapshot) -> Mapping[str, list[str]]:
    """Service name -> its available providers' addresses."""
    if root not in snapshot:
        return {}
    return {
        service: [p.address for p in snapshot.providers(f"{root}/{service}/providers")]
        for service in snapshot[root].children
    }


def show(rows: Mapping[str, list[str]]) -> None:
    cells = [f"{service}: {', '.join(addresses) or '-'}" for service, addresses in rows.items()]
    print(" | ".join(cells), flush=True)


async def follow(root: str, tree: Tree, until: int | None = None) -> None:
    """Print the table at each new snapshot (until it lists ``until`` providers)."""
    async for snapshot in tree:
        rows = table(root, snapshot)
        show(rows)
        if until is not None and sum(map(len, rows.values())) == until:
            return


async def register(hosts: str, root: str, count: int) -> list[Registry]:
    """``count`` providers over the services, each in its own session (its own process)."""
    sessions = []
    for i in range(count):
        zk = Registry(hosts)
        await zk.start()
        sessions.append(zk)
        await zk.register(f"{root}/{SERVICES[i % len(SERVICES)]}/providers", f"10.0.0.{i}:8080")
    return sessions


async def main(root: str, count: int | None) -> None:
    async with zookeeper() as hosts, Registry(hosts) as zk:
        for service in SERVICES:
            await zk.ensure_path(f"{root}/{service}/providers")
        async with zk.tree(root) as tree:
            if count is None:
                await follow(root, tree)
                return
            follower = asyncio.create_task(follow(root, tree, until=count))
            sessions = await register(hosts, root, count)
            await asyncio.wait_for(follower, 10)
            print(f"one tree follows {len(tree)} nodes", flush=True)
            for session in sessions:
                await session.close()
        await zk.delete_recursive(root)


if __name__ == "__main__":
    parser = command_line(__doc__)
    parser.add_argument("path", nargs="?", default="/services", type=zk_path, help="the root")
    parser.add_argument("providers", nargs="?", type=int, help="register this many, then exit")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.path, args.providers))
