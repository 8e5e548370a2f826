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

import json
from collections.abc import Callable, Coroutine, Mapping
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


_FOLDED = TextNode()
"""What a registration is to the graph: build_graph only counts them (never changed)."""


class _Outside(Exception):
    """A link led out of the served subtree: not followed."""


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True)
class Frame:
    """What changed from one snapshot to the next, as JSON text: the node infos to
    replace, the paths gone, the graph (None: it did not change)."""

    upserts: list[str]
    removed: list[str]
    graph: str | None

    def __bool__(self) -> bool:
        return bool(self.upserts or self.removed or self.graph is not None)

    def json(self) -> str:
        """The frame as one JSON object: ``{"upserts": [...], "removed": [...], "graph": ...}``."""
        graph = "null" if self.graph is None else self.graph
        upserts = ",".join(self.upserts)
        return f'{{"upserts":[{upserts}],"removed":{_json(self.removed)},"graph":{graph}}}'


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
        # Kept as JSON text: sent as it is, compared cheaply, and no work for the
        # garbage collector (a big tree's infos are many small containers otherwise).
        self.infos: dict[str, str] = {}
        self.graph_text = "null"
        self.root: str | None = None
        self._nodes: dict[str, TreeNode] = {}
        self._raw: dict[str, tuple[TreeNode, dict[str, Any]]] = {}
        self._linked: set[str] = set()

    def _hidden(self, path: str) -> bool:
        hide = self.hide
        return hide is not None and (path == hide or path.startswith(hide + "/"))

    def _walk(self, snapshot: TreeSnapshot) -> list[TreeNode]:
        """Every node shown, in preorder; each looked up in the snapshot once."""
        nodes = snapshot.nodes
        root = nodes.get(snapshot.root)
        walk: list[TreeNode] = []
        stack = [] if root is None else [root]
        while stack:
            node = stack.pop()
            if self._hidden(node.path):
                continue
            walk.append(node)
            stack.extend(nodes[_paths.join(node.path, name)] for name in reversed(node.children))
        return walk

    def _decoded(self, node: TreeNode) -> dict[str, Any]:
        """The node's properties, decoded once per version of the node."""
        cached = self._raw.get(node.path)
        if cached is None or cached[0] is not node:
            cached = (node, decode_properties(node.data, node.path))
            self._raw[node.path] = cached
        return cached[1]

    def advance(self, snapshot: TreeSnapshot) -> Frame:
        """Take ``snapshot`` in; what changed since the last one."""
        self.root = snapshot.root
        walk = self._walk(snapshot)
        lookup = _Lookup(snapshot, lambda path: self._decoded(snapshot[path]))
        upserts = []
        for node in walk:
            path = node.path
            if self._nodes.get(path) is node and path not in self._linked:
                continue
            self._nodes[path] = node
            raw = self._decoded(node)
            if _linked(raw):
                self._linked.add(path)
            else:
                self._linked.discard(path)
            info = _json(node_info(node, raw, lookup))
            if self.infos.get(path) != info:
                self.infos[path] = info
                upserts.append(info)
        shown = {node.path for node in walk}
        removed = [path for path in self.infos if path not in shown]
        for path in removed:
            del self.infos[path]
            self._nodes.pop(path, None)
            self._raw.pop(path, None)
            self._linked.discard(path)
        if not (upserts or removed) and self.graph_text != "null":
            return Frame(upserts, removed, None)  # nothing the graph is drawn from changed
        graph = _json(self._graph(snapshot.root, walk))
        changed = graph != self.graph_text
        self.graph_text = graph
        return Frame(upserts, removed, graph if changed else None)

    def _graph(self, root: str, walk: list[TreeNode]) -> dict[str, Any]:
        """The architecture graph of the nodes, as ``aiozkreg graph -e`` draws it, laid out."""
        tops = (
            {root} if root != "/" or not walk else {_paths.join("/", n) for n in walk[0].children}
        )

        def folded(path: str) -> bool:  # a providers node build_graph folds into its service
            return _paths.split(path)[1] == PROVIDERS and path not in tops and path != root

        made: dict[str, TextNode] = {}
        for node in reversed(walk):  # every child before its parent
            if folded(_paths.split(node.path)[0]):
                continue  # a registration: only counted, so a placeholder (made below) will do
            if folded(node.path):
                children = dict.fromkeys(node.children, _FOLDED)
                made[node.path] = TextNode(self._decoded(node), children)
                continue
            children = {}
            for name in node.children:
                child = made.pop(_paths.join(node.path, name), None)
                if child is not None:
                    children[name] = child
            made[node.path] = TextNode(self._decoded(node), children)
        top = made.get(root, TextNode())
        if root == "/":
            return layout(build_graph(top, "/"), "/")
        parent, name = _paths.split(root)
        return layout(build_graph(TextNode({}, {name: top}), parent), parent)

    def json(self) -> str:
        """Everything, for a page that starts (or starts again), as one JSON object:
        ``{"root": ..., "nodes": [...], "graph": ...}``."""
        nodes = ",".join(self.infos.values())
        return f'{{"root":{_json(self.root)},"nodes":[{nodes}],"graph":{self.graph_text}}}'

    def info(self, path: str) -> NodeInfo:
        """The node info of ``path`` (``KeyError`` if it is not shown)."""
        value: NodeInfo = json.loads(self.infos[path])
        return value

    @property
    def graph(self) -> dict[str, Any] | None:
        """The graph as last laid out (None before the first snapshot)."""
        value: dict[str, Any] | None = json.loads(self.graph_text)
        return value
