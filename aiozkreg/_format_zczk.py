"""zc.zk's layout: ephemeral ``HOST:PORT`` children with JSON properties. Pure: no I/O.

The child is named ``HOST:PORT``; its data is the properties as compact
JSON (``_encoding.py``'s convention). A registration adds ``pid``: zc.zk's
layout is the only one that records it. An ``enabled`` property that is
false makes the provider unavailable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ._address import split_address
from ._encoding import decode_properties, encode_properties
from ._provider import Provider, frozen, truthy, weight_of
from ._wire_format import Announcement, WireFormat

__all__ = ["ZcZkFormat"]


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
            properties=frozen(props),
            weight=weight_of(props.get("weight"), f" on {name}"),
            enabled=truthy(props.get("enabled")),
            format=self.name,
        )
