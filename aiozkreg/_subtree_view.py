"""The live subtree users hold: ``tree = await zk.tree(path)``.

A :class:`Tree` is a view (see :mod:`._views`) on a shared
:class:`~._subtree_source.TreeSource`: reading it gives the latest
snapshot's nodes; ``async for snapshot in tree`` gives immutable
:class:`~._subtree.TreeSnapshot` values, latest-value first;
``tree.changes()`` gives every :class:`~._subtree.TreeChange` in order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING

from ._formats import WireFormat
from ._provider import Provider
from ._subtree import TreeChange, TreeNode, TreeSnapshot
from ._views import View

if TYPE_CHECKING:
    from ._hub import Hub
    from ._subtree_source import TreeSource

DEFAULT_BUFFER = 10_000


class _Consumer:
    """One ``changes()`` iterator's queue of changes not yet read."""

    __slots__ = ("buffer", "queue")

    def __init__(self, buffer: int) -> None:
        self.buffer = buffer
        self.queue: deque[TreeChange] = deque()


class Tree(View, Mapping[str, TreeNode]):
    """A live, read-only mirror of a subtree: ``tree[path]`` is its :class:`TreeNode`.

    Iterating gives the paths in preorder, children sorted; ``len`` the
    number of nodes. It ends, as every view does, when its root is deleted
    (``tree.deleted``) or the server refuses to let it follow
    (``tree.error``).
    """

    __slots__ = ("_consumers",)

    def __init__(self, hub: Hub, source: TreeSource, path: str) -> None:
        super().__init__(hub, source, path)
        self._consumers: list[_Consumer] = []

    def _tree(self) -> TreeSnapshot:
        assert self._source is not None
        snapshot: TreeSnapshot = self._source.snapshot
        return snapshot

    def __getitem__(self, path: str) -> TreeNode:
        return self._tree()[path]

    def __contains__(self, path: object) -> bool:
        return path in self._tree()

    def __len__(self) -> int:
        return len(self._tree())

    def __iter__(self) -> Iterator[str]:
        return iter(self._tree())

    def providers(
        self, path: str, *, format: str | WireFormat | None = None, available: bool = True
    ) -> tuple[Provider, ...]:
        """The providers under ``path`` now: see :meth:`TreeSnapshot.providers`."""
        return self._tree().providers(path, format=format, available=available)

    @property
    def unreadable(self) -> frozenset[str]:
        """Paths below the root the server would not let this session read (``NoAuth``,
        say): they are left out of the tree, with everything below them."""
        refused: dict[str, object] = getattr(self._source, "unreadable", {})
        return frozenset(refused)

    __eq__ = Mapping.__eq__
    __hash__ = None  # type: ignore[assignment]

    def _snapshot(self) -> TreeSnapshot:
        return self._tree()

    def __repr__(self) -> str:
        return f"<{self._prefix()}Tree {self.path} ({self.real_path}): {len(self)} nodes>"

    # -- changes ---------------------------------------------------------------------

    def changes(self, *, buffer: int = DEFAULT_BUFFER) -> AsyncIterator[TreeChange]:
        """Every change from now on, in order. A consumer more than ``buffer`` changes
        behind gets one ``"resync"`` change instead of them: read the snapshot again.
        Ends when the tree does (raising its ``error`` if it failed)."""
        if buffer < 1:
            raise ValueError(f"buffer must be at least 1, not {buffer}.")
        consumer = _Consumer(buffer)
        self._consumers.append(consumer)  # subscribed now, not at the first read
        return self._changes(consumer)

    async def _changes(self, consumer: _Consumer) -> AsyncIterator[TreeChange]:
        source = self._source
        assert source is not None
        try:
            while True:
                while consumer.queue:
                    yield consumer.queue.popleft()
                if source.error is not None:
                    raise source.error
                if self._closed or source.deleted or source.closed:
                    return
                await source.changed().wait()
        finally:
            if consumer in self._consumers:
                self._consumers.remove(consumer)

    def source_changed(self) -> None:
        source = self._source
        changes: list[TreeChange] = getattr(source, "changes", [])
        if changes and not self.deleted and self.error is None:
            for consumer in self._consumers:
                if len(consumer.queue) + len(changes) > consumer.buffer:
                    consumer.queue.clear()
                    consumer.queue.append(TreeChange("resync", self.real_path))
                elif not (consumer.queue and consumer.queue[-1].kind == "resync"):
                    consumer.queue.extend(changes)
        super().source_changed()
