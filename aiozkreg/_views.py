"""Live views: what :class:`Children`, :class:`~._properties.Properties` and provider sets share.

A view is a light handle on a shared source (see :mod:`._sources`): it holds
the path the user asked for, the user's callbacks and nothing else. Reading
it gives the source's latest state; ``async for`` gives immutable snapshots,
latest-value first, coalescing what a slow consumer missed. A view is the
source's :class:`~._sources.Subscriber`: told when the state changes, and
when the registry closes.

User callbacks run outside the protocol reader: sync ones when the source
publishes, async ones as tasks of the registry. A callback that raises is
the user's failure, not the registry's: it is logged and dropped.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

if TYPE_CHECKING:
    from ._hub import Hub
    from ._sources import Source

log = logging.getLogger("aiozkreg.views")

T = TypeVar("T")
Callback = Callable[..., Any]


class Opener(Generic[T]):
    """Both awaitable and an async context manager (closing what it opened).

    ``register()``, ``children()``, ``properties()`` and ``providers()``
    return one: ``x = await zk.children(p)``, or ``async with zk.children(p) as x``.
    """

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
    """What every live view shares: callbacks, snapshots, closing."""

    __slots__ = ("__weakref__", "_callbacks", "_closed", "_hub", "_real_path", "_source", "path")

    dedupe: ClassVar[bool] = False
    """Skip a snapshot equal to the last one yielded (a provider set's data may change
    without what it decodes to changing)."""

    def __init__(
        self, hub: Hub, source: Source[Any] | None, path: str, real_path: str | None = None
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

    # -- the source's subscriber ---------------------------------------------------------

    def source_changed(self) -> None:
        """The source published (or ended): call the callbacks."""
        deleted = self.deleted
        for entry in list(self._callbacks):
            if entry.running:
                entry.pending = True
                continue
            self._invoke(entry, deleted)
        if deleted or self.error is not None:
            self._callbacks.clear()  # the view ended: that was the last call

    def source_closed(self) -> None:
        """The registry closed."""
        self._closed = True
        self._callbacks.clear()

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

    def _invoke(self, entry: _Callback, deleted: bool) -> None:
        try:
            if deleted:
                if not _accepts_no_arguments(entry.func):
                    return
                result = entry.func()
            else:
                result = entry.func(self)
        except Exception:  # the user's callback failed: logged, and dropped
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
                        awaitable = None
                        if entry.pending and entry in self._callbacks:
                            entry.pending = False
                            result = entry.func() if self.deleted else entry.func(self)
                            awaitable = result if inspect.isawaitable(result) else None
                    except Exception:  # the user's callback failed: logged, and dropped
                        self._drop(entry)
                        return
            finally:
                entry.running = False

        self._hub.spawn(run(), name=f"aiozkreg callback on {self.path}")

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
        seen, last = 0, None
        while not self._closed:
            if source.error is not None:
                raise source.error
            if source.deleted or source.closed:
                return
            if source.version != seen:
                seen = source.version
                snapshot = self._snapshot()
                if not self.dedupe or snapshot != last:
                    last = snapshot
                    yield snapshot
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


async def close_view(view: View) -> None:
    """What an :class:`Opener` of a view does on exit."""
    await view.close()
