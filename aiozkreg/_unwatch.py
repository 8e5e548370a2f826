"""Taking a watch off the server when no watcher needs it, without taking what others need.

A removal is decided when its last watcher goes, but sent later (by the
hub, in the background), so it looks again at send time:

- a data, exist or child watch is kept if a watcher of its table (data and
  exist watches share the server's data table) has come back meanwhile, or
  if its path is covered by a recursive watch (removing it would take the
  recursive one's registration with it);
- a recursive watch is kept if another tree took it meanwhile. Else the
  path stops being covered, the watch is removed (``removeWatches`` of any
  kind, how ZooKeeper 3.8 removes one), and the data, exist and child
  watchers left on the path, which the recursive watch was serving, are set
  again with SetWatches from the zxid the removal was answered at: what
  changed since fires them, as if their own watch had been there all along
  (see :mod:`._watches`).
"""

from __future__ import annotations

from . import _ops
from ._session import Session
from ._watches import WatchKind
from ._wire_watches import (
    SetWatches,
)

_SAME_TABLE = {
    WatchKind.DATA: (WatchKind.DATA, WatchKind.EXIST),
    WatchKind.EXIST: (WatchKind.DATA, WatchKind.EXIST),
    WatchKind.CHILD: (WatchKind.CHILD,),
}


async def remove_server_watch(session: Session, kind: WatchKind, path: str) -> None:
    """Remove our ``kind`` watch on ``path`` from the server, if nothing needs it now."""
    watches = session.watches
    if kind is WatchKind.RECURSIVE:
        if watches.watching(path, (WatchKind.RECURSIVE,)):
            return  # another tree of the path took it
        watches.uncover(path, served=True)
        try:
            await _ops.remove_watches(session, kind, path)
        finally:
            watches.unserve(path)
        await _rearm(session, path)
        return
    if watches.covers(path) or watches.watching(path, _SAME_TABLE[kind]):
        return
    await _ops.remove_watches(session, kind, path)


async def _rearm(session: Session, path: str) -> None:
    """Set again the watches left on ``path`` (see the module docstring)."""
    watches = session.watches
    if watches.covers(path):
        return  # covered again meanwhile: the new recursive watch serves them
    left = [
        k
        for k in (WatchKind.DATA, WatchKind.EXIST, WatchKind.CHILD)
        if watches.watching(path, (k,))
    ]
    if not left:
        return
    server = session.server_path(path)

    def paths(kind: WatchKind) -> tuple[str, ...]:
        return (server,) if kind in left else ()

    request = SetWatches(
        session.seen_zxid(),
        paths(WatchKind.DATA),
        paths(WatchKind.EXIST),
        paths(WatchKind.CHILD),
    )
    await session.call(request, path=path)
