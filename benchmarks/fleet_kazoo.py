"""The fleet benchmark's kazoo worker: kazoo clients under the same events, for comparison.

Driven like ``fleet_worker.py`` (JSON lines on stdin and stdout). Each
client is a ``KazooClient`` with the same session timeout as the fleet's
registries, holding one ephemeral node; its state changes are timed on
``time.monotonic()`` from kazoo's state listener.

    python benchmarks/fleet_kazoo.py HOSTS COUNT
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import threading
import time
from typing import Any

from kazoo.client import KazooClient, KazooState

clock = time.monotonic

ROOT = "/fleet-kazoo"
SESSION_TIMEOUT = 10.0


class Client:
    def __init__(self, index: int, hosts: str) -> None:
        self.index = index
        self.hosts = hosts
        self.client = KazooClient(hosts=hosts, timeout=SESSION_TIMEOUT)
        self.states: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        self.client.add_listener(self._listen)

    def _listen(self, state: str) -> None:
        with self.lock:
            self.states.append((clock(), str(state)))

    def start(self) -> None:
        self.client.start(timeout=30)
        self.client.ensure_path(ROOT)
        node = f"{ROOT}/client-{self.index}"
        if self.client.exists(node):  # the session before ours may still be closing
            self.client.delete(node)
        self.client.create(node, b"", ephemeral=True)

    def session(self) -> int:
        return int(self.client.client_id[0]) if self.client.client_id else 0

    def server(self) -> str | None:
        with contextlib.suppress(Exception):
            host, port = self.client._connection._socket.getpeername()[:2]
            return f"{host}:{port}"
        return None

    def back(self, since: float) -> dict[str, Any]:
        with self.lock:
            after = [(at, s) for at, s in self.states if at > since]
        lost = any(s != KazooState.CONNECTED for _, s in after)
        attached = next((at for at, s in reversed(after) if s == KazooState.CONNECTED), None)
        return {
            "member": self.index,
            "lost": lost,
            "attached": attached if lost else None,
            "expired": any(s == KazooState.LOST for _, s in after),
            "server": self.server(),
        }


def stop(c: Client) -> None:
    c.client.stop()
    c.client.close()


async def serve(clients: list[Client]) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        request = json.loads(line)
        op, ident = request.pop("op"), request.pop("id", None)
        reply: dict[str, Any] = {"ok": True}
        if op == "quit":
            break
        if op == "setup":
            started = clock()
            await asyncio.gather(*(asyncio.to_thread(c.start) for c in clients))
            reply["seconds"] = clock() - started
        elif op == "back":
            deadline = clock() + request["timeout"]
            since, grace = request["since"], request["grace"]
            while True:  # until every client that lost its link is attached again
                rows = [c.back(since) for c in clients]
                waiting = [r for r in rows if r["lost"] and r["attached"] is None]
                if (clock() > since + grace and not waiting) or clock() > deadline:
                    break
                await asyncio.sleep(0.05)
            reply["members"] = rows
        elif op == "respawn":  # new clients (new sessions, spread over the servers afresh)
            await asyncio.gather(*(asyncio.to_thread(stop, c) for c in clients))
            clients[:] = [Client(c.index, c.hosts) for c in clients]
            await asyncio.gather(*(asyncio.to_thread(c.start) for c in clients))
        elif op == "sessions":
            reply["members"] = [
                {"member": c.index, "session": c.session(), "server": c.server()} for c in clients
            ]
        else:
            reply = {"ok": False, "error": f"unknown command {op}"}
        reply["id"] = ident
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()

    await asyncio.gather(*(asyncio.to_thread(stop, c) for c in clients))


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("kazoo").setLevel(logging.CRITICAL)
    hosts, count = sys.argv[1], int(sys.argv[2])
    asyncio.run(serve([Client(i, hosts) for i in range(count)]))


if __name__ == "__main__":
    main()
