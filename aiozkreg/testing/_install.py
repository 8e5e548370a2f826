"""Finding a ZooKeeper installation and a Java runtime to run it with.

Search order, first match wins:

1. ``ZOOKEEPER_CLASSPATH``: explicit jars (or ``dir/*``), ``os.pathsep``-separated;
2. ``ZOOKEEPER_HOME`` or ``ZOOKEEPER_PATH``: an unpacked Apache release
   (``lib/*.jar``, a top-level ``zookeeper-*.jar`` if present, ``conf/``);
3. Debian's ``zookeeper`` package: ``/usr/share/java/zookeeper.jar``, plus the
   ``slf4j-simple`` logger binding and ``netty-codec`` that its classpath lacks.

Java comes from ``JAVA_HOME/bin/java``, else from ``PATH``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ._errors import ZooKeeperNotFound

__all__ = ["ZooKeeperInstall", "find_zookeeper"]

DEBIAN_JAVA_DIR = Path("/usr/share/java")
_DEBIAN_EXTRAS = ("slf4j-simple.jar", "netty-codec.jar")

_HOW_TO_INSTALL = (
    "Install Debian's package (apt-get install zookeeper), "
    "or set ZOOKEEPER_HOME to an unpacked Apache ZooKeeper release, "
    "or set ZOOKEEPER_CLASSPATH to its jars."
)


@dataclass(frozen=True)
class ZooKeeperInstall:
    """A Java runtime and the classpath of a ZooKeeper server."""

    java: str
    classpath: tuple[str, ...]
    source: str

    @property
    def classpath_arg(self) -> str:
        """The classpath as one ``-cp`` argument."""
        return os.pathsep.join(self.classpath)


def find_zookeeper(environ: Mapping[str, str] | None = None) -> ZooKeeperInstall:
    """Find ZooKeeper and Java, or raise :class:`ZooKeeperNotFound` saying how to get them."""
    env = os.environ if environ is None else environ
    classpath, source = _find_classpath(env)
    return ZooKeeperInstall(java=_find_java(env), classpath=classpath, source=source)


def _find_classpath(env: Mapping[str, str]) -> tuple[tuple[str, ...], str]:
    explicit = env.get("ZOOKEEPER_CLASSPATH", "").strip()
    if explicit:
        entries = tuple(e for e in explicit.split(os.pathsep) if e)
        missing = [e for e in entries if not _entry_exists(e)]
        if missing:
            raise ZooKeeperNotFound(
                f"ZOOKEEPER_CLASSPATH names missing files: {', '.join(missing)}. {_HOW_TO_INSTALL}"
            )
        return entries, "ZOOKEEPER_CLASSPATH"
    for name in ("ZOOKEEPER_HOME", "ZOOKEEPER_PATH"):
        home = env.get(name, "").strip()
        if home:
            return _release_classpath(Path(home), name), f"{name}={home}"
    jar = DEBIAN_JAVA_DIR / "zookeeper.jar"
    if jar.is_file():
        extras = [DEBIAN_JAVA_DIR / e for e in _DEBIAN_EXTRAS]
        return tuple(str(p) for p in [jar, *extras] if p.is_file()), f"Debian package ({jar})"
    raise ZooKeeperNotFound(f"No ZooKeeper installation found. {_HOW_TO_INSTALL}")


def _entry_exists(entry: str) -> bool:
    if entry.endswith("*"):
        return Path(entry.rstrip("*") or ".").is_dir()
    return Path(entry).exists()


def _release_classpath(home: Path, variable: str) -> tuple[str, ...]:
    jars = sorted(home.glob("zookeeper-*.jar")) + sorted((home / "lib").glob("*.jar"))
    if not any(j.name.startswith("zookeeper-") for j in jars):
        raise ZooKeeperNotFound(
            f"{variable}={home} holds no zookeeper-*.jar (looked in it and in its lib/). "
            f"{_HOW_TO_INSTALL}"
        )
    conf = [home / "conf"] if (home / "conf").is_dir() else []
    return tuple(str(p) for p in [*conf, *jars])


def _find_java(env: Mapping[str, str]) -> str:
    java_home = env.get("JAVA_HOME", "").strip()
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("java", path=env.get("PATH", os.defpath))
    if found is None:
        raise ZooKeeperNotFound(
            "No Java runtime found (looked in JAVA_HOME/bin and PATH). "
            "Install one (apt-get install zookeeper brings it), or set JAVA_HOME."
        )
    return found
