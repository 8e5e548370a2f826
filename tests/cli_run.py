"""Running the console scripts and ``aiozkreg`` as subprocesses, as a user's shell does."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent


@dataclass
class Result:
    code: int
    out: str
    err: str
    seconds: float

    def error_line(self) -> str:
        """The one line on stderr (asserting that there is exactly one, and no traceback)."""
        assert "Traceback" not in self.err, self.err
        lines = self.err.splitlines()
        assert len(lines) == 1 and self.err.endswith("\n"), self.err
        return lines[0]


def command(name: str, *args: str) -> list[str]:
    """The argv running a console script (installed next to this Python) or the umbrella."""
    if name == "aiozkreg":
        return [sys.executable, "-m", "aiozkreg", *args]
    return [str(BIN / name), *args]


async def run(
    name: str,
    *args: str,
    stdin: str | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 30,
) -> Result:
    began = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *command(name, *args),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    try:
        out, err = await asyncio.wait_for(
            proc.communicate(stdin.encode() if stdin is not None else None), timeout
        )
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode(), time.monotonic() - began)
