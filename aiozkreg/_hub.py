"""The view hub: the sources of one registry, their freshness, and the refresher.

The :class:`Hub` hands out shared, loaded sources (see :mod:`._sources` for
what a source is and the freshness rule), re-reads the ones a watch marked
dirty with bounded concurrency, and runs the work views need in the
background. Every task is the registry's owner's (:mod:`._tasks`).

A refresh sorts its failures where they happen: connection trouble waits
for the next connection and tries again; a server refusal ends the source
(``view.error``); anything else propagates to the owner and closes the
registry.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from . import _links, _ops, _paths
from ._balancing import Ejector, Strategy
from ._encoding import decode_properties
from ._errors import (
    NoNodeError,
    RegistryClosedError,
    RequestTimeoutError,
    ServerError,
    ZKConnectionError,
)
from ._formats import WireFormat
from ._properties import Properties
from ._providers import Providers, ProvidersSource
from ._session import Session
from ._sources import ChildrenSource, DataSource, Source, Subscriber, resolve_links
from ._subtree_source import TreeSource
from ._subtree_view import Tree
from ._tasks import TaskOwner
from ._unwatch import remove_server_watch
from ._views import Children
from ._watches import WatchKind

log = logging.getLogger("aiozkreg.views")

S = TypeVar("S", bound=Source[Any])

_CONCURRENCY = 32


class Hub:
    """Owns the sources of one registry and the refresher (see the module docstring)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sources: dict[tuple[object, str], Source[Any]] = {}
        self._queue: asyncio.Queue[Source[Any]] = asyncio.Queue()
        self._queued: set[Source[Any]] = set()  # in the queue (once each)
        self._spread: set[Source[Any]] = set()  # to refresh after a random pause (an expiry)
        self._limit = asyncio.Semaphore(_CONCURRENCY)
        self._owner: TaskOwner | None = None
        self._closed = False
        self._pending = 0  # sources queued or being refreshed
        self._loaded: asyncio.Future[None] | None = None
        self.idle = asyncio.Event()
        self.idle.set()

    # -- reading through links ---------------------------------------------------------

    async def exists(self, path: str) -> bool:
        return await _ops.exists(self.session, path) is not None

    async def read_properties(self, path: str) -> dict[str, Any]:
        data, _ = await _ops.get(self.session, path)
        return decode_properties(data, path)

    async def resolve(self, path: str, read: _links.ReadProperties | None = None) -> str:
        """The real path after symlinks (``read`` reads the nodes holding links); a missing
        chroot is named as such."""
        try:
            return await _links.resolve(path, self.exists, read or self.read_properties)
        except NoNodeError as exc:
            raise await self.session.missing_chroot(exc.path) or exc from None

    async def read_linked(self, path: str) -> Mapping[str, Any]:
        """The properties of the node ``path`` leads to (for a property link)."""
        return await self.read_properties(await self.resolve(path))

    # -- sources -------------------------------------------------------------------------

    async def source(self, key: tuple[object, str], make: type[S]) -> S:
        """The shared, loaded, fresh source under ``key`` (made with ``make`` on first use)."""
        deadline = self.session.deadline()
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
            assert isinstance(source, make)
            return source
        return await self._load(key, make(self, key[1], key[1]))

    async def _load(self, key: tuple[object, str], source: S) -> S:
        self.sources[key] = source
        try:
            await source.load()
        except BaseException as exc:
            self.forget(source)
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

    # -- views ---------------------------------------------------------------------------

    async def open_children(self, path: str) -> Children:
        source = await self.source((WatchKind.CHILD, _paths.normalize(path)), ChildrenSource)
        return Children(self, source, path)

    async def open_properties(self, path: str, *, watch: bool) -> Properties:
        norm = _paths.normalize(path)
        if watch:
            source = await self.source((WatchKind.DATA, norm), DataSource)
            return Properties(self, source, path, None)
        real = await self.resolve(norm)
        raw = await self.read_properties(real)
        state = await resolve_links(norm, raw, self.read_linked)
        return Properties(self, None, path, state, real)

    async def open_tree(self, path: str) -> Tree:
        norm = _paths.normalize(path)
        source = await self.source((TreeSource, norm), TreeSource)
        return Tree(self, source, path)

    async def open_providers(
        self, path: str, format: WireFormat | None, strategy: Strategy, ejector: Ejector
    ) -> Providers:
        norm = _paths.normalize(path)
        source = await self.source((ProvidersSource, norm), ProvidersSource)
        return Providers(self, source, path, format, strategy, ejector)

    async def _until_refreshed(self, source: Source[Any], deadline: float) -> None:
        remaining = deadline - asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(max(remaining, 0)):
                await source.until_refreshed()
        except TimeoutError:
            raise RequestTimeoutError(
                f"The view of {source.path} could not catch up with ZooKeeper in time."
            ) from None

    def view_count(self) -> int:
        """The views open on every source."""
        return sum(len(source.views) for source in self.sources.values())

    def forget(self, source: Source[Any]) -> None:
        """Never hand ``source`` to a new view again (its views keep it)."""
        if self.sources.get(source.key) is source:
            del self.sources[source.key]

    def release(self, source: Source[Any], view: Subscriber) -> None:
        """``view`` closed; the last view of a source detaches it."""
        source.views = [v for v in source.views if v is not view]
        if source.views or source.closed:
            return
        self.forget(source)
        source.detach()

    def remove_server_watch(self, kind: WatchKind, path: str) -> None:
        """Ask the server to drop a watch nobody needs (it costs the server memory)."""
        if self._closed:
            return
        if self.spawn(self._remove_watch(kind, path), name=f"aiozkreg unwatch {path}"):
            self._pending += 1  # settle() waits for it
            self.idle.clear()

    async def _remove_watch(self, kind: WatchKind, path: str) -> None:
        try:
            await remove_server_watch(self.session, kind, path)
        except (ZKConnectionError, ServerError, RegistryClosedError) as exc:
            # the link went (and SetWatches re-sets only watches still wanted), or the
            # server holds none: either way the watch is gone
            log.debug("Removing the %s watch on %s: %s", kind.value, path, exc)
        finally:
            self._settled()

    # -- the refresher -------------------------------------------------------------------

    def start(self, owner: TaskOwner) -> None:
        self._owner = owner
        owner.spawn(self._refresh_loop(), name="aiozkreg refresher")

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> bool:
        """Run ``coro`` as a task of the registry's owner; False (dropped) once it is
        closing."""
        if self._owner is None or not self._owner.running:
            coro.close()
            return False
        self._owner.spawn(coro, name=name)
        return True

    def mark_dirty(self, source: Source[Any], *, spread: bool = False) -> None:
        """A watch fired for ``source`` (on the protocol reader): queue a re-read."""
        if source.closed or self._closed:
            return
        source.wanted += 1
        if spread:
            self._spread.add(source)
        if source not in self._queued:
            self._queued.add(source)
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
            self._queued.discard(source)
            await self._limit.acquire()
            self.spawn(self._refresh(source), name=f"aiozkreg refresh {source.path}")

    async def _refresh(self, source: Source[Any]) -> None:
        retry = False
        try:
            if source in self._spread:
                self._spread.discard(source)
                if not source.awaited:  # nobody waits for it: spread the herd
                    await asyncio.sleep(random.uniform(0, min(0.5, 0.002 * len(self.sources))))
            await source.refresh()
        except RegistryClosedError:
            return  # closing
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
        if not retry:
            return
        try:
            await self.session.wait_connected()
        except RegistryClosedError:
            return
        self.mark_dirty(source)
        self._settled()  # counted again by mark_dirty (or already queued)

    # -- closing -------------------------------------------------------------------------

    def close(self) -> None:
        """The registry closed: every view is closed (their tasks are the owner's)."""
        self._closed = True
        for source in list(self.sources.values()):
            source.closed = True
            source.wake()
            for view in list(source.views):
                view.source_closed()
        self.sources.clear()
