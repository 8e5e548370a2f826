"""Issue 13: what calling a provider through ``aiozkreg.httpx.ZooKeeperTransport`` costs.

One HTTP/1.1 server (a minimal keep-alive asyncio server in a process of
its own, so its CPU is not the client's) is registered as the only
provider of a service. The same GETs go to it two ways, in one run:

- ``bare httpx``: an ``httpx.AsyncClient`` sending to ``http://127.0.0.1:PORT/``;
- ``ZooKeeperTransport (p2c)``: an ``httpx.AsyncClient`` on the transport,
  sending to ``http://echo/``: a pick, a lease held until the body is
  read, the URL and ``Host`` aimed at the provider.

Each round sends N GETs one at a time, then N with 10 in flight, through
each client, the clients taking turns every 50 requests (so that a slow
spell of the shared machine hits both), and records requests per second
and the client process's CPU time (``time.process_time``) per request.
Round 0 warms up and is not counted. The goal: the transport adds
at most 10 % CPU per request (a ratio of at least 0.91 against bare httpx).

Run alone, ``python bench_http.py --serve`` is that server: it prints its
port and serves until its standard input closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator

import httpx
from _bench import Benchmark, Comparison, Context, Measurement, quiet
from _common import Rows

from aiozkreg import Registry
from aiozkreg.httpx import ZooKeeperTransport

ORDER = 60
SECTION = "Calling providers: the httpx transport"
BARE = "bare httpx"
TRANSPORT = "ZooKeeperTransport (p2c)"
IN_FLIGHT = 10
BLOCK = 50  # requests per client before the other client's turn
CPU_TARGET = 1 / 1.10  # at most 10 % more CPU per request than bare httpx

_BODY = b"hello"
_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n" + _BODY


# -- the provider: a separate process ---------------------------------------------------


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
        while True:
            await reader.readuntil(b"\r\n\r\n")  # GETs only: no body to read
            writer.write(_RESPONSE)
            await writer.drain()
    writer.close()


async def _serve() -> None:
    server = await asyncio.start_server(_answer, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the benchmark closes our stdin
    server.close()


@contextlib.asynccontextmanager
async def _provider_process() -> AsyncIterator[int]:
    """Start the server process; its port; stop it after."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        async with asyncio.timeout(30):
            port = int(await proc.stdout.readline())
        yield port
    finally:
        proc.stdin.close()
        try:
            async with asyncio.timeout(10):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


# -- the measurement --------------------------------------------------------------------


async def _block(
    client: httpx.AsyncClient, url: str, n: int, in_flight: int
) -> tuple[float, float]:
    """Send ``n`` GETs, ``in_flight`` at a time: (wall seconds, client CPU seconds)."""

    async def worker(count: int) -> None:
        for _ in range(count):
            response = await client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code}")

    cpu, wall = time.process_time(), time.perf_counter()
    if in_flight == 1:
        await worker(n)
    else:
        async with asyncio.TaskGroup() as group:
            for _ in range(in_flight):
                group.create_task(worker(n // in_flight))
    return time.perf_counter() - wall, time.process_time() - cpu


async def _interleaved(
    clients: dict[str, tuple[httpx.AsyncClient, str]], n: int, in_flight: int
) -> dict[str, tuple[float, float]]:
    """``n`` GETs per client, in blocks of ``BLOCK`` taking turns, so a slow spell of the
    shared machine hits every client alike: (requests per second, CPU µs per request)."""
    spent = {name: [0.0, 0.0] for name in clients}
    quiet()
    for block in range(n // BLOCK):
        names = list(clients) if block % 2 else list(reversed(clients))
        for name in names:
            client, url = clients[name]
            wall, cpu = await _block(client, url, BLOCK, in_flight)
            spent[name][0] += wall
            spent[name][1] += cpu
    done = n // BLOCK * BLOCK
    return {name: (done / wall, cpu / done * 1e6) for name, (wall, cpu) in spent.items()}


async def run_http(ctx: Context) -> list[Measurement]:
    n = ctx.scale(2000, 400)
    rows = Rows(SECTION)
    async with _provider_process() as port, Registry(ctx.address) as zk:
        path = ctx.fresh_path("http")
        await zk.ensure_path(path)
        await zk.register(path, f"127.0.0.1:{port}")
        transport = ZooKeeperTransport(zk, {"echo": path}, strategy="p2c")
        clients = {
            BARE: (httpx.AsyncClient(), f"http://127.0.0.1:{port}/"),
            TRANSPORT: (httpx.AsyncClient(transport=transport), "http://echo/"),
        }
        try:
            for round_ in range(ctx.rounds + 1):
                for in_flight, label in ((1, "one at a time"), (IN_FLIGHT, "10 in flight")):
                    measured = await _interleaved(clients, n, in_flight)
                    if round_ == 0:
                        continue  # warm-up
                    for name, (rps, cpu) in measured.items():
                        rows.add(f"GET, {label}: requests per second", "req/s", "higher", name, rps)
                        rows.add(f"GET, {label}: client CPU per request", "µs", "lower", name, cpu)
        finally:
            for client, _ in clients.values():
                await client.aclose()
    return rows.measurements([BARE, TRANSPORT])


BENCHMARKS = [
    Benchmark(
        name="http",
        section=SECTION,
        description=(
            "GETs to one provider: through ZooKeeperTransport against a bare httpx.AsyncClient "
            "(requests per second, client CPU per request)."
        ),
        run=run_http,
        comparisons=(Comparison(TRANSPORT, BARE, {"CPU per request": CPU_TARGET}),),
    ),
]


if __name__ == "__main__" and sys.argv[1:] == ["--serve"]:
    asyncio.run(_serve())
