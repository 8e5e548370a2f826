"""Node data <-> properties (aiozkreg._encoding): the reference's rules and round trips."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiozkreg._encoding import check_finite, decode_properties, encode_properties

ENCODE_CASES = [
    ({}, b"{}"),
    ({"a": 1, "b": "x"}, b'{"a":1,"b":"x"}'),
    ({"pid": 1234, "weight": 3}, b'{"pid":1234,"weight":3}'),
    ({"nested": {"l": [1, 2.5, None, True]}}, b'{"nested":{"l":[1,2.5,null,true]}}'),
    ({"string_value": "hello world"}, b"hello world"),
    ({"string_value": "\n{xxx}\n"}, b"\n{xxx}\n"),
    ({"string_value": "[1, 2]"}, b"[1, 2]"),
    ({"string_value": ""}, b'{"string_value":""}'),
    ({"string_value": " \n"}, b'{"string_value":" \\n"}'),
    ({"string_value": '{"a":1}'}, b'{"string_value":"{\\"a\\":1}"}'),
    ({"string_value": 5}, b'{"string_value":5}'),
    ({"string_value": "x", "other": 1}, b'{"string_value":"x","other":1}'),
    ({"é": "ü"}, '{"é":"ü"}'.encode()),
    ({"s": "\ud800"}, b'{"s":"\\ud800"}'),
]


@pytest.mark.parametrize(("props", "data"), ENCODE_CASES)
def test_encode(props: dict[str, Any], data: bytes) -> None:
    """Properties encode as compact JSON, a lone string_value raw, never as empty bytes."""
    assert encode_properties(props) == data


DECODE_CASES = [
    (None, {}),
    (b"", {}),
    (b"   ", {}),
    (b"\n\t\r\x0b\x0c ", {}),
    (b"{}", {}),
    (b'{"a":1}', {"a": 1}),
    (b'  {"a": [1, 2]}\n', {"a": [1, 2]}),
    (b"\n{xxx}\n", {"string_value": "\n{xxx}\n"}),
    (b"[1, 2]", {"string_value": "[1, 2]"}),
    (b"42", {"string_value": "42"}),
    (b'"x"', {"string_value": '"x"'}),
    (b"  hello ", {"string_value": "  hello "}),
    (b"{", {"string_value": "{"}),
    (b"}", {"string_value": "}"}),
    (b'{"a":NaN}', {"a": math.nan}),
    ('{"é":"ü"}'.encode(), {"é": "ü"}),
    (b"\xff\xfe", {"string_value": "\udcff\udcfe"}),
    (b"\x00", {"string_value": "\x00"}),
]


@pytest.mark.parametrize(("data", "props"), DECODE_CASES)
def test_decode(data: bytes | None, props: dict[str, Any]) -> None:
    """Blank data is {}, a JSON object is parsed, anything else is a raw string_value."""
    decoded = decode_properties(data)
    assert json.dumps(decoded, sort_keys=True) == json.dumps(props, sort_keys=True)


def test_bad_json_is_logged_and_kept_raw(caplog: pytest.LogCaptureFixture) -> None:
    """Object-shaped data that is not JSON logs a warning naming the path and reads raw."""
    with caplog.at_level(logging.WARNING, logger="aiozkreg.encoding"):
        assert decode_properties(b" {nope} ", path="/a/b") == {"string_value": " {nope} "}
    (record,) = caplog.records
    assert record.name == "aiozkreg.encoding"
    assert "/a/b" in record.getMessage()


def test_deeply_nested_json_does_not_raise() -> None:
    """JSON nested too deeply for the parser reads as a string_value instead of raising."""
    data = b"{" + b'"a":[' * 100_000 + b"]" * 100_000 + b"}"
    assert decode_properties(data) == {"string_value": data.decode()}


def test_binary_string_value_is_written_back_byte_for_byte() -> None:
    """Data that is not UTF-8 survives decode then encode unchanged."""
    data = b"\x80\xff binary \xc3"
    assert encode_properties(decode_properties(data)) == data


def test_escaped_bytes_that_would_merge_are_wrapped() -> None:
    """A string whose escaped bytes would read back as other text is JSON-wrapped instead."""
    props = {"string_value": "\udcc3\udca9"}  # the bytes of 'é', one escape each
    assert decode_properties(encode_properties(props)) == props


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
properties = st.dictionaries(st.text(), json_values, max_size=5)


@settings(max_examples=300)
@given(properties)
def test_round_trip(props: dict[str, Any]) -> None:
    """decode(encode(p)) == p for every JSON-able dict, types and all."""
    decoded = decode_properties(encode_properties(props))
    assert decoded == props
    assert json.dumps(decoded) == json.dumps(props)


@settings(max_examples=300)
@given(st.text())
def test_round_trip_lone_string_value(text: str) -> None:
    """A lone string_value of any text survives encode then decode."""
    assert decode_properties(encode_properties({"string_value": text})) == {"string_value": text}


@settings(max_examples=300)
@given(st.binary() | st.builds(lambda s: s.encode(), st.text()))
def test_decode_never_raises(data: bytes) -> None:
    """Any bytes decode to a dict; re-encoding (if finite) gives data that decodes the same."""
    decoded = decode_properties(data)
    assert isinstance(decoded, dict)
    try:
        encoded = encode_properties(decoded)
    except ValueError:  # NaN or Infinity from JSON: readable, not writable
        check_finite(decoded)  # (fails the test if that was not the reason)
        assert json.loads(json.dumps(decoded)) is not None
        return
    again = decode_properties(encoded)
    assert json.dumps(again, sort_keys=True) == json.dumps(decoded, sort_keys=True)


@pytest.mark.parametrize(
    "value",
    [math.inf, -math.inf, math.nan, [1, math.inf], {"a": {"b": [-math.inf]}}, (math.nan,)],
)
def test_non_finite_numbers_are_refused_naming_the_key(value: Any) -> None:
    """inf, -inf and nan (at any depth) are not JSON: ValueError naming the key."""
    with pytest.raises(ValueError, match=r"The property 'bad' holds .*, which is not JSON"):
        encode_properties({"ok": 1.5, "bad": value})
    with pytest.raises(ValueError, match="'bad'"):
        check_finite({"ok": 1.5, "bad": value})


def test_non_finite_string_value_is_refused() -> None:
    """A lone string_value that is not a string goes through JSON, and inf is refused there too."""
    with pytest.raises(ValueError, match="'string_value'"):
        encode_properties({"string_value": math.inf})


def test_finite_numbers_and_other_errors_are_unchanged() -> None:
    """Large finite floats encode; a circular value still raises json's own ValueError."""
    assert encode_properties({"x": 1e308, "y": -0.0}) == b'{"x":1e+308,"y":-0.0}'
    check_finite({"x": 1e308, "s": "inf", "l": [1, "nan"]})
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        encode_properties({"loop": loop})


