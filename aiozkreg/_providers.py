"""The live provider set: ``zk.providers(path)``.

A :class:`ProvidersSource` (one per service path, shared by every provider
set of it, refreshed by the hub like any view's source) holds the raw data
of each child of the path and keeps it current:

- a child watch on the path: children that come are read, children that go
  are dropped;
- a data watch on every child: a child whose data changes is re-read (only
  that one, and without listing the children again: the child watch on the
  path has not fired, so the listing we hold is current);
- reads of many children go out at once (up to ``_IN_FLIGHT`` in flight);
- after a session expiry every watch fires and everything is read again.

A :class:`Providers` view decodes that raw data in its format (or detects
each child's), caching each child's decoded :class:`Provider` until its data
changes, and picks among the available ones with its strategy, leaving out
the addresses its ejector has ejected after errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING

from . import _ops, _paths
from ._balancing import Ejector, Strategy
from ._errors import NoNodeError, NoProvidersError, RegistryClosedError, ServerError
from ._formats import Provider, WireFormat, decode_provider
from ._sources import Source
from ._views import View
from ._watches import EventType, WatchedEvent, WatchKind

if TYPE_CHECKING:
    from ._hub import Hub

log = logging.getLogger("aiozkreg.providers")

_IN_FLIGHT = 256

ChildData = tuple[tuple[str, bytes], ...]


class ProvidersSource(Source[ChildData]):
    """A path's children and each child's data, all watched."""

    __slots__ = ("_data", "_dirty", "_listed", "_listings", "_read_at", "refused")

    kind = WatchKind.CHILD

    def __init__(self, hub: Hub, path: str, real_path: str) -> None:
        super().__init__(hub, path, real_path)
        self._data: dict[str, bytes] = {}
        self._dirty: set[str] = set()  # children whose data watch fired
        self._read_at = real_path  # the real path _data belongs to
        self._listed = False  # _data lists the children, and the child watch has not fired
        self._listings = 0  # child watch events so far (they may come before a read resumes)
        self.refused: dict[str, ServerError] = {}  # children the server would not let us read

    @property
    def key(self) -> tuple[object, str]:
        return (type(self), self.path)

    @property
    def child_watcher(self) -> Callable[[WatchedEvent], None]:
        return self._on_child_event

    def _on_child_event(self, event: WatchedEvent) -> None:
        self._dirty.add(_paths.split(event.path)[1])
        self.hub.mark_dirty(self, spread=event.type is EventType.EXPIRED)

    def _on_event(self, event: WatchedEvent) -> None:
        self._listed = False  # the children changed (or the watch is gone): list them again
        self._listings += 1
        super()._on_event(event)

    async def read(self) -> tuple[ChildData, int]:
        if self._read_at != self.real_path:  # followed a link elsewhere: start over
            self._forget_children()
            self._read_at = self.real_path
            self._listed = False
        dirty, self._dirty = self._dirty, set()
        if self._listed:  # only data watches fired: re-read those children alone
            try:
                await self._read_children([n for n in dirty if n in self._data])
            except BaseException:
                self._dirty |= dirty
                raise
            return tuple(sorted(self._data.items())), self.zxid
        try:
            before = self._listings
            names, stat = await _ops.get_children(self.hub.session, self.real_path, self.watcher)
            # current unless the watch fired meanwhile (its event may be in before we resume)
            self._listed = self._listings == before
            listed = set(names)
            for name in [n for n in self._data if n not in listed]:
                del self._data[name]
                self._discard_child(name)
            for name in [n for n in self.refused if n not in listed]:
                del self.refused[name]
            await self._read_children(
                [n for n in names if n not in self._data or n in dirty or n in self.refused]
            )
        except BaseException:
            self._dirty |= dirty  # read them next time
            self._listed = False  # and list again: a new child may not be read yet
            raise
        return tuple(sorted(self._data.items())), stat.pzxid

    async def _read_children(self, names: list[str]) -> None:
        if not names:
            return
        limit = asyncio.Semaphore(_IN_FLIGHT)
        session, base, watcher = self.hub.session, self.real_path, self.child_watcher

        async def read_one(name: str) -> bytes:
            async with limit:
                data, _ = await _ops.get(session, _paths.join(base, name), watcher)
                return data

        results = await asyncio.gather(*(read_one(n) for n in names), return_exceptions=True)
        failure: BaseException | None = None
        for name, result in zip(names, results, strict=True):
            if isinstance(result, bytes):
                self._data[name] = result
                self.refused.pop(name, None)
            elif isinstance(result, NoNodeError):
                self._data.pop(name, None)  # gone meanwhile; the child watch says so too
                self.refused.pop(name, None)
            elif isinstance(result, ServerError):  # NoAuth, say: left out, in ``rejected``
                if name not in self.refused:
                    log.warning("Can't read provider %s under %s: %s", name, base, result)
                self.refused[name] = result
                self._data.pop(name, None)
            else:
                self._dirty.add(name)
                failure = failure or result
        if failure is not None:
            raise failure

    def _discard_child(self, name: str) -> None:
        self.hub.session.watches.discard(
            WatchKind.DATA, _paths.join(self._read_at, name), self.child_watcher
        )

    def _forget_children(self) -> None:
        for name in self._data:
            self._discard_child(name)
        self._data.clear()
        self.refused.clear()

    def empty(self) -> ChildData:
        return ()

    def detach(self) -> None:
        super().detach()
        watches = self.hub.session.watches
        for name in self._data:
            child = _paths.join(self._read_at, name)
            if watches.discard(WatchKind.DATA, child, self.child_watcher):
                self.hub.remove_server_watch(WatchKind.DATA, child)


class Providers(View):
    """The live set of a service's available providers, and a balancer over it.

    Iterating, ``len`` and ``in`` see the available providers (enabled and
    ALIVE) in name order; ``async for`` gives a tuple of them per change.
    Ejection after errors only affects :meth:`pick`.
    """

    __slots__ = (
        "_all",
        "_available",
        "_cache",
        "_ejector",
        "_load",
        "_notified",
        "_rejected",
        "_seen",
        "format",
        "strategy",
    )

    dedupe = True  # the data can change without what it decodes to changing

    def __init__(
        self,
        hub: Hub,
        source: ProvidersSource,
        path: str,
        format: WireFormat | None,
        strategy: Strategy,
        ejector: Ejector,
    ) -> None:
        super().__init__(hub, source, path)
        self.format = format
        self.strategy = strategy
        self._ejector = ejector
        self._load: dict[str, int] = {}
        self._cache: dict[str, tuple[bytes, Provider | ValueError | None]] = {}
        self._rejected: dict[str, ValueError] = {}
        self._seen = -1
        self._all: tuple[Provider, ...] = ()
        self._available: tuple[Provider, ...] = ()
        self._notified = self._snapshot()

    # -- decoding -----------------------------------------------------------------------

    def _decoded(self) -> tuple[Provider, ...]:
        """The available providers, decoding only children whose data changed."""
        source = self._source
        if source is None or source.version == self._seen:
            return self._available
        self._seen = source.version
        old, cache = self._cache, {}
        found: list[Provider] = []
        rejected: dict[str, ValueError] = {}
        for name, data in source.snapshot or ():
            hit = old.get(name)
            provider = hit[1] if hit is not None and hit[0] == data else self._decode(name, data)
            cache[name] = (data, provider)
            if isinstance(provider, Provider):
                found.append(provider)
            elif provider is not None:
                rejected[name] = provider
        self._cache = cache
        self._rejected = rejected
        self._all = tuple(found)
        self._available = tuple(p for p in found if p.available)
        return self._available

    def _decode(self, name: str, data: bytes) -> Provider | ValueError | None:
        """The child's provider, None if it is none, or why its data is not one."""
        try:
            return decode_provider(name, data, self.format)
        except ValueError as exc:  # kept in ``rejected`` until its data changes
            log.warning("Skipping provider %s under %s: %s.", name, self.real_path, exc)
            return exc

    @property
    def rejected(self) -> dict[str, Exception]:
        """Children left out that claim to be providers, by name, with why: the server
        would not let this session read them (a :class:`ServerError` such as
        ``NoAuthError``), or their data is malformed for their format (a ``ValueError``
        saying what is wrong)."""
        self._decoded()
        refused: dict[str, ServerError] = getattr(self._source, "refused", {})
        return {**refused, **self._rejected}

    @property
    def all(self) -> tuple[Provider, ...]:
        """Every provider read, available or not (disabled, not ALIVE), in name order."""
        self._decoded()
        return self._all

    # -- the view -----------------------------------------------------------------------

    def __iter__(self) -> Iterator[Provider]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __contains__(self, item: object) -> bool:
        """A :class:`Provider`, or an address or node name, among the available ones."""
        if isinstance(item, Provider):
            return item in self._decoded()
        return any(item in (p.address, p.name) for p in self._decoded())

    def _snapshot(self) -> tuple[Provider, ...]:
        return self._decoded()

    def source_changed(self) -> None:
        if not self.deleted and self.error is None:
            current = self._snapshot()
            if current == self._notified:
                return  # the data changed, not what it decodes to
            self._notified = current
        super().source_changed()

    def __repr__(self) -> str:
        names = [p.address for p in self._decoded()]
        return f"<{self._prefix()}Providers {self.path} ({self.real_path}): {names}>"

    # -- balancing ----------------------------------------------------------------------

    @property
    def ejected(self) -> frozenset[str]:
        """The addresses ejected after errors, for now."""
        return self._ejector.ejected()

    def _candidates(self) -> tuple[Provider, ...]:
        available = self._decoded()
        ejected = self._ejector.ejected()
        if not ejected:
            return available
        return tuple(p for p in available if p.address not in ejected)

    async def pick(self, *, wait: bool = False, timeout: float = 10.0) -> Provider:
        """A provider chosen by the strategy; :class:`NoProvidersError` if none is available.

        ``wait=True``: wait up to ``timeout`` seconds for one to become
        available (registered, enabled, or back from ejection).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._closed:
                raise RegistryClosedError(f"The provider set of {self.path} is closed.")
            if self.error is not None:  # it stopped following: its state is stale
                raise self.error
            candidates = self._candidates()
            chosen = self.strategy.pick(candidates, self._load) if candidates else None
            if chosen is not None:
                return chosen
            remaining = deadline - loop.time()
            if not wait or self.deleted or remaining <= 0:
                raise self._nothing_to_pick(candidates, timeout if wait else None)
            back = self._ejector.next_return()
            if back is not None:  # wake when the first ejected one comes back
                remaining = min(remaining, max(back - self._ejector.clock(), 0.0) + 0.001)
            assert self._source is not None
            changed = self._source.changed()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await changed.wait()

    def _nothing_to_pick(
        self, candidates: tuple[Provider, ...], waited: float | None
    ) -> NoProvidersError:
        where = f"under {self.path}"
        if self.deleted:
            why = "the node was deleted"
        elif not self._all:
            why = "none is registered"
        else:
            off = len(self._all) - len(self._available)
            ejected = len(self._available) - len(candidates)
            reasons = [f"{len(self._all)} registered"]
            if off:
                reasons.append(f"{off} disabled or not ALIVE")
            if ejected:
                reasons.append(f"{ejected} ejected after errors")
            if candidates:
                reasons.append(f"the {self.strategy.__class__.__name__} strategy picks none")
            why = ", ".join(reasons)
        after = f" (waited {waited:g} s)" if waited is not None else ""
        return NoProvidersError(f"No provider is available {where}: {why}{after}.", path=self.path)

    @contextlib.asynccontextmanager
    async def lease(
        self, provider: Provider | None = None, *, wait: bool = False, timeout: float = 10.0
    ) -> AsyncIterator[Provider]:
        """Count one outstanding request on ``provider`` (picked if None) while the block runs.

        The counts steer the ``p2c`` strategy; see :meth:`outstanding`.
        """
        if provider is None:
            provider = await self.pick(wait=wait, timeout=timeout)
        key = provider.address
        self._load[key] = self._load.get(key, 0) + 1
        try:
            yield provider
        finally:
            left = self._load[key] - 1
            if left:
                self._load[key] = left
            else:
                del self._load[key]

    def outstanding(self, provider: Provider | str) -> int:
        """The leases now held on a provider (or address, or node name)."""
        return self._load.get(self._address_of(provider), 0)

    def note_error(self, provider: Provider | str) -> bool:
        """Count an error against a provider (or address, or node name); True if that ejected it."""
        address = self._address_of(provider)
        ejected = self._ejector.note_error(address)
        if ejected:
            policy = self._ejector.policy
            log.info(
                "Ejected %s from %s for %g s after %d errors.",
                address,
                self.path,
                policy.ejection,
                policy.threshold,
            )
        return ejected

    def _address_of(self, provider: Provider | str) -> str:
        if isinstance(provider, Provider):
            return provider.address
        for known in self.all:
            if known.name == provider:
                return known.address
        return provider
