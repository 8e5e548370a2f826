"""What the page is told about a live tree. Pure: no I/O, no asyncio.

:class:`Model` turns each :class:`~aiozkreg.TreeSnapshot` into what the
page shows: one JSON-ready *node info* per node (its properties as tree
text writes them, its symlinks and property links followed through the
snapshot, a registration decoded as a provider, its stat) and the
architecture graph laid out (:mod:`._layout`). :meth:`Model.advance`
says what changed since the last snapshot: the infos to replace, the
paths gone, the graph if it changed. Node infos are remade only for
nodes that changed, and for nodes whose links may now lead elsewhere.

Links are followed only inside the snapshot: a target outside the served
subtree is reported as such (``outside``), not read.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .. import _paths
from .._encoding import decode_properties
from .._errors import BadPropertyLink, LinkLoop, NoNodeError
from .._formats import decode_provider
from .._graph import PROVIDERS, build_graph
from .._links import KeyKind, resolve, resolve_property, split_key, target_path
from .._subtree import TreeNode, TreeSnapshot
from .._tree_format import literal_repr, name_text
from .._tree_node import TextNode
from ._layout import layout

__all__ = ["Frame", "Model", "NodeInfo"]

NodeInfo = dict[str, Any]
"""One node as the page gets it (JSON-ready; every value is shown as text)."""

MAX_DATA = 16 * 1024
"""How many bytes of a node's raw data the page is shown."""


class _Outside(Exception):
    """A link led out of the served subtree: not followed."""


@dataclass(frozen=True)
class Frame:
    """What changed from one snapshot to the next (``graph`` None: the graph did not)."""

    upserts: list[NodeInfo]
    removed: list[str]
    graph: dict[str, Any] | None

    def __bool__(self) -> bool:
        return bool(self.upserts or self.removed or self.graph is not None)


