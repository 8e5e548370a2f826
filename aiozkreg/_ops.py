"""Single ZooKeeper operations over a :class:`Session`, with client paths and values.

Each function validates its path, builds the typed request
(:mod:`._wire`) with the server path, sends it, and gives back values in
the client's terms. Node data longer than the session's
``max_request_size`` is refused here, when the request is built (before
waiting for a link); the link refuses any other request whose frame is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any

from . import _paths
from ._encoding import decode_properties, encode_properties
from ._errors import (
    BadVersionError,
    Code,
    NodeExistsError,
    NoNodeError,
    RequestTooLargeError,
    ServerError,
)
from ._session import Session
from ._transport import ReplyHook
from ._types import ACL, OPEN_ACL_UNSAFE, ZnodeStat
from ._watches import Watcher, WatchKind
from ._wire import (
    EPHEMERAL,
    SEQUENTIAL,
    Create,
    Delete,
    Exists,
    GetACL,
    GetChildren2,
    GetData,
    SetACL,
    SetData,
)
from ._wire_watches import (
    RemoveWatches,
)

# a persistent recursive watch goes with "any" (3): 3.8 cannot read its own type (5)
_WATCH_TYPES = {WatchKind.CHILD: 1, WatchKind.DATA: 2, WatchKind.EXIST: 2, WatchKind.RECURSIVE: 3}


def data(session: Session, value: bytes) -> bytes:
    """``value`` as node data: bytes, and not over the session's request limit."""
    if not isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(f"Node data must be bytes, not {type(value).__name__}.")
    raw = bytes(value)
    limit = session.config.max_request_size
    if len(raw) > limit:  # the frame is longer still
        raise RequestTooLargeError(len(raw), limit, "The node data")
    return raw


def flags(ephemeral: bool, sequential: bool) -> int:
    return (EPHEMERAL if ephemeral else 0) | (SEQUENTIAL if sequential else 0)


def create_request(
    session: Session,
    path: str,
    value: bytes,
    acl: Sequence[ACL] | None,
    ephemeral: bool = False,
    sequential: bool = False,
) -> Create:
    return Create(
        session.server_path(_paths.validate(path)),
        data(session, value),
        tuple(acl) if acl is not None else OPEN_ACL_UNSAFE,
        flags(ephemeral, sequential),
    )


async def create(
    session: Session,
    path: str,
    value: bytes = b"",
    *,
    acl: Sequence[ACL] | None = None,
    ephemeral: bool = False,
    sequential: bool = False,
    makepath: bool = False,
) -> str:
    """Create a node; its client path (with the sequence suffix, if any).

    ``makepath``: if the parent is missing, create it (and its ancestors) first.
    """
    request = create_request(session, path, value, acl, ephemeral, sequential)
    try:
        return session.client_path(await session.call(request, path=path))
    except NoNodeError:
        if not makepath:
            raise
    await ensure_path(session, _paths.split(path)[0])
    return session.client_path(await session.call(request, path=path))


async def delete(session: Session, path: str, version: int = -1) -> None:
    await session.call(Delete(session.server_path(_paths.validate(path)), version), path=path)


async def no_node(session: Session, path: str) -> NoNodeError:
    """The error for a missing ``path`` found without a failing request: the chroot's
    own when the chroot is missing, else NoNodeError(path)."""
    return await session.missing_chroot(path) or NoNodeError(path=path)


def _hook(
    session: Session, kind: WatchKind, path: str, watcher: Watcher | None
) -> ReplyHook | None:
    return session.watches.hook(kind, path, watcher) if watcher is not None else None


async def get(
    session: Session, path: str, watcher: Watcher | None = None
) -> tuple[bytes, ZnodeStat]:
    request = GetData(
        session.server_path(_paths.validate(path)), session.watches.watch_flag(path, watcher)
    )
    hook = _hook(session, WatchKind.DATA, path, watcher)
    return await session.call(request, path=path, hook=hook, retry=True)


async def set_data(session: Session, path: str, value: bytes, version: int = -1) -> ZnodeStat:
    request = SetData(session.server_path(_paths.validate(path)), data(session, value), version)
    return await session.call(request, path=path)


async def exists(session: Session, path: str, watcher: Watcher | None = None) -> ZnodeStat | None:
    """The node's stat, or None (NoNode is an answer here, not a failure)."""
    request = Exists(
        session.server_path(_paths.validate(path)), session.watches.watch_flag(path, watcher)
    )
    hook = _hook(session, WatchKind.EXIST, path, watcher)
    try:
        return await session.call(request, path=path, hook=hook, retry=True, check_chroot=False)
    except NoNodeError:
        return None


async def get_children(
    session: Session, path: str, watcher: Watcher | None = None
) -> tuple[list[str], ZnodeStat]:
    request = GetChildren2(
        session.server_path(_paths.validate(path)), session.watches.watch_flag(path, watcher)
    )
    hook = _hook(session, WatchKind.CHILD, path, watcher)
    return await session.call(request, path=path, hook=hook, retry=True)


async def get_acls(session: Session, path: str) -> tuple[list[ACL], ZnodeStat]:
    request = GetACL(session.server_path(_paths.validate(path)))
    return await session.call(request, path=path, retry=True)


async def set_acls(session: Session, path: str, acl: Sequence[ACL], version: int = -1) -> ZnodeStat:
    request = SetACL(session.server_path(_paths.validate(path)), tuple(acl), version)
    return await session.call(request, path=path)


async def remove_watches(session: Session, kind: WatchKind, path: str) -> None:
    """Ask the server to drop our watch of ``kind`` on ``path``; none there is fine."""
    request = RemoveWatches(session.server_path(_paths.validate(path)), _WATCH_TYPES[kind])
    try:
        await session.call(request, path=path)
    except ServerError as exc:
        if exc.code != Code.NO_WATCHER:
            raise


async def merge_properties(
    session: Session,
    path: str,
    changes: Mapping[str, Any],
    check: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    remove: Collection[str] = (),
) -> tuple[bytes, ZnodeStat]:
    """Merge ``changes`` into a node's properties with compare-and-set; (data, stat) written.

    Concurrent writers never lose each other's keys: on a version conflict
    the node is read and merged again. The keys in ``remove`` are dropped.
    ``check`` sees the merged mapping before each write (and may refuse it).
    """
    while True:
        raw, stat = await get(session, path)
        merged = {**decode_properties(raw, path), **changes}
        for key in remove:
            merged.pop(key, None)
        if check is not None:
            await check(merged)
        encoded = encode_properties(merged)
        try:
            return encoded, await set_data(session, path, encoded, stat.version)
        except BadVersionError:
            continue  # someone wrote in between: merge again


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
    wanted = tuple(acl) if acl is not None else OPEN_ACL_UNSAFE

    async def make(server_path: str) -> None:
        where = session.client_path(server_path)
        with contextlib.suppress(NodeExistsError):
            await session.call(Create(server_path, b"", wanted), path=where, check_chroot=False)

    if len(server_paths) <= 1:
        for server_path in server_paths:
            await make(server_path)
        return
    replies = await asyncio.gather(*map(make, server_paths), return_exceptions=True)
    for reply in replies:
        if isinstance(reply, BaseException):
            raise reply
