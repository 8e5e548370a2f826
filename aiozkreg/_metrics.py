"""What a registry counts as it works, and the snapshot ``zk.metrics()`` returns. No I/O.

The session owns one :class:`Counters`; the layers that see an event bump
it in place (a few integer increments on the request path: always on).
:class:`Metrics` is the frozen snapshot handed to users, with the gauges
(state, watches, views, live registrations) read at that moment.

Request latency is not kept here: a registry measures it only when an
observer is installed (:mod:`aiozkreg.otel` does), so it costs nothing
otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ._states import SessionState

#: ZooKeeper's names for its opcodes (``ZooDefs.OpCode``), as requests are labelled.
OP_NAMES: Mapping[int, str] = MappingProxyType(
    {
        -11: "closeSession",
        0: "notification",
        1: "create",
        2: "delete",
        3: "exists",
        4: "getData",
        5: "setData",
        6: "getACL",
        7: "setACL",
        8: "getChildren",
        9: "sync",
        11: "ping",
        12: "getChildren2",
        13: "check",
        14: "multi",
        15: "create2",
        16: "reconfig",
        17: "checkWatches",
        18: "removeWatches",
        19: "createContainer",
        20: "deleteContainer",
        21: "createTTL",
        22: "multiRead",
        100: "auth",
        101: "setWatches",
        102: "sasl",
        103: "getEphemerals",
        104: "getAllChildrenNumber",
        105: "setWatches2",
        106: "addWatch",
    }
)

LatencyObserver = Callable[[int, float, bool], None]
"""Called as each request ends: (opcode, seconds from the call to its end, failed)."""


def op_name(opcode: int) -> str:
    return OP_NAMES.get(opcode, f"op{opcode}")


class Counters:
    """The running counts of one registry (mutated in place)."""

    __slots__ = (
        "connects",
        "expiries",
        "failures",
        "latency",
        "reconnects",
        "requests",
        "restore_failures",
        "restored",
    )

    def __init__(self) -> None:
        self.connects = 0  # links attached to the session (the first and each later one)
        self.reconnects = 0  # links attached after the first
        self.expiries = 0
        self.requests: defaultdict[int, int] = defaultdict(int)  # by opcode
        self.failures: defaultdict[int, int] = defaultdict(int)  # by opcode
        self.restored = 0  # registration nodes the supervisor made again
        self.restore_failures = 0  # restores the server refused
        self.latency: LatencyObserver | None = None


def _by_name(counts: Mapping[int, int]) -> Mapping[str, int]:
    return MappingProxyType({op_name(code): n for code, n in sorted(counts.items())})


@dataclass(frozen=True, slots=True)
class Metrics:
    """A registry's counters and gauges at one moment: what ``zk.metrics()`` returns.

    Counters only grow over the registry's life: ``connects`` (every link
    attached, the first included), ``reconnects`` (those after the first),
    ``expiries``, ``requests`` and ``failures`` (by ZooKeeper operation
    name: ``"getData"``, ``"create"``, ``"multi"``, ...; a failure is a
    request that raised: an error from the server, a lost connection, a
    timeout), ``restored`` (registration nodes the supervisor made again)
    and ``restore_failures`` (restores the server refused). Gauges: the
    session ``state``, the client's ``watches`` (registered on the server
    for this session), the open ``views`` (children, properties, provider
    sets and trees), and ``live_registrations``.
    """

    state: SessionState
    connects: int
    reconnects: int
    expiries: int
    requests: Mapping[str, int]
    failures: Mapping[str, int]
    watches: int
    views: int
    live_registrations: int
    restored: int
    restore_failures: int

    @classmethod
    def of(
        cls,
        counters: Counters,
        *,
        state: SessionState,
        watches: int,
        views: int,
        live_registrations: int,
    ) -> Metrics:
        return cls(
            state=state,
            connects=counters.connects,
            reconnects=counters.reconnects,
            expiries=counters.expiries,
            requests=_by_name(counters.requests),
            failures=_by_name(counters.failures),
            watches=watches,
            views=views,
            live_registrations=live_registrations,
            restored=counters.restored,
            restore_failures=counters.restore_failures,
        )
