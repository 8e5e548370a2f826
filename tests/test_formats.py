"""Provider node layouts (aiozkreg._formats): zc.zk, Curator x-discovery, ServerSets; pure."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiozkreg import CuratorFormat, Provider, ServerSetFormat, ZcZkFormat
from aiozkreg._address import split_address
from aiozkreg._format_curator import format_uri_spec, parse_uri_spec
from aiozkreg._format_serverset import DISABLED
from aiozkreg._formats import CURATOR, SERVERSET, ZCZK, decode_provider, detect, wire_format

# -- fixtures written by hand from the published field lists (docs: interop-formats) -----

UUID = "b9b52d54-7d4e-4a2c-a4d4-2c0f5b2f0a51"

# Curator's JsonInstanceSerializer, compatible mode: every field but `enabled`,
# an object payload with Jackson's @class first.
CURATOR_INSTANCE = (
    '{"name":"echo","id":"' + UUID + '","address":"10.0.0.7","port":8080,"sslPort":null,'
    '"payload":{"@class":"java.util.LinkedHashMap","weight":3,"zone":"eu-1"},'
    '"registrationTimeUTC":1700000000000,"serviceType":"DYNAMIC",'
    '"uriSpec":{"parts":[{"value":"scheme","variable":true},{"value":"://","variable":false},'
    '{"value":"address","variable":true},{"value":":","variable":false},'
    '{"value":"port","variable":true}]}}'
).encode()

# The ServerSet member from the Finagle/Aurora description.
SERVERSET_MEMBER = (
    b'{"serviceEndpoint":{"host":"10.0.0.1","port":8080},'
    b'"additionalEndpoints":{"http":{"host":"10.0.0.1","port":8081}},'
    b'"status":"ALIVE","shard":0}'
)

CURATOR_FIELDS = [
    "name",
    "id",
    "address",
    "port",
    "sslPort",
    "payload",
    "registrationTimeUTC",
    "serviceType",
    "uriSpec",
]


def _member(**changes: Any) -> bytes:
    document = json.loads(SERVERSET_MEMBER)
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    return json.dumps(document).encode()


def _curator(**changes: Any) -> bytes:
    document = json.loads(CURATOR_INSTANCE)
    document.update(changes)
    return json.dumps(document).encode()


# -- Curator ---------------------------------------------------------------------------


def test_curator_instance_as_curator_writes_it() -> None:
    """A Curator ServiceInstance reads as its address, port, id, uriSpec and payload (no @class)."""
    provider = decode_provider(UUID, CURATOR_INSTANCE, CURATOR)
    assert provider == Provider(
        name=UUID,
        host="10.0.0.7",
        port=8080,
        properties={"weight": 3, "zone": "eu-1"},
        weight=3.0,
        format="curator",
        id=UUID,
        uri_spec="{scheme}://{address}:{port}",
    )
    assert provider.available and provider.address == "10.0.0.7:8080"


def test_curator_written_exactly_in_curator_field_order() -> None:
    """We write Curator's fields in its order, @class first in the payload, and no `enabled`."""
    fmt = CuratorFormat(uri_spec="{scheme}://{address}:{port}")
    announcement = fmt.announce("/services/echo", "10.0.0.7", 8080, id=UUID, time_ms=1700000000000)
    data = announcement.encode({"weight": 3, "zone": "eu-1"})
    assert data == CURATOR_INSTANCE
    assert list(json.loads(data)) == CURATOR_FIELDS


def test_curator_payload_without_properties_is_null() -> None:
    """No properties: the payload is null, and reads back as no properties."""
    data = CURATOR.announce("/s/echo", "h", 1, id=UUID, time_ms=0).encode({})
    assert json.loads(data)["payload"] is None
    assert CURATOR.properties_of(data) == {}


@pytest.mark.parametrize(
    ("payload", "properties"),
    [
        (None, {}),
        ({"@class": "com.example.InstanceDetails", "description": "x"}, {"description": "x"}),
        ({"plain": 1}, {"plain": 1}),
        ("a string payload", {"payload": "a string payload"}),
        ([1, 2], {"payload": [1, 2]}),
    ],
)
def test_curator_payloads_read_as_properties(payload: Any, properties: dict[str, Any]) -> None:
    """Object payloads (with or without @class) are the properties; others are {"payload": it}."""
    provider = decode_provider(UUID, _curator(payload=payload), CURATOR)
    assert provider is not None and dict(provider.properties) == properties


