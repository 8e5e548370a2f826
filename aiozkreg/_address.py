"""Server addresses: ``HOST:PORT`` text split and joined, and checked before it
becomes a node name. Pure: no I/O.

:func:`split_address` and :func:`join_address` read and write the
``host:port`` of a provider (``[v6]:port`` for an IPv6 host).

:func:`check_address` takes what ``Registry.register(path, address)``
accepts and returns its ``HOST:PORT`` text -- the registration's node name
(before a blank host is expanded to this host's addresses) -- or raises
``ValueError`` with a sentence saying what is wrong. Nothing is written for
an address it refuses.

Accepted:

* ``"HOST:PORT"``; ``"[V6]:PORT"`` (an IPv6 address in brackets); an
  unbracketed IPv6 address before the last ``:`` (``"::1:8080"``, as a
  ``("::1", 8080)`` tuple is written);
* ``(host, port)``, or any two-item sequence: ``host`` a string,
  ``port`` an ``int`` (``bool`` is not a port number);
* a blank host, ``":8080"`` or ``("", 8080)``: "every address of this host".

The text returned is the one the reference wrote (``"%s:%s" % (host, port)``
for a tuple, a string as given), so valid addresses keep their node names.

Refused: a port that is not a whole number from 1 to 65535 (``"h:-1"``,
``("h", 99999)``, ``("h", "80")``, ``("h", True)``), a missing port
(``"nocolon"``, ``"[::1]"``), and a host holding whitespace, ``/``, brackets
outside the ``[V6]`` form, a ``:`` that is not part of an IPv6 address, or a
character ZooKeeper does not allow in node names (control characters,
surrogates, private-use characters, U+FFF0 to U+FFFF, and characters beyond
U+FFFF, which Java holds as surrogate pairs).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

__all__ = ["check_address", "join_address", "split_address"]

_PORT = re.compile(r"[0-9]+")
_MAX_PORT = 65535
_FORMS = "give 'HOST:PORT', '[IPV6]:PORT' or a (host, port) pair"


def join_address(host: str, port: int) -> str:
    """``("h", 80)`` -> ``"h:80"``, ``("::1", 80)`` -> ``"[::1]:80"``."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def split_address(text: str) -> tuple[str, int]:
    """``"h:80"`` -> ``("h", 80)``, ``"[::1]:80"`` -> ``("::1", 80)``; ValueError otherwise."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit():
        raise ValueError(f"{text!r} is not HOST:PORT.")
    port = int(port_text)
    if port > _MAX_PORT:
        raise ValueError(f"{text!r} has a port out of range.")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


def check_address(address: object) -> str:
    """The ``HOST:PORT`` node name for ``address``; ``ValueError`` if it is not an address."""
    if isinstance(address, str):
        host, port_text = _split(address)
        _check_host(host, address)
        _check_port_text(port_text, address)
        return address
    if isinstance(address, bytes | bytearray) or not isinstance(address, Sequence):
        raise ValueError(f"The address {address!r} is a {type(address).__name__}; {_FORMS}.")
    if len(address) != 2:
        raise ValueError(f"The address {address!r} has {len(address)} items, not 2; {_FORMS}.")
    host, port = address
    if not isinstance(host, str):
        raise ValueError(
            f"The host in the address {address!r} is a {type(host).__name__}, not a string."
        )
    text = f"{host}:{port}"
    _check_host(host, address)
    if isinstance(port, bool) or not isinstance(port, int):
        raise ValueError(
            f"The port in the address {address!r} is a {type(port).__name__}, not a whole "
            f"number from 1 to {_MAX_PORT}."
        )
    _check_port(port, address)
    return text


def _split(text: str) -> tuple[str, str]:
    """``(host, port text)`` of a string address."""
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise ValueError(f"The address {text!r} opens '[' without closing it; {_FORMS}.")
        host, rest = text[: close + 1], text[close + 1 :]
        if not rest.startswith(":"):
            raise ValueError(f"The address {text!r} has no ':PORT' after the host; {_FORMS}.")
        return host, rest[1:]
    host, sep, port_text = text.rpartition(":")
    if not sep:
        raise ValueError(f"The address {text!r} has no port (no ':'); {_FORMS}.")
    return host, port_text


def _check_port_text(port_text: str, address: object) -> None:
    if not _PORT.fullmatch(port_text):
        raise ValueError(
            f"The port {port_text!r} in the address {address!r} is not a whole number "
            f"from 1 to {_MAX_PORT}."
        )
    _check_port(int(port_text), address)


def _check_port(port: int, address: object) -> None:
    if not 1 <= port <= _MAX_PORT:
        raise ValueError(f"The port {port} in the address {address!r} is outside 1 to {_MAX_PORT}.")


def _check_host(host: str, address: object) -> None:
    for char in host:
        if char.isspace():
            raise ValueError(f"The host {host!r} in the address {address!r} contains whitespace.")
        if char == "/":
            raise ValueError(
                f"The host {host!r} in the address {address!r} contains '/', which node "
                "names cannot hold."
            )
        if not _zookeeper_allows(char):
            raise ValueError(
                f"The host {host!r} in the address {address!r} contains {char!r}, a "
                "character ZooKeeper does not allow in node names."
            )
    if host.startswith("[") and host.endswith("]"):
        inner = host[1:-1]
        if not _is_ipv6(inner):
            raise ValueError(
                f"The host {host!r} in the address {address!r} is in brackets but "
                f"{inner!r} is not an IPv6 address."
            )
    elif "[" in host or "]" in host:
        raise ValueError(
            f"The host {host!r} in the address {address!r} has brackets that do not "
            "enclose an IPv6 address ('[IPV6]:PORT')."
        )
    elif ":" in host and not _is_ipv6(host):
        raise ValueError(
            f"The host {host!r} in the address {address!r} contains ':' but is not an IPv6 address."
        )


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _zookeeper_allows(char: str) -> bool:
    """ZooKeeper's PathUtils.validatePath rule for one character (of a Java UTF-16 string)."""
    code = ord(char)
    return not (
        code <= 0x1F
        or 0x7F <= code <= 0x9F
        or 0xD800 <= code <= 0xF8FF
        or code >= 0xFFF0  # U+FFF0..U+FFFF, and beyond: a surrogate pair in Java
    )
