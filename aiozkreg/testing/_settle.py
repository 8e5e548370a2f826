"""Wait until a registry has caught up with what it has been told."""

from __future__ import annotations

from .._registry import Registry


async def settle(registry: Registry, *, timeout: float = 30.0) -> None:
    """Return once ``registry`` is connected, its registrations are all in
    place and every live view has re-read what its watches reported
    (:meth:`Registry.settle`, for tests that read better as a function).

    It says nothing about changes whose watch events are still on the wire
    from the server; it makes a round trip, so events sent before it are in.
    """
    await registry.settle(timeout=timeout)
