"""aiozkreg: asyncio service registration and discovery on Apache ZooKeeper.

Every public name is loaded on first use (PEP 562): ``import aiozkreg`` reads
this file only, and asyncio, the client and ``importlib.metadata`` (for
``__version__``) load with the first name that needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and editors read; the table below is what runs
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
    from ._metrics import Metrics
    from ._plan import Change, ChangeAction
    from ._properties import Properties, PropertiesSnapshot
    from ._providers import Providers
    from ._registration import RegisteringServer, Registration
    from ._registry import Registry
    from ._states import SessionState, StateChange, StateStream
    from ._subtree import TreeChange, TreeNode, TreeSnapshot
    from ._subtree_view import Tree
    from ._tree import TextNode, format_tree, parse_tree
    from ._txn import Transaction
    from ._types import ACL, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, Perm, ZnodeStat, make_digest_acl
    from ._views import Children, Opener
    from ._watches import EventType, WatchedEvent

    __version__: str

# Where each public name lives (``event`` is a module of its own). The imports
# above say the same; tests/test_import_time.py checks that they agree.
_HOMES = {
    "_balancing": "Clock Strategy",
    "_errors": (
        "AuthFailedError BadArgumentsError BadPropertyLink BadVersionError ConnectionLossError "
        "FailedConnect InvalidACLError InvalidPathError LinkLoop NoAuthError "
        "NoChildrenForEphemeralsError NodeExistsError NoNodeError NoProvidersError NotEmptyError "
        "NotReadOnlyError RegistryClosedError RequestTimeoutError RequestTooLargeError "
        "ServerError SessionExpiredError TransactionError TreeImportError TreeSyntaxError "
        "UnimplementedError ZKConnectionError ZKRegError"
    ),
    "_formats": "CuratorFormat Provider ServerSetFormat WireFormat ZcZkFormat",
    "_metrics": "Metrics",
    "_plan": "Change ChangeAction",
    "_properties": "Properties PropertiesSnapshot",
    "_providers": "Providers",
    "_registration": "RegisteringServer Registration",
    "_registry": "Registry",
    "_states": "SessionState StateChange StateStream",
    "_subtree": "TreeChange TreeNode TreeSnapshot",
    "_subtree_view": "Tree",
    "_tree": "TextNode format_tree parse_tree",
    "_txn": "Transaction",
    "_types": "ACL OPEN_ACL_UNSAFE READ_ACL_UNSAFE Perm ZnodeStat make_digest_acl",
    "_views": "Children Opener",
    "_watches": "EventType WatchedEvent",
}
_EXPORTS = {name: module for module, names in _HOMES.items() for name in names.split()}

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
    "Metrics",
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
    "TextNode",
    "Transaction",
    "TransactionError",
    "Tree",
    "TreeChange",
    "TreeImportError",
    "TreeNode",
    "TreeSnapshot",
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

if not TYPE_CHECKING:  # hidden from type checkers, which would type any typo as Any

    def __getattr__(name: str) -> Any:
        """Load a public name on first use, and keep it."""
        if name == "__version__":
            value: Any = _version()
        elif name == "event":
            value = import_module(".event", __name__)
        elif name in _EXPORTS:
            value = getattr(import_module("." + _EXPORTS[name], __name__), name)
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    """The public names, loaded or not, and what is loaded."""
    return sorted({*globals(), *__all__})


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aiozkreg")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"
