"""The persistent map behaves as a dict, and old versions never change."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aiozkreg._pmap import PMap

keys = st.one_of(st.text(max_size=6), st.integers(-50, 50))
ops = st.lists(st.tuples(st.booleans(), keys, st.integers()), max_size=200)


class Collides:
    """A key whose hash is the same for every instance (to force buckets)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __hash__(self) -> int:
        return 42

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Collides) and other.name == self.name


@given(ops)
def test_sets_and_deletes_match_a_dict(steps: list[tuple[bool, object, int]]) -> None:
    """Any sequence of set/delete gives what a dict gives; each old version is unchanged."""
    model: dict[object, int] = {}
    current: PMap[object, int] = PMap()
    versions: list[tuple[PMap[object, int], dict[object, int]]] = []
    for is_set, key, value in steps:
        current = current.set(key, value) if is_set else current.delete(key)
        if is_set:
            model[key] = value
        else:
            model.pop(key, None)
        versions.append((current, dict(model)))
    for version, expected in versions:
        assert dict(version.items()) == expected and len(version) == len(expected)


@given(st.lists(st.tuples(keys, st.integers()), max_size=300))
def test_build_matches_a_dict(items: list[tuple[object, int]]) -> None:
    """build() of many items (repeated keys included) is the dict of them."""
    built = PMap.build(items)
    assert dict(built.items()) == dict(items) and len(built) == len(dict(items))
    for key, value in dict(items).items():
        assert built[key] == value and key in built


def test_colliding_hashes_share_a_bucket() -> None:
    """Keys whose hashes collide in every bit are all kept, replaced and deleted."""
    names = [Collides(str(i)) for i in range(5)]
    pmap: PMap[Collides, int] = PMap.build((name, i) for i, name in enumerate(names))
    assert [pmap[name] for name in names] == [0, 1, 2, 3, 4]
    assert pmap.set(names[2], 9)[names[2]] == 9 and len(pmap.set(names[2], 9)) == 5
    smaller = pmap.delete(names[1]).delete(names[3])
    assert len(smaller) == 3 and names[1] not in smaller and smaller[names[4]] == 4
    assert len(pmap) == 5
