"""check_address(): what register() accepts as an address, and what it refuses before writing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiozkreg import Registry
from aiozkreg._address import check_address

VALID = [
    ("1.2.3.4:80", "1.2.3.4:80"),
    ("host:1", "host:1"),
    ("host.example.com:65535", "host.example.com:65535"),
    ("h:08080", "h:08080"),
    (":8080", ":8080"),
    ("[::1]:8080", "[::1]:8080"),
    ("[fe80::1%eth0]:80", "[fe80::1%eth0]:80"),
    ("::1:8080", "::1:8080"),
    ("..:80", "..:80"),
    ("münchen.example:80", "münchen.example:80"),
    (("1.2.3.4", 80), "1.2.3.4:80"),
    (["1.2.3.4", 80], "1.2.3.4:80"),
    (("", 8080), ":8080"),
    (("::1", 8080), "::1:8080"),
    (("[::1]", 8080), "[::1]:8080"),
    (("h", 65535), "h:65535"),
]


@pytest.mark.parametrize(("address", "text"), VALID)
def test_valid_addresses_keep_their_text(address: Any, text: str) -> None:
    """A valid address gives the HOST:PORT text the reference wrote (node names unchanged)."""
    assert check_address(address) == text


INVALID = [
    ("nocolon", "has no port (no ':')"),
    ("", "has no port"),
    ("1.2.3.4:", "port '' in the address '1.2.3.4:' is not a whole number"),
    ("1.2.3.4:-1", "port '-1' in the address '1.2.3.4:-1' is not a whole number"),
    ("1.2.3.4:0", "port 0 in the address '1.2.3.4:0' is outside 1 to 65535"),
    ("1.2.3.4:65536", "port 65536 in the address '1.2.3.4:65536' is outside 1 to 65535"),
    ("1.2.3.4:99999", "is outside 1 to 65535"),
    ("a:b", "port 'b' in the address 'a:b' is not a whole number"),
    ("h:80 ", "port '80 ' in the address 'h:80 ' is not a whole number"),
    ("h:+80", "is not a whole number"),
    ("h:8_0", "is not a whole number"),
    ("h:٨٠", "is not a whole number"),
    ("host name:82", "The host 'host name' in the address 'host name:82' contains whitespace"),
    (" h:82", "contains whitespace"),
    ("h\t:82", "contains whitespace"),
    ("h\n:82", "contains whitespace"),
    ("a/b:82", "contains '/'"),
    ("h\x00:82", "a character ZooKeeper does not allow"),
    ("h\x7f:82", "a character ZooKeeper does not allow"),
    ("h\ue000:82", "a character ZooKeeper does not allow"),
    ("h\ufff0:82", "a character ZooKeeper does not allow"),
    ("h\U0001f600:82", "a character ZooKeeper does not allow"),
    ("::1", "contains ':' but is not an IPv6 address"),
    ("a:b:80", "The host 'a:b' in the address 'a:b:80' contains ':' but is not an IPv6"),
    ("[::1]", "has no ':PORT' after the host"),
    ("[::1:80", "opens '[' without closing it"),
    ("[nothost]:80", "'nothost' is not an IPv6 address"),
    ("[1.2.3.4]:80", "is not an IPv6 address"),
    ("a]b:80", "brackets that do not enclose an IPv6 address"),
    (("1.2.3.4", 99999), "The port 99999 in the address ('1.2.3.4', 99999) is outside 1 to 65535"),
    (("1.2.3.4", -1), "is outside 1 to 65535"),
    (("1.2.3.4", 0), "is outside 1 to 65535"),
    (("1.2.3.4", "80"), "The port in the address ('1.2.3.4', '80') is a str, not a whole"),
    (("1.2.3.4", True), "is a bool, not a whole number"),
    (("1.2.3.4", 80.0), "is a float, not a whole number"),
    (("1.2.3.4", None), "is a NoneType, not a whole number"),
    (("host name", 82), "contains whitespace"),
    (("a/b", 82), "contains '/'"),
    (("a:b", 82), "contains ':' but is not an IPv6 address"),
    ((b"h", 80), "The host in the address (b'h', 80) is a bytes, not a string"),
    (("h", 80, 1), "has 3 items, not 2"),
    (("h",), "has 1 items, not 2"),
    (8080, "is a int; give 'HOST:PORT'"),
    (None, "is a NoneType"),
    (b"h:80", "is a bytes"),
]


@pytest.mark.parametrize(("address", "message"), INVALID)
def test_invalid_addresses_are_refused(address: Any, message: str) -> None:
    """A bad port, a missing port or a host ZooKeeper cannot name raises a clear ValueError."""
    with pytest.raises(ValueError) as info:
        check_address(address)
    assert message in str(info.value)
    assert str(info.value).endswith(".")


@given(st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1), st.integers())
def test_ports_in_range_and_only_those_are_accepted(host: str, port: int) -> None:
    """For a plain host name, exactly the ports 1..65535 are accepted, as text or in a pair."""
    if 1 <= port <= 65535:
        assert check_address((host, port)) == check_address(f"{host}:{port}") == f"{host}:{port}"
    else:
        with pytest.raises(ValueError, match="port"):
            check_address((host, port))
        with pytest.raises(ValueError, match="port"):
            check_address(f"{host}:{port}")


# --- register() refuses them before writing (once Registry.register calls check_address) ----


async def _children(hosts: str, path: str) -> list[str]:
    """The children of ``path``, read by a second client."""
    async with Registry(hosts) as other:
        return sorted(await other.get_children(path))


@pytest.mark.parametrize(
    "address",
    ["nocolon", "1.2.3.4:-1", ("1.2.3.4", 99999), "host name:82", ("h", "80"), ("h", True)],
)
async def test_register_refuses_bad_addresses_and_writes_nothing(
    registry: Registry, zookeeper_hosts: str, address: Any
) -> None:
    """register() raises ValueError for a bad address and creates no node at all."""
    await registry.ensure_path("/svc")
    with pytest.raises(ValueError, match="address"):
        await registry.register("/svc", address)
    with pytest.raises(ValueError, match="address"):
        await registry.register("/", address)
    assert await _children(zookeeper_hosts, "/svc") == []
    assert await _children(zookeeper_hosts, "/") == ["svc"]


async def test_register_refuses_nocolon_at_root(registry: Registry, zookeeper_hosts: str) -> None:
    """The issue's case: register('/', 'nocolon') raises ValueError and writes nothing."""
    with pytest.raises(ValueError, match="no port"):
        await registry.register("/", "nocolon")
    assert await _children(zookeeper_hosts, "/") == []


async def test_register_still_accepts_valid_addresses(
    registry: Registry, zookeeper_hosts: str
) -> None:
    """Valid addresses (a pair, HOST:PORT, [v6]:PORT) register under the names they always had."""
    await registry.ensure_path("/svc")
    await registry.register("/svc", ("1.2.3.4", 80))
    await registry.register("/svc", "h:65535")
    await registry.register("/svc", "[::1]:8080")
    assert await _children(zookeeper_hosts, "/svc") == ["1.2.3.4:80", "[::1]:8080", "h:65535"]
