"""Single ZooKeeper operations over a :class:`Session`: the only place that
builds aiozk request objects and turns replies into aiozkreg values.

Node data longer than the session's ``max_request_size`` is refused here,
when the request is built (before waiting for a link); the link refuses
any other request whose exact frame is over it (``_connection``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import struct
from collections.abc import Sequence
from typing import Any

from aiozk import protocol as _p

from . import _paths
from ._errors import (
    NodeExistsError,
    NoNodeError,
    RequestTooLargeError,
    ServerError,
    TransactionError,
    error_for_code,
)
from ._session import Session, Watcher, WatchKind
from ._types import ACL, OPEN_ACL_UNSAFE, ZnodeStat

_EPHEMERAL = 1
_SEQUENTIAL = 2


def _data(session: Session, value: bytes) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(f"Node data must be bytes, not {type(value).__name__}.")
    data = bytes(value)
    if len(data) > session.max_request_size:  # the frame is longer still
        raise RequestTooLargeError(len(data), session.max_request_size, "The node data")
    return data


def _acl(acl: Sequence[ACL] | None, default: Sequence[ACL] = OPEN_ACL_UNSAFE) -> list[Any]:
    return _wire_acl(tuple(acl if acl is not None else default))


@functools.lru_cache(maxsize=64)
def _wire_acl(acl: tuple[ACL, ...]) -> list[Any]:
    """aiozk ACL objects for ``acl``, made once (requests only read them)."""
    return [entry.to_wire() for entry in acl]


def _flags(ephemeral: bool, sequential: bool) -> int:
    return (_EPHEMERAL if ephemeral else 0) | (_SEQUENTIAL if sequential else 0)


def create_request(
    session: Session,
    path: str,
    value: bytes,
    acl: Sequence[ACL] | None,
    ephemeral: bool,
    sequential: bool,
) -> Any:
    return _p.CreateRequest(
        path=session.server_path(_paths.validate(path)),
        data=_data(session, value),
        acl=_acl(acl),
        flags=_flags(ephemeral, sequential),
    )


async def create(
    session: Session,
    path: str,
    value: bytes = b"",
    *,
    acl: Sequence[ACL] | None = None,
    ephemeral: bool = False,
    sequential: bool = False,
) -> str:
    request = create_request(session, path, value, acl, ephemeral, sequential)
    reply = await session.call(request, _p.CreateResponse, path=path)
    return session.client_path(reply.path)


async def create2(
    session: Session,
    path: str,
    value: bytes,
    *,
    acl: Sequence[ACL] | None = None,
    ephemeral: bool = False,
    sequential: bool = False,
) -> tuple[str, ZnodeStat]:
    """Create and return (path, stat) in one round trip."""
    base = create_request(session, path, value, acl, ephemeral, sequential)
    request = _p.Create2Request(path=base.path, data=base.data, acl=base.acl, flags=base.flags)
    reply = await session.call(request, _p.Create2Response, path=path)
    return session.client_path(reply.path), ZnodeStat.from_wire(reply.stat)


async def delete(session: Session, path: str, version: int = -1) -> None:
    request = _p.DeleteRequest(path=session.server_path(_paths.validate(path)), version=version)
    await session.call(request, None, path=path)


async def no_node(session: Session, path: str) -> NoNodeError:
    """The error to raise for a missing ``path`` found without a failing request (or after
    swallowing one): the chroot's own when the chroot is missing, else NoNodeError(path)."""
    return await session.missing_chroot(path) or NoNodeError(path=path)


async def get(
    session: Session, path: str, watcher: Watcher | None = None
) -> tuple[bytes, ZnodeStat]:
    hook = session.watch_hook(WatchKind.DATA, path, watcher) if watcher else None
    request = _p.GetDataRequest(
        path=session.server_path(_paths.validate(path)), watch=watcher is not None
    )
    reply = await session.call(request, _p.GetDataResponse, path=path, hook=hook, retry=True)
    return (reply.data or b""), ZnodeStat.from_wire(reply.stat)


async def set_data(session: Session, path: str, value: bytes, version: int = -1) -> ZnodeStat:
    request = _p.SetDataRequest(
        path=session.server_path(_paths.validate(path)),
        data=_data(session, value),
        version=version,
    )
    reply = await session.call(request, _p.SetDataResponse, path=path)
    return ZnodeStat.from_wire(reply.stat)