@pytest.mark.parametrize(
    ("changes", "available"),
    [
        ({}, True),
        ({"enabled": True}, True),
        ({"enabled": False}, False),
        ({"enabled": "false"}, False),
        ({"payload": {"@class": "java.util.LinkedHashMap", "enabled": False}}, True),
    ],
)
def test_curator_enabled(changes: dict[str, Any], available: bool) -> None:
    """Only Curator's top-level `enabled` counts (missing is true); a payload key is payload."""
    provider = decode_provider(UUID, _curator(**changes), CURATOR)
    assert provider is not None and provider.available is available


def test_curator_instance_as_curator_writes_it_with_enabled() -> None:
    """Curator's non-compatible mode appends `enabled`: read as the flag and as a property."""
    data = CURATOR_INSTANCE[:-1] + b',"enabled":false}'
    provider = decode_provider(UUID, data)
    assert provider is not None and provider.format == "curator"
    assert (provider.enabled, provider.available) == (False, False)
    assert dict(provider.properties) == {"weight": 3, "zone": "eu-1", "enabled": False}


@pytest.mark.parametrize(("value", "written"), [(False, False), (True, True), ("no", False)])
def test_curator_enabled_is_the_top_level_field(value: Any, written: bool) -> None:
    """enabled= is written as Curator's own boolean after uriSpec, never into the payload."""
    announcement = CURATOR.announce("/services/echo", "10.0.0.7", 8080, id=UUID, time_ms=0)
    data = announcement.encode({"weight": 3, "enabled": value})
    document = json.loads(data)
    assert list(document) == [*CURATOR_FIELDS, "enabled"]
    assert document["enabled"] is written
    assert document["payload"] == {"@class": "java.util.LinkedHashMap", "weight": 3}
    assert CURATOR.properties_of(data) == {"weight": 3, "enabled": written}
    provider = decode_provider(UUID, data)
    assert provider is not None and provider.enabled is written


def test_curator_enabled_alone_leaves_the_payload_null() -> None:
    """With enabled as the only property the payload is still null (readable as <Void>)."""
    data = CURATOR.announce("/s/echo", "h", 1, id=UUID, time_ms=0).encode({"enabled": False})
    document = json.loads(data)
    assert document["payload"] is None and document["enabled"] is False
    assert CURATOR.properties_of(data) == {"enabled": False}


def test_curator_payload_is_exactly_the_properties() -> None:
    """A Curator registration carries no pid: only zc.zk records one."""
    assert (ZCZK.records_pid, CURATOR.records_pid, SERVERSET.records_pid) == (True, False, False)
    data = CURATOR.announce("/s/echo", "h", 1, id=UUID, time_ms=0).encode({"zone": "a"})
    assert json.loads(data)["payload"] == {"@class": "java.util.LinkedHashMap", "zone": "a"}


def test_curator_ssl_only_instance_uses_the_ssl_port() -> None:
    """An instance with only an sslPort is reached on it."""
    provider = decode_provider(UUID, _curator(port=None, sslPort=8443), CURATOR)
    assert provider is not None and (provider.port, provider.ssl_port) == (8443, 8443)


@pytest.mark.parametrize(
    "data",
    [
        _curator(address=None),
        _curator(port=None),
        _curator(port="80"),
        _curator(port=70000),
        b"not json",
        b"[1, 2]",
    ],
)
def test_malformed_curator_instance_is_rejected(data: bytes) -> None:
    """No address, no usable port, or data that is no JSON object raise ValueError."""
    with pytest.raises(ValueError):
        decode_provider(UUID, data, CURATOR)


# -- ServerSets ------------------------------------------------------------------------


def test_serverset_member_as_published() -> None:
    """The published member reads with its endpoint, additional endpoints, status and shard."""
    provider = decode_provider("member_0000000007", SERVERSET_MEMBER, SERVERSET)
    assert provider == Provider(
        name="member_0000000007",
        host="10.0.0.1",
        port=8080,
        format="serverset",
        shard=0,
        endpoints={"http": ("10.0.0.1", 8081)},
    )
    assert provider.available


