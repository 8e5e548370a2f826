"""The ZooKeeper session: connecting, reconnecting, requests and watches.

One :class:`Session` per registry. It owns one background task, the
*keeper*, which runs this loop until the session is closed::

    connecting ──> connected ──(link lost)──> suspended ──> connected (same session)
        ^                                         │
        └──── expired (server said so) <──────────┘  then a new session

- The keeper tries the ensemble's servers in shuffled order with a backoff
  capped well inside the session timeout, each handshake bounded by its own
  short timeout (a starting server may accept and never answer).
- While connected it pings every third of the timeout and drops the link
  when nothing has been heard for two thirds of it (a black hole). EOF and
  resets are noticed at once by the connection itself.
- On re-attach it re-sends auth and re-sets every watch with SetWatches from
  the last zxid seen, so watches fire exactly once for what changed while
  disconnected, and not at all otherwise.
- When the server says the session expired, every watcher is told
  (``EXPIRED``), a new session is made, and the state stream shows
  ``EXPIRED`` then ``CONNECTED``.

Requests issued while no link is up wait for the reconnect, bounded by the
request timeout. Requests in flight when the link drops fail with
:class:`ConnectionLossError`, except reads, which are retried.

Lifecycle: :meth:`Session.start` either attaches or shuts everything down
before it raises (:class:`FailedConnect`, :class:`AuthFailedError`, a
cancellation), so :meth:`Session.close` always returns at once after it.
If the keeper ever fails unexpectedly, the session closes itself and every
later request raises :class:`RegistryClosedError` caused by that failure.

With a chroot, a request that fails with NoNode is followed by one check of
the chroot node (only then: success costs nothing); if the chroot itself is
missing, the error names it (``NoNodeError.chroot_missing``).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import ssl as _ssl
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiozk import protocol as _p

from . import _paths
from ._connection import (
    AUTH_XID,
    DEFAULT_MAX_REQUEST_SIZE,
    SET_WATCHES_XID,
    Connection,
    Handshake,
    Link,
    Opener,
)
from ._errors import (
    AuthFailedError,
    ConnectionLossError,
    FailedConnect,
    NoNodeError,
    RegistryClosedError,
    RequestTimeoutError,
    SessionExpiredError,
    ZKRegError,
    error_for_code,
)

log = logging.getLogger("aiozkreg.session")

_NO_NODE = -101
_SET_WATCHES_BATCH = 128 * 1024


class SessionState(enum.Enum):
    """Where the session stands."""

    CONNECTING = "connecting"
    """No session yet (or a new one is being made after expiry)."""
    CONNECTED = "connected"
    CONNECTED_READ_ONLY = "connected_read_only"
    """Attached to a read-only server (``read_only=True``): writes fail."""
    SUSPENDED = "suspended"
    """The link dropped; the session may still be alive on the server."""
    EXPIRED = "expired"
    """The server ended the session: ephemerals and watches are gone."""
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class StateChange:
    """One transition of the session state."""

    state: SessionState
    session_id: int
    server: str | None = None


class WatchKind(enum.Enum):
    DATA = "data"
    EXIST = "exist"
    CHILD = "child"


class EventType(enum.IntEnum):
    """Why a watch fired."""

    CREATED = 1
    DELETED = 2
    CHANGED = 3
    CHILD = 4
    EXPIRED = -112
    """The session expired: the watch is gone and must be set again."""


@dataclass(frozen=True, slots=True)
class WatchedEvent:
    type: EventType
    path: str


Watcher = Callable[[WatchedEvent], None]

_FIRES: dict[int, tuple[WatchKind, ...]] = {
    EventType.CREATED: (WatchKind.EXIST, WatchKind.DATA),
    EventType.DELETED: (WatchKind.DATA, WatchKind.EXIST, WatchKind.CHILD),
    EventType.CHANGED: (WatchKind.DATA, WatchKind.EXIST),
    EventType.CHILD: (WatchKind.CHILD,),
}


def _handshake_timeout(session_timeout: float) -> float:
    """How long one connect attempt may take: a quarter of the session timeout, between
    0.5 and 2 s, so the next server gets its turn well inside the session timeout (a
    starting server may accept and never answer). See docs/sessions.md, "Reconnecting"."""
    return max(0.5, min(session_timeout / 4, 2.0))


class Backoff:
    """Exponential delays with jitter, capped: 50 ms, 100 ms, ... up to ``cap``."""

    def __init__(self, cap: float, first: float = 0.05) -> None:
        self.cap = cap
        self.first = first
        self._next = first

    def reset(self) -> None:
        self._next = self.first

    def delay(self) -> float:
        value = min(self._next, self.cap)
        self._next = min(self._next * 2, self.cap)
        return value * random.uniform(0.8, 1.0)


class StateStream:
    """An async iterator of :class:`StateChange`; ends after ``CLOSED``."""

    def __init__(self, session: Session) -> None:
        self._queue: asyncio.Queue[StateChange] = asyncio.Queue()
        self._done = False
        session._streams.add(self)

    def _push(self, change: StateChange) -> None:
        self._queue.put_nowait(change)

    def __aiter__(self) -> StateStream:
        return self

    async def __anext__(self) -> StateChange:
        if self._done:
            raise StopAsyncIteration
        change = await self._queue.get()
        if change.state is SessionState.CLOSED:
            self._done = True
        return change


class Session:
    """A ZooKeeper session over a series of connections."""

    def __init__(
        self,
        hosts: str,
        *,
        session_timeout: float | None = 10.0,
        connect_timeout: float | None = None,
        request_timeout: float | None = None,
        auth: Iterable[tuple[str, str | bytes]] = (),
        ssl: _ssl.SSLContext | None = None,
        read_only: bool = False,
        max_request_size: int = DEFAULT_MAX_REQUEST_SIZE,
    ) -> None:
        if isinstance(max_request_size, bool) or not isinstance(max_request_size, int):
            raise TypeError("max_request_size must be an int (bytes).")
        if max_request_size < 1:
            raise ValueError(f"max_request_size must be positive, not {max_request_size}.")
        self.connect_string = _paths.parse_hosts(hosts)
        self.chroot = self.connect_string.chroot
        self.requested_timeout = session_timeout
        self.timeout = session_timeout or 10.0  # replaced by the negotiated one
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.auth = [
            (scheme, cred if isinstance(cred, bytes) else cred.encode()) for scheme, cred in auth
        ]
        self.ssl = ssl
        self.read_only = read_only
        self.max_request_size = max_request_size

        self._open: Opener = Connection.open
        if self.connect_string.memory:  # an in-process server, for users' unit tests
            from .testing._memory import open_memory_link

            self._open = open_memory_link
        self.state = SessionState.CONNECTING
        self.session_id = 0
        self.past_sessions: set[int] = set()
        self._password = b"\x00" * 16
        self._last_zxid = 0
        self._conn: Link | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self._closed = asyncio.Event()
        self._keeper: asyncio.Task[None] | None = None
        self._first_attach: asyncio.Future[None] | None = None
        self._failure: BaseException | None = None  # why the keeper closed the session
        self._last_error: BaseException | None = None  # of the last failed connect attempt
        self._watchers: dict[tuple[WatchKind, str], list[Watcher]] = {}
        self._streams: weakref.WeakSet[StateStream] = weakref.WeakSet()
        self._state_listeners: list[Callable[[StateChange], None]] = []

    # -- lifecycle ------------------------------------------------------------

    def connect_limit(self, wait: bool, timeout: float | None) -> float | None:
        """How long start() tries: ``timeout``, else ``connect_timeout``, else (unless
        ``wait``) the session timeout, at least 2 s. None: until cancelled."""
        if timeout is not None:
            return timeout
        if self.connect_timeout is not None:
            return self.connect_timeout
        return None if wait else max(self.timeout, 2.0)

    async def start(self, *, wait: bool = False, timeout: float | None = None) -> None:
        """Connect, or raise with everything shut down (close() then returns at once).

        Gives up with :class:`FailedConnect` after :meth:`connect_limit`
        seconds. ``wait``: keep trying through errors that would otherwise
        end it at once (no such in-memory server), logging every round.
        """
        if self._closing:
            raise self._closed_error("This registry is closed; make a new one.")
        if self._keeper is not None:
            return
        loop = asyncio.get_running_loop()
        self._first_attach = first = loop.create_future()
        self._keeper = asyncio.create_task(
            self._keep(wait), name=f"aiozkreg keeper {self.connect_string}"
        )
        limit = self.connect_limit(wait, timeout)
        try:
            async with asyncio.timeout(limit):
                await asyncio.shield(first)
        except TimeoutError:
            last = self._last_error  # the cause, for tracebacks
            await self._shut_down()
            raise FailedConnect(
                f"Can't connect to ZooKeeper at {str(self.connect_string)!r} within {limit:g} s."
            ) from last
        except BaseException:
            await self._shut_down()
            raise

    async def close(self) -> None:
        """End the session (CloseSession when connected); idempotent and bounded."""
        if self._closing:
            await self._closed.wait()
            return
        self._closing = True
        try:
            conn = self._conn
            if conn is not None and self._connected.is_set() and not conn.closed:
                try:
                    async with asyncio.timeout(min(2.0, self.timeout / 3)):
                        await conn.send(_p.CloseRequest(), None)
                except (ZKRegError, TimeoutError) as exc:
                    log.debug("CloseSession not acknowledged: %s", exc)
        finally:
            await self._shut_down()

    async def _shut_down(self) -> None:
        """Stop the keeper, drop the link, announce CLOSED; idempotent.

        Whatever happens (a cancellation of the caller included), the session
        ends up closed: request waiters and a pending start() are woken and
        see it, and close() returns at once afterwards.
        """
        self._closing = True
        try:
            await self._stop_keeper()
        finally:
            if self._conn is not None:
                self._conn.abort(self._closed_error("The registry was closed."))
                self._conn = None
            first = self._first_attach
            if first is not None and not first.done():
                first.set_exception(self._closed_error("The registry was closed while starting."))
                first.exception()  # retrieved: start() may have given up already
            self._connected.set()  # wake request waiters; they see _closing
            self._set_state(SessionState.CLOSED)
            self._closed.set()

    async def _stop_keeper(self) -> None:
        """Cancel the keeper and wait for it; a cancellation of our own still propagates."""
        task, self._keeper = self._keeper, None
        if task is None or task is asyncio.current_task():
            return
        task.cancel()
        await asyncio.wait({task})
        if not task.cancelled():
            task.exception()  # retrieved: start() already reported it

    def _closed_error(self, message: str = "The registry is closed.") -> RegistryClosedError:
        """The error for a request on a closed session, caused by the keeper's failure if any."""
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
        return self._closing

    @property
    def client_id(self) -> tuple[int, bytes]:
        """The session id and password (for the expiry test trick)."""
        return self.session_id, self._password

    @property
    def server(self) -> str | None:
        """``host:port`` of the server we are attached to, if any."""
        conn = self._conn
        return conn.address if conn is not None and self._connected.is_set() else None

    def states(self) -> StateStream:
        return StateStream(self)

    def add_state_listener(self, listener: Callable[[StateChange], None]) -> None:
        """Call ``listener`` synchronously on every state change (internal use)."""
        self._state_listeners.append(listener)

    def _set_state(self, state: SessionState) -> None:
        if state is self.state and state is not SessionState.CONNECTED:
            return
        self.state = state
        change = StateChange(state, self.session_id, self.server)
        for stream in list(self._streams):
            stream._push(change)
        for listener in list(self._state_listeners):
            try:
                listener(change)
            except Exception:
                log.exception("State listener %r failed", listener)

    # -- the keeper -------------------------------------------------------------

    async def _keep(self, wait: bool) -> None:
        try:
            await self._keep_connected(wait)
        except (AuthFailedError, FailedConnect):
            raise  # only before the first attach, which start() reports
        except Exception as exc:
            log.critical("The session keeper failed; the registry is closed.", exc_info=True)
            self._fail(exc)

    def _fail(self, failure: BaseException | None) -> None:
        """Close the session from inside the keeper: everyone waiting sees ``failure``."""
        self._failure = failure
        self._closing = True
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.abort(self._closed_error())
        first = self._first_attach
        if first is not None and not first.done():
            first.set_exception(self._closed_error())
        self._connected.set()  # wake request waiters: they see the registry closed
        self._set_state(SessionState.CLOSED)
        self._closed.set()

    async def _keep_connected(self, wait: bool) -> None:
        backoff = Backoff(cap=max(0.2, min(2.0, self.timeout / 5)))
        while True:
            conn = await self._attach(backoff, wait)
            backoff.reset()
            await self._serve(conn)
            self._connected.clear()
            self._last_zxid = max(self._last_zxid, conn.last_zxid)
            reason = conn.close_reason
            log.warning(
                "Lost the connection to %s (session 0x%x): %s",
                conn.address,
                self.session_id,
                reason,
            )
            self._conn = None
            self._set_state(SessionState.SUSPENDED)

    async def _attach(self, backoff: Backoff, wait: bool) -> Link:
        """Try servers until one attaches us (re-attaching, or with a new session)."""
        failures = 0
        while True:
            servers = list(self.connect_string.servers)
            random.shuffle(servers)
            for host, port in servers:
                try:
                    try:
                        conn = await self._handshake(host, port)
                    except _Expired:  # at once, with a new session
                        conn = await self._handshake(host, port)
                except AuthFailedError as exc:
                    self._last_error = exc
                    if self._first_attach is not None and not self._first_attach.done():
                        self._first_attach.set_exception(exc)
                        raise
                    log.error("%s", exc)
                    continue
                except FailedConnect as exc:  # nothing there to wait for (no such memory://)
                    self._last_error = exc
                    first = self._first_attach
                    if not wait and first is not None and not first.done():
                        first.set_exception(exc)
                        raise
                    log.debug("Connecting to %s failed: %s", host, exc)
                    continue
                except (OSError, ZKRegError, TimeoutError) as exc:
                    self._last_error = exc
                    log.debug("Connecting to %s:%d failed: %s", host, port, exc)
                    continue
                if conn is not None:
                    return conn
            failures += 1
            if wait or failures % 10 == 0:
                log.warning("Can't connect to ZooKeeper at %r; retrying.", str(self.connect_string))
            await asyncio.sleep(backoff.delay())

    async def _handshake(self, host: str, port: int) -> Link | None:
        timeout_ms = int((self.requested_timeout or 0) * 1000)
        request = _p.ConnectRequest(
            protocol_version=0,
            last_seen_zxid=self._last_zxid,
            timeout=timeout_ms,
            session_id=self.session_id,
            password=self._password,
            read_only=self.read_only,
        )
        per_try = _handshake_timeout(self.timeout)
        conn, hs = await self._open(
            host, port, request, on_watch=self._on_watch, timeout=per_try, ssl=self.ssl
        )
        conn.max_request_size = self.max_request_size
        if hs.expired:
            conn.abort(SessionExpiredError("The session expired."))
            if self.session_id:
                self._expire()
                raise _Expired
            raise ConnectionLossError(f"{host}:{port} refused a new session.")
        if hs.read_only and not self.read_only:
            conn.abort()
            raise ConnectionLossError(f"{host}:{port} is read-only.")
        try:
            await self._prepare(conn, hs)
        except BaseException:
            conn.abort()
            raise
        return conn

    async def _prepare(self, conn: Link, hs: Handshake) -> None:
        """Adopt the handshake, re-send auth and watches, announce the state."""
        new_session = hs.session_id != self.session_id
        self.session_id = hs.session_id
        self._password = hs.password
        self.timeout = hs.timeout_ms / 1000
        per_try = _handshake_timeout(self.timeout)
        async with asyncio.timeout(per_try):
            for scheme, credential in self.auth:
                reply = conn.send(
                    _p.AuthRequest(type=0, scheme=scheme, auth=credential),
                    None,
                    xid=AUTH_XID,
                )
                try:
                    await reply
                except ZKRegError as exc:
                    raise AuthFailedError(
                        f"ZooKeeper rejected the {scheme!r} credentials: {exc}"
                    ) from None
            if not new_session:
                await self._reset_watches(conn)
        self._conn = conn
        conn.on_lost = self._lost
        if conn.closed:  # lost while we were preparing it
            raise ConnectionLossError(f"Connection to {conn.address} was lost.")
        self._connected.set()
        state = SessionState.CONNECTED_READ_ONLY if hs.read_only else SessionState.CONNECTED
        if new_session:
            log.info(
                "New session 0x%x with %s (timeout %.1f s).",
                self.session_id,
                conn.address,
                self.timeout,
            )
        else:
            log.info("Re-attached session 0x%x at %s.", self.session_id, conn.address)
        self._set_state(state)
        if self._first_attach is not None and not self._first_attach.done():
            self._first_attach.set_result(None)

    def _lost(self, conn: Link) -> None:
        """The link dropped (on the protocol's callback): no request may use it now."""
        if conn is self._conn:
            self._connected.clear()

    def _expire(self) -> None:
        log.warning("Session 0x%x expired.", self.session_id)
        self._set_state(SessionState.EXPIRED)
        self.past_sessions.add(self.session_id)
        self.session_id = 0
        self._password = b"\x00" * 16
        watchers, self._watchers = self._watchers, {}
        for (_, path), callbacks in watchers.items():
            for callback in callbacks:
                self._call_watcher(callback, WatchedEvent(EventType.EXPIRED, path))
        self._set_state(SessionState.CONNECTING)

    async def _serve(self, conn: Link) -> None:
        """Keep the link alive with pings until it is lost."""
        loop = asyncio.get_running_loop()
        ping_every = self.timeout / 3
        dead_after = self.timeout * 2 / 3
        while not conn.closed:
            now = loop.time()
            silent = now - conn.last_recv
            if silent >= dead_after:
                conn.abort(ConnectionLossError(f"No reply from {conn.address} for {silent:.1f} s."))
                break
            if now - conn.last_send >= ping_every:
                conn.ping()
            wake = min(conn.last_send + ping_every, conn.last_recv + dead_after) - loop.time()
            try:
                async with asyncio.timeout(max(wake, 0.01)):
                    await conn.wait_closed()
            except TimeoutError:
                pass
        await conn.wait_closed()

    async def _reset_watches(self, conn: Link) -> None:
        batches: list[dict[WatchKind, list[str]]] = []
        batch: dict[WatchKind, list[str]] = {kind: [] for kind in WatchKind}
        size = 0
        for kind, path in self._watchers:
            if size > _SET_WATCHES_BATCH:
                batches.append(batch)
                batch = {k: [] for k in WatchKind}
                size = 0
            batch[kind].append(_paths.with_chroot(self.chroot, path))
            size += len(path) + 4
        if size:
            batches.append(batch)
        for item in batches:
            request = _p.SetWatchesRequest(
                relative_zxid=self._last_zxid,
                data_watches=item[WatchKind.DATA],
                exist_watches=item[WatchKind.EXIST],
                child_watches=item[WatchKind.CHILD],
            )
            await conn.send(request, None, xid=SET_WATCHES_XID)

    # -- watches ------------------------------------------------------------------

    def _on_watch(self, type_: int, _state: int, server_path: str) -> None:
        kinds = _FIRES.get(type_)
        if kinds is None:
            return
        path = _paths.without_chroot(self.chroot, server_path)
        event = WatchedEvent(EventType(type_), path)
        for kind in kinds:
            for callback in self._watchers.pop((kind, path), ()):
                self._call_watcher(callback, event)

    @staticmethod
    def _call_watcher(callback: Watcher, event: WatchedEvent) -> None:
        try:
            callback(event)
        except Exception:
            log.exception("Watcher %r failed on %s", callback, event)

    def _add_watcher(self, kind: WatchKind, path: str, watcher: Watcher) -> None:
        watchers = self._watchers.setdefault((kind, path), [])
        if watcher not in watchers:
            watchers.append(watcher)

    def discard_watcher(self, kind: WatchKind, path: str, watcher: Watcher) -> bool:
        """Forget ``watcher``; True if no one else watches (kind, path) any more."""
        watchers = self._watchers.get((kind, path))
        if watchers is None:
            return False
        if watcher in watchers:
            watchers.remove(watcher)
        if watchers:
            return False
        del self._watchers[(kind, path)]
        return True

    def watch_count(self) -> int:
        """How many (kind, path) watches the server holds for us."""
        return len(self._watchers)

    # -- requests -------------------------------------------------------------------

    async def _link(self, deadline: float | None) -> Link:
        """The live connection, waiting for a reconnect until ``deadline``."""
        loop = asyncio.get_running_loop()
        while True:
            if self._closing:
                raise self._closed_error()
            conn = self._conn
            if conn is not None and self._connected.is_set():
                if not conn.closed:
                    return conn
                self._connected.clear()  # never spin on a dead link
            if self._keeper is None:
                raise RegistryClosedError("The registry is not started; await start() first.")
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                raise RequestTimeoutError(
                    f"No connection to ZooKeeper at {str(self.connect_string)!r} in time."
                )
            try:
                async with asyncio.timeout(remaining):
                    await self._connected.wait()
            except TimeoutError:
                continue

    async def wait_connected(self) -> None:
        """Wait (without a deadline) until a link is up; RegistryClosedError once closed."""
        await self._link(None)

    def _deadline(self, timeout: float | None) -> float | None:
        limit = timeout if timeout is not None else self.request_timeout
        if limit is None:
            limit = self.timeout * 2
        return asyncio.get_running_loop().time() + limit

    async def call(
        self,
        request: Any,
        response_cls: type[Any] | None,
        *,
        path: str | None = None,
        hook: Callable[[int], None] | None = None,
        retry: bool = False,
        timeout: float | None = None,
        check_chroot: bool = True,
    ) -> Any:
        """Send a request (waiting for a link first) and return its parsed reply.

        ``retry``: send again if the link drops before the reply (reads only).
        ``check_chroot``: on NoNode, raise :meth:`missing_chroot`'s error if the
        chroot itself is missing (False where NoNode is an answer, not a failure).
        """
        deadline = self._deadline(timeout)
        while True:
            conn = await self._link(deadline)
            future = conn.send(request, response_cls, hook=hook, path=path)
            await conn.drain()
            try:
                if timeout is None:
                    return await future
                async with asyncio.timeout_at(deadline):
                    return await future
            except ConnectionLossError:
                if not retry or self._closing:
                    raise
            except TimeoutError:
                raise RequestTimeoutError(
                    f"No reply for {path or 'the request'} in time."
                ) from None
            except NoNodeError as exc:
                if self.chroot and check_chroot:
                    missing = await self.missing_chroot(exc.path)
                    if missing is not None:
                        raise missing from exc
                raise

    async def missing_chroot(self, path: str | None) -> NoNodeError | None:
        """After a NoNode for ``path`` (a client path): the error naming the chroot if the
        chroot itself does not exist (one exists request, none for "/"), else None."""
        chroot = self.chroot
        if not chroot:
            return None
        if path != "/":  # else the reply was about the chroot node itself
            request = _p.ExistsRequest(path=chroot, watch=False)
            try:
                await self.call(
                    request, _p.ExistsResponse, path=chroot, retry=True, check_chroot=False
                )
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

    def watch_hook(self, kind: WatchKind, path: str, watcher: Watcher) -> Callable[[int], None]:
        """A reply hook that records ``watcher`` when the server set the watch."""

        def hook(err: int) -> None:
            if kind is WatchKind.EXIST:
                # exists(): a data watch on a node that is there, else an exist watch
                if err == 0:
                    self._add_watcher(WatchKind.DATA, path, watcher)
                elif err == _NO_NODE:
                    self._add_watcher(WatchKind.EXIST, path, watcher)
            elif err == 0:
                self._add_watcher(kind, path, watcher)

        return hook

    def server_path(self, path: str) -> str:
        return _paths.with_chroot(self.chroot, path)

    def client_path(self, path: str) -> str:
        return _paths.without_chroot(self.chroot, path)

    def raise_for(self, code: int, path: str | None) -> None:
        raise error_for_code(code, path)


class _Expired(Exception):
    """Internal: the server refused to re-attach; a new session follows."""
