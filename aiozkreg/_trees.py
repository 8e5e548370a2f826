"""Trees against a live ZooKeeper: export, import, delete_recursive and walk.

The pure work (grammar, layout, planning) lives in ``_tree`` and ``_plan``;
this module only reads and writes, with many requests in flight: subtrees
are read level by level (every node of a level at once, bounded), and plans
are applied step by step (every operation of a step at once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from . import _ops, _paths
from ._encoding import decode_properties
from ._errors import NoNodeError, TransactionError, TreeImportError
from ._plan import (
    Change,
    CreateNode,
    DeleteNode,
    ExistingNode,
    Operation,
    Plan,
    SetAcl,
    SetData,
    children_to_load,
    plan_delete,
    plan_import,
    refuse_zookeeper,
)
from ._session import Session
from ._tree import TreeNode, format_tree, parse_tree
from ._types import ACL, OPEN_ACL_UNSAFE

log = logging.getLogger("aiozkreg")

_IN_FLIGHT = 512
T = TypeVar("T")


async def _bounded(items: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run every call, at most ``_IN_FLIGHT`` at a time; results in order.

    A fixed pool of workers takes the calls in turn (cheaper than a
    semaphore per call). If one fails, the others are cancelled and its
    error is raised.
    """
    results: list[Any] = [None] * len(items)
    pending = iter(enumerate(items))

    async def worker() -> None:
        for index, call in pending:
            results[index] = await call()

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(_IN_FLIGHT, len(items))):
                group.create_task(worker())
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return results


# -- reading -----------------------------------------------------------------------------


async def _read(
    session: Session, path: str, *, data: bool, acl: bool = False
) -> tuple[ExistingNode, list[str]] | None:
    """One node (and its child names), or None if it is gone."""
    try:
        if data:
            raw, stat = await _ops.get(session, path)
            # most nodes are leaves: list children only where the stat says there are some
            names = (await _ops.get_children(session, path))[0] if stat.num_children else []
            properties = decode_properties(raw, path)
        else:
            names, stat = await _ops.get_children(session, path)
            properties = {}
        acls = tuple((await _ops.get_acls(session, path))[0]) if acl else None
    except NoNodeError:
        return None
    node = ExistingNode(properties, {}, ephemeral=stat.ephemeral, acl=acls)
    return node, sorted(names)


_READ_BATCH = 32  # nodes per multi-read request

Listing = tuple[ExistingNode, list[str]]


async def _read_many(
    session: Session, paths: Sequence[str], *, data: bool, stat: bool = True
) -> list[Listing | None]:
    """Many nodes (and their child names) with multi-reads, ``_READ_BATCH`` a request.

    ``data`` reads the properties; ``stat`` (implied by ``data``) says whether
    the node is ephemeral. A node gone meanwhile reads as None.
    """
    with_data = data or stat

    async def batch(chunk: Sequence[str]) -> list[Listing | None]:
        requests: list[tuple[Any, str]] = []
        for path in chunk:
            requests.append((_ops.children_request(session, path), path))
            if with_data:
                requests.append((_ops.data_request(session, path), path))
        replies = await _ops.read_many(session, requests)
        step = 2 if with_data else 1
        found: list[Listing | None] = []
        for index, path in enumerate(chunk):
            names, *rest = replies[index * step : index * step + step]
            if isinstance(names, NoNodeError) or any(isinstance(r, NoNodeError) for r in rest):
                found.append(None)
                continue
            for reply in (names, *rest):
                if isinstance(reply, BaseException):
                    raise reply
            properties: dict[str, Any] = {}
            ephemeral = False
            if rest:
                properties = decode_properties(rest[0].data or b"", path) if data else {}
                ephemeral = rest[0].stat.ephemeral_owner != 0
            found.append(
                (ExistingNode(properties, {}, ephemeral=ephemeral), sorted(names.children))
            )
        return found

    chunks = [paths[i : i + _READ_BATCH] for i in range(0, len(paths), _READ_BATCH)]
    return [item for part in await _bounded([partial(batch, c) for c in chunks]) for item in part]


async def read_subtree(
    session: Session, path: str, *, data: bool = True, ephemeral: bool = True
) -> ExistingNode:
    """Everything at and below ``path``, read one level at a time.

    With ``ephemeral=False`` the subtrees of ephemeral nodes are not read
    (the ephemeral node itself is kept, marked).
    """
    first = await _read(session, path, data=data)
    if first is None:
        raise await _ops.no_node(session, path)
    root, names = first
    level = [(root, path, names)]
    while level:
        jobs = [
            (parent, name, _paths.join(where, name))
            for parent, where, names in level
            if ephemeral or not parent.ephemeral
            for name in names
        ]
        reads = await _read_many(session, [p for _, _, p in jobs], data=data)
        level = []
        for (parent, name, child_path), result in zip(jobs, reads, strict=True):
            if result is None:
                continue
            child, child_names = result
            parent.children[name] = child
            level.append((child, child_path, child_names))
    return root


