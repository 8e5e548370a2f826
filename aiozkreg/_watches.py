"""The watch table: which of our watchers wait on which (kind, path), as the server has them.

ZooKeeper watches are one-shot and per session. A watcher is recorded here
exactly when the server has set its watch (by the reply hook of the read
that set it: :meth:`WatchTable.hook`), so the table says what the server
holds. A notification pops the watchers it fires; on re-attach the table is
re-sent with SetWatches (:meth:`WatchTable.set_watches`); when the session
expires every watcher is told ``EXPIRED`` and the table is emptied.

A persistent recursive watch (``RECURSIVE``) is not used up: it hears the
creation, deletion and data changes of every node at and below its path
(never a children-changed event), and is re-set with SetWatches2, which
fires nothing for what changed meanwhile.

The server keeps one watch *mode* per connection and path (ZooKeeper 3.8:
``WatcherModeManager``): a data, exist or child watch set on a path that
has our recursive watch turns that path's watch standard, and the
recursive one stops reporting the nodes below; a recursive watch added on
a path with a child watch silences the child watch. So on a *covered* path
(one where the server holds our recursive watch) the reads set no watch of
their own (:meth:`WatchTable.watch_flag`): the recursive watch already
reports the path's creation, deletion and data changes, and a child
watcher there is told of a child created or deleted
(:meth:`WatchTable.fire`). When the recursive watch is removed, the
watchers left on the path are set on the server again (``_unwatch``).

Watchers run on the protocol reader and must only record what happened
(mark a view dirty, queue a check); user callbacks are scheduled, never
called here. An exception from a watcher is a bug of ours and propagates.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ._errors import NoNodeError
from ._transport import ReplyHook
from ._wire_watches import (
    SetWatches,
    SetWatches2,
)

_SET_WATCHES_BATCH = 128 * 1024  # bytes of paths per SetWatches request


class WatchKind(enum.Enum):
    DATA = "data"
    EXIST = "exist"
    CHILD = "child"
    RECURSIVE = "persistent recursive"
    """Every node at and below the path; not used up when it fires (ZooKeeper 3.6+)."""


class EventType(enum.IntEnum):
    """Why a watch fired."""

    CREATED = 1
    DELETED = 2
    CHANGED = 3
    CHILD = 4
    EXPIRED = -112
    """The session expired: the watch is gone and must be set again."""


@dataclass(frozen=True, slots=True)
class WatchedEvent:
    """A watch notification: what happened, and to which path (the client's)."""

    type: EventType
    path: str


Watcher = Callable[[WatchedEvent], None]

_FIRES: dict[int, tuple[WatchKind, ...]] = {
    EventType.CREATED: (WatchKind.EXIST, WatchKind.DATA),
    EventType.DELETED: (WatchKind.DATA, WatchKind.EXIST, WatchKind.CHILD),
    EventType.CHANGED: (WatchKind.DATA, WatchKind.EXIST),
    EventType.CHILD: (WatchKind.CHILD,),
}


class WatchTable:
    """(kind, client path) -> the watchers waiting on it, in the order they came."""

    __slots__ = ("_covered", "_served", "_table")

    def __init__(self) -> None:
        self._table: dict[tuple[WatchKind, str], list[Watcher]] = {}
        self._covered: set[str] = set()  # paths with our recursive watch on the server
        self._served: set[str] = set()  # ... or whose removal is not answered yet

    def __len__(self) -> int:
        """How many (kind, path) watches the server holds for us."""
        return len(self._table)

    def __iter__(self) -> Iterator[tuple[WatchKind, str]]:
        return iter(self._table)

    def add(self, kind: WatchKind, path: str, watcher: Watcher) -> None:
        watchers = self._table.setdefault((kind, path), [])
        if watcher not in watchers:
            watchers.append(watcher)

    def discard(self, kind: WatchKind, path: str, watcher: Watcher) -> bool:
        """Forget ``watcher``; True if no one else watches (kind, path) any more."""
        watchers = self._table.get((kind, path))
        if watchers is None:
            return False
        if watcher in watchers:
            watchers.remove(watcher)
        if watchers:
            return False
        del self._table[(kind, path)]
        return True

    def watching(self, path: str, kinds: Iterable[WatchKind]) -> bool:
        """Whether some watcher of one of ``kinds`` waits on ``path``."""
        return any((kind, path) in self._table for kind in kinds)

    # -- covered paths (see the module docstring) -----------------------------------------

    def cover(self, path: str) -> None:
        """A recursive watch on ``path`` is about to be asked for: from now on the server's
        watch there is that one."""
        self._covered.add(path)
        self._served.add(path)

    def uncover(self, path: str, *, served: bool = False) -> None:
        """The recursive watch on ``path`` is being removed (or was refused): reads set
        their own watches again. ``served``: its events may still come (the removal is
        not answered yet), so a child watcher still hears of children through them until
        :meth:`unserve`."""
        self._covered.discard(path)
        if not served:
            self._served.discard(path)

    def unserve(self, path: str) -> None:
        """The removal of the recursive watch on ``path`` is answered: no more of its events."""
        if path not in self._covered:
            self._served.discard(path)

    def covers(self, path: str) -> bool:
        return path in self._covered

    def watch_flag(self, path: str, watcher: Watcher | None) -> bool:
        """Whether a read of ``path`` for ``watcher`` asks the server for a watch (not on a
        covered path: the recursive watch reports for it)."""
        return watcher is not None and path not in self._covered

    def hook(self, kind: WatchKind, path: str, watcher: Watcher) -> ReplyHook:
        """A reply hook that records ``watcher`` when the server has set the watch.

        ``exists`` sets a data watch on a node that is there and an exist
        watch on one that is not; reads set theirs only when they succeed.
        """

        def recorded(err: int) -> None:
            if kind is WatchKind.EXIST:
                if err == 0:
                    self.add(WatchKind.DATA, path, watcher)
                elif err == NoNodeError.code:
                    self.add(WatchKind.EXIST, path, watcher)
            elif err == 0:
                self.add(kind, path, watcher)

        return recorded

    def fire(self, event_type: int, path: str) -> None:
        """A notification for ``path``: call (and forget) every watcher it fires."""
        kinds = _FIRES.get(event_type)
        if kinds is None:
            return
        event = WatchedEvent(EventType(event_type), path)
        for kind in kinds:
            for watcher in self._table.pop((kind, path), ()):
                watcher(event)
        if event_type == EventType.CHILD:
            return
        if self._served and event_type in (EventType.CREATED, EventType.DELETED):
            parent = path.rpartition("/")[0] or "/"
            if parent in self._served and parent != path:  # its child watch is silent
                changed = WatchedEvent(EventType.CHILD, parent)
                for watcher in self._table.pop((WatchKind.CHILD, parent), ()):
                    watcher(changed)
        for watcher in self._recursive_watchers(path):
            watcher(event)

    def _recursive_watchers(self, path: str) -> list[Watcher]:
        found: list[Watcher] = []
        for (kind, top), watchers in self._table.items():
            if kind is WatchKind.RECURSIVE and (
                path == top or top == "/" or path.startswith(top + "/")
            ):
                found += watchers
        return found

    def expire(self) -> None:
        """The session is gone: every watcher (persistent ones too) is told, and the table
        empties."""
        table, self._table = self._table, {}
        self._covered.clear()
        self._served.clear()
        for (_, path), watchers in table.items():
            for watcher in watchers:
                watcher(WatchedEvent(EventType.EXPIRED, path))

    def set_watches(
        self, relative_zxid: int, to_server: Callable[[str], str]
    ) -> list[SetWatches | SetWatches2]:
        """SetWatches requests re-setting every watch (in batches the server accepts).

        A covered path's other watches go in the same request as its recursive
        one, which ZooKeeper sets after them: the path is covered again.
        """
        self._covered = {path for kind, path in self._table if kind is WatchKind.RECURSIVE}
        self._served = set(self._covered)
        requests: list[SetWatches | SetWatches2] = []
        batch: dict[WatchKind, list[str]] = {kind: [] for kind in WatchKind}
        size = 0
        for kind, path in self._table:
            server_path = to_server(path)
            batch[kind].append(server_path)
            size += len(server_path) + 4
            if size > _SET_WATCHES_BATCH:
                requests.append(_request(relative_zxid, batch))
                batch = {k: [] for k in WatchKind}
                size = 0
        if size:
            requests.append(_request(relative_zxid, batch))
        return requests


def _request(relative_zxid: int, batch: dict[WatchKind, list[str]]) -> SetWatches | SetWatches2:
    data, exist, child = batch[WatchKind.DATA], batch[WatchKind.EXIST], batch[WatchKind.CHILD]
    if batch[WatchKind.RECURSIVE]:  # only servers that have them get SetWatches2
        return SetWatches2(relative_zxid, data, exist, child, (), batch[WatchKind.RECURSIVE])
    return SetWatches(relative_zxid, data, exist, child)