async def exists(session: Session, path: str, watcher: Watcher | None = None) -> ZnodeStat | None:
    hook = session.watch_hook(WatchKind.EXIST, path, watcher) if watcher else None
    request = _p.ExistsRequest(
        path=session.server_path(_paths.validate(path)), watch=watcher is not None
    )
    try:
        reply = await session.call(
            request, _p.ExistsResponse, path=path, hook=hook, retry=True, check_chroot=False
        )
    except NoNodeError:
        return None
    return ZnodeStat.from_wire(reply.stat)


async def get_children(
    session: Session, path: str, watcher: Watcher | None = None
) -> tuple[list[str], ZnodeStat]:
    hook = session.watch_hook(WatchKind.CHILD, path, watcher) if watcher else None
    request = _p.GetChildren2Request(
        path=session.server_path(_paths.validate(path)), watch=watcher is not None
    )
    reply = await session.call(request, _p.GetChildren2Response, path=path, hook=hook, retry=True)
    return list(reply.children), ZnodeStat.from_wire(reply.stat)


async def get_acls(session: Session, path: str) -> tuple[list[ACL], ZnodeStat]:
    request = _p.GetACLRequest(path=session.server_path(_paths.validate(path)))
    reply = await session.call(request, _p.GetACLResponse, path=path, retry=True)
    return [ACL.from_wire(a) for a in reply.acl], ZnodeStat.from_wire(reply.stat)


async def set_acls(session: Session, path: str, acl: Sequence[ACL], version: int = -1) -> ZnodeStat:
    request = _p.SetACLRequest(
        path=session.server_path(_paths.validate(path)), acl=_acl(acl), version=version
    )
    reply = await session.call(request, _p.SetACLResponse, path=path)
    return ZnodeStat.from_wire(reply.stat)


_WATCH_TYPES = {WatchKind.CHILD: 1, WatchKind.DATA: 2, WatchKind.EXIST: 2}
_NO_WATCHER = -121


async def remove_watches(session: Session, kind: WatchKind, path: str) -> None:
    """Ask the server to drop our watch of ``kind`` on ``path``; no error if it has none."""
    request = _p.RemoveWatchesRequest(
        path=session.server_path(_paths.validate(path)), type=_WATCH_TYPES[kind]
    )
    try:
        await session.call(request, None, path=path)
    except ServerError as exc:
        if exc.code != _NO_WATCHER:
            raise


async def ensure_path(session: Session, path: str, acl: Sequence[ACL] | None = None) -> None:
    """Create ``path`` and its missing ancestors, all requests in flight at once.

    With a chroot, a missing chroot node (and its missing ancestors) is
    created too: only after a NoNode, so an existing chroot costs nothing.
    """
    _paths.validate(path)
    chroot = session.chroot
    targets = [session.server_path(p) for p in (*_paths.parents(path), path) if p != "/"]
    if chroot and path == "/":  # the chroot node itself is the one node "/" can name
        await _create_all(session, [*_paths.parents(chroot), chroot], acl)
        return
    try:
        await _create_all(session, targets, acl)
    except NoNodeError:
        if not chroot:
            raise
        # the chroot is missing (or was deleted meanwhile): make it, then the rest
        await _create_all(session, [*_paths.parents(chroot), chroot, *targets], acl)


async def _create_all(
    session: Session, server_paths: Sequence[str], acl: Sequence[ACL] | None
) -> None:
    """Create empty nodes at server paths (above the chroot too), pipelined in order;
    nodes that exist already are fine."""
    wire_acl = _acl(acl)

    async def make(server_path: str) -> None:
        request = _p.CreateRequest(path=server_path, data=b"", acl=wire_acl, flags=0)
        where = session.client_path(server_path)
        with contextlib.suppress(NodeExistsError):
            await session.call(request, _p.CreateResponse, path=where, check_chroot=False)

    if len(server_paths) <= 1:
        for server_path in server_paths:
            await make(server_path)
        return
    replies = await asyncio.gather(*map(make, server_paths), return_exceptions=True)
    for reply in replies:
        if isinstance(reply, BaseException):
            raise reply


# -- transactions -------------------------------------------------------------------

_MULTI_HEADER = struct.Struct("!i?i")
_INT = struct.Struct("!i")


