"""Planning imports and recursive deletes. Pure: no I/O.

The I/O layer reads what exists, hands it to a planner as an
:class:`ExistingNode` tree, and gets back a :class:`Plan`:

* ``plan.changes`` -- :class:`~aiozkreg.Change` records (``_changes.py``),
  in the reference's order. They are what the reference prints, nothing
  more: a real (non-dry-run) import reports only untrimmed extra paths and
  undeletable ephemerals, a real delete only undeletable ephemerals.
* ``plan.steps`` -- the operations to perform (:class:`CreateNode`,
  :class:`SetData`, :class:`SetAcl`, :class:`DeleteNode`), grouped in steps:
  the operations of one step are independent and may run concurrently; the
  steps must run in order. Creates come parents first, one depth per step
  (data updates ride along in the first step); deletes come children first,
  deepest paths first. A dry run plans no steps.

Reading the existing state (level by level, concurrently):

* :func:`plan_delete` needs the whole subtree: for each node, ``ephemeral``
  and every child. Properties are not used.
* :func:`plan_import` needs, for the import root and for every existing node
  the text names: ``properties``, ``ephemeral`` and every child name (a
  child may be a bare ``ExistingNode()`` stub when only its name matters).
  With ``trim=True`` it also needs the whole subtree of each extra child
  below the top level. :func:`children_to_load` says which children of a
  loaded node must be loaded in turn; the rest can stay stubs.

Import rules (the reference's, plus "set only what changed"):

* Children of the import root that the text does not name are never
  trimmed or reported.
* A node the text names that does not exist is created with its data
  (``add P`` in a dry run, whose subtree is then not walked).
* An existing node's data is replaced (a set, not a merge) -- but only when
  it differs: properties are compared as JSON, so ``1``, ``1.0`` and
  ``True`` differ while key order does not matter. A dry run reports each
  difference instead (``P remove link K V``, ``P K change from A to B``,
  ``P add property K = V``, ...: see ``_changes.py``).
* With an ``acl``, an existing node whose ``ExistingNode.acl`` is known and
  differs gets a :class:`SetAcl` (the I/O layer applies the import's ACL).
* Extra children below the top level: ``trim=None`` reports
  ``extra path not trimmed: P`` when the walk reaches their parent,
  ``trim=False`` says nothing, ``trim=True`` plans
  ``plan_delete(..., ignore_if_ephemeral=True)`` for each.

ZooKeeper's own node: an import never writes into ``/zookeeper``.
:func:`refuse_zookeeper` raises ``ValueError`` for text whose nodes would
land there (given the import root's path on the server, chroot included),
and the I/O layer calls it before reading anything. ``/zookeeper`` is only
ever a top-level child of the server's root, which is never trimmed, so a
trim cannot reach it either.

Recursive delete rules: children first, in sorted order. A node holding an
ephemeral node (at any depth) is never deleted (``P not deleted due to
ephemeral descendent.``); an ephemeral node is not deleted unless
``force`` (``Not deleting P because it's ephemeral.``, or in a dry run
``wouldn't delete P because it's ephemeral.``); ``ignore_if_ephemeral``
silences that message for the path passed in. Everything else is deleted
(``would delete P.`` in a dry run).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import _paths
from ._changes import Change, ChangeAction, property_changes, same_json
from ._encoding import encode_properties
from ._tree_node import TextNode

__all__ = [
    "Change",
    "ChangeAction",
    "CreateNode",
    "DeleteNode",
    "ExistingNode",
    "Operation",
    "Plan",
    "SetAcl",
    "SetData",
    "children_to_load",
    "plan_delete",
    "plan_import",
    "refuse_zookeeper",
]

ZOOKEEPER = "/zookeeper"


@dataclass(frozen=True)
class CreateNode:
    """Create the (persistent) node ``path`` holding ``data``."""

    path: str
    data: bytes


@dataclass(frozen=True)
class SetData:
    """Replace the data of the existing node ``path``."""

    path: str
    data: bytes


@dataclass(frozen=True)
class SetAcl:
    """Give the existing node ``path`` the import's ACL."""

    path: str


@dataclass(frozen=True)
class DeleteNode:
    """Delete the node ``path`` (its children are gone by then)."""

    path: str


Operation = CreateNode | SetData | SetAcl | DeleteNode


@dataclass(frozen=True)
class Plan:
    """What a planner decided: the changes to report and the steps to run."""

    changes: tuple[Change, ...] = ()
    steps: tuple[tuple[Operation, ...], ...] = ()

    @property
    def operations(self) -> tuple[Operation, ...]:
        """Every operation, in a safe one-at-a-time order."""
        return tuple(op for step in self.steps for op in step)


@dataclass
class ExistingNode:
    """What the I/O layer read of an existing node.

    ``acl`` is whatever ACL value the I/O layer uses (compared with ``==``),
    or None if it was not read.
    """

    properties: dict[str, Any] = field(default_factory=dict)
    children: dict[str, ExistingNode] = field(default_factory=dict)
    ephemeral: bool = False
    acl: object = None

    def holds_ephemeral(self) -> bool:
        """True if this node or any node below it is ephemeral."""
        return self.ephemeral or any(c.holds_ephemeral() for c in self.children.values())

    def to_tree(self, *, ephemeral: bool = False) -> TextNode:
        """This subtree as a :class:`TextNode`, without ephemeral nodes unless ``ephemeral``."""
        return TextNode(
            dict(self.properties),
            {
                name: child.to_tree(ephemeral=ephemeral)
                for name, child in self.children.items()
                if ephemeral or not child.ephemeral
            },
        )