async def _read_for_import(
    session: Session, desired: TreeNode, path: str, trim: bool | None, acl: bool
) -> ExistingNode:
    """What an import needs to know: the nodes the text names (and trimmed subtrees)."""
    first = await _read(session, path, data=True, acl=acl)
    if first is None:
        raise await _ops.no_node(session, path)
    root, names = first
    for name in names:
        root.children[name] = ExistingNode()
    level: list[tuple[ExistingNode, TreeNode | None, str, list[str], bool]] = [
        (root, desired, path, names, True)
    ]
    while level:
        jobs = [
            (parent, name, wanted, _paths.join(where, name))
            for parent, node, where, names, top in level
            for name, wanted in children_to_load(node, names, top=top, trim=trim)
        ]
        if acl:  # ACLs cannot be multi-read
            reads = await _bounded(
                [
                    partial(_read, session, p, data=w is not None, acl=w is not None)
                    for _, _, w, p in jobs
                ]
            )
        else:
            reads = await _read_many(session, [p for _, _, _, p in jobs], data=True)
        level = []
        for (parent, name, wanted, child_path), result in zip(jobs, reads, strict=True):
            if result is None:
                parent.children.pop(name, None)
                continue
            child, child_names = result
            child.children = {n: ExistingNode() for n in child_names}
            parent.children[name] = child
            level.append((child, wanted, child_path, child_names, False))
    return root


# -- export ----------------------------------------------------------------------------------


async def export_tree(
    session: Session, path: str = "/", *, ephemeral: bool = False, name: str | None = None
) -> str:
    path = _paths.validate(path.rstrip("/") or "/")
    existing = await read_subtree(session, path, ephemeral=ephemeral)
    tree = existing.to_tree(ephemeral=ephemeral)
    if path == "/" and name is None:
        if not session.chroot:
            tree.children.pop("zookeeper", None)
        return format_tree(tree, None)
    if path == "/":
        tree.properties.clear()  # as the reference: the root's own data is not exported
    return format_tree(tree, name if name is not None else _paths.split(path)[1])


# -- import ------------------------------------------------------------------------------------


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
    existing = await _read_for_import(session, desired, path, trim, acl=wanted_acl is not None)
    plan = plan_import(desired, path, existing, trim=trim, dry_run=dry_run, acl=wanted_acl)
    _report(plan)
    await _apply(session, plan, wanted_acl or OPEN_ACL_UNSAFE, f"Import into {path}")
    return list(plan.changes)


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
    _report(plan)
    await _apply(session, plan, OPEN_ACL_UNSAFE, f"Deleting {path}")
    return list(plan.changes)


def _report(plan: Plan) -> None:
    for change in plan.changes:
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
            txn = _ops.Transaction(session)
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
            o for batch in await _bounded([partial(run_batch, b) for b in batches]) for o in batch
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


async def _outcome(
    run: Callable[[Operation], Awaitable[None]], op: Operation
) -> BaseException | None:
    try:
        await run(op)
    except Exception as exc:
        return exc
    return None


# -- walk ----------------------------------------------------------------------------------------


async def walk(
    session: Session, path: str = "/", *, ephemeral: bool = True, children: bool = False
) -> AsyncIterator[Any]:
    """Preorder, sorted. A node's children are listed before it is yielded
    (``children=True`` yields that mutable list: removing names prunes), and
    read, all at once, when the walk resumes after it; a node gone by then
    is skipped. ``ephemeral=False`` leaves out ephemeral nodes at every depth.
    """
    path = _paths.validate(path)
    (first,) = await _read_many(session, [path], data=False, stat=not ephemeral)
    if first is None:
        return
    async for item in _visit(session, path, first, ephemeral, children):
        yield item


async def _visit(
    session: Session,
    path: str,
    listing: Listing,
    ephemeral: bool,
    children: bool,
) -> AsyncIterator[Any]:
    node, names = listing
    if not ephemeral and node.ephemeral:
        return
    yield (path, names) if children else path
    paths = [_paths.join(path, name) for name in names]
    listings = await _read_many(session, paths, data=False, stat=not ephemeral)
    for child, child_listing in zip(paths, listings, strict=True):
        if child_listing is not None:
            async for item in _visit(session, child, child_listing, ephemeral, children):
                yield item


__all__ = ["delete_recursive", "export_tree", "import_tree", "read_subtree", "walk"]
