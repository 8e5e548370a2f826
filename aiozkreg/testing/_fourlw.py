"""Four-letter-word commands (``srvr``, ``ruok``, ...) over a plain socket.

A server sometimes sends its reply and never closes the connection, so a
reply is never read to EOF without a timeout: exactly four bytes are sent,
the socket has a timeout, and reading stops as soon as the reply is known
to be complete (or after a short quiet spell once some of it arrived).
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable

__all__ = ["NOT_SERVING", "four_letter_word", "server_mode"]

NOT_SERVING = "not currently serving requests"

_COMPLETE: dict[str, Callable[[str], bool]] = {
    "ruok": lambda text: text == "imok",
    "srvr": lambda text: (
        text.endswith("\n")
        and "\nNode count:" in text
        and ("\nMode: leader" not in text or "\nProposal sizes" in text)
    ),
}
_MODE = re.compile(r"^Mode: (\S+)$", re.MULTILINE)


def _unknown(_text: str) -> bool:
    return False


def four_letter_word(
    host: str, port: int, word: str, *, timeout: float = 2.0, quiet: float = 0.2
) -> str:
    """Send ``word`` and return the reply; raise ``OSError`` (or ``TimeoutError``) on failure.

    Reading ends at EOF, when the reply is known to be complete, or once
    ``quiet`` seconds pass without data after some arrived.
    """
    if len(word) != 4:
        raise ValueError(f"A four-letter word has four letters, not {word!r}.")
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    complete = _COMPLETE.get(word, _unknown)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(word.encode("ascii"))
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(min(remaining, quiet) if chunks else remaining)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            text = b"".join(chunks).decode("utf-8", "replace")
            if complete(text) or (text.endswith("\n") and NOT_SERVING in text):
                return text
    if not chunks:
        raise TimeoutError(f"No reply to {word!r} from {host}:{port} within {timeout} s.")
    return b"".join(chunks).decode("utf-8", "replace")


def server_mode(host: str, port: int, *, timeout: float = 1.0) -> str | None:
    """The ``Mode:`` that ``srvr`` reports (standalone, leader, ...), or None if not serving."""
    try:
        reply = four_letter_word(host, port, "srvr", timeout=timeout)
    except OSError:
        return None
    match = _MODE.search(reply)
    return match.group(1) if match else None
