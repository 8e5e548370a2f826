"""The in-memory ZooKeeper's data: nodes, stats and the zxid.

Pure (no asyncio, no links): :mod:`._memory` calls one method per write and
gets back what changed as *triggers*, ``(path, event type)`` pairs that it
turns into watch notifications. The rules are ZooKeeper 3.8's, checked
against the real server (``tests/test_memory.py`` compares the two):

- every write takes a zxid, failed ones too (the server logs an error
  transaction); a multi takes one for all its operations;
- checks run in the server's order (``PrepRequestProcessor``): for a create,
  flags, then the ACL list, then the parent (``NoNode``), the parent's
  CREATE permission, the name, ``NodeExists``, ``NoChildrenForEphemerals``;
- a node keeps the server's internal child-version (the number of children
  ever created): sequence suffixes come from it, and the reported
  ``cversion`` is ``creates * 2 - numChildren`` (creates plus deletes);
- ACLs are checked by :mod:`._memory_acl`'s rules.

Nodes hold the public value types (:class:`~aiozkreg.ACL`,
:class:`~aiozkreg.ZnodeStat`) so that replies are made without conversion;
error codes are :class:`~aiozkreg._errors.Code`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .._errors import Code
from .._types import ACL, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, ZnodeStat
from .._watches import EventType
from .._wire import EPHEMERAL, SEQUENTIAL
from ._memory_acl import ADMIN, CREATE, DELETE, READ, WRITE, Fault, Ident, check_acl, fixup_acl

CREATED, DELETED, CHANGED, CHILD = (
    EventType.CREATED,
    EventType.DELETED,
    EventType.CHANGED,
    EventType.CHILD,
)

_TTL_FLAGS = (5, 6)  # need the createTTL opcode and extended types: Unimplemented
_SPECIAL = frozenset({"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"})

Trigger = tuple[str, EventType, tuple[ACL, ...]]  # (path, event type, that node's ACL)
WORLD_ALL = OPEN_ACL_UNSAFE


@dataclass(slots=True, eq=False)
class Node:
    data: bytes | None
    acl: tuple[ACL, ...]
    czxid: int = 0
    mzxid: int = 0
    ctime: int = 0
    mtime: int = 0
    owner: int = 0
    version: int = 0
    aversion: int = 0
    creates: int = 0  # the server's internal cversion: children ever created
    pzxid: int = 0
    children: dict[str, None] = field(default_factory=dict)  # insertion-ordered set

    def stat(self) -> ZnodeStat:
        count = len(self.children)
        return ZnodeStat(
            czxid=self.czxid,
            mzxid=self.mzxid,
            ctime=self.ctime,
            mtime=self.mtime,
            version=self.version,
            cversion=self.creates * 2 - count,
            aversion=self.aversion,
            ephemeral_owner=self.owner,
            data_length=len(self.data or b""),
            num_children=count,
            pzxid=self.pzxid,
        )


def parent_of(path: str) -> str:
    return path[: path.rfind("/")] or "/"


def validate_path(path: str) -> None:
    """ZooKeeper's ``PathUtils.validatePath``: BadArguments if it would refuse ``path``."""
    if not path.startswith("/"):
        raise Fault(Code.BAD_ARGUMENTS)
    if path == "/":
        return
    if path.endswith("/"):
        raise Fault(Code.BAD_ARGUMENTS)
    for part in path[1:].split("/"):
        if part in ("", ".", ".."):
            raise Fault(Code.BAD_ARGUMENTS)
    for char in path:
        code = ord(char)
        if (
            code <= 0x1F
            or 0x7F <= code <= 0x9F
            or 0xD800 <= code <= 0xF8FF
            or code >= 0xFFF0  # the top of the BMP, and pairs (Java sees surrogates)
        ):
            raise Fault(Code.BAD_ARGUMENTS)


def _check_version(current: int, expected: int) -> None:
    if expected != -1 and expected != current:
        raise Fault(Code.BAD_VERSION)


