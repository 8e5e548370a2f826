"""What aiozkreg serve tells a page, worked out from snapshots without a server; the layout."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import pytest
from readme_trees import TREE_TEXT

from aiozkreg import Registry, TreeSnapshot, parse_tree
from aiozkreg._graph import build_graph
from aiozkreg._subtree import apply
from aiozkreg._types import ZnodeStat
from aiozkreg.web._feed import BACKLOG, Feed, Subscription, message
from aiozkreg.web._layout import CHAR, layout
from aiozkreg.web._model import Frame, Model

_zxid = 0


def _stat(data: bytes, ephemeral: bool, version: int = 0) -> ZnodeStat:
    global _zxid
    _zxid += 1
    return ZnodeStat(_zxid, _zxid, 1_700_000_000_000, 1_700_000_000_000, version, 0, 0,
                     0x1234 if ephemeral else 0, len(data), 0, _zxid)  # fmt: skip


def snapshot(nodes: dict[str, Any], root: str = "/", before: TreeSnapshot | None = None):
    """A snapshot of ``nodes`` (path -> properties dict, or bytes; '!' ending a path: ephemeral)."""
    reads = {}
    for path, value in nodes.items():
        ephemeral = path.endswith("!")
        path = path.rstrip("!")
        data = value if isinstance(value, bytes) else json.dumps(value).encode() if value else b""
        old = before.get(path) if before is not None else None
        if old is not None:
            stat = old.stat if old.data == data else _stat(data, ephemeral, old.stat.version + 1)
            stat = ZnodeStat(old.stat.czxid, *(list(vars_of(stat))[1:]))
        else:
            stat = _stat(data, ephemeral)
        reads[path] = (data, stat)
    return apply(before if before is not None else TreeSnapshot(root), reads)[0]


def vars_of(stat: ZnodeStat) -> tuple[int, ...]:
    return dataclasses.astuple(stat)


def from_text(text: str) -> dict[str, Any]:
    """path -> properties for every node of a tree text, parents first."""
    return {path: node.properties for path, node in parse_tree(text).walk("/")}


def row(model: Model, path: str, key: str) -> dict[str, Any]:
    return next(r for r in model.info(path)["properties"] if r["key"] == key)


def paths(frame: Frame) -> list[str]:
    return sorted(json.loads(info)["path"] for info in frame.upserts)


def test_links_are_shown_raw_and_followed() -> None:
    """Symlinks resolve to real paths, property links to values; the rest say why they cannot."""
    nodes = from_text(TREE_TEXT)
    nodes["/lb/pools/cms"] = {**nodes["/lb/pools/cms"], "threads =>": "/cms threads",
                              "gone ->": "/nowhere", "lost =>": "/cms nothing"}  # fmt: skip
    model = Model()
    model.advance(snapshot(nodes))
    link = row(model, "/lb/pools/cms", "providers ->")
    assert (link["text"], link["resolved"], link["problem"]) == (
        "'/cms/providers'",
        "/cms/providers",
        None,
    )
    assert row(model, "/lb/pools/cms", "threads =>")["resolved"] == "3"
    assert "does not resolve" in row(model, "/lb/pools/cms", "gone ->")["problem"]
    lost = row(model, "/lb/pools/cms", "lost =>")
    assert lost["resolved"] is None and "nothing" in lost["problem"]
    assert row(model, "/retail/databases", "main ->")["resolved"] == "/cms/databases/main"


def test_links_out_of_the_served_tree_are_not_followed() -> None:
    """Serving a subtree, a link leading outside it is reported, not read."""
    model = Model()
    model.advance(snapshot({"/app": {"db ->": "/db/providers", "n =>": "/db n"}}, root="/app"))
    assert "outside the served tree (/db/providers)" in row(model, "/app", "db ->")["problem"]
    assert "outside the served tree" in row(model, "/app", "n =>")["problem"]


def test_only_what_changed_is_sent_again() -> None:
    """A second snapshot sends the changed nodes, the link holders whose values moved, the graph."""
    first = snapshot({"/": {}, "/a": {"n =>": "/b n"}, "/b": {"n": 1}, "/c": {"x": 1}})
    model = Model()
    assert len(model.advance(first).upserts) == 4
    second = snapshot({"/b": {"n": 2}}, before=first)
    frame = model.advance(second)
    assert paths(frame) == ["/a", "/b"]
    assert frame.removed == [] and frame.graph is None
    third = snapshot({"/c/providers": {}, "/c/providers/h:1!": {"pid": 1}}, before=second)
    frame = model.advance(third)
    assert {"/c/providers", "/c/providers/h:1", "/c"} <= set(paths(frame))
    assert frame.graph is not None
    vertex = next(v for v in json.loads(frame.graph)["vertices"] if v["path"] == "/c")
    assert (vertex["kind"], vertex["lines"]) == ("service", ["/c", "1 provider"])
    gone = apply(third, {"/c": None})[0]
    frame = model.advance(gone)
    assert sorted(frame.removed) == ["/c", "/c/providers", "/c/providers/h:1"]


def test_registrations_are_decoded_as_providers() -> None:
    """A node under providers shows its address and fields; a malformed one says so."""
    model = Model()
    nodes = {"/": {}, "/s": {}, "/s/providers": {}, "/s/providers/10.0.0.1:80!": {"pid": 7}}
    model.advance(snapshot({**nodes, "/s/providers/nonsense!": b"\x00\x01"}))
    info = model.info("/s/providers/10.0.0.1:80")
    fields = dict(info["provider"]["fields"])
    assert fields["address"] == "10.0.0.1:80" and fields["pid"] == "7"
    assert info["ephemeral"] and info["stat"]["owner"] == "0x1234"
    assert "problem" in model.info("/s/providers/nonsense")["provider"]
    assert model.info("/s/providers/nonsense")["data"] == "\x00\x01"


def test_zookeepers_own_node_is_left_out() -> None:
    """With hide='/zookeeper', ZooKeeper's node and its children are neither listed nor drawn."""
    model = Model(hide="/zookeeper")
    model.advance(snapshot({"/": {}, "/zookeeper": {}, "/zookeeper/quota": {}, "/a": {}}))
    assert sorted(model.infos) == ["/", "/a"]
    assert [v["path"] for v in model.graph["vertices"]] == ["/a"]


