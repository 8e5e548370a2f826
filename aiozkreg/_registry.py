"""The :class:`Registry`: the one object users hold, a thin façade over the parts.

::

    Registry ── lifecycle; kazoo-style shortcuts (one line each, over _ops)
      ├─ Registrar / Supervisor   register(), registrations kept across sessions
      ├─ Hub                       children(), properties(), providers(): live views
      ├─ TreeTools (_registry_trees) export, walk / import, delete_recursive
      └─ Session ── Keeper ── Link (socket, or in-memory)   all in one TaskOwner
"""

from __future__ import annotations

import asyncio
import enum
import os
import ssl as _ssl
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any

from . import _paths
from ._balancing import Clock, EjectionPolicy, Ejector, Strategy, make_strategy
from ._errors import RegistryClosedError
from ._formats import WireFormat, wire_format
from ._hub import Hub
from ._metrics import Metrics
from ._properties import Properties
from ._providers import Providers
from ._registrar import Registrar
from ._registration import Address, Identity, Registration
from ._registry_trees import TreeTools
from ._schemes import connector_for
from ._session import Session
from ._session_config import SessionConfig
from ._shortcuts import Shortcuts
from ._states import SessionState, StateStream
from ._subtree_view import Tree
from ._supervisor import Supervisor
from ._tasks import TaskOwner
from ._transport import DEFAULT_MAX_REQUEST_SIZE, Connector
from ._types import ACL
from ._views import Children, Opener, close_view

HOSTS_ENV = "AIOZKREG_HOSTS"


class _Lifecycle(enum.Enum):
    UNOPENED = "unopened"
    OPENED = "opened"
    CLOSED = "closed"


