"""The kazoo-style shortcuts of a registry: single operations, one line each over ``_ops``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from . import _links, _ops
from ._encoding import decode_properties
from ._errors import NoNodeError
from ._session import Session
from ._txn import Transaction
from ._types import ACL, ZnodeStat
from ._watches import WatchedEvent

UserWatch = Callable[[WatchedEvent], object]


class Shortcuts:
    """``exists``, ``get``, ``get_children``, ``create``, ``delete``, ``set``,
    ``ensure_path``, ACLs and transactions, with kazoo's signatures."""

    _session: Session

    def _user_watch(self, watch: UserWatch | None) -> Callable[[WatchedEvent], None] | None:
        if watch is None:
            return None
        loop = asyncio.get_running_loop()

        def deliver(event: WatchedEvent) -> None:
            loop.call_soon(watch, event)  # never run user code on the protocol reader

        return deliver

    async def exists(self, path: str, *, watch: UserWatch | None = None) -> ZnodeStat | None:
        """The node's stat, or None if there is no such node."""
        return await _ops.exists(self._session, path, self._user_watch(watch))

    async def get(self, path: str, *, watch: UserWatch | None = None) -> tuple[bytes, ZnodeStat]:
        """``(data, stat)``; :class:`NoNodeError` if missing."""
        return await _ops.get(self._session, path, self._user_watch(watch))

    async def get_children(self, path: str, *, watch: UserWatch | None = None) -> list[str]:
        """The names of the node's children (unsorted, as the server gives them)."""
        children, _ = await _ops.get_children(self._session, path, self._user_watch(watch))
        return children

    async def create(
        self,
        path: str,
        value: bytes = b"",
        *,
        acl: Sequence[ACL] | None = None,
        ephemeral: bool = False,
        sequential: bool = False,
        makepath: bool = False,
    ) -> str:
        """Create a node and return its path (with the sequence suffix, if any)."""
        return await _ops.create(
            self._session,
            path,
            value,
            acl=acl,
            ephemeral=ephemeral,
            sequential=sequential,
            makepath=makepath,
        )

    async def delete(self, path: str, version: int = -1) -> None:
        """Delete a childless node (only at ``version`` unless it is -1)."""
        await _ops.delete(self._session, path, version)

    async def set(self, path: str, value: bytes, version: int = -1) -> ZnodeStat:
        """Replace the node's data (only at ``version`` unless it is -1)."""
        return await _ops.set_data(self._session, path, value, version)

    async def ensure_path(self, path: str, acl: Sequence[ACL] | None = None) -> None:
        """Create the node and any missing ancestors (the chroot too); existing ones stay."""
        await _ops.ensure_path(self._session, path, acl)

    async def get_acls(self, path: str) -> tuple[list[ACL], ZnodeStat]:
        return await _ops.get_acls(self._session, path)

    async def set_acls(self, path: str, acl: Sequence[ACL], version: int = -1) -> ZnodeStat:
        return await _ops.set_acls(self._session, path, acl, version)

    def transaction(self) -> Transaction:
        """A multi-operation transaction: chain operations, then ``await txn.commit()``."""
        return Transaction(self._session)

    async def get_properties(self, path: str) -> dict[str, Any]:
        """The node's decoded data, links not followed."""
        data, _ = await _ops.get(self._session, path)
        return decode_properties(data, path)

    async def is_ephemeral(self, path: str) -> bool:
        """True if the node at ``path`` is ephemeral."""
        stat = await _ops.exists(self._session, path)
        if stat is None:
            raise NoNodeError(path=path)
        return stat.ephemeral

    async def ln(self, source: str, destination: str) -> None:
        """Make a symlink at ``destination`` to ``source`` (trailing ``/``: keep the name)."""
        holder, key = _links.link_key(destination, source)
        await _ops.merge_properties(self._session, holder, {key: source})
