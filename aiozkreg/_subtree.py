"""The values of a live subtree: its nodes, its snapshots, its changes. Pure: no I/O.

A :class:`TreeSnapshot` is an immutable ``Mapping[path, TreeNode]`` over a
persistent map (:mod:`._pmap`): making the next one after a change copies
a few small tables and the changed nodes' parents, not the tree. Every
snapshot is consistent: each child a node lists is in it, and each node's
parent is (but the root's). :func:`apply` makes the next snapshot from a
batch of node reads, and says what changed.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from . import _paths
from ._encoding import decode_properties
from ._formats import WireFormat, decode_provider, wire_format
from ._pmap import PMap
from ._provider import Provider
from ._types import ZnodeStat

ChangeKind = Literal["added", "updated", "removed", "resync"]


@dataclass(frozen=True, slots=True)
class TreeNode:
    """One node of a live subtree, as last read (immutable).

    ``children`` are the sorted names of its children that are in the tree.
    """

    path: str
    data: bytes
    stat: ZnodeStat
    children: tuple[str, ...] = ()

    @property
    def properties(self) -> dict[str, Any]:
        """The data decoded as properties (links not followed); a fresh dict each time."""
        return decode_properties(self.data, self.path)

    @property
    def ephemeral(self) -> bool:
        return self.stat.ephemeral_owner != 0


@dataclass(frozen=True, slots=True)
class TreeChange:
    """One change, in the order the tree saw them.

    ``kind`` is ``"added"``, ``"updated"`` (data changed), ``"removed"``, or
    ``"resync"`` when a ``changes()`` consumer fell more than its buffer
    behind (then read the snapshot again; ``path`` is the root).
    """

    kind: ChangeKind
    path: str
    node: TreeNode | None = None
    old: TreeNode | None = None


class TreeSnapshot(Mapping[str, TreeNode]):
    """The whole subtree at one moment: path -> :class:`TreeNode`, iterated in preorder,
    children sorted."""

    __slots__ = ("_nodes", "root")

    def __init__(self, root: str, nodes: PMap[str, TreeNode] | None = None) -> None:
        self.root = root
        self._nodes: PMap[str, TreeNode] = nodes if nodes is not None else PMap()

    def __getitem__(self, path: str) -> TreeNode:
        return self._nodes[path]

    def __contains__(self, path: object) -> bool:
        return path in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[str]:
        if self.root not in self._nodes:
            return
        stack = [self.root]
        while stack:
            path = stack.pop()
            yield path
            node = self._nodes[path]
            stack.extend(_paths.join(path, name) for name in reversed(node.children))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TreeSnapshot) and other._nodes is self._nodes:
            return True
        return Mapping.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]

    def providers(
        self, path: str, *, format: str | WireFormat | None = None, available: bool = True
    ) -> tuple[Provider, ...]:
        """The providers registered under ``path`` (a service's providers node), as a
        provider set of it reads them: each child's layout detected (or ``format``),
        children that are no provider or malformed left out, in name order; only the
        available ones unless ``available=False``. Empty if ``path`` is not in the tree."""
        node = self._nodes.get(path)
        if node is None:
            return ()
        chosen = wire_format(format) if format is not None else None
        found: list[Provider] = []
        for name in node.children:
            child = self._nodes[_paths.join(path, name)]
            try:
                provider = decode_provider(name, child.data, chosen)
            except ValueError:
                continue  # malformed: a provider set skips it too (and says so)
            if provider is not None and (provider.available or not available):
                found.append(provider)
        return tuple(found)

    def __repr__(self) -> str:
        return f"<TreeSnapshot {self.root}: {len(self)} nodes>"

    @property
    def nodes(self) -> PMap[str, TreeNode]:
        return self._nodes


Read = tuple[bytes, ZnodeStat]


def apply(
    snapshot: TreeSnapshot, reads: Mapping[str, Read | None]
) -> tuple[TreeSnapshot, list[TreeChange]]:
    """The next snapshot after ``reads`` (path -> (data, stat), or None: it is gone),
    taken in their order, which must put a parent before its children (the
    order ZooKeeper's events come in does); the changes come in that order.

    A node goes with its whole subtree, so the result is consistent; a node
    whose parent is not in the tree is left out, for the caller to read the
    parent. A node read again with the same data and version is no change; a
    node created anew (another ``czxid``) is removed and added.
    """
    nodes = snapshot.nodes
    changes: list[TreeChange] = []
    root = snapshot.root
    for path, read in reads.items():
        old = nodes.get(path)
        if read is None:
            if old is not None:
                nodes = _remove(nodes, old, changes)
            continue
        data, stat = read
        if old is not None and old.stat.czxid != stat.czxid:  # deleted and created again
            nodes = _remove(nodes, old, changes)
            old = None
        if old is None:
            parent = _paths.split(path)[0]
            if path != root and parent not in nodes:
                continue  # its parent is not here (yet): the caller reads it
            node = TreeNode(path, data, stat)
            nodes = nodes.set(path, node)
            if path != root:
                nodes = _adopt(nodes, parent, _paths.split(path)[1])
            changes.append(TreeChange("added", path, node))
        elif old.stat.mzxid < stat.mzxid and (old.data != data or old.stat.version != stat.version):
            node = TreeNode(path, data, stat, old.children)
            nodes = nodes.set(path, node)
            changes.append(TreeChange("updated", path, node, old))
    return TreeSnapshot(root, nodes), changes


def _adopt(nodes: PMap[str, TreeNode], parent: str, name: str) -> PMap[str, TreeNode]:
    node = nodes[parent]
    children = list(node.children)
    at = bisect.bisect_left(children, name)
    if at < len(children) and children[at] == name:
        return nodes
    children.insert(at, name)
    return nodes.set(parent, TreeNode(node.path, node.data, node.stat, tuple(children)))


def _remove(
    nodes: PMap[str, TreeNode], node: TreeNode, changes: list[TreeChange]
) -> PMap[str, TreeNode]:
    """Without ``node`` and its subtree (deepest first, each reported)."""
    for name in node.children:
        child = nodes.get(_paths.join(node.path, name))
        if child is not None:
            nodes = _remove(nodes, child, changes)
    nodes = nodes.delete(node.path)
    changes.append(TreeChange("removed", node.path, None, node))
    parent_path, name = _paths.split(node.path)
    parent = nodes.get(parent_path)
    if parent is not None and node.path != parent_path:
        kept = tuple(child for child in parent.children if child != name)
        nodes = nodes.set(parent_path, TreeNode(parent.path, parent.data, parent.stat, kept))
    return nodes


def diff(old: TreeSnapshot, new: TreeSnapshot) -> list[TreeChange]:
    """What changed from ``old`` to ``new`` (after a full re-read): each node once."""
    changes: list[TreeChange] = []
    for path in old:
        if path not in new:
            changes.append(TreeChange("removed", path, None, old[path]))
    for path in new:
        node = new[path]
        before = old.get(path)
        if before is None:
            changes.append(TreeChange("added", path, node))
        elif before.stat.czxid != node.stat.czxid:
            changes += [TreeChange("removed", path, None, before), TreeChange("added", path, node)]
        elif before.data != node.data or before.stat.version != node.stat.version:
            changes.append(TreeChange("updated", path, node, before))
    return changes
