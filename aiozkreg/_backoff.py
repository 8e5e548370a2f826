"""Exponential delays with jitter, for retries that must not storm a server. Pure."""

from __future__ import annotations

import random


class Backoff:
    """Delays of ``first``, doubling up to ``cap`` seconds, each less by up to ``jitter``
    (a fraction: 0.2 takes up to 20 % off at random, so clients that failed together
    drift apart)."""

    __slots__ = ("_next", "cap", "first", "jitter")

    def __init__(self, cap: float, first: float = 0.05, jitter: float = 0.2) -> None:
        if not 0 <= jitter <= 1:
            raise ValueError(f"jitter is a fraction from 0 to 1, not {jitter}.")
        self.cap = cap
        self.first = first
        self.jitter = jitter
        self._next = first

    def reset(self) -> None:
        self._next = self.first

    def delay(self) -> float:
        value = min(self._next, self.cap)
        self._next = min(self._next * 2, self.cap)
        return value * random.uniform(1.0 - self.jitter, 1.0)
