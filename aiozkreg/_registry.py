"""The :class:`Registry`: lifecycle and kazoo-style shortcuts."""

from __future__ import annotations

import asyncio
import enum
import os
import ssl as _ssl
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from types import TracebackType
from typing import Any

from . import _links, _ops, _paths, _trees, event
from ._address import check_address
from ._balancing import Clock, EjectionPolicy, Ejector, Strategy, make_strategy
from ._encoding import decode_properties, encode_properties
from ._errors import BadVersionError, NoNodeError, RegistryClosedError
from ._formats import WireFormat, wire_format
from ._plan import Change
from ._providers import Providers, ProvidersSource
from ._registration import Address, Identity, RegisteringServer, Registration, expand_address
from ._session import Session, SessionState, StateStream, WatchedEvent, WatchKind
from ._sources import DataSource, Hub, resolve_links
from ._supervisor import Supervisor
from ._types import ACL, ZnodeStat
from ._views import Children, Opener, Properties, View

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
        max_request_size: int = 0xFFFFF,  # ZooKeeper's default jute.maxbuffer
    ) -> None:
        if hosts is None:
            hosts = os.environ.get(HOSTS_ENV) or _paths.DEFAULT_HOSTS
        self.hosts = hosts
        self._wait = wait
        self._identity = Identity.new()  # may rewrite our registrations in any session
        self._session = Session(
            hosts,
            session_timeout=session_timeout,
            connect_timeout=connect_timeout,
            request_timeout=request_timeout,
            auth=[*auth, self._identity.auth],
            ssl=ssl,
            read_only=read_only,
            max_request_size=max_request_size,
        )
        self._hub = Hub(self._session)
        self._supervisor = Supervisor(self._session)
        self._lifecycle = _Lifecycle.UNOPENED

    # -- lifecycle --------------------------------------------------------------

    async def start(self, *, timeout: float | None = None) -> None:
        """Connect; :class:`FailedConnect` after ``timeout`` seconds (default
        ``connect_timeout``; with ``wait=True`` and neither, keep trying until
        cancelled). If it raises, the registry is closed and close() returns at once."""
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
        if self._lifecycle is _Lifecycle.CLOSED:  # close() ran while we were connecting
            raise RegistryClosedError("The registry was closed while starting.")
        self._hub.start()
        self._supervisor.start()

    async def close(self) -> None:
        """End the session; idempotent, bounded even when the server is unreachable."""
        if self._lifecycle is _Lifecycle.UNOPENED:
            self._lifecycle = _Lifecycle.CLOSED
            return
        self._lifecycle = _Lifecycle.CLOSED
        try:
            await self._supervisor.close()
            await self._hub.close()
        finally:
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
        ``pid`` in the zc.zk layout). ``format``: ``"zc.zk"`` (a ``HOST:PORT`` child holding them
        as JSON), ``"curator"`` (a Curator x-discovery instance, properties in
        its payload), ``"serverset"`` (a ``member_`` sequential child,
        properties in its metadata), or a format object with options.
        """
        layout = wire_format(format)  # ValueError now, not when awaited
        text = check_address(address)  # likewise
        return Opener(lambda: self._register(path, address, text, acl, layout, data), _unregister)

    async def _register(
        self,
        path: str,
        address: Address,
        text: str,
        acl: Sequence[ACL] | None,
        layout: WireFormat,
        data: dict[str, Any],
    ) -> Registration:
        addresses = expand_address(text)
        if not layout.every_address:
            addresses = addresses[:1]
        known = self._known_real(path)
        real = known or await self.resolve(path)
        try:
            return await self._register_at(path, real, address, text, addresses, acl, layout, data)
        except NoNodeError:
            if known is None:
                raise
        # the path went away since our other registration there: resolve it afresh
        real = await self.resolve(path)
        return await self._register_at(path, real, address, text, addresses, acl, layout, data)

    def _known_real(self, path: str) -> str | None:
        """``path`` itself, if one of our live registrations already sits right under it.

        A node with children is real and cannot be replaced by a symlink, so
        registering there again needs no round trip to resolve it.
        """
        norm = _paths.normalize(path)
        for registration in self._supervisor.registrations:
            if registration.active and registration.real_path == norm:
                return norm
        return None

    async def _register_at(
        self,
        path: str,
        real: str,
        address: Address,
        text: str,
        addresses: list[str],
        acl: Sequence[ACL] | None,
        layout: WireFormat,
        data: dict[str, Any],
    ) -> Registration:
        host, port = layout.endpoint(addresses[0])
        properties = {**data, "pid": os.getpid()} if layout.records_pid else dict(data)
        event.notify(RegisteringServer(address, real, properties))
        announcement = layout.announce(real, host, port)
        nodes = [_paths.join(real, layout.node_name(announcement, a)) for a in addresses]
        registration = Registration(
            self._supervisor,
            path,
            real,
            text,
            nodes,
            properties,
            self._identity.registration_acl(acl),
            announcement,
        )

        async def create(node: str) -> str:
            return await _ops.create(
                self._session,
                node,
                registration.data,
                acl=registration.acl,
                ephemeral=True,
                sequential=layout.sequential,
            )

        if len(nodes) == 1:  # the usual case: no tasks to gather
            created: list[str | BaseException] = [await create(nodes[0])]
        else:
            created = await asyncio.gather(*map(create, nodes), return_exceptions=True)
        failures = [r for r in created if isinstance(r, BaseException)]
        if failures:
            for result in created:
                if isinstance(result, str):
                    await _ops.delete(self._session, result)
            raise failures[0]
        registration.nodes = tuple(r for r in created if isinstance(r, str))  # with sequence
        await self._supervisor.track(registration)
        return registration

    @property
    def registrations(self) -> list[Registration]:
        """The live registrations, oldest first."""
        return list(self._supervisor.registrations)

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
            norm = _paths.normalize(path)
            source = await self._hub.source(WatchKind.CHILD, norm, ProvidersSource)
            assert isinstance(source, ProvidersSource)
            chooser = make_strategy(strategy)  # a fresh one (with its own state) per set
            return Providers(self._hub, source, path, layout, chooser, Ejector(policy, clock))

        return Opener(open_, _close_view)

    def children(self, path: str) -> Opener[Children]:
        """A live view of ``path``'s children (awaitable, or ``async with``)."""
        return Opener(lambda: self._open_children(path), _close_view)

    async def _open_children(self, path: str) -> Children:
        self._check_open()
        source = await self._hub.source(WatchKind.CHILD, _paths.normalize(path))
        return Children(self._hub, source, path)

    def properties(self, path: str, *, watch: bool = True) -> Opener[Properties]:
        """A live mapping of ``path``'s properties; ``watch=False`` reads once."""
        return Opener(lambda: self._open_properties(path, watch), _close_view)

    async def _open_properties(self, path: str, watch: bool) -> Properties:
        self._check_open()
        norm = _paths.normalize(path)
        if watch:
            source = await self._hub.source(WatchKind.DATA, norm)
            assert isinstance(source, DataSource)
            return Properties(self._hub, source, path, None)
        real = await self.resolve(norm)
        data, _ = await _ops.get(self._session, real)
        raw = decode_properties(data, real)
        state = await resolve_links(norm, raw, self._read_resolved)
        return Properties(self._hub, None, path, state, real)

    async def _read_resolved(self, path: str) -> dict[str, Any]:
        return await self.get_properties(await self.resolve(path))

    def _check_open(self) -> None:
        if self._lifecycle is not _Lifecycle.OPENED:
            state = "not started" if self._lifecycle is _Lifecycle.UNOPENED else "closed"
            raise RegistryClosedError(f"The registry is {state}.")

    # -- links -------------------------------------------------------------------------------------

    async def get_properties(self, path: str) -> dict[str, Any]:
        """The node's decoded data, links not followed."""
        data, _ = await _ops.get(self._session, path)
        return decode_properties(data, path)

    async def resolve(self, path: str) -> str:
        """The real path after following ``name ->`` symlinks."""
        self._check_open()
        return await self._hub.resolve(path)

    async def ln(self, source: str, destination: str) -> None:
        """Make a symlink at ``destination`` to ``source`` (trailing ``/``: keep the name)."""
        holder, key = _links.link_key(destination, source)
        await self._update_node(holder, {key: source})

    async def _update_node(self, path: str, changes: dict[str, Any]) -> None:
        """Merge ``changes`` into a node's properties with compare-and-set."""

        while True:
            data, stat = await _ops.get(self._session, path)
            merged = {**decode_properties(data, path), **changes}
            try:
                await _ops.set_data(self._session, path, encode_properties(merged), stat.version)
                return
            except BadVersionError:
                continue

    async def is_ephemeral(self, path: str) -> bool:
        """True if the node at ``path`` is ephemeral."""
        stat = await _ops.exists(self._session, path)
        if stat is None:
            raise NoNodeError(path=path)
        return stat.ephemeral

    # -- trees ------------------------------------------------------------------------------

    async def export_tree(
        self, path: str = "/", *, ephemeral: bool = False, name: str | None = None
    ) -> str:
        """The subtree at ``path`` as tree text (the reference's layout)."""
        return await _trees.export_tree(self._session, path, ephemeral=ephemeral, name=name)

    async def print_tree(self, path: str = "/") -> None:
        """Print ``export_tree(path, ephemeral=True)``."""
        print(await self.export_tree(path, ephemeral=True), end="")

    async def import_tree(
        self,
        text: str,
        path: str = "/",
        *,
        trim: bool | None = None,
        acl: Sequence[ACL] | None = None,
        dry_run: bool = False,
    ) -> list[Change]:
        """Make the tree at ``path`` match ``text``; returns (and logs) the change records."""
        return await _trees.import_tree(
            self._session, text, path, trim=trim, acl=acl, dry_run=dry_run
        )

    async def delete_recursive(
        self,
        path: str,
        *,
        dry_run: bool = False,
        force: bool = False,
        ignore_if_ephemeral: bool = False,
    ) -> list[Change]:
        """Delete ``path`` and everything below it, sparing ephemeral nodes unless ``force``.

        With ``force``, this registry's own live registrations below ``path``
        are ended first (as :meth:`Registration.unregister` would), so none
        comes back; other registries' registrations are restored by their
        own supervisors, as always.
        """
        if force and not dry_run:
            await self._end_registrations_under(path)
        return await _trees.delete_recursive(
            self._session,
            path,
            dry_run=dry_run,
            force=force,
            ignore_if_ephemeral=ignore_if_ephemeral,
        )

    async def _end_registrations_under(self, path: str) -> None:
        top = _paths.normalize(path)
        prefix = top.rstrip("/") + "/"
        doomed = [
            registration
            for registration in self._supervisor.registrations
            if any(node == top or node.startswith(prefix) for node in registration.nodes)
        ]
        for registration in doomed:
            await registration.unregister()

    def walk(
        self, path: str = "/", *, ephemeral: bool = True, children: bool = False
    ) -> AsyncIterator[Any]:
        """Iterate over the paths at and below ``path`` (preorder, sorted).

        With ``children=True`` yields ``(path, names)``: removing names prunes
        the walk. ``ephemeral=False`` leaves out ephemeral nodes.
        """
        return _trees.walk(self._session, path, ephemeral=ephemeral, children=children)


async def _unregister(registration: Registration) -> None:
    await registration.unregister()


async def _close_view(view: View) -> None:
    await view.close()