def test_serverset_shard_id_and_metadata() -> None:
    """`shardId` (a Go writer's spelling) is read as the shard; `metadata` as the properties."""
    data = _member(shard=None, shardId=3, metadata={"weight": "2.5", "zone": "b"})
    provider = decode_provider("member_0000000001", data, SERVERSET)
    assert provider is not None
    assert provider.shard == 3
    assert dict(provider.properties) == {"weight": "2.5", "zone": "b"}
    assert provider.weight == 2.5


@pytest.mark.parametrize(
    ("status", "available"),
    [
        ("ALIVE", True),
        ("DEAD", False),
        ("STARTING", False),
        ("STOPPING", False),
        ("STOPPED", False),
        ("WARNING", False),
        (None, False),
    ],
)
def test_serverset_status(status: str | None, available: bool) -> None:
    """Only ALIVE members are available; a member that says no status is listed, never picked."""
    provider = decode_provider("member_1", _member(status=status), SERVERSET)
    assert provider is not None
    assert provider.status == status and provider.available is available


@pytest.mark.parametrize(
    ("value", "status", "flag"),
    [(False, "STOPPING", "false"), (True, "ALIVE", "true"), ("off", "STOPPING", "false")],
)
def test_serverset_enabled_is_the_status(value: Any, status: str, flag: str) -> None:
    """enabled=False writes status STOPPING (and "false" in metadata); it reads back as False."""
    data = SERVERSET.announce("/aurora/echo", "10.0.0.1", 8080).encode({"enabled": value})
    document = json.loads(data)
    assert document["status"] == status == (DISABLED if flag == "false" else "ALIVE")
    assert document["metadata"] == {"enabled": flag}
    assert SERVERSET.properties_of(data) == {"enabled": flag == "true"}
    provider = decode_provider("member_0000000001", data)
    assert provider is not None
    on = flag == "true"
    assert (provider.status, provider.enabled, provider.available) == (status, on, on)


def test_serverset_metadata_enabled_false_disables_an_alive_member() -> None:
    """A member that says ALIVE but carries enabled "false" in its metadata is not picked."""
    provider = decode_provider("member_1", _member(metadata={"enabled": "false"}))
    assert provider is not None and provider.status == "ALIVE" and not provider.available


def test_serverset_member_without_additional_endpoints_is_read() -> None:
    """additionalEndpoints may be missing when reading (we always write it)."""
    provider = decode_provider("member_1", _member(additionalEndpoints=None), SERVERSET)
    assert provider is not None and dict(provider.endpoints) == {}


def test_serverset_member_without_service_endpoint_is_rejected() -> None:
    """A member without a serviceEndpoint cannot be reached: ValueError."""
    with pytest.raises(ValueError, match="serviceEndpoint"):
        decode_provider("member_1", _member(serviceEndpoint=None), SERVERSET)


@pytest.mark.parametrize(
    ("name", "accepted"),
    [
        ("member_0000000001", True),
        ("member_-1", True),
        ("member_12", True),
        ("member_", False),
        ("member_x1", False),
        ("vector_0000000001", False),
        ("10.0.0.1:80", False),
    ],
)
def test_serverset_member_names(name: str, accepted: bool) -> None:
    """Readers accept only names matching ^member_-?[0-9]+$; others are not providers."""
    assert SERVERSET.accepts(name) is accepted
    provider = decode_provider(name, SERVERSET_MEMBER, SERVERSET)
    assert (provider is not None) is accepted


