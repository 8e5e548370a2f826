"""Jute, ZooKeeper's wire encoding: the primitives, the frames around requests, the
handshake and watch events. Pure: no I/O. The requests themselves are :mod:`._wire`."""

from __future__ import annotations

import functools
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiozk import protocol as _p

from ._types import ACL, ZnodeStat

INT = struct.Struct("!i")
LONG = struct.Struct("!q")
HEADER = struct.Struct("!ii")  # xid, opcode
REPLY = struct.Struct("!iqi")  # xid, zxid, error code
STAT = struct.Struct("!qqqqiiiqiiq")
MULTI = struct.Struct("!i?i")  # type, done, error
_CONNECT = struct.Struct("!iiqi")  # version, timeout, session id, password length
BOOL = (b"\x00", b"\x01")

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


def pack_strings(values: Sequence[str]) -> bytes:
    """A vector of strings."""
    return INT.pack(len(values)) + b"".join(pack_string(value) for value in values)


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


def aiozk_body(request: Any) -> bytes:
    """An aiozk request's fields, without the xid and opcode."""
    encoded: bytes = request.serialize(0)
    return encoded[HEADER.size :]


def aiozk_acl(acl: Sequence[ACL]) -> list[Any]:
    return [_p.acl.ACL(perms=a.perms, id=_p.acl.ID(scheme=a.scheme, id=a.id)) for a in acl]


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
                BOOL[self.read_only],
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
        return head + self.password + BOOL[self.read_only]


def decode_event(body: bytes) -> tuple[int, int, str]:
    """A watch notification's (type, state, path), from the body after the reply header."""
    event_type, state = struct.unpack_from("!ii", body, 0)
    path, _ = read_string(body, 8)
    return event_type, state, path
