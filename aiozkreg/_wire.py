"""The wire: every request aiozkreg sends, typed by what its reply holds. Pure: no I/O.

ZooKeeper speaks jute, as aiozk's protocol package defines it. Here each
request is a small object of a :class:`Request` subclass: ``Request[R]``
knows its opcode, ``encode(xid)`` gives the frame after the length prefix,
and ``decode(body)`` reads the reply body into the ``R`` the caller gets
(``GetData`` gives ``(bytes, ZnodeStat)``, ``Create`` the created path).
The requests a registry sends most (reads, creates, sets, deletes, checks,
multi) are packed and read with precompiled ``struct``s; the rare ones
(ACLs, SetWatches, auth, sync, watch removal) go through aiozk's protocol
classes. ``tests/test_wire.py`` checks every encoder and decoder against
aiozk's own serialisation.

The same objects serve every side of the seam: the socket link encodes
them, the in-memory server (``aiozkreg.testing``) reads their fields, the
harness's raw client and the benchmarks' minimal client frame their bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from aiozk import protocol as _p

from ._jute import AUTH_XID as AUTH_XID
from ._jute import (
    BOOL,
    HEADER,
    MULTI,
    aiozk_acl,
    aiozk_body,
    pack_acl,
    pack_buffer,
)
from ._jute import EPHEMERAL as EPHEMERAL
from ._jute import INT as INT
from ._jute import PING_XID as PING_XID
from ._jute import REPLY as REPLY
from ._jute import SEQUENTIAL as SEQUENTIAL
from ._jute import SET_WATCHES_XID as SET_WATCHES_XID
from ._jute import WATCH_XID as WATCH_XID
from ._jute import Connect as Connect
from ._jute import Handshake as Handshake
from ._jute import decode_event as decode_event
from ._jute import pack_string as pack_string
from ._jute import read_stat as read_stat
from ._jute import read_string as read_string
from ._types import ACL, ZnodeStat

R = TypeVar("R")


# -- requests ----------------------------------------------------------------------------


class Request(Generic[R]):
    """A request whose reply the caller gets as ``R``."""

    __slots__ = ()

    opcode: ClassVar[int]
    fixed_xid: ClassVar[int | None] = None
    """The xid this kind of request always goes with (auth, SetWatches, ping)."""
    parse_on_error: ClassVar[bool] = False
    """A reply with an error code still has a body to read (a multi's per-operation results)."""

    def encode(self, xid: int) -> bytes:
        return HEADER.pack(xid, self.opcode) + self.body()

    def body(self) -> bytes:
        return b""

    def read(self, raw: bytes, offset: int) -> tuple[R, int]:
        """The reply's value from ``raw[offset:]``, and the offset after it."""
        return None, offset  # type: ignore[return-value]  # R is None for body-less replies

    def decode(self, raw: bytes) -> R:
        return self.read(raw, 0)[0]


class _PathWatch(Request[R]):
    __slots__ = ()
    path: str
    watch: bool

    def body(self) -> bytes:
        return pack_string(self.path) + BOOL[self.watch]


@dataclass(slots=True)
class GetData(_PathWatch[tuple[bytes, ZnodeStat]]):
    path: str
    watch: bool = False
    opcode: ClassVar[int] = 4

    def read(self, raw: bytes, offset: int) -> tuple[tuple[bytes, ZnodeStat], int]:
        (size,) = INT.unpack_from(raw, offset)
        offset += 4
        data = raw[offset : offset + size] if size > 0 else b""  # -1: created with null data
        stat, offset = read_stat(raw, offset + max(size, 0))
        return (data, stat), offset


@dataclass(slots=True)
class Exists(_PathWatch[ZnodeStat]):
    path: str
    watch: bool = False
    opcode: ClassVar[int] = 3

    def read(self, raw: bytes, offset: int) -> tuple[ZnodeStat, int]:
        return read_stat(raw, offset)


def _read_names(raw: bytes, offset: int) -> tuple[list[str], int]:
    (count,) = INT.unpack_from(raw, offset)
    offset += 4
    names = []
    for _ in range(max(count, 0)):
        name, offset = read_string(raw, offset)
        names.append(name)
    return names, offset


@dataclass(slots=True)
class GetChildren(_PathWatch[list[str]]):
    path: str
    watch: bool = False
    opcode: ClassVar[int] = 8

    def read(self, raw: bytes, offset: int) -> tuple[list[str], int]:
        return _read_names(raw, offset)


@dataclass(slots=True)
class GetChildren2(_PathWatch[tuple[list[str], ZnodeStat]]):
    path: str
    watch: bool = False
    opcode: ClassVar[int] = 12

    def read(self, raw: bytes, offset: int) -> tuple[tuple[list[str], ZnodeStat], int]:
        names, offset = _read_names(raw, offset)
        stat, offset = read_stat(raw, offset)
        return (names, stat), offset


@dataclass(slots=True)
class Create(Request[str]):
    """Gives the created node's (server) path, with the sequence suffix if any."""

    path: str
    data: bytes
    acl: tuple[ACL, ...]
    flags: int = 0
    opcode: ClassVar[int] = 1

    def body(self) -> bytes:
        return b"".join(
            (
                pack_string(self.path),
                pack_buffer(self.data),
                pack_acl(self.acl),
                INT.pack(self.flags),
            )
        )

    def read(self, raw: bytes, offset: int) -> tuple[str, int]:
        return read_string(raw, offset)


@dataclass(slots=True)
class Delete(Request[None]):
    path: str
    version: int = -1
    opcode: ClassVar[int] = 2

    def body(self) -> bytes:
        return pack_string(self.path) + INT.pack(self.version)


@dataclass(slots=True)
class Check(Request[None]):
    """A version check (inside a multi only)."""

    path: str
    version: int
    opcode: ClassVar[int] = 13

    def body(self) -> bytes:
        return pack_string(self.path) + INT.pack(self.version)


@dataclass(slots=True)
class SetData(Request[ZnodeStat]):
    path: str
    data: bytes
    version: int = -1
    opcode: ClassVar[int] = 5

    def body(self) -> bytes:
        return pack_string(self.path) + pack_buffer(self.data) + INT.pack(self.version)

    def read(self, raw: bytes, offset: int) -> tuple[ZnodeStat, int]:
        return read_stat(raw, offset)


MultiOp = Create | Delete | SetData | Check
ReadOp = GetData | GetChildren
MultiResult = list[Any]
"""Per operation: its reply's value, or the error code (an int) that stopped it."""


class _Multi(Request[MultiResult]):
    __slots__ = ()
    ops: Sequence[Request[Any]]
    parse_on_error: ClassVar[bool] = True

    def body(self) -> bytes:
        parts = []
        for op in self.ops:
            parts += [MULTI.pack(op.opcode, False, -1), op.body()]
        parts.append(MULTI.pack(-1, True, -1))
        return b"".join(parts)

    def read(self, raw: bytes, offset: int) -> tuple[MultiResult, int]:
        results: MultiResult = []
        kind, done, _ = MULTI.unpack_from(raw, offset)
        offset += MULTI.size
        for op in self.ops:
            if done:
                break
            if kind == -1:
                (code,) = INT.unpack_from(raw, offset)
                offset += 4
                results.append(code)
            else:
                value, offset = op.read(raw, offset)
                results.append(value)
            kind, done, _ = MULTI.unpack_from(raw, offset)
            offset += MULTI.size
        return results, offset


@dataclass(slots=True)
class Multi(_Multi):
    """Writes applied all together or not at all."""

    ops: Sequence[MultiOp]
    opcode: ClassVar[int] = 14


@dataclass(slots=True)
class MultiRead(_Multi):
    """Several reads in one request (ZooKeeper 3.6+); each succeeds or fails on its own."""

    ops: Sequence[ReadOp]
    opcode: ClassVar[int] = 22


# -- the rare requests, through aiozk --------------------------------------------------


@dataclass(slots=True)
class GetACL(Request[tuple[list[ACL], ZnodeStat]]):
    path: str
    opcode: ClassVar[int] = 6

    def body(self) -> bytes:
        return aiozk_body(_p.GetACLRequest(path=self.path))

    def read(self, raw: bytes, offset: int) -> tuple[tuple[list[ACL], ZnodeStat], int]:
        reply, offset = _p.GetACLResponse.parse(raw, offset)
        acl = [ACL(a.perms, a.id.scheme, a.id.id) for a in reply.acl]
        return (acl, ZnodeStat.from_wire(reply.stat)), offset


@dataclass(slots=True)
class SetACL(Request[ZnodeStat]):
    path: str
    acl: tuple[ACL, ...]
    version: int = -1
    opcode: ClassVar[int] = 7

    def body(self) -> bytes:
        request = _p.SetACLRequest(path=self.path, acl=aiozk_acl(self.acl), version=self.version)
        return aiozk_body(request)

    def read(self, raw: bytes, offset: int) -> tuple[ZnodeStat, int]:
        return read_stat(raw, offset)


@dataclass(slots=True)
class Sync(Request[str]):
    path: str
    opcode: ClassVar[int] = 9

    def body(self) -> bytes:
        return aiozk_body(_p.SyncRequest(path=self.path))

    def read(self, raw: bytes, offset: int) -> tuple[str, int]:
        return read_string(raw, offset)


@dataclass(slots=True)
class Auth(Request[None]):
    scheme: str
    credential: bytes
    opcode: ClassVar[int] = 100
    fixed_xid: ClassVar[int | None] = AUTH_XID

    def body(self) -> bytes:
        request = _p.AuthRequest(type=0, scheme=self.scheme, auth=self.credential)
        return aiozk_body(request)


@dataclass(slots=True)
class Close(Request[None]):
    opcode: ClassVar[int] = -11


@dataclass(slots=True)
class Ping(Request[None]):
    opcode: ClassVar[int] = 11
    fixed_xid: ClassVar[int | None] = PING_XID


PING_FRAME = INT.pack(HEADER.size) + Ping().encode(PING_XID)
