"""A registry's tree tools: export, print, import, delete and walk whole subtrees."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Literal, overload

from . import _tree_writes, _trees
from ._plan import Change
from ._registrar import Registrar
from ._session import Session
from ._types import ACL


class TreeTools:
    """The :class:`~aiozkreg.Registry` methods over :mod:`._trees` and :mod:`._tree_writes`."""

    _session: Session
    _registrar: Registrar

    async def export_tree(
        self, path: str = "/", *, ephemeral: bool = False, name: str | None = None
    ) -> str:
        """The subtree at ``path`` as tree text (the reference's layout)."""
        return await _trees.export_tree(self._session, path, ephemeral=ephemeral, name=name)

    async def print_tree(self, path: str = "/") -> None:
        """Print ``export_tree(path, ephemeral=True)``."""
        print(await self.export_tree(path, ephemeral=True), end="")

    async def import_tree(
        self,
        text: str,
        path: str = "/",
        *,
        trim: bool | None = None,
        acl: Sequence[ACL] | None = None,
        dry_run: bool = False,
    ) -> list[Change]:
        """Make the tree at ``path`` match ``text``; returns (and logs) the change records."""
        return await _tree_writes.import_tree(
            self._session, text, path, trim=trim, acl=acl, dry_run=dry_run
        )

    async def delete_recursive(
        self,
        path: str,
        *,
        dry_run: bool = False,
        force: bool = False,
        ignore_if_ephemeral: bool = False,
    ) -> list[Change]:
        """Delete ``path`` and everything below it, sparing ephemeral nodes unless ``force``.

        With ``force``, this registry's own live registrations below ``path``
        are ended first (as :meth:`Registration.unregister` would), so none
        comes back; other registries' registrations are restored by their
        own supervisors, as always.
        """
        if force and not dry_run:
            await self._registrar.end_under(path)
        return await _tree_writes.delete_recursive(
            self._session,
            path,
            dry_run=dry_run,
            force=force,
            ignore_if_ephemeral=ignore_if_ephemeral,
        )

    @overload
    def walk(
        self, path: str = ..., *, ephemeral: bool = ..., children: Literal[False] = ...
    ) -> AsyncIterator[str]: ...
    @overload
    def walk(
        self, path: str = ..., *, ephemeral: bool = ..., children: Literal[True]
    ) -> AsyncIterator[tuple[str, list[str]]]: ...
    def walk(
        self, path: str = "/", *, ephemeral: bool = True, children: bool = False
    ) -> AsyncIterator[str] | AsyncIterator[tuple[str, list[str]]]:
        """Iterate over the paths at and below ``path`` (preorder, sorted).

        With ``children=True`` yields ``(path, names)``: removing names prunes
        the walk. ``ephemeral=False`` leaves out ephemeral nodes.
        """
        if children:
            return _trees.walk_children(self._session, path, ephemeral=ephemeral)
        return _trees.walk(self._session, path, ephemeral=ephemeral)
