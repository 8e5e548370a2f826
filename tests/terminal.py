"""A command on a pseudo-terminal, as a user's shell runs it: its controlling terminal, of a
given size, so that Ctrl-C and window changes come from the kernel, not from the test."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Sequence
from types import TracebackType

# Run in the child's new session: take the terminal on stdin as the controlling one, then
# become the command (same process, so the command is the terminal's foreground group).
_TAKE_TERMINAL = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execvp(sys.argv[1], sys.argv[1:])"
)


class Terminal:
    """``argv`` running on a terminal of ``rows`` x ``cols``; everything it writes is kept."""

    def __init__(self, argv: Sequence[str], *, rows: int = 24, cols: int = 80) -> None:
        self.master, slave = pty.openpty()
        self.resize(rows, cols)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _TAKE_TERMINAL, *argv],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                start_new_session=True,
            )
        finally:
            os.close(slave)
        self.output = b""

    def resize(self, rows: int, cols: int) -> None:
        """Change the window size: the kernel sends the foreground group SIGWINCH."""
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def type(self, keys: bytes) -> None:
        """Type ``keys`` (``b"\\x03"`` is Ctrl-C: the terminal sends SIGINT)."""
        os.write(self.master, keys)

    def expect(self, done: Callable[[str], bool], timeout: float = 15.0) -> str:
        """Read until ``done(all output so far)``; the output, decoded. Fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not done(text := self.output.decode("utf-8", "replace")):
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.master], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"not seen within {timeout} s; the output: {text!r}")
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the command has exited and closed the terminal
                chunk = b""
            if not chunk:
                raise AssertionError(f"the command ended first; the output: {text!r}")
            self.output += chunk
        return text

    def wait(self, timeout: float = 15.0) -> int:
        """The exit status, once the command has ended; the rest of its output is kept."""
        status = self.proc.wait(timeout)
        while select.select([self.master], [], [], 0)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.output += chunk
        return status

    def close(self) -> None:
        """Kill the command if it still runs; close the terminal."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
