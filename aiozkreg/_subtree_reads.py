"""Reading a subtree for the live tree: many nodes per request, many requests in flight.

With a persistent recursive watch nothing needs a watch of its own, so nodes
are read in multi-reads of :data:`BATCH`. In the per-node fallback each read
sets a data watch and each listing a child watch (``watchers``), so nodes are
read one request each, :data:`IN_FLIGHT` at a time.

A node this session may not read (NoAuth, say) is left out of the tree and
put in ``refused`` (path -> the server's error) for the source to show its
owner (``tree.unreadable``): the mirror is of what the session can see. The
root is different: a root that refuses fails the tree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence

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


async def read_subtrees(
    session: Session,
    tops: Iterable[str],
    *,
    root: str,
    watchers: Watchers | None,
    refused: Refused,
) -> dict[str, Read | None]:
    """Every node at and below ``tops``, level by level: (data, stat), or None if gone
    (or refused: then also in ``refused``)."""
    found: dict[str, Read | None] = {}
    level = list(tops)
    while level:
        listed = await read_nodes(
            session, level, children=True, root=root, watchers=watchers, refused=refused
        )
        level = []
        for path, (read, names) in listed.items():
            found[path] = read
            if read is not None:
                level += [_paths.join(path, name) for name in names]
    return found


async def read_nodes(
    session: Session,
    paths: Sequence[str],
    *,
    children: bool,
    root: str,
    watchers: Watchers | None,
    refused: Refused,
) -> Listed:
    """Each node's (data, stat) and (if ``children``) child names; a node the server
    will not let us read is None, and its error goes in ``refused``."""
    if watchers is not None:
        return await _read_watched(session, paths, children, root, watchers, refused)
    if len(paths) == 1 and not children:  # one node changed: one plain read is quicker
        return await _read_watched(session, paths, children, root, None, refused)
    out: Listed = {}
    chunks = [paths[i : i + BATCH] for i in range(0, len(paths), BATCH)]
    replies = await asyncio.gather(
        *(_txn.read_many(session, chunk, data=True, children=children) for chunk in chunks)
    )
    for chunk, reply in zip(chunks, replies, strict=True):
        for path, (node, names) in zip(chunk, reply, strict=True):
            if path == root and isinstance(node, ServerError) and not isinstance(node, NoNodeError):
                raise node  # the root refused: the tree fails
            out[path] = (_usable(node, path, refused), names if isinstance(names, list) else [])
    return out


async def _read_watched(
    session: Session,
    paths: Sequence[str],
    children: bool,
    root: str,
    watchers: Watchers | None,
    refused: Refused,
) -> Listed:
    """One request per read (watched, if ``watchers``), many in flight."""
    data_watcher, child_watcher = watchers if watchers is not None else (None, None)
    limit = asyncio.Semaphore(IN_FLIGHT)

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
                if path == root:
                    raise
                return _usable(exc, path, refused), []

    results = await asyncio.gather(*(one(path) for path in paths))
    return dict(zip(paths, results, strict=True))


def _usable(read: object, path: str, refused: Refused) -> Read | None:
    """A read's answer as a read, or None (gone; or refused: noted in ``refused``)."""
    if isinstance(read, tuple):
        return read
    if isinstance(read, ServerError) and not isinstance(read, NoNodeError):
        refused[path] = read
    elif isinstance(read, BaseException) and not isinstance(read, NoNodeError):
        raise read
    return None
