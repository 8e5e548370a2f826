"""One owner for every background task of a registry.

A :class:`TaskOwner` runs an :class:`asyncio.TaskGroup` in a task of its
own, from :meth:`~TaskOwner.start` to :meth:`~TaskOwner.close`. Every
background task of the registry (the session keeper, the view refresher
and its reads, the supervisor's checks, async view callbacks) is created
in that group by :meth:`~TaskOwner.spawn`. So:

- nothing outlives the registry: ``close()`` cancels the group, which
  cancels and awaits every task;
- a task that fails with anything but cancellation is a failure of the
  registry: the group cancels the other tasks, and ``on_failure`` is called
  once with the error (the registry closes itself, and every later call
  raises ``RegistryClosedError`` whose ``__cause__`` is that error);
- cancelling one task (a check of an unregistered registration, say) is
  not a failure.

Where a task expects trouble it decides at the place it happens, and only
there: connection trouble waits for the next connection, a server refusal
is retried with backoff or exposed on the object the user holds. What it
does not expect propagates to here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ._errors import RegistryClosedError

log = logging.getLogger("aiozkreg")

T = TypeVar("T")


class TaskOwner:
    """The task group of one registry (see the module docstring)."""

    def __init__(self, name: str, on_failure: Callable[[BaseException], None]) -> None:
        self._name = name
        self._on_failure = on_failure
        self._group: asyncio.TaskGroup | None = None
        self._runner: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def running(self) -> bool:
        return self._group is not None and not self._closing

    async def start(self) -> None:
        """Open the group (in a task of its own) and return once it takes tasks."""
        if self._runner is not None:
            return
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._runner = asyncio.create_task(self._run(ready), name=self._name)
        await ready

    async def _run(self, ready: asyncio.Future[None]) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                ready.set_result(None)
                await asyncio.Future()  # until close() cancels us, or a task fails
        except Exception as failure:  # an ExceptionGroup of what the tasks raised
            self._closing = True
            errors = failure.exceptions if isinstance(failure, BaseExceptionGroup) else [failure]
            log.critical("%s failed, and closes.", self._name, exc_info=errors[0])
            self._on_failure(errors[0])
        finally:
            self._group = None
            self._closing = True
            if not ready.done():
                ready.cancel()

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        """Run ``coro`` as a task of the group; RegistryClosedError once it is closing."""
        group = self._group
        if group is None or self._closing:
            coro.close()
            raise RegistryClosedError("The registry is closed.")
        return group.create_task(coro, name=name)

    def fail(self, error: BaseException) -> None:
        """Fail the group with ``error`` (from code that is not a task: a protocol callback)."""
        if self.running:
            self.spawn(_raise(error), name=f"{self._name} failure")

    async def close(self) -> None:
        """Cancel every task and wait for them; idempotent. Our own cancellation propagates."""
        self._closing = True
        runner = self._runner
        if runner is None or runner is asyncio.current_task():
            return
        runner.cancel()
        await asyncio.wait({runner})


async def _raise(error: BaseException) -> None:
    raise error
