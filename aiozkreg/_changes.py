"""What an import or a delete reports: :class:`Change` records. Pure: no I/O.

``str(change)`` is exactly the line zc.zk printed (``add /fooservice/x``,
``extra path not trimmed: /lb/pools/retail``, ``would delete /a.``, ...).

A dry-run import reports how each existing node's data would change
(:func:`property_changes`): old keys in sorted order (``P remove link K V``,
``P remove property K = V``, ``P N link change from A to B``,
``P K change from A to B``), then new keys (``P add link K V``,
``P add property K = V``). Values print with ``str()``, as the reference's
``%s`` did (so a string prints without quotes). Property links (``K =>``)
print as ``P remove property link K V``, ``P N property link change from A
to B`` and ``P add property link K V`` (the reference lumped them in with
properties). Properties are compared as JSON (:func:`same_json`), so ``1``,
``1.0`` and ``True`` differ while key order does not matter.

An import, dry or real, also reports each property link of the text that
cannot be followed once the text is in place (``_link_check.py``):
``P property link K V cannot be followed: WHY`` (``note`` is WHY). zc.zk
printed nothing of the kind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ._links import KeyKind, split_key

__all__ = ["Change", "ChangeAction", "property_changes", "same_json"]


class ChangeAction(StrEnum):
    """What a :class:`Change` reports."""

    ADD_NODE = "add_node"
    EXTRA_PATH = "extra_path"
    REMOVE_LINK = "remove_link"
    REMOVE_PROPERTY_LINK = "remove_property_link"
    REMOVE_PROPERTY = "remove_property"
    CHANGE_LINK = "change_link"
    CHANGE_PROPERTY_LINK = "change_property_link"
    CHANGE_PROPERTY = "change_property"
    ADD_LINK = "add_link"
    ADD_PROPERTY_LINK = "add_property_link"
    ADD_PROPERTY = "add_property"
    WOULD_DELETE = "would_delete"
    WOULD_NOT_DELETE_EPHEMERAL = "would_not_delete_ephemeral"
    NOT_DELETING_EPHEMERAL = "not_deleting_ephemeral"
    EPHEMERAL_DESCENDANT = "ephemeral_descendant"
    BAD_PROPERTY_LINK = "bad_property_link"


_TEMPLATES = {
    ChangeAction.ADD_NODE: "add {path}",
    ChangeAction.EXTRA_PATH: "extra path not trimmed: {path}",
    ChangeAction.REMOVE_LINK: "{path} remove link {key} {old}",
    ChangeAction.REMOVE_PROPERTY_LINK: "{path} remove property link {key} {old}",
    ChangeAction.REMOVE_PROPERTY: "{path} remove property {key} = {old}",
    ChangeAction.CHANGE_LINK: "{path} {name} link change from {old} to {new}",
    ChangeAction.CHANGE_PROPERTY_LINK: "{path} {name} property link change from {old} to {new}",
    ChangeAction.CHANGE_PROPERTY: "{path} {key} change from {old} to {new}",
    ChangeAction.ADD_LINK: "{path} add link {key} {new}",
    ChangeAction.ADD_PROPERTY_LINK: "{path} add property link {key} {new}",
    ChangeAction.ADD_PROPERTY: "{path} add property {key} = {new}",
    ChangeAction.WOULD_DELETE: "would delete {path}.",
    ChangeAction.WOULD_NOT_DELETE_EPHEMERAL: "wouldn't delete {path} because it's ephemeral.",
    ChangeAction.NOT_DELETING_EPHEMERAL: "Not deleting {path} because it's ephemeral.",
    ChangeAction.EPHEMERAL_DESCENDANT: "{path} not deleted due to ephemeral descendent.",
    ChangeAction.BAD_PROPERTY_LINK: "{path} property link {key} {new} cannot be followed: {note}",
}


@dataclass(frozen=True)
class Change:
    """One reported change. ``str()`` gives the reference's message line.

    ``key`` is the property key as stored (``'main ->'`` for a link),
    ``old`` and ``new`` its values before and after; all three are None
    for node-level changes. Link-change lines name the link without its
    ``' ->'`` (or ``' =>'``), as the reference did. ``note`` says why, for
    a warning (a property link that cannot be followed).
    """

    action: ChangeAction
    path: str
    key: str | None = None
    old: Any = None
    new: Any = None
    note: str | None = None

    def __str__(self) -> str:
        key = self.key or ""
        return _TEMPLATES[self.action].format(
            path=self.path,
            key=key,
            name=split_key(key)[1],
            old=self.old,
            new=self.new,
            note=self.note,
        )


_REMOVE = {
    KeyKind.LINK: ChangeAction.REMOVE_LINK,
    KeyKind.PROPERTY_LINK: ChangeAction.REMOVE_PROPERTY_LINK,
    KeyKind.PROPERTY: ChangeAction.REMOVE_PROPERTY,
}
_CHANGE = {
    KeyKind.LINK: ChangeAction.CHANGE_LINK,
    KeyKind.PROPERTY_LINK: ChangeAction.CHANGE_PROPERTY_LINK,
    KeyKind.PROPERTY: ChangeAction.CHANGE_PROPERTY,
}
_ADD = {
    KeyKind.LINK: ChangeAction.ADD_LINK,
    KeyKind.PROPERTY_LINK: ChangeAction.ADD_PROPERTY_LINK,
    KeyKind.PROPERTY: ChangeAction.ADD_PROPERTY,
}


def property_changes(path: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """The dry-run report for replacing properties ``old`` with ``new`` at ``path``."""
    changes = []
    for key in sorted(old):
        kind = split_key(key)[0]
        if key not in new:
            changes.append(Change(_REMOVE[kind], path, key, old=old[key]))
        elif not same_json(old[key], new[key]):
            changes.append(Change(_CHANGE[kind], path, key, old=old[key], new=new[key]))
    for key in sorted(new.keys() - old.keys()):
        changes.append(Change(_ADD[split_key(key)[0]], path, key, new=new[key]))
    return changes


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON: ``1``, ``1.0`` and ``True`` differ; dict key order does not matter."""
    return _canonical(a) == _canonical(b)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)
