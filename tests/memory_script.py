"""The differential script for the in-memory ZooKeeper: one sequence of typed requests
over raw links, recorded per client (codes, reply zxids, reply values, events,
handshakes, dropped links) so that a real server's transcript and the emulation's
can be compared."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiozkreg import ConnectionLossError, ZKRegError, make_digest_acl
from aiozkreg._transport import Link, LinkListener
from aiozkreg._types import ACL, ZnodeStat
from aiozkreg._wire import (
    Auth,
    Check,
    Close,
    Connect,
    Create,
    Delete,
    Exists,
    GetACL,
    GetChildren,
    GetChildren2,
    GetData,
    Handshake,
    Multi,
    MultiOp,
    MultiRead,
    Request,
    SetACL,
    SetData,
)
from aiozkreg._wire_watches import (
    AddWatch,
    CheckWatches,
    RemoveWatches,
    SetWatches,
    SetWatches2,
)

Opener = Callable[[Connect, LinkListener], Awaitable[tuple[Link, Handshake]]]
WORLD = (ACL(31, "world", "anyone"),)


class Client:
    """One raw session: every reply (code, header zxid, value) and event, in order.

    It is its links' listener: events are recorded; a failure of its own code
    while a reply was delivered is recorded too (it would be a difference).
    """

    def __init__(self, name: str, script: Script) -> None:
        self.name = name
        self.script = script
        self.link: Link | None = None
        self.handshake: Handshake | None = None

    async def open(
        self,
        timeout_ms: int = 10000,
        *,
        resume: bool = False,
        password: bytes | None = None,
        last_zxid: int | None = None,
    ) -> None:
        hs = self.handshake if resume else None
        if last_zxid is None:
            last_zxid = self.link.last_zxid if resume and self.link else 0
        if password is None:
            password = hs.password if hs else bytes(16)
        connect = Connect(last_zxid, timeout_ms, hs.session_id if hs else 0, password, False)
        try:
            link, handshake = await self.script.opener(connect, self)
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

    # -- LinkListener ---------------------------------------------------------------

    def watch_event(self, event_type: int, state: int, server_path: str) -> None:
        self.script.log.append((self.name, "event", event_type, state, server_path))

    def link_lost(self, link: Link) -> None:
        pass  # recorded by the request that saw it, or by closed()

    def link_failed(self, link: Link, error: Exception) -> None:
        self.script.log.append((self.name, "link failed", repr(error)))

    # -- requests ---------------------------------------------------------------------

    async def __call__(self, label: str, request: Request[Any]) -> Any:
        assert self.link is not None
        link = self.link

        def hook(err: int) -> None:
            self.script.log.append((self.name, label, err, link.last_zxid))

        future = link.send(request, hook=hook)
        try:
            reply = await asyncio.wait_for(future, 5)
        except ConnectionLossError:
            await asyncio.wait_for(link.wait_closed(), 5)
            self.script.log.append((self.name, label, "connection lost"))
            return None
        except ZKRegError:
            return None
        if reply is not None:
            self.script.log.append((self.name, label, "->", self.script.norm(reply, request)))
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

    def norm(self, value: Any, request: Request[Any] | None = None) -> Any:
        """Comparable values: wall-clock times as "T", session ids as client names,
        children sorted (the server promises no order), a multi's results tagged."""
        if isinstance(request, Multi | MultiRead):
            return ["multi", *map(self.norm, value)]
        if isinstance(value, ZnodeStat):
            fields = {name: getattr(value, name) for name in ZnodeStat.__slots__}
            for name in ("ctime", "mtime"):
                fields[name] = "T" if fields[name] else 0
            fields["ephemeral_owner"] = self.owner(fields["ephemeral_owner"])
            return fields
        if isinstance(value, ACL):
            return (value.perms, value.scheme, value.id)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return ["children", *sorted(value)]
        if isinstance(value, list | tuple):
            return (type(value).__name__, *map(self.norm, value))
        return value


def create(path: str, data: bytes | None = b"", acl: Any = None, flags: int = 0) -> Create:
    """A create (``data=None``: null data, as other clients may send)."""
    return Create(path, data, WORLD if acl is None else acl, flags)  # type: ignore[arg-type]


def _multi(*ops: MultiOp) -> Multi:
    return Multi(list(ops))


def _acl(*entries: tuple[int, str, str]) -> tuple[ACL, ...]:
    return tuple(ACL(*entry) for entry in entries)


