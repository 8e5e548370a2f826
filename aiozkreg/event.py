"""Events aiozkreg emits, and how to receive them.

``notify(event)`` is called with a :class:`aiozkreg.RegisteringServer`
before each registration creates its nodes; subscribers may add to the
event's ``properties``. When ``zope.event`` is installed, ``notify`` and
``subscribers`` are zope.event's own, so its subscribers see the events;
otherwise ``subscribers`` is a plain list of callables, and applications may
also replace ``aiozkreg.event.notify`` outright (it is looked up at call time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["notify", "subscribers"]

subscribers: list[Callable[[Any], object]]

try:
    from zope.event import notify, subscribers  # type: ignore[no-redef,unused-ignore]
except ImportError:
    subscribers = []

    def notify(event: Any) -> None:
        """Pass ``event`` to every subscriber, in order."""
        for subscriber in list(subscribers):
            subscriber(event)
