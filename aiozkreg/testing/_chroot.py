"""A tiny blocking ZooKeeper client to make and remove a test's chroot node.

Just enough of a client to create a path and delete a tree over a blocking
socket, so the pytest plugin prepares each test without an event loop or
kazoo. Frames are made and read by :mod:`aiozkreg._wire`, as the real link
makes and reads them.
"""

from __future__ import annotations

import contextlib
import socket
import time
from types import TracebackType
from typing import TypeVar

from .._errors import NodeExistsError, NoNodeError, NotEmptyError, error_for_code
from .._types import OPEN_ACL_UNSAFE
from .._wire import INT, REPLY, Close, Connect, Create, Delete, GetChildren, Handshake, Request

__all__ = ["RawClient", "create_path", "delete_tree"]

R = TypeVar("R")


class RawClient:
    """A blocking one-session client: create, delete, get_children, close."""

    def __init__(self, host: str, port: int, *, timeout: float = 10.0) -> None:
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._xid = 0
        try:
            self._send(Connect(0, int(timeout * 1000), 0, bytes(16), False).encode())
            if Handshake.decode(self._receive()).expired:
                raise ConnectionError(f"{host}:{port} refused a new session.")
        except BaseException:
            self._sock.close()
            raise

    def create(self, path: str, data: bytes = b"") -> None:
        """Create a persistent, world-writable node."""
        self._call(Create(path, data, OPEN_ACL_UNSAFE), path)

    def delete(self, path: str) -> None:
        """Delete a node, whatever its version."""
        self._call(Delete(path), path)

    def get_children(self, path: str) -> list[str]:
        """The names of a node's children."""
        return self._call(GetChildren(path), path)

    def close(self) -> None:
        """End the session (so its ephemeral nodes go at once) and the connection."""
        try:
            self._call(Close(), None)
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

    def _call(self, request: Request[R], path: str | None) -> R:
        self._xid += 1
        self._send(request.encode(self._xid))
        while True:
            frame = self._receive()
            xid, _zxid, err = REPLY.unpack_from(frame)
            if xid < 0:  # a watch event or a ping reply: not ours
                continue
            if xid != self._xid:
                raise ConnectionError(f"Reply {xid} does not answer request {self._xid}.")
            if err:
                raise error_for_code(err, path)
            return request.decode(frame[REPLY.size :])

    def _send(self, payload: bytes) -> None:
        self._sock.sendall(INT.pack(len(payload)) + payload)

    def _receive(self) -> bytes:
        (size,) = INT.unpack(self._exactly(4))
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
