"""Where the page draws each box and arrow of an architecture graph. Pure: no I/O.

A layered layout, left to right as ``aiozkreg graph`` draws (``rankdir=LR``):
a vertex's column is its depth below the base path; rows follow the
containment tree in path order, a parent centred on its children, so the
grey containment lines never cross. Targets outside the tree (dashed
boxes) get rows of their own below. Arrows are cubic Béziers: forward
ones from the right side of the source to the left side of the target,
backward ones the other way round, and arrows within one column loop out
to the right. Text is measured for a monospace font of :data:`CHAR`
pixels per character, which the page uses.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from .._graph import Edge, EdgeKind, Graph, Vertex, VertexKind

__all__ = ["CHAR", "LINE", "layout"]

CHAR = 7.3
"""Width of one character of the page's graph font (12 px monospace), in pixels."""
LINE = 15.0
"""Height of one line of a label."""
PAD_X, PAD_Y = 10.0, 7.0
COLUMN_GAP, ROW_GAP, MARGIN = 90.0, 14.0, 20.0
LOOP = 45.0
"""How far an arrow within one column loops out to the right."""
BEND = 26.0
"""How far apart the middles of arrows between the same two boxes are."""
SPREAD = 0.3
"""How much further an arrow within one column loops out, per pixel between its ends."""


@dataclass
class _Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w


def _depth(path: str, base: str) -> int:
    parts = [p for p in path.split("/") if p]
    return len(parts) - len([p for p in base.split("/") if p])


def _size(vertex: Vertex) -> tuple[float, float]:
    lines = vertex.label.split("\n")
    return max(len(line) for line in lines) * CHAR + 2 * PAD_X, len(lines) * LINE + 2 * PAD_Y


def _rows(graph: Graph) -> dict[str, float]:
    """The row of each vertex: leaves in path order, each parent centred on its children."""
    children: dict[str, list[str]] = defaultdict(list)
    has_parent = set()
    for edge in graph.edges:
        if edge.kind is EdgeKind.CONTAINS:
            children[edge.source].append(edge.target)
            has_parent.add(edge.target)
    external = {v.path for v in graph.vertices if v.kind is VertexKind.EXTERNAL}
    roots = [v.path for v in graph.vertices if v.path not in has_parent]
    roots.sort(key=external.__contains__)  # stable: by path, the outside targets last
    rows: dict[str, float] = {}
    next_row = 0
    for root in roots:
        stack: list[tuple[str, bool]] = [(root, False)]
        while stack:  # post-order, without recursion (trees may be deep)
            path, done = stack.pop()
            kids = sorted(children.get(path, ()))
            if not kids:
                rows[path] = next_row
                next_row += 1
            elif done:
                rows[path] = (rows[kids[0]] + rows[kids[-1]]) / 2
            else:
                stack.append((path, True))
                stack.extend((kid, False) for kid in reversed(kids))
    return rows


def _curve(source: _Box, target: _Box, bend: float = 0.0) -> list[float]:
    """The four points of a cubic Bézier from ``source`` to ``target``; ``bend`` moves its
    middle up or down (arrows between the same two boxes, apart)."""
    d = _line(source, target, abs(bend))
    d[3] += bend
    d[5] += bend
    return d


def _line(source: _Box, target: _Box, bend: float) -> list[float]:
    if source is target:
        x, y = source.right, source.cy
        return [x, y - 5, x + LOOP + bend, y - 30, x + LOOP + bend, y + 30, x, y + 5]
    if target.x > source.right:
        x0, x1 = source.right, target.x
        dx = max(30.0, (x1 - x0) / 2)
        return [x0, source.cy, x0 + dx, source.cy, x1 - dx, target.cy, x1, target.cy]
    if target.right < source.x:
        x0, x1 = source.x, target.right
        dx = max(30.0, (x0 - x1) / 2)
        return [x0, source.cy, x0 - dx, source.cy, x1 + dx, target.cy, x1, target.cy]
    x0, x1 = source.x, target.x  # one column: loop out to the left, into the margin
    left = min(x0, x1) - _extent(source, target, bend)
    return [x0, source.cy, left, source.cy, left, target.cy, x1, target.cy]


