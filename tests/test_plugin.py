"""The pytest plugin, as a user gets it: installed aiozkreg, fixtures by name, nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from aiozkreg import NoNodeError, SessionExpiredError
from aiozkreg.testing import ZooKeeperServer
from aiozkreg.testing._chroot import RawClient, create_path, delete_tree
from aiozkreg.testing.plugin import connection_trouble

# A bound on each inner pytest run, so a hang fails the test instead of orphaning a child.
TIMEOUT = 120

USER_TESTS = """
import asyncio
import pathlib

import pytest
from kazoo.client import KazooClient


def kazoo(hosts):
    client = KazooClient(hosts=hosts)
    client.start(timeout=10)
    return client


def test_hosts_is_a_chroot_on_the_server(zookeeper_server, zookeeper_hosts):
    address, _, chroot = zookeeper_hosts.partition("/")
    assert address == zookeeper_server.address
    assert chroot.startswith("aiozkreg-test-")
    pathlib.Path("chroot.txt").write_text("/" + chroot)


def test_chroot_is_usable_and_the_last_one_is_gone(zookeeper_server, zookeeper_hosts):
    client = kazoo(zookeeper_hosts)
    try:
        client.create("/node", b"x")
        assert client.get("/node")[0] == b"x"
    finally:
        client.stop()
    root = kazoo(zookeeper_server.address)
    try:
        assert root.exists(pathlib.Path("chroot.txt").read_text()) is None
    finally:
        root.stop()


async def test_fault_proxy(fault_proxy, fault_proxy_hosts, zookeeper_chroot):
    assert fault_proxy_hosts == fault_proxy.address + zookeeper_chroot
    reader, writer = await asyncio.open_connection(fault_proxy.host, fault_proxy.port)
    writer.write(b"ruok")
    assert await asyncio.wait_for(reader.readexactly(4), 5) == b"imok"
    writer.close()
    reader, writer = await asyncio.open_connection(fault_proxy.host, fault_proxy.port)
    fault_proxy.cut()
    try:
        assert await asyncio.wait_for(reader.read(), 2) == b""
    except ConnectionResetError:
        pass
    writer.close()


async def test_registry_fixture(registry, zookeeper_hosts):
    assert registry.hosts == zookeeper_hosts
    async with registry.register("/", "user:1"):
        assert await registry.get_children("/") == ["user:1"]


def test_failure_shows_no_server_log(zookeeper_hosts):
    assert zookeeper_hosts == "deliberately wrong"
"""


@pytest.fixture(params=["strict", "auto"])
def asyncio_mode(request: pytest.FixtureRequest, pytester: pytest.Pytester) -> str:
    """A user's project in pytest-asyncio's strict mode (no configuration) or in auto mode."""
    if request.param == "auto":
        pytester.makeini("[pytest]\nasyncio_mode = auto\n")
    mode: str = request.param
    return mode


def run_user_tests(pytester: pytest.Pytester) -> pytest.RunResult:
    """Run the user's tests in a subprocess, as the user would; assert that nothing warned."""
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=TIMEOUT)
    assert "Warning" not in result.stderr.str(), result.stderr.str()
    assert "warnings summary" not in result.stdout.str()
    return result


