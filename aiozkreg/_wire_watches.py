"""The wire's watch requests: re-setting, adding, removing and checking watches. Pure.

See :mod:`._wire` for what a request is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from aiozk import protocol as _p

from ._jute import INT, LONG, SET_WATCHES_XID, aiozk_body, pack_string, pack_strings
from ._wire import Request


@dataclass(slots=True)
class SetWatches(Request[None]):
    """Re-set watches after a reconnect; what changed since ``relative_zxid`` fires at once."""

    relative_zxid: int
    data: Sequence[str] = ()
    exist: Sequence[str] = ()
    child: Sequence[str] = ()
    opcode: ClassVar[int] = 101
    fixed_xid: ClassVar[int | None] = SET_WATCHES_XID

    def body(self) -> bytes:
        request = _p.SetWatchesRequest(
            relative_zxid=self.relative_zxid,
            data_watches=list(self.data),
            exist_watches=list(self.exist),
            child_watches=list(self.child),
        )
        return aiozk_body(request)


@dataclass(slots=True)
class SetWatches2(Request[None]):
    """SetWatches with persistent watches too (ZooKeeper 3.6+). Persistent watches are
    re-set as they are: the server fires nothing for what changed meanwhile."""

    relative_zxid: int
    data: Sequence[str] = ()
    exist: Sequence[str] = ()
    child: Sequence[str] = ()
    persistent: Sequence[str] = ()
    persistent_recursive: Sequence[str] = ()
    opcode: ClassVar[int] = 105
    fixed_xid: ClassVar[int | None] = SET_WATCHES_XID

    def body(self) -> bytes:
        lists = (self.data, self.exist, self.child, self.persistent, self.persistent_recursive)
        return LONG.pack(self.relative_zxid) + b"".join(pack_strings(paths) for paths in lists)


PERSISTENT = 0
PERSISTENT_RECURSIVE = 1


@dataclass(slots=True)
class AddWatch(Request[None]):
    """A persistent watch (ZooKeeper 3.6+): ``mode`` PERSISTENT (the node and its
    children list) or PERSISTENT_RECURSIVE (every node at and below ``path``)."""

    path: str
    mode: int = PERSISTENT_RECURSIVE
    opcode: ClassVar[int] = 106

    def body(self) -> bytes:
        return pack_string(self.path) + INT.pack(self.mode)


@dataclass(slots=True)
class RemoveWatches(Request[None]):
    """Drop our watches of ``kind`` (1 child, 2 data, 3 any, 4 persistent, 5 persistent
    recursive) on ``path``."""

    path: str
    kind: int
    opcode: ClassVar[int] = 18

    def body(self) -> bytes:
        return aiozk_body(_p.RemoveWatchesRequest(path=self.path, type=self.kind))


@dataclass(slots=True)
class CheckWatches(Request[None]):
    path: str
    kind: int
    opcode: ClassVar[int] = 17

    def body(self) -> bytes:
        return aiozk_body(_p.CheckWatchesRequest(path=self.path, type=self.kind))
