"""Finding ZooKeeper and Java: search order and the not-found message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aiozkreg import ZKRegError
from aiozkreg.testing import ZooKeeperNotFound, _install, find_zookeeper


@pytest.fixture
def java(tmp_path: Path) -> Path:
    """A fake JAVA_HOME with an executable bin/java."""
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/sh\n")
    (home / "bin" / "java").chmod(0o755)
    return home


@pytest.fixture
def no_debian(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point the Debian search at an empty directory."""
    monkeypatch.setattr(_install, "DEBIAN_JAVA_DIR", tmp_path / "no-such-dir")


def test_missing_classpath_jar_is_reported(java: Path) -> None:
    """A ZOOKEEPER_CLASSPATH naming a missing jar fails with the jar and install advice."""
    env = {"ZOOKEEPER_CLASSPATH": "/nonexistent/zookeeper.jar", "JAVA_HOME": str(java)}
    with pytest.raises(ZooKeeperNotFound) as info:
        find_zookeeper(env)
    assert "/nonexistent/zookeeper.jar" in str(info.value)
    assert "apt-get install zookeeper" in str(info.value)
    assert "ZOOKEEPER_HOME" in str(info.value)


@pytest.mark.usefixtures("no_debian")
def test_nothing_installed_is_reported(java: Path) -> None:
    """With no variables and no Debian jar, the error says how to install ZooKeeper."""
    with pytest.raises(ZooKeeperNotFound, match=r"apt-get install zookeeper.*ZOOKEEPER_HOME"):
        find_zookeeper({"JAVA_HOME": str(java)})


def test_not_found_is_an_aiozkreg_error() -> None:
    """Callers can catch the harness's errors as aiozkreg.ZKRegError."""
    assert issubclass(ZooKeeperNotFound, ZKRegError)


def test_missing_java_is_reported(tmp_path: Path) -> None:
    """Without JAVA_HOME and java on PATH, the error says Java is missing."""
    jar = tmp_path / "zookeeper.jar"
    jar.touch()
    env = {"ZOOKEEPER_CLASSPATH": str(jar), "PATH": str(tmp_path)}
    with pytest.raises(ZooKeeperNotFound, match="No Java runtime"):
        find_zookeeper(env)


def test_explicit_classpath_wins(java: Path, tmp_path: Path) -> None:
    """ZOOKEEPER_CLASSPATH is used as given, before ZOOKEEPER_HOME."""
    jars = [tmp_path / "a.jar", tmp_path / "b.jar"]
    for jar in jars:
        jar.touch()
    env = {
        "ZOOKEEPER_CLASSPATH": os.pathsep.join(map(str, jars)),
        "ZOOKEEPER_HOME": str(tmp_path / "elsewhere"),
        "JAVA_HOME": str(java),
    }
    found = find_zookeeper(env)
    assert found.classpath == tuple(map(str, jars))
    assert found.java == str(java / "bin" / "java")


@pytest.mark.usefixtures("no_debian")
def test_release_directory_layout(java: Path, tmp_path: Path) -> None:
    """ZOOKEEPER_HOME contributes conf/, a top-level zookeeper jar and lib/*.jar."""
    home = tmp_path / "apache-zookeeper-3.8.4-bin"
    (home / "lib").mkdir(parents=True)
    (home / "conf").mkdir()
    for name in ("lib/zookeeper-3.8.4.jar", "lib/netty-codec.jar"):
        (home / name).touch()
    found = find_zookeeper({"ZOOKEEPER_HOME": str(home), "JAVA_HOME": str(java)})
    assert found.classpath == (
        str(home / "conf"),
        str(home / "lib" / "netty-codec.jar"),
        str(home / "lib" / "zookeeper-3.8.4.jar"),
    )


def test_release_directory_without_jar_is_reported(java: Path, tmp_path: Path) -> None:
    """A ZOOKEEPER_PATH without any zookeeper jar fails with a message naming it."""
    with pytest.raises(ZooKeeperNotFound, match=r"ZOOKEEPER_PATH=.*no zookeeper-"):
        find_zookeeper({"ZOOKEEPER_PATH": str(tmp_path), "JAVA_HOME": str(java)})


def test_debian_package_gets_logger_and_netty(
    java: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Debian's jar is completed with slf4j-simple and netty-codec when they are there."""
    for name in ("zookeeper.jar", "slf4j-simple.jar", "netty-codec.jar"):
        (tmp_path / name).touch()
    monkeypatch.setattr(_install, "DEBIAN_JAVA_DIR", tmp_path)
    found = find_zookeeper({"JAVA_HOME": str(java)})
    assert [Path(p).name for p in found.classpath] == [
        "zookeeper.jar",
        "slf4j-simple.jar",
        "netty-codec.jar",
    ]


def test_java_from_path(tmp_path: Path, java: Path) -> None:
    """Without JAVA_HOME, java is taken from PATH."""
    jar = tmp_path / "zookeeper.jar"
    jar.touch()
    found = find_zookeeper({"ZOOKEEPER_CLASSPATH": str(jar), "PATH": str(java / "bin")})
    assert found.java == str(java / "bin" / "java")