def test_serverset_written_with_all_required_fields() -> None:
    """We always write serviceEndpoint, additionalEndpoints and status ALIVE, and the shard."""
    fmt = ServerSetFormat(shard=2, additional_endpoints={"http": ("", 8081), "admin": "h2:9990"})
    data = fmt.announce("/aurora/echo", "10.0.0.1", 8080).encode({"weight": 2, "zone": "b"})
    assert json.loads(data) == {
        "serviceEndpoint": {"host": "10.0.0.1", "port": 8080},
        "additionalEndpoints": {
            "http": {"host": "10.0.0.1", "port": 8081},
            "admin": {"host": "h2", "port": 9990},
        },
        "status": "ALIVE",
        "shard": 2,
        "metadata": {"weight": "2", "zone": "b"},
    }
    bare = json.loads(SERVERSET.announce("/a", "h", 1).encode({}))
    assert bare == {
        "serviceEndpoint": {"host": "h", "port": 1},
        "additionalEndpoints": {},
        "status": "ALIVE",
        "shard": 0,
    }


# -- zc.zk -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "host", "port", "address"),
    [
        ("10.0.0.1:8080", "10.0.0.1", 8080, "10.0.0.1:8080"),
        ("app.example.com:80", "app.example.com", 80, "app.example.com:80"),
        ("[::1]:80", "::1", 80, "[::1]:80"),
    ],
)
def test_zczk_names(name: str, host: str, port: int, address: str) -> None:
    """A zc.zk child's name is its HOST:PORT (IPv6 in brackets)."""
    provider = decode_provider(name, b'{"pid":1}', ZCZK)
    assert provider is not None
    assert (provider.host, provider.port, provider.address) == (host, port, address)


@pytest.mark.parametrize(
    ("data", "weight", "available"),
    [
        (b'{"weight":3}', 3.0, True),
        (b'{"weight":"0.5"}', 0.5, True),
        (b'{"enabled":false}', 1.0, False),
        (b'{"enabled":"no"}', 1.0, False),
        (b'{"enabled":"true"}', 1.0, True),
        (b"", 1.0, True),
        (b"plain text", 1.0, True),
    ],
)
def test_zczk_weight_and_enabled(data: bytes, weight: float, available: bool) -> None:
    """zc.zk properties carry `weight` (default 1) and `enabled` (default true)."""
    provider = decode_provider("h:1", data, ZCZK)
    assert provider is not None
    assert (provider.weight, provider.available) == (weight, available)


@pytest.mark.parametrize("weight", ['"heavy"', "-1", "true"])
def test_unusable_weight_counts_as_one(weight: str, caplog: pytest.LogCaptureFixture) -> None:
    """A weight that is no number >= 0 is logged and taken as 1; the provider stays."""
    with caplog.at_level(logging.WARNING, "aiozkreg.formats"):
        provider = decode_provider("h:1", f'{{"weight":{weight}}}'.encode(), ZCZK)
    assert provider is not None and provider.weight == 1.0
    assert "Ignoring weight" in caplog.text


def test_zczk_name_without_port_is_no_provider() -> None:
    """A child that is not HOST:PORT is not a zc.zk provider."""
    assert decode_provider("config", b"{}", ZCZK) is None


# -- detection and names ---------------------------------------------------------------


HOST_PORT_ID = "10.0.0.1:8080"
CURATOR_WITH_HOST_PORT_ID = _curator(id=HOST_PORT_ID, address="10.0.0.7", port=9000)


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("member_0000000001", SERVERSET_MEMBER, "serverset"),
        ("member_0000000001", b"not json", "serverset"),  # malformed: reported when decoded
        ("member_0000000001", _curator(id="member_0000000001"), "curator"),
        ("10.0.0.1:80", b'{"pid":1}', "zc.zk"),
        ("10.0.0.1:80", b"", "zc.zk"),
        ("10.0.0.1:80", b"plain text", "zc.zk"),
        ("10.0.0.1:80", b"[1, 2]", "zc.zk"),
        ("10.0.0.1:80", b"{not json", "zc.zk"),
        ("10.0.0.1:80", b'{"address":"10.9.9.9","port":1}', "zc.zk"),  # properties, not Curator
        ("10.0.0.1:80", SERVERSET_MEMBER, "zc.zk"),  # ServerSet readers want member_ names
        (HOST_PORT_ID, CURATOR_WITH_HOST_PORT_ID, "curator"),
        (UUID, CURATOR_INSTANCE, "curator"),
        ("instance-1", CURATOR_INSTANCE, "curator"),  # named otherwise by another writer
        ("vector_0000000001", b'{"vector":[{"select":"shard=0","weight":2.0}]}', None),
        ("config", b'{"threads":4}', None),
        ("config", b"text", None),
        ("config", SERVERSET_MEMBER, None),
    ],
)
def test_detect(name: str, data: bytes, expected: str | None) -> None:
    """Detection reads the data first (a Curator instance named by its id), then the name."""
    detected = detect(name, data)
    assert (detected.name if detected else None) == expected
    if data == b"not json":
        with pytest.raises(ValueError):
            decode_provider(name, data)
        return
    provider = decode_provider(name, data)
    assert (provider.format if provider else None) == expected


