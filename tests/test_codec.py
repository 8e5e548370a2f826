"""The fast codec produces and reads exactly what aiozk's generic one does."""

from __future__ import annotations

import struct

from aiozk import protocol as _p
from aiozk.protocol.stat import Stat
from hypothesis import given
from hypothesis import strategies as st

from aiozkreg import _codec
from aiozkreg._types import ACL, ZnodeStat

paths = st.text(min_size=1, max_size=40).map(lambda s: "/" + s.replace("/", "_"))
datas = st.binary(max_size=200)
ints = st.integers(min_value=-(2**31), max_value=2**31 - 1)
longs = st.integers(min_value=-(2**63), max_value=2**63 - 1)
acls = st.lists(
    st.builds(
        ACL, st.integers(0, 31), st.sampled_from(["world", "digest", "ip"]), st.text(max_size=30)
    ),
    min_size=1,
    max_size=3,
)


@given(paths, st.booleans(), ints)
def test_path_and_watch_requests(path: str, watch: bool, xid: int) -> None:
    """getData, exists and getChildren requests encode byte for byte as aiozk's."""
    for cls in (_p.GetDataRequest, _p.ExistsRequest, _p.GetChildrenRequest, _p.GetChildren2Request):
        request = cls(path=path, watch=watch)
        assert _codec.encode(request, xid) == request.serialize(xid)


@given(paths, datas, ints, ints)
def test_write_requests(path: str, data: bytes, version: int, xid: int) -> None:
    """delete and setData requests encode byte for byte as aiozk's."""
    for request in (
        _p.DeleteRequest(path=path, version=version),
        _p.SetDataRequest(path=path, data=data, version=version),
    ):
        assert _codec.encode(request, xid) == request.serialize(xid)


@given(paths, datas, acls, st.integers(0, 3), ints)
def test_create_requests(path: str, data: bytes, acl: list[ACL], flags: int, xid: int) -> None:
    """create and create2 requests (with ACLs) encode byte for byte as aiozk's."""
    wire = [entry.to_wire() for entry in acl]
    for cls in (_p.CreateRequest, _p.Create2Request):
        request = cls(path=path, data=data, acl=wire, flags=flags)
        assert _codec.encode(request, xid) == request.serialize(xid)


def test_unknown_requests_fall_back_to_aiozk() -> None:
    """A request without a fast encoder is serialised by aiozk."""
    request = _p.SyncRequest(path="/a")
    assert _codec.encode(request, 7) == request.serialize(7)


stats = st.tuples(longs, longs, longs, longs, ints, ints, ints, longs, ints, ints, longs)


def _stat_bytes(values: tuple[int, ...]) -> bytes:
    return struct.pack("!qqqqiiiqiiq", *values)


@given(datas, stats)
def test_get_data_reply(data: bytes, values: tuple[int, ...]) -> None:
    """A getData reply decodes to the same data and stat as aiozk's."""
    raw = struct.pack("!i", len(data)) + data + _stat_bytes(values)
    fast = _codec.decoder(_p.GetDataResponse)(raw)
    slow = _p.GetDataResponse.deserialize(raw)
    assert fast.data == slow.data
    assert fast.stat == ZnodeStat.from_wire(slow.stat)


@given(st.lists(st.text(max_size=20), max_size=20), stats)
def test_children_and_stat_replies(children: list[str], values: tuple[int, ...]) -> None:
    """getChildren2, exists and setData replies decode as aiozk's."""
    body = struct.pack("!i", len(children)) + b"".join(
        struct.pack("!i", len(c.encode())) + c.encode() for c in children
    )
    raw = body + _stat_bytes(values)
    fast = _codec.decoder(_p.GetChildren2Response)(raw)
    slow = _p.GetChildren2Response.deserialize(raw)
    assert fast.children == list(slow.children)
    assert fast.stat == ZnodeStat.from_wire(slow.stat)
    for cls in (_p.ExistsResponse, _p.SetDataResponse):
        only = _stat_bytes(values)
        assert _codec.decoder(cls)(only).stat == ZnodeStat.from_wire(cls.deserialize(only).stat)


@given(paths, stats)
def test_create_replies(path: str, values: tuple[int, ...]) -> None:
    """create and create2 replies decode to the same path (and stat) as aiozk's."""
    raw = struct.pack("!i", len(path.encode())) + path.encode()
    assert _codec.decoder(_p.CreateResponse)(raw).path == _p.CreateResponse.deserialize(raw).path
    raw2 = raw + _stat_bytes(values)
    fast = _codec.decoder(_p.Create2Response)(raw2)
    slow = _p.Create2Response.deserialize(raw2)
    assert fast.path == slow.path and fast.stat == ZnodeStat.from_wire(slow.stat)


def test_null_data_reads_as_none() -> None:
    """A null buffer (length -1) decodes to None, as aiozk's does."""
    raw = struct.pack("!i", -1) + _stat_bytes((0,) * 11)
    assert _codec.decoder(_p.GetDataResponse)(raw).data is None


def test_unknown_replies_fall_back_to_aiozk() -> None:
    """A reply without a fast decoder is parsed by aiozk."""
    assert _codec.decoder(_p.GetACLResponse) == _p.GetACLResponse.deserialize
    assert isinstance(Stat, type)
