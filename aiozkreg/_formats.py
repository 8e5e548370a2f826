"""Provider node layouts: zc.zk, Apache Curator x-discovery, Finagle/Aurora ServerSets.

Pure: no I/O. Each :class:`WireFormat` knows how a registration's node is
named, how its data is written, and how a reader turns a child of the
service path back into a :class:`Provider`. Each writes what that layout's
own readers understand: nothing a reader of the layout would take for
something else, nothing it would choke on.

* **zc.zk**: child ``HOST:PORT``, data the properties as compact JSON (a
  registration adds ``pid``: zc.zk's layout is the only one that records it).
* **curator**: child ``<id>`` (a UUID4), data Curator's ``ServiceInstance``
  JSON in the field order Curator writes (name, id, address, port, sslPort,
  payload, registrationTimeUTC, serviceType, uriSpec, then enabled). The
  ``payload`` is exactly the properties less ``enabled``, as an object with
  ``"@class": "java.util.LinkedHashMap"`` first so Jackson readers can type
  it, and ``null`` when there are none (so clients typed
  ``ServiceDiscovery<Void>`` or ``<String>`` read it too). An ``enabled``
  property is Curator's own top-level boolean ``"enabled"``, which
  ``ServiceInstance.isEnabled()`` reports; without one the field is left out,
  as Curator's default (compatible) serializer does, and readers take it as
  true.
* **serverset**: ephemeral-sequential child ``member_%010d``, data
  ``{"serviceEndpoint", "additionalEndpoints", "status", "shard"}`` (the
  first three always written); the properties go into the ``metadata``
  string map (non-string values as JSON text). ``status`` is ``ALIVE``, or
  ``STOPPING`` when an ``enabled`` property is false.

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

In the Curator and ServerSet layouts ``enabled`` is the format's own flag,
so it is stored as a boolean (``enabled="no"`` reads back as ``False``);
:meth:`WireFormat.properties_of` gives it back among the properties, so a
registration's properties round-trip.

Reading, a provider is *available* when it is enabled and its status is
``ALIVE``. zc.zk: an ``enabled`` property that is false turns it off.
Curator: only the top-level ``enabled`` field counts, as for Curator's own
clients (an ``enabled`` key inside the payload is ordinary payload). A
ServerSet member must say ``ALIVE`` (and an ``enabled`` metadata entry
must not be false); one that says nothing (``status`` is None) is listed
but never picked, as strict ServerSet readers reject it. zc.zk and Curator
nodes have no status: they are ALIVE while they exist.

Auto-detection (no format given) reads the child's data before its name:

1. data that is a Curator ``ServiceInstance`` (a JSON object with an
   ``address`` and a ``port`` or ``sslPort``) whose ``id`` is the child's
   name, as Curator always names the node, is a Curator instance, whatever
   the name looks like (an id such as ``10.0.0.1:8080`` included);
2. a ``member_<n>`` child is a ServerSet member (its data must then have a
   ``serviceEndpoint``: a member without one is reported as malformed);
3. a ``HOST:PORT`` child is a zc.zk node, whatever its data (JSON, other
   text, or none);
4. any other child whose data is Curator-shaped is a Curator instance
   written by a tool that names nodes otherwise;

everything else (``vector_*`` weight nodes, config nodes) is skipped.
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

from ._encoding import check_finite, decode_properties, encode_properties

log = logging.getLogger("aiozkreg.formats")

ALIVE = "ALIVE"
DISABLED = "STOPPING"
"""The ServerSet status of a member whose ``enabled`` property is false (see above)."""
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


def _maybe_json_object(data: bytes) -> dict[str, Any] | None:
    """The data as a JSON object, or None if it is none (cheaply, for detection)."""
    if not data.lstrip().startswith(b"{"):
        return None
    try:
        return _json_object(data)
    except ValueError:
        return None


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
    written as Curator's ``sslPort`` and ``uriSpec``. The payload is the
    properties less ``enabled``, which is the top-level ``enabled`` field.
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
        return json.dumps(
            document, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")

    def properties_of(self, data: bytes) -> dict[str, Any]:
        return _instance_properties(_json_object(data))

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
        props = _instance_properties(document)
        ident = document.get("id")
        return Provider(
            name=name,
            host=address,
            port=port,
            properties=_frozen(props),
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
        document = _maybe_json_object(data)
        return document is not None and _instance_shaped(document, name)


def _instance_shaped(document: Mapping[str, Any], name: str | None) -> bool:
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
    additional_endpoints: Mapping[str, Any] = field(default_factory=_empty, hash=False)

    def node_name(self, announcement: Announcement, address: str) -> str:
        return "member_"

    def encode(self, announcement: Announcement, properties: Mapping[str, Any]) -> bytes:
        check_finite(properties)  # inf and nan are no JSON: refused before anything is written
        endpoints = {}
        for key, value in self.additional_endpoints.items():
            host, port = split_address(value) if isinstance(value, str) else tuple(value)
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
        return json.dumps(
            document, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")

    def properties_of(self, data: bytes) -> dict[str, Any]:
        return _metadata_properties(_json_object(data).get("metadata"))

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
        props = _metadata_properties(document.get("metadata"))
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


def _metadata_properties(metadata: Any) -> dict[str, Any]:
    """ServerSet metadata as properties: ``enabled`` ``"true"``/``"false"`` as a boolean."""
    props = dict(metadata) if isinstance(metadata, dict) else {}
    flag = props.get("enabled")
    if flag in ("true", "false"):
        props["enabled"] = flag == "true"
    return props


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
    """The format a child is in, by its data and then its name; None if it is no provider.

    See the module docstring for the order of the rules.
    """
    document = _maybe_json_object(data)
    if document is not None and _instance_shaped(document, name):
        return CURATOR
    if SERVERSET.accepts(name):
        return SERVERSET
    if ZCZK.accepts(name):
        return ZCZK
    if document is not None and _instance_shaped(document, None):
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
