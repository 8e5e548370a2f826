"""The HTTP side of ``aiozkreg serve``: one page, its static files, its event stream, a write.

Routes (aiohttp.web):

* ``GET /`` -- the page; ``GET /static/NAME`` -- its script, styles and
  icon, shipped in the package (nothing is loaded from anywhere else);
* ``GET /events`` -- the page's server-sent events (see :mod:`._feed`);
* ``POST /api/set`` -- set or delete properties, when writes are allowed
  (see :mod:`._writes`).

Every answer carries a Content-Security-Policy that lets the page run
only its own script and talk only to this server, so even a value that
slipped into markup could not run. When the server listens on loopback,
a request whose ``Host`` is not a loopback name is refused: a web page
elsewhere cannot read the tree by pointing a name of its own at
127.0.0.1 (DNS rebinding).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web

from ._feed import Feed
from ._writes import WriteError, WritePolicy, is_loopback, write_properties

__all__ = ["make_app"]

log = logging.getLogger("aiozkreg.web")

STATIC = {
    "app.js": "text/javascript",
    "details.js": "text/javascript",
    "dom.js": "text/javascript",
    "graph.js": "text/javascript",
    "tree.js": "text/javascript",
    "style.css": "text/css",
    "icon.svg": "image/svg+xml",
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
FEED: web.AppKey[Feed] = web.AppKey("feed", Feed)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _file(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


def _host_name(host: str) -> str:
    """The name in a Host header: ``127.0.0.1:8080`` -> ``127.0.0.1``, ``[::1]:80`` -> ``::1``."""
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rpartition(":")[0] if ":" in host else host


def make_app(feed: Feed, writes: WritePolicy, *, check_host: bool) -> web.Application:
    """The application for ``feed``; ``check_host``: refuse Host names that are not loopback."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if check_host and not is_loopback(_host_name(request.host)):
            raise web.HTTPMisdirectedRequest(
                text=f"This server answers to loopback names only, not {request.host!r}.\n",
                headers=HEADERS,
            )
        response = await handler(request)
        response.headers.update(HEADERS)
        return response

    app = web.Application(middlewares=[guard], client_max_size=64 * 1024)
    app[FEED] = feed
    page = _file("index.html")
    files = {name: _file(name) for name in STATIC}

    async def index(request: web.Request) -> web.Response:
        return web.Response(body=page, content_type="text/html", charset="utf-8")

    async def static(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in files:
            raise web.HTTPNotFound(text="No such file.\n")
        return web.Response(body=files[name], content_type=STATIC[name])

    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/events", _events)
    app.router.add_post("/api/set", _setter(writes))
    return app


async def _events(request: web.Request) -> web.StreamResponse:
    """The page's server-sent events, until the page goes or the server stops."""
    feed = request.app[FEED]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "X-Accel-Buffering": "no",
            **HEADERS,
        }
    )
    await response.prepare(request)
    subscription = feed.subscribe()
    try:
        async for data in subscription:
            await response.write(data)
    except ConnectionResetError:  # the page went away: this stream is done
        log.debug("A page closed its event stream.")
    finally:
        subscription.close()
    return response


def _setter(writes: WritePolicy) -> Handler:
    async def set_properties(request: web.Request) -> web.Response:
        try:
            writes.check(
                request.remote,
                request.headers.get("X-Aiozkreg-Token"),
                request.headers.get("Origin"),
                request.host,
            )
            path, assignments, deletions = await _write_request(request)
            raw = await write_properties(request.app[FEED].zk, path, assignments, deletions)
        except WriteError as exc:
            return web.json_response({"error": str(exc)}, status=exc.status)
        log.info(
            "Page at %s set %s on %s (deleted %s).", request.remote, assignments, path, deletions
        )
        return web.json_response({"path": path, "keys": sorted(raw)})

    return set_properties


async def _write_request(request: web.Request) -> tuple[str, list[str], list[str]]:
    """``(path, ["NAME=LITERAL", ...], ["NAME", ...])`` from the JSON body, or WriteError."""
    if request.content_type != "application/json":
        raise WriteError(415, "Send the write as application/json.")
    try:
        body: Any = await request.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise WriteError(400, f"The body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise WriteError(400, "The body must be a JSON object.")
    path, assignments, deletions = body.get("path"), body.get("set", []), body.get("delete", [])
    if not isinstance(path, str) or not path.startswith("/"):
        raise WriteError(400, f"'path' must be a ZooKeeper path (starting with '/'), not {path!r}.")
    for name, value in (("set", assignments), ("delete", deletions)):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise WriteError(400, f"{name!r} must be a list of strings.")
    return path, assignments, deletions
