"""A persistent (immutable) hash map: a new version costs in proportion to what changed.

A hash array mapped trie: each level takes 5 bits of the key's hash, and a
level is a small dict of at most 32 slots. ``set`` and ``delete`` copy only
the levels on the way to the key (a handful of small dicts), so every
snapshot of a 10,000-node tree can share all but a few of them with the one
before. ``PMap.build`` makes one from many items in one pass. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

_BITS = 5
_MASK = (1 << _BITS) - 1
_DEPTH = 64  # bits of a hash used; past it, keys that collide share a bucket

Level = dict[int, Any]  # slot -> _Leaf, _Bucket or Level


class _Leaf:
    __slots__ = ("hash", "key", "value")

    def __init__(self, key: Any, value: Any, hash_: int) -> None:
        self.key = key
        self.value = value
        self.hash = hash_


class _Bucket:
    """Leaves whose hashes are equal in every bit used."""

    __slots__ = ("leaves",)

    def __init__(self, leaves: tuple[_Leaf, ...]) -> None:
        self.leaves = leaves


def _hash(key: object) -> int:
    return hash(key) & ((1 << _DEPTH) - 1)


def _put(root: Level, leaf: _Leaf, *, copy: bool) -> tuple[Level, bool]:
    """``root`` with ``leaf`` in it; True if the key is new. With ``copy`` the levels on
    the way are copied (the old root is left as it was); without, changed in place."""
    top = dict(root) if copy else root
    level, shift = top, 0
    while True:
        slot = (leaf.hash >> shift) & _MASK
        entry = level.get(slot)
        if entry is None:
            level[slot] = leaf
            return top, True
        if isinstance(entry, dict):
            below = dict(entry) if copy else entry
            level[slot] = below
            level, shift = below, shift + _BITS
            continue
        if isinstance(entry, _Leaf):
            if entry.key == leaf.key:
                level[slot] = leaf
                return top, False
            if shift + _BITS >= _DEPTH:
                level[slot] = _Bucket((entry, leaf))
                return top, True
            below = {(entry.hash >> (shift + _BITS)) & _MASK: entry}
            level[slot] = below
            level, shift = below, shift + _BITS
            continue
        others = tuple(old for old in entry.leaves if old.key != leaf.key)
        level[slot] = _Bucket((*others, leaf))
        return top, len(others) == len(entry.leaves)


def _delete(level: Level, key: object, hash_: int, shift: int) -> Level | None:
    """A copy of ``level`` without ``key`` (None if the key is not there)."""
    slot = (hash_ >> shift) & _MASK
    entry = level.get(slot)
    if entry is None:
        return None
    copy = dict(level)
    if isinstance(entry, dict):
        below = _delete(entry, key, hash_, shift + _BITS)
        if below is None:
            return None
        if below:
            copy[slot] = below
        else:
            del copy[slot]
        return copy
    if isinstance(entry, _Leaf):
        if entry.key != key:
            return None
        del copy[slot]
        return copy
    others = tuple(leaf for leaf in entry.leaves if leaf.key != key)
    if len(others) == len(entry.leaves):
        return None
    copy[slot] = others[0] if len(others) == 1 else _Bucket(others)
    return copy


def _leaves(level: Level) -> Iterator[_Leaf]:
    for entry in level.values():
        if isinstance(entry, dict):
            yield from _leaves(entry)
        elif isinstance(entry, _Leaf):
            yield entry
        else:
            yield from entry.leaves


class PMap(Mapping[K, V], Generic[K, V]):
    """An immutable mapping; ``set``/``delete`` return a new one sharing the rest."""

    __slots__ = ("_len", "_root")

    def __init__(self, root: Level | None = None, length: int = 0) -> None:
        self._root: Level = root if root is not None else {}
        self._len = length

    @classmethod
    def build(cls, items: Iterable[tuple[K, V]]) -> PMap[K, V]:
        """A map of ``items`` (later keys win), made in one pass."""
        root: Level = {}
        length = 0
        for key, value in items:
            _, added = _put(root, _Leaf(key, value, _hash(key)), copy=False)
            length += added
        return cls(root, length)

    def __getitem__(self, key: K) -> V:
        hash_ = _hash(key)
        level, shift = self._root, 0
        while True:
            entry = level.get((hash_ >> shift) & _MASK)
            if entry is None:
                raise KeyError(key)
            if isinstance(entry, dict):
                level, shift = entry, shift + _BITS
                continue
            if isinstance(entry, _Leaf):
                if entry.key == key:
                    value: V = entry.value
                    return value
                raise KeyError(key)
            for leaf in entry.leaves:
                if leaf.key == key:
                    found: V = leaf.value
                    return found
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[K]:
        """The keys, in no particular order."""
        return (leaf.key for leaf in _leaves(self._root))

    def set(self, key: K, value: V) -> PMap[K, V]:
        root, added = _put(self._root, _Leaf(key, value, _hash(key)), copy=True)
        return PMap(root, self._len + added)

    def delete(self, key: K) -> PMap[K, V]:
        """Without ``key`` (the same map if it is not there)."""
        root = _delete(self._root, key, _hash(key), 0)
        return self if root is None else PMap(root, self._len - 1)

    def __repr__(self) -> str:
        return f"PMap({dict(self.items())!r})"
