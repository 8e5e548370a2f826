"""Driving Apache Curator's own Java client (tests/java/CuratorProbe.java) from the tests.

The probe is compiled once per test session and run as a subprocess per
test, on the test's chrooted connect string. It answers each command with
one line ``TAG JSON``; a ``ServiceCache`` it was asked to follow writes a
``CACHE`` line whenever the cache changes. Every read is bounded by a
timeout: nothing here sleeps.

The jars come from Debian's ``libcurator-discovery-java`` and
``libcurator-recipes-java`` (``make setup`` installs them when it can);
``AIOZKREG_CURATOR_CLASSPATH`` overrides the classpath on other systems.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import IO, Any

SOURCE = Path(__file__).resolve().parent / "java" / "CuratorProbe.java"
JAVA_DIR = Path("/usr/share/java")
JARS = [
    "curator-x-discovery",
    "curator-recipes",
    "curator-framework",
    "curator-client",
    "zookeeper",
    "zookeeper-jute",
    "guava",
    "jackson-databind",
    "jackson-core",
    "jackson-annotations",
    "slf4j-api",
    "slf4j-nop",
]
TIMEOUT = 30.0


def classpath() -> list[str]:
    """The jars Curator's x-discovery needs, from the environment or Debian's packages."""
    given = os.environ.get("AIOZKREG_CURATOR_CLASSPATH")
    if given:
        return [p for p in given.split(os.pathsep) if p]
    return [str(JAVA_DIR / f"{jar}.jar") for jar in JARS]


def unavailable() -> str | None:
    """Why the probe cannot run here (a sentence), or None if it can."""
    for tool in ("java", "javac"):
        if shutil.which(tool) is None:
            return f"{tool} is not on PATH (install openjdk-17-jdk-headless)"
    missing = [p for p in classpath() if not Path(p).is_file()]
    if missing:
        return (
            f"Curator's jars are missing ({', '.join(missing)}): install Debian's "
            "libcurator-discovery-java and libcurator-recipes-java, or set "
            "AIOZKREG_CURATOR_CLASSPATH"
        )
    return None


def compile_probe(destination: Path) -> Path:
    """Compile the probe into ``destination``; the directory to put on the classpath."""
    result = subprocess.run(
        ["javac", "-nowarn", "-d", str(destination), "-cp", os.pathsep.join(classpath()), SOURCE],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"javac failed on {SOURCE}:\n{result.stdout}{result.stderr}")
    return destination


class ProbeError(Exception):
    """The probe answered ERROR: a Java exception while running a command."""

    def __init__(self, value: dict[str, Any]) -> None:
        super().__init__(f"{value.get('type')}: {value.get('message')}")
        self.type = str(value.get("type"))
        self.value = value


class CuratorProbe:
    """One running probe: ``async with CuratorProbe(classes, hosts, log) as curator:``."""

    def __init__(self, classes: Path, hosts: str, stderr_path: Path) -> None:
        self._command = [
            "java",
            "-cp",
            os.pathsep.join([str(classes), *classpath()]),
            "CuratorProbe",
            hosts,
        ]
        self._stderr_path = stderr_path
        self._stderr: IO[bytes] | None = None
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> CuratorProbe:
        self._stderr = self._stderr_path.open("wb")
        self._process = await asyncio.create_subprocess_exec(
            *self._command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._stderr,
        )
        try:
            await self.expect("READY")
        except BaseException:
            await self._stop()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stop()

    async def _stop(self) -> None:
        process = self._process
        try:
            if process is not None and process.returncode is None:
                assert process.stdin is not None
                try:
                    process.stdin.write(b"quit\n")
                    await process.stdin.drain()
                    process.stdin.close()
                    async with asyncio.timeout(15):
                        await process.wait()
                except (TimeoutError, ConnectionError):
                    process.kill()
                    await process.wait()
        finally:
            if self._stderr is not None:
                self._stderr.close()

    async def next(self, timeout: float = TIMEOUT) -> tuple[str, Any]:
        """The next line the probe writes, as (tag, decoded JSON)."""
        assert self._process is not None and self._process.stdout is not None
        async with asyncio.timeout(timeout):
            line = await self._process.stdout.readline()
        if not line:
            await self._process.wait()
            stderr = self._stderr_path.read_text(errors="replace")[-4000:]
            raise AssertionError(
                f"the Curator probe exited ({self._process.returncode}); stderr:\n{stderr}"
            )
        tag, _, rest = line.decode().rstrip("\n").partition(" ")
        return tag, json.loads(rest) if rest else None

    async def expect(self, tag: str, timeout: float = TIMEOUT) -> Any:
        """The value of the next line, which must carry ``tag`` (ERROR raises ProbeError)."""
        got, value = await self.next(timeout)
        if got == "ERROR" and tag != "ERROR":
            raise ProbeError(value)
        assert got == tag, f"expected {tag}, the probe said {got} {value}"
        return value

    async def send(self, *words: str) -> None:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write((" ".join(words) + "\n").encode())
        await self._process.stdin.drain()

    async def query(self, base: str, service: str, payload: str = "map") -> list[dict[str, Any]]:
        """Every instance of ``service``, read by a ``ServiceDiscovery<Map|Void|String>``."""
        await self.send("query", base, service, payload)
        instances: list[dict[str, Any]] = await self.expect("INSTANCES")
        return instances

    async def cache(self, base: str, service: str) -> list[dict[str, Any]]:
        """Start a ``ServiceCache`` of ``service``; its instances now (``CACHE`` lines follow)."""
        await self.send("cache", base, service)
        instances: list[dict[str, Any]] = await self.expect("CACHE")
        return instances

    async def register(self, base: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Register an instance through Curator; the node's path and the data Curator wrote."""
        await self.send("register", base, json.dumps(spec, separators=(",", ":")))
        registered: dict[str, Any] = await self.expect("REGISTERED")
        return registered