async def transcript(opener: Opener) -> list[tuple[Any, ...]]:
    """The same script of raw requests, recorded, for one server."""
    s = Script(opener)
    a, b, c, e, d = (Client(name, s) for name in "ABCED")
    await a.open()
    await b.open()
    await c.open(10**8)
    await e.open(0)  # the minimum timeout...
    await e("close", Close())  # ...closed now, so it never expires in the middle

    # the fresh tree, and creates: errors in the server's order, each taking a zxid
    await a("root", Exists("/", False))
    await a("zk", GetChildren2("/zookeeper", False))
    await a("config acl", GetACL("/zookeeper/config"))
    await a("config", GetData("/zookeeper/config", False))
    await a("create", create("/d", b"x"))
    for label, request in [
        ("exists", create("/d")),
        ("no parent", create("/nope/c")),
        ("dot", create("/d/.")),
        ("empty name", create("/a//b")),
        ("trailing slash", create("/d/")),
        ("empty path", create("")),
        ("root", create("/")),
        ("no acl", create("/d/x", acl=())),
        ("world someone", create("/d/x", acl=_acl((31, "world", "someone")))),
        ("bad digest", create("/d/x", acl=_acl((31, "digest", "nocolon")))),
        ("bad ip", create("/d/x", acl=_acl((31, "ip", "notanip")))),
        ("auth without auth", create("/d/x", acl=_acl((31, "auth", "")))),
        ("ttl", create("/d/x", flags=5)),
        ("bad flags", create("/d/x", flags=7)),
        ("container", create("/d/container", flags=4)),
        ("no data", create("/d/none", None)),
    ]:
        await a(label, request)

    # watches set by B, fired by A's writes (one-shot; exists waits for a create)
    await b("exists watch", Exists("/d/w", True))
    await b("child watch", GetChildren2("/d", True))
    await b("data watch", GetData("/d", True))
    await b("missing data watch", GetData("/d/zz", True))
    first = await a("seq", create("/d/s", flags=2))
    await a("seq", create("/d/s", flags=2))
    await a("delete seq", Delete(first, -1))
    await a("seq after delete", create("/d/s", flags=2))
    await a("seq slash", create("/d/", flags=2))
    await a("root seq", create("/r", flags=2))
    await a("create ephemeral", create("/d/w", b"abc", flags=1))
    await a("under ephemeral", create("/d/w/c"))
    await a("set bad version", SetData("/d", b"y", 5))
    await a("set", SetData("/d", b"y", 0))
    await a("set none", SetData("/d", None, -1))
    await a("get", GetData("/d", False))
    await a("set missing", SetData("/q", b"", 3))
    for label, path, version in [
        ("not empty", "/d", -1),
        ("bad version first", "/d", 9),
        ("delete root", "/", -1),
        ("delete /zookeeper", "/zookeeper", -1),
        ("delete missing", "/d/missing", -1),
    ]:
        await a(label, Delete(path, version))
    await a("relative get", GetData("d", False))
    await a("check", Check("/d", 99))
    await b("flush", Exists("/", False))

    # ACLs: digest, auth, ip, world; getACL hides hashes without ADMIN
    await a("auth", Auth("digest", b"u:pw"))
    await a("auth again", Auth("digest", b"u:pw"))
    digest = make_digest_acl("u", "pw")
    user = (digest.perms, digest.scheme, digest.id)
    await a("p", create("/d/p", acl=_acl(user, (1, "world", "anyone"))))
    await a("q", create("/d/q", b"s", acl=_acl(user)))
    await a("auth acl", create("/d/a", acl=_acl((31, "auth", ""))))
    await a("ip", create("/d/ip", acl=_acl((1, "ip", "127.0.0.1"))))
    await a("ip2", create("/d/ip2", acl=_acl((31, "ip", "10.0.0.0/8"))))
    await a("dups", create("/d/dups", acl=WORLD + WORLD))
    await b("read p", GetData("/d/p", False))
    await b("write p", SetData("/d/p", b"", -1))
    await b("acl p", GetACL("/d/p"))
    await b("read q", GetData("/d/q", True))
    await b("exists q", Exists("/d/q", False))
    await b("children q", GetChildren2("/d/q", True))
    await b("acl q", GetACL("/d/q"))
    await b("create in q", create("/d/q/x"))
    await b("delete q", Delete("/d/q/x", -1))
    await b("set acl q", SetACL("/d/q", WORLD, -1))
    await b("read ip", GetData("/d/ip", False))
    await b("read ip2", GetData("/d/ip2", False))
    await a("acl a", GetACL("/d/a"))
    await a("acl dups", GetACL("/d/dups"))
    await a("set acl", SetACL("/d/p", WORLD, 0))
    await a("set acl version", SetACL("/d/p", WORLD, 5))
    await a("set acl empty", SetACL("/d/p", (), -1))
    await a("set acl missing", SetACL("/q", WORLD, -1))
    await b("wrong password", Auth("digest", b"u:no"))
    await b("still no", GetData("/d/q", False))
    await b("auth", Auth("digest", b"u:pw"))
    await b("now yes", GetData("/d/q", False))

    # watch events go only to sessions that may READ the node (the parent, for a child
    # event): C, not authenticated, watches nodes whose ACL A then narrows
    await a("hid", create("/d/hid"))
    await a("hid2", create("/d/hid2"))
    await a("hid3", create("/d/hid3"))
    await c("data hid", GetData("/d/hid", True))
    await c("kids hid", GetChildren2("/d/hid", True))
    await c("data hid2", GetData("/d/hid2", True))
    await c("kids hid3", GetChildren2("/d/hid3", True))
    await c("exists hid4", Exists("/d/hid4", True))
    for path in ("/d/hid", "/d/hid2"):
        await a("narrow", SetACL(path, _acl(user), -1))
    await a("set hid", SetData("/d/hid", b"1", -1))
    await a("kid", create("/d/hid/k"))
    await a("delete hid2", Delete("/d/hid2", -1))
    await a("hid3 kid", create("/d/hid3/k", acl=_acl(user)))
    await a("hid4", create("/d/hid4", acl=_acl(user)))
    await c("flush", Exists("/", False))

    # multi: all or nothing, per-operation results, one zxid
    await a(
        "multi",
        _multi(
            create("/d/m"),
            create("/d/m/c", flags=2),
            SetData("/d/m", b"zz", 0),
            Check("/d/m", 1),
            Delete("/d/m/c0000000000", -1),
            create("/d/m2"),
        ),
    )
    await a("m stat", Exists("/d/m", False))
    for label, multi in [
        (
            "multi fails",
            _multi(
                create("/d/m3"),
                Check("/d/m", 5),
                Delete("/d/zz", -1),
            ),
        ),
        ("multi ephemeral parent", _multi(create("/d/e", flags=1), create("/d/e/c"))),
        ("multi no node", _multi(Check("/d/nonode", 5))),
        ("multi bad acl", _multi(create("/d/x"), create("/d/y", acl=()))),
        ("multi empty", _multi()),
        ("multi seq", _multi(create("/d/s", flags=2), create("/d/s", flags=2))),
    ]:
        await a(label, multi)
    await a("m3 rolled back", Exists("/d/m3", False))
    await b("flush", Exists("/", False))

    # multi-read: each read on its own (NoNode, NoAuth), null data as b"", no watches set
    reads = [GetData("/d/m"), GetChildren("/d"), GetData("/d/none"), GetData("/d/hid", True)]
    await c("multi read", MultiRead([*reads, GetChildren("/d/nope"), GetChildren("/d/hid")]))
    await a("multi read", MultiRead([GetData("/d/hid", True), GetChildren("/d/m", True)]))
    await a("unwatched", SetData("/d/hid", b"2", -1))
    await a("multi read empty", MultiRead([]))

    # watches on one's own writes: events come before the reply that caused them
    await a("exists ew", Exists("/d/ew", True))
    await a("create ew", create("/d/ew"))
    await a("data ew", GetData("/d/ew", True))
    await a("kids ew", GetChildren2("/d/ew", True))
    await a("acl ew", SetACL("/d/ew", WORLD, -1))
    await a("set ew", SetData("/d/ew", b"1", -1))
    await a("set ew 2", SetData("/d/ew", b"2", -1))
    await a("create k", create("/d/ew/k"))
    await a("data k", GetData("/d/ew/k", True))
    await a("kids k", GetChildren2("/d/ew/k", True))
    await a("kids ew", GetChildren2("/d/ew", True))
    await a("delete k", Delete("/d/ew/k", -1))
    await a("exists nx", Exists("/d/nx", True))
    for label, path, type_ in [("remove", "/d/nx", 2), ("again", "/d/nx", 2), ("kids", "/d", 1)]:
        await a(label, RemoveWatches(path, type_))
    await a("data d", GetData("/d", True))
    await a("check any", CheckWatches("/d", 3))
    await a("remove any", RemoveWatches("/d", 3))
    await a("set d", SetData("/d", b"3", -1))

    # SetWatches after a reconnect: what changed since the client's zxid fires at once
    await a("sw", create("/d/sw"))
    await a("sw/a", create("/d/sw/a"))
    await c("data a", GetData("/d/sw/a", True))
    await c("exists b", Exists("/d/sw/b", True))
    await c("kids sw", GetChildren2("/d/sw", True))
    assert c.link is not None
    since = c.link.last_zxid
    c.link.abort()
    await a("set a", SetData("/d/sw/a", b"1", -1))
    await a("create b", create("/d/sw/b"))
    await c.open(10**8, resume=True)
    await c(
        "set watches",
        SetWatches(
            since,
            data=["/d/sw/a", "/d/sw", "/d/sw/gone"],
            exist=["/d/sw/b", "/d/sw/c"],
            child=["/d/sw", "/d/sw/a", "/d/sw/none"],
        ),
    )
    await a("create c", create("/d/sw/c"))
    await a("set sw", SetData("/d/sw", b"1", -1))
    await c("flush", Exists("/", False))

    # persistent recursive watches (3.6+): creations, deletions and data changes at and
    # below the path (never children-changed), not used up; re-set as they are by
    # SetWatches2 (what changed meanwhile is not told); removed with type 3 (any)
    await c("add watch", AddWatch("/d/pr"))  # on a node that does not exist yet
    await a("pr", create("/d/pr"))
    await a("pr/x", create("/d/pr/x"))
    await a("set pr/x", SetData("/d/pr/x", b"1", -1))
    await a("pr/x/y", create("/d/pr/x/y"))
    await a("del pr/x/y", Delete("/d/pr/x/y", -1))
    await a("set pr", SetData("/d/pr", b"2", -1))
    await a("outside", create("/d/prz"))
    await c("flush", Exists("/", False))
    assert c.link is not None
    since = c.link.last_zxid
    c.link.abort()
    await a("pr/missed", create("/d/pr/missed"))
    await c.open(10**8, resume=True)
    await c("set watches 2", SetWatches2(since, persistent_recursive=["/d/pr"]))
    await a("pr/seen", create("/d/pr/seen"))
    await c("remove persistent", RemoveWatches("/d/pr", 5))  # 3.8 cannot read this type
    await c("remove", RemoveWatches("/d/pr", 3))  # "any" removes it
    await c("remove again", RemoveWatches("/d/pr", 3))
    await a("pr/unseen", create("/d/pr/unseen"))
    await c("flush", Exists("/", False))

    # one watch mode per path and link: a data watch on a recursive watch's path turns it
    # standard (deaf below, used up once); a child watch under a recursive one is silenced
    await c("add watch again", AddWatch("/d/pr"))
    await c("data watch on it", GetData("/d/pr", True))
    await a("pr/below", create("/d/pr/below"))  # not told: the path's data mode is standard
    await a("set pr again", SetData("/d/pr", b"3", -1))  # told once: the standard watch
    await a("set pr once more", SetData("/d/pr", b"4", -1))
    await a("del pr/below", Delete("/d/pr/below", -1))  # told: the child table's mode
    await c("child watch", GetChildren("/d/pr", True))
    await c("add watch over it", AddWatch("/d/pr"))
    await a("pr/kid", create("/d/pr/kid"))  # a creation below, no children-changed
    await c("remove all", RemoveWatches("/d/pr", 3))
    await c("flush", Exists("/", False))

    # sessions: CloseSession deletes the ephemerals and ends the link; no re-attach after
    await b("ephemeral", create("/d/eb", flags=1))
    await a("watch eb", Exists("/d/eb", True))
    await b("close", Close())
    await b.closed()
    await a("flush", Exists("/", False))
    await b.open(resume=True)
    await c.open(10**8, resume=True, password=b"x" * 16)  # a wrong password...
    await c.closed()  # ...also drops the live link of that session

    # faults that close a link: a frame over jute.maxbuffer, an unknown auth scheme
    big = 0xFFFFF - 22
    await a("max data", SetData("/d", b"x" * big, -1))
    await a("too big", SetData("/d", b"x" * (big + 1), -1))
    await d.open()
    await d("bad scheme", Auth("world", b"anyone"))
    await d.closed()
    await d.open(last_zxid=10**12)  # a client that saw a newer server is refused
    return s.log


def per_client(log: list[tuple[Any, ...]]) -> dict[str, list[tuple[Any, ...]]]:
    """Each client's entries in order (between clients the order is the network's)."""
    clients: dict[str, list[tuple[Any, ...]]] = {}
    for entry in log:
        clients.setdefault(entry[0], []).append(entry)
    return clients
