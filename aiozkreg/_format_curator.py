"""Apache Curator x-discovery's layout: a ``ServiceInstance`` per ``<uuid>`` child. Pure: no I/O.

The child is named by the instance's ``id`` (a UUID4); its data is
Curator's ``ServiceInstance`` JSON in the field order Curator writes (name,
id, address, port, sslPort, payload, registrationTimeUTC, serviceType,
uriSpec, then enabled). The ``payload`` is exactly the properties less
``enabled``, as an object with ``"@class": "java.util.LinkedHashMap"`` first
so Jackson readers can type it, and ``null`` when there are none (so
clients typed ``ServiceDiscovery<Void>`` or ``<String>`` read it too). An
``enabled`` property is Curator's own top-level boolean ``"enabled"``, which
``ServiceInstance.isEnabled()`` reports; without one the field is left out,
as Curator's default (compatible) serializer does, and readers take it as
true. Reading, only that top-level field counts (an ``enabled`` key inside
the payload is ordinary payload).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ._encoding import check_finite, json_bytes
from ._provider import Provider, frozen, truthy, weight_of
from ._wire_format import Announcement, WireFormat, json_object, maybe_json_object, port_number

__all__ = ["JAVA_MAP_CLASS", "CuratorFormat", "format_uri_spec", "parse_uri_spec"]

JAVA_MAP_CLASS = "java.util.LinkedHashMap"


@dataclass(frozen=True)
class CuratorFormat(WireFormat):
    """Curator x-discovery: a ``ServiceInstance`` per ephemeral ``<uuid>`` child.

    ``ssl_port`` and ``uri_spec`` (``"{scheme}://{address}:{port}"``) are
    written as Curator's ``sslPort`` and ``uriSpec``. The payload is the
    properties less ``enabled``, which is the top-level ``enabled`` field.
    """

    name: ClassVar[str] = "curator"
    ssl_port: int | None = None
    uri_spec: str | None = None

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def node_name(self, announcement: Announcement, address: str) -> str:
        return announcement.id

    def encode(self, announcement: Announcement, properties: Mapping[str, Any]) -> bytes:
        check_finite(properties)  # inf and nan are no JSON: refused before anything is written
        rest = {k: v for k, v in properties.items() if k != "enabled"}
        payload = {"@class": JAVA_MAP_CLASS, **rest} if rest else None
        document: dict[str, Any] = {
            "name": announcement.service,
            "id": announcement.id,
            "address": announcement.host,
            "port": announcement.port,
            "sslPort": self.ssl_port,
            "payload": payload,
            "registrationTimeUTC": announcement.time_ms,
            "serviceType": "DYNAMIC",
            "uriSpec": parse_uri_spec(self.uri_spec) if self.uri_spec is not None else None,
        }
        if "enabled" in properties:  # else left out, as Curator's compatible mode does
            document["enabled"] = truthy(properties["enabled"])
        return json_bytes(document)

    def properties_of(self, data: bytes) -> dict[str, Any]:
        return _instance_properties(json_object(data))

    def accepts(self, name: str) -> bool:
        return True

    def decode(self, name: str, data: bytes) -> Provider:
        document = json_object(data)
        address = document.get("address")
        if not isinstance(address, str):
            raise ValueError(f"address is not a string: {address!r}")
        ssl_port = document.get("sslPort")
        ssl_port = None if ssl_port is None else port_number(ssl_port, "sslPort")
        port = document.get("port")
        port = ssl_port if port is None else port_number(port, "port")
        if port is None:
            raise ValueError("there is neither a port nor an sslPort")
        props = _instance_properties(document)
        ident = document.get("id")
        return Provider(
            name=name,
            host=address,
            port=port,
            properties=frozen(props),
            weight=weight_of(props.get("weight"), f" on {name}"),
            enabled=truthy(document.get("enabled")),
            format=self.name,
            id=ident if isinstance(ident, str) else None,
            ssl_port=ssl_port,
            uri_spec=format_uri_spec(document.get("uriSpec")),
        )

    @staticmethod
    def looks_like(data: bytes, name: str | None = None) -> bool:
        """True if ``data`` is a JSON object with an address and a port: a Curator instance.

        With ``name``, its ``id`` must be that name too (Curator names the node by it).
        """
        document = maybe_json_object(data)
        return document is not None and instance_shaped(document, name)


def instance_shaped(document: Mapping[str, Any], name: str | None) -> bool:
    """True if ``document`` has an address and a port (and, with ``name``, that ``id``)."""
    if "address" not in document or ("port" not in document and "sslPort" not in document):
        return False
    return name is None or document.get("id") == name


def _instance_properties(document: Mapping[str, Any]) -> dict[str, Any]:
    """A Curator instance's properties: its payload, and its ``enabled`` field if it has one."""
    props = _payload_properties(document.get("payload"))
    if "enabled" in document:
        props["enabled"] = document["enabled"]
    return props


def _payload_properties(payload: Any) -> dict[str, Any]:
    """A Curator payload as properties: an object less ``@class``, else ``{"payload": it}``."""
    if payload is None:
        return {}
    if isinstance(payload, dict):
        return {k: v for k, v in payload.items() if k != "@class"}
    return {"payload": payload}


def parse_uri_spec(template: str) -> dict[str, Any]:
    """Curator's UriSpec JSON for ``"{scheme}://{address}:{port}"``-style text."""
    pieces = re.split(r"\{([^{}]*)\}", template)  # literal, variable, literal, ...
    parts = [
        {"value": piece, "variable": index % 2 == 1}
        for index, piece in enumerate(pieces)
        if piece or index % 2 == 1
    ]
    return {"parts": parts}


def format_uri_spec(spec: Any) -> str | None:
    """The template text of Curator UriSpec JSON (None if there is none)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("parts"), list):
        return None
    text = []
    for part in spec["parts"]:
        if isinstance(part, dict) and isinstance(part.get("value"), str):
            value = part["value"]
            text.append(f"{{{value}}}" if part.get("variable") else value)
    return "".join(text)
