"""The live web view (``make demo-web``): ``aiozkreg serve`` on the README's tree.

What happens (each line it prints says which step it is on):

1. A throwaway, real ZooKeeper starts (unless ``AIOZKREG_HOSTS`` names one).
2. The README's example tree (a load balancer, a cms and a retail service
   with their databases) is imported into a chroot, ``/aiozkreg-web-demo``,
   so its absolute links stay inside it; one property link is added
   (``/lb/pools/cms`` reads ``threads`` from ``/cms``).
3. A few providers register, each with its own session: two for
   ``/cms``, one for ``/cms/databases/main``, one for
   ``/retail/databases/ugc``.
4. The page is served (``--listen``, default 127.0.0.1:8080): open the
   address it prints. Every few seconds a ``/retail`` provider joins or
   leaves, and the page follows.
5. Ctrl-C: everything stops, and the chroot is removed.

Options: ``--listen HOST:PORT`` (port 0: any free one), ``--allow-writes``
(set properties from the page), ``--every SECONDS`` (the /retail provider's
pace; 0: it never changes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _zookeeper import command_line, zookeeper

from aiozkreg import Registry
from aiozkreg.web import serving

CHROOT = "/aiozkreg-web-demo"
TREE = """\
/lb : ipvs
  /pools
    /cms
      # The address is fixed because it's
      # exposed externally
      address = '1.2.3.4:80'
      providers -> /cms/providers
      threads => /cms threads
    /retail
      address = '1.2.3.5:80'
      providers -> /cms/providers

/cms : z4m cms
  threads = 3
  /providers
  /databases
    /main
      /providers

/retail : z4m retail
  threads = 1
  /providers
  /databases
    main -> /cms/databases/main
    /ugc
      /providers
"""
PROVIDERS = [
    ("/cms/providers", "127.0.0.1:8081", {"version": "1.4"}),
    ("/cms/providers", "127.0.0.1:8082", {"version": "1.5"}),
    ("/cms/databases/main/providers", "127.0.0.1:5432", {"role": "primary"}),
    ("/retail/databases/ugc/providers", "127.0.0.1:5433", {}),
]


def say(text: str) -> None:
    print(f"web demo: {text}", flush=True)


@contextlib.asynccontextmanager
async def chroot(hosts: str) -> AsyncIterator[str]:
    """A fresh chroot for the demo's tree, removed at the end (a chroot already there: refuse)."""
    async with Registry(hosts) as root:
        if await root.exists(CHROOT) is not None:
            raise SystemExit(f"web demo: {CHROOT} exists already in {hosts}; remove it first")
        await root.create(CHROOT)
        try:
            yield hosts.rstrip("/") + CHROOT
        finally:
            await root.delete_recursive(CHROOT, force=True)
            say(f"removed {CHROOT}")


@contextlib.asynccontextmanager
async def providers(hosts: str) -> AsyncIterator[None]:
    """The providers, each registered by a session of its own, for the block's lifetime."""
    async with contextlib.AsyncExitStack() as stack:
        for path, address, properties in PROVIDERS:
            zk = await stack.enter_async_context(Registry(hosts))
            await zk.register(path, address, **properties)
            say(f"{address} registered at {path}")
        yield


async def churn(hosts: str, every: float) -> None:
    """A /retail provider joins, then leaves, then joins... every ``every`` seconds."""
    async with Registry(hosts) as zk:
        while True:
            await asyncio.sleep(every)
            async with zk.register("/retail/providers", "127.0.0.1:8090"):
                say("127.0.0.1:8090 joined /retail")
                await asyncio.sleep(every)
            say("127.0.0.1:8090 left /retail")


async def main(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with zookeeper() as server, chroot(server) as hosts:
        async with Registry(hosts) as zk:
            await zk.import_tree(TREE)
        say(f"imported the README's tree into {server}{CHROOT}")
        async with providers(hosts):
            listen, writes = args.listen, args.allow_writes
            async with serving(hosts, "/", listen=listen, allow_writes=writes) as served:
                say(f"serving the page at {served.url} (Ctrl-C to stop)")
                waits = {asyncio.create_task(stop.wait())}
                if args.every > 0:
                    waits.add(asyncio.create_task(churn(hosts, args.every)))
                try:
                    done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for task in waits:
                        task.cancel()
                    await asyncio.wait(waits)
                for task in done:
                    task.result()  # the churn failed: say why
        say("stopping")


def arguments() -> argparse.Namespace:
    parser = command_line(__doc__)
    parser.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT")
    parser.add_argument("--allow-writes", action="store_true")
    parser.add_argument("--every", type=float, default=4.0, metavar="SECONDS")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(arguments()))
