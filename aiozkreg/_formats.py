"""Provider node layouts: zc.zk, Apache Curator x-discovery, Finagle/Aurora ServerSets.

Pure: no I/O. Each :class:`WireFormat` (``_wire_format.py``) knows how a
registration's node is named, how its data is written, and how a reader
turns a child of the service path back into a :class:`Provider`
(``_provider.py``). Each writes what that layout's own readers understand:
nothing a reader of the layout would take for something else, nothing it
would choke on. One module per layout says how:

* **zc.zk** (``_format_zczk.py``): child ``HOST:PORT``, data the properties
  as compact JSON (a registration adds ``pid``);
* **curator** (``_format_curator.py``): child ``<id>`` (a UUID4), data
  Curator's ``ServiceInstance`` JSON, the properties as its ``payload``
  and ``enabled`` as its own top-level field;
* **serverset** (``_format_serverset.py``): ephemeral-sequential child
  ``member_%010d``, data ``{"serviceEndpoint", "additionalEndpoints",
  "status", "shard"}``, the properties in its ``metadata`` string map;
  ``status`` is ``STOPPING`` when an ``enabled`` property is false.

In the Curator and ServerSet layouts ``enabled`` is the format's own flag,
so it is stored as a boolean (``enabled="no"`` reads back as ``False``);
:meth:`WireFormat.properties_of` gives it back among the properties, so a
registration's properties round-trip. When a provider is *available* is
said in ``_provider.py``.

This module names the layouts (:func:`wire_format`) and tells which one a
child is in. Auto-detection (no format given) reads the child's data
before its name:

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

from ._format_curator import CuratorFormat, instance_shaped
from ._format_serverset import ServerSetFormat
from ._format_zczk import ZcZkFormat
from ._provider import Provider
from ._wire_format import Announcement, WireFormat, maybe_json_object

__all__ = [
    "CURATOR",
    "FORMATS",
    "SERVERSET",
    "ZCZK",
    "Announcement",
    "CuratorFormat",
    "Provider",
    "ServerSetFormat",
    "WireFormat",
    "ZcZkFormat",
    "decode_provider",
    "detect",
    "wire_format",
]

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
    document = maybe_json_object(data)
    if document is not None and instance_shaped(document, name):
        return CURATOR
    if SERVERSET.accepts(name):
        return SERVERSET
    if ZCZK.accepts(name):
        return ZCZK
    if document is not None and instance_shaped(document, None):
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
