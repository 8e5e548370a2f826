"""``aiozkreg watch``: a live terminal view of a node's children and properties, or
(``--tree``) of its whole subtree, on one ``zk.tree()``.

:func:`render` and :class:`Screen` draw any list of lines into the
terminal (its width and height, the header always on top, redrawn on
``SIGWINCH``), for other live views to reuse.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TextIO

from ._cli_common import (
    Command,
    add_common,
    add_hosts,
    connected,
    node_text,
    until_signalled,
    zk_path,
)
from ._errors import NoNodeError
from ._registry import Registry
from ._states import SessionState
from ._subtree import TreeNode
from ._tree_format import format_tree
from ._tree_node import TextNode, not_json

_LIVE = (SessionState.CONNECTED, SessionState.CONNECTED_READ_ONLY)


def watch_lines(
    path: str,
    real_path: str,
    children: Sequence[str] | None,
    properties: dict[str, Any],
    state: SessionState = SessionState.CONNECTED,
) -> list[str]:
    """What ``aiozkreg watch`` shows: the node in tree-text layout (``children=None``: gone)."""
    lines = []
    if state not in _LIVE:
        lines.append(f"# session {state.value}: this is the last state seen")
    if children is None:
        lines.append(f"# {path} does not exist; waiting for it to be created")
        return lines
    if real_path != path:
        lines.append(f"# {path} is a link to {real_path}")
    return lines + node_text(path, properties, children)


def tree_lines(
    path: str,
    real_path: str,
    nodes: Mapping[str, TreeNode],
    state: SessionState = SessionState.CONNECTED,
    unreadable: Collection[str] = (),
) -> list[str]:
    """What ``aiozkreg watch --tree`` shows: the subtree at ``real_path`` in tree-text layout
    (properties as stored: links not followed), headed by its size and what this session
    may not read."""
    lines = []
    if state not in _LIVE:
        lines.append(f"# session {state.value}: this is the last state seen")
    if real_path != path:
        lines.append(f"# {path} is a link to {real_path}")
    if real_path not in nodes:
        return [*lines, f"# {path} does not exist; waiting for it to be created"]
    ephemeral = sum(1 for node in nodes.values() if node.ephemeral)
    lines.append(f"# {len(nodes)} nodes, {ephemeral} ephemeral")
    if unreadable:
        lines.append(f"# left out, this session may not read: {', '.join(sorted(unreadable))}")
    header, *body = format_tree(_text_node(nodes, real_path), "n").splitlines()
    return [*lines, real_path + header[len("/n") :], *body]


def _text_node(nodes: Mapping[str, TreeNode], path: str) -> TextNode:
    node = nodes[path]
    shown = {k: v for k, v in node.properties.items() if not_json(v) is None}
    prefix = path.rstrip("/")
    return TextNode(shown, {name: _text_node(nodes, f"{prefix}/{name}") for name in node.children})


MORE = "... and {} more lines"
"""The last line of a screen too short for its lines."""
CUT = "…"
"""The end of a line cut to the terminal's width (``$`` where the terminal cannot show it)."""


def render(
    header: str, lines: Sequence[str], width: int, height: int, marker: str = CUT
) -> list[str]:
    """The rows of a ``width`` x ``height`` terminal showing ``header``, a blank row, ``lines``.

    The header is always the first row. Rows wider than the terminal are
    cut, ending with ``marker``; lines that do not fit in height are left
    out, the last row saying how many. Wide characters count two columns.
    """
    if width < 1 or height < 1:
        return []
    room = height - 2
    body = list(lines)
    if room < len(body):
        body = [*body[: room - 1], MORE.format(len(body) - room + 1)] if room > 0 else []
    rows = [header, *([""] if room >= 0 else []), *body][:height]
    return [cut(row, width, marker) for row in rows]


def cut(line: str, width: int, marker: str = CUT) -> str:
    """``line`` if it fits in ``width`` columns, else its start and ``marker``, that wide."""
    if _columns(line) <= width:
        return line
    kept, used = [], 0
    for char in line:
        size = _columns(char)
        if used + size > width - 1:
            break
        kept.append(char)
        used += size
    return "".join(kept) + " " * (width - 1 - used) + marker


