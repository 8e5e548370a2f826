"""The code in the documentation runs as written (against the test server)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _first_python_block(name: str, hosts: str) -> str:
    text = (DOCS / name).read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S)
    assert block is not None
    return block.group(1).replace('"127.0.0.1:2181"', repr(hosts))


async def test_index_example_runs(zookeeper_hosts: str) -> None:
    """docs/index.md's example registers, discovers, writes config and round-trips a tree."""
    source = _first_python_block("index.md", zookeeper_hosts).replace("asyncio.run(main())", "")
    printed: list[str] = []
    namespace: dict[str, Any] = {"print": lambda *a: printed.append(" ".join(map(str, a)))}
    exec(compile(source, "docs/index.md", "exec"), namespace)
    await namespace["main"]()
    assert printed[0] == "['10.0.0.5:8080']"
    assert printed[1] == "/lb : ipvs\n  /pools\n    /echo\n      providers -> /echo/providers\n"


async def test_testing_doc_example(registry: Any) -> None:
    """docs/testing.md's plugin example passes as written."""
    text = (DOCS / "testing.md").read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S)
    assert block is not None
    namespace: dict[str, Any] = {}
    exec(compile(block.group(1), "docs/testing.md", "exec"), namespace)
    await namespace["test_provider_is_restored"](registry)