def failure_sections(result: pytest.RunResult) -> dict[str, str]:
    """Each failed test's part of the report, by test name."""
    text = result.stdout.str()
    parts = re.split(r"^_{3,} (\S+) _{3,}$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_fixtures_work_from_the_entry_point(pytester: pytest.Pytester, asyncio_mode: str) -> None:
    """Unmarked async tests get working fixtures in strict and auto mode, with no warning."""
    pytester.makepyfile(test_user=USER_TESTS)
    result = run_user_tests(pytester)
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines([f"*asyncio: mode=*{asyncio_mode.upper()}*"])
    assert "ZooKeeper log" not in failure_sections(result)["test_failure_shows_no_server_log"]


IMPLICATED = """
from aiozkreg import FailedConnect, Registry


def test_unrelated_failure(zookeeper_hosts):
    assert 1 == 2


async def test_connection_failure(fault_proxy, fault_proxy_hosts):
    fault_proxy.cut()
    async with Registry(fault_proxy_hosts, connect_timeout=0.5):
        pass


def test_server_down(zookeeper_server, zookeeper_hosts):
    zookeeper_server.kill()
    assert 1 == 2
"""


def test_server_log_only_when_the_server_is_implicated(pytester: pytest.Pytester) -> None:
    """The ZooKeeper log is attached to a connection failure or a dead server, not to a bug."""
    pytester.makepyfile(test_user=IMPLICATED)
    result = run_user_tests(pytester)
    result.assert_outcomes(failed=3)
    sections = failure_sections(result)
    assert "ZooKeeper log" not in sections["test_unrelated_failure"]
    assert "FailedConnect" in sections["test_connection_failure"]
    assert "ZooKeeper log" in sections["test_connection_failure"]
    assert "ZooKeeper log" in sections["test_server_down"]


def test_connection_trouble_looks_through_causes_and_groups() -> None:
    """A connection error counts as the cause, the context or a group member; others do not."""
    try:
        try:
            raise ConnectionResetError
        except OSError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as exc:
        wrapped = exc
    assert connection_trouble(wrapped)
    assert connection_trouble(ExceptionGroup("g", [ValueError(), SessionExpiredError()]))
    assert not connection_trouble(ExceptionGroup("g", [ValueError(), AssertionError()]))
    assert not connection_trouble(NoNodeError(path="/x"))


def documented_tests() -> str:
    """The Python blocks of docs/testing.md that define tests, as one test module."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "testing.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "def test_" in b]
    assert len(blocks) == 2
    return "\n\n".join(blocks)


def test_documented_examples_run_as_written(pytester: pytest.Pytester, asyncio_mode: str) -> None:
    """The tests docs/testing.md shows pass as written, in strict and auto mode, with no warning."""
    pytester.makepyfile(test_documented=documented_tests())
    result = run_user_tests(pytester)
    result.assert_outcomes(passed=5)


def test_missing_zookeeper_fails_the_fixture(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ZooKeeper, a test using the fixtures errors with the advice; it is not skipped."""
    monkeypatch.setenv("ZOOKEEPER_CLASSPATH", "/nonexistent/zookeeper.jar")
    pytester.makepyfile(test_user="def test_needs_zookeeper(zookeeper_hosts):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=TIMEOUT)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cannot run a ZooKeeper server*apt-get install zookeeper*"])


def test_slow_marker_is_registered(pytester: pytest.Pytester) -> None:
    """The plugin registers the ``slow`` marker, so --strict-markers accepts it."""
    pytester.makepyfile(
        test_user="import pytest\n\n@pytest.mark.slow\ndef test_marked():\n    pass\n"
    )
    result = pytester.runpytest_subprocess(
        "--strict-markers", "-p", "no:cacheprovider", timeout=TIMEOUT
    )
    result.assert_outcomes(passed=1)


def test_chroot_helpers_create_and_delete_a_tree(zookeeper_server: ZooKeeperServer) -> None:
    """The raw helper creates nested paths and deletes whole trees, ephemerals included."""
    kazoo = KazooClient(hosts=zookeeper_server.address)
    kazoo.start(timeout=10)
    try:
        with RawClient(zookeeper_server.host, zookeeper_server.port) as raw:
            create_path(raw, "/raw-helper/a/b")
            create_path(raw, "/raw-helper/a/b")
            assert kazoo.exists("/raw-helper/a/b")
            kazoo.create("/raw-helper/a/c", ephemeral=True)
            assert sorted(raw.get_children("/raw-helper/a")) == ["b", "c"]
            delete_tree(raw, "/raw-helper")
            delete_tree(raw, "/raw-helper")
        assert kazoo.exists("/raw-helper") is None
    finally:
        kazoo.stop()
        kazoo.close()


def test_each_test_gets_its_own_empty_chroot(
    zookeeper_server: ZooKeeperServer, zookeeper_chroot: str, zookeeper_hosts: str
) -> None:
    """zookeeper_hosts is the server's address plus a fresh, empty chroot node."""
    assert zookeeper_hosts == zookeeper_server.address + zookeeper_chroot
    kazoo = KazooClient(hosts=zookeeper_server.address)
    kazoo.start(timeout=10)
    try:
        assert kazoo.get_children(zookeeper_chroot) == []
    finally:
        kazoo.stop()
        kazoo.close()
