"""Waiting on the library's own streams in tests: no sleeps, always bounded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Callable
from typing import Any, TypeVar

from aiozkreg import SessionState, StateChange

T = TypeVar("T")


async def until_states(
    states: AsyncIterable[StateChange], *wanted: SessionState, timeout: float = 30
) -> list[StateChange]:
    """Collect state changes until each wanted state has been seen, in order."""
    seen: list[StateChange] = []
    pending = list(wanted)
    async with asyncio.timeout(timeout):
        async for change in states:
            seen.append(change)
            if change.state is pending[0]:
                pending.pop(0)
                if not pending:
                    return seen
    raise AssertionError(f"state stream ended early: {seen}")


async def first_snapshot(
    view: AsyncIterable[T], predicate: Callable[[T], Any], timeout: float = 20
) -> T:
    """The first snapshot of ``view`` that satisfies ``predicate``."""
    async with asyncio.timeout(timeout):
        async for snapshot in view:
            if predicate(snapshot):
                return snapshot
    raise AssertionError("the view ended first")
