"""Writing trees to a live ZooKeeper: import and recursive delete.

The plan (what to create, set, delete, in which steps) is pure
(:mod:`._plan`); this module reads what it needs (:mod:`._trees`) and
applies the plan step by step: within a step, operations go in batches of
multi transactions, many batches in flight. A batch that fails is redone
one operation at a time, to apply what can be and name what cannot
(:class:`TreeImportError`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any

from . import _ops, _paths
from ._encoding import decode_properties
from ._errors import NoNodeError, TransactionError, TreeImportError, ZKRegError
from ._link_check import Unknown, unfollowable
from ._plan import (
    Change,
    CreateNode,
    DeleteNode,
    Operation,
    Plan,
    SetAcl,
    SetData,
    plan_delete,
    plan_import,
    refuse_zookeeper,
)
from ._session import Session
from ._tree import TextNode, parse_tree
from ._trees import bounded, read_for_import, read_subtree
from ._txn import Transaction
from ._types import ACL, OPEN_ACL_UNSAFE

log = logging.getLogger("aiozkreg")


async def import_tree(
    session: Session,
    text: str,
    path: str = "/",
    *,
    trim: bool | None = None,
    acl: Sequence[ACL] | None = None,
    dry_run: bool = False,
) -> list[Change]:
    desired = parse_tree(text)  # TreeSyntaxError before anything is read or written
    path = _paths.validate(path.rstrip("/") or "/")
    refuse_zookeeper(desired, path, session.server_path(path))  # likewise
    wanted_acl = tuple(acl) if acl is not None else None
    existing = await read_for_import(session, desired, path, trim, acl=wanted_acl is not None)
    plan = plan_import(desired, path, existing, trim=trim, dry_run=dry_run, acl=wanted_acl)
    _report(plan.changes)
    await _apply(session, plan, wanted_acl or OPEN_ACL_UNSAFE, f"Import into {path}")
    warnings = await _check_links(session, desired, path)
    _report(warnings)
    return [*plan.changes, *warnings]


async def _check_links(session: Session, desired: TextNode, path: str) -> list[Change]:
    """The property links of the imported text that cannot be followed now (or, after a
    dry run, once it is imported). A node this session may not read, or a lost link,
    leaves the links that depend on it unchecked."""

    async def exists(node: str) -> bool:
        try:
            return await _ops.exists(session, node) is not None
        except ZKRegError as exc:
            raise Unknown(node) from exc

    async def read(node: str) -> Mapping[str, Any]:
        try:
            raw, _ = await _ops.get(session, node)
        except NoNodeError:
            raise
        except ZKRegError as exc:
            raise Unknown(node) from exc
        return decode_properties(raw, node)

    return await unfollowable(desired, path, exists, read)


async def delete_recursive(
    session: Session,
    path: str,
    *,
    dry_run: bool = False,
    force: bool = False,
    ignore_if_ephemeral: bool = False,
) -> list[Change]:
    path = _paths.validate(path)
    existing = await read_subtree(session, path, data=False)
    plan = plan_delete(
        existing, path, dry_run=dry_run, force=force, ignore_if_ephemeral=ignore_if_ephemeral
    )
    _report(plan.changes)
    await _apply(session, plan, OPEN_ACL_UNSAFE, f"Deleting {path}")
    return list(plan.changes)


def _report(changes: Sequence[Change]) -> None:
    for change in changes:
        log.info("%s", change)


def _describe(op: Operation) -> str:
    verb = {
        CreateNode: "create",
        SetData: "set data of",
        SetAcl: "set ACL of",
        DeleteNode: "delete",
    }
    return f"{verb[type(op)]} {op.path}"


_BATCH_OPS = 64
_BATCH_BYTES = 256 * 1024


async def _apply(session: Session, plan: Plan, acl: Sequence[ACL], what: str) -> None:
    """Run the plan's steps in order; within a step, operations go in batches of
    multi-operation transactions, many batches in flight. A batch that fails is
    retried one operation at a time, to apply what can be and name what cannot.
    """
    applied: list[str] = []
    total = len(plan.operations)

    async def run(op: Operation) -> None:
        if isinstance(op, CreateNode):
            await _ops.create(session, op.path, op.data, acl=acl)
        elif isinstance(op, SetData):
            await _ops.set_data(session, op.path, op.data)
        elif isinstance(op, SetAcl):
            await _ops.set_acls(session, op.path, acl)
        else:
            await _ops.delete(session, op.path)
        applied.append(_describe(op))

    async def run_batch(batch: list[Operation]) -> list[BaseException | None]:
        if len(batch) > 1:
            txn = Transaction(session)
            for op in batch:
                if isinstance(op, CreateNode):
                    txn.create(op.path, op.data, acl=acl)
                elif isinstance(op, SetData):
                    txn.set_data(op.path, op.data)
                else:
                    txn.delete(op.path)
            try:
                await txn.commit()
            except TransactionError:
                pass  # one of them cannot be done: find which, one at a time
            else:
                applied.extend(_describe(op) for op in batch)
                return [None] * len(batch)
        return [await _outcome(run, op) for op in batch]

    for step in plan.steps:
        batches = _batches(step)
        outcomes = [
            o for batch in await bounded([partial(run_batch, b) for b in batches]) for o in batch
        ]
        ops = [op for batch in batches for op in batch]
        failures = [
            (op, exc)
            for op, exc in zip(ops, outcomes, strict=True)
            if isinstance(exc, BaseException)
        ]
        if failures:
            op, exc = failures[0]
            raise TreeImportError(what, applied, total, _describe(op), exc) from exc


def _batches(step: Sequence[Operation]) -> list[list[Operation]]:
    """Group a step's operations for multi transactions (an ACL change goes alone)."""
    batches: list[list[Operation]] = []
    batch: list[Operation] = []
    size = 0
    for op in step:
        if isinstance(op, SetAcl):
            batches.append([op])
            continue
        weight = len(op.path) + len(getattr(op, "data", b"")) + 64
        if batch and (len(batch) >= _BATCH_OPS or size + weight > _BATCH_BYTES):
            batches.append(batch)
            batch, size = [], 0
        batch.append(op)
        size += weight
    if batch:
        batches.append(batch)
    return batches


async def _outcome(run: Callable[[Operation], Awaitable[None]], op: Operation) -> ZKRegError | None:
    """The error that stopped ``op`` (the server's refusal, a lost link), or None.
    Anything else is a bug and propagates."""
    try:
        await run(op)
    except ZKRegError as exc:
        return exc
    return None


__all__ = ["delete_recursive", "import_tree"]
