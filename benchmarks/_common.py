"""Small helpers shared by the view and tree benchmarks.

- :class:`Rows` collects one value per round for each (work, client) cell
  and turns them into :class:`Measurement` objects, rows in the order they
  were first recorded and columns in a given order.
- A *goal* is an absolute target (``<= 5 ms``, ``<= 1 KiB``). The report
  only knows ratio targets, so a goal is written as a one-value cell in a
  column named ``goal``, and a :class:`Comparison` of the client against
  ``goal`` with target 1.0 says "met" when the client is at least as good
  as the goal (the ratio is how many times better than the goal it is).
- The server's four-letter words give what the client cannot see: the
  packets a session sent (``cons``) and the watches the server holds (``mntr``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from _bench import Better, Comparison, Context, Measurement

from aiozkreg.testing import four_letter_word

GOAL = "goal"

Key = tuple[str, str, Better]  # work, unit, better


class Rows:
    """One section's cells, filled round by round."""

    def __init__(self, section: str) -> None:
        self.section = section
        self._values: dict[tuple[str, str, Better, str], list[float]] = defaultdict(list)
        self._goals: dict[Key, float] = {}

    def add(self, work: str, unit: str, better: Better, client: str, value: float) -> None:
        self._values[(work, unit, better, client)].append(value)

    def goal(self, work: str, unit: str, better: Better, value: float) -> None:
        """An absolute goal for the row (shown in the ``goal`` column)."""
        self._goals[(work, unit, better)] = value

    def measurements(self, clients: Sequence[str]) -> list[Measurement]:
        works = list(dict.fromkeys(key[:3] for key in self._values))
        out: list[Measurement] = []
        for work, unit, better in works:
            for client in clients:
                values = self._values.get((work, unit, better, client))
                if values:
                    out.append(Measurement(self.section, work, client, unit, better, tuple(values)))
            goal = self._goals.get((work, unit, better))
            if goal is not None:
                out.append(Measurement(self.section, work, GOAL, unit, better, (goal,)))
        return out


def goal_comparison(client: str) -> Comparison:
    """``client`` against the ``goal`` column: "met" when at least as good as the goal."""
    return Comparison(client, GOAL, {"": 1.0})


# -- the server's view ------------------------------------------------------------------

_CONS = re.compile(r"recved=(\d+),.*?sid=0x([0-9a-f]+)")


def packets_received(ctx: Context, session_id: int) -> int:
    """How many packets the server has received on the session's current connection."""
    text = four_letter_word(ctx.host, ctx.port, "cons", timeout=5.0)
    for line in text.splitlines():
        found = _CONS.search(line)
        if found and int(found.group(2), 16) == session_id:
            return int(found.group(1))
    raise LookupError(f"session 0x{session_id:x} not in the server's connections")


def server_watch_count(ctx: Context) -> int:
    """How many watches (data and child, all sessions) the server holds (``mntr``).

    ``wchs``/``wchc``/``wchp`` report data watches only, so child watches
    are counted here, as a difference between two readings.
    """
    text = four_letter_word(ctx.host, ctx.port, "mntr", timeout=5.0)
    found = re.search(r"^zk_watch_count\s+(\d+)", text, re.M)
    if found is None:
        raise LookupError("no zk_watch_count in the server's mntr output")
    return int(found.group(1))
