"""Several operations in one request: transactions (all or nothing) and multi-reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import _paths
from ._errors import NoNodeError, TransactionError, ZKRegError, error_for_code
from ._ops import create_request, data
from ._session import Session
from ._types import ACL, ZnodeStat
from ._wire import Check, Delete, GetChildren, GetData, Multi, MultiOp, MultiRead, ReadOp, SetData

Outcome = str | ZnodeStat | bool | ZKRegError | None
"""One operation's result in a transaction, or (after a failure) its error or None."""

_OK = 0
_ROLLED_BACK = -2  # runtime inconsistency: the operations after the one that failed


class Transaction:
    """Operations applied all together or not at all: chain them, then ``await txn.commit()``."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._ops: list[MultiOp] = []
        self._paths: list[str] = []
        self._committed = False

    def _add(self, op: MultiOp, path: str) -> Transaction:
        self._ops.append(op)
        self._paths.append(path)
        return self

    def create(
        self,
        path: str,
        value: bytes = b"",
        *,
        acl: Sequence[ACL] | None = None,
        ephemeral: bool = False,
        sequential: bool = False,
    ) -> Transaction:
        request = create_request(self._session, path, value, acl, ephemeral, sequential)
        return self._add(request, path)

    def delete(self, path: str, version: int = -1) -> Transaction:
        return self._add(Delete(self._server(path), version), path)

    def set_data(self, path: str, value: bytes, version: int = -1) -> Transaction:
        return self._add(SetData(self._server(path), data(self._session, value), version), path)

    def check(self, path: str, version: int) -> Transaction:
        return self._add(Check(self._server(path), version), path)

    def _server(self, path: str) -> str:
        return self._session.server_path(_paths.validate(path))

    async def commit(self) -> list[Outcome]:
        """Apply every operation; return each one's result.

        Results: the created path for a create, a :class:`ZnodeStat` for a
        set, ``True`` for a delete or check. On failure nothing is applied and
        :class:`TransactionError` carries, per operation, ``None`` (rolled
        back) or the error that stopped it.
        """
        if self._committed:
            raise RuntimeError("This transaction was already committed.")
        self._committed = True
        if not self._ops:
            return []
        replies = await self._session.call(Multi(self._ops))
        results: list[Outcome] = []
        failed = False
        for path, item in zip(self._paths, replies, strict=False):
            if isinstance(item, int):  # a failed multi answers with a code for every op
                if item in (_OK, _ROLLED_BACK):
                    results.append(None)
                else:
                    failed = True
                    results.append(error_for_code(item, path))
            elif isinstance(item, str):  # a create's path
                results.append(self._session.client_path(item))
            else:  # a set's stat, or None for a delete or check
                results.append(True if item is None else item)
        if failed:
            await self._blame_chroot(results)
            raise TransactionError(results)
        return results

    async def _blame_chroot(self, results: list[Outcome]) -> None:
        """Replace a NoNode result by the chroot's own error if the chroot is missing."""
        for index, result in enumerate(results):
            if isinstance(result, NoNodeError) and self._session.chroot:
                missing = await self._session.missing_chroot(result.path)
                if missing is not None:
                    missing.__cause__ = result
                    results[index] = missing
                return


async def read_many(
    session: Session, paths: Sequence[str], *, data: bool, children: bool = True
) -> list[tuple[tuple[bytes, ZnodeStat] | ZKRegError | None, list[str] | ZKRegError | None]]:
    """Many nodes in one multi-read: per path, (its data and stat, or the error; None if not
    asked) and (its child names, or the error; None if not asked)."""
    ops: list[ReadOp] = []
    for path in paths:
        server = session.server_path(_paths.validate(path))
        if children:
            ops.append(GetChildren(server))
        if data:
            ops.append(GetData(server))
    replies = await session.call(MultiRead(ops), retry=True)
    step = int(children) + int(data)
    out: list[Any] = []
    for index, path in enumerate(paths):
        part = [
            error_for_code(item, path) if isinstance(item, int) else item
            for item in replies[index * step : index * step + step]
        ]
        kids = part.pop(0) if children else None
        node = part.pop(0) if data else None
        out.append((node, kids))
    return out
