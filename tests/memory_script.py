"""The differential script for the in-memory ZooKeeper: one sequence of raw requests,
recorded per client (codes, reply zxids, parsed bodies, events, handshakes, dropped
links) so that a real server's transcript and the emulation's can be compared."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiozk import protocol as p

from aiozkreg import ConnectionLossError, ZKRegError, make_digest_acl
from aiozkreg._codec import Reply
from aiozkreg._connection import Handshake, Link
from aiozkreg._ops import _MultiResponse
from aiozkreg._types import ACL, ZnodeStat

Opener = Callable[..., Awaitable[tuple[Link, Handshake]]]
WORLD = [ACL(31, "world", "anyone").to_wire()]


class Client:
    """One raw session: every reply (code, header zxid, parsed body) and event, in order."""

    def __init__(self, name: str, script: Script) -> None:
        self.name = name
        self.script = script
        self.link: Link | None = None
        self.handshake: Handshake | None = None

    async def open(self, timeout_ms: int = 10000, *, resume: bool = False, **extra: Any) -> None:
        hs = self.handshake if resume else None
        fields = {
            "protocol_version": 0,
            "last_seen_zxid": self.link.last_zxid if resume and self.link else 0,
            "timeout": timeout_ms,
            "session_id": hs.session_id if hs else 0,
            "password": hs.password if hs else bytes(16),
            "read_only": False,
            **extra,
        }
        try:
            link, handshake = await self.script.opener(
                p.ConnectRequest(**fields), on_watch=self._on_watch
            )
        except ConnectionLossError:
            self.script.log.append((self.name, "refused"))
            return
        if handshake.session_id:
            self.script.sessions.setdefault(handshake.session_id, self.name)
            self.link, self.handshake = link, handshake
        else:
            await asyncio.wait_for(link.wait_closed(), 5)
        self.script.log.append(
            (self.name, "handshake", self.script.owner(handshake.session_id), handshake.timeout_ms)
        )

    def _on_watch(self, type_: int, state: int, path: str) -> None:
        self.script.log.append((self.name, "event", type_, state, path))

    async def __call__(self, label: str, request: Any, cls: Any = None, xid: Any = None) -> Any:
        assert self.link is not None
        link = self.link

        def hook(err: int) -> None:
            self.script.log.append((self.name, label, err, link.last_zxid))

        future = link.send(request, cls, xid=xid, hook=hook)
        try:
            reply = await asyncio.wait_for(future, 5)
        except ConnectionLossError:
            await asyncio.wait_for(link.wait_closed(), 5)
            self.script.log.append((self.name, label, "connection lost"))
            return None
        except ZKRegError:
            return None
        if reply is not None:
            self.script.log.append((self.name, label, "->", self.script.norm(reply, cls)))
        return reply

    async def closed(self) -> None:
        assert self.link is not None
        await asyncio.wait_for(self.link.wait_closed(), 5)
        self.script.log.append((self.name, "closed"))


class Script:
    def __init__(self, opener: Opener) -> None:
        self.opener = opener
        self.log: list[tuple[Any, ...]] = []
        self.sessions: dict[int, str] = {}

    def owner(self, session_id: int) -> Any:
        return self.sessions.get(session_id, session_id and "?")

    def norm(self, value: Any, cls: Any = None) -> Any:
        """Comparable values: wall-clock times as "T", session ids as client names.

        The real link decodes hot replies with aiozkreg's fast codec (``Reply``,
        ``ZnodeStat``); they are shown as the aiozk classes they stand for.
        """
        if isinstance(value, Reply):
            return (cls.__name__, {n: self.norm(getattr(value, n)) for n, _ in cls.parts})
        if isinstance(value, ZnodeStat):
            value = p.stat.Stat(**{wire: getattr(value, ours) for wire, ours in _STAT_NAMES})
        if isinstance(value, _MultiResponse):
            return ["multi", *map(self.norm, value.results)]
        if isinstance(value, list):
            if all(isinstance(item, str) for item in value):
                return sorted(value)  # children: the server promises no order
            return [self.norm(item) for item in value]
        if isinstance(value, p.stat.Stat):
            fields = {name: getattr(value, name) for name, _ in value.parts}
            for name in ("created", "modified"):
                fields[name] = "T" if fields[name] else 0
            fields["ephemeral_owner"] = self.owner(fields["ephemeral_owner"])
            return fields
        if isinstance(value, p.acl.ACL):
            return (value.perms, value.id.scheme, value.id.id)
        if hasattr(value, "parts"):
            return (type(value).__name__, {n: self.norm(getattr(value, n)) for n, _ in value.parts})
        return value


_STAT_NAMES = (
    ("created_zxid", "czxid"),
    ("last_modified_zxid", "mzxid"),
    ("created", "ctime"),
    ("modified", "mtime"),
    ("version", "version"),
    ("child_version", "cversion"),
    ("acl_version", "aversion"),
    ("ephemeral_owner", "ephemeral_owner"),
    ("data_length", "data_length"),
    ("num_children", "num_children"),
    ("last_modified_children", "pzxid"),
)


def create(path: str, data: bytes | None = b"", acl: Any = None, flags: int = 0) -> Any:
    return p.CreateRequest(path=path, data=data, acl=WORLD if acl is None else acl, flags=flags)


def _multi(*requests: Any) -> Any:
    multi = p.TransactionRequest()
    for request in requests:
        multi.add(request)
    return multi


def _acl(*entries: tuple[int, str, str]) -> list[Any]:
    return [ACL(*entry).to_wire() for entry in entries]


async def transcript(opener: Opener) -> list[tuple[Any, ...]]:
    """The same script of raw requests, recorded, for one server."""
    s = Script(opener)
    a, b, c, e, d = (Client(name, s) for name in "ABCED")
    await a.open()
    await b.open()
    await c.open(10**8)
    await e.open(0)  # the minimum timeout...
    await e("close", p.CloseRequest())  # ...closed now, so it never expires in the middle

    # the fresh tree, and creates: errors in the server's order, each taking a zxid
    await a("root", p.ExistsRequest(path="/", watch=False), p.ExistsResponse)
    await a("zk", p.GetChildren2Request(path="/zookeeper", watch=False), p.GetChildren2Response)
    await a("config acl", p.GetACLRequest(path="/zookeeper/config"), p.GetACLResponse)
    await a("config", p.GetDataRequest(path="/zookeeper/config", watch=False), p.GetDataResponse)
    await a("create", create("/d", b"x"), p.CreateResponse)
    for label, request in [
        ("exists", create("/d")),
        ("no parent", create("/nope/c")),
        ("dot", create("/d/.")),
        ("empty name", create("/a//b")),
        ("trailing slash", create("/d/")),
        ("empty path", create("")),
        ("root", create("/")),
        ("no acl", create("/d/x", acl=[])),
        ("world someone", create("/d/x", acl=_acl((31, "world", "someone")))),
        ("bad digest", create("/d/x", acl=_acl((31, "digest", "nocolon")))),
        ("bad ip", create("/d/x", acl=_acl((31, "ip", "notanip")))),
        ("auth without auth", create("/d/x", acl=_acl((31, "auth", "")))),
        ("ttl", create("/d/x", flags=5)),
        ("bad flags", create("/d/x", flags=7)),
        ("container", create("/d/container", flags=4)),
        ("no data", create("/d/none", None)),
    ]:
        await a(label, request, p.CreateResponse)

    # watches set by B, fired by A's writes (one-shot; exists waits for a create)
    await b("exists watch", p.ExistsRequest(path="/d/w", watch=True), p.ExistsResponse)
    await b("child watch", p.GetChildren2Request(path="/d", watch=True), p.GetChildren2Response)
    await b("data watch", p.GetDataRequest(path="/d", watch=True), p.GetDataResponse)
    await b("missing data watch", p.GetDataRequest(path="/d/zz", watch=True), p.GetDataResponse)
    first = await a("seq", create("/d/s", flags=2), p.CreateResponse)
    await a("seq", create("/d/s", flags=2), p.CreateResponse)
    await a("delete seq", p.DeleteRequest(path=first.path, version=-1))
    await a("seq after delete", create("/d/s", flags=2), p.CreateResponse)
    await a("seq slash", create("/d/", flags=2), p.CreateResponse)
    await a("root seq", create("/r", flags=2), p.CreateResponse)
    ephemeral = p.Create2Request(path="/d/w", data=b"abc", acl=WORLD, flags=1)
    await a("create2 ephemeral", ephemeral, p.Create2Response)
    await a("under ephemeral", create("/d/w/c"), p.CreateResponse)
    await a("set bad version", p.SetDataRequest(path="/d", data=b"y", version=5), p.SetDataResponse)
    await a("set", p.SetDataRequest(path="/d", data=b"y", version=0), p.SetDataResponse)
    await a("set none", p.SetDataRequest(path="/d", data=None, version=-1), p.SetDataResponse)
    await a("get", p.GetDataRequest(path="/d", watch=False), p.GetDataResponse)
    await a("set missing", p.SetDataRequest(path="/q", data=b"", version=3), p.SetDataResponse)
    for label, path, version in [
        ("not empty", "/d", -1),
        ("bad version first", "/d", 9),
        ("delete root", "/", -1),
        ("delete /zookeeper", "/zookeeper", -1),
        ("delete missing", "/d/missing", -1),
    ]:
        await a(label, p.DeleteRequest(path=path, version=version))
    await a("relative get", p.GetDataRequest(path="d", watch=False), p.GetDataResponse)
    await a("check", p.CheckVersionRequest(path="/d", version=99))
    await b("flush", p.ExistsRequest(path="/", watch=False), p.ExistsResponse)

    # ACLs: digest, auth, ip, world; getACL hides hashes without ADMIN
    await a("auth", p.AuthRequest(type=0, scheme="digest", auth=b"u:pw"), None, xid=-4)
    await a("auth again", p.AuthRequest(type=0, scheme="digest", auth=b"u:pw"), None, xid=-4)
    digest = make_digest_acl("u", "pw")
    user = (digest.perms, digest.scheme, digest.id)
    await a("p", create("/d/p", acl=_acl(user, (1, "world", "anyone"))), p.CreateResponse)
    await a("q", create("/d/q", b"s", acl=_acl(user)), p.CreateResponse)
    await a("auth acl", create("/d/a", acl=_acl((31, "auth", ""))), p.CreateResponse)
    await a("ip", create("/d/ip", acl=_acl((1, "ip", "127.0.0.1"))), p.CreateResponse)
    await a("ip2", create("/d/ip2", acl=_acl((31, "ip", "10.0.0.0/8"))), p.CreateResponse)
    await a("dups", create("/d/dups", acl=WORLD + WORLD), p.CreateResponse)
    await b("read p", p.GetDataRequest(path="/d/p", watch=False), p.GetDataResponse)
    await b("write p", p.SetDataRequest(path="/d/p", data=b"", version=-1), p.SetDataResponse)
    await b("acl p", p.GetACLRequest(path="/d/p"), p.GetACLResponse)
    await b("read q", p.GetDataRequest(path="/d/q", watch=True), p.GetDataResponse)
    await b("exists q", p.ExistsRequest(path="/d/q", watch=False), p.ExistsResponse)
    await b("children q", p.GetChildren2Request(path="/d/q", watch=True), p.GetChildren2Response)
    await b("acl q", p.GetACLRequest(path="/d/q"), p.GetACLResponse)
    await b("create in q", create("/d/q/x"), p.CreateResponse)
    await b("delete q", p.DeleteRequest(path="/d/q/x", version=-1))
    await b("set acl q", p.SetACLRequest(path="/d/q", acl=WORLD, version=-1), p.SetACLResponse)
    await b("read ip", p.GetDataRequest(path="/d/ip", watch=False), p.GetDataResponse)
    await b("read ip2", p.GetDataRequest(path="/d/ip2", watch=False), p.GetDataResponse)
    await a("acl a", p.GetACLRequest(path="/d/a"), p.GetACLResponse)
    await a("acl dups", p.GetACLRequest(path="/d/dups"), p.GetACLResponse)
    await a("set acl", p.SetACLRequest(path="/d/p", acl=WORLD, version=0), p.SetACLResponse)
    await a("set acl version", p.SetACLRequest(path="/d/p", acl=WORLD, version=5), p.SetACLResponse)
    await a("set acl empty", p.SetACLRequest(path="/d/p", acl=[], version=-1), p.SetACLResponse)
    await a("set acl missing", p.SetACLRequest(path="/q", acl=WORLD, version=-1), p.SetACLResponse)
    await b("wrong password", p.AuthRequest(type=0, scheme="digest", auth=b"u:no"), None, xid=-4)
    await b("still no", p.GetDataRequest(path="/d/q", watch=False), p.GetDataResponse)
    await b("auth", p.AuthRequest(type=0, scheme="digest", auth=b"u:pw"), None, xid=-4)
    await b("now yes", p.GetDataRequest(path="/d/q", watch=False), p.GetDataResponse)

    # watch events go only to sessions that may READ the node (the parent, for a child
    # event): C, not authenticated, watches nodes whose ACL A then narrows
    await a("hid", create("/d/hid"), p.CreateResponse)
    await a("hid2", create("/d/hid2"), p.CreateResponse)
    await a("hid3", create("/d/hid3"), p.CreateResponse)
    await c("data hid", p.GetDataRequest(path="/d/hid", watch=True), p.GetDataResponse)
    await c("kids hid", p.GetChildren2Request(path="/d/hid", watch=True), p.GetChildren2Response)
    await c("data hid2", p.GetDataRequest(path="/d/hid2", watch=True), p.GetDataResponse)
    await c("kids hid3", p.GetChildren2Request(path="/d/hid3", watch=True), p.GetChildren2Response)
    await c("exists hid4", p.ExistsRequest(path="/d/hid4", watch=True), p.ExistsResponse)
    for path in ("/d/hid", "/d/hid2"):
        await a("narrow", p.SetACLRequest(path=path, acl=_acl(user), version=-1), p.SetACLResponse)
    await a("set hid", p.SetDataRequest(path="/d/hid", data=b"1", version=-1), p.SetDataResponse)
    await a("kid", create("/d/hid/k"), p.CreateResponse)
    await a("delete hid2", p.DeleteRequest(path="/d/hid2", version=-1))
    await a("hid3 kid", create("/d/hid3/k", acl=_acl(user)), p.CreateResponse)
    await a("hid4", create("/d/hid4", acl=_acl(user)), p.CreateResponse)
    await c("flush", p.ExistsRequest(path="/", watch=False), p.ExistsResponse)

    # multi: all or nothing, per-operation results, one zxid
    await a(
        "multi",
        _multi(
            create("/d/m"),
            create("/d/m/c", flags=2),
            p.SetDataRequest(path="/d/m", data=b"zz", version=0),
            p.CheckVersionRequest(path="/d/m", version=1),
            p.DeleteRequest(path="/d/m/c0000000000", version=-1),
            p.Create2Request(path="/d/m2", data=b"", acl=WORLD, flags=0),
        ),
        _MultiResponse,
    )
    await a("m stat", p.ExistsRequest(path="/d/m", watch=False), p.ExistsResponse)
    for label, multi in [
        (
            "multi fails",
            _multi(
                create("/d/m3"),
                p.CheckVersionRequest(path="/d/m", version=5),
                p.DeleteRequest(path="/d/zz", version=-1),
            ),
        ),
        ("multi ephemeral parent", _multi(create("/d/e", flags=1), create("/d/e/c"))),
        ("multi no node", _multi(p.CheckVersionRequest(path="/d/nonode", version=5))),
        ("multi bad acl", _multi(create("/d/x"), create("/d/y", acl=[]))),
        ("multi empty", _multi()),
        ("multi seq", _multi(create("/d/s", flags=2), create("/d/s", flags=2))),
    ]:
        await a(label, multi, _MultiResponse)
    await a("m3 rolled back", p.ExistsRequest(path="/d/m3", watch=False), p.ExistsResponse)
    await b("flush", p.ExistsRequest(path="/", watch=False), p.ExistsResponse)

    # watches on one's own writes: events come before the reply that caused them
    await a("exists ew", p.ExistsRequest(path="/d/ew", watch=True), p.ExistsResponse)
    await a("create ew", create("/d/ew"), p.CreateResponse)
    await a("data ew", p.GetDataRequest(path="/d/ew", watch=True), p.GetDataResponse)
    await a("kids ew", p.GetChildren2Request(path="/d/ew", watch=True), p.GetChildren2Response)
    await a("acl ew", p.SetACLRequest(path="/d/ew", acl=WORLD, version=-1), p.SetACLResponse)
    await a("set ew", p.SetDataRequest(path="/d/ew", data=b"1", version=-1), p.SetDataResponse)
    await a("set ew 2", p.SetDataRequest(path="/d/ew", data=b"2", version=-1), p.SetDataResponse)
    await a("create k", create("/d/ew/k"), p.CreateResponse)
    await a("data k", p.GetDataRequest(path="/d/ew/k", watch=True), p.GetDataResponse)
    await a("kids k", p.GetChildren2Request(path="/d/ew/k", watch=True), p.GetChildren2Response)
    await a("kids ew", p.GetChildren2Request(path="/d/ew", watch=True), p.GetChildren2Response)
    await a("delete k", p.DeleteRequest(path="/d/ew/k", version=-1))
    await a("exists nx", p.ExistsRequest(path="/d/nx", watch=True), p.ExistsResponse)
    for label, path, type_ in [("remove", "/d/nx", 2), ("again", "/d/nx", 2), ("kids", "/d", 1)]:
        await a(label, p.RemoveWatchesRequest(path=path, type=type_))
    await a("data d", p.GetDataRequest(path="/d", watch=True), p.GetDataResponse)
    await a("check any", p.CheckWatchesRequest(path="/d", type=3))
    await a("remove any", p.RemoveWatchesRequest(path="/d", type=3))
    await a("set d", p.SetDataRequest(path="/d", data=b"3", version=-1), p.SetDataResponse)

    # SetWatches after a reconnect: what changed since the client's zxid fires at once
    await a("sw", create("/d/sw"), p.CreateResponse)
    await a("sw/a", create("/d/sw/a"), p.CreateResponse)
    await c("data a", p.GetDataRequest(path="/d/sw/a", watch=True), p.GetDataResponse)
    await c("exists b", p.ExistsRequest(path="/d/sw/b", watch=True), p.ExistsResponse)
    await c("kids sw", p.GetChildren2Request(path="/d/sw", watch=True), p.GetChildren2Response)
    assert c.link is not None
    since = c.link.last_zxid
    c.link.abort()
    await a("set a", p.SetDataRequest(path="/d/sw/a", data=b"1", version=-1), p.SetDataResponse)
    await a("create b", create("/d/sw/b"), p.CreateResponse)
    await c.open(10**8, resume=True)
    await c(
        "set watches",
        p.SetWatchesRequest(
            relative_zxid=since,
            data_watches=["/d/sw/a", "/d/sw", "/d/sw/gone"],
            exist_watches=["/d/sw/b", "/d/sw/c"],
            child_watches=["/d/sw", "/d/sw/a", "/d/sw/none"],
        ),
        None,
        xid=-8,
    )
    await a("create c", create("/d/sw/c"), p.CreateResponse)
    await a("set sw", p.SetDataRequest(path="/d/sw", data=b"1", version=-1), p.SetDataResponse)
    await c("flush", p.ExistsRequest(path="/", watch=False), p.ExistsResponse)

    # sessions: CloseSession deletes the ephemerals and ends the link; no re-attach after
    await b("ephemeral", create("/d/eb", flags=1), p.CreateResponse)
    await a("watch eb", p.ExistsRequest(path="/d/eb", watch=True), p.ExistsResponse)
    await b("close", p.CloseRequest())
    await b.closed()
    await a("flush", p.ExistsRequest(path="/", watch=False), p.ExistsResponse)
    await b.open(resume=True)
    await c.open(10**8, resume=True, password=b"x" * 16)  # a wrong password...
    await c.closed()  # ...also drops the live link of that session

    # faults that close a link: a frame over jute.maxbuffer, an unknown auth scheme
    big = 0xFFFFF - 22
    await a("max data", p.SetDataRequest(path="/d", data=b"x" * big, version=-1), p.SetDataResponse)
    await a("too big", p.SetDataRequest(path="/d", data=b"x" * (big + 1), version=-1))
    await d.open()
    await d("bad scheme", p.AuthRequest(type=0, scheme="world", auth=b"anyone"), None, xid=-4)
    await d.closed()
    await d.open(last_seen_zxid=10**12)  # a client that saw a newer server is refused
    return s.log


def per_client(log: list[tuple[Any, ...]]) -> dict[str, list[tuple[Any, ...]]]:
    """Each client's entries in order (between clients the order is the network's)."""
    clients: dict[str, list[tuple[Any, ...]]] = {}
    for entry in log:
        clients.setdefault(entry[0], []).append(entry)
    return clients
