"""Every exception aiozkreg raises.

::

    ZKRegError
    ├── RegistryClosedError            the registry was closed (or never started; or it
    │                                  closed itself after a failure: that is __cause__)
    ├── InvalidPathError               a path ZooKeeper would reject (also a ValueError)
    ├── RequestTooLargeError           over the server's request size limit (also a ValueError)
    ├── ZKConnectionError              the link to ZooKeeper is not usable
    │   ├── FailedConnect              start() could not connect in time
    │   ├── ConnectionLossError        the link dropped while a request was out
    │   │   └── RequestTimeoutError    no reply / no reconnect within the timeout
    │   └── SessionExpiredError        the server ended the session
    ├── ServerError                    the server answered with an error code
    │   ├── NoNodeError                (also raised by resolve() for unresolvable paths)
    │   ├── NodeExistsError
    │   ├── BadVersionError
    │   ├── NotEmptyError
    │   ├── NoAuthError
    │   ├── AuthFailedError
    │   ├── InvalidACLError
    │   ├── BadArgumentsError
    │   ├── NoChildrenForEphemeralsError
    │   ├── NotReadOnlyError
    │   └── UnimplementedError
    ├── TransactionError               a multi failed; .results holds each op's outcome
    ├── TreeImportError                an import or delete failed part way (.applied)
    ├── LinkLoop                       symlinks or property links form a cycle
    ├── BadPropertyLink                a property link cannot be followed
    ├── TreeSyntaxError                malformed tree text (also a ValueError)
    └── NoProvidersError               pick() found no available provider (.path)

aiozk's own exceptions never cross the public API: the connection layer
converts server error codes with :func:`error_for_code` at one boundary.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence


class Code(enum.IntEnum):
    """ZooKeeper's error codes (the ones aiozkreg and its in-memory server use), in one place."""

    OK = 0
    RUNTIME_INCONSISTENCY = -2  # in a failed multi: the operations after the failing one
    CONNECTION_LOSS = -4
    MARSHALLING_ERROR = -5
    UNIMPLEMENTED = -6
    OPERATION_TIMEOUT = -7
    BAD_ARGUMENTS = -8
    NO_NODE = -101
    NO_AUTH = -102
    BAD_VERSION = -103
    NO_CHILDREN_FOR_EPHEMERALS = -108
    NODE_EXISTS = -110
    NOT_EMPTY = -111
    SESSION_EXPIRED = -112
    INVALID_ACL = -114
    AUTH_FAILED = -115
    NOT_READ_ONLY = -119
    NO_WATCHER = -121
    REQUEST_TIMEOUT = -122


class ZKRegError(Exception):
    """The root of every aiozkreg error."""


class RegistryClosedError(ZKRegError):
    """The registry is closed, or was never started.

    When the registry closed itself because of an internal failure, this
    error's ``__cause__`` is that failure.
    """


class InvalidPathError(ZKRegError, ValueError):
    """A path that ZooKeeper would reject: relative, trailing '/', empty parts."""


class RequestTooLargeError(ZKRegError, ValueError):
    """A request is larger than ZooKeeper accepts; it was not sent.

    ZooKeeper closes the connection on any request whose frame (everything
    after the 4-byte length prefix) is over its ``jute.maxbuffer``, 0xfffff
    bytes (1 MiB - 1) unless the server was started with another value.
    ``size`` is the request's size in bytes (or its data's, when that alone
    is over), ``limit`` the registry's ``max_request_size``.
    """

    def __init__(self, size: int, limit: int, what: str = "The request") -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            f"{what} is {size} bytes, over the limit of {limit} bytes that ZooKeeper accepts "
            "(its jute.maxbuffer); it was not sent. For a server with a larger "
            "jute.maxbuffer, give Registry(max_request_size=...)."
        )


class ZKConnectionError(ZKRegError):
    """The link to ZooKeeper is not usable."""


class FailedConnect(ZKConnectionError):
    """No server of the ensemble could be reached in time."""


class ConnectionLossError(ZKConnectionError):
    """The connection dropped while a request was outstanding.

    The request may or may not have been applied by the server.
    """


class RequestTimeoutError(ConnectionLossError):
    """No reply, or no reconnect, within the request's timeout."""


class SessionExpiredError(ZKConnectionError):
    """The server expired the session; ephemeral nodes and watches are gone."""


class ServerError(ZKRegError):
    """The server answered a request with an error code."""

    code: int = 0

    def __init__(
        self, message: str = "", *, path: str | None = None, code: int | None = None
    ) -> None:
        self.path = path
        if code is not None:
            self.code = code
        super().__init__(message or self._default_message())

    def _default_message(self) -> str:
        name = type(self).__name__.removesuffix("Error")
        where = f" for {self.path}" if self.path else ""
        return f"ZooKeeper answered {name} (code {self.code}){where}."


