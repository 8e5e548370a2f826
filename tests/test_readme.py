"""The README's example runs as written (against the test server)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from aiozkreg import Registry

README = Path(__file__).resolve().parent.parent / "README.md"


async def test_readme_example_registers_and_discovers(
    zookeeper_hosts: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README example, as written, registers, updates config and prints the live set."""
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    assert code is not None
    assert not re.search(r"\d+\.\d+\.\d+\.\d+:\d+\"", code.group(1))  # no address in the code
    monkeypatch.setenv("AIOZKREG_HOSTS", zookeeper_hosts)  # where the example connects
    source = code.group(1).replace("asyncio.run(main())", "")
    printed: list[str] = []
    seen = asyncio.Event()

    def record(*args: object) -> None:
        printed.append(" ".join(map(str, args)))
        seen.set()

    namespace: dict[str, Any] = {"print": record}
    exec(compile(source, "README.md", "exec"), namespace)
    running = asyncio.create_task(namespace["main"]())
    async with Registry(zookeeper_hosts) as zk:
        await zk.ensure_path("/echo/providers")
        view = await zk.children("/echo/providers")
        async with asyncio.timeout(10):
            async for names in view:
                if names:
                    break
        assert list(view) == ["127.0.0.1:8080"]
        assert (await zk.get_properties("/echo"))["threads"] == 4
    async with asyncio.timeout(10):
        while "providers now: ['127.0.0.1:8080']" not in printed:
            seen.clear()
            await seen.wait()
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert running.cancelled()
