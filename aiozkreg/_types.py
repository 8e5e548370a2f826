"""Value types of the public API: node stats and ACLs (frozen, aiozk-free)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from aiozk import protocol as _p


@dataclass(frozen=True, slots=True)
class ZnodeStat:
    """A node's stat, with kazoo's field meanings in snake case."""

    czxid: int
    mzxid: int
    ctime: int
    mtime: int
    version: int
    cversion: int
    aversion: int
    ephemeral_owner: int
    data_length: int
    num_children: int
    pzxid: int

    @property
    def ephemeral(self) -> bool:
        """True for an ephemeral node."""
        return self.ephemeral_owner != 0

    @classmethod
    def from_wire(cls, stat: Any) -> ZnodeStat:
        if isinstance(stat, ZnodeStat):  # the fast codec made it already
            return stat
        return cls(
            czxid=stat.created_zxid,
            mzxid=stat.last_modified_zxid,
            ctime=stat.created,
            mtime=stat.modified,
            version=stat.version,
            cversion=stat.child_version,
            aversion=stat.acl_version,
            ephemeral_owner=stat.ephemeral_owner,
            data_length=stat.data_length,
            num_children=stat.num_children,
            pzxid=stat.last_modified_children,
        )


class Perm:
    """ACL permission bits."""

    READ = 1
    WRITE = 2
    CREATE = 4
    DELETE = 8
    ADMIN = 16
    ALL = 31


@dataclass(frozen=True, slots=True)
class ACL:
    """One access-control entry: permission bits for an identity."""

    perms: int
    scheme: str
    id: str

    def to_wire(self) -> Any:
        acl = _p.acl.ACL(perms=self.perms, id=_p.acl.ID(scheme=self.scheme, id=self.id))
        return acl

    @classmethod
    def from_wire(cls, acl: Any) -> ACL:
        return cls(perms=acl.perms, scheme=acl.id.scheme, id=acl.id.id)


OPEN_ACL_UNSAFE: tuple[ACL, ...] = (ACL(Perm.ALL, "world", "anyone"),)
READ_ACL_UNSAFE: tuple[ACL, ...] = (ACL(Perm.READ, "world", "anyone"),)


def make_digest_acl(user: str, password: str, perms: int = Perm.ALL) -> ACL:
    """The ACL entry for a digest user, as ZooKeeper hashes it."""
    digest = hashlib.sha1(f"{user}:{password}".encode()).digest()
    return ACL(perms, "digest", f"{user}:{base64.b64encode(digest).decode()}")
