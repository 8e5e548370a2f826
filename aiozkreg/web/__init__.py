"""``aiozkreg serve``: a live web view of a tree, its services and their providers.

Installed with the ``web`` extra (``pip install 'aiozkreg[web]'``). From
the command line: ``aiozkreg serve HOSTS [PATH]``; from Python::

    from aiozkreg.web import serving

    async with serving("zk1:2181", "/", listen="127.0.0.1:8080") as served:
        print("open", served.url)
        await asyncio.Event().wait()  # until cancelled

One page shows the architecture graph of PATH (as ``aiozkreg graph``
draws it), a browser of its nodes, properties, links and providers, and
the session state, all kept live over one server-sent-events stream fed
by one ``zk.tree(PATH)``. See docs/web.md.

Modules: ``_model`` and ``_layout`` (pure: what the page is told, where
the graph's boxes go), ``_feed`` (the tree and the session state fanned
out to pages), ``_writes`` (who may set properties, and the write),
``_app`` (HTTP routes and their safety headers), ``_server`` (the
lifecycle); ``static/`` holds the page.
"""

from __future__ import annotations

try:
    import aiohttp.web  # noqa: F401
except ImportError as exc:  # pragma: no cover - the extra is not installed
    raise ImportError("aiozkreg serve needs aiohttp: pip install 'aiozkreg[web]'.") from exc

from ._server import DEFAULT_LISTEN, ListenError, Served, parse_listen, serving

__all__ = ["DEFAULT_LISTEN", "ListenError", "Served", "parse_listen", "serving"]
