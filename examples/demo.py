"""The aiozkreg demo (``make demo``): services register, a client discovers them.

What happens, step by step (each line it prints says which step it is on):

1. A throwaway, real ZooKeeper starts (unless ``AIOZKREG_HOSTS`` names one).
2. A client opens a live view of ``/demo/echo/providers`` and prints the
   provider set every time it changes.
3. Three echo servers start; each registers itself with its own session.
4. The client sends requests round-robin over whoever is registered.
5. One provider stops (it unregisters), another starts.
6. One provider's session is forced to expire, as after a long network
   partition: ZooKeeper drops its node, and aiozkreg's supervisor re-creates
   it in a new session without the service doing anything.
7. Everything stops, the nodes the demo made are removed (against
   ``AIOZKREG_HOSTS``, only those: nodes that were there stay); it exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _zookeeper import command_line
from _zookeeper import zookeeper as local_zookeeper
from client import Client
from provider import EchoProvider

from aiozkreg import Children, NoNodeError, NotEmptyError, Registry, SessionState
from aiozkreg.testing import expire_session, settle

PATH = "/demo/echo/providers"
began = time.monotonic()


def say(who: str, text: str) -> None:
    print(f"{time.monotonic() - began:5.2f}s  {who:<10} {text}", flush=True)


@contextlib.asynccontextmanager
async def zookeeper() -> AsyncIterator[str]:
    """The connect string of the ZooKeeper to use: $AIOZKREG_HOSTS or a throwaway one."""
    hosts = os.environ.get("AIOZKREG_HOSTS")
    if hosts:
        say("demo", f"using the ZooKeeper at {hosts} (from AIOZKREG_HOSTS)")
    else:
        say("demo", "starting a throwaway ZooKeeper (a real Java server)...")
    async with local_zookeeper() as hosts:
        if not os.environ.get("AIOZKREG_HOSTS"):
            say("demo", f"ZooKeeper is serving on {hosts}")
        yield hosts


async def watch(providers: Children) -> None:
    """The client's view: print the provider set at every change."""
    async for names in providers:
        shown = ", ".join(names) if names else "(none)"
        say("client", f"providers now: {shown}")


async def until(providers: Children, check: Callable[[tuple[str, ...]], bool]) -> None:
    async for names in providers:
        if check(names):
            return


async def start_provider(hosts: str, number: int) -> tuple[Registry, EchoProvider]:
    registry = Registry(hosts, session_timeout=4.0)
    await registry.start()
    provider = await EchoProvider(registry, PATH, number=number).start()
    say(f"provider{number}", f"serving on {provider.address}, registered")
    return registry, provider


async def demo(hosts: str) -> None:
    async with Registry(hosts) as zk:
        made = [p for p in ("/demo", "/demo/echo", PATH) if await zk.exists(p) is None]
        await zk.ensure_path(PATH)
        try:
            await run(zk, hosts)
        finally:
            await remove(zk, made)


async def remove(zk: Registry, made: list[str]) -> None:
    """Delete the nodes the demo made, deepest first; leave any that others use now."""
    for path in reversed(made):
        with contextlib.suppress(NoNodeError, NotEmptyError):
            await zk.delete(path)
    if made:
        say("demo", f"removed what it made in ZooKeeper: {made[0]}")


async def run(zk: Registry, hosts: str) -> None:
    """Steps 2 to 7, on the registry ``zk`` of the client."""
    providers = await zk.children(PATH)
    printer = asyncio.create_task(watch(providers))
    running: dict[int, tuple[Registry, EchoProvider]] = {}
    try:
        say("demo", "starting three providers, each with its own session")
        for number in (1, 2, 3):
            running[number] = await start_provider(hosts, number)
        await until(providers, lambda names: len(names) == 3)

        balancer = Client(await zk.providers(PATH))
        for i in range(3):
            say("client", f"request {i} -> {await balancer.call(f'hello {i}')!r}")

        say("demo", "stopping provider1: it unregisters on the way out")
        registry, provider = running.pop(1)
        gone = provider.address
        await provider.stop()
        await registry.close()
        await until(providers, lambda names: gone not in names)

        say("demo", "starting provider4")
        running[4] = await start_provider(hosts, 4)
        await until(providers, lambda names: len(names) == 3)

        registry, provider = running[2]
        say("demo", "forcing provider2's session to expire (like a long partition)")
        states = registry.states()
        await expire_session(registry)
        expired = False
        async for change in states:
            # (a quick re-attach of the old session may come first: skip it)
            if change.state is SessionState.EXPIRED:
                expired = True
                say("provider2", "ZooKeeper expired my session: my node is gone")
            if expired and change.state is SessionState.CONNECTED:
                say("provider2", f"new session 0x{change.session_id:x}")
                break
        await settle(registry)
        say("provider2", "the supervisor re-created my registration in the new session")
        await until(providers, lambda names: provider.address in names)
        say("client", f"request -> {await balancer.call('still there?')!r}")
    finally:
        say("demo", "stopping everything")
        for registry, provider in running.values():
            await provider.stop()
            await registry.close()
        printer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await printer


class _Clock(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{time.monotonic() - began:5.2f}s  {'(log)':<10} {record.getMessage()}"


async def main() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_Clock())
    logging.getLogger("aiozkreg").addHandler(handler)
    logging.getLogger("aiozkreg").setLevel(logging.WARNING)
    logging.getLogger("aiozkreg.supervisor").setLevel(logging.INFO)
    async with asyncio.timeout(30), zookeeper() as hosts:
        await demo(hosts)
    say("demo", "done: every service stopped, every session closed")


if __name__ == "__main__":
    command_line(__doc__).parse_args()
    asyncio.run(main())
