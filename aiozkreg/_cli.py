"""Console scripts: ``zookeeper_export``, ``zookeeper_import``, ``zookeeper_set_property``,
``zookeeper_validate`` (the reference's), and the umbrella command ``aiozkreg``.

Every entry point is ``main(argv=None) -> int``. Exit status: 0 success;
1 the work failed (unreachable server, missing node, server error, I/O
error); 2 bad input (arguments, tree text, literals), found before anything
is written; 130 interrupted (``aiozkreg watch`` exits 0 on Ctrl-C). Errors
are one line on stderr, ``PROG: error: MESSAGE``; ``--debug`` adds the
traceback and the library's log. See docs/cli.md.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import logging
import os
import posixpath
import re
import signal
import sys
import traceback
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from ._cli_common import CommandError, UsageError, connected, node_text
from ._cli_watch import watch
from ._errors import FailedConnect, NoNodeError, TreeSyntaxError, ZKRegError
from ._graph import build_graph, to_dot, to_mermaid
from ._registry import Registry
from ._tree import (
    QUOTED,
    QUOTES,
    TreeNode,
    _literal,
    _LiteralError,
    is_bare_name,
    name_text,
    parse_tree,
)
from ._types import ACL, Perm

__all__ = ["export_main", "import_main", "main", "set_property_main", "validate_main"]

DEFAULT_TIMEOUT = 10.0
Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line (exit status 2 all the same)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')", self.prog)


# --- argument types -----------------------------------------------------------


def _zk_path(text: str) -> str:
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


def _permission(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 <= value <= Perm.ALL:
        raise argparse.ArgumentTypeError(f"permission bits are 0 to {Perm.ALL}: {text!r}")
    return value


def _node_name(text: str) -> str:
    if not text or "/" in text or text in (".", ".."):
        raise argparse.ArgumentTypeError(f"not a node name (no '/', not empty): {text!r}")
    return text


# --- arguments of each command ------------------------------------------------


def _common(parser: argparse.ArgumentParser, *, connects: bool = True) -> None:
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


def _hosts(parser: argparse.ArgumentParser, nargs: str | None = None) -> None:
    parser.add_argument(
        "hosts",
        metavar="HOSTS",
        nargs=nargs,
        help="ZooKeeper connect string: host:port[,host:port...][/chroot]",
    )


def _export_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-e", "--ephemeral", action="store_true", help="include ephemeral nodes")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the tree to FILE")
    parser.add_argument(
        "--name",
        type=_node_name,
        help="name the top node NAME (exporting '/' then includes the root)",
    )
    _hosts(parser)
    parser.add_argument(
        "path", metavar="PATH", nargs="?", default="/", type=_zk_path, help="default /"
    )
    _common(parser)
    parser.set_defaults(handler=_export)


def _import_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-d", "--dry-run", action="store_true", help="print what would change; change nothing"
    )
    trim = parser.add_mutually_exclusive_group()
    trim.add_argument(
        "-t",
        "--trim",
        action="store_const",
        const=True,
        default=None,
        help="delete nodes below the top level that the tree does not name",
    )
    trim.add_argument(
        "--no-trim",
        dest="trim",
        action="store_const",
        const=False,
        help="leave such nodes alone without reporting them",
    )
    parser.add_argument(
        "-p",
        "--permission",
        type=_permission,
        default=Perm.ALL,
        metavar="PERM",
        help="ZooKeeper permission bits for everyone (world:anyone) on the imported nodes "
        f"(default {Perm.ALL} = all)",
    )
    _hosts(parser)
    parser.add_argument(
        "file", metavar="FILE", nargs="?", default="-", help="tree file; - or none: stdin"
    )
    parser.add_argument(
        "path", metavar="PATH", nargs="?", default="/", type=_zk_path, help="default /"
    )
    _common(parser)
    parser.set_defaults(handler=_import)


def _set_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="do not print the node afterwards"
    )
    _hosts(parser)
    parser.add_argument("path", metavar="PATH", type=_zk_path)
    parser.add_argument(
        "assignments",
        metavar="NAME=LITERAL",
        nargs="+",
        help="a Python literal (quote strings: \"comment='ok'\"); 'NAME ->=' sets a link, "
        "'NAME =>=' a property link; a name with blanks or '=', or starting with '#', '/' or "
        "a quote, is written as a Python string: \"'my key'=1\"",
    )
    _common(parser)
    parser.set_defaults(handler=_set)


def _validate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="tree file, or - for stdin")
    _common(parser, connects=False)
    parser.set_defaults(handler=_validate)


def _watch_args(parser: argparse.ArgumentParser) -> None:
    _hosts(parser)
    parser.add_argument("path", metavar="PATH", type=_zk_path)
    _common(parser)
    parser.set_defaults(handler=watch)


def _graph_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=("dot", "mermaid"), default="dot", help="default: dot (Graphviz)"
    )
    parser.add_argument(
        "-f", "--file", metavar="FILE", help="draw a tree file (- for stdin) instead of a live tree"
    )
    parser.add_argument("-e", "--ephemeral", action="store_true", help="include ephemeral nodes")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE")
    _hosts(parser, nargs="?")
    parser.add_argument(
        "path", metavar="PATH", nargs="?", default="/", type=_zk_path, help="default /"
    )
    _common(parser)
    parser.set_defaults(handler=_graph)


def _demo_args(parser: argparse.ArgumentParser) -> None:
    _common(parser, connects=False)
    parser.set_defaults(handler=_demo)


# --- helpers ------------------------------------------------------------------


def _read_text(name: str) -> tuple[str, str]:
    """``(text, source name)`` of a file argument (``-``: stdin)."""
    try:
        if name == "-":
            return sys.stdin.read(), "<stdin>"
        return Path(name).read_text(encoding="utf-8"), name
    except UnicodeDecodeError as exc:
        raise UsageError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from exc


def _parse(text: str, source: str) -> TreeNode:
    try:
        return parse_tree(text)
    except TreeSyntaxError as exc:
        raise UsageError(f"{source}:{exc.lineno}: {exc.message}: {exc.line.strip()!r}") from exc


def _write(text: str, output: str | None) -> None:
    if output is None or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from exc


_ASSIGNMENT = re.compile(r"(?P<name>.*?)=(?!>)(?P<value>.*)", re.DOTALL)
_LINK_NAME = re.compile(r"(?P<name>\S+)\s+(?P<arrow>->|=>)")
_AFTER_QUOTED = re.compile(r"\s*(?:(?P<arrow>->|=>)\s*)?=(?P<value>.*)", re.DOTALL)


def parse_assignment(argument: str) -> tuple[str, Any]:
    """``NAME=LITERAL`` -> ``(key, value)``; the value is read with ``ast.literal_eval``.

    NAME is what tree text accepts: a bare name, optionally followed by
    `` ->`` (a link) or `` =>`` (a property link), or a quoted name (a
    Python string literal) with the same optional arrow. The split is at the
    first ``=`` not followed by ``>`` (after a quoted name: the first one
    after it), so ``x =>='/a x'`` sets the property link ``x =>`` and
    ``'a=b'=1`` the property ``a=b``. Raises :class:`UsageError`.
    """
    text = argument.lstrip()
    if text[:1] in QUOTES:
        m = QUOTED.match(text)
        after = _AFTER_QUOTED.fullmatch(text[m.end() :]) if m else None
        if not m or not after:
            raise UsageError(
                f"expected 'QUOTED NAME'=LITERAL, got {argument!r} (a quoted name is a "
                "one-line Python string literal)"
            )
        name = ast.literal_eval(m[0])
        if after["arrow"]:
            name += f" {after['arrow']}"
        value = after["value"].strip()
    else:
        m = _ASSIGNMENT.fullmatch(argument)
        if not m or not m["name"].strip():
            raise UsageError(f"expected NAME=LITERAL, got {argument!r}")
        name, value = m["name"].strip(), m["value"].strip()
        link = _LINK_NAME.fullmatch(name)
        bare = link["name"] if link else name
        if not is_bare_name(bare):
            arrow = ""
            if name.endswith(("->", "=>")):
                arrow = " (a link is NAME ->=..., a property link NAME =>=..., with a blank)"
            raise UsageError(
                f"{name!r} cannot be written as a bare name (it holds a blank or '=', or "
                "starts with '#', '/' or a quote); quote it as a Python string, as tree "
                f'text does: "{name_text(name)}={value}"{arrow}'
            )
        if link:
            name = f"{bare} {link['arrow']}"
    try:
        return name, _literal(value)
    except _LiteralError as exc:
        hint = ""
        if re.fullmatch(r"[\w.:/-]+", value):
            hint = f"; to set a string, quote it for the shell: \"{name}='{value}'\""
        raise UsageError(f"bad value for {name!r}: {exc}{hint}") from exc


# --- commands -----------------------------------------------------------------


async def _export(args: argparse.Namespace) -> int:
    async with connected(args) as zk:
        text = await _export_text(zk, args.path, ephemeral=args.ephemeral, name=args.name)
    _write(text, args.output)
    return 0


async def _export_text(zk: Registry, path: str, *, ephemeral: bool, name: str | None = None) -> str:
    """``zk.export_tree(...)``; data that tree text cannot hold is a failure (exit 1)."""
    try:
        return await zk.export_tree(path, ephemeral=ephemeral, name=name)
    except ValueError as exc:
        if isinstance(exc, ZKRegError):  # a bad PATH: bad input
            raise
        raise CommandError(str(exc)) from exc  # NaN in the data, say: the data, not the input


async def _import(args: argparse.Namespace) -> int:
    text, source = _read_text(args.file)
    _parse(text, source)  # every syntax error before connecting
    acl = [ACL(args.permission, "world", "anyone")]
    async with connected(args) as zk:
        changes = await zk.import_tree(
            text, args.path, trim=args.trim, acl=acl, dry_run=args.dry_run
        )
    _write("".join(f"{change}\n" for change in changes), None)
    return 0


async def _set(args: argparse.Namespace) -> int:
    updates: dict[str, Any] = {}
    for argument in args.assignments:
        name, value = parse_assignment(argument)
        if name in updates:
            raise UsageError(f"{name!r} is given twice")
        updates[name] = value
    async with connected(args) as zk:
        # Resolved here: a watch=False view writes to the path it was given.
        properties = await zk.properties(await zk.resolve(args.path), watch=False)
        await properties.update(updates)
        raw = properties.raw
    if not args.quiet:
        _write("".join(f"{line}\n" for line in node_text(args.path, raw)), None)
    return 0


async def _validate(args: argparse.Namespace) -> int:
    _parse(*_read_text(args.file))
    return 0


async def _graph(args: argparse.Namespace) -> int:
    if args.file is not None:
        if args.hosts is not None:
            raise UsageError("give either --file FILE or HOSTS [PATH], not both")
        tree, base = _parse(*_read_text(args.file)), "/"
    elif args.hosts is None:
        raise UsageError("give HOSTS [PATH] (a live tree) or --file FILE (a tree file)")
    else:
        async with connected(args) as zk:
            text = await _export_text(zk, args.path, ephemeral=args.ephemeral)
        try:
            tree = parse_tree(text)
        except TreeSyntaxError as exc:
            raise CommandError(f"the tree at {args.path} cannot be read back: {exc}") from exc
        base = posixpath.dirname(args.path.rstrip("/")) or "/"
    graph = build_graph(tree, base)
    _write(to_mermaid(graph) if args.format == "mermaid" else to_dot(graph), args.output)
    return 0


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
    prog = getattr(args, "prog", prog)
    debug = getattr(args, "debug", False)
    _configure_logging(debug)
    handler: Handler = args.handler
    try:
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


def _script(name: str, build: Callable[[argparse.ArgumentParser], None], doc: str) -> _Parser:
    parser = _Parser(prog=name, description=doc)
    build(parser)
    return parser


def export_main(argv: Sequence[str] | None = None) -> int:
    """``zookeeper_export``: print (or write) a ZooKeeper tree as tree text."""
    return _run(_script("zookeeper_export", _export_args, _EXPORT_DOC), argv)


def import_main(argv: Sequence[str] | None = None) -> int:
    """``zookeeper_import``: make a ZooKeeper tree match tree text."""
    return _run(_script("zookeeper_import", _import_args, _IMPORT_DOC), argv)


def set_property_main(argv: Sequence[str] | None = None) -> int:
    """``zookeeper_set_property``: update some properties of a node."""
    return _run(_script("zookeeper_set_property", _set_args, _SET_DOC), argv)


def validate_main(argv: Sequence[str] | None = None) -> int:
    """``zookeeper_validate``: check tree text; silent and 0 when it is valid."""
    return _run(_script("zookeeper_validate", _validate_args, _VALIDATE_DOC), argv)


def main(argv: Sequence[str] | None = None) -> int:
    """``aiozkreg`` (and ``python -m aiozkreg``): the umbrella command."""
    parser = _Parser(
        prog="aiozkreg",
        description="aiozkreg: ZooKeeper service registry tools. "
        "'aiozkreg COMMAND --help' shows each command's options.",
    )
    parser.add_argument("--version", action="version", version=f"aiozkreg {__version__}")
    _common(parser, connects=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, build, doc in (
        ("export", _export_args, _EXPORT_DOC),
        ("import", _import_args, _IMPORT_DOC),
        ("set", _set_args, _SET_DOC),
        ("validate", _validate_args, _VALIDATE_DOC),
        ("watch", _watch_args, _WATCH_DOC),
        ("graph", _graph_args, _GRAPH_DOC),
        ("demo", _demo_args, _DEMO_DOC),
    ):
        sub = commands.add_parser(name, help=doc.split(".")[0], description=doc)
        build(sub)
        sub.set_defaults(prog=sub.prog)
    return _run(parser, argv)


_EXPORT_DOC = "Print the tree at PATH as tree text (the format zookeeper_import reads)."
_IMPORT_DOC = (
    "Make the tree at PATH match the tree text in FILE: create missing nodes, replace the "
    "data of existing ones. Prints one line per reported change."
)
_SET_DOC = (
    "Update properties of the node at PATH (a merge: other properties stay), then print the "
    "node's properties. Every NAME=LITERAL is checked before anything is written."
)
_VALIDATE_DOC = "Check tree text. Prints nothing and exits 0 when it is valid."
_WATCH_DOC = (
    "Show the node at PATH, its properties and children, again at every change, until Ctrl-C."
)
_GRAPH_DOC = (
    "Draw the architecture in a tree as Graphviz DOT or Mermaid: services (nodes with a "
    "providers child), links and property links."
)
_DEMO_DOC = "Run the demo (make demo): services register, a client discovers them."