class NoNodeError(ServerError):
    """The node does not exist.

    ``chroot_missing`` is true when the node missing is the connect string's
    chroot itself (``path`` is then the chroot, a server path): the request
    named a node below it, which cannot exist either.
    """

    code = Code.NO_NODE

    def __init__(
        self,
        message: str = "",
        *,
        path: str | None = None,
        code: int | None = None,
        chroot_missing: bool = False,
    ) -> None:
        self.chroot_missing = chroot_missing
        super().__init__(message, path=path, code=code)


class NodeExistsError(ServerError):
    """The node already exists."""

    code = Code.NODE_EXISTS


class BadVersionError(ServerError):
    """The node's version is not the one the request expected."""

    code = Code.BAD_VERSION


class NotEmptyError(ServerError):
    """The node has children and cannot be deleted."""

    code = Code.NOT_EMPTY


class NoAuthError(ServerError):
    """The ACL does not allow this client to do that."""

    code = Code.NO_AUTH


class AuthFailedError(ServerError):
    """The server rejected our credentials."""

    code = Code.AUTH_FAILED


class InvalidACLError(ServerError):
    """The ACL is malformed."""

    code = Code.INVALID_ACL


class BadArgumentsError(ServerError):
    """The server rejected the request's arguments (a bad path, for instance)."""

    code = Code.BAD_ARGUMENTS


class NoChildrenForEphemeralsError(ServerError):
    """Ephemeral nodes cannot have children."""

    code = Code.NO_CHILDREN_FOR_EPHEMERALS


class NotReadOnlyError(ServerError):
    """A write was sent to a read-only server."""

    code = Code.NOT_READ_ONLY


class UnimplementedError(ServerError):
    """The server does not implement this operation."""

    code = Code.UNIMPLEMENTED


class TransactionError(ZKRegError):
    """A multi-operation transaction failed and nothing was applied.

    ``results`` has one entry per operation: ``None`` where the operation
    would have succeeded (it was rolled back) and the error for the one that
    failed (later operations are reported as rolled back too).
    """

    def __init__(self, results: Sequence[BaseException | object]) -> None:
        self.results = list(results)
        failed = [r for r in self.results if isinstance(r, ServerError)]
        first = failed[0] if failed else None
        index = self.results.index(first) if first is not None else -1
        super().__init__(f"Transaction failed at operation {index}: {first}")


class TreeImportError(ZKRegError):
    """An import (or recursive delete) failed part way.

    ``applied`` lists the operations that were done (``"create /a/b"``, ...),
    ``failed`` the one that failed, ``cause`` its error.
    """

    def __init__(
        self, what: str, applied: Sequence[str], total: int, failed: str, cause: BaseException
    ) -> None:
        self.applied = list(applied)
        self.failed = failed
        self.cause = cause
        super().__init__(
            f"{what} failed at {failed!r} after {len(self.applied)} of {total} operations "
            f"were applied: {cause}"
        )


class LinkLoop(ZKRegError):
    """Following symlinks or property links came back to where it started."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = tuple(paths)
        super().__init__(f"Link loop: {' -> '.join(self.paths)}")


class BadPropertyLink(ZKRegError):
    """A property link could not be followed."""


class TreeSyntaxError(ZKRegError, ValueError):
    """Tree text could not be parsed.

    ``lineno`` is 1-based; ``line`` is the offending line as written.
    """

    def __init__(self, message: str, lineno: int, line: str) -> None:
        self.message = message
        self.lineno = lineno
        self.line = line
        super().__init__(f"{message} in line {lineno}: {line.strip()!r}")


class NoProvidersError(ZKRegError):
    """No provider can be picked: none is registered, or every one is
    disabled, not ALIVE or ejected after errors. ``path`` is the service path."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(message)


_CODES: dict[int, type[ServerError]] = {
    cls.code: cls
    for cls in (
        NoNodeError,
        NodeExistsError,
        BadVersionError,
        NotEmptyError,
        NoAuthError,
        AuthFailedError,
        InvalidACLError,
        BadArgumentsError,
        NoChildrenForEphemeralsError,
        NotReadOnlyError,
        UnimplementedError,
    )
}

_CONNECTION_CODES: dict[int, str] = {
    Code.CONNECTION_LOSS: "connection loss",
    Code.OPERATION_TIMEOUT: "operation timeout",
    Code.REQUEST_TIMEOUT: "request timeout",
}


def error_for_code(code: int, path: str | None = None) -> ZKRegError:
    """The exception for a ZooKeeper error code (never an aiozk class)."""
    if code in _CODES:
        return _CODES[code](path=path)
    if code == Code.SESSION_EXPIRED:
        return SessionExpiredError("The session expired.")
    if code in _CONNECTION_CODES:
        return ConnectionLossError(f"The server reported {_CONNECTION_CODES[code]}.")
    where = f" for {path}" if path else ""
    return ServerError(f"ZooKeeper answered error code {code}{where}.", path=path, code=code)