class _MultiResponse:
    """A multi reply: one parsed response or error code per operation."""

    opcode = 14
    parse_on_error = True  # a failed multi still carries per-operation results

    def __init__(self, results: list[Any]) -> None:
        self.results = results

    @classmethod
    def deserialize(cls, raw: bytes) -> _MultiResponse:
        results: list[Any] = []
        type_, done, _err = _MULTI_HEADER.unpack_from(raw, 0)
        offset = _MULTI_HEADER.size
        while not done:
            if type_ == -1:
                (code,) = _INT.unpack_from(raw, offset)
                offset += _INT.size
                results.append(code)
            else:
                reply, offset = _p.response_xref[type_].parse(raw, offset)
                results.append(reply)
            type_, done, _err = _MULTI_HEADER.unpack_from(raw, offset)
            offset += _MULTI_HEADER.size
        return cls(results)


class MultiReadRequest(_p.TransactionRequest):  # type: ignore[misc]
    """Several reads in one request (ZooKeeper 3.6+): getChildren and getData only."""

    opcode = 22


async def read_many(session: Session, requests: Sequence[tuple[Any, str]]) -> list[Any]:
    """Send ``(request, path)`` reads as one multi-read; each reply, or its error, in order."""
    multi = MultiReadRequest()
    for request, _ in requests:
        multi.add(request)
    reply: _MultiResponse = await session.call(multi, _MultiResponse, retry=True)
    return [
        error_for_code(item, path) if isinstance(item, int) else item
        for item, (_, path) in zip(reply.results, requests, strict=True)
    ]


def children_request(session: Session, path: str) -> Any:
    return _p.GetChildrenRequest(path=session.server_path(_paths.validate(path)), watch=False)


def data_request(session: Session, path: str) -> Any:
    return _p.GetDataRequest(path=session.server_path(_paths.validate(path)), watch=False)


class Transaction:
    """Operations applied all together or not at all: ``await txn.commit()``."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._ops: list[tuple[Any, str]] = []
        self._committed = False

    def create(
        self,
        path: str,
        value: bytes = b"",
        *,
        acl: Sequence[ACL] | None = None,
        ephemeral: bool = False,
        sequential: bool = False,
    ) -> Transaction:
        self._ops.append(
            (create_request(self._session, path, value, acl, ephemeral, sequential), path)
        )
        return self

    def delete(self, path: str, version: int = -1) -> Transaction:
        request = _p.DeleteRequest(
            path=self._session.server_path(_paths.validate(path)), version=version
        )
        self._ops.append((request, path))
        return self

    def set_data(self, path: str, value: bytes, version: int = -1) -> Transaction:
        request = _p.SetDataRequest(
            path=self._session.server_path(_paths.validate(path)),
            data=_data(self._session, value),
            version=version,
        )
        self._ops.append((request, path))
        return self

    def check(self, path: str, version: int) -> Transaction:
        request = _p.CheckVersionRequest(
            path=self._session.server_path(_paths.validate(path)), version=version
        )
        self._ops.append((request, path))
        return self

    async def commit(self) -> list[Any]:
        """Apply every operation; return each one's result.

        Results: the created path for a create, a :class:`ZnodeStat` for a
        set, ``True`` for a delete or check. On failure nothing is applied and
        :class:`TransactionError` carries, per operation, ``None`` (rolled
        back) or the error that stopped it.
        """
        if self._committed:
            raise RuntimeError("This transaction was already committed.")
        self._committed = True
        if not self._ops:
            return []
        multi = _p.TransactionRequest()
        for request, _ in self._ops:
            multi.add(request)
        reply: _MultiResponse = await self._session.call(multi, _MultiResponse)
        results: list[Any] = []
        failed = False
        for (_, path), item in zip(self._ops, reply.results, strict=False):
            if isinstance(item, int):
                if item in (0, -2):  # OK (rolled back) or runtime inconsistency
                    results.append(None)
                else:
                    failed = True
                    results.append(error_for_code(item, path))
            else:
                results.append(self._value(item))
        if failed:
            await self._blame_chroot(results)
            raise TransactionError(results)
        return results

    async def _blame_chroot(self, results: list[Any]) -> None:
        """Replace a NoNode result by the chroot's own error if the chroot is missing."""
        for index, result in enumerate(results):
            if isinstance(result, NoNodeError) and self._session.chroot:
                missing = await self._session.missing_chroot(result.path)
                if missing is not None:
                    missing.__cause__ = result
                    results[index] = missing
                return

    def _value(self, reply: Any) -> Any:
        if isinstance(reply, _p.CreateResponse | _p.Create2Response):
            return self._session.client_path(reply.path)
        if isinstance(reply, _p.SetDataResponse):
            return ZnodeStat.from_wire(reply.stat)
        return True
