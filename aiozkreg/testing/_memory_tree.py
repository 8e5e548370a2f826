"""The in-memory ZooKeeper's data: nodes, stats, ACLs and the zxid.

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
- ACLs: ``world:anyone``, ``digest`` (``user:base64(sha1(user:password))``)
  and ``ip`` (IPv4, with a ``/bits`` mask) are enforced; the ``auth`` scheme
  expands to the caller's digest identities.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiozk.protocol.stat import Stat

# ZooKeeper's error codes (KeeperException.Code)
OK = 0
RUNTIME_INCONSISTENCY = -2
UNIMPLEMENTED = -6
BAD_ARGUMENTS = -8
NO_NODE = -101
NO_AUTH = -102
BAD_VERSION = -103
NO_CHILDREN_FOR_EPHEMERALS = -108
NODE_EXISTS = -110
NOT_EMPTY = -111
INVALID_ACL = -114
AUTH_FAILED = -115
NO_WATCHER = -121

# watch event types
CREATED, DELETED, CHANGED, CHILD = 1, 2, 3, 4

READ, WRITE, CREATE, DELETE, ADMIN = 1, 2, 4, 8, 16

_EPHEMERAL, _SEQUENTIAL = 1, 2
_TTL_FLAGS = (5, 6)  # need the createTTL opcode and extended types: Unimplemented
_SPECIAL = frozenset({"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"})

AclEntry = tuple[int, str, str]  # perms, scheme, id
Ident = tuple[str, str]  # scheme, id: who a link has authenticated as
Trigger = tuple[str, int, tuple[AclEntry, ...]]  # (path, event type, that node's ACL)
WORLD_ALL: tuple[AclEntry, ...] = ((31, "world", "anyone"),)


class Fault(Exception):
    """A request failed with a ZooKeeper error code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass(slots=True, eq=False)
class Node:
    data: bytes | None
    acl: tuple[AclEntry, ...]
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

    def stat(self) -> Any:
        count = len(self.children)
        return Stat(
            created_zxid=self.czxid,
            last_modified_zxid=self.mzxid,
            created=self.ctime,
            modified=self.mtime,
            version=self.version,
            child_version=self.creates * 2 - count,
            acl_version=self.aversion,
            ephemeral_owner=self.owner,
            data_length=len(self.data or b""),
            num_children=count,
            last_modified_children=self.pzxid,
        )


def parent_of(path: str) -> str:
    return path[: path.rfind("/")] or "/"


def validate_path(path: str) -> None:
    """ZooKeeper's ``PathUtils.validatePath``: BadArguments if it would refuse ``path``."""
    if not path.startswith("/"):
        raise Fault(BAD_ARGUMENTS)
    if path == "/":
        return
    if path.endswith("/"):
        raise Fault(BAD_ARGUMENTS)
    for part in path[1:].split("/"):
        if part in ("", ".", ".."):
            raise Fault(BAD_ARGUMENTS)
    for char in path:
        code = ord(char)
        if (
            code <= 0x1F
            or 0x7F <= code <= 0x9F
            or 0xD800 <= code <= 0xF8FF
            or code >= 0xFFF0  # the top of the BMP, and pairs (Java sees surrogates)
        ):
            raise Fault(BAD_ARGUMENTS)


def digest_id(credential: bytes) -> str:
    """The digest identity for ``user:password`` credentials, as the server computes it."""
    text = credential.decode("utf-8", "replace")
    user = text.split(":", 1)[0]
    digest = hashlib.sha1(text.encode()).digest()
    return f"{user}:{base64.b64encode(digest).decode()}"


def _ipv4(text: str) -> int | None:
    parts = text.split(".")
    if len(parts) != 4 or not all(p.isdigit() and int(p) <= 255 for p in parts):
        return None
    value = 0
    for part in parts:
        value = value * 256 + int(part)
    return value


def _ip_rule(expr: str) -> tuple[int, int] | None:
    """(address, mask) of an ``ip`` ACL id (IPv4 only, as in ZooKeeper 3.8)."""
    address, slash, bits_text = expr.partition("/")
    value = _ipv4(address)
    if value is None:
        return None
    bits = 32
    if slash:
        if not bits_text.isdigit() or int(bits_text) > 32:
            return None
        bits = int(bits_text)
    mask = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
    return value & mask, mask


