"""Running the web view: a registry, its feed, and the HTTP server, started and stopped together.

:func:`serving` is the whole lifecycle as one ``async with``: it connects
to ZooKeeper, listens, and runs the :class:`~._feed.Feed` in a task group
it owns; on the way out it ends every page's stream, stops the HTTP
server (bounded: :data:`SHUTDOWN` seconds) and closes the registry. A
failure of the feed (a bug of ours) cancels the block and is raised from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from .. import _paths
from .._address import join_address, split_address
from .._registry import Registry
from ._app import make_app
from ._feed import Feed
from ._writes import WritePolicy, is_loopback

__all__ = ["DEFAULT_LISTEN", "Listen", "ListenError", "Served", "parse_listen", "serving"]

log = logging.getLogger("aiozkreg.web")

DEFAULT_LISTEN = "127.0.0.1:8080"
SHUTDOWN = 2.0
"""Seconds the HTTP server waits for requests in flight when it stops."""


class ListenError(OSError):
    """The address to serve on cannot be listened on (in use, not this machine's, ...)."""


@dataclass(frozen=True)
class Listen:
    """Where to listen: ``host`` (a name or address) and ``port`` (0: any free one)."""

    host: str
    port: int

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def parse_listen(text: str) -> Listen:
    """``HOST:PORT`` or ``[IPV6]:PORT`` -> :class:`Listen`; ``ValueError`` otherwise."""
    try:
        host, port = split_address(text.strip())
    except ValueError:
        raise ValueError(
            f"--listen wants HOST:PORT (or [IPV6]:PORT), such as {DEFAULT_LISTEN}, not {text!r}"
        ) from None
    if not host:
        raise ValueError(
            f"--listen needs a host: 127.0.0.1:{port} (this machine only) or 0.0.0.0:{port} "
            "(every interface)"
        )
    return Listen(host, port)


@dataclass(frozen=True)
class Served:
    """A running web view: its ``url``, the registry and the feed behind it."""

    url: str
    zk: Registry
    feed: Feed


def _hidden(hosts: str, path: str) -> str | None:
    """ZooKeeper's own /zookeeper is left out of a whole unchrooted tree, as export leaves it."""
    if _paths.parse_hosts(hosts).chroot or path.rstrip("/").startswith("/zookeeper"):
        return None
    return "/zookeeper"


@contextlib.asynccontextmanager
async def _running(feed: Feed) -> AsyncIterator[None]:
    """Run ``feed`` for the block; its failure cancels the block and is raised from it.

    (As a task group would, but a failure of the block itself is raised as it
    is, not wrapped in an exception group.)
    """
    host = asyncio.current_task()
    assert host is not None
    task = asyncio.create_task(feed.run(), name="aiozkreg serve: feed")

    def failure() -> BaseException | None:
        return None if not task.done() or task.cancelled() else task.exception()

    def done(_: object) -> None:
        if failure() is not None:
            host.cancel()  # the owner hears of it now, not at the end of the block

    task.add_done_callback(done)
    try:
        yield
    except asyncio.CancelledError:
        error = failure()
        if error is not None and host.uncancel() == 0:  # we cancelled the block: say why
            raise error from None
        raise
    finally:
        task.remove_done_callback(done)
        feed.close()
        task.cancel()
        await asyncio.wait({task})
    error = failure()
    if error is not None:
        raise error


@contextlib.asynccontextmanager
async def serving(
    hosts: str,
    path: str = "/",
    *,
    listen: str = DEFAULT_LISTEN,
    allow_writes: bool = False,
    timeout: float = 10.0,
) -> AsyncIterator[Served]:
    """Serve the live view of ``path`` in ``hosts``'s ZooKeeper for the block's lifetime.

    Raises ``ValueError`` for a bad ``listen`` or ``hosts``, ``FailedConnect``
    if ZooKeeper cannot be reached within ``timeout``, ``OSError`` if the
    address cannot be listened on.
    """
    where = parse_listen(listen)
    _paths.validate(path)
    writes = WritePolicy(allowed=allow_writes, remote=not where.loopback)
    config = {"hosts": hosts, "path": path, "writes": allow_writes, "token": writes.token}
    zk = Registry(hosts, connect_timeout=timeout)
    await zk.start(timeout=timeout)
    try:
        feed = Feed(zk, path, hide=_hidden(hosts, path), config=config)
        app = make_app(feed, writes, check_host=where.loopback)
        runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, where.host, where.port)
            try:
                await site.start()
            except OSError as exc:
                raise ListenError(
                    exc.errno, f"Cannot listen on {listen}: {exc.strerror or exc}."
                ) from exc
            bound = runner.addresses[0]
            url = f"http://{join_address(where.host, bound[1])}/"
            log.info("Serving the live view of %s at %s.", path, url)
            async with _running(feed):
                yield Served(url, zk, feed)
        finally:
            feed.close()
            await runner.cleanup()
    finally:
        await zk.close()
