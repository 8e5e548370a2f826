"""aiozkreg: asyncio service registration and discovery on Apache ZooKeeper."""

from importlib.metadata import PackageNotFoundError, version

from . import event
from ._balancing import Clock, Strategy
from ._errors import (
    AuthFailedError,
    BadArgumentsError,
    BadPropertyLink,
    BadVersionError,
    ConnectionLossError,
    FailedConnect,
    InvalidACLError,
    InvalidPathError,
    LinkLoop,
    NoAuthError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NoProvidersError,
    NotEmptyError,
    NotReadOnlyError,
    RegistryClosedError,
    RequestTimeoutError,
    RequestTooLargeError,
    ServerError,
    SessionExpiredError,
    TransactionError,
    TreeImportError,
    TreeSyntaxError,
    UnimplementedError,
    ZKConnectionError,
    ZKRegError,
)
from ._formats import CuratorFormat, Provider, ServerSetFormat, WireFormat, ZcZkFormat
from ._plan import Change, ChangeAction
from ._properties import Properties, PropertiesSnapshot
from ._providers import Providers
from ._registration import RegisteringServer, Registration
from ._registry import Registry
from ._states import SessionState, StateChange, StateStream
from ._tree import TreeNode, format_tree, parse_tree
from ._txn import Transaction
from ._types import ACL, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, Perm, ZnodeStat, make_digest_acl
from ._views import Children, Opener
from ._watches import EventType, WatchedEvent

try:
    __version__ = version("aiozkreg")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0+unknown"

__all__ = [
    "ACL",
    "OPEN_ACL_UNSAFE",
    "READ_ACL_UNSAFE",
    "AuthFailedError",
    "BadArgumentsError",
    "BadPropertyLink",
    "BadVersionError",
    "Change",
    "ChangeAction",
    "Children",
    "Clock",
    "ConnectionLossError",
    "CuratorFormat",
    "EventType",
    "FailedConnect",
    "InvalidACLError",
    "InvalidPathError",
    "LinkLoop",
    "NoAuthError",
    "NoChildrenForEphemeralsError",
    "NoNodeError",
    "NoProvidersError",
    "NodeExistsError",
    "NotEmptyError",
    "NotReadOnlyError",
    "Opener",
    "Perm",
    "Properties",
    "PropertiesSnapshot",
    "Provider",
    "Providers",
    "RegisteringServer",
    "Registration",
    "Registry",
    "RegistryClosedError",
    "RequestTimeoutError",
    "RequestTooLargeError",
    "ServerError",
    "ServerSetFormat",
    "SessionExpiredError",
    "SessionState",
    "StateChange",
    "StateStream",
    "Strategy",
    "Transaction",
    "TransactionError",
    "TreeImportError",
    "TreeNode",
    "TreeSyntaxError",
    "UnimplementedError",
    "WatchedEvent",
    "WireFormat",
    "ZKConnectionError",
    "ZKRegError",
    "ZcZkFormat",
    "ZnodeStat",
    "__version__",
    "event",
    "format_tree",
    "make_digest_acl",
    "parse_tree",
]
