"""The tree commands: ``export``, ``import``, ``validate`` and ``graph``.

``zookeeper_export``, ``zookeeper_import`` and ``zookeeper_validate`` run the
first three on their own; ``aiozkreg graph`` draws a tree text or a live tree.
"""

from __future__ import annotations

import argparse

from . import _paths
from ._cli_common import (
    Command,
    CommandError,
    UsageError,
    add_common,
    add_hosts,
    connected,
    parse,
    read_text,
    write,
    zk_path,
)
from ._errors import TreeSyntaxError, ZKRegError
from ._graph import build_graph, to_dot, to_mermaid
from ._registry import Registry
from ._tree_node import node_name_problem
from ._tree_parse import parse_tree
from ._types import ACL, Perm

__all__ = ["EXPORT", "GRAPH", "IMPORT", "VALIDATE"]


def _permission(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 <= value <= Perm.ALL:
        raise argparse.ArgumentTypeError(f"permission bits are 0 to {Perm.ALL}: {text!r}")
    return value


def _node_name(text: str) -> str:
    if node_name_problem(text):
        raise argparse.ArgumentTypeError(f"not a node name (no '/', not empty): {text!r}")
    return text


def _add_path(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", metavar="PATH", nargs="?", default="/", type=zk_path, help="default /"
    )


async def _export_text(zk: Registry, path: str, *, ephemeral: bool, name: str | None = None) -> str:
    """``zk.export_tree(...)``; data that tree text cannot hold is a failure (exit 1)."""
    try:
        return await zk.export_tree(path, ephemeral=ephemeral, name=name)
    except ValueError as exc:
        if isinstance(exc, ZKRegError):  # a bad PATH: bad input
            raise
        raise CommandError(str(exc)) from exc  # NaN in the data, say: the data, not the input


# --- export -------------------------------------------------------------------


def _export_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-e", "--ephemeral", action="store_true", help="include ephemeral nodes")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the tree to FILE")
    parser.add_argument(
        "--name",
        type=_node_name,
        help="name the top node NAME (exporting '/' then includes the root)",
    )
    add_hosts(parser)
    _add_path(parser)
    add_common(parser)


async def _export(args: argparse.Namespace) -> int:
    async with connected(args) as zk:
        text = await _export_text(zk, args.path, ephemeral=args.ephemeral, name=args.name)
    write(text, args.output)
    return 0


EXPORT = Command(
    "export",
    "Print the tree at PATH as tree text (the format zookeeper_import reads).",
    _export_args,
    _export,
)


# --- import -------------------------------------------------------------------


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
    add_hosts(parser)
    parser.add_argument(
        "file", metavar="FILE", nargs="?", default="-", help="tree file; - or none: stdin"
    )
    _add_path(parser)
    add_common(parser)


async def _import(args: argparse.Namespace) -> int:
    text, source = read_text(args.file)
    parse(text, source)  # every syntax error before connecting
    acl = [ACL(args.permission, "world", "anyone")]
    async with connected(args) as zk:
        changes = await zk.import_tree(
            text, args.path, trim=args.trim, acl=acl, dry_run=args.dry_run
        )
    write("".join(f"{change}\n" for change in changes), None)
    return 0


IMPORT = Command(
    "import",
    "Make the tree at PATH match the tree text in FILE: create missing nodes, replace the "
    "data of existing ones. Prints one line per reported change.",
    _import_args,
    _import,
)


# --- validate -----------------------------------------------------------------


def _validate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="tree file, or - for stdin")
    add_common(parser, connects=False)


async def _validate(args: argparse.Namespace) -> int:
    parse(*read_text(args.file))
    return 0


VALIDATE = Command(
    "validate",
    "Check tree text. Prints nothing and exits 0 when it is valid.",
    _validate_args,
    _validate,
)


# --- graph --------------------------------------------------------------------


def _graph_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=("dot", "mermaid"), default="dot", help="default: dot (Graphviz)"
    )
    parser.add_argument(
        "-f", "--file", metavar="FILE", help="draw a tree file (- for stdin) instead of a live tree"
    )
    parser.add_argument("-e", "--ephemeral", action="store_true", help="include ephemeral nodes")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE")
    add_hosts(parser, nargs="?")
    _add_path(parser)
    add_common(parser)


async def _graph(args: argparse.Namespace) -> int:
    if args.file is not None:
        if args.hosts is not None:
            raise UsageError("give either --file FILE or HOSTS [PATH], not both")
        tree, base = parse(*read_text(args.file)), "/"
    elif args.hosts is None:
        raise UsageError("give HOSTS [PATH] (a live tree) or --file FILE (a tree file)")
    else:
        async with connected(args) as zk:
            text = await _export_text(zk, args.path, ephemeral=args.ephemeral)
        try:
            tree = parse_tree(text)
        except TreeSyntaxError as exc:
            raise CommandError(f"the tree at {args.path} cannot be read back: {exc}") from exc
        base = _paths.split(args.path.rstrip("/") or "/")[0]
    graph = build_graph(tree, base)
    write(to_mermaid(graph) if args.format == "mermaid" else to_dot(graph), args.output)
    return 0


GRAPH = Command(
    "graph",
    "Draw the architecture in a tree as Graphviz DOT or Mermaid: services (nodes with a "
    "providers child), links and property links.",
    _graph_args,
    _graph,
)
