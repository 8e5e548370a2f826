"""The :class:`Registry`: lifecycle and kazoo-style shortcuts."""

from __future__ import annotations

import asyncio
import enum
import os
import ssl as _ssl
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType

from . import _ops, _paths
from ._errors import NoNodeError, RegistryClosedError
from ._session import Session, SessionState, StateStream, WatchedEvent
from ._types import ACL, ZnodeStat

HOSTS_ENV = "AIOZKREG_HOSTS"

UserWatch = Callable[[WatchedEvent], object]


class _Lifecycle(enum.Enum):
    UNOPENED = "unopened"
    OPENED = "opened"
    CLOSED = "closed"


class Registry:
    """A ZooKeeper session with registration, discovery and tree tools.

    ``hosts`` is a connect string (``"h1:2181,h2:2181/chroot"``); it defaults
    to ``$AIOZKREG_HOSTS``, else ``127.0.0.1:2181``. Nothing happens until
    :meth:`start` (or ``async with``).
    """

    def __init__(
        self,
        hosts: str | None = None,
        *,
        session_timeout: float | None = 10.0,
        connect_timeout: float | None = None,
        request_timeout: float | None = None,
        wait: bool = False,
        auth: Iterable[tuple[str, str | bytes]] = (),
        ssl: _ssl.SSLContext | None = None,
        read_only: bool = False,
    ) -> None:
        if hosts is None:
            hosts = os.environ.get(HOSTS_ENV) or _paths.DEFAULT_HOSTS
        self.hosts = hosts
        self._wait = wait
        self._session = Session(
            hosts,
            session_timeout=session_timeout,
            connect_timeout=connect_timeout,
            request_timeout=request_timeout,
            auth=auth,
            ssl=ssl,
            read_only=read_only,
        )
        self._lifecycle = _Lifecycle.UNOPENED

    # -- lifecycle --------------------------------------------------------------

    async def start(self, *, timeout: float | None = None) -> None:
        """Connect. Raises :class:`FailedConnect` unless ``wait=True`` was given."""
        if self._lifecycle is _Lifecycle.CLOSED:
            raise RegistryClosedError("This registry is closed; make a new one.")
        if self._lifecycle is _Lifecycle.OPENED:
            return
        self._lifecycle = _Lifecycle.OPENED
        try:
            await self._session.start(wait=self._wait, timeout=timeout)
        except BaseException:
            self._lifecycle = _Lifecycle.CLOSED
            raise

    async def close(self) -> None:
        """End the session; idempotent, bounded even when the server is unreachable."""
        if self._lifecycle is _Lifecycle.UNOPENED:
            self._lifecycle = _Lifecycle.CLOSED
            return
        self._lifecycle = _Lifecycle.CLOSED
        await self._session.close()

    async def __aenter__(self) -> Registry:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<Registry {self.hosts!r} {self._session.state.value}>"

    # -- session ------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        """The current :class:`SessionState`."""
        return self._session.state

    def states(self) -> StateStream:
        """An async iterator of every later :class:`StateChange`; ends after CLOSED."""
        return self._session.states()

    @property
    def client_id(self) -> tuple[int, bytes]:
        """``(session_id, password)`` of the current session."""
        return self._session.client_id

    @property
    def session_timeout(self) -> float:
        """The session timeout the server granted, in seconds."""
        return self._session.timeout

    @property
    def connected_to(self) -> str | None:
        """``host:port`` of the server the session is attached to, or None."""
        return self._session.server

    @property
    def chroot(self) -> str:
        return self._session.chroot

    # -- shortcuts (kazoo's signatures) ----------------------------------------------

    def _user_watch(self, watch: UserWatch | None) -> Callable[[WatchedEvent], None] | None:
        if watch is None:
            return None
        loop = asyncio.get_running_loop()

        def deliver(event: WatchedEvent) -> None:
            loop.call_soon(watch, event)  # never run user code on the protocol reader

        return deliver

    async def exists(self, path: str, *, watch: UserWatch | None = None) -> ZnodeStat | None:
        """The node's stat, or None if there is no such node."""
        return await _ops.exists(self._session, path, self._user_watch(watch))

    async def get(self, path: str, *, watch: UserWatch | None = None) -> tuple[bytes, ZnodeStat]:
        """``(data, stat)``; :class:`NoNodeError` if missing."""
        return await _ops.get(self._session, path, self._user_watch(watch))

    async def get_children(self, path: str, *, watch: UserWatch | None = None) -> list[str]:
        """The names of the node's children (unsorted, as the server gives them)."""
        children, _ = await _ops.get_children(self._session, path, self._user_watch(watch))
        return children

    async def create(
        self,
        path: str,
        value: bytes = b"",
        *,
        acl: Sequence[ACL] | None = None,
        ephemeral: bool = False,
        sequential: bool = False,
        makepath: bool = False,
    ) -> str:
        """Create a node and return its path (with the sequence suffix, if any)."""
        try:
            return await _ops.create(
                self._session, path, value, acl=acl, ephemeral=ephemeral, sequential=sequential
            )
        except NoNodeError:
            if not makepath:
                raise
        await _ops.ensure_path(self._session, _paths.split(path)[0])
        return await _ops.create(
            self._session, path, value, acl=acl, ephemeral=ephemeral, sequential=sequential
        )

    async def delete(self, path: str, version: int = -1) -> None:
        """Delete a childless node (only at ``version`` unless it is -1)."""
        await _ops.delete(self._session, path, version)

    async def set(self, path: str, value: bytes, version: int = -1) -> ZnodeStat:
        """Replace the node's data (only at ``version`` unless it is -1)."""
        return await _ops.set_data(self._session, path, value, version)

    async def ensure_path(self, path: str, acl: Sequence[ACL] | None = None) -> None:
        """Create the node and any missing ancestors; existing ones are left alone."""
        await _ops.ensure_path(self._session, path, acl)

    async def get_acls(self, path: str) -> tuple[list[ACL], ZnodeStat]:
        return await _ops.get_acls(self._session, path)

    async def set_acls(self, path: str, acl: Sequence[ACL], version: int = -1) -> ZnodeStat:
        return await _ops.set_acls(self._session, path, acl, version)

    def transaction(self) -> _ops.Transaction:
        """A multi-operation transaction: chain operations, then ``await txn.commit()``."""
        return _ops.Transaction(self._session)