def test_the_graph_is_what_aiozkreg_graph_draws() -> None:
    """The page's vertices and edges are build_graph's, for a whole tree and for a subtree."""
    nodes = from_text(TREE_TEXT)
    model = Model()
    model.advance(snapshot(nodes))
    expected = build_graph(parse_tree(TREE_TEXT))
    assert [v["path"] for v in model.graph["vertices"]] == [v.path for v in expected.vertices]
    assert [(e["source"], e["target"], e["kind"]) for e in model.graph["edges"]] == [
        (e.source, e.target, e.kind.value) for e in expected.edges
    ]
    sub = Model()
    sub.advance(snapshot({p: v for p, v in nodes.items() if p.startswith("/cms")}, root="/cms"))
    assert [v["path"] for v in sub.graph["vertices"]] == [
        "/cms", "/cms/databases", "/cms/databases/main"]  # fmt: skip


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_layout_is_layered_by_depth_without_overlaps() -> None:
    """Columns by depth, children right of their parent, no two boxes overlap, all inside."""
    graph = layout(build_graph(parse_tree(TREE_TEXT + "/x\n  l -> /elsewhere\n")), "/")
    boxes = {v["path"]: v["box"] for v in graph["vertices"]}
    for a in boxes:
        for b in boxes:
            assert a == b or not _overlap(boxes[a], boxes[b]), (a, b)
    assert boxes["/lb"][0] < boxes["/lb/pools"][0] < boxes["/lb/pools/cms"][0]
    assert boxes["/lb/pools/cms"][0] == boxes["/cms/databases/main"][0]  # same depth
    assert max(b[0] + b[2] for b in boxes.values()) < graph["width"]
    assert max(b[1] + b[3] for b in boxes.values()) < graph["height"]
    external = next(v for v in graph["vertices"] if v["kind"] == "external")
    assert external["box"][1] == max(b[1] for b in boxes.values())  # outside targets last


def test_edges_run_from_their_source_box_to_their_target_box() -> None:
    """Every curve starts on its source's side and ends on its target's (a self link loops)."""
    graph = layout(build_graph(parse_tree(TREE_TEXT + "/y\n  me -> /y\n")), "/")
    boxes = {v["path"]: v["box"] for v in graph["vertices"]}
    for edge in graph["edges"]:
        (sx, sy, sw, sh), (tx, ty, tw, th) = boxes[edge["source"]], boxes[edge["target"]]
        d = edge["d"]
        assert d[0] in (sx, round(sx + sw, 1)) and sy <= d[1] <= sy + sh, edge
        assert d[6] in (tx, round(tx + tw, 1)) and ty <= d[7] <= ty + th, edge


async def test_a_page_far_behind_gets_one_reset(memory_hosts: str) -> None:
    """A page more than BACKLOG messages behind is sent one reset in their place; close ends it."""
    async with Registry(memory_hosts) as zk:
        feed = Feed(zk, "/")  # not run: the fan-out alone
        subscription: Subscription = feed.subscribe()
        read = aiter(subscription)
        first = await anext(read)
        assert b"event: reset" in first
        subscription.push(b"one")
        assert await anext(read) == b"one"
        for n in range(BACKLOG + 1):
            subscription.push(message("delta", n))
        assert await anext(read) == first  # nothing changed in the feed: the same reset
        feed.close()
        with pytest.raises(StopAsyncIteration):
            async with asyncio.timeout(1):
                await anext(read)
        assert feed.pages == 0


def test_arrows_within_a_column_loop_out_left_inside_the_picture() -> None:
    """Arrows within one column loop out left with room for their labels, and bend apart."""
    text = "/app\n  db -> /db/providers\n  x => /db x\n  /providers\n/db\n  x = 1\n  /providers\n"
    graph = layout(build_graph(parse_tree(text)), "/")
    boxes = {v["path"]: v["box"] for v in graph["vertices"]}
    uses, plink = graph["edges"]
    assert (uses["kind"], plink["kind"]) == ("depends", "property_link")
    for edge in (uses, plink):
        d = edge["d"]
        assert d[2] < min(boxes["/app"][0], boxes["/db"][0])  # out to the left
        assert edge["at"][0] - len(edge["label"]) * CHAR / 2 >= 0  # the label fits
    assert abs(uses["at"][1] - plink["at"][1]) >= 12  # labels apart
