"""``aiozkreg serve`` as a command, and ``make demo-web``'s example, as processes."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from web_events import events

from aiozkreg import Registry

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SERVE = [sys.executable, "-m", "aiozkreg", "serve"]
URL = re.compile(r"(http://\S+/)")


@asynccontextmanager
async def running(*argv: str, env: dict[str, str] | None = None) -> AsyncIterator[Process]:
    """A process for the block's lifetime (killed if the test leaves it running)."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    try:
        yield Process(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


class Process:
    """A running command whose stdout is read line by line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    async def line(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """Read stdout until a line matches ``pattern``."""
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.proc.stdout.readline()
                assert raw, f"stdout ended; it said: {self.lines}"
                self.lines.append(raw.decode())
                found = re.search(pattern, self.lines[-1])
                if found:
                    return found

    async def interrupt(self, timeout: float = 30) -> tuple[int, str, str]:
        """Ctrl-C: the exit status, the rest of stdout, stderr."""
        self.proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(timeout):
            out, err = await self.proc.communicate()
        return self.proc.returncode or 0, out.decode(), err.decode()


async def test_serve_serves_the_page_until_ctrl_c(zookeeper_hosts: str) -> None:
    """aiozkreg serve prints its address, serves the page and its stream, and Ctrl-C exits 0."""
    async with Registry(zookeeper_hosts) as zk:
        await zk.create("/app/x", makepath=True)
    async with running(*SERVE, zookeeper_hosts, "/app", "--listen", "127.0.0.1:0") as serve:
        url = (await serve.line(r"aiozkreg serve: /app of .* at (http://\S+/) \(read-only\)"))[1]
        async with aiohttp.ClientSession() as client, client.get(url) as response:
            assert response.status == 200
            assert "<title>aiozkreg serve</title>" in await response.text()
        async with events(url) as stream:
            await stream.until(lambda page: "/app/x" in page.nodes)
        code, _, err = await serve.interrupt()
    assert code == 0, err
    assert err.strip().endswith("aiozkreg serve: stopped")


async def finished(*argv: str) -> tuple[int, str]:
    """Run a command to its end: its exit status and stderr."""
    proc = await asyncio.create_subprocess_exec(*argv, stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(60):
        _, err = await proc.communicate()
    return proc.returncode or 0, err.decode()


async def test_serve_reports_bad_input_and_failures_in_one_line() -> None:
    """A bad --listen or PATH exits 2, an unreachable ZooKeeper exits 1, each in one line."""
    code, err = await finished(*SERVE, "127.0.0.1:2181", "--listen", "8080")
    assert (code, err.splitlines()) == (2, [err.rstrip("\n")])
    assert err.startswith("aiozkreg serve: error: --listen wants HOST:PORT")
    code, err = await finished(*SERVE, "127.0.0.1:2181", "/a/")
    assert (code, err.splitlines()) == (2, [err.rstrip("\n")])
    code, err = await finished(*SERVE, "127.0.0.1:1", "--timeout", "1")
    assert (code, err.splitlines()) == (1, [err.rstrip("\n")])
    assert err.startswith("aiozkreg serve: error: Can't connect to ZooKeeper")


async def test_the_web_demo_serves_the_readme_tree_and_cleans_up(zookeeper_hosts: str) -> None:
    """make demo-web: the README's tree, a provider coming and going; Ctrl-C removes its chroot."""
    demo = [sys.executable, str(EXAMPLES / "web_demo.py"), "--listen", "127.0.0.1:0"]
    async with running(*demo, "--every", "0.3", env={"AIOZKREG_HOSTS": zookeeper_hosts}) as run:
        url = (await run.line(r"serving the page at (http://\S+/)"))[1]
        async with events(url) as stream:
            page = await stream.until(lambda p: p.graph is not None and "/lb/pools/cms" in p.nodes)
            assert "2 providers" in page.vertex("/cms")["lines"]
            await stream.until(lambda p: "/retail/providers/127.0.0.1:8090" in p.nodes)
            await stream.until(lambda p: "/retail/providers/127.0.0.1:8090" not in p.nodes)
        code, out, err = await run.interrupt()
    assert code == 0, err
    assert "removed /aiozkreg-web-demo" in out
    async with Registry(zookeeper_hosts) as zk:
        assert await zk.exists("/aiozkreg-web-demo") is None
