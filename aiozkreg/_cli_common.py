"""What the command-line modules share: commands, their errors and arguments,
connecting, reading and writing files, and node text."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._errors import TreeSyntaxError
from ._registry import Registry
from ._tree_format import format_tree, name_text
from ._tree_node import TextNode, not_json
from ._tree_parse import parse_tree

DEFAULT_TIMEOUT = 10.0

Handler = Callable[[argparse.Namespace], Coroutine[object, None, int]]
"""A command's work: given the parsed arguments, returns the exit status."""
Prepare = Callable[[argparse.Namespace], None]
"""What a command does before the event loop starts: read its input (see :class:`Command`)."""


@dataclass(frozen=True)
class Command:
    """A subcommand of ``aiozkreg`` (and the work of a ``zookeeper_*`` script).

    ``doc`` is its description (its first sentence the one-line help);
    ``arguments`` adds its arguments to a parser; ``handler`` does the work.
    ``prepare``, if any, runs first, outside the event loop: it reads the
    input (standard input included) and checks it, so that one Ctrl-C ends
    a read from a terminal (under ``asyncio.run`` the first one only cancels
    the main task, which a blocking read never notices).
    """

    name: str
    doc: str
    arguments: Callable[[argparse.ArgumentParser], None]
    handler: Handler
    prepare: Prepare | None = None


class UsageError(Exception):
    """Bad input: reported in one line, exit status 2, nothing written.

    ``prog`` names the (sub)command whose arguments were wrong, if not the one running.
    """

    def __init__(self, message: str, prog: str | None = None) -> None:
        super().__init__(message)
        self.prog = prog


class CommandError(Exception):
    """The work failed: reported in one line, exit status 1."""


# --- arguments ----------------------------------------------------------------


def zk_path(text: str) -> str:
    """An argument type: a ZooKeeper path."""
    if not text.startswith("/"):
        raise argparse.ArgumentTypeError(f"a ZooKeeper path starts with '/': {text!r}")
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def add_common(parser: argparse.ArgumentParser, *, connects: bool = True) -> None:
    """``--timeout`` (for a command that connects) and ``--debug``."""
    if connects:
        parser.add_argument(
            "--timeout",
            type=_seconds,
            default=DEFAULT_TIMEOUT,
            metavar="SECONDS",
            help=f"give up connecting after SECONDS (default {DEFAULT_TIMEOUT:g})",
        )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="on errors show the traceback; log the library's debug messages on stderr",
    )


def add_hosts(parser: argparse.ArgumentParser, nargs: str | None = None) -> None:
    """The ``HOSTS`` argument: a connect string."""
    parser.add_argument(
        "hosts",
        metavar="HOSTS",
        nargs=nargs,
        help="ZooKeeper connect string: host:port[,host:port...][/chroot]",
    )


# --- connecting, reading, writing ---------------------------------------------


@contextlib.asynccontextmanager
async def connected(args: argparse.Namespace) -> AsyncIterator[Registry]:
    """A started registry for ``args.hosts``, closed on the way out."""
    try:
        zk = Registry(args.hosts, connect_timeout=args.timeout)
    except ValueError as exc:
        raise UsageError(f"bad HOSTS {args.hosts!r}: {exc}") from exc
    await zk.start(timeout=args.timeout)
    try:
        yield zk
    finally:
        await zk.close()


def read_text(name: str, prog: str) -> tuple[str, str]:
    """``(text, source name)`` of a file argument (``-``: stdin; from a terminal, says so)."""
    try:
        if name == "-":
            if sys.stdin.isatty():
                print(
                    f"{prog}: reading tree text from the terminal (Ctrl-D ends it)",
                    file=sys.stderr,
                    flush=True,
                )
            return sys.stdin.read(), "<stdin>"
        return Path(name).read_text(encoding="utf-8"), name
    except UnicodeDecodeError as exc:
        raise UsageError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from exc


def parse(text: str, source: str) -> TextNode:
    """The tree in ``text``; a syntax error is bad input, named by ``source`` and line."""
    try:
        return parse_tree(text)
    except TreeSyntaxError as exc:
        raise UsageError(f"{source}:{exc.lineno}: {exc.message}: {exc.line.strip()!r}") from exc


def write(text: str, output: str | None) -> None:
    """Write ``text`` to the file ``output`` (None or ``-``: stdout)."""
    if output is None or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from exc


def node_text(path: str, properties: dict[str, Any], children: Sequence[str] = ()) -> list[str]:
    """A node (and its child names) in tree-text layout, headed by its full path.

    A value tree text cannot hold (``NaN`` written by another tool, say) is
    shown in a comment line instead of failing the display.
    """
    shown = {key: value for key, value in properties.items() if not_json(value) is None}
    node = TextNode(shown, {name: TextNode() for name in children})
    header, *lines = format_tree(node, "n").splitlines()
    comments = [
        f"  # {name_text(key)} = {value!r} (not JSON: tree text cannot hold it)"
        for key, value in properties.items()
        if key not in shown
    ]
    return [path + header[len("/n") :], *comments, *lines]


async def until_signalled(
    work: Coroutine[Any, Any, None],
    *,
    also: Mapping[signal.Signals, Callable[[], None]] | None = None,
) -> None:
    """Run ``work`` until it ends, or until SIGINT or SIGTERM (then cancel it); ``also``
    adds signal handlers for as long. Raises why ``work`` ended, if it failed."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    handlers = {signal.SIGINT: stop.set, signal.SIGTERM: stop.set, **(also or {})}
    for sig, handler in handlers.items():
        loop.add_signal_handler(sig, handler)
    try:
        task = asyncio.create_task(work)
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            task.cancel()
            await asyncio.wait({task, stopped})
    finally:
        for sig in handlers:
            loop.remove_signal_handler(sig)
    if not task.cancelled():
        task.result()  # why it ended: ZooKeeper unreachable at the start, no such node, ...
