"""Console scripts: ``zookeeper_export``, ``zookeeper_import``, ``zookeeper_set_property``,
``zookeeper_validate`` (the reference's), and the umbrella command ``aiozkreg``.

Every entry point is ``main(argv=None) -> int``. Exit status: 0 success;
1 the work failed (unreachable server, missing node, server error, I/O
error); 2 bad input (arguments, tree text, literals), found before anything
is written; 130 interrupted (``aiozkreg watch`` exits 0 on Ctrl-C). Errors
are one line on stderr, ``PROG: error: MESSAGE``; ``--debug`` adds the
traceback and the library's log. See docs/cli.md.

A command's input is read before its event loop starts (``Command.prepare``):
there, Ctrl-C is Python's ``KeyboardInterrupt`` at once, even in a blocking
read of a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from ._cli_common import Command, CommandError, Handler, Prepare, UsageError, add_common
from ._cli_serve import SERVE
from ._cli_set import SET
from ._cli_tree import EXPORT, GRAPH, IMPORT, VALIDATE
from ._cli_watch import WATCH
from ._errors import FailedConnect, NoNodeError, ZKRegError

__all__ = ["export_main", "import_main", "main", "set_property_main", "validate_main"]


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line (exit status 2 all the same)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')", self.prog)


class _Version(argparse.Action):
    """``--version``: looks the version up only when asked (importlib.metadata is slow)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        from . import __version__

        print(f"aiozkreg {__version__}")
        parser.exit()


DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.py"


async def _demo(args: argparse.Namespace) -> int:
    if not DEMO.is_file():
        raise CommandError(
            "the demo is not installed with this copy of aiozkreg; it is examples/demo.py "
            "in aiozkreg's source repository (run 'make demo' there)"
        )
    loop = asyncio.get_running_loop()
    proc = await asyncio.create_subprocess_exec(sys.executable, str(DEMO))
    # Ctrl-C reaches the demo directly (same process group) and it cleans up after
    # itself; a SIGTERM for us is passed on to it as a Ctrl-C.
    loop.add_signal_handler(signal.SIGINT, lambda: None)
    loop.add_signal_handler(signal.SIGTERM, proc.send_signal, signal.SIGINT)
    try:
        code = await proc.wait()
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        loop.remove_signal_handler(signal.SIGTERM)
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
            await proc.wait()
    return 128 - code if code < 0 else code


def _demo_args(parser: argparse.ArgumentParser) -> None:
    add_common(parser, connects=False)


DEMO_COMMAND = Command(
    "demo",
    "Run the demo (make demo): services register, a client discovers them.",
    _demo_args,
    _demo,
)
COMMANDS = (EXPORT, IMPORT, SET, VALIDATE, WATCH, GRAPH, SERVE, DEMO_COMMAND)


# --- running ------------------------------------------------------------------


def _configure_logging(debug: bool) -> None:
    log = logging.getLogger("aiozkreg")
    if any(h.get_name() == "aiozkreg-cli" for h in log.handlers):
        return
    handler: logging.Handler
    if debug:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        log.setLevel(logging.DEBUG)
    else:
        handler = logging.NullHandler()  # the CLI reports errors itself, in one line
    handler.set_name("aiozkreg-cli")
    log.addHandler(handler)


def _message(exc: BaseException) -> str:
    if isinstance(exc, NoNodeError) and exc.chroot_missing:
        return f"the chroot {exc.path} in HOSTS does not exist (no such node)"
    if isinstance(exc, NoNodeError) and exc.path == "/":  # "/" is missing only in a chroot
        return "the chroot in HOSTS does not exist (no such node)"
    if isinstance(exc, NoNodeError) and exc.path:
        return f"{exc.path}: no such node"
    if isinstance(exc, FailedConnect | UsageError | CommandError):
        return str(exc)
    if isinstance(exc, ValueError) and len(exc.args) == 4 and exc.args[0] == "Bad property link":
        _, key, value, cause = exc.args
        return f"bad property link {key!r}: {value!r} ({cause})"
    return str(exc) or type(exc).__name__


def _run(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    prog = parser.prog
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(f"{exc.prog or prog}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        print(f"{prog}: error: interrupted", file=sys.stderr)
        return 130
    prog = args.prog = getattr(args, "prog", prog)
    debug = getattr(args, "debug", False)
    _configure_logging(debug)
    handler: Handler = args.handler
    prepare: Prepare | None = args.prepare
    try:
        if prepare is not None:
            prepare(args)  # reads input: outside the event loop, so one Ctrl-C ends it
        return asyncio.run(handler(args))
    except BrokenPipeError:  # stdout closed early (| head): stop quietly
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (KeyboardInterrupt, Exception) as exc:
        code, text = _outcome(exc)
        if debug:
            traceback.print_exception(exc)
    print(f"{prog}: error: {text}", file=sys.stderr)
    return code


def _outcome(exc: BaseException) -> tuple[int, str]:
    """The exit status and the one-line message for an error."""
    if isinstance(exc, KeyboardInterrupt):
        return 130, "interrupted"
    if isinstance(exc, UsageError | ValueError):  # ValueError: bad paths, tree text, links
        return 2, _message(exc)
    if isinstance(exc, CommandError | ZKRegError | OSError):
        return 1, _message(exc)
    return 1, f"unexpected {type(exc).__name__}: {exc} (--debug shows the traceback)"


def _script(name: str, command: Command) -> _Parser:
    parser = _Parser(prog=name, description=command.doc)
    command.arguments(parser)
    parser.set_defaults(handler=command.handler, prepare=command.prepare)
    return parser


def export_main(argv: Sequence[str] | None = None) -> int:
    """``zookeeper_export``: print (or write) a ZooKeeper tree as tree text."""
    return _run(_script("zookeeper_export", EXPORT), argv)


def import_main(argv: Sequence[str] | None = None) -> int:
    """``zookeeper_import``: make a ZooKeeper tree match tree text."""
    return _run(_script("zookeeper_import", IMPORT), argv)


def set_property_main(argv: Sequence[str] | None = None) -> int:
    """``zookeeper_set_property``: update some properties of a node."""
    return _run(_script("zookeeper_set_property", SET), argv)


def validate_main(argv: Sequence[str] | None = None) -> int:
    """``zookeeper_validate``: check tree text; silent and 0 when it is valid."""
    return _run(_script("zookeeper_validate", VALIDATE), argv)


def main(argv: Sequence[str] | None = None) -> int:
    """``aiozkreg`` (and ``python -m aiozkreg``): the umbrella command."""
    parser = _Parser(
        prog="aiozkreg",
        description="aiozkreg: ZooKeeper service registry tools. "
        "'aiozkreg COMMAND --help' shows each command's options.",
    )
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    add_common(parser, connects=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        sub = commands.add_parser(
            command.name, help=command.doc.split(".")[0], description=command.doc
        )
        command.arguments(sub)
        sub.set_defaults(handler=command.handler, prepare=command.prepare, prog=sub.prog)
    return _run(parser, argv)
