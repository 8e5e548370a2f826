"""What the command-line modules share: their errors, connecting, and node text."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from ._registry import Registry
from ._tree import TreeNode, format_tree, name_text, not_json


class UsageError(Exception):
    """Bad input: reported in one line, exit status 2, nothing written.

    ``prog`` names the (sub)command whose arguments were wrong, if not the one running.
    """

    def __init__(self, message: str, prog: str | None = None) -> None:
        super().__init__(message)
        self.prog = prog


class CommandError(Exception):
    """The work failed: reported in one line, exit status 1."""


@contextlib.asynccontextmanager
async def connected(args: argparse.Namespace) -> AsyncIterator[Registry]:
    try:
        zk = Registry(args.hosts, connect_timeout=args.timeout)
    except ValueError as exc:
        raise UsageError(f"bad HOSTS {args.hosts!r}: {exc}") from exc
    await zk.start(timeout=args.timeout)
    try:
        yield zk
    finally:
        await zk.close()


def node_text(path: str, properties: dict[str, Any], children: Sequence[str] = ()) -> list[str]:
    """A node (and its child names) in tree-text layout, headed by its full path.

    A value tree text cannot hold (``NaN`` written by another tool, say) is
    shown in a comment line instead of failing the display.
    """
    shown = {key: value for key, value in properties.items() if not_json(value) is None}
    node = TreeNode(shown, {name: TreeNode() for name in children})
    header, *lines = format_tree(node, "n").splitlines()
    comments = [
        f"  # {name_text(key)} = {value!r} (not JSON: tree text cannot hold it)"
        for key, value in properties.items()
        if key not in shown
    ]
    return [path + header[len("/n") :], *comments, *lines]
