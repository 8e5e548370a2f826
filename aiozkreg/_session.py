"""The ZooKeeper session: its identity and state, and requests over whichever link is up.

One :class:`Session` per registry. The :class:`~._keeper.Keeper` (a task
the registry's owner runs) attaches links and hands them over with
:meth:`Session.adopt`; the session turns client paths into server paths
(the chroot), sends requests, waits for a link when none is up, and is the
listener of its links: watch events go to its :class:`~._watches.WatchTable`
and losses to its state.

Requests issued while no link is up wait for the reconnect, bounded by the
request timeout. Requests in flight when the link drops fail with
:class:`ConnectionLossError`, except reads, which are sent again.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from typing import TypeVar

from . import _paths
from ._errors import (
    ConnectionLossError,
    FailedConnect,
    NoNodeError,
    RegistryClosedError,
    RequestTimeoutError,
)
from ._keeper import Keeper
from ._metrics import Counters
from ._session_config import SessionConfig
from ._states import SessionState, StateBroadcast
from ._tasks import TaskOwner
from ._transport import Connector, Link, ReplyHook
from ._watches import WatchTable
from ._wire import Close, Exists, Handshake, Request

log = logging.getLogger("aiozkreg.session")

R = TypeVar("R")


class _Phase(enum.Enum):
    """The session's life: not started, running, ended (by close() or a failure)."""

    NEW = "new"
    RUNNING = "running"
    CLOSING = "closing"  # CloseSession sent: the keeper attaches nothing more
    ENDED = "ended"


