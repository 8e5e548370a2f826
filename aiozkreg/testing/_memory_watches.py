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

As on 3.8 (``WatcherModeManager``), each table keeps one *mode* per link
and path: a recursive watch sits in both tables; a data or exist watch set
on the same path by the same link makes the data table's entry standard
(the recursive watch no longer hears data changes, creations and deletions
below through it), and a child watch does the same to the child table's; a
recursive watch added later makes both recursive again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._memory_acl import may_read
from ._memory_tree import CHILD, DELETED, Trigger

if TYPE_CHECKING:
    from ._memory_link import MemoryLink


class Watches:
    """Per table (child watch?): server path -> the links watching it, each with its mode
    (recursive?)."""

    __slots__ = ("_recursive", "_tables")

    def __init__(self) -> None:
        self._tables: dict[bool, dict[str, dict[MemoryLink, bool]]] = {False: {}, True: {}}
        self._recursive = 0  # entries in recursive mode: parents are looked at only if any

    def count(self) -> int:
        """Entries in both tables, as ``mntr``'s ``zk_watch_count`` counts them."""
        return sum(len(links) for table in self._tables.values() for links in table.values())

    def _set(self, link: MemoryLink, path: str, child: bool, recursive: bool) -> None:
        links = self._tables[child].setdefault(path, {})
        self._recursive += recursive - links.get(link, False)
        links[link] = recursive
        link.watches.add((child, path))

    def _drop(self, link: MemoryLink, path: str, child: bool) -> bool:
        links = self._tables[child].get(path)
        if links is None or link not in links:
            return False
        self._recursive -= links.pop(link)
        if not links:
            del self._tables[child][path]
        link.watches.discard((child, path))
        return True

    def add_recursive(self, link: MemoryLink, path: str) -> None:
        self._set(link, path, False, True)
        self._set(link, path, True, True)

    def add(self, link: MemoryLink, path: str, *, child: bool) -> None:
        self._set(link, path, child, False)

    def holds_recursive(self, link: MemoryLink, path: str, *, remove: bool) -> bool:
        """Whether ``link`` holds a recursive-mode entry on ``path``; ``remove``: drop both
        tables' entries (removeWatches of any kind)."""
        found = any(self._tables[c].get(path, {}).get(link, False) for c in (False, True))
        if found and remove:
            self._drop(link, path, False)
            self._drop(link, path, True)
        return found

    def holds(self, link: MemoryLink, path: str, *, child: bool, remove: bool) -> bool:
        """Whether ``link`` has an entry on ``path`` in that table; ``remove``: drop it."""
        if remove:
            return self._drop(link, path, child)
        return link in self._tables[child].get(path, {})

    def detach(self, link: MemoryLink) -> None:
        """Forget every watch ``link`` holds."""
        for child, path in list(link.watches):
            self._drop(link, path, child)

    def _trigger(self, path: str, *, child: bool, kind: int) -> dict[MemoryLink, None]:
        """The links one table's watches send ``kind`` for ``path`` to (3.8's triggerWatch):
        standard entries on the path itself (used up), recursive ones on it or above
        (kept; never for a children-changed event)."""
        table = self._tables[child]
        found: dict[MemoryLink, None] = {}
        local = path
        while True:
            for link, recursive in list(table.get(local, {}).items()):
                if recursive:
                    if kind != CHILD:
                        found[link] = None
                elif local == path:
                    found[link] = None
                    self._drop(link, path, child)
            if local == "/" or not self._recursive:
                return found
            local = local.rpartition("/")[0] or "/"

    def fire(self, triggers: list[Trigger]) -> None:
        """Deliver the watches a change triggered, as the server does.

        As ZooKeeper 3.8 does, a watch fires (and is used up) for a session
        that may not READ the node the event names (the parent, for a child
        event), but the event is not sent to it.
        """
        for path, kind, acl in triggers:
            if kind == CHILD:
                links = self._trigger(path, child=True, kind=kind)
            elif kind == DELETED:
                links = self._trigger(path, child=False, kind=kind)
                for link in self._trigger(path, child=True, kind=kind):
                    links.setdefault(link, None)  # one event per link
            else:
                links = self._trigger(path, child=False, kind=kind)
            for link in links:
                if may_read(acl, link.ids):
                    link.queue_event(kind, path)
