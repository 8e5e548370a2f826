"""Path arithmetic and connect strings; pure, no I/O."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from ._address import join_address
from ._errors import InvalidPathError

DEFAULT_HOSTS = "127.0.0.1:2181"
DEFAULT_PORT = 2181


def validate(path: str) -> str:
    """Return ``path`` if ZooKeeper accepts it, else raise :class:`InvalidPathError`."""
    if not isinstance(path, str):
        raise InvalidPathError(f"A path must be a string, not {type(path).__name__}.")
    if not path.startswith("/"):
        raise InvalidPathError(f"Path {path!r} must start with '/'.")
    if path == "/":
        return path
    if path.endswith("/"):
        raise InvalidPathError(f"Path {path!r} must not end with '/'.")
    if "\x00" in path:
        raise InvalidPathError(f"Path {path!r} contains a NUL character.")
    for part in path[1:].split("/"):
        if part == "":
            raise InvalidPathError(f"Path {path!r} has an empty component.")
        if part in (".", ".."):
            raise InvalidPathError(f"Path {path!r} has a relative component {part!r}.")
    return path


def normalize(path: str) -> str:
    """Fold ``.``, ``..``, repeated and trailing slashes: ``/a/./b/../c/`` -> ``/a/c``."""
    if not path.startswith("/"):
        raise InvalidPathError(f"Path {path!r} must start with '/'.")
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    return norm


def join(parent: str, name: str) -> str:
    """``/a`` + ``b`` -> ``/a/b``; ``/`` + ``b`` -> ``/b``."""
    return f"{parent.rstrip('/')}/{name}"


def split(path: str) -> tuple[str, str]:
    """``/a/b`` -> (``/a``, ``b``); ``/a`` -> (``/``, ``a``)."""
    parent, _, name = path.rpartition("/")
    return parent or "/", name


def parents(path: str) -> list[str]:
    """Every proper ancestor below the root, shallowest first: ``/a/b/c`` -> [/a, /a/b]."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]


@dataclass(frozen=True, slots=True)
class ConnectString:
    """A parsed ``host:port,host:port/chroot`` string (or ``SCHEME://NAME/chroot``)."""

    servers: tuple[tuple[str, int], ...]
    chroot: str  # "" for none, else "/a/b"
    scheme: str = ""  # "" for TCP servers; else a transport's (memory:// for tests)

    def __str__(self) -> str:
        if self.scheme:
            return f"{self.scheme}://{self.servers[0][0]}{self.chroot}"
        hosts = ",".join(join_address(host, port) for host, port in self.servers)
        return hosts + self.chroot


def parse_hosts(text: str) -> ConnectString:
    """Parse a connect string; raise ``ValueError`` with a clear sentence if it is malformed."""
    text = text.strip()
    if not text:
        raise ValueError("The ZooKeeper connect string is empty.")
    scheme, sep, rest = text.partition("://")
    if sep:
        if not scheme.isidentifier():
            raise ValueError(f"Bad scheme {scheme!r} in connect string {text!r}.")
        if not rest or rest.startswith("/"):
            raise ValueError(
                f"A {scheme}:// connect string needs a name: {scheme}://NAME[/chroot]."
            )
        text = rest
    else:
        scheme = ""
    chroot = ""
    slash = text.find("/")
    if slash >= 0:
        text, chroot = text[:slash], text[slash:]
        chroot = "" if chroot == "/" else validate(chroot)
    if scheme:
        return ConnectString(((text, 0),), chroot, scheme)
    servers: list[tuple[str, int]] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise ValueError(f"Empty server in connect string {text!r}.")
        servers.append(_parse_server(item))
    return ConnectString(tuple(servers), chroot)


def _parse_server(item: str) -> tuple[str, int]:
    if item.startswith("["):
        host, sep, rest = item[1:].partition("]")
        if not sep:
            raise ValueError(f"Unclosed '[' in server address {item!r}.")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif item.count(":") == 1:
        host, port_text = item.split(":")
    elif ":" in item:
        raise ValueError(f"IPv6 address {item!r} must be written as [address]:port.")
    else:
        host, port_text = item, ""
    if not host:
        raise ValueError(f"Missing host in server address {item!r}.")
    if not port_text:
        return host, DEFAULT_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"Bad port {port_text!r} in server address {item!r}.")
    return host, int(port_text)


def with_chroot(chroot: str, path: str) -> str:
    """The server-side path of a client path."""
    if not chroot:
        return path
    return chroot if path == "/" else chroot + path


def without_chroot(chroot: str, path: str) -> str:
    """The client-side path of a server path (paths outside the chroot are kept)."""
    if not chroot:
        return path
    if path == chroot:
        return "/"
    if path.startswith(chroot + "/"):
        return path[len(chroot) :]
    return path
