"""The in-memory ZooKeeper's access rules, as ZooKeeper 3.8 applies them. Pure.

``world:anyone``, ``digest`` (``user:base64(sha1(user:password))``) and
``ip`` (IPv4, with a ``/bits`` mask) are enforced; the ``auth`` scheme
expands to the caller's digest identities (``fixupACL``). A link's
identities are ``(scheme, id)`` pairs: every link is ``ip:127.0.0.1``, and
gains a digest identity per ``addauth``. A refused check raises
:class:`Fault`, the error every rule of the server raises with its code.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

from .._errors import Code
from .._types import ACL, Perm

READ, WRITE, CREATE, DELETE, ADMIN = Perm.READ, Perm.WRITE, Perm.CREATE, Perm.DELETE, Perm.ADMIN

Ident = tuple[str, str]  # scheme, id: who a link has authenticated as


class Fault(Exception):
    """A request failed with a ZooKeeper error code."""

    def __init__(self, code: Code) -> None:
        super().__init__(code)
        self.code = int(code)  # as a reply carries it: a plain int


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


def fixup_acl(acl: Sequence[ACL], ids: Sequence[Ident]) -> tuple[ACL, ...]:
    """The server's ``fixupACL``: validate, drop duplicates, expand ``auth``."""
    unique = list(dict.fromkeys(acl))
    if not unique:
        raise Fault(Code.INVALID_ACL)
    fixed: list[ACL] = []
    for entry in unique:
        if entry.scheme == "world" and entry.id == "anyone":
            fixed.append(entry)
        elif entry.scheme == "auth":  # the caller's authenticated ids (ip ones do not count)
            mine = [ACL(entry.perms, s, i) for s, i in ids if s == "digest"]
            if not mine:
                raise Fault(Code.INVALID_ACL)
            fixed.extend(mine)
        elif _valid_id(entry.scheme, entry.id):
            fixed.append(entry)
        else:
            raise Fault(Code.INVALID_ACL)
    return tuple(fixed)


def check_acl(acl: Sequence[ACL], perm: int, ids: Sequence[Ident] | None) -> None:
    """NoAuth unless an entry of ``acl`` grants ``perm`` to one of ``ids`` (None: the server)."""
    if ids is None or not acl:
        return
    for entry in acl:
        if not entry.perms & perm:
            continue
        scheme = entry.scheme
        if scheme == "world" and entry.id == "anyone":
            return
        if any(s == scheme and _matches(scheme, who, entry.id) for s, who in ids):
            return
    raise Fault(Code.NO_AUTH)


def may_read(acl: Sequence[ACL], ids: Sequence[Ident]) -> bool:
    """Whether ``ids`` may READ a node with ``acl`` (who is told of its watch events)."""
    try:
        check_acl(acl, READ, ids)
    except Fault:
        return False
    return True
