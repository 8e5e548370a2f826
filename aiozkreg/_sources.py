"""The watch machinery behind live views.

A *source* is the one ZooKeeper watch and the one cached read for a path;
every view of that path shares it. The :class:`Hub` (one per registry) owns
the sources, a single *refresher* task that re-reads dirty sources with
bounded concurrency, and the tasks that run async callbacks.

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
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from . import _links, _ops
from ._encoding import decode_properties
from ._errors import (
    BadPropertyLink,
    LinkLoop,
    NoNodeError,
    RegistryClosedError,
    RequestTimeoutError,
    ServerError,
    ZKConnectionError,
)
from ._session import EventType, Session, WatchedEvent, WatchKind
from ._types import ZnodeStat

if TYPE_CHECKING:
    from ._views import View

log = logging.getLogger("aiozkreg.views")

_CONCURRENCY = 32
_NO_LINKS: frozenset[str] = frozenset()
_NOTHING: dict[str, Any] = {}  # shared, never mutated: PropertiesState parts are read-only


class Source:
    """The shared watch, cached state and subscribers of one (kind, path)."""

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
        "queued",
        "ready",
        "real_path",
        "snapshot",
        "spread",
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
        self.views: list[View] = []  # compared by identity: Properties compares as a Mapping
        self.version = 0  # bumped on every publish
        self.deleted = False
        self.closed = False
        self.error: Exception | None = None  # the refusal that ended it
        self.wanted = 0  # watch events seen
        self.done = 0  # the events the last completed read covers
        self._changed: asyncio.Event | None = None  # made when an iterator waits
        self._refreshed: asyncio.Event | None = None  # made when a new view waits
        self.queued = False
        self.spread = False
        self._busy: asyncio.Event | None = None  # set while a read or ingest runs
        self.zxid = 0  # of the state we hold (mzxid / pzxid), never goes backwards
        self.snapshot: Any = None
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
            try:
                self.real_path = await _links.resolve(
                    self.path, self.hub.exists, self._read_link_node
                )
            except NoNodeError as exc:
                raise await self.hub.explain(exc) from None
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
        session = self.hub.session
        for node in self.link_nodes:
            session.discard_watcher(WatchKind.DATA, node, self.link_watcher)
        self.link_nodes = _NO_LINKS
        try:
            real = await _links.resolve(self.path, self.hub.exists, self._read_link_node)
        except (NoNodeError, LinkLoop):
            self._delete()
            return
        if real != self.real_path:
            log.info("View of %s follows it from %s to %s.", self.path, self.real_path, real)
            session.discard_watcher(self.kind, self.real_path, self.watcher)
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

    async def read(self) -> tuple[Any, int]:
        raise NotImplementedError

    def publish(self, snapshot: Any) -> None:
        self.snapshot = snapshot
        self.version += 1
        self.wake()
        for view in list(self.views):
            view._notify()

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
            view._notify()

    def empty(self) -> Any:
        raise NotImplementedError

    def detach(self) -> None:
        """Stop watching (the last view closed)."""
        self.closed = True
        session = self.hub.session
        if session.discard_watcher(self.kind, self.real_path, self.watcher):
            self.hub.remove_server_watch(self.kind, self.real_path)
        for node in self.link_nodes:
            session.discard_watcher(WatchKind.DATA, node, self.link_watcher)
        self.wake()


class ChildrenSource(Source):
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
        if not key.endswith(_links.PROPERTY_LINK):
            continue
        name = key[: -len(_links.PROPERTY_LINK)]
        if name in raw:
            continue
        try:
            resolved[name] = await _links.resolve_property(path, raw, name, read)
        except BadPropertyLink as exc:
            log.warning("Bad property link on %s: %s", path, exc)
            errors[name] = exc
    return PropertiesState(raw, resolved, errors)


class DataSource(Source):
    kind = WatchKind.DATA

    async def read(self) -> tuple[PropertiesState, int]:
        data, stat = await _ops.get(self.hub.session, self.real_path, self.watcher)
        state = await self.resolve_links(decode_properties(data, self.real_path))
        return state, stat.mzxid

    async def resolve_links(self, raw: dict[str, Any]) -> PropertiesState:
        return await resolve_links(self.path, raw, self._read_linked)

    async def _read_linked(self, path: str) -> Mapping[str, Any]:
        real = await _links.resolve(path, self.hub.exists, self._read_link_node)
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


class Hub:
    """Owns the sources of one registry, the refresher and callback tasks."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sources: dict[tuple[object, str], Source] = {}
        self._queue: asyncio.Queue[Source] = asyncio.Queue()
        self._refresher: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._limit = asyncio.Semaphore(_CONCURRENCY)
        self._closed = False
        self._pending = 0  # sources queued or being refreshed
        self._loaded: asyncio.Future[None] | None = None
        self.idle = asyncio.Event()
        self.idle.set()

    async def exists(self, path: str) -> bool:
        return await _ops.exists(self.session, path) is not None

    async def read_properties(self, path: str) -> dict[str, Any]:
        data, _ = await _ops.get(self.session, path)
        return decode_properties(data, path)

    async def resolve(self, path: str) -> str:
        try:
            return await _links.resolve(path, self.exists, self.read_properties)
        except NoNodeError as exc:
            raise await self.explain(exc) from None

    async def explain(self, exc: NoNodeError) -> NoNodeError:
        """``exc``, or the error naming the chroot when it is the chroot that is missing."""
        return await self.session.missing_chroot(exc.path) or exc

    # -- sources ---------------------------------------------------------------------------

    async def source(self, kind: WatchKind, path: str, cls: type[Source] | None = None) -> Source:
        """The shared, loaded source for (kind, path), made on first use.

        ``cls``: a Source subclass of one's own, shared under ``(cls, path)``.
        """
        key: tuple[object, str] = (kind, path) if cls is None else (cls, path)
        deadline = asyncio.get_running_loop().time() + (
            self.session.request_timeout or self.session.timeout * 2
        )
        while True:
            if self._closed:
                raise RegistryClosedError("The registry is closed.")
            source = self.sources.get(key)
            if source is None:
                break
            try:
                await asyncio.shield(source.ready)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if source.ready.cancelled() and not (task and task.cancelling()):
                    continue  # its first loader gave up, not us: try again ourselves
                raise
            if not source.usable:
                self.forget(source)  # deleted or failed: the new view loads afresh
                continue
            if not source.fresh:  # a watch event is not read yet: wait for the read
                await self._until_refreshed(source, deadline)
                continue
            return source
        if cls is None:
            cls = ChildrenSource if kind is WatchKind.CHILD else DataSource
        source = cls(self, path, path)
        self.sources[key] = source
        try:
            await source.load()
        except BaseException as exc:
            if self.sources.get(key) is source:
                del self.sources[key]
            source.detach()
            if isinstance(exc, Exception):
                source.ready.set_exception(exc)
                source.ready.exception()  # retrieved: nobody may be waiting
            else:
                source.ready.cancel()
            raise
        source.ready.set_result(None)
        if self._loaded is None:
            self._loaded = source.ready  # a done future, shared instead of one per source
        source.ready = self._loaded
        return source

    async def _until_refreshed(self, source: Source, deadline: float) -> None:
        remaining = deadline - asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(max(remaining, 0)):
                await source.until_refreshed()
        except TimeoutError:
            raise RequestTimeoutError(
                f"The view of {source.path} could not catch up with ZooKeeper in time."
            ) from None

    def forget(self, source: Source) -> None:
        """Never hand ``source`` to a new view again (its views keep it)."""
        if self.sources.get(source.key) is source:
            del self.sources[source.key]

    def release(self, source: Source, view: View) -> None:
        source.views = [v for v in source.views if v is not view]
        if source.views or source.closed:
            return
        key = source.key
        if self.sources.get(key) is source:
            del self.sources[key]
        source.detach()

    def remove_server_watch(self, kind: WatchKind, path: str) -> None:
        """Ask the server to drop a watch nobody needs (best effort)."""
        if self._closed or self.session.closed:
            return
        self.spawn(_ops.remove_watches(self.session, kind, path))

    # -- the refresher ------------------------------------------------------------------------

    def start(self) -> None:
        if self._refresher is None:
            self._refresher = asyncio.create_task(self._refresh_loop(), name="aiozkreg refresher")

    def mark_dirty(self, source: Source, *, spread: bool = False) -> None:
        if source.closed or self._closed:
            return
        source.wanted += 1
        source.spread = source.spread or spread
        if not source.queued:
            source.queued = True
            self._pending += 1
            self.idle.clear()
            self._queue.put_nowait(source)

    def _settled(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self.idle.set()

    async def _refresh_loop(self) -> None:
        while True:
            source = await self._queue.get()
            source.queued = False
            await self._limit.acquire()
            try:
                self.spawn(self._refresh(source))
            except BaseException:
                self._limit.release()
                raise

    async def _refresh(self, source: Source) -> None:
        retry = False
        try:
            if source.spread:
                source.spread = False
                if not source.awaited:  # nobody waits for it: spread the herd
                    await asyncio.sleep(random.uniform(0, min(0.5, 0.002 * len(self.sources))))
            await source.refresh()
        except RegistryClosedError:
            return
        except ZKConnectionError as exc:
            log.debug("Refreshing %s waits for the session: %s", source.path, exc)
            retry = True
        except ServerError as exc:  # refused (NoAuth after an ACL change, say): surface it
            source.fail(exc)
        finally:
            self._limit.release()
            source.refreshed()
            if not retry:
                self._settled()
        if retry:
            try:
                await self.session.wait_connected()
            except RegistryClosedError:
                return
            self.mark_dirty(source)
            self._settled()  # counted again by mark_dirty (or already queued)

    # -- owned tasks -----------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` as a task the hub owns (cancelled and awaited on close)."""
        task = asyncio.create_task(coro, name="aiozkreg task")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Background task failed", exc_info=task.exception())

    async def close(self) -> None:
        self._closed = True
        for source in list(self.sources.values()):
            source.closed = True
            source.wake()
            for view in list(source.views):
                view._closed_by_registry()
        self.sources.clear()
        tasks = [t for t in (self._refresher, *self._tasks) if t is not None]
        self._refresher = None
        for task in tasks:
            task.cancel()
        if tasks:
            await _wait_cancelled(tasks)


async def _wait_cancelled(tasks: list[asyncio.Task[Any]]) -> None:
    """Await cancelled tasks without swallowing a cancellation aimed at us."""
    results = await asyncio.gather(*tasks, return_exceptions=True)
    del results
    current = asyncio.current_task()
    if current is not None and current.cancelling():
        raise asyncio.CancelledError


CallbackResult = Awaitable[Any] | None
Callback = Callable[..., CallbackResult]
