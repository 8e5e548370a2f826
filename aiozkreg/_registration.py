"""Registering a server: addresses, the RegisteringServer event, the Registration handle."""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._formats import ZCZK, Announcement
from ._types import ACL, READ_ACL_UNSAFE

if TYPE_CHECKING:
    from ._supervisor import Supervisor

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


def format_address(address: Address) -> str:
    """``("h", 80)`` -> ``"h:80"``; a string is taken as it is."""
    if isinstance(address, str):
        return address
    host, port = tuple(address)
    return f"{host}:{port}"


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


class Registration:
    """A live registration: ephemeral nodes kept until :meth:`unregister`.

    After a session expiry the registry's supervisor re-creates the nodes in
    the new session with the current :attr:`properties`. ``announcement``
    says how the data is laid out (zc.zk when None); it is fixed at
    registration, so a restore writes the same Curator id or ServerSet host.
    """

    __slots__ = (
        "_supervisor",
        "acl",
        "active",
        "address",
        "announcement",
        "data",
        "nodes",
        "path",
        "real_path",
    )

    def __init__(
        self,
        supervisor: Supervisor,
        path: str,
        real_path: str,
        address: str,
        nodes: Sequence[str],
        properties: Mapping[str, Any],
        acl: Sequence[ACL] | None,
        announcement: Announcement | None = None,
    ) -> None:
        self._supervisor = supervisor
        self.path = path
        self.real_path = real_path
        self.address = address
        self.nodes = tuple(nodes)
        self.announcement = announcement or Announcement(ZCZK, "", 0)
        self.data = self.announcement.encode(properties)
        self.acl = tuple(acl) if acl is not None else READ_ACL_UNSAFE
        self.active = True

    @property
    def format(self) -> str:
        """The layout of the nodes: ``"zc.zk"``, ``"curator"`` or ``"serverset"``."""
        return self.announcement.format.name

    @property
    def properties(self) -> dict[str, Any]:
        """The properties the nodes hold (and a restore writes).

        zc.zk: the node data; curator: the payload; serverset: the metadata.
        """
        return self.announcement.properties(self.data)

    async def update(self, data: Mapping[str, Any] | None = None, /, **properties: Any) -> None:
        """Merge into the registration's properties, now and for every later restore."""
        merged = {**self.properties, **(data or {}), **properties}
        self.data = self.announcement.encode(merged)
        await self._supervisor.rewrite(self)

    async def unregister(self) -> None:
        """Delete the nodes and stop restoring them; idempotent."""
        if not self.active:
            return
        self.active = False
        await self._supervisor.untrack(self)

    async def __aenter__(self) -> Registration:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.unregister()

    def __repr__(self) -> str:
        state = "active" if self.active else "unregistered"
        return f"<Registration {', '.join(self.nodes)} {state}>"
