"""Provider node layouts: zc.zk, Apache Curator x-discovery, Finagle/Aurora ServerSets.

Pure: no I/O. Each :class:`WireFormat` knows how a registration's node is
named, how its data is written, and how a reader turns a child of the
service path back into a :class:`Provider`.

* **zc.zk**: child ``HOST:PORT``, data the properties as compact JSON.
* **curator**: child ``<id>`` (a UUID4), data Curator's ``ServiceInstance``
  JSON in the field order Curator writes (name, id, address, port, sslPort,
  payload, registrationTimeUTC, serviceType, uriSpec); the properties are
  the ``payload`` object, written with ``"@class": "java.util.LinkedHashMap"``
  first so Jackson readers can type it. ``enabled`` is not written (Curator's
  compatible mode); readers take a missing one as true.
* **serverset**: ephemeral-sequential child ``member_%010d``, data
  ``{"serviceEndpoint", "additionalEndpoints", "status": "ALIVE", "shard"}``
  (all of the first three always written); the properties go into the
  ``metadata`` string map (non-string values as JSON text).

Reading, a provider is *available* when it is enabled (an ``enabled``
property, or Curator's ``enabled`` field, that is false turns it off) and its
status is ``ALIVE``. zc.zk and Curator nodes have no status: they are ALIVE
while they exist. A ServerSet member must say ``ALIVE``; one that says
nothing (``status`` is None) is listed but never picked, as strict
ServerSet readers reject it.

Auto-detection (no format given) goes by the child's name, then its data:
``member_<n>`` is a ServerSet member, ``HOST:PORT`` a zc.zk node, anything
else a Curator instance if its data is a JSON object with ``address`` and a
port; other children (``vector_*`` weight nodes, config nodes) are skipped.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from ._encoding import decode_properties, encode_properties

log = logging.getLogger("aiozkreg.formats")

ALIVE = "ALIVE"
SERVERSET_STATUSES = ("DEAD", "STARTING", "ALIVE", "STOPPING", "STOPPED", "WARNING")
JAVA_MAP_CLASS = "java.util.LinkedHashMap"

_MEMBER = re.compile(r"^member_-?[0-9]+$")
_FALSE = frozenset({"false", "0", "no", "off", ""})
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return _EMPTY


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class Provider:
    """One provider of a service, as read from its node (immutable).

    ``name`` is the node's name under the service path; ``properties`` the
    zc.zk properties, the Curator payload (without ``@class``) or the
    ServerSet metadata. ``endpoints`` are a ServerSet member's
    ``additionalEndpoints``.
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


def join_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def split_address(text: str) -> tuple[str, int]:
    """``"h:80"`` -> ``("h", 80)``, ``"[::1]:80"`` -> ``("::1", 80)``; ValueError otherwise."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit():
        raise ValueError(f"{text!r} is not HOST:PORT.")
    port = int(port_text)
    if port > 65535:
        raise ValueError(f"{text!r} has a port out of range.")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


# -- helpers for reading ---------------------------------------------------------------


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError(f"the data is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError("the data is not a JSON object")
    return value


def _port(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise ValueError(f"{what} is not a port number: {value!r}")
    return value


def _endpoint(value: Any, what: str) -> tuple[str, int]:
    if not isinstance(value, dict) or not isinstance(value.get("host"), str):
        raise ValueError(f"{what} is not an endpoint {{host, port}}: {value!r}")
    return value["host"], _port(value.get("port"), f"{what}'s port")


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


# -- announcements: what a registration writes -----------------------------------------


@dataclass(frozen=True, slots=True)
class Announcement:
    """What a registration's node says besides its properties, fixed when it registers.

    A restore or an update re-encodes with the same announcement, so the
    Curator id and registration time never change.
    """

    format: WireFormat
    host: str
    port: int
    service: str = ""
    id: str = ""
    time_ms: int = 0

    def encode(self, properties: Mapping[str, Any]) -> bytes:
        return self.format.encode(self, properties)

    def properties(self, data: bytes) -> dict[str, Any]:
        return self.format.properties_of(data)


class WireFormat(ABC):
    """How provider nodes are named, written and read. See the module docstring."""

    name: ClassVar[str]
    sequential: ClassVar[bool] = False
    """Created ephemeral-sequential (the server appends the number)."""
    every_address: ClassVar[bool] = False
    """A blank host registers one node per address (else only the first)."""
    records_pid: ClassVar[bool] = False
    """A registration adds ``pid`` (this process id) to its properties (zc.zk only)."""

    def announce(
        self,
        service_path: str,
        host: str,
        port: int,
        *,
        id: str | None = None,
        time_ms: int | None = None,
    ) -> Announcement:
        return Announcement(
            self,
            host,
            port,
            service_path.rstrip("/").rpartition("/")[2],
            id if id is not None else "",
            time_ms if time_ms is not None else int(time.time() * 1000),
        )

    def endpoint(self, address: str) -> tuple[str, int]:
        """The host and port a registration of ``address`` (``HOST:PORT``) announces."""
        try:
            return split_address(address)
        except ValueError:
            raise ValueError(
                f"A {self.name} registration needs a HOST:PORT address, not {address!r}."
            ) from None

    @abstractmethod
    def node_name(self, announcement: Announcement, address: str) -> str:
        """The child name to create (the prefix, for a sequential format)."""

    @abstractmethod
    def encode(self, announcement: Announcement, properties: Mapping[str, Any]) -> bytes:
        """The node data."""

    @abstractmethod
    def properties_of(self, data: bytes) -> dict[str, Any]:
        """The properties in data this format wrote."""

    @abstractmethod
    def accepts(self, name: str) -> bool:
        """True for child names this format's readers take as providers."""

    @abstractmethod
    def decode(self, name: str, data: bytes) -> Provider:
        """The provider a child says it is; ValueError (saying why) if it is malformed."""


