"""What a provider node layout is: :class:`WireFormat`, and what a registration announces.

Pure: no I/O. A layout knows how a registration's node is named, how its
data is written, and how a reader turns a child of the service path back
into a :class:`~aiozkreg.Provider`. The three layouts are in
``_format_zczk.py``, ``_format_curator.py`` and ``_format_serverset.py``;
``_formats.py`` names them and detects which one a child is in. The JSON
readers here are shared by the layouts that write JSON documents.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from . import _paths
from ._address import split_address
from ._provider import Provider

__all__ = ["Announcement", "WireFormat", "json_object", "maybe_json_object", "port_number"]


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
    """How provider nodes are named, written and read. See ``_formats.py``."""

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
            _paths.split(service_path.rstrip("/"))[1],
            id or self.new_id(),
            time_ms if time_ms is not None else int(time.time() * 1000),
        )

    def new_id(self) -> str:
        """The id of a registration announced without one (none, unless the layout has ids)."""
        return ""

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


# -- reading JSON documents --------------------------------------------------------------


def json_object(data: bytes) -> dict[str, Any]:
    """The data as a JSON object; ValueError saying why it is none."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError(f"the data is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError("the data is not a JSON object")
    return value


def maybe_json_object(data: bytes) -> dict[str, Any] | None:
    """The data as a JSON object, or None if it is none (cheaply, for detection)."""
    if not data.lstrip().startswith(b"{"):
        return None
    try:
        return json_object(data)
    except ValueError:
        return None


def port_number(value: Any, what: str) -> int:
    """``value`` if it is a port number (0 to 65535); ValueError naming ``what`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise ValueError(f"{what} is not a port number: {value!r}")
    return value
