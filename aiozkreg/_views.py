"""Live views: :class:`Children` and :class:`Properties`.

A view is a light handle on a shared source (see ``_sources``): it holds
the path the user asked for, the user's callbacks and nothing else. Reading
it gives the source's latest state; ``async for`` gives immutable snapshots,
latest-value first, coalescing what a slow consumer missed.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import _links, _ops
from ._encoding import decode_properties, encode_properties
from ._errors import BadPropertyLink, BadVersionError
from ._sources import DataSource, PropertiesState, Source, resolve_links

if TYPE_CHECKING:
    from ._sources import Hub

log = logging.getLogger("aiozkreg.views")

T = TypeVar("T")
Callback = Callable[..., Any]


class Opener(Generic[T]):
    """Both awaitable and an async context manager (closing what it opened)."""

    __slots__ = ("_close", "_open", "_value")

    def __init__(
        self, open_: Callable[[], Awaitable[T]], close: Callable[[T], Awaitable[Any]]
    ) -> None:
        self._open = open_
        self._close = close
        self._value: T | None = None

    def __await__(self) -> Generator[Any, None, T]:
        return self._open().__await__()

    async def __aenter__(self) -> T:
        self._value = await self._open()
        return self._value

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._value is not None:
            await self._close(self._value)


class _Callback:
    __slots__ = ("func", "pending", "running")

    def __init__(self, func: Callback) -> None:
        self.func = func
        self.running = False
        self.pending = False


def _accepts_no_arguments(func: Callback) -> bool:
    try:
        inspect.signature(func).bind()
    except TypeError:
        return False
    except ValueError:  # no signature (some builtins): try it
        return True
    return True


class View:
    """What :class:`Children` and :class:`Properties` share."""

    __slots__ = ("__weakref__", "_callbacks", "_closed", "_hub", "_real_path", "_source", "path")

    def __init__(
        self, hub: Hub, source: Source | None, path: str, real_path: str | None = None
    ) -> None:
        self._hub = hub
        self._source = source
        self.path = path
        self._real_path = real_path or path
        self._callbacks: list[_Callback] = []
        self._closed = False
        if source is not None:
            source.views.append(self)

    @property
    def real_path(self) -> str:
        """The path after following symlinks (changes when links or nodes move)."""
        return self._source.real_path if self._source is not None else self._real_path

    @property
    def deleted(self) -> bool:
        """The node went away and the path no longer resolves."""
        return self._source is not None and self._source.deleted

    @property
    def error(self) -> Exception | None:
        """Why the view stopped following its node (``NoAuthError``, say), or None.

        Once set, the view keeps its last state, its iterators raise this
        error and its callbacks have been called a last time.
        """
        return self._source.error if self._source is not None else None

    @property
    def closed(self) -> bool:
        return self._closed

    # -- callbacks --------------------------------------------------------------------

    def __call__(self, callback: Callback) -> View:
        """Call ``callback(view)`` now and on every change; returns the view.

        Sync or async. An exception from the first (sync) call propagates and
        the callback is not kept; a later one is logged and the callback
        dropped. On deletion callbacks are called with no arguments.
        """
        if self._source is None:
            raise TypeError("Can't set callbacks without watching.")
        entry = _Callback(callback)
        result = callback(self)
        self._callbacks.append(entry)
        if inspect.isawaitable(result):
            self._run_async(entry, result)
        return self

    def _notify(self) -> None:
        deleted = self.deleted
        for entry in list(self._callbacks):
            if entry.running:
                entry.pending = True
                continue
            self._invoke(entry, deleted)
        if deleted or self.error is not None:
            self._callbacks.clear()  # the view ended: that was the last call

    def _invoke(self, entry: _Callback, deleted: bool) -> None:
        try:
            if deleted:
                if not _accepts_no_arguments(entry.func):
                    return
                result = entry.func()
            else:
                result = entry.func(self)
        except Exception:
            self._drop(entry)
            return
        if inspect.isawaitable(result):
            self._run_async(entry, result)

    def _run_async(self, entry: _Callback, first: Awaitable[Any]) -> None:
        entry.running = True

        async def run() -> None:
            awaitable: Awaitable[Any] | None = first
            try:
                while awaitable is not None:
                    try:
                        await awaitable
                    except Exception:
                        self._drop(entry)
                        return
                    awaitable = None
                    if entry.pending and entry in self._callbacks:
                        entry.pending = False
                        try:
                            result = entry.func() if self.deleted else entry.func(self)
                        except Exception:
                            self._drop(entry)
                            return
                        awaitable = result if inspect.isawaitable(result) else None
            finally:
                entry.running = False

        self._hub.spawn(run())

    def _drop(self, entry: _Callback) -> None:
        log.exception("Callback %r on the view of %s failed; it is removed.", entry.func, self.path)
        if entry in self._callbacks:
            self._callbacks.remove(entry)

    # -- iteration -----------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Any]:
        """Snapshots: the current state first, then each later one (coalesced)."""
        return self._snapshots()

    async def _snapshots(self) -> AsyncIterator[Any]:
        source = self._source
        if source is None:
            yield self._snapshot()
            return
        seen = 0
        while not self._closed:
            if source.error is not None:
                raise source.error
            if source.deleted or source.closed:
                return
            if source.version != seen:
                seen = source.version
                yield self._snapshot()
                continue
            await source.changed().wait()

    def _snapshot(self) -> Any:
        raise NotImplementedError

    # -- closing -------------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop watching; iterators end. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._callbacks.clear()
        if self._source is not None:
            self._hub.release(self._source, self)
            self._source.wake()

    def _closed_by_registry(self) -> None:
        self._closed = True
        self._callbacks.clear()

    def _prefix(self) -> str:
        return "DELETED: " if self.deleted else ""


class Children(View):
    """The live set of a node's child names (iterable of ``str``, ``len``, ``in``)."""

    __slots__ = ()

    def _names(self) -> tuple[str, ...]:
        assert self._source is not None
        names: tuple[str, ...] = self._source.snapshot
        return names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def _snapshot(self) -> tuple[str, ...]:
        return self._names()

    def __repr__(self) -> str:
        return f"<{self._prefix()}Children {self.path} ({self.real_path}): {list(self._names())}>"