def _extent(source: _Box, target: _Box, bend: float) -> float:
    """How far an arrow within one column loops out: further for boxes further apart."""
    return LOOP + abs(target.cy - source.cy) * SPREAD + bend


def _same_column(source: _Box, target: _Box) -> bool:
    return source is not target and not (target.x > source.right or target.right < source.x)


def _midpoint(d: list[float]) -> tuple[float, float]:
    """The point halfway along a cubic Bézier (t = 0.5)."""
    return (d[0] + 3 * d[2] + 3 * d[4] + d[6]) / 8, (d[1] + 3 * d[3] + 3 * d[5] + d[7]) / 8


def _r(value: float) -> float:
    return round(value, 1)


def layout(graph: Graph, base: str) -> dict[str, Any]:
    """The graph, laid out: JSON-ready vertices (with boxes) and edges (with curves)."""
    sizes = {v.path: _size(v) for v in graph.vertices}
    depths = sorted({_depth(v.path, base) for v in graph.vertices})
    column = {depth: i for i, depth in enumerate(depths)}
    widths = [0.0] * len(depths)
    for v in graph.vertices:
        i = column[_depth(v.path, base)]
        widths[i] = max(widths[i], sizes[v.path][0])
    lefts, x = [], MARGIN
    for width in widths:
        lefts.append(x)
        x += width + COLUMN_GAP
    pitch = max((h for _, h in sizes.values()), default=0.0) + ROW_GAP
    rows = _rows(graph)
    boxes: dict[str, _Box] = {}
    for v in graph.vertices:
        w, h = sizes[v.path]
        cy = MARGIN + rows[v.path] * pitch + pitch / 2
        boxes[v.path] = _Box(lefts[column[_depth(v.path, base)]], cy - h / 2, w, h)
    bends = _bends(graph)
    shift = 0.0  # room on the left for the loops of arrows within one column, and their labels
    for e in graph.edges:
        source, target = boxes[e.source], boxes[e.target]
        if _same_column(source, target):
            reach = 0.75 * _extent(source, target, abs(bends[id(e)])) + len(e.label) * CHAR / 2
            shift = max(shift, reach + MARGIN - min(source.x, target.x))
    for box in boxes.values():
        box.x += shift
    vertices = [
        {
            "path": v.path,
            "kind": v.kind.value,
            "lines": v.label.split("\n"),
            "providers": v.providers,
            "box": [_r(b.x), _r(b.y), _r(b.w), _r(b.h)],
        }
        for v in graph.vertices
        for b in (boxes[v.path],)
    ]
    edges = [_edge(e, boxes, bends[id(e)]) for e in graph.edges]
    right = max((b.right for b in boxes.values()), default=0.0)
    bottom = max((b.y + b.h for b in boxes.values()), default=0.0)
    return {
        "width": _r(right + LOOP + 60 + MARGIN),
        "height": _r(bottom + MARGIN),
        "vertices": vertices,
        "edges": edges,
    }


def _bends(graph: Graph) -> dict[int, float]:
    """How far each edge bends (by ``id``): arrows between the same two boxes spread apart."""
    pairs: dict[frozenset[str], list[Edge]] = defaultdict(list)
    for e in graph.edges:
        pairs[frozenset((e.source, e.target))].append(e)
    bends = {}
    for group in pairs.values():
        for i, e in enumerate(group):
            bends[id(e)] = (i - (len(group) - 1) / 2) * BEND
    return bends


def _edge(edge: Edge, boxes: dict[str, _Box], bend: float) -> dict[str, Any]:
    d = _curve(boxes[edge.source], boxes[edge.target], bend)
    lx, ly = _midpoint(d)
    return {
        "source": edge.source,
        "target": edge.target,
        "kind": edge.kind.value,
        "label": edge.label,
        "d": [_r(n) for n in d],
        "at": [_r(lx), _r(ly)],
    }
