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
from ._link_check import unfollowable_in_file
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
        real = await zk.resolve(args.path)
        text = await _export_text(zk, real, ephemeral=args.ephemeral, name=args.name)
    write(_link_note("#", args.path, real) + text, args.output)
    return 0


def _link_note(comment: str, path: str, real: str) -> str:
    """A comment line saying that ``path`` is a link to ``real`` (nothing if it is not)."""
    return f"{comment} {path} is a link to {real}\n" if real != _paths.normalize(path) else ""


EXPORT = Command(
    "export",
    "Print the tree at PATH as tree text (the format zookeeper_import reads). A PATH "
    "through symlinks is followed; a comment line then names the node shown.",
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


def _read_tree(args: argparse.Namespace) -> None:
    """Read FILE (before connecting): ``args.text``; every syntax error is bad input."""
    args.text, source = read_text(args.file, args.prog)
    args.tree = parse(args.text, source)


async def _import(args: argparse.Namespace) -> int:
    acl = [ACL(args.permission, "world", "anyone")]
    async with connected(args) as zk:
        changes = await zk.import_tree(
            args.text, args.path, trim=args.trim, acl=acl, dry_run=args.dry_run
        )
    write("".join(f"{change}\n" for change in changes), None)
    return 0


IMPORT = Command(
    "import",
    "Make the tree at PATH match the tree text in FILE: create missing nodes, replace the "
    "data of existing ones. Prints one line per reported change, and one per property "
    "link that cannot be followed afterwards.",
    _import_args,
    _import,
    _read_tree,
)


# --- validate -----------------------------------------------------------------


def _validate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="tree file, or - for stdin")
    parser.add_argument(
        "path",
        metavar="PATH",
        nargs="?",
        default="/",
        type=zk_path,
        help="where the tree is to be imported (default /): absolute property-link "
        "targets are placed with it",
    )
    add_common(parser, connects=False)


def _check_file(args: argparse.Namespace) -> None:
    """The whole check, before any event loop: the text, then its property links."""
    args.text, source = read_text(args.file, args.prog)
    tree = parse(args.text, source)
    for change in unfollowable_in_file(tree, args.path.rstrip("/") or "/"):
        raise UsageError(
            f"{source}: {change.path}: the property link {change.key!r} "
            f"({change.new!r}) cannot be followed: {change.note}"
        )


async def _validate(args: argparse.Namespace) -> int:
    return 0  # _check_file did it all


VALIDATE = Command(
    "validate",
    "Check tree text, and the property links that stay inside it. Prints nothing and "
    "exits 0 when it is valid.",
    _validate_args,
    _validate,
    _check_file,
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


def _graph_input(args: argparse.Namespace) -> None:
    """Check the arguments, and read the tree file if one is given (before connecting)."""
    if args.file is not None:
        if args.hosts is not None:
            raise UsageError("give either --file FILE or HOSTS [PATH], not both")
        _read_tree(args)
    elif args.hosts is None:
        raise UsageError("give HOSTS [PATH] (a live tree) or --file FILE (a tree file)")


async def _graph(args: argparse.Namespace) -> int:
    note = ""
    if args.file is not None:
        tree, base = args.tree, "/"
    else:
        async with connected(args) as zk:
            real = await zk.resolve(args.path)
            text = await _export_text(zk, real, ephemeral=args.ephemeral)
        try:
            tree = parse_tree(text)
        except TreeSyntaxError as exc:
            raise CommandError(f"the tree at {real} cannot be read back: {exc}") from exc
        base = _paths.split(real)[0]
        note = _link_note("  //" if args.format == "dot" else "  %%", args.path, real)
    graph = build_graph(tree, base)
    head, _, rest = (to_mermaid(graph) if args.format == "mermaid" else to_dot(graph)).partition(
        "\n"
    )
    write(f"{head}\n{note}{rest}", args.output)
    return 0


GRAPH = Command(
    "graph",
    "Draw the architecture in a tree as Graphviz DOT or Mermaid: services (nodes with a "
    "providers child), links and property links. A PATH through symlinks is followed; a "
    "comment then names the node drawn.",
    _graph_args,
    _graph,
    _graph_input,
)
