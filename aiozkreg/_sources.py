"""The watch machinery behind live views.

A *source* is the one ZooKeeper watch and the one cached read for a path;
every view of that path shares it. The hub (:mod:`._hub`, one per registry)
owns the sources and re-reads dirty ones. A source talks to its views
through the small :class:`Subscriber` protocol only.

How a source stays current:

- Each read sets the watch again; when it fires (on the protocol reader),
  the watcher only marks the source dirty. The refresher re-reads it and
  publishes a new snapshot if, and only if, the state changed.
- When the session expires, every watch fires ``EXPIRED``: the refresher
  re-reads each source in the new session, spread with a little jitter.
- When the node disappears, the source re-resolves its original path
  through symlinks and, if that leads elsewhere, follows it; otherwise the
  source is *deleted*: empty, and its views are told.
- Nodes holding the symlinks that were followed are watched too, so a
  view follows its path when a link changes.

Freshness (the rule that lets a new view share a source): every watch
event bumps the source's ``wanted`` count at once, on the protocol reader,
and every completed read records the count it started from in ``done``.
ZooKeeper sends a watch event before the reply to the write that caused
it, so when a write by this registry returns, every source it touched has
``wanted > done``. :meth:`Hub.source` hands a shared source to a new view
only when ``done == wanted`` (waiting for the refresh otherwise), and never
hands out a source whose node was deleted or whose refresh the server
refused: those are dropped from the table and the new view loads afresh.
A clean source costs no round trip.

A refresh the server refuses (``NoAuthError`` after an ACL change, say)
*fails* the source: it stops watching, ``error`` holds the refusal, its
views' iterators raise it and their callbacks are told.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from . import _links, _ops
from ._encoding import decode_properties
from ._errors import BadPropertyLink, LinkLoop, NoNodeError
from ._types import ZnodeStat
from ._watches import EventType, WatchedEvent, WatchKind

if TYPE_CHECKING:
    from ._hub import Hub

log = logging.getLogger("aiozkreg.views")

_NO_LINKS: frozenset[str] = frozenset()
_NOTHING: dict[str, Any] = {}  # shared, never mutated: PropertiesState parts are read-only


class Subscriber(Protocol):
    """What a source asks of a view: the small protocol between the two."""

    def source_changed(self) -> None:
        """A new state was published, or the source ended (deleted or failed)."""

    def source_closed(self) -> None:
        """The registry closed: the view is closed too."""


S = TypeVar("S")


class Source(Generic[S]):
    """The shared watch, cached state (an ``S``) and subscribers of one (kind, path)."""

    __slots__ = (
        "_busy",
        "_changed",
        "_refreshed",
        "closed",
        "deleted",
        "done",
        "error",
        "hub",
        "link_nodes",
        "path",
        "ready",
        "real_path",
        "snapshot",
        "version",
        "views",
        "wanted",
        "zxid",
    )

    kind: WatchKind = WatchKind.DATA

    def __init__(self, hub: Hub, path: str, real_path: str) -> None:
        self.hub = hub
        self.path = path
        self.real_path = real_path
        self.views: list[Subscriber] = []  # by identity: Properties compares as a Mapping
        self.version = 0  # bumped on every publish
        self.deleted = False
        self.closed = False
        self.error: Exception | None = None  # the refusal that ended it
        self.wanted = 0  # watch events seen
        self.done = 0  # the events the last completed read covers
        self._changed: asyncio.Event | None = None  # made when an iterator waits
        self._refreshed: asyncio.Event | None = None  # made when a new view waits
        self._busy: asyncio.Event | None = None  # set while a read or ingest runs
        self.zxid = 0  # of the state we hold (mzxid / pzxid), never goes backwards
        self.snapshot: S = self.empty()
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.link_nodes: set[str] | frozenset[str] = _NO_LINKS  # nodes whose links we follow

    @property
    def key(self) -> tuple[object, str]:
        """Its key in ``Hub.sources``."""
        return (self.kind, self.path)

    @property
    def watcher(self) -> Callable[[WatchedEvent], None]:
        return self._on_event  # bound methods compare equal: one entry per source

    @property
    def link_watcher(self) -> Callable[[WatchedEvent], None]:
        return self._on_link_event

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """One read (or ingest) at a time; costs nothing while idle (unlike a Lock)."""
        while self._busy is not None:
            await self._busy.wait()
        self._busy = busy = asyncio.Event()
        try:
            yield
        finally:
            self._busy = None
            busy.set()

    def changed(self) -> asyncio.Event:
        """An event set at the next publish (or close)."""
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    @property
    def fresh(self) -> bool:
        """Every watch event seen so far is covered by a completed read."""
        return self.done == self.wanted

    @property
    def usable(self) -> bool:
        """May be handed to a new view (once fresh): not deleted, failed or closed."""
        return not (self.deleted or self.closed or self.error is not None)

    @property
    def awaited(self) -> bool:
        """A new view is waiting for this source to become fresh."""
        return self._refreshed is not None

    async def until_refreshed(self) -> None:
        """Wait for the next completed (or failed) refresh."""
        if self._refreshed is None:
            self._refreshed = asyncio.Event()
        await self._refreshed.wait()

    def refreshed(self) -> None:
        """A refresh ended: wake those waiting for freshness."""
        if self._refreshed is not None:
            self._refreshed.set()
            self._refreshed = None

    # -- events (on the protocol reader: only mark dirty) ----------------------------

    def _on_event(self, event: WatchedEvent) -> None:
        self.hub.mark_dirty(self, spread=event.type is EventType.EXPIRED)

    def _on_link_event(self, event: WatchedEvent) -> None:
        if event.path in self.link_nodes:
            self.link_nodes = self.link_nodes - {event.path}
        self.hub.mark_dirty(self, spread=event.type is EventType.EXPIRED)

    # -- reading -------------------------------------------------------------------------

    async def load(self) -> None:
        """Resolve the path (watching links on the way) and read it; NoNodeError if missing."""
        async with self.exclusive():
            self.real_path = await self.hub.resolve(self.path, self._read_link_node)
            await self._read_and_publish()

    async def refresh(self) -> None:
        async with self.exclusive():
            if not self.usable:
                return
            covers = self.wanted  # events after this point need another read
            if self.path != self.real_path or self.link_nodes:
                await self._relocate()
            try:
                await self._read_and_publish()
            except NoNodeError:
                await self._relocate()
                if not self.deleted:
                    await self._read_and_publish()
            self.done = max(self.done, covers)

    async def _relocate(self) -> None:
        """Resolve the original path again (watching the links on the way)."""
        watches = self.hub.session.watches
        for node in self.link_nodes:
            watches.discard(WatchKind.DATA, node, self.link_watcher)
        self.link_nodes = _NO_LINKS
        try:
            real = await self.hub.resolve(self.path, self._read_link_node)
        except (NoNodeError, LinkLoop):
            self._delete()
            return
        if real != self.real_path:
            log.info("View of %s follows it from %s to %s.", self.path, self.real_path, real)
            self._move(real)

    def _move(self, real: str) -> None:
        """Follow the path to ``real``, where it now resolves: the next read is of it."""
        self.hub.session.watches.discard(self.kind, self.real_path, self.watcher)
        self.real_path = real
        self.zxid = 0

    async def _read_link_node(self, path: str) -> Mapping[str, Any]:
        data, _ = await _ops.get(self.hub.session, path, self.link_watcher)
        self.link_nodes = self.link_nodes | {path}
        return decode_properties(data, path)

    async def _read_and_publish(self) -> None:
        state, zxid = await self.read()
        if zxid < self.zxid:
            return
        self.zxid = zxid
        if state != self.snapshot or self.version == 0:
            self.publish(state)

    async def read(self) -> tuple[S, int]:
        raise NotImplementedError

    def publish(self, snapshot: S) -> None:
        self.snapshot = snapshot
        self.version += 1
        self.wake()
        for view in list(self.views):
            view.source_changed()

    def wake(self) -> None:
        """Wake every iterator waiting on this source."""
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def _delete(self) -> None:
        log.info("The node of view %s (%s) was deleted.", self.path, self.real_path)
        self.deleted = True
        self.hub.forget(self)
        self.publish(self.empty())

    def fail(self, error: Exception) -> None:
        """The server refused to let us follow the node: stop, and tell the views."""
        log.warning("The view of %s stops following %s: %s", self.path, self.real_path, error)
        self.error = error
        self.hub.forget(self)
        self.detach()
        for view in list(self.views):
            view.source_changed()

    def empty(self) -> S:
        raise NotImplementedError

    def detach(self) -> None:
        """Stop watching (the last view closed)."""
        self.closed = True
        watches = self.hub.session.watches
        if watches.discard(self.kind, self.real_path, self.watcher):
            self.hub.remove_server_watch(self.kind, self.real_path)
        for node in self.link_nodes:
            watches.discard(WatchKind.DATA, node, self.link_watcher)
        self.wake()


class ChildrenSource(Source[tuple[str, ...]]):
    kind = WatchKind.CHILD

    async def read(self) -> tuple[tuple[str, ...], int]:
        children, stat = await _ops.get_children(self.hub.session, self.real_path, self.watcher)
        return tuple(sorted(children)), stat.pzxid

    def empty(self) -> tuple[str, ...]:
        return ()


class PropertiesState:
    """An immutable read of a node's properties, with property links resolved."""

    __slots__ = ("errors", "raw", "resolved")

    def __init__(
        self,
        raw: dict[str, Any],
        resolved: dict[str, Any] | None = None,
        errors: dict[str, BadPropertyLink] | None = None,
    ) -> None:
        self.raw = raw
        self.resolved = resolved or _NOTHING
        self.errors = errors or _NOTHING

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PropertiesState):
            return NotImplemented
        return (self.raw, self.resolved, set(self.errors)) == (
            other.raw,
            other.resolved,
            set(other.errors),
        )

    __hash__ = None  # type: ignore[assignment]


