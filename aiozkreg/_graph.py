"""Architecture diagrams from a text tree: Graphviz DOT and Mermaid. Pure: no I/O.

The model follows the reference's convention (zc.zk's ``graphvis`` demo):
a node with a ``providers`` child is a *service*; a link whose target is a
``providers`` node points at the service that owns it. :func:`build_graph`
turns a :class:`~aiozkreg.TextNode` into a :class:`Graph`:

Vertices (one per tree node, identified by absolute path):

* ``SERVICE`` -- a node with a ``providers`` child. The ``providers`` node
  and everything under it (the registrations) are folded into the service:
  they are not drawn, the label counts the registrations instead.
* ``NODE`` -- any other node of the tree.
* ``EXTERNAL`` -- a link target that is not in the tree (dangling, or
  outside the part of the tree that was read).

Every label is the path, then the node's ``type`` (if any), then
``N providers`` for a service with registrations.

Edges:

* ``CONTAINS`` -- parent to child, for every drawn node.
* ``LINK`` -- ``name -> target`` from the node holding the link to the
  target, labelled ``name``. Relative targets (``../x``) are taken relative
  to the holder; targets are followed through the tree's own links (by
  the rules ``Registry.resolve`` follows in ZooKeeper: ``_links.resolve``); a
  target ``X/providers`` (or anything under it) is drawn as the service ``X``.
* ``PROPERTY_LINK`` -- ``name => path [property]`` from the holder to the
  node ``path``, labelled ``name => property``.
* ``DEPENDS`` -- the reference's edges: for every link inside a service
  (held by the service or a node below it, up to the next service) whose
  target is a ``providers`` node, an edge from that service to the target's
  service. When the service itself holds the link, the ``LINK`` and
  ``DEPENDS`` edges are one edge (kind ``DEPENDS``, labelled with the link
  name). Duplicate edges are drawn once.

The reference drew only the ``DEPENDS`` edges, and from the link's text
(``value[:-10]``) without resolving relative links; for absolute links to
existing nodes the edges are the same.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from . import _paths
from ._errors import LinkLoop, NoNodeError
from ._links import KeyKind, resolve_now, split_key, target_path
from ._tree_node import TextNode

__all__ = [
    "Edge",
    "EdgeKind",
    "Graph",
    "Vertex",
    "VertexKind",
    "build_graph",
    "reference_edges",
    "to_dot",
    "to_mermaid",
]

PROVIDERS = "providers"


class VertexKind(enum.Enum):
    SERVICE = "service"
    NODE = "node"
    EXTERNAL = "external"


class EdgeKind(enum.Enum):
    CONTAINS = "contains"
    LINK = "link"
    PROPERTY_LINK = "property_link"
    DEPENDS = "depends"


@dataclass(frozen=True)
class Vertex:
    """A drawn node: its absolute path, kind, type and count of registrations."""

    path: str
    kind: VertexKind
    type: str | None = None
    providers: int = 0

    @property
    def label(self) -> str:
        """The text shown for the vertex, one item per line."""
        lines = [self.path]
        if self.type is not None:
            lines.append(self.type)
        if self.providers:
            lines.append(f"{self.providers} provider{'s' if self.providers != 1 else ''}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Edge:
    """An arrow from ``source`` to ``target`` (paths of vertices)."""

    source: str
    target: str
    kind: EdgeKind
    label: str = ""


@dataclass(frozen=True)
class Graph:
    """Vertices sorted by path; edges in tree order (preorder, sorted)."""

    vertices: tuple[Vertex, ...]
    edges: tuple[Edge, ...]

    def vertex(self, path: str) -> Vertex:
        """The vertex at ``path`` (``KeyError`` if there is none)."""
        for vertex in self.vertices:
            if vertex.path == path:
                return vertex
        raise KeyError(path)


def _is_service(node: TextNode) -> bool:
    return PROVIDERS in node.children


def _nodes(root: TextNode, base: str) -> Iterator[tuple[str, TextNode, bool]]:
    """``(path, node, top)`` for every node below ``root`` (which sits at ``base``), preorder.

    ``top`` is true for ``root``'s own children.
    """
    for name in sorted(root.children):
        top = _paths.join(base, name)
        for path, node in root.children[name].walk(top):
            yield path, node, path == top


def _resolver(index: dict[str, TextNode]) -> Callable[[str], str | None]:
    """The real path of a path in the tree, through the tree's own links; None if not there."""

    def resolve(path: str) -> str | None:
        try:
            return resolve_now(path, index.__contains__, lambda node: index[node].properties)
        except (NoNodeError, LinkLoop):
            return None

    return resolve


