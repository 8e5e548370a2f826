"""aiozkreg: asyncio service registration and discovery on Apache ZooKeeper."""

from importlib.metadata import PackageNotFoundError, version

from ._errors import (
    AuthFailedError,
    BadArgumentsError,
    BadPropertyLink,
    BadVersionError,
    ConnectionLossError,
    FailedConnect,
    InvalidPathError,
    InvalidACLError,
    LinkLoop,
    NoAuthError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    NotReadOnlyError,
    RegistryClosedError,
    RequestTimeoutError,
    ServerError,
    SessionExpiredError,
    TransactionError,
    TreeSyntaxError,
    UnimplementedError,
    ZKConnectionError,
    ZKRegError,
)

try:
    __version__ = version("aiozkreg")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0+unknown"

__all__ = [
    "AuthFailedError",
    "BadArgumentsError",
    "BadPropertyLink",
    "BadVersionError",
    "ConnectionLossError",
    "FailedConnect",
    "InvalidPathError",
    "InvalidACLError",
    "LinkLoop",
    "NoAuthError",
    "NoChildrenForEphemeralsError",
    "NoNodeError",
    "NodeExistsError",
    "NotEmptyError",
    "NotReadOnlyError",
    "RegistryClosedError",
    "RequestTimeoutError",
    "ServerError",
    "SessionExpiredError",
    "TransactionError",
    "TreeSyntaxError",
    "UnimplementedError",
    "ZKConnectionError",
    "ZKRegError",
    "__version__",
]