def test_curator_instance_with_a_host_port_id_keeps_its_address() -> None:
    """A Curator id shaped HOST:PORT is no zc.zk name: the address is the instance's own."""
    provider = decode_provider(HOST_PORT_ID, CURATOR_WITH_HOST_PORT_ID)
    assert provider is not None
    assert (provider.format, provider.address, provider.id) == (
        "curator",
        "10.0.0.7:9000",
        HOST_PORT_ID,
    )
    assert dict(provider.properties) == {"weight": 3, "zone": "eu-1"}


def test_explicit_format_is_taken_at_its_word() -> None:
    """With a format given there is no detection: a HOST:PORT child is read as zc.zk."""
    provider = decode_provider(HOST_PORT_ID, CURATOR_WITH_HOST_PORT_ID, ZCZK)
    assert provider is not None and provider.format == "zc.zk"
    assert provider.address == HOST_PORT_ID


def test_wire_format_names() -> None:
    """Formats are named zc.zk, curator, serverset; format objects pass through; others fail."""
    assert [wire_format(n).name for n in ("zc.zk", "curator", "serverset")] == [
        "zc.zk",
        "curator",
        "serverset",
    ]
    custom = ServerSetFormat(shard=None)
    assert wire_format(custom) is custom
    with pytest.raises(ValueError, match="Unknown format 'eureka'"):
        wire_format("eureka")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("h:1", ("h", 1)), ("[::1]:2181", ("::1", 2181)), ("::1:80", ("::1", 80))],
)
def test_split_address(text: str, expected: tuple[str, int]) -> None:
    """HOST:PORT splits at the last colon, brackets off an IPv6 host."""
    assert split_address(text) == expected


@pytest.mark.parametrize("text", ["h", "h:", "h:x", "h:99999"])
def test_split_address_rejects(text: str) -> None:
    """Text without a port number in range is no address."""
    with pytest.raises(ValueError):
        split_address(text)


def test_endpoint_for_registrations() -> None:
    """Curator and ServerSet registrations need HOST:PORT; zc.zk takes any name."""
    assert ZcZkFormat().endpoint("anything") == ("anything", 0)
    with pytest.raises(ValueError, match="A curator registration needs a HOST:PORT"):
        CURATOR.endpoint("anything")


@pytest.mark.parametrize(
    "template",
    ["{scheme}://{address}:{port}", "http://example.com/", "{a}{b}", "{scheme}://x:{port}/{"],
)
def test_uri_spec_round_trip(template: str) -> None:
    """Curator UriSpec parts read back as the template they were made from."""
    assert format_uri_spec(parse_uri_spec(template)) == template


def test_uri_spec_parts() -> None:
    """Variables in braces become variable parts, the text between them literal parts."""
    assert parse_uri_spec("{scheme}://h:{port}") == {
        "parts": [
            {"value": "scheme", "variable": True},
            {"value": "://h:", "variable": False},
            {"value": "port", "variable": True},
        ]
    }


# -- round trips -----------------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
_properties = st.dictionaries(
    st.text().filter(lambda k: k not in ("@class", "enabled")), _json_values, max_size=5
)
_hosts = st.sampled_from(["10.0.0.1", "app.example.com", "::1"])
_ports = st.integers(0, 65535)


@given(_properties, _hosts, _ports)
def test_round_trip_zczk(properties: dict[str, Any], host: str, port: int) -> None:
    """zc.zk: what a registration writes reads back as the same properties."""
    announcement = ZCZK.announce("/svc", host, port)
    data = announcement.encode(properties)
    assert announcement.properties(data) == properties
    name = ZCZK.node_name(announcement, f"{host}:{port}")
    if ":" not in host:
        provider = decode_provider(name, data)
        assert provider is not None and dict(provider.properties) == properties


