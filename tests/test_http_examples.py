"""The HTTP echo examples (examples/http_provider.py, examples/http_client.py) run as programs."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from aiozkreg import Registry

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXPECTED = [f"echo request {i}" for i in range(5)]


async def _run(*args: str, env: dict[str, str], timeout: float = 60) -> tuple[str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode == 0, (out, err)
    return out.decode(), err.decode()


async def test_http_provider_registers_and_http_client_calls_it(zookeeper_hosts: str) -> None:
    """http_provider.py registers while it runs; http_client.py calls it by name; Ctrl-C ends it."""
    path = "/demo/echo/http"
    env = {**os.environ, "AIOZKREG_HOSTS": zookeeper_hosts}
    async with Registry(zookeeper_hosts) as zk:
        await zk.ensure_path(path)
        view = await zk.children(path)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(EXAMPLES / "http_provider.py"), path,
            stdout=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        try:
            async with asyncio.timeout(30):
                async for names in view:
                    if names:
                        break
            out, _ = await _run(str(EXAMPLES / "http_client.py"), path, env=env)
            assert out.splitlines() == EXPECTED
        finally:
            proc.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(proc.wait(), 30) == 0
        async with asyncio.timeout(30):
            async for names in view:
                if not names:
                    break


async def test_http_client_runs_against_a_throwaway_server() -> None:
    """Without AIOZKREG_HOSTS, http_client.py starts a ZooKeeper and two providers of its own."""
    env = {k: v for k, v in os.environ.items() if k != "AIOZKREG_HOSTS"}
    out, err = await _run(str(EXAMPLES / "http_client.py"), env=env)
    assert "using a throwaway ZooKeeper" in err
    assert out.splitlines() == EXPECTED
