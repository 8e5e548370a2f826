"""The wire codec writes and reads exactly what aiozk's protocol package does."""

from __future__ import annotations

import struct
from typing import Any

from aiozk import protocol as _p
from hypothesis import given
from hypothesis import strategies as st

from aiozkreg import _jute
from aiozkreg import _wire as w
from aiozkreg import _wire_watches as ww
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
).map(tuple)
stats = st.tuples(longs, longs, longs, longs, ints, ints, ints, longs, ints, ints, longs)


def _aiozk_acl(acl: tuple[ACL, ...]) -> list[Any]:
    return [entry.to_wire() for entry in acl]


def _stat(values: tuple[int, ...]) -> bytes:
    return struct.pack("!qqqqiiiqiiq", *values)


@given(paths, st.booleans(), ints)
def test_path_and_watch_requests(path: str, watch: bool, xid: int) -> None:
    """getData, exists and getChildren requests encode byte for byte as aiozk's."""
    for ours, theirs in (
        (w.GetData, _p.GetDataRequest),
        (w.Exists, _p.ExistsRequest),
        (w.GetChildren, _p.GetChildrenRequest),
        (w.GetChildren2, _p.GetChildren2Request),
    ):
        assert ours(path, watch).encode(xid) == theirs(path=path, watch=watch).serialize(xid)


@given(paths, datas, acls, st.integers(0, 3), ints, ints)
def test_write_requests(
    path: str, data: bytes, acl: tuple[ACL, ...], flags: int, version: int, xid: int
) -> None:
    """create, delete, setData, check and setACL requests encode as aiozk's."""
    wire = _aiozk_acl(acl)
    pairs: list[tuple[w.Request[Any], Any]] = [
        (
            w.Create(path, data, acl, flags),
            _p.CreateRequest(path=path, data=data, acl=wire, flags=flags),
        ),
        (w.Delete(path, version), _p.DeleteRequest(path=path, version=version)),
        (w.SetData(path, data, version), _p.SetDataRequest(path=path, data=data, version=version)),
        (w.Check(path, version), _p.CheckVersionRequest(path=path, version=version)),
        (w.SetACL(path, acl, version), _p.SetACLRequest(path=path, acl=wire, version=version)),
    ]
    for ours, theirs in pairs:
        assert ours.encode(xid) == theirs.serialize(xid)


@given(paths, datas, acls, ints)
def test_multi_requests(path: str, data: bytes, acl: tuple[ACL, ...], version: int) -> None:
    """A multi and a multi-read frame their operations as aiozk's transaction does."""
    multi = w.Multi([w.Create(path, data, acl), w.Delete(path, version), w.Check(path, version)])
    theirs = _p.TransactionRequest()
    for request in (
        _p.CreateRequest(path=path, data=data, acl=_aiozk_acl(acl), flags=0),
        _p.DeleteRequest(path=path, version=version),
        _p.CheckVersionRequest(path=path, version=version),
    ):
        theirs.add(request)
    assert multi.encode(3) == theirs.serialize(3)
    reads = w.MultiRead([w.GetData(path), w.GetChildren(path)])
    theirs_read = _p.TransactionRequest()
    theirs_read.opcode = 22
    theirs_read.add(_p.GetDataRequest(path=path, watch=False))
    theirs_read.add(_p.GetChildrenRequest(path=path, watch=False))
    assert reads.encode(4) == theirs_read.serialize(4)


@given(longs, st.lists(paths, max_size=4), st.lists(paths, max_size=4), st.binary(max_size=30))
def test_session_requests(zxid: int, some: list[str], others: list[str], secret: bytes) -> None:
    """SetWatches, auth, close, ping and the handshake encode as aiozk's."""
    assert ww.SetWatches(zxid, some, others, some).encode(-8) == _p.SetWatchesRequest(
        relative_zxid=zxid, data_watches=some, exist_watches=others, child_watches=some
    ).serialize(-8)
    assert w.Auth("digest", secret).encode(-4) == _p.AuthRequest(
        type=0, scheme="digest", auth=secret
    ).serialize(-4)
    assert w.Close().encode(9) == _p.CloseRequest().serialize(9)
    assert w.PING_FRAME[4:] == _p.PingRequest().serialize(-2)
    connect = w.Connect(zxid, 10_000, zxid, secret, True)
    assert (
        connect.encode()
        == _p.ConnectRequest(
            protocol_version=0,
            last_seen_zxid=zxid,
            timeout=10_000,
            session_id=zxid,
            password=secret,
            read_only=True,
        ).serialize()
    )


