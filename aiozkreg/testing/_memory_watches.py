"""The in-memory ZooKeeper's watch table: which links hold which watches, one-shot.

As on ZooKeeper 3.8, a watch is held per link (a reconnecting client sets
its watches again with ``SetWatches``); data and exist watches share one
table (an ``exists`` watch on a missing node waits there for the create),
child watches have their own. A change's triggers take the watches they
fire; a link that goes away takes its watches with it.

A persistent recursive watch (``addWatch``, 3.6+) is not taken when it
fires: it hears creations, deletions and data changes at and below its
path (never a children-changed event). A link gets one event per change,
however many of its watches match.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._memory_acl import may_read
from ._memory_tree import CHILD, DELETED, Trigger

if TYPE_CHECKING:
    from ._memory_link import MemoryLink


class Watches:
    """(child watch?, server path) -> the links holding that watch."""

    __slots__ = ("_recursive", "_table")

    def __init__(self) -> None:
        self._table: dict[bool, dict[str, dict[MemoryLink, None]]] = {False: {}, True: {}}
        self._recursive: dict[str, dict[MemoryLink, None]] = {}

    def add_recursive(self, link: MemoryLink, path: str) -> None:
        self._recursive.setdefault(path, {})[link] = None
        link.recursive.add(path)

    def holds_recursive(self, link: MemoryLink, path: str, *, remove: bool) -> bool:
        """Whether ``link`` holds a persistent recursive watch on ``path``; drop it."""
        watchers = self._recursive.get(path)
        if watchers is None or link not in watchers:
            return False
        if remove:
            del watchers[link]
            if not watchers:
                del self._recursive[path]
            link.recursive.discard(path)
        return True

    def _recursive_links(self, path: str) -> list[MemoryLink]:
        found: list[MemoryLink] = []
        for top, watchers in self._recursive.items():
            if path == top or top == "/" or path.startswith(top + "/"):
                found += watchers
        return found

    def add(self, link: MemoryLink, path: str, *, child: bool) -> None:
        self._table[child].setdefault(path, {})[link] = None
        link.watches.add((child, path))

    def holds(self, link: MemoryLink, path: str, *, child: bool, remove: bool) -> bool:
        """Whether ``link`` holds the watch; with ``remove``, drop it."""
        watchers = self._table[child].get(path)
        if watchers is None or link not in watchers:
            return False
        if remove:
            del watchers[link]
            if not watchers:
                del self._table[child][path]
            link.watches.discard((child, path))
        return True

    def detach(self, link: MemoryLink) -> None:
        """Forget every watch ``link`` holds."""
        for child, path in link.watches:
            watchers = self._table[child].get(path)
            if watchers is not None:
                watchers.pop(link, None)
                if not watchers:
                    del self._table[child][path]
        link.watches.clear()
        for path in list(link.recursive):
            self.holds_recursive(link, path, remove=True)

    def _take(self, path: str, *, child: bool) -> dict[MemoryLink, None]:
        watchers = self._table[child].pop(path, {})
        for link in watchers:
            link.watches.discard((child, path))
        return watchers

    def fire(self, triggers: list[Trigger]) -> None:
        """Deliver the watches a change triggered (one-shot, as the server does).

        As ZooKeeper 3.8 does, a watch fires (and is used up) for a session
        that may not READ the node the event names (the parent, for a child
        event), but the event is not sent to it.
        """
        for path, kind, acl in triggers:
            if kind == CHILD:
                watchers = self._take(path, child=True)
            elif kind == DELETED:
                watchers = self._take(path, child=False)
                for link in self._take(path, child=True):
                    watchers.setdefault(link, None)  # one event per link
            else:
                watchers = self._take(path, child=False)
            if kind != CHILD:
                for link in self._recursive_links(path):
                    watchers.setdefault(link, None)  # one event per link
            for link in watchers:
                if may_read(acl, link.ids):
                    link.queue_event(kind, path)
