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

import functools
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from aiozk import protocol as _p

from ._types import ACL, ZnodeStat

R = TypeVar("R")

INT = struct.Struct("!i")
HEADER = struct.Struct("!ii")  # xid, opcode
REPLY = struct.Struct("!iqi")  # xid, zxid, error code
STAT = struct.Struct("!qqqqiiiqiiq")
_MULTI = struct.Struct("!i?i")  # type, done, error
_CONNECT = struct.Struct("!iiqi")  # version, timeout, session id, password length
_BOOL = (b"\x00", b"\x01")

WATCH_XID = -1
PING_XID = -2
AUTH_XID = -4
SET_WATCHES_XID = -8

EPHEMERAL = 1
SEQUENTIAL = 2


# -- primitives --------------------------------------------------------------------------


def pack_string(value: str) -> bytes:
    raw = value.encode("utf-8")
    return INT.pack(len(raw)) + raw


def pack_buffer(value: bytes | None) -> bytes:
    return INT.pack(-1) if value is None else INT.pack(len(value)) + value


@functools.lru_cache(maxsize=64)
def pack_acl(acl: tuple[ACL, ...]) -> bytes:
    """An ACL vector (made once per distinct ACL: requests only read it)."""
    parts = [INT.pack(len(acl))]
    for entry in acl:
        parts += [INT.pack(entry.perms), pack_string(entry.scheme), pack_string(entry.id)]
    return b"".join(parts)


def read_string(raw: bytes, offset: int) -> tuple[str, int]:
    (size,) = INT.unpack_from(raw, offset)
    offset += 4
    if size < 0:
        return "", offset
    return raw[offset : offset + size].decode("utf-8"), offset + size


def read_stat(raw: bytes, offset: int) -> tuple[ZnodeStat, int]:
    return ZnodeStat(*STAT.unpack_from(raw, offset)), offset + STAT.size


def pack_stat(stat: ZnodeStat) -> bytes:
    return STAT.pack(*(getattr(stat, name) for name in ZnodeStat.__slots__))


def _aiozk_body(request: Any) -> bytes:
    """An aiozk request's fields, without the xid and opcode."""
    encoded: bytes = request.serialize(0)
    return encoded[HEADER.size :]


def _aiozk_acl(acl: Sequence[ACL]) -> list[Any]:
    return [_p.acl.ACL(perms=a.perms, id=_p.acl.ID(scheme=a.scheme, id=a.id)) for a in acl]


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
        return pack_string(self.path) + _BOOL[self.watch]


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
            parts += [_MULTI.pack(op.opcode, False, -1), op.body()]
        parts.append(_MULTI.pack(-1, True, -1))
        return b"".join(parts)

    def read(self, raw: bytes, offset: int) -> tuple[MultiResult, int]:
        results: MultiResult = []
        kind, done, _ = _MULTI.unpack_from(raw, offset)
        offset += _MULTI.size
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
            kind, done, _ = _MULTI.unpack_from(raw, offset)
            offset += _MULTI.size
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
        return _aiozk_body(_p.GetACLRequest(path=self.path))

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
        request = _p.SetACLRequest(path=self.path, acl=_aiozk_acl(self.acl), version=self.version)
        return _aiozk_body(request)

    def read(self, raw: bytes, offset: int) -> tuple[ZnodeStat, int]:
        return read_stat(raw, offset)


@dataclass(slots=True)
class Sync(Request[str]):
    path: str
    opcode: ClassVar[int] = 9

    def body(self) -> bytes:
        return _aiozk_body(_p.SyncRequest(path=self.path))

    def read(self, raw: bytes, offset: int) -> tuple[str, int]:
        return read_string(raw, offset)


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
        return _aiozk_body(request)


@dataclass(slots=True)
class RemoveWatches(Request[None]):
    """Drop our watches of ``kind`` (1 child, 2 data, 3 any) on ``path``."""

    path: str
    kind: int
    opcode: ClassVar[int] = 18

    def body(self) -> bytes:
        return _aiozk_body(_p.RemoveWatchesRequest(path=self.path, type=self.kind))


@dataclass(slots=True)
class CheckWatches(Request[None]):
    path: str
    kind: int
    opcode: ClassVar[int] = 17

    def body(self) -> bytes:
        return _aiozk_body(_p.CheckWatchesRequest(path=self.path, type=self.kind))


@dataclass(slots=True)
class Auth(Request[None]):
    scheme: str
    credential: bytes
    opcode: ClassVar[int] = 100
    fixed_xid: ClassVar[int | None] = AUTH_XID

    def body(self) -> bytes:
        request = _p.AuthRequest(type=0, scheme=self.scheme, auth=self.credential)
        return _aiozk_body(request)


@dataclass(slots=True)
class Close(Request[None]):
    opcode: ClassVar[int] = -11


@dataclass(slots=True)
class Ping(Request[None]):
    opcode: ClassVar[int] = 11
    fixed_xid: ClassVar[int | None] = PING_XID


PING_FRAME = INT.pack(HEADER.size) + Ping().encode(PING_XID)


# -- the handshake and watch events --------------------------------------------------


@dataclass(slots=True)
class Connect:
    """The handshake request (no xid or opcode: the first frame of a link)."""

    last_zxid: int
    timeout_ms: int
    session_id: int
    password: bytes
    read_only: bool

    def encode(self) -> bytes:
        return b"".join(
            (
                struct.pack("!iqiq", 0, self.last_zxid, self.timeout_ms, self.session_id),
                pack_buffer(self.password),
                _BOOL[self.read_only],
            )
        )


@dataclass(frozen=True, slots=True)
class Handshake:
    """The server's answer to a connect request."""

    session_id: int
    password: bytes
    timeout_ms: int
    read_only: bool

    @property
    def expired(self) -> bool:
        """The server refused to attach the session: it has expired."""
        return self.timeout_ms <= 0 or self.session_id == 0

    @classmethod
    def decode(cls, frame: bytes) -> Handshake:
        _version, timeout, session_id, size = _CONNECT.unpack_from(frame, 0)
        offset = _CONNECT.size
        password = frame[offset : offset + max(size, 0)]
        offset += max(size, 0)
        read_only = len(frame) > offset and frame[offset] != 0
        return cls(session_id, bytes(password), timeout, read_only)

    def encode(self) -> bytes:
        """The server's side (for the in-memory server and the harness)."""
        head = _CONNECT.pack(0, self.timeout_ms, self.session_id, len(self.password))
        return head + self.password + _BOOL[self.read_only]


def decode_event(body: bytes) -> tuple[int, int, str]:
    """A watch notification's (type, state, path), from the body after the reply header."""
    event_type, state = struct.unpack_from("!ii", body, 0)
    path, _ = read_string(body, 8)
    return event_type, state, path