def _valid_id(scheme: str, id_: str) -> bool:
    if scheme == "digest":  # Java's id.split(":") drops trailing empty parts
        parts = id_.split(":")
        while parts and parts[-1] == "":
            parts.pop()
        return len(parts) == 2
    if scheme == "ip":
        return _ip_rule(id_) is not None
    return False


def _matches(scheme: str, who: str, expr: str) -> bool:
    if scheme == "ip":
        rule, address = _ip_rule(expr), _ipv4(who)
        return rule is not None and address is not None and address & rule[1] == rule[0]
    return who == expr


def fixup_acl(acl: Sequence[AclEntry], ids: Sequence[Ident]) -> tuple[AclEntry, ...]:
    """The server's ``fixupACL``: validate, drop duplicates, expand ``auth``."""
    unique = list(dict.fromkeys(acl))
    if not unique:
        raise Fault(INVALID_ACL)
    fixed: list[AclEntry] = []
    for perms, scheme, id_ in unique:
        if scheme == "world" and id_ == "anyone":
            fixed.append((perms, scheme, id_))
        elif scheme == "auth":  # the caller's authenticated ids (ip ones do not count)
            mine = [(perms, s, i) for s, i in ids if s == "digest"]
            if not mine:
                raise Fault(INVALID_ACL)
            fixed.extend(mine)
        elif _valid_id(scheme, id_):
            fixed.append((perms, scheme, id_))
        else:
            raise Fault(INVALID_ACL)
    return tuple(fixed)


def check_acl(acl: Sequence[AclEntry], perm: int, ids: Sequence[Ident] | None) -> None:
    """NoAuth unless an entry of ``acl`` grants ``perm`` to one of ``ids`` (None: the server)."""
    if ids is None or not acl:
        return
    for perms, scheme, id_ in acl:
        if not perms & perm:
            continue
        if scheme == "world" and id_ == "anyone":
            return
        if any(s == scheme and _matches(scheme, who, id_) for s, who in ids):
            return
    raise Fault(NO_AUTH)


def may_read(acl: Sequence[AclEntry], ids: Sequence[Ident]) -> bool:
    """Whether ``ids`` may READ a node with ``acl`` (who is told of its watch events)."""
    try:
        check_acl(acl, READ, ids)
    except Fault:
        return False
    return True


def _check_version(current: int, expected: int) -> None:
    if expected != -1 and expected != current:
        raise Fault(BAD_VERSION)


class Tree:
    """The node tree as a fresh standalone ZooKeeper 3.8 has it."""

    def __init__(self) -> None:
        self.zxid = 0
        self.nodes: dict[str, Node] = {
            "/": Node(b"", WORLD_ALL, children={"zookeeper": None}),
            "/zookeeper": Node(b"", WORLD_ALL, children={"config": None, "quota": None}),
            "/zookeeper/quota": Node(b"", WORLD_ALL),
            "/zookeeper/config": Node(b"", ((READ, "world", "anyone"),), aversion=-1),
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
            raise Fault(NO_NODE)
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
        acl: Sequence[AclEntry],
        flags: int,
        *,
        session: int,
        ids: Sequence[Ident] | None,
        zxid: int,
        now: int,
        out: list[Trigger],
    ) -> str:
        if flags in _TTL_FLAGS:
            raise Fault(UNIMPLEMENTED)
        if not 0 <= flags <= 4:  # 4, a container, is kept as a plain node
            raise Fault(BAD_ARGUMENTS)
        slash = path.rfind("/")
        if slash == -1 or "\x00" in path:
            raise Fault(BAD_ARGUMENTS)
        fixed = fixup_acl(acl, ids or ())
        parent_path = path[:slash] or "/"
        parent = self._node(parent_path)
        check_acl(parent.acl, CREATE, ids)
        if flags & _SEQUENTIAL:
            path = f"{path}{parent.creates:010d}"
        validate_path(path)
        if path in self.nodes:
            raise Fault(NODE_EXISTS)
        if parent.owner:
            raise Fault(NO_CHILDREN_FOR_EPHEMERALS)
        owner = session if flags & _EPHEMERAL else 0
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
            raise Fault(BAD_ARGUMENTS)
        parent = self._node(path[:slash] or "/")
        check_acl(parent.acl, DELETE, ids)
        node = self._node(path)
        _check_version(node.version, version)
        if node.children:
            raise Fault(NOT_EMPTY)
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
        self, path: str, acl: Sequence[AclEntry], version: int, *, ids: Sequence[Ident] | None
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
