"""Properties views: a node's JSON data as a live, read-only mapping that can write itself.

Property links (``'threads =>': '/fooservice threads'``) are followed on
read: ``view['threads']`` is the linked value, ``view['threads =>']`` the
raw link; a real key wins over a link, so a write that would leave both
(``threads`` and ``threads =>``) is refused.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from . import _links, _ops
from ._encoding import decode_properties, encode_properties
from ._errors import BadPropertyLink
from ._sources import DataSource, PropertiesState, resolve_links
from ._tree_node import shadowed_link
from ._types import ZnodeStat
from ._views import View

if TYPE_CHECKING:
    from ._hub import Hub


class PropertiesMapping(Mapping[str, Any]):
    """Mapping behaviour over a :class:`PropertiesState`, following property links.

    Iteration shows a link ``'x =>'`` as ``x``; ``m['x']`` gives the linked
    value and ``m['x =>']`` the raw link; a real key wins over a link.
    """

    __slots__ = ()

    def _state(self) -> PropertiesState:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        state = self._state()
        if key in state.raw:
            return state.raw[key]
        if key in state.errors:
            raise state.errors[key]
        return state.resolved[key]

    def __iter__(self) -> Iterator[str]:
        raw = self._state().raw
        for key in raw:
            kind, name = _links.split_key(key)
            if kind is not _links.KeyKind.PROPERTY_LINK:
                yield key
            elif name not in raw:
                yield name

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, key: object) -> bool:
        raw = self._state().raw
        return key in raw or (isinstance(key, str) and key + _links.PROPERTY_LINK in raw)

    @property
    def raw(self) -> dict[str, Any]:
        """A copy of the stored data, links not followed."""
        return dict(self._state().raw)


class PropertiesSnapshot(PropertiesMapping):
    """An immutable snapshot of a node's properties."""

    __slots__ = ("_frozen",)

    def __init__(self, state: PropertiesState) -> None:
        self._frozen = state

    def _state(self) -> PropertiesState:
        return self._frozen

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PropertiesSnapshot):
            return self._frozen == other._frozen
        return Mapping.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PropertiesSnapshot({dict(self)!r})"


class Properties(View, PropertiesMapping):
    """A node's data as a live, read-only mapping; write with update() / set()."""

    __slots__ = ("_static",)

    def __init__(
        self,
        hub: Hub,
        source: DataSource | None,
        path: str,
        static: PropertiesState | None,
        real_path: str | None = None,
    ) -> None:
        super().__init__(hub, source, path, real_path)
        self._static = static

    def _state(self) -> PropertiesState:
        if self._source is not None:
            state: PropertiesState = self._source.snapshot
            return state
        assert self._static is not None
        return self._static

    def _snapshot(self) -> PropertiesSnapshot:
        return PropertiesSnapshot(self._state())

    def __repr__(self) -> str:
        return f"<{self._prefix()}Properties {self.path} ({self.real_path}): {self.raw!r}>"

    __eq__ = Mapping.__eq__
    __hash__ = None  # type: ignore[assignment]

    async def update(self, data: Mapping[str, Any] | None = None, /, **properties: Any) -> None:
        """Merge into the node's properties (keywords win), compare-and-set."""
        await edit(self, {**(data or {}), **properties})

    async def remove(self, *keys: str) -> None:
        """Remove properties, links or property links by key (absent keys are ignored)."""
        await edit(self, {}, keys)

    async def set(self, data: Mapping[str, Any] | None = None, /, **properties: Any) -> None:
        """Replace the node's properties (keywords win over ``data``)."""
        new = {**(data or {}), **properties}
        refuse_shadowed(self.real_path, new, new)
        await self._check_links(new)
        encoded = encode_properties(new)
        stat = await _ops.set_data(self._hub.session, self.real_path, encoded)
        await self._adopt(encoded, stat)

    async def _adopt(self, encoded: bytes, stat: ZnodeStat) -> None:
        if isinstance(self._source, DataSource):
            await self._source.ingest(encoded, stat)
        else:
            raw = decode_properties(encoded, self.real_path)
            self._static = await resolve_links(self.path, raw, self._hub.read_linked)

    async def _check_links(self, new: Mapping[str, Any]) -> None:
        """Refuse (ValueError, nothing written) property links that cannot be followed."""
        await check_links(self._hub, self.path, new)


async def edit(view: Properties, changes: Mapping[str, Any], remove: Iterable[str] = ()) -> None:
    """Merge ``changes`` into the node's properties and drop the keys in ``remove``, in one
    compare-and-set write (``update``, ``remove``, and ``aiozkreg set`` with ``--delete``).

    Refused before anything is written (``ValueError``): a property link in
    ``changes`` that cannot be followed, and a write that would leave a
    property and a property link of the same name, one of them in ``changes``.
    """
    refuse_shadowed(view.real_path, changes, changes)
    await view._check_links(changes)

    async def check(merged: dict[str, Any]) -> None:
        refuse_shadowed(view.real_path, merged, changes)

    encoded, stat = await _ops.merge_properties(
        view._hub.session, view.real_path, changes, check, remove=frozenset(remove)
    )
    await view._adopt(encoded, stat)


def refuse_shadowed(path: str, properties: Mapping[str, Any], keys: Collection[str]) -> None:
    """Raise ``ValueError`` if a key in ``keys`` and another in ``properties`` are a property
    and a property link of the same name (the property would hide the link)."""
    for key in keys:
        name = shadowed_link(key, properties)
        if name is not None:
            raise ValueError(
                f"The property {name!r} and the property link {name + _links.PROPERTY_LINK!r} "
                f"cannot both be set on {path}: the property would hide the link. Remove one "
                "of them first."
            )


async def check_links(hub: Hub, path: str, new: Mapping[str, Any]) -> None:
    """Refuse (ValueError, nothing written) property links in ``new`` that cannot be
    followed from the node ``path``."""
    for key, value in new.items():
        kind, name = _links.split_key(key)
        if kind is not _links.KeyKind.PROPERTY_LINK:
            continue
        try:
            await _links.resolve_property(path, {key: value}, name, hub.read_linked)
        except BadPropertyLink as exc:
            raise ValueError("Bad property link", key, value, exc) from exc
