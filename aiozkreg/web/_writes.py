"""Setting properties from the page (``--allow-writes``): who may, and the write itself.

A write is what ``aiozkreg set HOSTS PATH NAME=LITERAL ... --delete NAME``
does, with the same checks before anything is written (the same parser
for names and literals, a name given twice, a name both set and deleted,
property links that cannot be followed, a property beside a property link
of the same name) and one compare-and-set write. Each failure is a
:class:`WriteError` with an HTTP status and a sentence for the page.

Who may write (:class:`WritePolicy`): nobody unless writes are allowed;
then a client on a loopback address, or any client when the server listens
on a non-loopback address (``--listen`` says so). Every write also carries
the page's token (a cross-site page cannot read it) and, if the browser
sends one, an ``Origin`` of this server: a page elsewhere cannot make the
browser write for it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .._cli_common import UsageError
from .._cli_set import parse_assignment, parse_name
from .._errors import NoNodeError, ServerError, ZKConnectionError
from .._properties import edit
from .._registry import Registry

__all__ = ["WriteError", "WritePolicy", "is_loopback", "write_properties"]

WRITE_TIMEOUT = 10.0
"""Seconds a write may take (a lost session makes it wait) before the page is told."""


class WriteError(Exception):
    """A write refused or failed: ``status`` (HTTP) and a sentence for the page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def is_loopback(host: str | None) -> bool:
    """True for ``localhost`` and loopback addresses (IPv4, IPv6, IPv4-mapped IPv6)."""
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


@dataclass(frozen=True)
class WritePolicy:
    """Whether writes are on, for whom, and the token a write must carry."""

    allowed: bool = False
    remote: bool = False
    """Clients on other hosts may write too (the server listens beyond loopback)."""
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    def check(self, peer: str | None, token: str | None, origin: str | None, host: str) -> None:
        """Raise :class:`WriteError` unless this request may write."""
        if not self.allowed:
            raise WriteError(
                403,
                "This page is read-only: start aiozkreg serve with --allow-writes to set "
                "properties from it.",
            )
        if not self.remote and not is_loopback(peer):
            raise WriteError(
                403,
                f"Writes are only taken from this machine (loopback), not from {peer}; "
                "listen on a non-loopback address (--listen) to take them from elsewhere.",
            )
        if token is None or not secrets.compare_digest(token, self.token):
            raise WriteError(403, "This write does not carry the page's token; reload the page.")
        if origin is not None and origin not in (f"http://{host}", f"https://{host}"):
            raise WriteError(403, f"Writes from pages of {origin} are refused.")


def _changes(
    assignments: Sequence[str], deletions: Sequence[str]
) -> tuple[dict[str, Any], list[str]]:
    """What ``aiozkreg set`` checks before connecting: (updates, removals), or WriteError."""
    if not assignments and not deletions:
        raise UsageError("give at least one NAME=LITERAL or a NAME to delete")
    updates: dict[str, Any] = {}
    for argument in assignments:
        name, value = parse_assignment(argument)
        if name in updates:
            raise UsageError(f"{name!r} is given twice")
        updates[name] = value
    removals = [parse_name(argument) for argument in deletions]
    for name in removals:
        if name in updates:
            raise UsageError(f"{name!r} is both set and deleted")
    return updates, removals


def _bad_input(exc: ValueError) -> str:
    """The sentence for bad input (as the command line words it)."""
    if len(exc.args) == 4 and exc.args[0] == "Bad property link":
        _, key, value, cause = exc.args
        return f"bad property link {key!r}: {value!r} ({cause})"
    return str(exc)


async def write_properties(
    zk: Registry, path: str, assignments: Sequence[str], deletions: Sequence[str] = ()
) -> dict[str, Any]:
    """``aiozkreg set`` for the page: the node's raw properties afterwards, or WriteError."""
    try:
        updates, removals = _changes(assignments, deletions)
        async with asyncio.timeout(WRITE_TIMEOUT):
            # Resolved here: a watch=False view writes to the path it was given.
            properties = await zk.properties(await zk.resolve(path), watch=False)
            await edit(properties, updates, removals)
            return properties.raw
    except UsageError as exc:  # the command line's words; a page has no shell
        raise WriteError(400, str(exc).replace("quote it for the shell", "quote it")) from exc
    except NoNodeError as exc:
        raise WriteError(404, f"{exc.path or path}: no such node") from exc
    except ServerError as exc:
        raise WriteError(409, f"ZooKeeper refused the write: {exc}") from exc
    except ZKConnectionError as exc:
        raise WriteError(503, f"ZooKeeper cannot be reached now: {exc}") from exc
    except TimeoutError as exc:
        raise WriteError(
            503,
            f"ZooKeeper did not take the write within {WRITE_TIMEOUT:g} s (is the session "
            "lost?); it may still be done.",
        ) from exc
    except ValueError as exc:  # bad property links, a property hiding a link, bad paths
        raise WriteError(400, _bad_input(exc)) from exc
