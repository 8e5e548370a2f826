"""One ZooKeeper JVM: configuration, launch, readiness, stop, orphan protection.

Both :class:`~aiozkreg.testing.ZooKeeperServer` and the members of a
:class:`~aiozkreg.testing.ZooKeeperEnsemble` are :class:`ZooKeeperProcess`
objects. A process lives in one directory that holds its ``zoo.cfg``, its
data (``version-2/``, ``myid``), its log ``zookeeper.log`` and a pid file.

Orphans: on Linux the child asks the kernel for SIGTERM when its parent
goes away (``prctl(PR_SET_PDEATHSIG)``). The kernel ties that to the
*thread* that forked, so it is only armed when starting from the main
thread (a worker thread of ``asyncio.to_thread`` exits with its event loop
and would take the server with it). Besides, live servers are killed at
interpreter exit, and a server left running by a dead test run in the same
directory is found through its pid file and killed before a new one starts.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

from ._errors import ZooKeeperHarnessError, ZooKeeperStartError
from ._fourlw import four_letter_word, server_mode
from ._install import ZooKeeperInstall

__all__ = ["TEST_SETTINGS", "ZooKeeperProcess", "free_ports"]

log = logging.getLogger("aiozkreg.testing")

LOOPBACK = "127.0.0.1"
READY_MODES = frozenset({"standalone", "leader", "follower"})

#: zoo.cfg settings for fast, quiet test servers (see docs/testing.md).
TEST_SETTINGS: Mapping[str, str | int] = {
    "tickTime": 200,
    "minSessionTimeout": 400,
    "maxSessionTimeout": 60000,
    "initLimit": 10,
    "syncLimit": 5,
    "clientPortAddress": LOOPBACK,
    "maxClientCnxns": 0,
    "maxCnxns": 0,
    "admin.enableServer": "false",
    "4lw.commands.whitelist": "*",
    "forceSync": "no",
    "autopurge.purgeInterval": 0,
}

_JVM_OPTIONS = (
    "-Xmx256m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:-UsePerfData",
    "-Djava.net.preferIPv4Stack=true",
    # slf4j-simple writes to stderr, which goes to zookeeper.log (appended
    # across restarts, together with anything the JVM itself prints).
    "-Dorg.slf4j.simpleLogger.logFile=System.err",
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
    "-Dorg.slf4j.simpleLogger.showDateTime=true",
    "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
)
_PR_SET_PDEATHSIG = 1
_POLL_INTERVAL = 0.05
_live: weakref.WeakSet[ZooKeeperProcess] = weakref.WeakSet()


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that were free a moment ago."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in socks:
            sock.bind((LOOPBACK, 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


class ZooKeeperProcess:
    """A ZooKeeper server JVM in its own directory, on a fixed loopback port."""

    host = LOOPBACK

    def __init__(
        self,
        directory: Path,
        *,
        port: int,
        main_class: str,
        settings: Mapping[str, str | int],
        install: ZooKeeperInstall,
        start_timeout: float,
        jvm_options: Sequence[str] = (),
    ) -> None:
        self._directory = directory
        self._port = port
        self._main_class = main_class
        self._settings = dict(settings)
        self._install = install
        self._start_timeout = start_timeout
        self._jvm_options = tuple(jvm_options)
        self._proc: subprocess.Popen[bytes] | None = None
        self._closed = False

    @property
    def port(self) -> int:
        """The client port."""
        return self._port

    @property
    def address(self) -> str:
        """``"127.0.0.1:PORT"``, a connect string for this server alone."""
        return f"{self.host}:{self._port}"

    @property
    def data_dir(self) -> Path:
        """The directory holding the data, ``zoo.cfg`` and the log."""
        return self._directory

    @property
    def log_path(self) -> Path:
        """The server's log file (kept across restarts)."""
        return self._directory / "zookeeper.log"

    @property
    def config_path(self) -> Path:
        """The ``zoo.cfg`` the server runs with."""
        return self._directory / "zoo.cfg"

    @property
    def pid(self) -> int | None:
        """The JVM's process id while it runs."""
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def running(self) -> bool:
        """Whether the JVM is alive (it may not be serving yet)."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def mode(self) -> str | None:
        """What ``srvr`` reports (standalone, leader, follower), or None if not serving."""
        return server_mode(self.host, self._port) if self.running else None

    def four_letter_word(self, word: str, *, timeout: float = 2.0) -> str:
        """Send a four-letter word (``srvr``, ``ruok``, ``mntr``...) and return the reply."""
        return four_letter_word(self.host, self._port, word, timeout=timeout)

    def start(self) -> None:
        """Start the server and return once it serves; a no-op if it is running."""
        if self.running:
            return
        self.launch()
        self.wait_ready(self._start_timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server with SIGTERM (SIGKILL after ``timeout`` seconds) and wait for it."""
        self._end(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """Kill the server with SIGKILL: no shutdown, as in a crash."""
        self._end(signal.SIGKILL, 10.0)

    def restart(self) -> None:
        """Stop the server and start it again on the same data and port."""
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server log ('' if there is none yet)."""
        try:
            with self.log_path.open("rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 256 * 1024))
                data = f.read()
        except FileNotFoundError:
            return ""
        return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])

    def launch(self) -> None:
        """Start the JVM without waiting for it to serve (see :meth:`wait_ready`)."""
        if self._closed:
            raise ZooKeeperHarnessError(f"The ZooKeeper server in {self._directory} is closed.")
        if self.running:
            return
        self._directory.mkdir(parents=True, exist_ok=True)
        self._kill_stale()
        self.config_path.write_text(
            "".join(f"{key}={value}\n" for key, value in self._settings.items())
        )
        command = [
            self._install.java,
            *_JVM_OPTIONS,
            *self._jvm_options,
            "-cp",
            self._install.classpath_arg,
            self._main_class,
            str(self.config_path),
        ]
        log.debug("starting ZooKeeper on %s: %s", self.address, command)
        with self.log_path.open("ab") as out:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self._directory,
                start_new_session=True,
                preexec_fn=_orphan_guard(),
            )
        self._pid_path.write_text(f"{self._proc.pid}\n")
        _live.add(self)

    def wait_ready(self, timeout: float, modes: Iterable[str] = READY_MODES) -> str:
        """Wait until ``srvr`` reports one of ``modes``; return it.

        Raises :class:`ZooKeeperStartError`, with the tail of the log, if the
        JVM exits or ``timeout`` seconds pass first (the JVM is then killed).
        """
        wanted = frozenset(modes)
        deadline = time.monotonic() + timeout
        while True:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                status = (
                    "never started" if proc is None else f"exited with status {proc.returncode}"
                )
                self.kill()
                self._fail(f"The ZooKeeper server on {self.address} {status}.")
            mode = server_mode(self.host, self._port)
            if mode in wanted and self._serves_our_data():
                assert mode is not None
                return mode
            if time.monotonic() >= deadline:
                self.kill()
                self._fail(
                    f"The ZooKeeper server on {self.address} was not serving as "
                    f"{'/'.join(sorted(wanted))} within {timeout} s (last mode: {mode})."
                )
            time.sleep(_POLL_INTERVAL)

    def close(self, *, graceful: bool = True) -> None:
        """Stop (or, not ``graceful``, kill) the server for good; idempotent."""
        self._closed = True
        if graceful:
            self.stop()
        else:
            self.kill()

    def _serves_our_data(self) -> bool:
        """Whether the server on our port is ours, not another one that took the port."""
        try:
            conf = four_letter_word(self.host, self._port, "conf", timeout=1.0)
        except OSError:
            return False
        served = {line[8:] for line in conf.splitlines() if line.startswith("dataDir=")}
        ours = {str(self._directory / "version-2"), str(self._directory.resolve() / "version-2")}
        if not served:
            return False
        if served & ours:
            return True
        self.kill()
        self._fail(
            f"Port {self._port} is served by another ZooKeeper (dataDir {served.pop()}), "
            f"not by the one in {self._directory}."
        )

    @property
    def _pid_path(self) -> Path:
        return self._directory / "zookeeper.pid"

    def _fail(self, message: str) -> NoReturn:
        raise ZooKeeperStartError(
            f"{message} Java: {self._install.java}; classpath from {self._install.source}; "
            f"log {self.log_path}, last lines:\n{self.log_tail()}"
        )

    def _end(self, sig: signal.Signals, timeout: float) -> None:
        proc = self._proc
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(sig)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    log.warning("ZooKeeper on %s ignored %s; killing it", self.address, sig.name)
                    proc.kill()
                    proc.wait()
            self._proc = None
        _live.discard(self)
        self._pid_path.unlink(missing_ok=True)

    def _kill_stale(self) -> None:
        """Kill a server that a dead test run left running on this directory."""
        try:
            pid = int(self._pid_path.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return
        if str(self.config_path).encode() not in cmdline.split(b"\0"):
            return
        log.warning("killing stale ZooKeeper (pid %d) left running in %s", pid, self._directory)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 5.0
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(_POLL_INTERVAL)


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, dead but not reaped, is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _orphan_guard() -> Callable[[], None] | None:
    """A ``preexec_fn`` arming PR_SET_PDEATHSIG, when that protects anything."""
    if sys.platform != "linux" or threading.current_thread() is not threading.main_thread():
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the guard was armed
            os._exit(1)

    return arm


@atexit.register
def _kill_live_servers() -> None:
    for proc in list(_live):
        proc.kill()