async def resolve_links(
    path: str, raw: dict[str, Any], read: _links.ReadProperties
) -> PropertiesState:
    """Follow every property link in ``raw`` (relative to ``path``) once."""
    resolved: dict[str, Any] = {}
    errors: dict[str, BadPropertyLink] = {}
    for key in raw:
        kind, name = _links.split_key(key)
        if kind is not _links.KeyKind.PROPERTY_LINK or name in raw:
            continue
        try:
            resolved[name] = await _links.resolve_property(path, raw, name, read)
        except BadPropertyLink as exc:
            log.warning("Bad property link on %s: %s", path, exc)
            errors[name] = exc
    return PropertiesState(raw, resolved, errors)


class DataSource(Source[PropertiesState]):
    kind = WatchKind.DATA

    async def read(self) -> tuple[PropertiesState, int]:
        data, stat = await _ops.get(self.hub.session, self.real_path, self.watcher)
        state = await self.resolve_links(decode_properties(data, self.real_path))
        return state, stat.mzxid

    async def resolve_links(self, raw: dict[str, Any]) -> PropertiesState:
        return await resolve_links(self.path, raw, self._read_linked)

    async def _read_linked(self, path: str) -> Mapping[str, Any]:
        real = await self.hub.resolve(path, self._read_link_node)
        data, _ = await _ops.get(self.hub.session, real, self.link_watcher)
        self.link_nodes = self.link_nodes | {real}
        return decode_properties(data, real)

    async def ingest(self, data: bytes, stat: ZnodeStat) -> None:
        """Adopt what we just wrote ourselves, unless a newer state is held."""
        async with self.exclusive():
            if stat.mzxid <= self.zxid or not self.usable:
                return
            state = await self.resolve_links(decode_properties(data, self.real_path))
            if stat.mzxid > self.zxid:
                self.zxid = stat.mzxid
                if state != self.snapshot:
                    self.publish(state)

    def empty(self) -> PropertiesState:
        return PropertiesState({})
