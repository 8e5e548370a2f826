"""Every program in examples/ runs to completion against a real server."""

from __future__ import annotations

import ast
import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from aiozkreg import Registry

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


async def _run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    text = out.decode()
    assert proc.returncode == 0, text
    return text


async def test_demo_runs_with_its_own_server() -> None:
    """The demo starts its own ZooKeeper, shows registration, discovery and restore, exits 0."""
    env = {k: v for k, v in os.environ.items() if k != "AIOZKREG_HOSTS"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / "demo.py"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode()
    assert proc.returncode == 0, text
    assert "starting a throwaway ZooKeeper" in text
    assert "request 0 -> 'echo hello 0'" in text
    assert "ZooKeeper expired my session" in text
    assert "the supervisor re-created my registration" in text
    assert text.rstrip().endswith("done: every service stopped, every session closed")


async def test_demo_uses_aiozkreg_hosts_and_removes_what_it_made(zookeeper_hosts: str) -> None:
    """With AIOZKREG_HOSTS set, the demo uses that ZooKeeper, and leaves it as it found it."""
    async with Registry(zookeeper_hosts) as zk:
        await zk.create("/demo")  # the user's: the demo makes /demo/echo/providers below it
        text = await _run(str(EXAMPLES / "demo.py"), env={"AIOZKREG_HOSTS": zookeeper_hosts})
        assert f"using the ZooKeeper at {zookeeper_hosts}" in text
        assert "starting a throwaway" not in text
        assert "removed what it made in ZooKeeper: /demo/echo" in text
        assert await zk.get_children("/demo") == []


@pytest.mark.parametrize(
    "example", sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
)
async def test_every_example_explains_itself_with_help(example: str) -> None:
    """``--help`` prints the example's usage and docstring, and exits 0 without starting."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / example),
        "--help",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert (proc.returncode, err) == (0, b"")
    doc = ast.get_docstring(ast.parse((EXAMPLES / example).read_text()))
    assert doc is not None
    assert out.decode().startswith(f"usage: {example} [-h]")
    assert doc.splitlines()[0] in out.decode()


async def test_provider_registers_for_its_lifetime_and_client_balances(
    zookeeper_hosts: str,
) -> None:
    """provider.py registers while it runs and unregisters on Ctrl-C; client.py reaches it."""
    path = "/demo/echo/providers"
    async with Registry(zookeeper_hosts) as zk:
        await zk.ensure_path(path)
        view = await zk.children(path)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(EXAMPLES / "provider.py"),
            path,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "AIOZKREG_HOSTS": zookeeper_hosts},
        )
        try:
            async with asyncio.timeout(30):
                async for names in view:
                    if names:
                        break
            out = await _run(
                str(EXAMPLES / "client.py"), path, env={"AIOZKREG_HOSTS": zookeeper_hosts}
            )
            assert out.splitlines() == [f"echo request {i}" for i in range(5)]
        finally:
            proc.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(proc.wait(), 30) == 0
        async with asyncio.timeout(30):
            async for names in view:
                if not names:
                    break


async def test_config_reload_follows_properties(zookeeper_hosts: str) -> None:
    """config_reload.py resizes its pool on every change of the watched property."""
    out = await _run(
        str(EXAMPLES / "config_reload.py"), "/echo", "3", env={"AIOZKREG_HOSTS": zookeeper_hosts}
    )
    assert "pool resized 0 -> 1" in out
    assert out.rstrip().endswith("pool follows the configuration: 4 threads")


async def test_architecture_example(zookeeper_hosts: str) -> None:
    """architecture.py imports, resolves, dry-runs, trims and exports a tree, then cleans up."""
    out = await _run(str(EXAMPLES / "architecture.py"), env={"AIOZKREG_HOSTS": zookeeper_hosts})
    assert "the load balancer's providers live at /cms/providers" in out
    assert "dry run: /cms threads change from 3 to 4" in out
    assert "dry run: would delete /lb/pools/cms." in out
    assert out.rstrip().endswith("/lb : ipvs\n  /pools")
    async with Registry(zookeeper_hosts) as zk:
        assert await zk.exists("/example") is None


async def test_examples_run_against_a_throwaway_server() -> None:
    """Without AIOZKREG_HOSTS, each self-contained example starts its own ZooKeeper."""
    env = {k: v for k, v in os.environ.items() if k != "AIOZKREG_HOSTS"}
    runs = [
        ("architecture.py",),
        ("config_reload.py", "/echo", "2"),
        ("client.py", "/echo/providers"),
    ]
    for args in runs:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(EXAMPLES / args[0]),
            *args[1:],
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, (args, out, err)
        assert b"using a throwaway ZooKeeper" in err
    assert out.decode().splitlines() == [f"echo request {i}" for i in range(5)]
