"""Pick strategies and ejection (aiozkreg._balancing): pure, seeded, clocked by hand."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

import pytest

from aiozkreg import Provider
from aiozkreg._balancing import (
    EjectionPolicy,
    Ejector,
    Load,
    PowerOfTwo,
    RandomChoice,
    RoundRobin,
    Sticky,
    Weighted,
    make_strategy,
)

PICKS = 10_000


def _providers(*weights: float) -> tuple[Provider, ...]:
    return tuple(
        Provider(name=f"10.0.0.{i}:80", host=f"10.0.0.{i}", port=80, weight=w)
        for i, w in enumerate(weights, 1)
    )


def _count(
    strategy: object, candidates: Sequence[Provider], load: Load | None = None
) -> Counter[str]:
    pick = make_strategy(strategy)  # type: ignore[arg-type]
    counts: Counter[str] = Counter()
    for _ in range(PICKS):
        chosen = pick.pick(candidates, load or {})
        assert chosen is not None
        counts[chosen.address] += 1
    return counts


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- strategies ------------------------------------------------------------------------


def test_round_robin_is_exact() -> None:
    """Round robin gives each candidate in turn, exactly."""
    a, b, c = _providers(1, 1, 1)
    strategy = RoundRobin()
    assert [strategy.pick((a, b, c), {}) for _ in range(7)] == [a, b, c, a, b, c, a]
    assert _count(RoundRobin(), (a, b, c)) == {a.address: 3334, b.address: 3333, c.address: 3333}


def test_round_robin_keeps_counting_when_the_set_changes() -> None:
    """One counter across changes of the set (Curator's behaviour): no restart at the first."""
    a, b, c = _providers(1, 1, 1)
    strategy = RoundRobin()
    assert [strategy.pick((a, b, c), {}) for _ in range(2)] == [a, b]
    assert [strategy.pick((a, c), {}) for _ in range(3)] == [a, c, a]


def test_random_is_uniform() -> None:
    """Random spreads 10,000 picks evenly over four candidates (within 10%)."""
    candidates = _providers(1, 1, 1, 1)
    counts = _count(RandomChoice(random.Random(7)), candidates)
    assert set(counts) == {p.address for p in candidates}
    for n in counts.values():
        assert abs(n - PICKS / 4) < PICKS / 4 * 0.1


def test_weighted_follows_weights() -> None:
    """Weighted picks in proportion to weight (within 5%); weight 0 is never picked."""
    a, b, c, zero = _providers(1, 2, 7, 0)
    counts = _count(Weighted(random.Random(11)), (a, b, c, zero))
    assert counts[zero.address] == 0
    for provider in (a, b, c):
        expected = PICKS * provider.weight / 10
        assert abs(counts[provider.address] - expected) < expected * 0.05 + 50


def test_weighted_with_only_zero_weights_picks_none() -> None:
    """When every candidate weighs 0 the weighted strategy picks none."""
    assert Weighted(random.Random(1)).pick(_providers(0, 0), {}) is None


def test_p2c_prefers_the_less_loaded() -> None:
    """Power of two choices never picks the most loaded of three, and favours the least."""
    a, b, c = _providers(1, 1, 1)
    load = {a.address: 1, b.address: 2, c.address: 3}
    counts = _count(PowerOfTwo(random.Random(3)), (a, b, c), load)
    assert counts[c.address] == 0
    assert counts[a.address] > counts[b.address] > 0
    assert abs(counts[a.address] - PICKS * 2 / 3) < PICKS * 0.05


def test_p2c_with_equal_load_spreads() -> None:
    """With no load, p2c spreads over every candidate."""
    candidates = _providers(1, 1, 1)
    counts = _count(PowerOfTwo(random.Random(5)), candidates)
    for n in counts.values():
        assert abs(n - PICKS / 3) < PICKS / 3 * 0.1


def test_p2c_edge_sizes() -> None:
    """p2c with one candidate gives it; with none, nothing."""
    (only,) = _providers(1)
    assert PowerOfTwo().pick((only,), {only.address: 9}) is only
    assert PowerOfTwo().pick((), {}) is None


def test_sticky_sticks_then_moves() -> None:
    """Sticky keeps its provider while it is a candidate, moves when it goes, and stays moved."""
    candidates = _providers(1, 1, 1, 1)
    strategy = Sticky(random.Random(2))
    first = strategy.pick(candidates, {})
    assert first is not None
    assert all(strategy.pick(candidates, {}) is first for _ in range(100))
    rest = tuple(p for p in candidates if p is not first)
    second = strategy.pick(rest, {})
    assert second is not None and second is not first
    assert all(strategy.pick(rest, {}) is second for _ in range(100))
    assert strategy.pick(candidates, {}) is second  # the first coming back changes nothing


def test_sticky_spreads_clients() -> None:
    """Different sticky clients land on different providers (the first pick is random)."""
    candidates = _providers(1, 1, 1, 1)
    chosen = {Sticky(random.Random(seed)).pick(candidates, {}) for seed in range(50)}
    assert len(chosen) == 4


@pytest.mark.parametrize("name", ["round_robin", "random", "weighted", "p2c", "sticky"])
def test_every_strategy_picks_none_from_nothing(name: str) -> None:
    """Every named strategy picks None from no candidates."""
    assert make_strategy(name).pick((), {}) is None


def test_make_strategy_rejects_unknown() -> None:
    """An unknown name is a ValueError that lists the names; a non-strategy a TypeError."""
    with pytest.raises(ValueError, match="'round_robin', 'random', 'weighted', 'p2c', 'sticky'"):
        make_strategy("fastest")
    with pytest.raises(TypeError):
        make_strategy(object())  # type: ignore[arg-type]
    custom = RoundRobin()
    assert make_strategy(custom) is custom


def test_providers_not_available() -> None:
    """enabled=false or a status other than ALIVE makes a provider unavailable."""
    base = Provider(name="h:1", host="h", port=1)
    assert base.available
    assert not Provider(name="h:1", host="h", port=1, enabled=False).available
    for status in ("DEAD", "STARTING", "STOPPING", "STOPPED", "WARNING", None):
        assert not Provider(name="h:1", host="h", port=1, status=status).available


# -- ejection --------------------------------------------------------------------------


def test_two_errors_within_the_window_eject() -> None:
    """Curator's default: 2 errors within 30 s eject the address for 30 s."""
    clock = FakeClock()
    ejector = Ejector(clock=clock)
    assert not ejector.note_error("a:1")
    clock.now += 29.9
    assert ejector.note_error("a:1")
    assert ejector.is_ejected("a:1") and ejector.ejected() == {"a:1"}
    assert not ejector.is_ejected("b:1")


def test_errors_further_apart_than_the_window_do_not_eject() -> None:
    """An error older than the window no longer counts."""
    clock = FakeClock()
    ejector = Ejector(clock=clock)
    ejector.note_error("a:1")
    clock.now += 30.0
    assert not ejector.note_error("a:1")
    assert ejector.errors("a:1") == 1
    assert not ejector.is_ejected("a:1")


def test_ejected_address_comes_back_with_a_clean_count() -> None:
    """After the ejection period the address returns; one new error does not eject it again."""
    clock = FakeClock()
    ejector = Ejector(clock=clock)
    ejector.note_error("a:1")
    ejector.note_error("a:1")
    assert ejector.next_return() == clock.now + 30.0
    clock.now += 29.9
    assert ejector.is_ejected("a:1")
    assert not ejector.note_error("a:1")  # ignored while ejected
    clock.now += 0.1
    assert not ejector.is_ejected("a:1")
    assert ejector.ejected() == frozenset() and ejector.next_return() is None
    assert not ejector.note_error("a:1")
    assert ejector.errors("a:1") == 1


def test_custom_policy() -> None:
    """threshold, window and ejection are configurable."""
    clock = FakeClock()
    ejector = Ejector(EjectionPolicy(threshold=3, window=5.0, ejection=60.0), clock)
    assert not ejector.note_error("a:1")
    assert not ejector.note_error("a:1")
    assert ejector.note_error("a:1")
    clock.now += 59.0
    assert ejector.is_ejected("a:1")
    clock.now += 1.0
    assert not ejector.is_ejected("a:1")


def test_threshold_one_ejects_at_once() -> None:
    """With threshold 1 a single error ejects."""
    assert Ejector(EjectionPolicy(threshold=1), FakeClock()).note_error("a:1")


@pytest.mark.parametrize("kwargs", [{"threshold": 0}, {"window": -1.0}, {"ejection": -1.0}])
def test_bad_policy(kwargs: dict[str, float]) -> None:
    """A threshold below 1 or a negative period is a ValueError."""
    with pytest.raises(ValueError):
        EjectionPolicy(**kwargs)  # type: ignore[arg-type]
