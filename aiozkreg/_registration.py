"""Registering a server: addresses, the RegisteringServer event, the Registration handle."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ._formats import ZCZK, Announcement
from ._types import ACL, READ_ACL_UNSAFE, Perm

log = logging.getLogger("aiozkreg.registration")

Address = str | tuple[str, int] | Sequence[Any]


@dataclass
class RegisteringServer:
    """Emitted through :func:`aiozkreg.event.notify` before a registration's nodes exist.

    ``properties`` is the node data about to be written: subscribers may change it.
    """

    address: Address
    path: str
    properties: dict[str, Any] = field(default_factory=dict)


def _interface_addresses() -> list[str] | None:
    """Every IPv4 address of this host (None without netifaces)."""
    try:
        import netifaces
    except ImportError:
        return None
    found: list[str] = []
    for interface in netifaces.interfaces():
        for entry in netifaces.ifaddresses(interface).get(netifaces.AF_INET, []):
            addr = entry.get("addr")
            if addr and addr not in found:
                found.append(addr)
    return found


def expand_address(address: str) -> list[str]:
    """The node names for ``address``: a blank host means this host's addresses.

    With netifaces: every non-loopback IPv4 address, or the loopback ones if
    there is no other. Without it: ``socket.getfqdn()``.
    """
    host, sep, port = address.rpartition(":")
    if not sep or host:
        return [address]
    found = _interface_addresses()
    if found is None:
        return [f"{socket.getfqdn()}:{port}"]
    outside = [a for a in found if not a.startswith("127.")]
    chosen = outside or [a for a in found if a.startswith("127.")]
    return [f"{a}:{port}" for a in chosen]


@dataclass(frozen=True, slots=True)
class Identity:
    """A registry's own digest identity: sent on every connect, granted on its nodes.

    Registration nodes are read-only to everyone else, yet the registry
    that made them must rewrite them in place (``update()``) in any of its
    sessions; a random digest user per registry, re-sent on each connect,
    is what ZooKeeper's ACLs can grant that to.
    """

    user: str
    password: str

    @classmethod
    def new(cls) -> Identity:
        return cls(f"aiozkreg-{secrets.token_hex(6)}", secrets.token_urlsafe(18))

    @property
    def auth(self) -> tuple[str, str]:
        """The ``(scheme, credential)`` to send on connect."""
        return ("digest", f"{self.user}:{self.password}")

    @property
    def acl(self) -> ACL:
        """The ACL entry granting this identity everything on a node."""
        digest = hashlib.sha1(f"{self.user}:{self.password}".encode()).digest()
        return ACL(Perm.ALL, "digest", f"{self.user}:{base64.b64encode(digest).decode()}")

    def registration_acl(self, acl: Sequence[ACL] | None) -> tuple[ACL, ...]:
        """``acl`` (world-readable by default) plus this identity."""
        given = tuple(acl) if acl is not None else READ_ACL_UNSAFE
        mine = self.acl
        return given if mine in given else (*given, mine)


class RegistrationOwner(Protocol):
    """Who keeps a registration's nodes: the registry's supervisor."""

    async def rewrite(self, registration: Registration) -> None: ...
    async def untrack(self, registration: Registration) -> None: ...


class Registration:
    """A live registration: ephemeral nodes kept until :meth:`unregister`.

    After a session expiry the registry's supervisor re-creates the nodes in
    the new session with the current :attr:`properties`. ``announcement``
    says how the data is laid out (zc.zk when None); it is fixed at
    registration, so a restore writes the same Curator id or ServerSet host.

    :attr:`error` is the last failure to restore or rewrite a node (the
    server refused it, its parent is gone, another session holds its name),
    or None while every node is in place; the supervisor keeps trying.
    """

    __slots__ = (
        "_owner",
        "acl",
        "active",
        "address",
        "announcement",
        "data",
        "error",
        "nodes",
        "path",
        "real_path",
    )

    def __init__(
        self,
        owner: RegistrationOwner,
        path: str,
        real_path: str,
        address: str,
        nodes: Sequence[str],
        properties: Mapping[str, Any],
        acl: Sequence[ACL],
        announcement: Announcement | None = None,
    ) -> None:
        self._owner = owner
        self.path = path
        self.real_path = real_path
        self.address = address
        self.nodes = tuple(nodes)
        self.announcement = announcement or Announcement(ZCZK, "", 0)
        self.data = self.announcement.encode(properties)
        self.acl = tuple(acl)
        self.active = True
        self.error: Exception | None = None

    @property
    def format(self) -> str:
        """The layout of the nodes: ``"zc.zk"``, ``"curator"`` or ``"serverset"``."""
        return self.announcement.format.name

    @property
    def properties(self) -> dict[str, Any]:
        """The properties the nodes hold (and a restore writes).

        zc.zk: the node data (with ``pid``); curator: the payload, plus
        ``enabled`` from Curator's own top-level field when written; serverset:
        the metadata (a disabled member's ``status`` is ``STOPPING``).
        """
        return self.announcement.properties(self.data)

    async def update(self, data: Mapping[str, Any] | None = None, /, **properties: Any) -> None:
        """Merge into the registration's properties, now and for every later restore.

        Each node is rewritten in place (setData): it never goes missing for a
        reader. If this raises (the link dropped, the server refused), the new
        properties are still the registration's: the supervisor writes them
        as soon as it can, and :attr:`error` shows a refusal meanwhile.
        """
        merged = {**self.properties, **(data or {}), **properties}
        self.data = self.announcement.encode(merged)  # ValueError (bad values): nothing changes
        await self._owner.rewrite(self)

    async def unregister(self) -> None:
        """Delete the nodes and stop restoring them; idempotent."""
        if not self.active:
            return
        self.active = False
        await self._owner.untrack(self)

    async def __aenter__(self) -> Registration:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.unregister()

    def __repr__(self) -> str:
        state = "active" if self.active else "unregistered"
        return f"<Registration {', '.join(self.nodes)} {state}>"
