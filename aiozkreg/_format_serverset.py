"""Finagle/Aurora ServerSets: ephemeral-sequential ``member_%010d`` children. Pure: no I/O.

The data is ``{"serviceEndpoint", "additionalEndpoints", "status",
"shard"}`` (the first three always written); the properties go into the
``metadata`` string map (non-string values as JSON text). ``status`` is
``ALIVE``, or ``STOPPING`` when an ``enabled`` property is false.

Why ``STOPPING`` for a disabled member: the ServerSet schema
(twitter-commons' ``endpoint.thrift``) defines it as a service that "should
no longer be contacted" while it finishes the requests it has, which is
what taking a live provider out of rotation means. Finagle's resolvers
(``zk2`` and the older ``ZookeeperServerSetCluster``) route to ``ALIVE``
members only, so any other status takes the member out there; Iago pauses
a ``STOPPING`` member and resumes it when it is ``ALIVE`` again, the very
toggle ``enabled`` is. ``DEAD`` is twitter-commons' signal to leave the set
(``EndpointStatus.update(DEAD)`` cancels the membership), ``STOPPED`` says
the process cannot be contacted at all, ``WARNING`` means alive and may
still be routed to, and ``STARTING`` describes a process not yet up. Every
ServerSet reader parses all six. ``enabled`` also stays in ``metadata``
(``"false"``/``"true"``): it is the only place an explicit ``enabled=True``
survives, and it tells our disabling apart from another writer's status.

Reading, a member must say ``ALIVE`` (and an ``enabled`` metadata entry
must not be false) to be available; one that says nothing (``status`` is
None) is listed but never picked, as strict ServerSet readers reject it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._address import split_address
from ._encoding import check_finite, json_bytes
from ._provider import ALIVE, Provider, frozen, truthy, weight_of
from ._wire_format import Announcement, WireFormat, json_object, port_number

__all__ = ["DISABLED", "SERVERSET_STATUSES", "ServerSetFormat"]

log = logging.getLogger("aiozkreg.formats")

DISABLED = "STOPPING"
"""The ServerSet status of a member whose ``enabled`` property is false (see above)."""
SERVERSET_STATUSES = ("DEAD", "STARTING", "ALIVE", "STOPPING", "STOPPED", "WARNING")

_MEMBER = re.compile(r"^member_-?[0-9]+$")


def _no_endpoints() -> Mapping[str, str | tuple[str, int]]:
    return frozen({})


@dataclass(frozen=True)
class ServerSetFormat(WireFormat):
    """Finagle/Aurora ServerSets: ephemeral-sequential ``member_%010d`` children.

    ``shard`` is written as ``shard`` (None leaves it out);
    ``additional_endpoints`` maps names to ``(host, port)`` or ``"host:port"``
    (a blank host means the registered host). A false ``enabled`` property
    makes the status :data:`DISABLED` (``STOPPING``) instead of ``ALIVE``.
    """

    name: ClassVar[str] = "serverset"
    sequential: ClassVar[bool] = True
    shard: int | None = 0
    additional_endpoints: Mapping[str, str | tuple[str, int]] = field(
        default_factory=_no_endpoints, hash=False
    )

    def node_name(self, announcement: Announcement, address: str) -> str:
        return "member_"

    def encode(self, announcement: Announcement, properties: Mapping[str, Any]) -> bytes:
        check_finite(properties)  # inf and nan are no JSON: refused before anything is written
        endpoints = {}
        for key, value in self.additional_endpoints.items():
            host, port = split_address(value) if isinstance(value, str) else value
            endpoints[key] = {"host": host or announcement.host, "port": int(port)}
        metadata = dict(properties)
        if "enabled" in metadata:
            metadata["enabled"] = truthy(metadata["enabled"])
        document: dict[str, Any] = {
            "serviceEndpoint": {"host": announcement.host, "port": announcement.port},
            "additionalEndpoints": endpoints,
            "status": ALIVE if metadata.get("enabled", True) else DISABLED,
        }
        if self.shard is not None:
            document["shard"] = self.shard
        if metadata:
            document["metadata"] = {
                key: value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
                for key, value in metadata.items()
            }
        return json_bytes(document)

    def properties_of(self, data: bytes) -> dict[str, Any]:
        return _metadata_properties(json_object(data).get("metadata"))

    def accepts(self, name: str) -> bool:
        return _MEMBER.match(name) is not None

    def decode(self, name: str, data: bytes) -> Provider:
        document = json_object(data)
        if "serviceEndpoint" not in document:
            raise ValueError("there is no serviceEndpoint")
        host, port = _endpoint(document["serviceEndpoint"], "serviceEndpoint")
        additional = document.get("additionalEndpoints")
        endpoints = {}
        if isinstance(additional, dict):
            for key, value in additional.items():
                try:
                    endpoints[key] = _endpoint(value, f"additionalEndpoints[{key!r}]")
                except ValueError as exc:
                    log.warning("Ignoring an endpoint of ServerSet member %s: %s.", name, exc)
        status = document.get("status")
        shard = document.get("shard", document.get("shardId"))
        props = _metadata_properties(document.get("metadata"))
        return Provider(
            name=name,
            host=host,
            port=port,
            properties=frozen(props),
            weight=weight_of(props.get("weight"), f" on {name}"),
            enabled=truthy(props.get("enabled")),
            status=status if isinstance(status, str) else None,
            format=self.name,
            shard=shard if isinstance(shard, int) and not isinstance(shard, bool) else None,
            endpoints=frozen(endpoints),
        )


def _endpoint(value: Any, what: str) -> tuple[str, int]:
    if not isinstance(value, dict) or not isinstance(value.get("host"), str):
        raise ValueError(f"{what} is not an endpoint {{host, port}}: {value!r}")
    return value["host"], port_number(value.get("port"), f"{what}'s port")


def _metadata_properties(metadata: Any) -> dict[str, Any]:
    """ServerSet metadata as properties: ``enabled`` ``"true"``/``"false"`` as a boolean."""
    props = dict(metadata) if isinstance(metadata, dict) else {}
    flag = props.get("enabled")
    if flag in ("true", "false"):
        props["enabled"] = flag == "true"
    return props
