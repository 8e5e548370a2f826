"""Exponential delays with jitter, for retries that must not storm a server. Pure."""

from __future__ import annotations

import random


class Backoff:
    """Delays of ``first``, doubling up to ``cap`` seconds, each less up to 20 % (jitter)."""

    __slots__ = ("_next", "cap", "first")

    def __init__(self, cap: float, first: float = 0.05) -> None:
        self.cap = cap
        self.first = first
        self._next = first

    def reset(self) -> None:
        self._next = self.first

    def delay(self) -> float:
        value = min(self._next, self.cap)
        self._next = min(self._next * 2, self.cap)
        return value * random.uniform(0.8, 1.0)
