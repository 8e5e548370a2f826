"""Reading a subtree for the live tree: many nodes per request, many requests in flight.

With a persistent recursive watch nothing needs a watch of its own, so nodes
are read in multi-reads of :data:`BATCH`. In the per-node fallback each read
sets a data watch and each listing a child watch (``watchers``), so nodes are
read one request each, :data:`IN_FLIGHT` at a time.

A node this session may not read (NoAuth, say) is left out of the tree and
put in the reader's ``refused`` (path -> the server's error) for the source to
show its owner (``tree.unreadable``): the mirror is of what the session can see. The
root is different: a root that refuses fails the tree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import TypeGuard

from . import _ops, _paths, _txn
from ._errors import NoNodeError, ServerError
from ._session import Session
from ._subtree import Read
from ._watches import WatchedEvent

BATCH = 32  # nodes per multi-read
IN_FLIGHT = 256  # requests in flight in the per-node mode

Watcher = Callable[[WatchedEvent], None]
Watchers = tuple[Watcher, Watcher]  # (data, child): the per-node fallback's
Listed = dict[str, tuple[Read | None, list[str]]]
Refused = dict[str, ServerError]  # path -> why the server would not let us read it


class SubtreeReader:
    """Reads for one tree: its session and root, its per-node watchers (the fallback's,
    or None), and where refused nodes go (path -> the server's error)."""

    __slots__ = ("refused", "root", "session", "watchers")

    def __init__(self, session: Session, root: str, watchers: Watchers | None) -> None:
        self.session = session
        self.root = root
        self.watchers = watchers
        self.refused: Refused = {}

    async def subtrees(self, tops: Iterable[str]) -> dict[str, Read | None]:
        """Every node at and below ``tops``, level by level: (data, stat), or None if gone
        (or refused: then also in :attr:`refused`)."""
        found: dict[str, Read | None] = {}
        level = list(tops)
        while level:
            listed = await self.nodes(level, children=True)
            level = []
            for path, (read, names) in listed.items():
                found[path] = read
                if read is not None:
                    level += [_paths.join(path, name) for name in names]
        return found

    async def nodes(self, paths: Sequence[str], *, children: bool) -> Listed:
        """Each node's (data, stat) and (if ``children``) child names; a node the server
        will not let us read is None, and its error goes in :attr:`refused`."""
        if self.watchers is not None:
            return await self._watched(paths, children, self.watchers)
        if len(paths) == 1 and not children:  # one node changed: one plain read is quicker
            return await self._watched(paths, children, (None, None))
        out: Listed = {}
        chunks = [paths[i : i + BATCH] for i in range(0, len(paths), BATCH)]
        replies = await asyncio.gather(
            *(_txn.read_many(self.session, c, data=True, children=children) for c in chunks)
        )
        for chunk, reply in zip(chunks, replies, strict=True):
            for path, (node, names) in zip(chunk, reply, strict=True):
                if path == self.root and _refusal(node):
                    raise node  # the root refused: the tree fails
                out[path] = (self._usable(node, path), names if isinstance(names, list) else [])
        return out

    async def _watched(
        self,
        paths: Sequence[str],
        children: bool,
        watchers: tuple[Watcher | None, Watcher | None],
    ) -> Listed:
        """One request per read (watched, if ``watchers`` are given), many in flight."""
        data_watcher, child_watcher = watchers
        session, limit = self.session, asyncio.Semaphore(IN_FLIGHT)

        async def one(path: str) -> tuple[Read | None, list[str]]:
            async with limit:
                try:
                    read = await _ops.get(session, path, data_watcher)
                    if not children:
                        return read, []
                    return read, (await _ops.get_children(session, path, child_watcher))[0]
                except NoNodeError:
                    return None, []
                except ServerError as exc:  # NoAuth, say: leave it out (the root: fail)
                    if path == self.root:
                        raise
                    return self._usable(exc, path), []

        if len(paths) == 1:  # one node changed: no task to gather (a loop turn sooner)
            return {paths[0]: await one(paths[0])}
        results = await asyncio.gather(*(one(path) for path in paths))
        return dict(zip(paths, results, strict=True))

    def _usable(self, read: object, path: str) -> Read | None:
        """A read's answer as a read, or None (gone; or refused: noted in :attr:`refused`)."""
        if isinstance(read, tuple):
            return read
        if _refusal(read):
            self.refused[path] = read
        elif isinstance(read, BaseException) and not isinstance(read, NoNodeError):
            raise read
        return None


def _refusal(answer: object) -> TypeGuard[ServerError]:
    """An error the server answered about a node that exists (NoAuth, say)."""
    return isinstance(answer, ServerError) and not isinstance(answer, NoNodeError)
