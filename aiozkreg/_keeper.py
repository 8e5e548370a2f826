"""The keeper: the one task that keeps a session attached to a server.

Its loop, until the registry closes::

    attach ──> serve (ping; drop a silent link) ──> link lost ──> pause ──> attach again

- Herd control first: after losing its link a session waits a random
  pause, up to a second (a tenth of the session timeout if that is less),
  before it tries again, as ZooKeeper's own Java client does. The sessions
  of a server that died then reach the others spread over that second, not
  in the same few milliseconds.
- Attaching tries the ensemble's servers in shuffled order, the server just
  lost last. The first handshake with a server may take 0.5 s; a server
  that accepts and stays silent (a starting server sometimes does) doubles
  that for the next attempt, up to a quarter of the session timeout
  (0.5 to 2 s): a dead link is noticed two thirds into the session timeout,
  so the next server must get its turn well inside the last third.
- Rounds of attempts are spaced by a jittered backoff from 50 ms. While
  nothing listens (connections refused: a server restarting, which costs
  it nothing) the spacing stays at most 0.5 s, so a restarted server is
  used again within about half a second of serving. Once a server answers
  but cannot serve (still starting, electing a leader) the backoff starts
  again from 50 ms and grows to a second (a tenth of the session timeout
  if that is less), so a fleet does not hammer an ensemble that is
  electing, yet is back within about a second of the new leader.
- A handshake that re-attaches the session re-sends the credentials and
  every watch (SetWatches from the last zxid seen); one that says the
  session expired makes the session expire, and a new one is made at once.
- While attached it pings every third of the timeout and drops the link
  when nothing has been heard for two thirds of it (a black hole). EOF and
  resets are noticed by the link itself.
- While attached to a read-only server it asks the other servers whether
  they serve read-write (:mod:`._rw_seek`), and leaves for the first that
  does, without the herd pause.

The first attach is reported to ``start()`` through :attr:`Keeper.attached`;
credentials the server rejects, or a server that cannot exist (no such
in-memory server), end the keeper there unless ``wait`` was given.
Connection trouble is retried; anything else propagates to the registry's
task owner.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import TYPE_CHECKING

from ._backoff import Backoff
from ._errors import (
    AuthFailedError,
    ConnectionLossError,
    FailedConnect,
    ServerError,
    SessionExpiredError,
    ZKRegError,
)
from ._rw_seek import Server, seek_read_write
from ._transport import Link
from ._wire import Auth, Connect, Handshake

if TYPE_CHECKING:
    from ._session import Session

log = logging.getLogger("aiozkreg.session")


def handshake_timeout(session_timeout: float) -> float:
    """The most one connect attempt may take (see the module docstring)."""
    return max(0.5, min(session_timeout / 4, 2.0))


def first_handshake_timeout(session_timeout: float) -> float:
    """How long a connect attempt may take until a server has been silent."""
    return min(0.5, handshake_timeout(session_timeout))


def reconnect_pause(session_timeout: float) -> float:
    """The longest random pause between losing a link and the next attempt."""
    return min(1.0, session_timeout / 10)


def retry_caps(session_timeout: float) -> tuple[float, float]:
    """The longest spacing of attempt rounds: (nothing listens, a server answered)."""
    answered = max(0.2, min(1.0, session_timeout / 10))
    return min(0.5, answered), answered


# How an attempt at one server failed (see Keeper._try).
_REFUSED = "refused"  # nothing listens: retrying costs the server nothing
_SILENT = "silent"  # accepted (or not) and said nothing in time
_ANSWERED = "answered"  # the server answered but would not serve us


class _Expired(Exception):
    """The server refused to re-attach: the session expired; a new one follows."""


class _GaveUp(Exception):
    """The first attach failed for good; start() has been told."""


class Keeper:
    """Attaches and serves one session's links (see the module docstring)."""

    def __init__(self, session: Session, wait: bool) -> None:
        self.session = session
        self.wait = wait
        self.attached: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.last_error: BaseException | None = None  # of the last failed attempt
        self.server: tuple[str, int] | None = None  # attached to, or last attached to
        self._failure = _REFUSED  # how the last attempt failed
        self._handshake_limit = first_handshake_timeout(session.timeout)
        self._read_only = False  # the server attached to serves read-only
        self._read_write: Server | None = None  # found serving read-write: try it first

    def _give_up(self, error: BaseException) -> None:
        """End the first attach with ``error`` (start() raises it)."""
        self.attached.set_exception(error)
        self.attached.exception()  # retrieved: start() may have given up already
        raise _GaveUp

    async def run(self) -> None:
        session = self.session
        backoff = Backoff(cap=retry_caps(session.timeout)[1], jitter=0.5)
        try:
            while not session.closing:
                link = await self._attach(backoff)
                backoff.reset()
                await self._serve(link)
                session.lose(link)
                if not session.closing and self._read_write is None:  # spread the herd
                    await asyncio.sleep(random.uniform(0, reconnect_pause(session.timeout)))
        except _GaveUp:
            return

    def order(self) -> list[tuple[str, int]]:
        """The servers to try, shuffled, the one we were last attached to last."""
        servers = list(self.session.config.connect_string.servers)
        random.shuffle(servers)
        if self.server in servers and len(servers) > 1:
            servers.remove(self.server)
            servers.append(self.server)
        if self._read_write in servers:  # once: the server found serving read-write first
            servers.remove(self._read_write)
            servers.insert(0, self._read_write)
        self._read_write = None
        return servers

    async def _attach(self, backoff: Backoff) -> Link:
        """Try servers until one attaches us (re-attaching, or with a new session)."""
        quiet_cap, answered_cap = retry_caps(self.session.timeout)
        backoff.cap = answered_cap
        rounds = 0
        listening = False  # a server answered in the round before
        while True:
            answered = False
            for host, port in self.order():
                link = await self._try(host, port)
                if link is not None:
                    return link
                answered = answered or self._failure != _REFUSED
            rounds += 1
            if self.wait or rounds % 10 == 0:
                log.warning(
                    "Can't connect to ZooKeeper at %r; retrying.",
                    str(self.session.config.connect_string),
                )
            if not answered:  # nothing listens: cheap to ask again soon
                delay = min(backoff.delay(), quiet_cap)
            else:
                if not listening:  # a server just came up: it will serve soon
                    backoff.reset()
                delay = backoff.delay()
            listening = answered
            await asyncio.sleep(delay)

    async def _try(self, host: str, port: int) -> Link | None:
        """One server: the attached link, or None (why is in :attr:`last_error`)."""
        first = not self.attached.done()
        self._failure = _ANSWERED
        try:
            try:
                link = await self._handshake(host, port)
            except _Expired:  # at once, with a new session
                link = await self._handshake(host, port)
            self.server = (host, port)
            self._handshake_limit = first_handshake_timeout(self.session.timeout)
            return link
        except AuthFailedError as exc:
            self.last_error = exc
            if first:
                self._give_up(exc)
            log.error("%s", exc)
        except FailedConnect as exc:  # nothing there to wait for (no such memory:// server)
            self.last_error = exc
            if first and not self.wait:
                self._give_up(exc)
            log.debug("Connecting to %s failed: %s", host, exc)
        except TimeoutError as exc:  # silent: give the next attempt longer, up to the cap
            self.last_error = exc
            self._failure = _SILENT
            self._handshake_limit = min(
                2 * self._handshake_limit, handshake_timeout(self.session.timeout)
            )
            log.debug("Connecting to %s:%d timed out.", host, port)
        except (OSError, ZKRegError) as exc:  # this server, this time
            self.last_error = exc
            if isinstance(exc, OSError) and not isinstance(exc, ConnectionResetError):
                self._failure = _REFUSED  # nothing listens (or no route): nobody was asked
            log.debug("Connecting to %s:%d failed: %s", host, port, exc)
        return None

    async def _handshake(self, host: str, port: int) -> Link:
        session = self.session
        config = session.config
        connect = Connect(
            last_zxid=session.last_zxid,
            timeout_ms=int((config.requested_timeout or 0) * 1000),
            session_id=session.session_id,
            password=session.password,
            read_only=config.read_only,
        )
        link, hs = await session.connector(
            host,
            port,
            connect,
            listener=session,
            timeout=self._handshake_limit,
            ssl=config.ssl,
            max_request_size=config.max_request_size,
        )
        try:
            self._check(link, hs, host, port)
            await self._prepare(link, hs)
        except BaseException:
            link.abort()
            raise
        return link

    def _check(self, link: Link, hs: Handshake, host: str, port: int) -> None:
        session = self.session
        if hs.expired:
            link.abort(SessionExpiredError("The session expired."))
            if session.session_id:
                session.expire()
                raise _Expired
            raise ConnectionLossError(f"{host}:{port} refused a new session.")
        if hs.read_only and not session.config.read_only:
            raise ConnectionLossError(f"{host}:{port} is read-only.")

    async def _prepare(self, link: Link, hs: Handshake) -> None:
        """Re-send credentials (and, re-attaching, watches), then hand the link over."""
        session = self.session
        new_session = session.accept(hs)
        async with asyncio.timeout(handshake_timeout(session.timeout)):
            for scheme, secret in session.config.auth:  # one at a time: they share an xid
                try:
                    await link.send(Auth(scheme, secret))
                except ServerError as exc:  # the server's answer to these credentials
                    raise AuthFailedError(
                        f"ZooKeeper rejected the {scheme!r} credentials: {exc}"
                    ) from None
            if not new_session:
                for request in session.watches.set_watches(session.last_zxid, session.server_path):
                    await link.send(request)
        if link.closed:  # lost while we were preparing it
            raise ConnectionLossError(f"Connection to {link.address} was lost.")
        session.adopt(link, new_session, hs.read_only)
        self._read_only = hs.read_only
        if not self.attached.done():
            self.attached.set_result(None)

    async def _serve(self, link: Link) -> None:
        """Keep the link alive with pings until it is lost (or, read-only, left)."""
        seeker = self._seeker(link)
        try:
            await self._ping(link)
        finally:
            if seeker is not None:
                seeker.cancel()
                await asyncio.wait([seeker])
        error = seeker.exception() if seeker is not None and not seeker.cancelled() else None
        if error is not None:  # a bug of ours: to the registry's task owner
            raise error

    async def _ping(self, link: Link) -> None:
        loop = asyncio.get_running_loop()
        timeout = self.session.timeout
        ping_every = timeout / 3
        dead_after = timeout * 2 / 3
        while not link.closed:
            now = loop.time()
            silent = now - link.last_recv
            if silent >= dead_after:
                link.abort(ConnectionLossError(f"No reply from {link.address} for {silent:.1f} s."))
                break
            if now - link.last_send >= ping_every:
                link.ping()
            wake = min(link.last_send + ping_every, link.last_recv + dead_after) - loop.time()
            try:
                async with asyncio.timeout(max(wake, 0.01)):
                    await link.wait_closed()
            except TimeoutError:
                continue  # time to ping, or to look at the silence again
        await link.wait_closed()

    def _seeker(self, link: Link) -> asyncio.Task[None] | None:
        """On a read-only server with others to ask (sockets only): the task that looks
        for a read-write one, owned by :meth:`_serve`."""
        config = self.session.config
        servers = config.connect_string.servers
        if not self._read_only or config.connect_string.scheme or len(servers) < 2:
            return None
        return asyncio.create_task(self._leave_for_read_write(link), name="aiozkreg seek rw")

    async def _leave_for_read_write(self, link: Link) -> None:
        config, here = self.session.config, self.server

        def others() -> list[Server]:
            servers = [s for s in config.connect_string.servers if s != here]
            random.shuffle(servers)
            return servers

        host, port = await seek_read_write(others, ssl=config.ssl)
        log.info("%s:%d serves read-write: leaving read-only %s.", host, port, link.address)
        self._read_write = (host, port)
        link.abort(
            ConnectionLossError(f"Left read-only {link.address} for {host}:{port} (read-write).")
        )
