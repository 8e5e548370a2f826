"""The in-memory ZooKeeper's request handlers: one per :mod:`aiozkreg._wire` request class.

Each handler runs the request against the server's tree and queues the
reply on the link: the error code, the zxid a real server would put in the
reply header, and the reply's value exactly as the socket link decodes it
from a real server (``request.decode``), without a trip through bytes: a
:class:`~aiozkreg.ZnodeStat`, ``(data, stat)`` with null data as ``b""``,
the created path, a list per multi, ``None`` for a body-less reply.
Observed on ZooKeeper 3.8 and mirrored here:

- reads answer with the current zxid; writes with their own (failed ones
  included); auth replies carry zxid 0;
- notifications a request triggers are queued before its reply, on every
  link holding the watch (the requester's too);
- ``exists`` sets its watch whether or not the node is there; ``getData``
  and ``getChildren`` set none when they fail;
- a multi replies with error code 0 and per-operation results: 0 for the
  operations before the failing one, its code, then -2 (runtime
  inconsistency); a multi-read answers each read on its own (its reads set
  no watches, whatever their flag says, as the server reads them);
- ``getACL`` needs READ or ADMIN, and hides digest hashes (``user:x``)
  from a caller without ADMIN;
- an unknown auth scheme fails (AuthFailed) and closes the link (a request
  frame over ``jute.maxbuffer`` closes it too, without a reply: checked by
  the server before a request reaches these handlers; so does a multi with
  an operation the server cannot read);
- ``SetWatches`` fires at once what changed since the client's zxid
  (data, then exist, then child watches), then replies; ``SetWatches2``
  re-sets persistent recursive watches as they are (nothing fired);
- ``addWatch`` (persistent recursive mode only; persistent non-recursive
  watches are not emulated) succeeds on any path, existing or not; a
  server made with ``persistent_watches=False`` answers UNIMPLEMENTED, as
  ZooKeeper 3.5 does; ``removeWatches`` of type "any" removes it too (3.8
  answers the persistent types, 4 and 5, with a marshalling error).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .._errors import Code, ConnectionLossError
from .._types import ACL, ZnodeStat
from .._wire import (
    Auth,
    Check,
    Close,
    Create,
    Delete,
    Exists,
    GetACL,
    GetChildren,
    GetChildren2,
    GetData,
    Multi,
    MultiRead,
    Ping,
    Request,
    SetACL,
    SetData,
    Sync,
)
from .._wire_watches import (
    PERSISTENT_RECURSIVE,
    AddWatch,
    CheckWatches,
    RemoveWatches,
    SetWatches,
    SetWatches2,
)
from ._memory_acl import ADMIN, READ, Fault, check_acl, digest_id
from ._memory_tree import CHANGED, CHILD, CREATED, DELETED, Node, Trigger

if TYPE_CHECKING:
    from ._memory import MemoryZooKeeper
    from ._memory_link import MemoryLink

_T = TypeVar("_T")
_OpResult = str | ZnodeStat | int | None  # a multi operation's value, or its error code
_WATCH_TYPES: dict[int, tuple[bool, ...]] = {1: (True,), 2: (False,), 3: (True, False)}
_ANY = 3
_PERSISTENT_TYPES = (4, 5)

Apply = Callable[[int, int, list[Trigger]], _T]


class Requests:
    """Handles requests for one :class:`MemoryZooKeeper`."""

    def __init__(self, server: MemoryZooKeeper) -> None:
        self.server = server
        self.tree = server._tree

    def handle(self, link: MemoryLink, key: int, request: Request[Any]) -> None:
        """Run ``request`` and queue its reply (most frequent kinds first)."""
        match request:
            case GetData():
                self._read(link, key, lambda: self._get_data(link, request))
            case Exists():
                self._read(link, key, lambda: self._exists(link, request))
            case GetChildren() | GetChildren2():
                self._read(link, key, lambda: self._get_children(link, request))
            case Create():
                self._write(link, key, lambda z, n, o: self._create(link, request, z, n, o))
            case SetData():
                self._write(link, key, lambda z, n, o: self._set_data(link, request, z, n, o))
            case Delete():
                self._write(link, key, lambda z, n, o: self._delete(link, request, z, o))
            case Multi():
                self._multi(link, key, request)
            case MultiRead():
                self._multi_read(link, key, request)
            case Check():
                self._write(link, key, lambda z, n, o: self._check(link, request))
            case SetACL():
                self._write(link, key, lambda z, n, o: self._set_acl(link, request))
            case GetACL():
                self._read(link, key, lambda: self._get_acl(link, request))
            case Sync():
                link.queue_reply(key, Code.OK, self.tree.zxid, request.path)
            case SetWatches() | SetWatches2():
                self._set_watches(link, key, request)
            case AddWatch():
                self._add_watch(link, key, request)
            case RemoveWatches() | CheckWatches():
                self._remove_watches(link, key, request)
            case Auth():
                self._auth(link, key, request)
            case Close():
                self._close(link, key)
            case Ping():
                link.queue_reply(key, Code.OK, self.tree.zxid)
            case _:
                link.queue_reply(key, Code.UNIMPLEMENTED, self.tree.zxid)

    def _read(self, link: MemoryLink, key: int, answer: Callable[[], object]) -> None:
        try:
            value = answer()
        except Fault as fault:
            link.queue_reply(key, fault.code, self.tree.zxid)
            return
        link.queue_reply(key, Code.OK, self.tree.zxid, value)

    def _write(self, link: MemoryLink, key: int, apply: Apply[object]) -> None:
        try:
            zxid, value = self.server._write(apply)
        except Fault as fault:
            link.queue_reply(key, fault.code, self.tree.zxid)
            return
        link.queue_reply(key, Code.OK, zxid, value)

    # -- writes --------------------------------------------------------------------------

    def _create(
        self, link: MemoryLink, req: Create, zxid: int, now: int, out: list[Trigger]
    ) -> str:
        session = link.session.id if link.session is not None else 0
        return self.tree.create(
            req.path,
            req.data,
            req.acl,
            req.flags,
            session=session,
            ids=link.ids,
            zxid=zxid,
            now=now,
            out=out,
        )

    def _delete(self, link: MemoryLink, req: Delete, zxid: int, out: list[Trigger]) -> None:
        self.tree.delete(req.path, req.version, ids=link.ids, zxid=zxid, out=out)

    def _set_data(
        self, link: MemoryLink, req: SetData, zxid: int, now: int, out: list[Trigger]
    ) -> ZnodeStat:
        node = self.tree.set_data(
            req.path, req.data, req.version, ids=link.ids, zxid=zxid, now=now, out=out
        )
        return node.stat()

    def _set_acl(self, link: MemoryLink, req: SetACL) -> ZnodeStat:
        return self.tree.set_acl(req.path, req.acl, req.version, ids=link.ids).stat()

    def _check(self, link: MemoryLink, req: Check) -> None:
        self.tree.check(req.path, req.version, ids=link.ids)

    def _multi(self, link: MemoryLink, key: int, req: Multi) -> None:
        ops = list(req.ops)
        if not all(isinstance(op, Create | Delete | SetData | Check) for op in ops):
            self.server._drop(link, ConnectionLossError(f"{link.address} refused a bad multi."))
            return

        def apply(zxid: int, now: int, out: list[Trigger]) -> list[_OpResult]:
            results: list[_OpResult] = []
            self.tree.begin()
            for index, op in enumerate(ops):
                try:
                    results.append(self._multi_op(link, op, zxid, now, out))
                except Fault as fault:
                    self.tree.rollback()
                    out.clear()
                    after = len(ops) - index - 1
                    results[:] = (
                        [0] * index + [fault.code] + [int(Code.RUNTIME_INCONSISTENCY)] * after
                    )
                    return results
            self.tree.commit()
            return results

        self._write(link, key, apply)

    def _multi_op(
        self,
        link: MemoryLink,
        op: Create | Delete | SetData | Check,
        zxid: int,
        now: int,
        out: list[Trigger],
    ) -> str | ZnodeStat | None:
        match op:
            case Create():
                return self._create(link, op, zxid, now, out)
            case SetData():
                return self._set_data(link, op, zxid, now, out)
            case Delete():
                self._delete(link, op, zxid, out)
            case Check():
                self._check(link, op)
        return None

    # -- reads ---------------------------------------------------------------------------

    def _multi_read(self, link: MemoryLink, key: int, req: MultiRead) -> None:
        """getChildren and getData ops in one request; each fails on its own (no rollback)."""
        ops = list(req.ops)
        if not all(isinstance(op, GetData | GetChildren) for op in ops):
            self.server._drop(link, ConnectionLossError(f"{link.address} refused a bad multi."))
            return
        results: list[tuple[bytes, ZnodeStat] | list[str] | int] = []
        for op in ops:
            try:
                node = self._readable(link, op.path)
            except Fault as fault:
                results.append(fault.code)
                continue
            if isinstance(op, GetData):
                results.append((node.data or b"", node.stat()))
            else:
                results.append(list(node.children))
        link.queue_reply(key, Code.OK, self.tree.zxid, results)

    def _exists(self, link: MemoryLink, req: Exists) -> ZnodeStat:
        if "\x00" in req.path:
            raise Fault(Code.BAD_ARGUMENTS)
        if req.watch:  # set even when the node is missing: it waits for the create
            self.server._watches.add(link, req.path, child=False)
        node = self.tree.get(req.path)
        if node is None:
            raise Fault(Code.NO_NODE)
        return node.stat()

    def _readable(self, link: MemoryLink, path: str, perm: int = READ) -> Node:
        node = self.tree.get(path)
        if node is None:
            raise Fault(Code.NO_NODE)
        check_acl(node.acl, perm, link.ids)
        return node

    def _get_data(self, link: MemoryLink, req: GetData) -> tuple[bytes, ZnodeStat]:
        node = self._readable(link, req.path)
        if req.watch:
            self.server._watches.add(link, req.path, child=False)
        return node.data or b"", node.stat()

    def _get_children(
        self, link: MemoryLink, req: GetChildren | GetChildren2
    ) -> list[str] | tuple[list[str], ZnodeStat]:
        node = self._readable(link, req.path)
        if req.watch:
            self.server._watches.add(link, req.path, child=True)
        if isinstance(req, GetChildren2):
            return list(node.children), node.stat()
        return list(node.children)

    def _get_acl(self, link: MemoryLink, req: GetACL) -> tuple[list[ACL], ZnodeStat]:
        node = self._readable(link, req.path, READ | ADMIN)
        try:
            check_acl(node.acl, ADMIN, link.ids)
        except Fault:  # no ADMIN: digest hashes are hidden
            return [_hide_digest(entry) for entry in node.acl], node.stat()
        return list(node.acl), node.stat()

    # -- watches ---------------------------------------------------------------------------

    def _add_watch(self, link: MemoryLink, key: int, req: AddWatch) -> None:
        """A persistent recursive watch (on a node that may not exist yet); a server
        made without persistent watches answers as ZooKeeper 3.5 does."""
        if not self.server.persistent_watches or req.mode != PERSISTENT_RECURSIVE:
            link.queue_reply(key, Code.UNIMPLEMENTED, self.tree.zxid)
            return
        self.server._watches.add_recursive(link, req.path)
        link.queue_reply(key, Code.OK, self.tree.zxid)

    def _set_watches(self, link: MemoryLink, key: int, req: SetWatches | SetWatches2) -> None:
        since = req.relative_zxid
        for path in req.data:
            node = self.tree.get(path)
            if node is None:
                link.queue_event(DELETED, path)
            elif node.mzxid > since:
                link.queue_event(CHANGED, path)
            else:
                self.server._watches.add(link, path, child=False)
        for path in req.exist:
            if self.tree.get(path) is not None:
                link.queue_event(CREATED, path)
            else:
                self.server._watches.add(link, path, child=False)
        for path in req.child:
            node = self.tree.get(path)
            if node is None:
                link.queue_event(DELETED, path)
            elif node.pzxid > since:
                link.queue_event(CHILD, path)
            else:
                self.server._watches.add(link, path, child=True)
        if isinstance(req, SetWatches2):  # persistent ones are re-set as they are
            for path in req.persistent_recursive:
                self.server._watches.add_recursive(link, path)
        link.queue_reply(key, Code.OK, self.tree.zxid)

    def _remove_watches(
        self, link: MemoryLink, key: int, req: RemoveWatches | CheckWatches
    ) -> None:
        kinds = _WATCH_TYPES.get(req.kind)
        remove = isinstance(req, RemoveWatches)
        if req.kind in _PERSISTENT_TYPES:  # 3.8 cannot read these: "any" removes them
            link.queue_reply(key, Code.MARSHALLING_ERROR, self.tree.zxid)
            return
        if kinds is None:
            link.queue_reply(key, Code.BAD_ARGUMENTS, self.tree.zxid)
            return
        found = [self.server._watches.holds(link, req.path, child=c, remove=remove) for c in kinds]
        if req.kind == _ANY:
            found.append(self.server._watches.holds_recursive(link, req.path, remove=remove))
        link.queue_reply(key, Code.OK if any(found) else Code.NO_WATCHER, self.tree.zxid)

    # -- session -----------------------------------------------------------------------------

    def _auth(self, link: MemoryLink, key: int, req: Auth) -> None:
        if req.scheme == "digest":
            ident = ("digest", digest_id(req.credential))
        elif req.scheme == "ip":
            ident = ("ip", "127.0.0.1")
        else:  # no such provider: the server says so and hangs up
            link.queue_reply(key, Code.AUTH_FAILED, 0)
            self.server._drop(
                link, ConnectionLossError(f"{link.address} closed the link."), graceful=True
            )
            return
        if ident not in link.ids:
            link.ids.append(ident)
        link.queue_reply(key, Code.OK, 0)

    def _close(self, link: MemoryLink, key: int) -> None:
        session = link.session
        zxid = self.server._end_session(session) if session is not None else self.tree.zxid
        link.queue_reply(key, Code.OK, zxid)
        self.server._drop(
            link, ConnectionLossError(f"{link.address} closed the session."), graceful=True
        )


def _hide_digest(entry: ACL) -> ACL:
    if entry.scheme == "digest" and ":" in entry.id:
        return ACL(entry.perms, entry.scheme, entry.id.split(":", 1)[0] + ":x")
    return entry
