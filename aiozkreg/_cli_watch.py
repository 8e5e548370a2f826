"""``aiozkreg watch``: a live terminal view of a node's children and properties."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from ._cli_common import Command, add_common, add_hosts, connected, node_text, zk_path
from ._errors import NoNodeError
from ._registry import Registry
from ._states import SessionState

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


class _Screen:
    """Shows each new state: redrawn in place on a terminal, else as blank-line-ended blocks."""

    def __init__(self, out: TextIO, title: str) -> None:
        self.out = out
        self.title = title
        self.tty = out.isatty()
        self.last: list[str] | None = None

    def show(self, lines: list[str]) -> None:
        if lines == self.last:
            return
        self.last = lines
        if self.tty:
            rows = shutil.get_terminal_size().lines
            if len(lines) > rows - 3:
                hidden = len(lines) - (rows - 4)
                lines = [*lines[: rows - 4], f"... and {hidden} more lines"]
            header = f"{self.title}    {time.strftime('%H:%M:%S')}    Ctrl-C to stop"
            self.out.write("\x1b[H\x1b[2J" + header + "\n\n" + "\n".join(lines) + "\n")
        else:
            self.out.write("\n".join(lines) + "\n\n")
        self.out.flush()


def _watch_args(parser: argparse.ArgumentParser) -> None:
    add_hosts(parser)
    parser.add_argument("path", metavar="PATH", type=zk_path)
    add_common(parser)


async def watch(args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        work = asyncio.create_task(_watch_work(args))
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({work, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            work.cancel()
            await asyncio.wait({work, stopped})
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
    if not work.cancelled():
        work.result()  # an error, e.g. no such node at the start
    return 0


async def _watch_work(args: argparse.Namespace) -> None:
    screen = _Screen(sys.stdout, f"aiozkreg watch {args.hosts} {args.path}")
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
            while True:
                await _watch_node(zk, args.path, screen, changed, state, must_exist=first)
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


async def _watch_node(
    zk: Registry,
    path: str,
    screen: _Screen,
    changed: asyncio.Event,
    state: list[SessionState],
    *,
    must_exist: bool,
) -> None:
    """Show ``path`` at every change until it is deleted."""

    def notify(*_: object) -> None:
        changed.set()

    try:
        async with zk.children(path) as children, zk.properties(path) as properties:
            children(notify)
            properties(notify)
            while not (children.deleted or properties.deleted):
                changed.clear()
                names = sorted(children)
                screen.show(watch_lines(path, children.real_path, names, properties.raw, state[0]))
                await changed.wait()
    except NoNodeError:
        if must_exist:
            raise


WATCH = Command(
    "watch",
    "Show the node at PATH, its properties and children, again at every change, until Ctrl-C.",
    _watch_args,
    watch,
)