def _now(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine whose awaits all answer at once (lookups in memory) to its end."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("a lookup in memory suspended")


class _Lookup:
    """Reads of one snapshot for link resolution; paths outside the subtree raise _Outside."""

    def __init__(self, snapshot: TreeSnapshot, properties: Callable[[str], dict[str, Any]]):
        self.snapshot = snapshot
        self.properties = properties
        root = snapshot.root
        self._prefix = "/" if root == "/" else root + "/"

    def inside(self, path: str) -> bool:
        return path == self.snapshot.root or path.startswith(self._prefix)

    async def exists(self, path: str) -> bool:
        if not self.inside(path):
            raise _Outside(path)
        return path in self.snapshot

    async def read(self, path: str) -> Mapping[str, Any]:
        return self.properties(path)  # a real path, found by resolve()

    async def read_linked(self, path: str) -> Mapping[str, Any]:
        return self.properties(await resolve(path, self.exists, self.read))

    def follow_link(self, holder: str, value: Any) -> tuple[str | None, str | None]:
        """(real path, None) for a symlink's target, or (None, why it cannot be followed)."""
        if not isinstance(value, str) or not value.strip():
            return None, "not a path"
        target = target_path(holder, value.strip())
        try:
            return _now(resolve(target, self.exists, self.read)), None
        except _Outside as exc:
            return None, f"leads outside the served tree ({exc.args[0]}): not followed"
        except NoNodeError:
            return None, f"dangling: {target} does not resolve"
        except LinkLoop as exc:
            return None, f"link loop: {exc}"

    def follow_property(self, holder: str, raw: Mapping[str, Any], name: str) -> tuple[Any, str]:
        """(value, "") for a property link, or (None, why it cannot be followed)."""
        try:
            return _now(resolve_property(holder, raw, name, self.read_linked)), ""
        except _Outside as exc:
            return None, f"leads outside the served tree ({exc.args[0]}): not followed"
        except (BadPropertyLink, LinkLoop, KeyError) as exc:
            return None, str(exc)


def _provider(path: str, data: bytes) -> dict[str, Any] | None:
    """A registration under a providers node, decoded as a provider set reads it."""
    parent, name = _paths.split(path)
    if _paths.split(parent)[1] != PROVIDERS:
        return None
    try:
        provider = decode_provider(name, data)
    except ValueError as exc:
        return {"problem": f"malformed registration: {exc}"}
    if provider is None:
        return {"problem": "not a provider (no known registration layout)"}
    fields = [
        ("address", provider.address),
        ("format", provider.format),
        ("available", str(provider.available)),
        ("enabled", str(provider.enabled)),
        ("status", str(provider.status)),
        ("weight", f"{provider.weight:g}"),
    ]
    if provider.ssl_port is not None:
        fields.append(("ssl_port", str(provider.ssl_port)))
    fields += [(key, literal_repr(value)) for key, value in sorted(provider.properties.items())]
    return {"fields": fields, "available": provider.available}


def _property_rows(path: str, raw: dict[str, Any], lookup: _Lookup) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(raw):
        value = raw[key]
        kind, name = split_key(key)
        arrow = {KeyKind.LINK: " ->", KeyKind.PROPERTY_LINK: " =>"}.get(kind, "")
        row: dict[str, Any] = {"key": key, "name": name, "kind": kind.value}
        row["text"] = literal_repr(value)
        row["arg"] = name_text(name) + arrow  # as `aiozkreg set --delete` takes it
        if kind is KeyKind.LINK:
            real, why = lookup.follow_link(path, value)
            row["resolved"], row["problem"] = real, why
        elif kind is KeyKind.PROPERTY_LINK:
            if name in raw:
                row["resolved"], row["problem"] = None, f"hidden by the property {name!r}"
            else:
                resolved, why = lookup.follow_property(path, raw, name)
                row["resolved"] = None if why else literal_repr(resolved)
                row["problem"] = why or None
        rows.append(row)
    return rows


def node_info(node: TreeNode, raw: dict[str, Any], lookup: _Lookup) -> NodeInfo:
    """What the page shows of ``node`` (``raw``: its decoded properties)."""
    stat = node.stat
    info: NodeInfo = {
        "path": node.path,
        "ephemeral": node.ephemeral,
        "type": None if raw.get("type") is None else str(raw["type"]),
        "properties": _property_rows(node.path, raw, lookup),
        "stat": {
            "version": stat.version,
            "cversion": stat.cversion,
            "ctime": stat.ctime,
            "mtime": stat.mtime,
            "data_length": stat.data_length,
            "children": len(node.children),
            "owner": f"0x{stat.ephemeral_owner:x}" if stat.ephemeral_owner else None,
        },
    }
    if node.ephemeral or (node.data and not node.data.lstrip().startswith(b"{")):
        info["data"] = node.data[:MAX_DATA].decode("utf-8", "replace")
        info["data_cut"] = len(node.data) > MAX_DATA
    provider = _provider(node.path, node.data)
    if provider is not None:
        info["provider"] = provider
    return info


def _linked(raw: Mapping[str, Any]) -> bool:
    return any(split_key(key)[0] is not KeyKind.PROPERTY for key in raw)


class Model:
    """The page's picture of a tree, advanced one snapshot at a time.

    ``hide`` is a top path left out (ZooKeeper's own ``/zookeeper`` when
    the whole tree of an unchrooted server is shown, as an export leaves it out).
    """

    def __init__(self, hide: str | None = None) -> None:
        self.hide = hide
        self.infos: dict[str, NodeInfo] = {}
        self.graph: dict[str, Any] | None = None
        self.root: str | None = None
        self._nodes: dict[str, TreeNode] = {}
        self._raw: dict[str, tuple[TreeNode, dict[str, Any]]] = {}
        self._linked: set[str] = set()

    def _hidden(self, path: str) -> bool:
        hide = self.hide
        return hide is not None and (path == hide or path.startswith(hide + "/"))

    def _paths(self, snapshot: TreeSnapshot) -> Iterator[str]:
        return (path for path in snapshot if not self._hidden(path))

    def _properties(self, snapshot: TreeSnapshot) -> Callable[[str], dict[str, Any]]:
        def properties(path: str) -> dict[str, Any]:
            node = snapshot[path]
            cached = self._raw.get(path)
            if cached is None or cached[0] is not node:
                cached = (node, decode_properties(node.data, path))
                self._raw[path] = cached
            return cached[1]

        return properties

    def advance(self, snapshot: TreeSnapshot) -> Frame:
        """Take ``snapshot`` in; what changed since the last one."""
        self.root = snapshot.root
        properties = self._properties(snapshot)
        lookup = _Lookup(snapshot, properties)
        upserts = []
        for path in self._paths(snapshot):
            node = snapshot[path]
            if self._nodes.get(path) is node and path not in self._linked:
                continue
            self._nodes[path] = node
            raw = properties(path)
            if _linked(raw):
                self._linked.add(path)
            else:
                self._linked.discard(path)
            info = node_info(node, raw, lookup)
            if self.infos.get(path) != info:
                self.infos[path] = info
                upserts.append(info)
        removed = [path for path in self.infos if path not in snapshot or self._hidden(path)]
        for path in removed:
            del self.infos[path]
            self._nodes.pop(path, None)
            self._raw.pop(path, None)
            self._linked.discard(path)
        graph = self._graph(snapshot, properties)
        changed = graph != self.graph
        self.graph = graph
        return Frame(upserts, removed, graph if changed else None)

    def _graph(
        self, snapshot: TreeSnapshot, properties: Callable[[str], dict[str, Any]]
    ) -> dict[str, Any]:
        """The architecture graph of the snapshot, as ``aiozkreg graph -e`` draws it, laid out."""
        root = snapshot.root
        made: dict[str, TextNode] = {}
        for path in reversed(list(self._paths(snapshot))):  # every child before its parent
            children = {}
            for name in snapshot[path].children:
                child = made.pop(_paths.join(path, name), None)
                if child is not None:
                    children[name] = child
            made[path] = TextNode(properties(path), children)
        top = made.get(root, TextNode())
        if root == "/":
            return layout(build_graph(top, "/"), "/")
        parent, name = _paths.split(root)
        return layout(build_graph(TextNode({}, {name: top}), parent), parent)

    def full(self) -> dict[str, Any]:
        """Everything, for a page that starts (or starts again)."""
        return {"root": self.root, "nodes": list(self.infos.values()), "graph": self.graph}
