"""The in-memory ZooKeeper's request handlers: one per aiozk request class.

Each handler runs the request against the server's tree and queues the
reply on the link: the error code, the zxid a real server would put in the
reply header, and the aiozk response object the real link would parse.
Observed on ZooKeeper 3.8 and mirrored here:

- reads answer with the current zxid; writes with their own (failed ones
  included); auth replies carry zxid 0;
- notifications a request triggers are queued before its reply, on every
  link holding the watch (the requester's too);
- ``exists`` sets its watch whether or not the node is there; ``getData``
  and ``getChildren`` set none when they fail;
- a multi replies with error code 0 and per-operation results: 0 for the
  operations before the failing one, its code, then -2 (runtime
  inconsistency); a ``create2`` inside a multi answers like a ``create``;
- ``getACL`` needs READ or ADMIN, and hides digest hashes (``user:x``)
  from a caller without ADMIN;
- an unknown auth scheme fails (AuthFailed) and closes the link (a request
  frame over ``jute.maxbuffer`` closes it too, without a reply: checked by
  the server before a request reaches these handlers);
- ``SetWatches`` fires at once what changed since the client's zxid
  (data, then exist, then child watches), then replies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiozk import protocol as _p

from .._errors import ConnectionLossError
from .._ops import MultiReadRequest, _MultiResponse
from ._memory_tree import (
    ADMIN,
    AUTH_FAILED,
    BAD_ARGUMENTS,
    CHANGED,
    CHILD,
    CREATED,
    DELETED,
    NO_NODE,
    NO_WATCHER,
    OK,
    READ,
    RUNTIME_INCONSISTENCY,
    UNIMPLEMENTED,
    AclEntry,
    Fault,
    Trigger,
    check_acl,
    digest_id,
)

if TYPE_CHECKING:
    from ._memory import MemoryZooKeeper
    from ._memory_link import MemoryLink

_MULTI_OPS = (
    _p.CreateRequest,
    _p.Create2Request,
    _p.DeleteRequest,
    _p.SetDataRequest,
    _p.CheckVersionRequest,
)
_WATCH_TYPES: dict[int, tuple[bool, ...]] = {1: (True,), 2: (False,), 3: (True, False)}

Apply = Callable[[int, int, list[Trigger]], Any]


def _acl_in(acl: Any) -> list[AclEntry]:
    return [(int(entry.perms), str(entry.id.scheme), str(entry.id.id)) for entry in acl or ()]


def _acl_out(acl: tuple[AclEntry, ...]) -> list[Any]:
    return [_p.acl.ACL(perms=p, id=_p.acl.ID(scheme=s, id=i)) for p, s, i in acl]


class Requests:
    """Handles requests for one :class:`MemoryZooKeeper`."""

    def __init__(self, server: MemoryZooKeeper) -> None:
        self.server = server
        self.tree = server._tree
        self._handlers: dict[type[Any], Callable[[MemoryLink, int, Any], None]] = {
            _p.CreateRequest: self._create,
            _p.Create2Request: self._create,
            _p.DeleteRequest: self._delete,
            _p.SetDataRequest: self._set_data,
            _p.SetACLRequest: self._set_acl,
            _p.CheckVersionRequest: self._check,
            _p.TransactionRequest: self._multi,
            MultiReadRequest: self._multi_read,
            _p.ExistsRequest: self._exists,
            _p.GetDataRequest: self._get_data,
            _p.GetChildrenRequest: self._get_children,
            _p.GetChildren2Request: self._get_children,
            _p.GetACLRequest: self._get_acl,
            _p.SyncRequest: self._sync,
            _p.SetWatchesRequest: self._set_watches,
            _p.RemoveWatchesRequest: self._remove_watches,
            _p.CheckWatchesRequest: self._remove_watches,
            _p.AuthRequest: self._auth,
            _p.CloseRequest: self._close,
            _p.PingRequest: self._ping,
        }

    def handle(self, link: MemoryLink, key: int, request: Any) -> None:
        handler = self._handlers.get(type(request))
        if handler is None:
            link.queue_reply(key, UNIMPLEMENTED, self.tree.zxid)
            return
        handler(link, key, request)

    def _read(self, link: MemoryLink, key: int, answer: Callable[[], Any]) -> None:
        try:
            response = answer()
        except Fault as fault:
            link.queue_reply(key, fault.code, self.tree.zxid)
            return
        link.queue_reply(key, OK, self.tree.zxid, response)

    def _write(self, link: MemoryLink, key: int, apply: Apply) -> None:
        try:
            zxid, response = self.server._write(apply)
        except Fault as fault:
            link.queue_reply(key, fault.code, self.tree.zxid)
            return
        link.queue_reply(key, OK, zxid, response)

    def _session_id(self, link: MemoryLink) -> int:
        return link.session.id if link.session is not None else 0

    # -- writes --------------------------------------------------------------------------

    def _do_create(
        self, link: MemoryLink, req: Any, zxid: int, now: int, out: list[Trigger]
    ) -> str:
        return self.tree.create(
            req.path,
            req.data,
            _acl_in(req.acl),
            req.flags or 0,
            session=self._session_id(link),
            ids=link.ids,
            zxid=zxid,
            now=now,
            out=out,
        )

    def _create(self, link: MemoryLink, key: int, req: Any) -> None:
        def apply(zxid: int, now: int, out: list[Trigger]) -> Any:
            path = self._do_create(link, req, zxid, now, out)
            if isinstance(req, _p.Create2Request):
                return _p.Create2Response(path=path, stat=self.tree.nodes[path].stat())
            return _p.CreateResponse(path=path)

        self._write(link, key, apply)

    def _delete(self, link: MemoryLink, key: int, req: Any) -> None:
        def apply(zxid: int, now: int, out: list[Trigger]) -> Any:
            self.tree.delete(req.path, req.version, ids=link.ids, zxid=zxid, out=out)
            return _p.DeleteResponse()

        self._write(link, key, apply)

    def _set_data(self, link: MemoryLink, key: int, req: Any) -> None:
        def apply(zxid: int, now: int, out: list[Trigger]) -> Any:
            node = self.tree.set_data(
                req.path, req.data, req.version, ids=link.ids, zxid=zxid, now=now, out=out
            )
            return _p.SetDataResponse(stat=node.stat())

        self._write(link, key, apply)

    def _set_acl(self, link: MemoryLink, key: int, req: Any) -> None:
        def apply(zxid: int, now: int, out: list[Trigger]) -> Any:
            node = self.tree.set_acl(req.path, _acl_in(req.acl), req.version, ids=link.ids)
            return _p.SetACLResponse(stat=node.stat())

        self._write(link, key, apply)

    def _check(self, link: MemoryLink, key: int, req: Any) -> None:
        def apply(zxid: int, now: int, out: list[Trigger]) -> Any:
            self.tree.check(req.path, req.version, ids=link.ids)
            return _p.CheckVersionResponse()

        self._write(link, key, apply)

    def _multi(self, link: MemoryLink, key: int, req: Any) -> None:
        ops = list(req.requests)
        if any(type(op) not in _MULTI_OPS for op in ops):  # the server cannot even parse it
            self.server._drop(link, ConnectionLossError(f"{link.address} refused a bad multi."))
            return

        def apply(zxid: int, now: int, out: list[Trigger]) -> Any:
            results: list[Any] = []
            self.tree.begin()
            for index, op in enumerate(ops):
                try:
                    results.append(self._multi_op(link, op, zxid, now, out))
                except Fault as fault:
                    self.tree.rollback()
                    out.clear()
                    after = len(ops) - index - 1
                    return _MultiResponse(
                        [OK] * index + [fault.code] + [RUNTIME_INCONSISTENCY] * after
                    )
            self.tree.commit()
            return _MultiResponse(results)

        self._write(link, key, apply)

    def _multi_op(self, link: MemoryLink, op: Any, zxid: int, now: int, out: list[Trigger]) -> Any:
        if isinstance(op, _p.CreateRequest):  # create2 too: a multi answers with the path
            return _p.CreateResponse(path=self._do_create(link, op, zxid, now, out))
        if isinstance(op, _p.DeleteRequest):
            self.tree.delete(op.path, op.version, ids=link.ids, zxid=zxid, out=out)
            return _p.DeleteResponse()
        if isinstance(op, _p.SetDataRequest):
            node = self.tree.set_data(
                op.path, op.data, op.version, ids=link.ids, zxid=zxid, now=now, out=out
            )
            return _p.SetDataResponse(stat=node.stat())
        self.tree.check(op.path, op.version, ids=link.ids)
        return _p.CheckVersionResponse()

    # -- reads ---------------------------------------------------------------------------

    def _multi_read(self, link: MemoryLink, key: int, req: Any) -> None:
        """getChildren and getData ops in one request; each fails on its own (no rollback)."""

        def answer() -> Any:
            results: list[Any] = []
            for op in req.requests:
                try:
                    node = self._readable(link, op.path)
                except Fault as fault:
                    results.append(fault.code)
                    continue
                if isinstance(op, _p.GetDataRequest):
                    results.append(_p.GetDataResponse(data=node.data, stat=node.stat()))
                else:
                    results.append(_p.GetChildrenResponse(children=list(node.children)))
            return _MultiResponse(results)

        self._read(link, key, answer)

    def _exists(self, link: MemoryLink, key: int, req: Any) -> None:
        def answer() -> Any:
            if "\x00" in req.path:
                raise Fault(BAD_ARGUMENTS)
            if req.watch:  # set even when the node is missing: it waits for the create
                self.server._watch(link, req.path, child=False)
            node = self.tree.get(req.path)
            if node is None:
                raise Fault(NO_NODE)
            return _p.ExistsResponse(stat=node.stat())

        self._read(link, key, answer)

    def _readable(self, link: MemoryLink, path: str, perm: int = READ) -> Any:
        node = self.tree.get(path)
        if node is None:
            raise Fault(NO_NODE)
        check_acl(node.acl, perm, link.ids)
        return node

    def _get_data(self, link: MemoryLink, key: int, req: Any) -> None:
        def answer() -> Any:
            node = self._readable(link, req.path)
            if req.watch:
                self.server._watch(link, req.path, child=False)
            return _p.GetDataResponse(data=node.data, stat=node.stat())

        self._read(link, key, answer)

    def _get_children(self, link: MemoryLink, key: int, req: Any) -> None:
        def answer() -> Any:
            node = self._readable(link, req.path)
            if req.watch:
                self.server._watch(link, req.path, child=True)
            if isinstance(req, _p.GetChildren2Request):
                return _p.GetChildren2Response(children=list(node.children), stat=node.stat())
            return _p.GetChildrenResponse(children=list(node.children))

        self._read(link, key, answer)

    def _get_acl(self, link: MemoryLink, key: int, req: Any) -> None:
        def answer() -> Any:
            node = self._readable(link, req.path, READ | ADMIN)
            acl = node.acl
            try:
                check_acl(acl, ADMIN, link.ids)
            except Fault:  # no ADMIN: digest hashes are hidden
                acl = tuple(
                    (p, s, i.split(":", 1)[0] + ":x" if s == "digest" and ":" in i else i)
                    for p, s, i in acl
                )
            return _p.GetACLResponse(acl=_acl_out(acl), stat=node.stat())

        self._read(link, key, answer)

    def _sync(self, link: MemoryLink, key: int, req: Any) -> None:
        link.queue_reply(key, OK, self.tree.zxid, _p.SyncResponse(path=req.path))

    # -- watches ---------------------------------------------------------------------------

    def _set_watches(self, link: MemoryLink, key: int, req: Any) -> None:
        since = req.relative_zxid or 0
        for path in req.data_watches or ():
            node = self.tree.get(path)
            if node is None:
                link.queue_event(DELETED, path)
            elif node.mzxid > since:
                link.queue_event(CHANGED, path)
            else:
                self.server._watch(link, path, child=False)
        for path in req.exist_watches or ():
            if self.tree.get(path) is not None:
                link.queue_event(CREATED, path)
            else:
                self.server._watch(link, path, child=False)
        for path in req.child_watches or ():
            node = self.tree.get(path)
            if node is None:
                link.queue_event(DELETED, path)
            elif node.pzxid > since:
                link.queue_event(CHILD, path)
            else:
                self.server._watch(link, path, child=True)
        link.queue_reply(key, OK, self.tree.zxid)

    def _remove_watches(self, link: MemoryLink, key: int, req: Any) -> None:
        kinds = _WATCH_TYPES.get(req.type)
        if kinds is None:
            link.queue_reply(key, BAD_ARGUMENTS, self.tree.zxid)
            return
        remove = isinstance(req, _p.RemoveWatchesRequest)
        found = [self.server._unwatch(link, req.path, child=c, remove=remove) for c in kinds]
        link.queue_reply(key, OK if any(found) else NO_WATCHER, self.tree.zxid)

    # -- session -----------------------------------------------------------------------------

    def _auth(self, link: MemoryLink, key: int, req: Any) -> None:
        credential = req.auth if isinstance(req.auth, bytes) else str(req.auth or "").encode()
        if req.scheme == "digest":
            ident = ("digest", digest_id(credential))
        elif req.scheme == "ip":
            ident = ("ip", "127.0.0.1")
        else:  # no such provider: the server says so and hangs up
            link.queue_reply(key, AUTH_FAILED, 0)
            self.server._drop(
                link, ConnectionLossError(f"{link.address} closed the link."), graceful=True
            )
            return
        if ident not in link.ids:
            link.ids.append(ident)
        link.queue_reply(key, OK, 0)

    def _close(self, link: MemoryLink, key: int, req: Any) -> None:
        session = link.session
        zxid = self.server._end_session(session) if session is not None else self.tree.zxid
        link.queue_reply(key, OK, zxid)
        self.server._drop(
            link, ConnectionLossError(f"{link.address} closed the session."), graceful=True
        )

    def _ping(self, link: MemoryLink, key: int, req: Any) -> None:
        link.queue_reply(key, OK, self.tree.zxid)
