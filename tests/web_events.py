"""Reading aiozkreg serve's event stream as a page does, without a browser (aiohttp's client).

:class:`PageState` applies the events the way the page's script does, so
a test can wait until "the page" shows something, bounded, with no sleep.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp


@dataclass
class PageState:
    """What a page knows: nodes by path, the graph, the session, the status, the config."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    graph: dict[str, Any] | None = None
    session: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)

    def apply(self, event: str, data: Any) -> None:
        self.events.append(event)
        if event == "reset":
            self.config, self.session, self.status = data["config"], data["session"], data["status"]
            self.nodes = {node["path"]: node for node in data["model"]["nodes"]}
            self.graph = data["model"]["graph"]
        elif event == "delta":
            for path in data["removed"]:
                self.nodes.pop(path, None)
            self.nodes.update((node["path"], node) for node in data["upserts"])
            if data["graph"] is not None:
                self.graph = data["graph"]
        elif event == "session":
            self.session = data
        elif event == "status":
            self.status = data

    def vertex(self, path: str) -> dict[str, Any]:
        assert self.graph is not None
        for vertex in self.graph["vertices"]:
            if vertex["path"] == path:
                return vertex
        raise KeyError(path)

    def property(self, path: str, key: str) -> dict[str, Any]:
        for row in self.nodes[path]["properties"]:
            if row["key"] == key:
                return row
        raise KeyError(key)


class EventStream:
    """One open ``/events`` stream: events one by one, or until the page shows something."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.page = PageState()

    async def next(self, timeout: float = 10) -> tuple[str, Any]:
        """The next event (comments and ``retry:`` lines skipped); EOFError at the end."""
        event, data = "message", []
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.response.content.readline()
                if not raw:
                    raise EOFError("the event stream ended")
                line = raw.decode().rstrip("\n")
                if line == "":
                    if data:
                        value = json.loads("\n".join(data))
                        self.page.apply(event, value)
                        return event, value
                    event = "message"
                elif line.startswith("event: "):
                    event = line[len("event: ") :]
                elif line.startswith("data: "):
                    data.append(line[len("data: ") :])

    async def until(self, shown: Callable[[PageState], Any], timeout: float = 10) -> PageState:
        """Read events until ``shown(page)`` is true (a KeyError: not yet); the page then."""
        async with asyncio.timeout(timeout):
            while not _holds(shown, self.page):
                await self.next(timeout)
        return self.page


def _holds(shown: Callable[[PageState], Any], page: PageState) -> bool:
    try:
        return bool(shown(page))
    except KeyError:  # the node (or vertex) is not on the page yet
        return False


@asynccontextmanager
async def events(url: str) -> AsyncIterator[EventStream]:
    """The event stream of the page at ``url``, its first (reset) event read."""
    async with aiohttp.ClientSession() as client, client.get(url + "events") as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/event-stream")
        stream = EventStream(response)
        kind, _ = await stream.next()
        assert kind == "reset"
        yield stream