def _columns(text: str) -> int:
    """How many terminal columns ``text`` takes (wide characters two, combining ones none)."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


class Screen:
    """Shows each new state: redrawn in place on a terminal, else as blank-line-ended blocks.

    On a terminal the screen is cleared and :func:`render` fills it, so
    nothing scrolls and the header stays on top; :meth:`redraw` draws the
    last state again at the terminal's new size (on ``SIGWINCH``).
    """

    def __init__(self, out: TextIO, title: str) -> None:
        self.out = out
        self.title = title
        self.tty = out.isatty()
        self.last: list[str] | None = None
        self.header = title
        try:
            CUT.encode(out.encoding or "ascii")
            self.marker = CUT
        except (LookupError, UnicodeEncodeError):
            self.marker = "$"

    def show(self, lines: list[str]) -> None:
        """Show ``lines``, unless they are what is on show already."""
        if lines == self.last:
            return
        self.last = lines
        if not self.tty:
            self.out.write("\n".join(lines) + "\n\n")
            self.out.flush()
            return
        self.header = f"{self.title}    {time.strftime('%H:%M:%S')}    Ctrl-C to stop"
        self.redraw()

    def redraw(self) -> None:
        """Draw the last state again, fitted to the terminal's size now."""
        if not self.tty or self.last is None:
            return
        try:
            width, height = os.get_terminal_size(self.out.fileno())
        except OSError:
            width = height = 0
        rows = render(self.header, self.last, width or 80, height or 24, self.marker)
        # No newline after the last row: on the bottom row it would scroll the header away.
        self.out.write("\x1b[H\x1b[2J" + "\n".join(rows))
        self.out.flush()


def _watch_args(parser: argparse.ArgumentParser) -> None:
    add_hosts(parser)
    parser.add_argument("path", metavar="PATH", type=zk_path)
    parser.add_argument(
        "--tree",
        action="store_true",
        help="show the whole subtree at PATH (one persistent recursive watch)",
    )
    add_common(parser)


async def watch(args: argparse.Namespace) -> int:
    screen = Screen(sys.stdout, f"aiozkreg watch {args.hosts} {args.path}")
    redraw = {signal.SIGWINCH: screen.redraw} if screen.tty else {}
    await until_signalled(_watch_work(args, screen), also=redraw)
    return 0


async def _watch_work(args: argparse.Namespace, screen: Screen) -> None:
    async with connected(args) as zk:
        changed = asyncio.Event()
        state = [zk.state]
        states = zk.states()

        async def follow_session() -> None:
            async for change in states:
                state[0] = change.state
                changed.set()

        follower = asyncio.create_task(follow_session())
        try:
            first = True
            follow = _watch_tree if args.tree else _watch_node
            while True:
                try:
                    await follow(zk, args.path, screen, changed, state)
                except NoNodeError:
                    if first:
                        raise
                first = False
                screen.show(watch_lines(args.path, args.path, None, {}, state[0]))
                await _until_exists(zk, args.path)
        finally:
            follower.cancel()
            await asyncio.wait({follower})


async def _until_exists(zk: Registry, path: str) -> None:
    """Return once ``path`` may exist again (it does, or a watch on it fired)."""
    appeared = asyncio.Event()
    if await zk.exists(path, watch=lambda _event: appeared.set()) is None:
        await appeared.wait()


async def _show_until_gone(
    views: Sequence[Callable[[Callable[..., None]], object]],
    gone: Callable[[], bool],
    lines: Callable[[], list[str]],
    screen: Screen,
    changed: asyncio.Event,
) -> None:
    """Show ``lines()`` now and whenever one of ``views`` (or the session) changes, until
    ``gone()``."""

    def notify(*_: object) -> None:
        changed.set()

    for view in views:
        view(notify)
    while not gone():
        changed.clear()
        screen.show(lines())
        await changed.wait()


async def _watch_node(
    zk: Registry, path: str, screen: Screen, changed: asyncio.Event, state: list[SessionState]
) -> None:
    """Show ``path`` at every change until it is deleted (NoNodeError: it is not there)."""
    async with zk.children(path) as children, zk.properties(path) as properties:
        await _show_until_gone(
            (children, properties),
            lambda: children.deleted or properties.deleted,
            lambda: watch_lines(
                path, children.real_path, sorted(children), properties.raw, state[0]
            ),
            screen,
            changed,
        )


async def _watch_tree(
    zk: Registry, path: str, screen: Screen, changed: asyncio.Event, state: list[SessionState]
) -> None:
    """Show the subtree at ``path`` at every change until its root is deleted."""

    def gone() -> bool:
        if tree.error is not None:
            raise tree.error
        return tree.deleted

    async with zk.tree(path) as tree:
        await _show_until_gone(
            (tree,),
            gone,
            lambda: tree_lines(path, tree.real_path, tree, state[0], tree.unreadable),
            screen,
            changed,
        )


WATCH = Command(
    "watch",
    "Show the node at PATH, its properties and children (--tree: its whole subtree), "
    "again at every change, until Ctrl-C.",
    _watch_args,
    watch,
)
