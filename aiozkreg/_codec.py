"""Fast encoders and decoders for the hot requests; pure, no I/O.

aiozk's protocol classes describe every request and reply generically, and
building bytes through them costs several microseconds a request. For the
requests a registry sends most (reads, creates, sets, deletes) this module
packs and unpacks the same jute wire format with precompiled ``struct``s.
The request *objects* stay aiozk's (the in-memory server reads them); only
their bytes are made here. ``tests/test_codec.py`` checks every function
against aiozk's own serialisation.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from aiozk import protocol as _p

from ._types import ZnodeStat

_XID_OP = struct.Struct("!ii")
_INT = struct.Struct("!i")
_STAT = struct.Struct("!qqqqiiiqiiq")


def _string(value: str) -> bytes:
    raw = value.encode("utf-8")
    return _INT.pack(len(raw)) + raw


def _buffer(value: bytes | None) -> bytes:
    if value is None:
        return _INT.pack(-1)
    return _INT.pack(len(value)) + value


def _path_watch(request: Any, xid: int) -> bytes:
    return (
        _XID_OP.pack(xid, request.opcode)
        + _string(request.path)
        + (b"\x01" if request.watch else b"\x00")
    )


def _delete(request: Any, xid: int) -> bytes:
    return _XID_OP.pack(xid, request.opcode) + _string(request.path) + _INT.pack(request.version)


def _set_data(request: Any, xid: int) -> bytes:
    return (
        _XID_OP.pack(xid, request.opcode)
        + _string(request.path)
        + _buffer(request.data)
        + _INT.pack(request.version)
    )


def _create(request: Any, xid: int) -> bytes:
    parts = [
        _XID_OP.pack(xid, request.opcode),
        _string(request.path),
        _buffer(request.data),
        _INT.pack(len(request.acl)),
    ]
    for entry in request.acl:
        parts.append(_INT.pack(entry.perms))
        parts.append(_string(entry.id.scheme))
        parts.append(_string(entry.id.id))
    parts.append(_INT.pack(request.flags))
    return b"".join(parts)


ENCODERS: dict[type[Any], Callable[[Any, int], bytes]] = {
    _p.GetDataRequest: _path_watch,
    _p.ExistsRequest: _path_watch,
    _p.GetChildrenRequest: _path_watch,
    _p.GetChildren2Request: _path_watch,
    _p.DeleteRequest: _delete,
    _p.SetDataRequest: _set_data,
    _p.CreateRequest: _create,
    _p.Create2Request: _create,
}


def encode(request: Any, xid: int) -> bytes:
    """The request's bytes (without the length prefix), fast when we know its shape."""
    encoder = ENCODERS.get(type(request))
    if encoder is None:
        data: bytes = request.serialize(xid)
        return data
    return encoder(request, xid)


# -- replies ---------------------------------------------------------------------------


class Reply:
    """A decoded reply: the attributes ``_ops`` reads, and nothing else."""

    __slots__ = ("children", "data", "path", "stat")

    def __init__(
        self,
        *,
        data: bytes | None = None,
        stat: ZnodeStat | None = None,
        children: list[str] | None = None,
        path: str | None = None,
    ) -> None:
        self.data = data
        self.stat = stat
        self.children = children
        self.path = path


def _read_stat(raw: bytes, offset: int) -> ZnodeStat:
    return ZnodeStat(*_STAT.unpack_from(raw, offset))


def _read_string(raw: bytes, offset: int) -> tuple[str, int]:
    (size,) = _INT.unpack_from(raw, offset)
    offset += 4
    if size < 0:
        return "", offset
    return raw[offset : offset + size].decode("utf-8"), offset + size


def _get_data(raw: bytes) -> Reply:
    (size,) = _INT.unpack_from(raw, 0)
    data = raw[4 : 4 + size] if size >= 0 else None  # -1: a node created with null data
    return Reply(data=data, stat=_read_stat(raw, 4 + max(size, 0)))


def _stat_only(raw: bytes) -> Reply:
    return Reply(stat=_read_stat(raw, 0))


def _children2(raw: bytes) -> Reply:
    (count,) = _INT.unpack_from(raw, 0)
    offset = 4
    children = []
    for _ in range(max(count, 0)):
        name, offset = _read_string(raw, offset)
        children.append(name)
    return Reply(children=children, stat=_read_stat(raw, offset))


def _created(raw: bytes) -> Reply:
    path, _ = _read_string(raw, 0)
    return Reply(path=path)


def _created2(raw: bytes) -> Reply:
    path, offset = _read_string(raw, 0)
    return Reply(path=path, stat=_read_stat(raw, offset))


DECODERS: dict[type[Any], Callable[[bytes], Any]] = {
    _p.GetDataResponse: _get_data,
    _p.ExistsResponse: _stat_only,
    _p.SetDataResponse: _stat_only,
    _p.GetChildren2Response: _children2,
    _p.CreateResponse: _created,
    _p.Create2Response: _created2,
}


def decoder(response_cls: type[Any]) -> Callable[[bytes], Any]:
    """How to read a reply body of ``response_cls``: fast when we know its shape."""
    fast = DECODERS.get(response_cls)
    if fast is not None:
        return fast
    parse: Callable[[bytes], Any] = response_cls.deserialize
    return parse
