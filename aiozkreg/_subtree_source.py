"""The source behind ``zk.tree(path)``: one watch for a whole subtree, and a mirror of it.

On servers with persistent watches (ZooKeeper 3.6+) a :class:`TreeSource`
holds one persistent recursive watch on the (symlink-resolved) root: every
creation, deletion and data change at or below it is an event. Events only
queue the paths they name (on the protocol reader); the hub's refresher
then reads those nodes, many in one multi-read, and publishes one new
snapshot with the changes in order (:func:`._subtree.apply`).

Losing things:

- *a reconnect* re-sets the watch, but ZooKeeper re-sets persistent watches
  without telling what changed meanwhile. If the server's zxid has not
  moved since the link dropped, nothing did. Otherwise the source asks with
  one-shot watches, the way ZooKeeper tells a client what changed since a
  zxid (SetWatches): events come for exactly the nodes that changed, and
  only those are read again. (The server then holds, until they fire once,
  one-shot watches on the nodes that did not change.)
- *an expiry* loses the watch: it is added again and the whole subtree read
  again; what differs from the mirror is reported, each node once.

On a server without persistent watches (ZooKeeper 3.5, ``addWatch``
unimplemented) it falls back to a data and a child watch per node, as
kazoo's TreeCache does, with the same observable behaviour.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from . import _ops, _paths
from ._errors import BadArgumentsError, NoNodeError, UnimplementedError
from ._sources import Source
from ._states import SessionState, StateChange
from ._subtree import Read, TreeChange, TreeSnapshot, apply, diff
from ._subtree_reads import Listed, Refused, SubtreeReader
from ._watches import EventType, WatchedEvent, WatchKind
from ._wire import (
    GetChildren,
)
from ._wire_watches import (
    AddWatch,
    SetWatches,
)

if TYPE_CHECKING:
    from ._hub import Hub

log = logging.getLogger("aiozkreg.views")

_SET_WATCHES_BYTES = 128 * 1024


class _Todo(enum.Enum):
    READ = "read"  # created or changed: read its data
    CHILDREN = "children"  # its children changed: list them
    BOTH = "both"  # read its data and list its children
    GONE = "gone"  # deleted


class TreeSource(Source[TreeSnapshot]):
    """A mirrored subtree (see the module docstring)."""

    __slots__ = (
        "_catch_up",
        "_lost_at",
        "_lost_session",
        "_moved",
        "_pending",
        "_reload",
        "changes",
        "recursive",
        "unreadable",
    )

    kind = WatchKind.RECURSIVE

    def __init__(self, hub: Hub, path: str, real_path: str) -> None:
        super().__init__(hub, path, real_path)
        self.recursive = True  # False: the per-node fallback
        self.changes: list[TreeChange] = []  # of the last publish
        self.unreadable: Refused = {}  # below the root, refused by the server: not mirrored
        self._pending: dict[str, _Todo] = {}
        self._reload = False  # read everything again (after an expiry, or a move)
        self._moved = False  # a link on the way to the root changed
        self._catch_up = False
        self._lost_at = 0  # the session's zxid when its link dropped
        self._lost_session = 0
        self.hub.session.states.listen(self._on_state)

    @property
    def key(self) -> tuple[object, str]:
        return (type(self), self.path)

    def empty(self) -> TreeSnapshot:
        return TreeSnapshot(self.real_path)

    # -- events (on the protocol reader: only record) -----------------------------------

    def _on_event(self, event: WatchedEvent) -> None:
        if event.type is EventType.EXPIRED:
            self._reload = True
            self._pending.clear()
        else:
            self._note(event)
        self.hub.mark_dirty(self, spread=event.type is EventType.EXPIRED)

    def _note(self, event: WatchedEvent) -> None:
        if event.type is EventType.DELETED:
            self._pending[event.path] = _Todo.GONE
        elif event.type is EventType.CHILD:
            if self._pending.get(event.path) is not _Todo.GONE:
                self._pending[event.path] = _Todo.CHILDREN
        else:
            self._pending[event.path] = _Todo.READ

    @property
    def child_watcher(self) -> Callable[[WatchedEvent], None]:
        return self._on_child_event

    def _on_child_event(self, event: WatchedEvent) -> None:
        """A per-node child watch (or a catch-up one) fired: CHILD or DELETED."""
        if event.type is EventType.EXPIRED:
            return  # the data watches tell the expiry once
        self._note(event)
        self.hub.mark_dirty(self)

    def _on_link_event(self, event: WatchedEvent) -> None:
        self._moved = True  # the root may resolve elsewhere now
        super()._on_link_event(event)

    def _on_state(self, change: StateChange) -> None:
        session = self.hub.session
        if change.state is SessionState.SUSPENDED:
            self._lost_at, self._lost_session = session.last_zxid, change.session_id
        elif (
            change.state is SessionState.CONNECTED
            and change.session_id == self._lost_session  # re-attached: no expiry
            and self.recursive
            and self._lost_at
            and not self.closed
            and session.attach_zxid > self._lost_at
        ):
            self._catch_up = True  # something changed somewhere while we were away
            self.hub.mark_dirty(self)

    # -- loading -------------------------------------------------------------------------

    async def load(self) -> None:
        async with self.exclusive():
            self.real_path = await self.hub.resolve(self.path, self._read_link_node)
            await self._watch()
            self.unreadable = {}
            snapshot = await self._read_all()
            if self.real_path not in snapshot:
                raise await _ops.no_node(self.hub.session, self.real_path)
            self.changes = []
            self.publish(snapshot)

    async def _watch(self) -> None:
        """One persistent recursive watch, or (refused) the per-node fallback."""
        session = self.hub.session
        if not self.recursive:
            return
        path = self.real_path
        hook = session.watches.hook(WatchKind.RECURSIVE, path, self.watcher)
        session.watches.cover(path)  # before it is sent: see _watches
        try:
            await session.call(AddWatch(session.server_path(path)), path=path, hook=hook)
        except (UnimplementedError, BadArgumentsError):
            session.watches.uncover(path)
            log.info("The server has no persistent watches: %s watches each node.", path)
            self.recursive = False
        except BaseException:
            if not session.watches.watching(path, (WatchKind.RECURSIVE,)):
                session.watches.uncover(path)
            raise

    async def _read_all(self) -> TreeSnapshot:
        """The whole subtree, read level by level."""
        reads = await self._read_subtrees([self.real_path])
        return apply(TreeSnapshot(self.real_path), reads)[0]

    async def _read_subtrees(self, tops: Iterable[str]) -> dict[str, Read | None]:
        reader = self._reader()
        reads = await reader.subtrees(tops)
        self._note_refused(reads, reader.refused)
        return reads

    async def _read_nodes(self, paths: Sequence[str], *, children: bool) -> Listed:
        reader = self._reader()
        listed = await reader.nodes(paths, children=children)
        self._note_refused(listed, reader.refused)
        return listed

    def _reader(self) -> SubtreeReader:
        watchers = None if self.recursive else (self.watcher, self._on_child_event)
        return SubtreeReader(self.hub.session, self.real_path, watchers)

    def _note_refused(self, read: Iterable[str], refused: Refused) -> None:
        """Keep :attr:`unreadable` to the latest answer for each node just read."""
        for path in read:
            error = refused.get(path)
            if error is None:
                self.unreadable.pop(path, None)
            elif self.unreadable.setdefault(path, error) is error:  # newly refused
                log.warning("The tree of %s leaves out %s: %s", self.path, path, error)

    def _forget_refused(self, snapshot: TreeSnapshot, gone: Iterable[str] = ()) -> None:
        """A refused node that went, or whose parent is no longer mirrored, is not ours."""
        for path in gone:
            self.unreadable.pop(path, None)
        for path in [p for p in self.unreadable if _paths.split(p)[0] not in snapshot]:
            del self.unreadable[path]

    # -- following ---------------------------------------------------------------------

    async def refresh(self) -> None:
        async with self.exclusive():
            if not self.usable:
                return
            covers = self.wanted
            if self._moved:
                self._moved = False
                await self._relocate()
            if self.deleted:
                return
            if self._reload:
                self._reload = self._catch_up = False
                await self._reload_all()
            else:
                if self._catch_up:
                    self._catch_up = False
                    await self._ask_what_changed()
                await self._follow()
            self.done = max(self.done, covers)

    async def _follow(self) -> None:
        """Read what the queued events name; publish the next snapshot and its changes."""
        todo, self._pending = self._pending, {}
        if not todo:
            return
        to_read = [path for path, what in todo.items() if what in (_Todo.READ, _Todo.BOTH)]
        to_list = [path for path, what in todo.items() if what in (_Todo.CHILDREN, _Todo.BOTH)]
        read = await self._read_nodes(to_read, children=False)
        gone = {path for path, what in todo.items() if what is _Todo.GONE}
        relisted = await self._relist(to_list, gone)
        reads: dict[str, Read | None] = {}  # in the order of the events
        for path, what in todo.items():
            if what is _Todo.GONE:
                reads.setdefault(path, None)  # unless a listing found it made again
                continue
            if path in read:
                reads[path] = read[path][0]
            reads.update(relisted.get(path, {}))
        snapshot, changes = apply(self.snapshot, reads)
        self._read_missing_parents(snapshot, reads)
        if self.unreadable:
            self._forget_refused(snapshot, gone)
        if changes:
            self.changes = changes
            self.publish(snapshot)
        if self.real_path not in snapshot:  # the root went: the tree ends, as views do
            self._delete()

    async def _relist(
        self, paths: Sequence[str], gone: set[str]
    ) -> dict[str, dict[str, Read | None]]:
        """For each of ``paths``: its new children (with their subtrees, parents first)
        and the children that went. A child in ``gone`` and listed again was made again:
        it is new (in the per-node mode nothing else would tell)."""
        session = self.hub.session
        out: dict[str, dict[str, Read | None]] = {}
        new: list[str] = []
        for path in paths:
            reads = out[path] = {}
            try:
                if self.recursive:
                    names = await session.call(GetChildren(session.server_path(path)), path=path)
                else:
                    names = (await _ops.get_children(session, path, self.child_watcher))[0]
            except NoNodeError:
                reads[path] = None
                continue
            node = self.snapshot.get(path)
            known = set(node.children) if node is not None else set()
            known -= {name for name in known if _paths.join(path, name) in gone}
            for name in sorted(known - set(names)):
                reads[_paths.join(path, name)] = None
            new += [_paths.join(path, name) for name in sorted(names) if name not in known]
        for child, read in (await self._read_subtrees(new)).items():
            below = [p for p in paths if child.startswith(p.rstrip("/") + "/")]
            out[max(below, key=len)][child] = read  # the nearest listed path above it
        return out

    def _read_missing_parents(self, snapshot: TreeSnapshot, reads: dict[str, Read | None]) -> None:
        """Nodes left out for want of their parent: read the parent, then them, again."""
        for path, read in reads.items():
            if read is None or path in snapshot:
                continue
            parent = _paths.split(path)[0]
            if parent not in reads and self._within(parent):
                self._pending[parent] = _Todo.READ
                self._pending[path] = _Todo.READ
                self.hub.mark_dirty(self)

    def _within(self, path: str) -> bool:
        root = self.real_path
        return path == root or path.startswith(root.rstrip("/") + "/")

    def _move(self, real: str) -> None:
        """A link on the way changed and the root resolves elsewhere: mirror that instead
        (the recursive watch goes; everything is read again from the new root)."""
        if self.hub.session.watches.discard(WatchKind.RECURSIVE, self.real_path, self.watcher):
            self.hub.remove_server_watch(WatchKind.RECURSIVE, self.real_path)
        self.real_path = real
        self._pending.clear()
        self._reload = True

    async def _reload_all(self) -> None:
        """After an expiry: watch again, read everything, report what differs."""
        await self._watch()
        self.unreadable = {}
        fresh = await self._read_all()
        changes = diff(self.snapshot, fresh)
        if changes:
            self.changes = changes
            self.publish(fresh)
        if self.real_path not in fresh:
            self._delete()

    async def _ask_what_changed(self) -> None:
        """After a reconnect: one-shot watches on every node, set from the zxid at the
        loss, fire for exactly the nodes that changed meanwhile (see the docstring).

        Not on a covered path (the root, or another tree's root below it): a one-shot
        watch set there would take the place of the recursive watch (see
        :mod:`._watches`); such a node's own stat says whether it changed instead.
        """
        session = self.hub.session
        watches = session.watches
        root = self.real_path
        tops = [p for p in self.snapshot if p == root or watches.covers(p)]
        paths = [p for p in self.snapshot if p != root and not watches.covers(p)]
        for top in tops:
            try:
                _, stat = await _ops.get(session, top)
            except NoNodeError:
                self._pending[top] = _Todo.GONE
                continue
            changed, listed = stat.mzxid > self._lost_at, stat.pzxid > self._lost_at
            if changed or listed:
                self._pending[top] = (
                    _Todo.BOTH if changed and listed else _Todo.READ if changed else _Todo.CHILDREN
                )
        if root not in self.snapshot or self._pending.get(root) is _Todo.GONE:
            return
        for path in paths:
            watches.add(WatchKind.DATA, path, self.watcher)
            watches.add(WatchKind.CHILD, path, self.child_watcher)
        try:
            for batch in _batches([session.server_path(p) for p in paths]):
                await session.call(SetWatches(self._lost_at, batch, (), batch))
        finally:  # the ones that did not fire stay on the server: they are not ours now
            for path in paths:
                watches.discard(WatchKind.DATA, path, self.watcher)
                watches.discard(WatchKind.CHILD, path, self.child_watcher)

    # -- closing -------------------------------------------------------------------------

    def detach(self) -> None:
        """Stop watching: the recursive watch goes (or, in the fallback, each node's)."""
        self.closed = True
        watches = self.hub.session.watches
        if watches.discard(WatchKind.RECURSIVE, self.real_path, self.watcher):
            self.hub.remove_server_watch(WatchKind.RECURSIVE, self.real_path)  # see _unwatch
        if not self.recursive:  # the per-node watches go too, where no one else has them
            for path in self.snapshot:
                if watches.discard(WatchKind.DATA, path, self.watcher):
                    self.hub.remove_server_watch(WatchKind.DATA, path)
                if watches.discard(WatchKind.CHILD, path, self.child_watcher):
                    self.hub.remove_server_watch(WatchKind.CHILD, path)
        for node in self.link_nodes:
            watches.discard(WatchKind.DATA, node, self.link_watcher)
        self.wake()


def _batches(paths: list[str]) -> Iterable[list[str]]:
    batch: list[str] = []
    size = 0
    for path in paths:
        batch.append(path)
        size += len(path) + 4
        if size > _SET_WATCHES_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch
