"""Choosing a provider: pick strategies and the down-instance (ejection) policy.

Pure: no I/O, no asyncio; time comes from an injected clock.

A strategy gets the candidates (available, not ejected, in name order) and
the number of outstanding leases per address, and returns one candidate, or
None if it will pick none of them:

* ``round_robin`` -- each in turn (one counter across changes of the set,
  as Curator's ``RoundRobinStrategy``);
* ``random`` -- uniformly at random;
* ``weighted`` -- at random in proportion to ``weight`` (0: never);
* ``p2c`` -- power of two choices: two distinct candidates at random, the
  one with fewer outstanding leases (the first drawn on a tie);
* ``sticky`` -- the same provider for as long as it is a candidate; when it
  goes (unregistered, disabled, ejected) a new one is drawn at random.

Ejection follows Curator's ``DownInstancePolicy`` defaults: ``threshold``
errors (2) noted within ``window`` seconds (30) eject the address for
``ejection`` seconds (30). The period starts at the error that ejects it;
errors noted while ejected are ignored; it comes back with a clean count.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Protocol

from ._provider import Provider

Clock = Callable[[], float]
Load = Mapping[str, int]


class Strategy(Protocol):
    """Anything with this ``pick`` can be given as ``providers(strategy=...)``."""

    def pick(self, candidates: Sequence[Provider], load: Load) -> Provider | None: ...


class RoundRobin:
    def __init__(self) -> None:
        self._turn = 0

    def pick(self, candidates: Sequence[Provider], load: Load) -> Provider | None:
        if not candidates:
            return None
        chosen = candidates[self._turn % len(candidates)]
        self._turn += 1
        return chosen


class RandomChoice:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    def pick(self, candidates: Sequence[Provider], load: Load) -> Provider | None:
        return self._rng.choice(candidates) if candidates else None


class Weighted:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    def pick(self, candidates: Sequence[Provider], load: Load) -> Provider | None:
        weighted = [p for p in candidates if p.weight > 0]
        if not weighted:
            return None
        totals = list(accumulate(p.weight for p in weighted))
        point = self._rng.random() * totals[-1]
        for provider, total in zip(weighted, totals, strict=True):
            if point < total:
                return provider
        return weighted[-1]  # rounding at the very top


class PowerOfTwo:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    def pick(self, candidates: Sequence[Provider], load: Load) -> Provider | None:
        if len(candidates) < 2:
            return candidates[0] if candidates else None
        first, second = self._rng.sample(range(len(candidates)), 2)
        a, b = candidates[first], candidates[second]
        return b if load.get(b.address, 0) < load.get(a.address, 0) else a


class Sticky:
    def __init__(self, rng: random.Random | None = None, inner: Strategy | None = None) -> None:
        self._inner = inner or RandomChoice(rng)
        self._current: str | None = None

    def pick(self, candidates: Sequence[Provider], load: Load) -> Provider | None:
        for provider in candidates:
            if provider.address == self._current:
                return provider
        chosen = self._inner.pick(candidates, load)
        self._current = chosen.address if chosen is not None else None
        return chosen


STRATEGIES: dict[str, Callable[[random.Random | None], Strategy]] = {
    "round_robin": lambda rng: RoundRobin(),
    "random": RandomChoice,
    "weighted": Weighted,
    "p2c": PowerOfTwo,
    "sticky": Sticky,
}


def make_strategy(spec: str | Strategy, rng: random.Random | None = None) -> Strategy:
    """The strategy named ``spec`` (see the module docstring), or ``spec`` itself."""
    if isinstance(spec, str):
        try:
            return STRATEGIES[spec](rng)
        except KeyError:
            names = ", ".join(repr(n) for n in STRATEGIES)
            raise ValueError(f"Unknown strategy {spec!r}; use one of {names}.") from None
    if not callable(getattr(spec, "pick", None)):
        raise TypeError(f"A strategy needs a pick(candidates, load) method, not {spec!r}.")
    return spec


@dataclass(frozen=True, slots=True)
class EjectionPolicy:
    """``threshold`` errors within ``window`` seconds eject for ``ejection`` seconds."""

    threshold: int = 2
    window: float = 30.0
    ejection: float = 30.0

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError(f"error_threshold must be at least 1, not {self.threshold!r}.")
        if self.window < 0 or self.ejection < 0:
            raise ValueError("error_window and ejection must not be negative.")


class Ejector:
    """Errors noted per address, and the addresses ejected for now."""

    def __init__(self, policy: EjectionPolicy | None = None, clock: Clock | None = None) -> None:
        self.policy = policy or EjectionPolicy()
        self.clock: Clock = clock or time.monotonic
        self._errors: dict[str, deque[float]] = {}
        self._until: dict[str, float] = {}

    def note_error(self, address: str) -> bool:
        """Count an error; True if it ejected the address."""
        now = self.clock()
        if self.is_ejected(address):
            return False
        self._forget_old(now)
        errors = self._errors.setdefault(address, deque())
        errors.append(now)
        if len(errors) < self.policy.threshold:
            return False
        del self._errors[address]
        self._until[address] = now + self.policy.ejection
        return True

    def _forget_old(self, now: float) -> None:
        horizon = now - self.policy.window
        for address in list(self._errors):
            errors = self._errors[address]
            while errors and errors[0] <= horizon:
                errors.popleft()
            if not errors:
                del self._errors[address]

    def is_ejected(self, address: str) -> bool:
        until = self._until.get(address)
        if until is None:
            return False
        if self.clock() >= until:
            del self._until[address]
            return False
        return True

    def ejected(self) -> frozenset[str]:
        """The addresses ejected now."""
        return frozenset(a for a in list(self._until) if self.is_ejected(a))

    def next_return(self) -> float | None:
        """Clock time at which the first ejected address comes back (None: none is ejected)."""
        live = self.ejected()
        return min((self._until[a] for a in live), default=None)

    def errors(self, address: str) -> int:
        """Errors counted against ``address`` within the window."""
        self._forget_old(self.clock())
        return len(self._errors.get(address, ()))