class Session:
    """A ZooKeeper session over a series of links."""

    def __init__(self, config: SessionConfig, connector: Connector) -> None:
        self.config = config
        self.connector = connector
        self.chroot = config.connect_string.chroot
        self.states = StateBroadcast()
        self.watches = WatchTable()
        self.timeout = config.requested_timeout or 10.0  # then the negotiated one
        self.session_id = 0
        self.password = bytes(16)
        self.past_sessions: set[int] = set()
        self.last_zxid = 0
        self.attach_zxid = 0  # the server's zxid when the current link was attached
        self._link: Link | None = None
        self._connected = asyncio.Event()  # a link is up (set at the end too, to wake waiters)
        self._phase = _Phase.NEW
        self._failure: BaseException | None = None
        self._owner: TaskOwner | None = None
        self._attaching: asyncio.Future[None] | None = None  # the first attach, for start()
        self.counters = Counters()

    # -- lifecycle ---------------------------------------------------------------------

    def connect_limit(self, wait: bool, timeout: float | None) -> float | None:
        """How long start() tries: ``timeout``, else ``connect_timeout``, else (unless
        ``wait``) the session timeout, at least 2 s. None: until cancelled."""
        if timeout is not None:
            return timeout
        if self.config.connect_timeout is not None:
            return self.config.connect_timeout
        return None if wait else max(self.timeout, 2.0)

    async def start(self, owner: TaskOwner, *, wait: bool, timeout: float | None) -> None:
        """Run the keeper in ``owner`` and wait for the first attach.

        :class:`FailedConnect` after :meth:`connect_limit` seconds; the
        caller ends everything if this raises.
        """
        if self._phase is not _Phase.NEW:
            raise self.closed_error("This registry is closed; make a new one.")
        self._phase = _Phase.RUNNING
        self._owner = owner
        keeper = Keeper(self, wait)
        self._attaching = keeper.attached
        owner.spawn(keeper.run(), name=f"aiozkreg keeper {self.config.connect_string}")
        limit = self.connect_limit(wait, timeout)
        try:
            async with asyncio.timeout(limit):
                await asyncio.shield(keeper.attached)
        except TimeoutError:
            raise FailedConnect(
                f"Can't connect to ZooKeeper at {str(self.config.connect_string)!r} "
                f"within {limit:g} s."
            ) from keeper.last_error

    async def say_goodbye(self) -> None:
        """Send CloseSession if attached (ephemeral nodes go at once); bounded, never raises.

        From here on no request is sent and the keeper attaches nothing more.
        """
        if self._phase is _Phase.RUNNING:
            self._phase = _Phase.CLOSING
        link = self._link
        if link is None or not self._connected.is_set() or link.closed:
            return
        try:
            async with asyncio.timeout(min(2.0, self.timeout / 3)):
                await link.send(Close())
        except (ConnectionLossError, RegistryClosedError, TimeoutError) as exc:
            log.debug("CloseSession not acknowledged: %s", exc)

    def end(self, failure: BaseException | None = None) -> None:
        """The session is over (closed, or the registry failed): drop the link, wake every
        waiter (they see RegistryClosedError, caused by ``failure``), announce CLOSED."""
        if self._phase is _Phase.ENDED:
            return
        self._phase = _Phase.ENDED
        self._failure = failure
        link, self._link = self._link, None
        if link is not None:
            link.abort(self.closed_error("The registry was closed."))
        attaching = self._attaching
        if attaching is not None and not attaching.done():  # start() is still waiting
            attaching.set_exception(self.closed_error("The registry was closed while starting."))
            attaching.exception()  # retrieved: start() may be gone
        self._connected.set()
        self.states.set(SessionState.CLOSED, self.session_id, None)

    def closed_error(self, message: str = "The registry is closed.") -> RegistryClosedError:
        """The error for a request on an ended session, caused by the failure if any."""
        failure = self._failure
        if failure is None:
            return RegistryClosedError(message)
        error = RegistryClosedError(
            "The registry closed itself after an internal failure "
            f"({type(failure).__name__}: {failure}); make a new one."
        )
        error.__cause__ = failure
        return error

    @property
    def closed(self) -> bool:
        return self._phase is _Phase.ENDED

    @property
    def closing(self) -> bool:
        """close() has begun (or ended): nothing is attached or sent any more."""
        return self._phase in (_Phase.CLOSING, _Phase.ENDED)

    @property
    def server(self) -> str | None:
        """``host:port`` of the server we are attached to, if any."""
        link = self._link
        return link.address if link is not None and self._connected.is_set() else None

    # -- what the keeper reports -------------------------------------------------------

    def accept(self, hs: Handshake) -> bool:
        """Adopt a handshake's session; True if it is a new session."""
        new_session = hs.session_id != self.session_id
        self.session_id = hs.session_id
        self.password = hs.password
        self.timeout = hs.timeout_ms / 1000
        return new_session

    def adopt(self, link: Link, new_session: bool, read_only: bool) -> None:
        """A prepared link is up: requests may use it."""
        self._link = link
        self.attach_zxid = link.last_zxid  # what the auth and SetWatches replies carried
        self._connected.set()
        self.counters.reconnects += self.counters.connects > 0
        self.counters.connects += 1
        if new_session:
            log.info(
                "New session 0x%x with %s (timeout %.1f s).",
                self.session_id,
                link.address,
                self.timeout,
            )
        else:
            log.info("Re-attached session 0x%x at %s.", self.session_id, link.address)
        state = SessionState.CONNECTED_READ_ONLY if read_only else SessionState.CONNECTED
        self.states.set(state, self.session_id, link.address)

    def lose(self, link: Link) -> None:
        """The keeper saw ``link`` end: the session is suspended until the next attach."""
        self._connected.clear()
        self.last_zxid = max(self.last_zxid, link.last_zxid)
        log.log(
            logging.DEBUG if self.closing else logging.WARNING,
            "Lost the connection to %s (session 0x%x): %s",
            link.address,
            self.session_id,
            link.close_reason,
        )
        self._link = None
        self.states.set(SessionState.SUSPENDED, self.session_id, None)

    def expire(self) -> None:
        """The server says the session is gone: every watcher hears it, a new one follows."""
        log.warning("Session 0x%x expired.", self.session_id)
        self.counters.expiries += 1
        self.states.set(SessionState.EXPIRED, self.session_id, None)
        self.past_sessions.add(self.session_id)
        self.session_id = 0
        self.password = bytes(16)
        self.watches.expire()
        self.states.set(SessionState.CONNECTING, 0, None)

    # -- the link's listener -------------------------------------------------------------

    def watch_event(self, event_type: int, state: int, server_path: str) -> None:
        self.watches.fire(event_type, self.client_path(server_path))

    def link_lost(self, link: Link) -> None:
        """On the protocol's callback: no request may use the link now."""
        if link is self._link:
            self._connected.clear()

    def link_failed(self, link: Link, error: Exception) -> None:
        """Our own code failed on the protocol reader: the registry's owner must hear of it."""
        if self._owner is not None:
            self._owner.fail(error)

    # -- requests ------------------------------------------------------------------------

    async def _live_link(self, deadline: float | None) -> Link:
        """The link that is up, waiting for a reconnect until ``deadline``."""
        loop = asyncio.get_running_loop()
        while True:
            if self._phase is not _Phase.RUNNING:
                if self._phase is _Phase.NEW:
                    raise RegistryClosedError("The registry is not started; await start() first.")
                raise self.closed_error()
            link = self._link
            if link is not None and self._connected.is_set():
                if not link.closed:
                    return link
                self._connected.clear()  # never spin on a dead link
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                raise RequestTimeoutError(
                    f"No connection to ZooKeeper at {str(self.config.connect_string)!r} in time."
                )
            try:
                async with asyncio.timeout(remaining):
                    await self._connected.wait()
            except TimeoutError:
                continue  # the deadline is checked above

    async def wait_connected(self) -> None:
        """Wait (without a deadline) until a link is up; RegistryClosedError once ended."""
        await self._live_link(None)

    def seen_zxid(self) -> int:
        """The zxid of the last reply received (on this link, or before it dropped)."""
        link = self._link
        return max(self.last_zxid, link.last_zxid if link is not None else 0)

    def deadline(self, timeout: float | None = None) -> float:
        """When a request started now gives up (``timeout``, else the request timeout,
        else twice the session timeout)."""
        limit = timeout if timeout is not None else self.config.request_timeout
        if limit is None:
            limit = self.timeout * 2
        return asyncio.get_running_loop().time() + limit

    async def call(
        self,
        request: Request[R],
        *,
        path: str | None = None,
        hook: ReplyHook | None = None,
        retry: bool = False,
        timeout: float | None = None,
        check_chroot: bool = True,
    ) -> R:
        """Send ``request`` (waiting for a link first) and return its reply's value.

        ``path`` names the node in errors. ``retry``: send again if the link
        drops before the reply (reads only). ``check_chroot``: on NoNode,
        raise :meth:`missing_chroot`'s error if the chroot itself is missing.
        """
        deadline = self.deadline(timeout)
        counters = self.counters
        opcode = request.opcode
        counters.requests[opcode] += 1
        observer = counters.latency
        loop = asyncio.get_running_loop()
        started = loop.time() if observer is not None else 0.0
        try:
            value = await self._exchange(request, path, hook, retry, timeout, deadline)
        except NoNodeError as exc:
            counters.failures[opcode] += 1
            if observer is not None:
                observer(opcode, loop.time() - started, True)
            if self.chroot and check_chroot:
                missing = await self.missing_chroot(exc.path)
                if missing is not None:
                    raise missing from exc
            raise
        except Exception:
            counters.failures[opcode] += 1
            if observer is not None:
                observer(opcode, loop.time() - started, True)
            raise
        if observer is not None:
            observer(opcode, loop.time() - started, False)
        return value

    async def _exchange(
        self,
        request: Request[R],
        path: str | None,
        hook: ReplyHook | None,
        retry: bool,
        timeout: float | None,
        deadline: float,
    ) -> R:
        """Send over the live link until a reply (or a failure) comes back."""
        while True:
            link = await self._live_link(deadline)
            future = link.send(request, path=path, hook=hook)
            await link.drain()
            try:
                if timeout is None:
                    return await future
                async with asyncio.timeout_at(deadline):
                    return await future
            except ConnectionLossError:
                if not retry or self.closed:
                    raise
            except TimeoutError:
                raise RequestTimeoutError(
                    f"No reply for {path or 'the request'} in time."
                ) from None

    async def missing_chroot(self, path: str | None) -> NoNodeError | None:
        """After a NoNode for ``path`` (a client path): the error naming the chroot if the
        chroot itself does not exist (one exists request, none for "/"), else None."""
        chroot = self.chroot
        if not chroot:
            return None
        if path != "/":  # else the reply was about the chroot node itself
            try:
                await self.call(Exists(chroot), path=chroot, retry=True, check_chroot=False)
            except NoNodeError:
                pass
            else:
                return None
        below = f", so {path} does not exist either" if path not in (None, "/") else ""
        return NoNodeError(
            f"The chroot {chroot} (from the connect string) does not exist on the server{below}; "
            "ensure_path() creates it.",
            path=chroot,
            chroot_missing=True,
        )

    def server_path(self, path: str) -> str:
        return _paths.with_chroot(self.chroot, path)

    def client_path(self, path: str) -> str:
        return _paths.without_chroot(self.chroot, path)