def build_graph(tree: TextNode, base: str = "/") -> Graph:
    """The architecture graph of ``tree`` (as :func:`~aiozkreg.parse_tree` returns it).

    ``tree`` itself is not drawn: its children are the nodes at ``base``
    (``/`` for a tree text, the parent of the exported path for an export).
    """
    index: dict[str, TextNode] = {}
    owner: dict[str, str] = {}  # every path -> the path of the vertex that draws it
    vertices: dict[str, Vertex] = {}
    drawn: list[tuple[str, TextNode, str | None]] = []  # (path, node, parent vertex)
    for path, node, top in _nodes(tree, base):
        index[path] = node
        parent_path, name = _paths.split(path)
        if not top and owner[parent_path] != parent_path:
            owner[path] = owner[parent_path]  # below a folded providers node
        elif not top and name == PROVIDERS:
            owner[path] = parent_path  # a service's providers node: folded into it
        else:
            owner[path] = path
            node_type = node.properties.get("type")
            kind = VertexKind.SERVICE if _is_service(node) else VertexKind.NODE
            vertices[path] = Vertex(
                path, kind, None if node_type is None else str(node_type), _registrations(node)
            )
            drawn.append((path, node, None if top else parent_path))

    resolve = _resolver(index)

    def target_vertex(target: str) -> tuple[str, bool]:
        """The vertex drawing a link target, and whether the target is a providers node."""
        real = resolve(target)
        if real is not None:
            return owner[real], _paths.split(real)[1] == PROVIDERS
        parent, name = _paths.split(target)
        providers = name == PROVIDERS and target != "/" + PROVIDERS
        if providers:
            target = parent
            real = resolve(target)
            if real is not None:
                return owner[real], True
        vertices.setdefault(target, Vertex(target, VertexKind.EXTERNAL))
        return target, providers

    edges: list[Edge] = []
    service: dict[str, str | None] = {}
    for path, node, up in drawn:
        current = path if _is_service(node) else service.get(up or "")
        service[path] = current
        if up is not None:
            edges.append(Edge(up, path, EdgeKind.CONTAINS))
        for key in sorted(node.properties):
            value = node.properties[key]
            if not isinstance(value, str) or not value.split():
                continue
            link, name = split_key(key)
            if link is KeyKind.LINK:
                target, providers = target_vertex(target_path(path, value))
                if current is not None and (providers or value.endswith("/" + PROVIDERS)):
                    held = current == path  # the service holds the link: one edge
                    edges.append(Edge(current, target, EdgeKind.DEPENDS, name if held else ""))
                    if held:
                        continue
                edges.append(Edge(path, target, EdgeKind.LINK, name))
            elif link is KeyKind.PROPERTY_LINK:
                link_path, *prop = value.split()
                target, _ = target_vertex(target_path(path, link_path))
                label = f"{name} => {prop[0] if prop else name}"
                edges.append(Edge(path, target, EdgeKind.PROPERTY_LINK, label))

    return Graph(tuple(vertices[p] for p in sorted(vertices)), tuple(_unique(edges)))


def _registrations(node: TextNode) -> int:
    providers = node.children.get(PROVIDERS)
    return len(providers.children) if providers is not None else 0


def _unique(edges: list[Edge]) -> Iterator[Edge]:
    """Each edge once; a DEPENDS edge without a label is dropped where a labelled one exists."""
    labelled = {(e.source, e.target) for e in edges if e.kind is EdgeKind.DEPENDS and e.label}
    seen: set[tuple[str, str, EdgeKind, str]] = set()
    for edge in edges:
        key = (edge.source, edge.target, edge.kind, edge.label)
        if key in seen:
            continue
        if edge.kind is EdgeKind.DEPENDS and not edge.label:
            if (edge.source, edge.target) in labelled:
                continue
            key = (edge.source, edge.target, edge.kind, "")
        seen.add(key)
        yield edge