class Registry(Shortcuts, TreeTools):
    """A ZooKeeper session with registration, discovery and tree tools.

    ``hosts`` is a connect string (``"h1:2181,h2:2181/chroot"``); it defaults
    to ``$AIOZKREG_HOSTS``, else ``127.0.0.1:2181``. Nothing happens until
    :meth:`start` (or ``async with``). ``connector`` replaces how links are
    opened (sockets, or the scheme's: see docs/design.md, "The seam").
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
        max_request_size: int = DEFAULT_MAX_REQUEST_SIZE,
        connector: Connector | None = None,
    ) -> None:
        if hosts is None:
            hosts = os.environ.get(HOSTS_ENV) or _paths.DEFAULT_HOSTS
        self.hosts = hosts
        self._wait = wait
        identity = Identity.new()  # may rewrite our registrations in any of our sessions
        config = SessionConfig.make(
            hosts,
            session_timeout=session_timeout,
            connect_timeout=connect_timeout,
            request_timeout=request_timeout,
            auth=[*auth, identity.auth],
            ssl=ssl,
            read_only=read_only,
            max_request_size=max_request_size,
        )
        self._session = Session(config, connector or connector_for(config.connect_string))
        self._hub = Hub(self._session)
        self._supervisor = Supervisor(self._session)
        self._registrar = Registrar(self._session, self._hub, self._supervisor, identity)
        self._owner: TaskOwner | None = None
        self._lifecycle = _Lifecycle.UNOPENED
        self._ended = asyncio.Event()

    # -- lifecycle --------------------------------------------------------------

    async def start(self, *, timeout: float | None = None) -> None:
        """Connect; :class:`FailedConnect` after ``timeout`` seconds (default
        ``connect_timeout``; with ``wait=True`` and neither, keep trying until
        cancelled). If it raises, the registry is closed and close() returns at once."""
        if self._lifecycle is _Lifecycle.CLOSED:
            raise self._session.closed_error("This registry is closed; make a new one.")
        if self._lifecycle is _Lifecycle.OPENED:
            return
        self._lifecycle = _Lifecycle.OPENED
        self._owner = owner = TaskOwner(f"aiozkreg registry {self.hosts!r}", self._failed)
        try:
            await owner.start()
            await self._session.start(owner, wait=self._wait, timeout=timeout)
            if self._lifecycle is _Lifecycle.CLOSED:  # close() ran while we were connecting
                raise RegistryClosedError("The registry was closed while starting.")
        except BaseException:
            self._lifecycle = _Lifecycle.CLOSED
            await self._shut_down()
            raise
        self._hub.start(owner)
        self._supervisor.start(owner)

    async def close(self) -> None:
        """End the session; idempotent, bounded even when the server is unreachable."""
        if self._lifecycle is _Lifecycle.UNOPENED:
            self._lifecycle = _Lifecycle.CLOSED
            self._ended.set()
            return
        if self._lifecycle is _Lifecycle.CLOSED:
            await self._ended.wait()
            return
        self._lifecycle = _Lifecycle.CLOSED
        try:
            await self._session.say_goodbye()  # CloseSession: our ephemerals go at once
        finally:
            await self._shut_down()

    async def _shut_down(self) -> None:
        """Cancel and await every task, then end every part; our cancellation propagates."""
        try:
            if self._owner is not None:
                await self._owner.close()
        finally:
            self._end(None)

    def _failed(self, failure: BaseException) -> None:
        """A task of ours failed (a bug): the registry closes itself, with that cause."""
        self._lifecycle = _Lifecycle.CLOSED
        self._end(failure)

    def _end(self, failure: BaseException | None) -> None:
        self._supervisor.close()
        self._hub.close()
        self._session.end(failure)
        self._ended.set()

    def _check_open(self) -> None:
        if self._lifecycle is _Lifecycle.UNOPENED:
            raise RegistryClosedError("The registry is not started; await start() first.")
        if self._lifecycle is _Lifecycle.CLOSED:
            raise self._session.closed_error()

    async def settle(self, *, timeout: float = 30.0) -> None:
        """Wait until the registry has caught up with what it has been told.

        Connected, every registration in place (or waiting out a refusal's
        backoff, or on a watch), every live view re-read after the watch
        events received so far, and the callbacks those scheduled run. For
        tests, and for an orderly look at the state; ``TimeoutError`` after
        ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            while True:
                await self._session.wait_connected()
                await self._supervisor.idle.wait()
                await self._hub.idle.wait()
                await self.exists("/")  # a round trip: the events sent before it are in
                flushed = loop.create_future()
                loop.call_soon(flushed.set_result, None)  # after what those events scheduled
                await flushed
                if self._supervisor.idle.is_set() and self._hub.idle.is_set():
                    return

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
        return f"<Registry {self.hosts!r} {self.state.value}>"

    # -- session ------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        """The current :class:`SessionState`."""
        return self._session.states.state

    def states(self) -> StateStream:
        """An async iterator of every later :class:`StateChange`; ends after CLOSED."""
        return self._session.states.stream()

    @property
    def client_id(self) -> tuple[int, bytes]:
        """``(session_id, password)`` of the current session."""
        return self._session.session_id, self._session.password

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

    def metrics(self) -> Metrics:
        """The registry's counters and gauges now (see :class:`Metrics`); always kept."""
        session = self._session
        return Metrics.of(
            session.counters,
            state=session.states.state,
            watches=len(session.watches),
            views=self._hub.view_count(),
            live_registrations=len(self._supervisor.registrations),
        )

    # -- registration -------------------------------------------------------------------

    def register(
        self,
        path: str,
        address: Address,
        *,
        acl: Sequence[ACL] | None = None,
        format: str | WireFormat = "zc.zk",
        **data: Any,
    ) -> Opener[Registration]:
        """Register ``address`` as an ephemeral child of ``path``.

        Awaitable (returns the :class:`Registration`) and an async context
        manager (unregisters on exit). The properties are ``data`` (plus
        ``pid`` in the zc.zk layout). ``format``: ``"zc.zk"`` (a
        ``HOST:PORT`` child holding them as JSON), ``"curator"`` (a Curator
        x-discovery instance, properties in its payload), ``"serverset"`` (a
        ``member_`` sequential child, properties in its metadata), or a
        format object with options.
        """
        return self._registrar.register(path, address, acl, format, data)

    @property
    def registrations(self) -> list[Registration]:
        """The live registrations, oldest first."""
        return self._registrar.registrations

    # -- views ---------------------------------------------------------------------------------

    def providers(
        self,
        path: str,
        *,
        strategy: str | Strategy = "round_robin",
        format: str | WireFormat | None = None,
        error_threshold: int = 2,
        error_window: float = 30.0,
        ejection: float = 30.0,
        clock: Clock | None = None,
    ) -> Opener[Providers]:
        """A live provider set over ``path``'s children, with a balancer (see docs/discovery.md).

        ``format`` None detects each child's layout. ``strategy``:
        ``"round_robin"``, ``"random"``, ``"weighted"``, ``"p2c"``,
        ``"sticky"`` or an object with ``pick(candidates, load)``.
        ``error_threshold`` errors noted within ``error_window`` seconds
        eject a provider from picks for ``ejection`` seconds, timed by
        ``clock`` (default ``time.monotonic``).
        """
        layout = None if format is None else wire_format(format)
        make_strategy(strategy)  # ValueError now, not when awaited
        policy = EjectionPolicy(error_threshold, error_window, ejection)

        async def open_() -> Providers:
            self._check_open()
            chooser = make_strategy(strategy)  # a fresh one (with its own state) per set
            return await self._hub.open_providers(path, layout, chooser, Ejector(policy, clock))

        return Opener(open_, close_view)

    def children(self, path: str) -> Opener[Children]:
        """A live view of ``path``'s children (awaitable, or ``async with``)."""

        async def open_() -> Children:
            self._check_open()
            return await self._hub.open_children(path)

        return Opener(open_, close_view)

    def tree(self, path: str) -> Opener[Tree]:
        """A live mirror of the subtree at ``path`` on one persistent recursive watch
        (awaitable, or ``async with``); see docs/api.md, "Live subtree"."""

        async def open_() -> Tree:
            self._check_open()
            return await self._hub.open_tree(path)

        return Opener(open_, close_view)

    def properties(self, path: str, *, watch: bool = True) -> Opener[Properties]:
        """A live mapping of ``path``'s properties; ``watch=False`` reads once."""

        async def open_() -> Properties:
            self._check_open()
            return await self._hub.open_properties(path, watch=watch)

        return Opener(open_, close_view)

    # -- links -------------------------------------------------------------------------------------

    async def resolve(self, path: str) -> str:
        """The real path after following ``name ->`` symlinks."""
        self._check_open()
        return await self._hub.resolve(path)