class Tree:
    """The node tree as a fresh standalone ZooKeeper 3.8 has it."""

    def __init__(self) -> None:
        self.zxid = 0
        self.nodes: dict[str, Node] = {
            "/": Node(b"", WORLD_ALL, children={"zookeeper": None}),
            "/zookeeper": Node(b"", WORLD_ALL, children={"config": None, "quota": None}),
            "/zookeeper/quota": Node(b"", WORLD_ALL),
            "/zookeeper/config": Node(b"", READ_ACL_UNSAFE, aversion=-1),
        }
        self.ephemerals: dict[int, dict[str, None]] = {}
        self._undo: list[Callable[[], None]] | None = None

    def next_zxid(self) -> int:
        self.zxid += 1
        return self.zxid

    def get(self, path: str) -> Node | None:
        return self.nodes.get(path)

    def _node(self, path: str) -> Node:
        node = self.nodes.get(path)
        if node is None:
            raise Fault(Code.NO_NODE)
        return node

    # -- all or nothing (multi) ----------------------------------------------------

    def begin(self) -> None:
        self._undo = []

    def commit(self) -> None:
        self._undo = None

    def rollback(self) -> None:
        undo, self._undo = self._undo or [], None
        for step in reversed(undo):
            step()

    def _record(self, step: Callable[[], None]) -> None:
        if self._undo is not None:
            self._undo.append(step)

    # -- writes (zxid given by the caller; triggers appended to ``out``) ------------

    def create(
        self,
        path: str,
        data: bytes | None,
        acl: Sequence[ACL],
        flags: int,
        *,
        session: int,
        ids: Sequence[Ident] | None,
        zxid: int,
        now: int,
        out: list[Trigger],
    ) -> str:
        if flags in _TTL_FLAGS:
            raise Fault(Code.UNIMPLEMENTED)
        if not 0 <= flags <= 4:  # 4, a container, is kept as a plain node
            raise Fault(Code.BAD_ARGUMENTS)
        slash = path.rfind("/")
        if slash == -1 or "\x00" in path:
            raise Fault(Code.BAD_ARGUMENTS)
        fixed = fixup_acl(acl, ids or ())
        parent_path = path[:slash] or "/"
        parent = self._node(parent_path)
        check_acl(parent.acl, CREATE, ids)
        if flags & SEQUENTIAL:
            path = f"{path}{parent.creates:010d}"
        validate_path(path)
        if path in self.nodes:
            raise Fault(Code.NODE_EXISTS)
        if parent.owner:
            raise Fault(Code.NO_CHILDREN_FOR_EPHEMERALS)
        owner = session if flags & EPHEMERAL else 0
        name = path[slash + 1 :]
        self.nodes[path] = Node(data, fixed, zxid, zxid, now, now, owner, pzxid=zxid)
        parent.children[name] = None
        old = parent.creates, parent.pzxid
        parent.creates += 1
        parent.pzxid = zxid
        if owner:
            self.ephemerals.setdefault(owner, {})[path] = None

        def undo() -> None:
            del self.nodes[path]
            del parent.children[name]
            parent.creates, parent.pzxid = old
            if owner:
                self.ephemerals[owner].pop(path, None)

        self._record(undo)
        out += [(path, CREATED, fixed), (parent_path, CHILD, parent.acl)]
        return path

    def delete(
        self,
        path: str,
        version: int,
        *,
        ids: Sequence[Ident] | None,
        zxid: int,
        out: list[Trigger],
    ) -> None:
        slash = path.rfind("/")
        if slash == -1 or "\x00" in path or path in _SPECIAL:
            raise Fault(Code.BAD_ARGUMENTS)
        parent = self._node(path[:slash] or "/")
        check_acl(parent.acl, DELETE, ids)
        node = self._node(path)
        _check_version(node.version, version)
        if node.children:
            raise Fault(Code.NOT_EMPTY)
        self._remove(path, node, zxid, out)

    def _remove(self, path: str, node: Node, zxid: int, out: list[Trigger]) -> None:
        parent_path = parent_of(path)
        parent = self.nodes[parent_path]
        name = path[path.rfind("/") + 1 :]
        del self.nodes[path]
        del parent.children[name]
        old_pzxid = parent.pzxid
        parent.pzxid = max(parent.pzxid, zxid)
        if node.owner:
            self.ephemerals.get(node.owner, {}).pop(path, None)

        def undo() -> None:
            self.nodes[path] = node
            parent.children[name] = None
            parent.pzxid = old_pzxid
            if node.owner:
                self.ephemerals.setdefault(node.owner, {})[path] = None

        self._record(undo)
        out += [(path, DELETED, node.acl), (parent_path, CHILD, parent.acl)]

    def set_data(
        self,
        path: str,
        data: bytes | None,
        version: int,
        *,
        ids: Sequence[Ident] | None,
        zxid: int,
        now: int,
        out: list[Trigger],
    ) -> Node:
        validate_path(path)
        node = self._node(path)
        check_acl(node.acl, WRITE, ids)
        _check_version(node.version, version)
        old = node.data, node.version, node.mzxid, node.mtime

        def undo() -> None:
            node.data, node.version, node.mzxid, node.mtime = old

        node.data, node.version, node.mzxid, node.mtime = data, node.version + 1, zxid, now
        self._record(undo)
        out.append((path, CHANGED, node.acl))
        return node

    def set_acl(
        self, path: str, acl: Sequence[ACL], version: int, *, ids: Sequence[Ident] | None
    ) -> Node:
        validate_path(path)
        fixed = fixup_acl(acl, ids or ())
        node = self._node(path)
        check_acl(node.acl, ADMIN, ids)
        _check_version(node.aversion, version)
        node.acl = fixed
        node.aversion += 1
        return node

    def check(self, path: str, version: int, *, ids: Sequence[Ident] | None) -> None:
        validate_path(path)
        node = self._node(path)
        check_acl(node.acl, READ, ids)
        _check_version(node.version, version)

    def kill_session(self, session: int, *, zxid: int, out: list[Trigger]) -> None:
        """Delete the ephemeral nodes of a closed or expired session."""
        for path in list(self.ephemerals.pop(session, {})):
            node = self.nodes.get(path)
            if node is not None:
                self._remove(path, node, zxid, out)
