"""Registering servers: from ``register(path, address)`` to nodes the supervisor keeps.

The :class:`Registrar` checks the address and format at the call, resolves
the path (through symlinks), lets ``RegisteringServer`` subscribers add
properties, creates the ephemeral node(s) with the registry's ACL, and
hands the :class:`Registration` to the :class:`~._supervisor.Supervisor`,
which keeps it from then on (restores, rewrites, unregisters).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import Any

from . import _ops, _paths, event
from ._address import check_address
from ._errors import NoNodeError
from ._formats import WireFormat, wire_format
from ._hub import Hub
from ._registration import Address, Identity, RegisteringServer, Registration, expand_address
from ._session import Session
from ._supervisor import Supervisor
from ._types import ACL
from ._views import Opener


class Registrar:
    """Makes registrations for one registry (see the module docstring)."""

    def __init__(
        self, session: Session, hub: Hub, supervisor: Supervisor, identity: Identity
    ) -> None:
        self.session = session
        self.hub = hub
        self.supervisor = supervisor
        self.identity = identity

    def register(
        self,
        path: str,
        address: Address,
        acl: Sequence[ACL] | None,
        format: str | WireFormat,
        data: dict[str, Any],
    ) -> Opener[Registration]:
        layout = wire_format(format)  # ValueError now, not when awaited
        text = check_address(address)  # likewise
        return Opener(lambda: self._register(path, address, text, acl, layout, data), _unregister)

    @property
    def registrations(self) -> list[Registration]:
        """The live registrations, oldest first."""
        return list(self.supervisor.registrations)

    async def end_under(self, path: str) -> None:
        """Unregister every live registration with a node at or below ``path``."""
        top = _paths.normalize(path)
        prefix = top.rstrip("/") + "/"
        doomed = [
            registration
            for registration in self.supervisor.registrations
            if any(node == top or node.startswith(prefix) for node in registration.nodes)
        ]
        for registration in doomed:
            await registration.unregister()

    async def _register(
        self,
        path: str,
        address: Address,
        text: str,
        acl: Sequence[ACL] | None,
        layout: WireFormat,
        data: dict[str, Any],
    ) -> Registration:
        addresses = expand_address(text)
        if not layout.every_address:
            addresses = addresses[:1]
        known = self._known_real(path)
        real = known or await self.hub.resolve(path)
        try:
            return await self._create(path, real, address, text, addresses, acl, layout, data)
        except NoNodeError:
            if known is None:
                raise
        # the path went away since our other registration there: resolve it afresh
        real = await self.hub.resolve(path)
        return await self._create(path, real, address, text, addresses, acl, layout, data)

    def _known_real(self, path: str) -> str | None:
        """``path`` itself, if one of our live registrations already sits right under it.

        A node with children is real and cannot be replaced by a symlink, so
        registering there again needs no round trip to resolve it.
        """
        norm = _paths.normalize(path)
        for registration in self.supervisor.registrations:
            if registration.active and registration.real_path == norm:
                return norm
        return None

    async def _create(
        self,
        path: str,
        real: str,
        address: Address,
        text: str,
        addresses: list[str],
        acl: Sequence[ACL] | None,
        layout: WireFormat,
        data: dict[str, Any],
    ) -> Registration:
        host, port = layout.endpoint(addresses[0])
        properties = {**data, "pid": os.getpid()} if layout.records_pid else dict(data)
        event.notify(RegisteringServer(address, real, properties))
        announcement = layout.announce(real, host, port)
        nodes = [_paths.join(real, layout.node_name(announcement, a)) for a in addresses]
        registration = Registration(
            self.supervisor,
            path,
            real,
            text,
            nodes,
            properties,
            self.identity.registration_acl(acl),
            announcement,
        )

        async def create(node: str) -> str:
            return await _ops.create(
                self.session,
                node,
                registration.data,
                acl=registration.acl,
                ephemeral=True,
                sequential=layout.sequential,
            )

        if len(nodes) == 1:  # the usual case: no tasks to gather
            created: list[str | BaseException] = [await create(nodes[0])]
        else:  # every create finishes (none is left running) before we look
            created = await asyncio.gather(*map(create, nodes), return_exceptions=True)
        failures = [r for r in created if isinstance(r, BaseException)]
        if failures:
            for result in created:
                if isinstance(result, str):
                    await _ops.delete(self.session, result)
            raise failures[0]
        registration.nodes = tuple(r for r in created if isinstance(r, str))  # with sequence
        await self.supervisor.track(registration)
        return registration


async def _unregister(registration: Registration) -> None:
    await registration.unregister()
