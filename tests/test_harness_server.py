"""ZooKeeperServer: start, readiness, restart on the same data, stop, kill, orphans."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kazoo.client import KazooClient, KazooState

from aiozkreg.testing import (
    ZooKeeperServer,
    ZooKeeperStartError,
    four_letter_word,
)


@pytest.fixture
def server() -> Iterator[ZooKeeperServer]:
    """A server of this test's own, so it may be stopped and killed."""
    with ZooKeeperServer() as server:
        yield server


def wait_for(condition: threading.Event, timeout: float = 10.0) -> None:
    """Wait for a kazoo-side event, failing the test after ``timeout`` seconds."""
    assert condition.wait(timeout), f"not reached within {timeout} s"


def wait_until_gone(pid: int, timeout: float = 10.0) -> bool:
    """Poll until process ``pid`` no longer exists (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.02)
    return False


def test_server_answers_four_letter_words(server: ZooKeeperServer) -> None:
    """A started server serves: ruok says imok and srvr reports standalone mode."""
    assert server.running
    assert server.address == f"127.0.0.1:{server.port}"
    assert server.four_letter_word("ruok") == "imok"
    assert "Mode: standalone" in server.four_letter_word("srvr")
    assert server.mode == "standalone"


def test_restart_keeps_data_and_sessions(server: ZooKeeperServer) -> None:
    """Stop then start reuses data and port: a node and a client's session survive."""
    client = KazooClient(hosts=server.address, timeout=10.0)
    client.start(timeout=10)
    try:
        session_id = client.client_id[0]
        client.create("/kept", b"data")
        client.create("/mine", ephemeral=True)
        reconnected = threading.Event()
        client.add_listener(
            lambda state: reconnected.set() if state == KazooState.CONNECTED else None
        )
        server.stop()
        assert not server.running
        server.start()
        wait_for(reconnected)
        assert client.client_id[0] == session_id
        assert client.get("/kept")[0] == b"data"
        assert client.exists("/mine") is not None
    finally:
        client.stop()
        client.close()


def test_restart_method(server: ZooKeeperServer) -> None:
    """restart() brings the server back on the same port with the same data."""
    port, pid = server.port, server.pid
    server.restart()
    assert server.port == port and server.pid != pid
    assert server.mode == "standalone"


def test_kill_ends_the_server_at_once(server: ZooKeeperServer) -> None:
    """kill() leaves no process behind and nothing listening on the port."""
    pid = server.pid
    assert pid is not None
    server.kill()
    assert not server.running and server.pid is None
    assert not Path(f"/proc/{pid}").exists()
    with pytest.raises(OSError):
        four_letter_word(server.host, server.port, "ruok", timeout=1.0)


def test_start_is_idempotent(server: ZooKeeperServer) -> None:
    """start() on a running server changes nothing."""
    pid = server.pid
    server.start()
    assert server.pid == pid


def test_close_removes_its_temporary_directory() -> None:
    """close() stops the server and removes the directory it created; twice is fine."""
    server = ZooKeeperServer()
    server.start()
    directory = server.data_dir
    assert (directory / "zoo.cfg").is_file()
    server.close()
    server.close()
    assert not directory.exists()
    assert not server.running


def test_given_data_dir_is_kept(tmp_path: Path) -> None:
    """A caller's data directory holds config, data and log, and outlives close()."""
    with ZooKeeperServer(tmp_path / "zk") as server:
        assert server.data_dir == tmp_path / "zk"
        assert "tickTime=200" in (tmp_path / "zk" / "zoo.cfg").read_text()
    assert (tmp_path / "zk" / "version-2").is_dir()
    assert "ZooKeeperServerMain" in (tmp_path / "zk" / "zookeeper.log").read_text()


def test_log_tail_shows_the_server_log(server: ZooKeeperServer) -> None:
    """log_tail() returns the last lines of the server's own log."""
    tail = server.log_tail(1000)
    assert "binding to port" in tail or "clientPortAddress" in tail
    assert len(server.log_tail(3).splitlines()) == 3


def test_failed_start_shows_the_log(tmp_path: Path) -> None:
    """A server that cannot start raises ZooKeeperStartError with its log tail."""
    server = ZooKeeperServer(tmp_path, settings={"tickTime": "not-a-number"})
    with pytest.raises(ZooKeeperStartError, match="exited with status") as info:
        server.start()
    assert "last lines" in str(info.value)
    assert "tickTime" in str(info.value) or "NumberFormatException" in str(info.value)
    assert not server.running
    server.close()


def test_stale_server_in_same_directory_is_killed(tmp_path: Path) -> None:
    """A server left running on a directory (dead test run) is killed by the next start."""
    first = ZooKeeperServer(tmp_path)
    first.start()
    stale_pid = first.pid
    assert stale_pid is not None
    second = ZooKeeperServer(tmp_path, port=first.port)
    try:
        second.start()
        assert not first.running  # killed (reaped here, as its parent is still alive)
        assert second.mode == "standalone"
    finally:
        second.close()
        first.close()


_ORPHAN_SCRIPT = """
import sys, time
from aiozkreg.testing import ZooKeeperServer
server = ZooKeeperServer()
server.start()
print(server.pid, server.data_dir, flush=True)
time.sleep(60)
"""


def test_server_dies_with_its_parent() -> None:
    """When the process that started a server is SIGKILLed, the server goes too."""
    parent = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN_SCRIPT], stdout=subprocess.PIPE, text=True
    )
    data_dir = ""
    try:
        assert parent.stdout is not None
        pid, data_dir = parent.stdout.readline().split(maxsplit=1)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        assert wait_until_gone(int(pid)), "the ZooKeeper server outlived its parent"
    finally:
        parent.kill()
        parent.wait()
        if data_dir.strip():
            shutil.rmtree(data_dir.strip(), ignore_errors=True)


async def test_four_letter_word_stops_when_reply_is_complete() -> None:
    """A reply that is never followed by a close is returned at once, not after a timeout."""

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(4)
        writer.write(b"imok")
        await writer.drain()
        await reader.read()  # hold the connection open until the client leaves
        writer.close()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        started = time.monotonic()
        reply = await asyncio.to_thread(four_letter_word, "127.0.0.1", port, "ruok", timeout=5.0)
        assert reply == "imok"
        assert time.monotonic() - started < 2.0


async def test_astart_and_astop_keep_the_loop_running(server: ZooKeeperServer) -> None:
    """astop()/astart() run in a thread while the event loop keeps serving other tasks."""
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async with asyncio.TaskGroup() as group:
        ticker = group.create_task(tick())
        await server.astop()
        assert not server.running
        await server.astart()
        ticker.cancel()
    assert server.mode == "standalone"
    assert ticks > 5


def test_port_taken_by_another_server_is_detected(server: ZooKeeperServer, tmp_path: Path) -> None:
    """A server whose port is already served by another ZooKeeper fails, not passes as ready."""
    intruder = ZooKeeperServer(tmp_path, port=server.port, start_timeout=10.0)
    with pytest.raises(ZooKeeperStartError, match="served by another ZooKeeper"):
        intruder.start()
    intruder.close()
    assert server.mode == "standalone"