def reference_edges(tree: TextNode, base: str = "/") -> list[tuple[str, str]]:
    """The edges zc.zk's ``graphvis.get_edges`` gave: ``(service, link_value[:-10])``.

    For every ``name ->`` link inside a service whose value ends in
    ``/providers``, in tree order. Kept to document (and test) that
    :func:`build_graph` draws a ``DEPENDS`` edge for each of them.
    """
    edges = []
    service: dict[str, str | None] = {}
    for path, node, _top in _nodes(tree, base):
        current = path if _is_service(node) else service.get(_paths.split(path)[0])
        service[path] = current
        if current is None:
            continue
        for key in sorted(node.properties):
            value = node.properties[key]
            if (
                split_key(key)[0] is KeyKind.LINK
                and isinstance(value, str)
                and value.endswith("/providers")
            ):
                edges.append((current, value[:-10]))
    return edges


# --- Graphviz DOT --------------------------------------------------------------------------

_DOT_VERTEX = {
    VertexKind.SERVICE: "peripheries=2",
    VertexKind.NODE: "style=rounded",
    VertexKind.EXTERNAL: "style=dashed",
}
_DOT_EDGE = {
    EdgeKind.CONTAINS: "arrowhead=none, color=gray",
    EdgeKind.LINK: "",
    EdgeKind.PROPERTY_LINK: "style=dashed",
    EdgeKind.DEPENDS: "style=bold",
}


def _dot_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def to_dot(graph: Graph) -> str:
    """The graph as a Graphviz ``digraph`` (render with ``dot -Tsvg``)."""
    lines = ["digraph g {", "  rankdir=LR;", "  node [shape=box];"]
    for v in graph.vertices:
        lines.append(
            f"  {_dot_string(v.path)} [label={_dot_string(v.label)}, {_DOT_VERTEX[v.kind]}];"
        )
    for e in graph.edges:
        attrs = [a for a in (_DOT_EDGE[e.kind],) if a]
        if e.label:
            attrs.insert(0, f"label={_dot_string(e.label)}")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {_dot_string(e.source)} -> {_dot_string(e.target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- Mermaid ----------------------------------------------------------------------------------

_MERMAID_ESCAPES = {
    "&": "#amp;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "|": "#124;",
    "#": "#35;",
}
_MERMAID_ARROW = {
    EdgeKind.CONTAINS: "---",
    EdgeKind.LINK: "-->",
    EdgeKind.PROPERTY_LINK: "-.->",
    EdgeKind.DEPENDS: "==>",
}


def _mermaid_text(text: str) -> str:
    escaped = "".join(_MERMAID_ESCAPES.get(c, c) for c in text)
    return escaped.replace("\n", "<br/>")


def to_mermaid(graph: Graph) -> str:
    """The graph as a Mermaid ``flowchart`` (for Markdown: a ```` ```mermaid ```` block)."""
    ids = {v.path: f"n{i}" for i, v in enumerate(graph.vertices)}
    lines = ["flowchart LR"]
    for v in graph.vertices:
        label = f'"{_mermaid_text(v.label)}"'
        if v.kind is VertexKind.SERVICE:
            lines.append(f"  {ids[v.path]}[[{label}]]")
        elif v.kind is VertexKind.EXTERNAL:
            lines.append(f"  {ids[v.path]}[{label}]:::external")
        else:
            lines.append(f"  {ids[v.path]}({label})")
    for e in graph.edges:
        label = f'|"{_mermaid_text(e.label)}"|' if e.label else ""
        lines.append(f"  {ids[e.source]} {_MERMAID_ARROW[e.kind]}{label} {ids[e.target]}")
    if any(v.kind is VertexKind.EXTERNAL for v in graph.vertices):
        lines.append("  classDef external stroke-dasharray: 5 5")
    return "\n".join(lines) + "\n"