def children_to_load(
    desired: TextNode | None, names: Iterable[str], *, top: bool, trim: bool | None
) -> list[tuple[str, TextNode | None]]:
    """Which children (from ``names``) of a loaded node an import needs loaded in turn.

    ``desired`` is the text's node at that path, or None inside an extra
    subtree being trimmed; ``top`` is true for the import root. Returns
    ``(name, desired child or None)`` pairs, sorted; other children can stay
    ``ExistingNode()`` stubs.
    """
    names = sorted(names)
    if desired is None:
        return [(name, None) for name in names]
    wanted: list[tuple[str, TextNode | None]] = [
        (name, desired.children[name]) for name in names if name in desired.children
    ]
    if trim and not top:
        wanted += [(name, None) for name in names if name not in desired.children]
    return wanted


def plan_import(
    desired: TextNode,
    path: str,
    existing: ExistingNode,
    *,
    trim: bool | None = None,
    dry_run: bool = False,
    acl: object = None,
) -> Plan:
    """Plan importing the text tree ``desired`` at ``path``, whose current state is ``existing``.

    ``desired`` is what :func:`parse_tree` returns: its children go under
    ``path``; its own properties are ignored (the import root's data is
    never changed).
    """
    plan = _Planner(dry_run)
    plan.import_children(path, desired, existing, trim=trim, acl=acl, top=True)
    return plan.build()


def refuse_zookeeper(desired: TextNode, path: str, server_path: str) -> None:
    """Raise ``ValueError`` if importing ``desired`` at ``path`` would write into /zookeeper.

    ``server_path`` is ``path`` as the server sees it (the chroot in front).
    """
    where = path if path == server_path else f"{path} ({server_path} on the server)"
    if server_path == ZOOKEEPER or server_path.startswith(ZOOKEEPER + "/"):
        raise ValueError(
            f"Cannot import into {where}: /zookeeper is ZooKeeper's own node, and an "
            "import never writes there."
        )
    if server_path == "/" and "zookeeper" in desired.children:
        raise ValueError(
            f"Cannot import the tree text's /zookeeper at {where}: /zookeeper is "
            "ZooKeeper's own node, and an import never writes there (export leaves it "
            "out; remove it from the text)."
        )


def plan_delete(
    existing: ExistingNode,
    path: str,
    *,
    dry_run: bool = False,
    force: bool = False,
    ignore_if_ephemeral: bool = False,
) -> Plan:
    """Plan deleting ``path`` and everything below it; ``existing`` is its current state."""
    plan = _Planner(dry_run)
    plan.delete(existing, path, force=force, quiet=ignore_if_ephemeral)
    return plan.build()


class _Planner:
    """Collects changes and operations during one walk."""

    def __init__(self, dry_run: bool) -> None:
        self.dry_run = dry_run
        self.changes: list[Change] = []
        self.updates: list[Operation] = []
        self.creates: defaultdict[int, list[Operation]] = defaultdict(list)
        self.deletes: defaultdict[int, list[Operation]] = defaultdict(list)

    def build(self) -> Plan:
        if self.dry_run:
            return Plan(tuple(self.changes))
        steps = [self.creates[depth] for depth in sorted(self.creates)]
        if self.updates:
            steps[:1] = [self.updates + (steps[0] if steps else [])]
        steps += [self.deletes[depth] for depth in sorted(self.deletes, reverse=True)]
        return Plan(tuple(self.changes), tuple(map(tuple, steps)))

    def import_children(
        self,
        path: str,
        want: TextNode,
        have: ExistingNode,
        *,
        trim: bool | None,
        acl: object,
        top: bool = False,
    ) -> None:
        if not top:
            for name in sorted(set(have.children) - set(want.children)):
                extra = _paths.join(path, name)
                if trim:
                    self.delete(have.children[name], extra, force=False, quiet=True)
                elif trim is None:
                    self.changes.append(Change(ChangeAction.EXTRA_PATH, extra))
        for name in sorted(want.children):
            child, child_path = want.children[name], _paths.join(path, name)
            if name not in have.children:
                if self.dry_run:
                    self.changes.append(Change(ChangeAction.ADD_NODE, child_path))
                else:
                    self.create(child_path, child)
                continue
            current = have.children[name]
            if self.dry_run:
                self.changes += property_changes(child_path, current.properties, child.properties)
            else:
                if not same_json(current.properties, child.properties):
                    self.updates.append(SetData(child_path, encode_properties(child.properties)))
                if acl is not None and current.acl is not None and current.acl != acl:
                    self.updates.append(SetAcl(child_path))
            self.import_children(child_path, child, current, trim=trim, acl=acl)

    def create(self, path: str, node: TextNode) -> None:
        self.creates[_depth(path)].append(CreateNode(path, encode_properties(node.properties)))
        for name in sorted(node.children):
            self.create(_paths.join(path, name), node.children[name])

    def delete(self, node: ExistingNode, path: str, *, force: bool, quiet: bool = False) -> bool:
        """Plan deleting ``path``'s subtree; True if ``path`` itself must stay."""
        blocked = False
        for name in sorted(node.children):
            blocked = (
                self.delete(node.children[name], _paths.join(path, name), force=force) or blocked
            )
        if blocked:
            self.changes.append(Change(ChangeAction.EPHEMERAL_DESCENDANT, path))
            return True
        ephemeral = node.ephemeral and not force
        if ephemeral and quiet:
            return True
        if self.dry_run:
            action = (
                ChangeAction.WOULD_NOT_DELETE_EPHEMERAL if ephemeral else ChangeAction.WOULD_DELETE
            )
            self.changes.append(Change(action, path))
        elif ephemeral:
            self.changes.append(Change(ChangeAction.NOT_DELETING_EPHEMERAL, path))
        else:
            self.deletes[_depth(path)].append(DeleteNode(path))
        return ephemeral


def _depth(path: str) -> int:
    return path.count("/")
