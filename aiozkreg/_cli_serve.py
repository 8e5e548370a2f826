"""``aiozkreg serve``: a live web view of a tree, its services and their providers.

Needs the ``web`` extra (aiohttp); the command says so in one line when it
is missing. The page and everything behind it are in :mod:`aiozkreg.web`;
this module only reads the arguments, serves until Ctrl-C or SIGTERM (exit
0), and turns failures into the command line's one-line errors.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from . import _paths
from ._cli_common import (
    Command,
    CommandError,
    UsageError,
    add_common,
    add_hosts,
    until_signalled,
    zk_path,
)

__all__ = ["SERVE"]

DEFAULT_LISTEN = "127.0.0.1:8080"  # aiozkreg.web.DEFAULT_LISTEN, without importing aiohttp here


def _serve_args(parser: argparse.ArgumentParser) -> None:
    add_hosts(parser)
    parser.add_argument(
        "path", metavar="PATH", nargs="?", default="/", type=zk_path, help="default /"
    )
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        default=DEFAULT_LISTEN,
        help=f"where the page is served (default {DEFAULT_LISTEN}: this machine only; port 0 "
        "picks a free one). A non-loopback HOST (0.0.0.0: every interface) lets other "
        "machines see the tree, and with --allow-writes set properties",
    )
    parser.add_argument(
        "--allow-writes",
        action="store_true",
        help="let the page set and delete properties (as 'aiozkreg set' does); from this "
        "machine only unless --listen names a non-loopback address",
    )
    add_common(parser)


def _check(args: argparse.Namespace) -> None:
    """Before connecting: the web extra is there, and HOSTS, PATH and --listen read."""
    try:
        from .web import parse_listen
    except ImportError as exc:
        raise CommandError(
            "aiozkreg serve needs the 'web' extra: pip install 'aiozkreg[web]'"
        ) from exc
    try:
        _paths.parse_hosts(args.hosts)
    except ValueError as exc:
        raise UsageError(f"bad HOSTS {args.hosts!r}: {exc}") from exc
    try:
        _paths.validate(args.path)
        parse_listen(args.listen)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


async def _serve(args: argparse.Namespace) -> int:
    await until_signalled(_serving(args))
    print("aiozkreg serve: stopped", file=sys.stderr, flush=True)
    return 0


async def _serving(args: argparse.Namespace) -> None:
    """Serve until cancelled."""
    from .web import serving

    async with serving(
        args.hosts,
        args.path,
        listen=args.listen,
        allow_writes=args.allow_writes,
        timeout=args.timeout,
    ) as served:
        writes = "writes allowed" if args.allow_writes else "read-only"
        print(
            f"aiozkreg serve: {args.path} of {args.hosts} at {served.url} ({writes}); "
            "Ctrl-C to stop",
            flush=True,
        )
        await asyncio.Event().wait()


SERVE = Command(
    "serve",
    "Serve a live web page of the tree at PATH: its architecture graph, its nodes, "
    "properties, links and providers, and the session state. Read-only unless --allow-writes.",
    _serve_args,
    _serve,
    _check,
)