def test_reading_non_finite_numbers_stays_tolerant() -> None:
    """Data holding NaN or Infinity from another tool still decodes, to the floats."""
    decoded = decode_properties(b'{"a":NaN,"b":Infinity,"c":-Infinity,"d":1}')
    assert math.isnan(decoded["a"]) and decoded["b"] == math.inf and decoded["c"] == -math.inf
    assert decoded["d"] == 1


def test_encoded_data_is_never_empty() -> None:
    """Even empty properties produce non-empty node data."""
    assert encode_properties({}) and encode_properties({"string_value": ""})


# --- every writer refuses them before writing (real server; a second client reads) ---------


async def _snapshot(hosts: str) -> dict[str, Any]:
    """Every node of the test's chroot with its data and stat, read by a second client."""
    from aiozkreg import Registry

    async with Registry(hosts) as other:
        return {path: await other.get(path) async for path in other.walk("/")}


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, {"deep": [math.inf]}])
async def test_writers_refuse_non_finite_values_and_write_nothing(
    registry: Any, zookeeper_hosts: str, value: Any
) -> None:
    """Properties views, register(), reg.update() and import all refuse inf/nan, writing nothing."""
    await registry.create("/cfg", b'{"a":1}')
    await registry.create("/svc")
    reg = await registry.register("/svc", "h:1", weight=1)
    before = await _snapshot(zookeeper_hosts)
    props = await registry.properties("/cfg")
    for write in (
        lambda: props.update(x=value),
        lambda: props.set(a=1, x=value),
        lambda: registry.register("/svc", "h:2", x=value),
        lambda: reg.update(x=value),
    ):
        with pytest.raises(ValueError, match="The property 'x' holds"):
            await write()
    with pytest.raises(ValueError, match=r"not a finite number|nan' is not a Python literal"):
        await registry.import_tree(f"/cfg\n  a = 1\n  x = {value!r}\n".replace("inf", "1e999"))
    assert await _snapshot(zookeeper_hosts) == before
    assert reg.properties["weight"] == 1 and "x" not in reg.properties


@pytest.mark.parametrize("layout", ["curator", "serverset"])
async def test_other_layouts_refuse_non_finite_values_and_write_nothing(
    registry: Any, zookeeper_hosts: str, layout: str
) -> None:
    """A Curator or ServerSet registration refuses inf in its properties, writing nothing."""
    await registry.create("/svc")
    reg = await registry.register("/svc", "h:1", format=layout, weight=1)
    before = await _snapshot(zookeeper_hosts)
    with pytest.raises(ValueError, match="'x'"):
        await registry.register("/svc", "h:2", format=layout, x=math.inf)
    with pytest.raises(ValueError, match="'x'"):
        await reg.update(x=math.nan)
    assert await _snapshot(zookeeper_hosts) == before