@given(_properties, _hosts, _ports)
def test_round_trip_curator(properties: dict[str, Any], host: str, port: int) -> None:
    """Curator: the payload reads back as the properties, with the address and port."""
    announcement = CURATOR.announce("/services/echo", host, port)
    data = announcement.encode(properties)
    assert announcement.properties(data) == properties
    provider = decode_provider(announcement.id, data)
    assert provider is not None
    assert (provider.host, provider.port, provider.id) == (host, port, announcement.id)
    assert dict(provider.properties) == properties
    assert json.loads(data)["name"] == "echo"


@given(
    st.dictionaries(st.text().filter(lambda k: k != "enabled"), _json_values, max_size=5),
    _hosts,
    _ports,
)
def test_round_trip_serverset(properties: dict[str, Any], host: str, port: int) -> None:
    """ServerSet: metadata holds strings as they are, other values as JSON text."""
    announcement = SERVERSET.announce("/aurora/echo", host, port)
    data = announcement.encode(properties)
    expected = {
        k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
        for k, v in properties.items()
    }
    assert announcement.properties(data) == expected
    provider = decode_provider("member_0000000001", data)
    assert provider is not None
    assert (provider.host, provider.port, provider.status) == (host, port, "ALIVE")
    assert dict(provider.properties) == expected


@pytest.mark.parametrize("fmt", [ZCZK, CURATOR, SERVERSET])
@given(properties=_properties, enabled=st.booleans())
def test_enabled_round_trips_in_every_format(
    fmt: ZcZkFormat | CuratorFormat | ServerSetFormat, properties: dict[str, Any], enabled: bool
) -> None:
    """properties_of gives enabled back as written, so a registration's properties round-trip."""
    announcement = fmt.announce("/services/echo", "10.0.0.1", 80)
    data = announcement.encode({**properties, "enabled": enabled})
    read = announcement.properties(data)
    assert read["enabled"] is enabled
    if fmt is not SERVERSET:  # ServerSet metadata holds other values as JSON text
        assert read == {**properties, "enabled": enabled}
    name = fmt.node_name(announcement, "10.0.0.1:80").replace("member_", "member_1")
    provider = decode_provider(name, data)
    assert provider is not None and provider.format == fmt.name
    assert provider.available is enabled


@pytest.mark.parametrize("fmt", [CURATOR, SERVERSET])
def test_update_merges_keep_the_flag(fmt: CuratorFormat | ServerSetFormat) -> None:
    """Merging into the read-back properties (what update() does) keeps or flips enabled."""
    announcement = fmt.announce("/services/echo", "10.0.0.1", 80)
    off = announcement.encode({"zone": "a", "enabled": False})
    still_off = announcement.encode({**announcement.properties(off), "weight": 2})
    on = announcement.encode({**announcement.properties(still_off), "enabled": True})
    name = fmt.node_name(announcement, "10.0.0.1:80").replace("member_", "member_1")
    states = [decode_provider(name, data) for data in (off, still_off, on)]
    assert [p.available for p in states if p is not None] == [False, False, True]


def test_provider_is_hashable_and_immutable() -> None:
    """Providers are frozen values: hashable, equal by value, properties read-only."""
    a = decode_provider("h:1", b'{"a":1}')
    b = decode_provider("h:1", b'{"a":1}')
    assert a is not None and a == b and hash(a) == hash(b)
    with pytest.raises(TypeError):
        a.properties["a"] = 2  # type: ignore[index]


@pytest.mark.parametrize("fmt", [ZCZK, CURATOR, SERVERSET])
@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), [1, {"y": 1e999}]])
def test_non_finite_values_are_refused_in_every_format(
    fmt: ZcZkFormat | CuratorFormat | ServerSetFormat, value: Any
) -> None:
    """inf, -inf and nan are no JSON: every layout refuses them with ValueError naming the key."""
    announcement = fmt.announce("/services/echo", "10.0.0.1", 80)
    with pytest.raises(ValueError, match="'x'"):
        announcement.encode({"weight": 1, "x": value})
