"""Wait until a registry has caught up with what it has been told."""

from __future__ import annotations

import asyncio

from .._registry import Registry


async def settle(registry: Registry, *, timeout: float = 30.0) -> None:
    """Return once ``registry`` is connected, its registrations are all in
    place and every live view has re-read what its watches reported.

    For tests: "the registry has caught up" without sleeping. It says
    nothing about changes whose watch events are still on the wire; make a
    round trip first (any request) to flush those.
    """
    async with asyncio.timeout(timeout):
        while True:
            await registry._session.wait_connected()
            await registry._supervisor.idle.wait()
            await registry._hub.idle.wait()
            await registry.exists("/")  # a round trip: events sent before it are in
            await asyncio.sleep(0)  # let callbacks queued by that round trip run
            if registry._supervisor.idle.is_set() and registry._hub.idle.is_set():
                return