class PropertiesMapping(Mapping[str, Any]):
    """Mapping behaviour over a :class:`PropertiesState`, following property links.

    Iteration shows a link ``'x =>'`` as ``x``; ``m['x']`` gives the linked
    value and ``m['x =>']`` the raw link; a real key wins over a link.
    """

    __slots__ = ()

    def _state(self) -> PropertiesState:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        state = self._state()
        if key in state.raw:
            return state.raw[key]
        if key in state.errors:
            raise state.errors[key]
        return state.resolved[key]

    def __iter__(self) -> Iterator[str]:
        raw = self._state().raw
        for key in raw:
            if key.endswith(_links.PROPERTY_LINK):
                name = key[: -len(_links.PROPERTY_LINK)]
                if name not in raw:
                    yield name
            else:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, key: object) -> bool:
        raw = self._state().raw
        return key in raw or (isinstance(key, str) and key + _links.PROPERTY_LINK in raw)

    @property
    def raw(self) -> dict[str, Any]:
        """A copy of the stored data, links not followed."""
        return dict(self._state().raw)


class PropertiesSnapshot(PropertiesMapping):
    """An immutable snapshot of a node's properties."""

    __slots__ = ("_frozen",)

    def __init__(self, state: PropertiesState) -> None:
        self._frozen = state

    def _state(self) -> PropertiesState:
        return self._frozen

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PropertiesSnapshot):
            return self._frozen == other._frozen
        return Mapping.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PropertiesSnapshot({dict(self)!r})"


class Properties(View, PropertiesMapping):
    """A node's data as a live, read-only mapping; write with update() / set()."""

    __slots__ = ("_static",)

    def __init__(
        self,
        hub: Hub,
        source: DataSource | None,
        path: str,
        static: PropertiesState | None,
        real_path: str | None = None,
    ) -> None:
        super().__init__(hub, source, path, real_path)
        self._static = static

    def _state(self) -> PropertiesState:
        if self._source is not None:
            state: PropertiesState = self._source.snapshot
            return state
        assert self._static is not None
        return self._static

    def _snapshot(self) -> PropertiesSnapshot:
        return PropertiesSnapshot(self._state())

    def __repr__(self) -> str:
        return f"<{self._prefix()}Properties {self.path} ({self.real_path}): {self.raw!r}>"

    __eq__ = Mapping.__eq__
    __hash__ = None  # type: ignore[assignment]

    async def update(self, data: Mapping[str, Any] | None = None, /, **properties: Any) -> None:
        """Merge into the node's properties (keywords win), compare-and-set."""
        changes = {**(data or {}), **properties}
        await self._check_links(changes)
        session = self._hub.session
        while True:
            raw, stat = await _ops.get(session, self.real_path)
            merged = decode_properties(raw, self.real_path)
            merged.update(changes)
            encoded = encode_properties(merged)
            try:
                stat = await _ops.set_data(session, self.real_path, encoded, stat.version)
            except BadVersionError:
                continue  # someone wrote in between: merge again
            break
        await self._adopt(encoded, stat)

    async def set(self, data: Mapping[str, Any] | None = None, /, **properties: Any) -> None:
        """Replace the node's properties (keywords win over ``data``)."""
        new = {**(data or {}), **properties}
        await self._check_links(new)
        encoded = encode_properties(new)
        stat = await _ops.set_data(self._hub.session, self.real_path, encoded)
        await self._adopt(encoded, stat)

    async def _adopt(self, encoded: bytes, stat: Any) -> None:
        if isinstance(self._source, DataSource):
            await self._source.ingest(encoded, stat)
        else:
            raw = decode_properties(encoded, self.real_path)
            self._static = await resolve_links(self.path, raw, self._read_linked)

    async def _read_linked(self, path: str) -> Mapping[str, Any]:
        return await self._hub.read_properties(await self._hub.resolve(path))

    async def _check_links(self, new: Mapping[str, Any]) -> None:
        """Refuse (ValueError, nothing written) property links that cannot be followed."""
        for key, value in new.items():
            if not key.endswith(_links.PROPERTY_LINK):
                continue
            name = key[: -len(_links.PROPERTY_LINK)]
            try:
                await _links.resolve_property(self.path, {key: value}, name, self._read_linked)
            except BadPropertyLink as exc:
                raise ValueError("Bad property link", key, value, exc) from exc
