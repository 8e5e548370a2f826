"""A provider of a service, as read from its node, and how its flags read. Pure: no I/O.

Reading, a provider is *available* when it is enabled and its status is
``ALIVE``. zc.zk: an ``enabled`` property that is false turns it off.
Curator: only the top-level ``enabled`` field counts, as for Curator's own
clients (an ``enabled`` key inside the payload is ordinary payload). A
ServerSet member must say ``ALIVE`` (and an ``enabled`` metadata entry
must not be false); one that says nothing (``status`` is None) is listed
but never picked, as strict ServerSet readers reject it. zc.zk and Curator
nodes have no status: they are ALIVE while they exist.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ._address import join_address

__all__ = ["ALIVE", "Provider", "frozen", "truthy", "weight_of"]

log = logging.getLogger("aiozkreg.formats")

ALIVE = "ALIVE"

_FALSE = frozenset({"false", "0", "no", "off", ""})
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return _EMPTY


def frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only copy of ``mapping``, for a :class:`Provider`'s fields."""
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class Provider:
    """One provider of a service, as read from its node (immutable).

    ``name`` is the node's name under the service path; ``properties`` the
    zc.zk properties, the Curator payload (without ``@class``, plus Curator's
    ``enabled`` field when the instance has one) or the ServerSet metadata
    (an ``enabled`` entry of ``"true"``/``"false"`` as a boolean): what
    :meth:`WireFormat.properties_of` reads. ``endpoints`` are a ServerSet
    member's ``additionalEndpoints``.
    """

    name: str
    host: str
    port: int
    properties: Mapping[str, Any] = field(default_factory=_empty, hash=False)
    weight: float = 1.0
    enabled: bool = True
    status: str | None = ALIVE
    format: str = "zc.zk"
    id: str | None = None
    ssl_port: int | None = None
    shard: int | None = None
    endpoints: Mapping[str, tuple[str, int]] = field(default_factory=_empty, hash=False)
    uri_spec: str | None = None

    @property
    def address(self) -> str:
        """``host:port`` (``[v6]:port`` for an IPv6 host)."""
        return join_address(self.host, self.port)

    @property
    def available(self) -> bool:
        """Enabled and ALIVE: a strategy may pick it (unless it is ejected)."""
        return self.enabled and self.status == ALIVE


def truthy(value: Any) -> bool:
    """An ``enabled`` value: JSON booleans as they are, ``"false"``/``"0"``/``"no"``/``"off"``
    (any case) and zero are false, None (unset) is true."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE
    return bool(value)


def weight_of(value: Any, where: str = "") -> float:
    """A ``weight`` property as a float >= 0; missing or unusable gives 1."""
    if value is None:
        return 1.0
    weight: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        weight = float(value)
    elif isinstance(value, str):
        try:
            weight = float(value)
        except ValueError:
            weight = None
    if weight is None or not math.isfinite(weight) or weight < 0:
        log.warning("Ignoring weight %r%s: not a number >= 0; using 1.", value, where)
        return 1.0
    return weight
