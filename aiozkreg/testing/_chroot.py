"""A tiny blocking ZooKeeper client to make and remove a test's chroot node.

Just enough of the wire protocol (length-prefixed jute frames) to create a
path and delete a tree, with no dependency beyond the standard library, so
the pytest plugin prepares each test without an event loop or kazoo.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from types import TracebackType

from .._errors import NodeExistsError, NoNodeError, NotEmptyError, error_for_code

__all__ = ["RawClient", "create_path", "delete_tree"]

_CREATE, _DELETE, _GET_CHILDREN, _CLOSE = 1, 2, 8, -11
_WORLD_ALL = (
    struct.pack("!i", 1)
    + struct.pack("!i", 31)
    + b"".join(struct.pack("!i", len(s)) + s for s in (b"world", b"anyone"))
)
_REPLY_HEADER = struct.Struct("!iqi")


def _string(value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack("!i", len(raw)) + raw


class RawClient:
    """A blocking one-session client: create, delete, get_children, close."""

    def __init__(self, host: str, port: int, *, timeout: float = 10.0) -> None:
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._xid = 0
        try:
            self._send(
                struct.pack("!iqiq", 0, 0, int(timeout * 1000), 0) + _string(bytes(16)) + b"\0"
            )
            reply = self._receive()
            _version, granted, session_id = struct.unpack_from("!iiq", reply)
            if granted <= 0 or session_id == 0:
                raise ConnectionError(f"{host}:{port} refused a new session.")
        except BaseException:
            self._sock.close()
            raise

    def create(self, path: str, data: bytes = b"") -> None:
        """Create a persistent, world-writable node."""
        self._call(_CREATE, _string(path) + _string(data) + _WORLD_ALL + struct.pack("!i", 0), path)

    def delete(self, path: str) -> None:
        """Delete a node, whatever its version."""
        self._call(_DELETE, _string(path) + struct.pack("!i", -1), path)

    def get_children(self, path: str) -> list[str]:
        """The names of a node's children."""
        body = self._call(_GET_CHILDREN, _string(path) + b"\0", path)
        (count,), offset, names = struct.unpack_from("!i", body), 4, []
        for _ in range(max(count, 0)):
            (size,) = struct.unpack_from("!i", body, offset)
            names.append(body[offset + 4 : offset + 4 + size].decode())
            offset += 4 + size
        return names

    def close(self) -> None:
        """End the session (so its ephemeral nodes go at once) and the connection."""
        try:
            self._call(_CLOSE, b"", None)
        except OSError:
            pass
        finally:
            self._sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, opcode: int, payload: bytes, path: str | None) -> bytes:
        self._xid += 1
        self._send(struct.pack("!ii", self._xid, opcode) + payload)
        while True:
            frame = self._receive()
            xid, _zxid, err = _REPLY_HEADER.unpack_from(frame)
            if xid < 0:  # a watch event or a ping reply: not ours
                continue
            if xid != self._xid:
                raise ConnectionError(f"Reply {xid} does not answer request {self._xid}.")
            if err:
                raise error_for_code(err, path)
            return frame[_REPLY_HEADER.size :]

    def _send(self, payload: bytes) -> None:
        self._sock.sendall(struct.pack("!i", len(payload)) + payload)

    def _receive(self) -> bytes:
        (size,) = struct.unpack("!i", self._exactly(4))
        return self._exactly(size)

    def _exactly(self, size: int) -> bytes:
        data = bytearray()
        while len(data) < size:
            chunk = self._sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("ZooKeeper closed the connection.")
            data += chunk
        return bytes(data)


def create_path(client: RawClient, path: str) -> None:
    """Create ``path`` and any missing parents (like kazoo's ``ensure_path``)."""
    parts = [p for p in path.split("/") if p]
    for i in range(1, len(parts) + 1):
        with contextlib.suppress(NodeExistsError):
            client.create("/" + "/".join(parts[:i]))


def delete_tree(client: RawClient, path: str, *, attempts: int = 5) -> None:
    """Delete ``path`` and everything under it; a missing node is not an error.

    A client the test left connected may add children meanwhile, so a
    non-empty node is retried a few times.
    """
    for attempt in range(attempts):
        try:
            for child in client.get_children(path):
                delete_tree(client, f"{path.rstrip('/')}/{child}", attempts=attempts)
            client.delete(path)
            return
        except NoNodeError:
            return
        except NotEmptyError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05)