@given(datas, stats)
def test_get_data_reply(data: bytes, values: tuple[int, ...]) -> None:
    """A getData reply decodes to the same data and stat as aiozk's."""
    raw = struct.pack("!i", len(data)) + data + _stat(values)
    ours = w.GetData("/").decode(raw)
    theirs = _p.GetDataResponse.deserialize(raw)
    assert ours == (theirs.data or b"", ZnodeStat.from_wire(theirs.stat))


@given(st.lists(st.text(max_size=20), max_size=20), stats)
def test_children_and_stat_replies(children: list[str], values: tuple[int, ...]) -> None:
    """getChildren(2), exists and setData replies decode as aiozk's."""
    names = struct.pack("!i", len(children)) + b"".join(w.pack_string(c) for c in children)
    theirs = _p.GetChildren2Response.deserialize(names + _stat(values))
    assert w.GetChildren2("/").decode(names + _stat(values)) == (
        list(theirs.children),
        ZnodeStat.from_wire(theirs.stat),
    )
    assert w.GetChildren("/").decode(names) == list(
        _p.GetChildrenResponse.deserialize(names).children
    )
    only = _stat(values)
    assert w.Exists("/").decode(only) == ZnodeStat.from_wire(
        _p.ExistsResponse.deserialize(only).stat
    )
    assert w.SetData("/", b"").decode(only) == w.read_stat(only, 0)[0]
    assert _jute.pack_stat(w.read_stat(only, 0)[0]) == only


@given(paths, acls, stats)
def test_create_acl_and_sync_replies(
    path: str, acl: tuple[ACL, ...], values: tuple[int, ...]
) -> None:
    """create, getACL and sync replies decode to what aiozk reads."""
    raw = w.pack_string(path)
    assert w.Create(path, b"", acl).decode(raw) == _p.CreateResponse.deserialize(raw).path
    assert w.Sync(path).decode(raw) == path
    raw_acl = _jute.pack_acl(acl) + _stat(values)
    assert w.GetACL(path).decode(raw_acl) == (list(acl), w.read_stat(_stat(values), 0)[0])


def test_multi_reply_has_a_value_or_a_code_per_operation() -> None:
    """A multi reply gives each operation's value, or the error code that stopped it."""
    ops: list[w.MultiOp] = [w.Create("/a", b"", ()), w.SetData("/b", b""), w.Delete("/c")]
    stat = (1,) * 11
    raw = b"".join(
        (
            struct.pack("!i?i", 1, False, 0) + w.pack_string("/a"),
            struct.pack("!i?i", 5, False, 0) + _stat(stat),
            struct.pack("!i?i", -1, False, -101) + struct.pack("!i", -101),
            struct.pack("!i?i", -1, True, -1),
        )
    )
    assert w.Multi(ops).decode(raw) == ["/a", ZnodeStat(*stat), -101]


def test_null_data_reads_as_empty() -> None:
    """A null buffer (length -1: a node created with no data) reads as b''."""
    raw = struct.pack("!i", -1) + _stat((0,) * 11)
    assert w.GetData("/").decode(raw)[0] == b""


@given(st.integers(0, 2**62), st.binary(min_size=16, max_size=16), ints, st.booleans())
def test_handshake_round_trip(session: int, password: bytes, timeout: int, read_only: bool) -> None:
    """A handshake reply reads back as written, read-only flag included."""
    hs = w.Handshake(session, password, timeout, read_only)
    assert w.Handshake.decode(hs.encode()) == hs


def test_watch_event() -> None:
    """A watch notification body reads as (type, state, path)."""
    fmt, values = _p.WatchEvent(type=3, state=3, path="/x").render()
    body = struct.pack("!" + fmt, *values)
    assert w.decode_event(body) == (3, 3, "/x")