@dataclass(frozen=True)
class ZcZkFormat(WireFormat):
    """zc.zk's layout: ephemeral ``HOST:PORT`` children with JSON properties."""

    name: ClassVar[str] = "zc.zk"
    every_address: ClassVar[bool] = True
    records_pid: ClassVar[bool] = True

    def endpoint(self, address: str) -> tuple[str, int]:
        try:
            return split_address(address)
        except ValueError:
            return address, 0  # the name is the address as given; the data holds no endpoint

    def node_name(self, announcement: Announcement, address: str) -> str:
        return address

    def encode(self, announcement: Announcement, properties: Mapping[str, Any]) -> bytes:
        return encode_properties(properties)

    def properties_of(self, data: bytes) -> dict[str, Any]:
        return decode_properties(data)

    def accepts(self, name: str) -> bool:
        try:
            split_address(name)
        except ValueError:
            return False
        return True

    def decode(self, name: str, data: bytes) -> Provider:
        host, port = split_address(name)
        props = decode_properties(data, name)
        return Provider(
            name=name,
            host=host,
            port=port,
            properties=_frozen(props),
            weight=weight_of(props.get("weight"), f" on {name}"),
            enabled=truthy(props.get("enabled")),
            format=self.name,
        )


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


@dataclass(frozen=True)
class CuratorFormat(WireFormat):
    """Curator x-discovery: a ``ServiceInstance`` per ephemeral ``<uuid>`` child.

    ``ssl_port`` and ``uri_spec`` (``"{scheme}://{address}:{port}"``) are
    written as Curator's ``sslPort`` and ``uriSpec``.
    """

    name: ClassVar[str] = "curator"
    ssl_port: int | None = None
    uri_spec: str | None = None

    def announce(
        self,
        service_path: str,
        host: str,
        port: int,
        *,
        id: str | None = None,
        time_ms: int | None = None,
    ) -> Announcement:
        return super().announce(
            service_path, host, port, id=id or str(uuid.uuid4()), time_ms=time_ms
        )

    def node_name(self, announcement: Announcement, address: str) -> str:
        return announcement.id

    def encode(self, announcement: Announcement, properties: Mapping[str, Any]) -> bytes:
        payload = {"@class": JAVA_MAP_CLASS, **properties} if properties else None
        document = {
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
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def properties_of(self, data: bytes) -> dict[str, Any]:
        return _payload_properties(_json_object(data).get("payload"))

    def accepts(self, name: str) -> bool:
        return True

    def decode(self, name: str, data: bytes) -> Provider:
        document = _json_object(data)
        address = document.get("address")
        if not isinstance(address, str):
            raise ValueError(f"address is not a string: {address!r}")
        ssl_port = document.get("sslPort")
        ssl_port = None if ssl_port is None else _port(ssl_port, "sslPort")
        port = document.get("port")
        port = ssl_port if port is None else _port(port, "port")
        if port is None:
            raise ValueError("there is neither a port nor an sslPort")
        props = _payload_properties(document.get("payload"))
        ident = document.get("id")
        return Provider(
            name=name,
            host=address,
            port=port,
            properties=_frozen(props),
            weight=weight_of(props.get("weight"), f" on {name}"),
            enabled=truthy(document.get("enabled")) and truthy(props.get("enabled")),
            format=self.name,
            id=ident if isinstance(ident, str) else None,
            ssl_port=ssl_port,
            uri_spec=format_uri_spec(document.get("uriSpec")),
        )

    @staticmethod
    def looks_like(data: bytes) -> bool:
        """True if ``data`` is a JSON object with an address and a port: a Curator instance."""
        if not data.lstrip().startswith(b"{"):
            return False
        try:
            document = _json_object(data)
        except ValueError:
            return False
        return "address" in document and ("port" in document or "sslPort" in document)


def _payload_properties(payload: Any) -> dict[str, Any]:
    """A Curator payload as properties: an object less ``@class``, else ``{"payload": it}``."""
    if payload is None:
        return {}
    if isinstance(payload, dict):
        return {k: v for k, v in payload.items() if k != "@class"}
    return {"payload": payload}


@dataclass(frozen=True)
class ServerSetFormat(WireFormat):
    """Finagle/Aurora ServerSets: ephemeral-sequential ``member_%010d`` children.

    ``shard`` is written as ``shard`` (None leaves it out);
    ``additional_endpoints`` maps names to ``(host, port)`` or ``"host:port"``
    (a blank host means the registered host).
    """

    name: ClassVar[str] = "serverset"
    sequential: ClassVar[bool] = True
    shard: int | None = 0
    additional_endpoints: Mapping[str, Any] = field(default_factory=_empty, hash=False)

    def node_name(self, announcement: Announcement, address: str) -> str:
        return "member_"

    def encode(self, announcement: Announcement, properties: Mapping[str, Any]) -> bytes:
        endpoints = {}
        for key, value in self.additional_endpoints.items():
            host, port = split_address(value) if isinstance(value, str) else tuple(value)
            endpoints[key] = {"host": host or announcement.host, "port": int(port)}
        document: dict[str, Any] = {
            "serviceEndpoint": {"host": announcement.host, "port": announcement.port},
            "additionalEndpoints": endpoints,
            "status": ALIVE,
        }
        if self.shard is not None:
            document["shard"] = self.shard
        if properties:
            document["metadata"] = {
                key: value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
                for key, value in properties.items()
            }
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def properties_of(self, data: bytes) -> dict[str, Any]:
        metadata = _json_object(data).get("metadata")
        return dict(metadata) if isinstance(metadata, dict) else {}

    def accepts(self, name: str) -> bool:
        return _MEMBER.match(name) is not None

    def decode(self, name: str, data: bytes) -> Provider:
        document = _json_object(data)
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
        metadata = document.get("metadata")
        props = dict(metadata) if isinstance(metadata, dict) else {}
        return Provider(
            name=name,
            host=host,
            port=port,
            properties=_frozen(props),
            weight=weight_of(props.get("weight"), f" on {name}"),
            enabled=truthy(props.get("enabled")),
            status=status if isinstance(status, str) else None,
            format=self.name,
            shard=shard if isinstance(shard, int) and not isinstance(shard, bool) else None,
            endpoints=_frozen(endpoints),
        )


ZCZK = ZcZkFormat()
CURATOR = CuratorFormat()
SERVERSET = ServerSetFormat()
FORMATS: dict[str, WireFormat] = {f.name: f for f in (ZCZK, CURATOR, SERVERSET)}


def wire_format(spec: str | WireFormat) -> WireFormat:
    """The format named ``spec`` (``"zc.zk"``, ``"curator"``, ``"serverset"``), or ``spec``."""
    if isinstance(spec, WireFormat):
        return spec
    try:
        return FORMATS[spec]
    except (KeyError, TypeError):
        names = ", ".join(repr(n) for n in FORMATS)
        raise ValueError(f"Unknown format {spec!r}; use one of {names}.") from None


def detect(name: str, data: bytes) -> WireFormat | None:
    """The format a child is in, by its name and then its data; None if it is no provider."""
    if SERVERSET.accepts(name):
        return SERVERSET
    if ZCZK.accepts(name):
        return ZCZK
    if CuratorFormat.looks_like(data):
        return CURATOR
    return None


def decode_provider(name: str, data: bytes, format: WireFormat | None = None) -> Provider | None:
    """The provider a child stands for, in ``format`` (None: detect it).

    None if the child is not a provider in that format (by its name, or by
    its data when detecting); ValueError if it claims to be one but is malformed.
    """
    chosen = format if format is not None else detect(name, data)
    if chosen is None or not chosen.accepts(name):
        return None
    return chosen.decode(name, data)
