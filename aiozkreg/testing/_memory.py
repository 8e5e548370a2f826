"""An in-process ZooKeeper for unit tests: ``memory://NAME[/chroot]`` connect strings.

:class:`MemoryZooKeeper` emulates a standalone ZooKeeper 3.8 server at the
level of :mod:`aiozkreg._wire`'s typed requests, behind the same
:class:`~aiozkreg._transport.Link` seam the socket link uses, so the whole
client stack (session, supervisor, views, trees) runs unchanged. The
server registers itself by name; importing this module registers
:func:`open_memory_link` as the connector for the ``memory`` scheme
(:func:`aiozkreg._schemes.register_scheme`), so that
``Registry("memory://NAME/chroot")`` finds the server without the core
importing the testing package.

The server is synchronous and single-threaded: each request is handled the
moment it is sent (so there is one global order, as on a real server), and
its reply and the watch notifications it triggers are queued on the links
(:mod:`._memory_link`), which deliver them on later turns of the loop.
The data rules live in :mod:`._memory_tree` (ACL rules in
:mod:`._memory_acl`), the request handlers in :mod:`._memory_requests`,
the watch table in :mod:`._memory_watches`; sessions, links and faults
live here.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import os
import ssl as _ssl
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from .. import _paths
from .._errors import ConnectionLossError, FailedConnect
from .._schemes import register_scheme
from .._transport import DEFAULT_MAX_REQUEST_SIZE, NO_REQUEST_LIMIT, LinkListener
from .._wire import Connect, Handshake, Request
from ._memory_link import MemoryLink
from ._memory_requests import Requests
from ._memory_tree import WORLD_ALL, Tree, Trigger
from ._memory_watches import Watches

__all__ = ["MemoryZooKeeper", "open_memory_link"]

log = logging.getLogger("aiozkreg.testing.memory")

_T = TypeVar("_T")
_SERVERS: dict[str, MemoryZooKeeper] = {}
_NAMES = itertools.count(1)


class ServerSession:
    """The server's record of one client session."""

    __slots__ = ("deadline", "id", "link", "loop", "timeout", "timer")

    def __init__(self, id_: int, timeout: float, loop: asyncio.AbstractEventLoop) -> None:
        self.id = id_
        self.timeout = timeout
        self.loop = loop
        self.deadline = 0.0
        self.link: MemoryLink | None = None
        self.timer: asyncio.TimerHandle | None = None


class MemoryZooKeeper:
    """An in-process ZooKeeper server, reachable as ``memory://NAME``.

    ``name`` defaults to a fresh unique one. Session timeouts are
    negotiated into ``[min_session_timeout, max_session_timeout]`` seconds
    (the test harness's settings by default) and honoured on the event
    loop's clock. Use from one thread. ``close()`` (or leaving a ``with``
    block) unregisters the name and drops every link.

    ``jute_maxbuffer`` is the server's ``jute.maxbuffer``: a request frame
    longer than that many bytes closes its link, as on a real server (the
    client refuses to send one over its own ``max_request_size`` first).

    Scripted faults: :meth:`expire`, :meth:`disconnect`, :meth:`partition`
    and :meth:`heal`.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        min_session_timeout: float = 0.4,
        max_session_timeout: float = 60.0,
        jute_maxbuffer: int = DEFAULT_MAX_REQUEST_SIZE,
        persistent_watches: bool = True,
    ) -> None:
        if name is None:
            name = f"zookeeper-{next(_NAMES)}"
            while name in _SERVERS:
                name = f"zookeeper-{next(_NAMES)}"
        elif not name or "/" in name or name != name.strip():
            raise ValueError(f"Bad in-memory ZooKeeper name {name!r}: no '/', no blanks.")
        if name in _SERVERS:
            raise ValueError(f"An in-memory ZooKeeper named {name!r} already exists.")
        self.name = name
        self.min_session_timeout = min_session_timeout
        self.max_session_timeout = max_session_timeout
        self.jute_maxbuffer = jute_maxbuffer
        self.persistent_watches = persistent_watches
        self._tree = Tree()
        self._sessions: dict[int, ServerSession] = {}
        self._links: set[MemoryLink] = set()
        self._watches = Watches()
        self._partitioned = False
        self._cut_off: set[int] = set()
        self._closed = False
        self._secret = os.urandom(16)
        self._next_session = (1 << 56) | ((int(time.monotonic() * 1000) & 0xFFFFFFFFFF) << 16)
        self._requests = Requests(self)
        _SERVERS[name] = self

    # -- public ----------------------------------------------------------------------

    @property
    def hosts(self) -> str:
        """The connect string: ``"memory://NAME"`` (append a chroot if you like)."""
        return f"memory://{self.name}"

    @property
    def zxid(self) -> int:
        """The id of the last transaction."""
        return self._tree.zxid

    @property
    def sessions(self) -> frozenset[int]:
        """The ids of the live sessions."""
        return frozenset(self._sessions)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def watch_count(self) -> int:
        """How many watches (data, exist and child; of every session) the server holds,
        as ZooKeeper's ``mntr`` reports ``zk_watch_count``."""
        # a persistent recursive watch sits in both of ZooKeeper's tables: it counts twice
        return self._watches.count()

    def ensure_path(self, path: str) -> None:
        """Create ``path`` and its missing ancestors (world-writable), as the server itself."""
        _paths.validate(path)
        for node in [*_paths.parents(path), path]:
            if node == "/" or self._tree.get(node) is not None:
                continue

            def create(zxid: int, now: int, out: list[Trigger], node: str = node) -> str:
                return self._tree.create(
                    node, b"", WORLD_ALL, 0, session=0, ids=None, zxid=zxid, now=now, out=out
                )

            self._write(create)

    async def expire(self, session_id: int) -> None:
        """End a session now, as a timeout would: its ephemeral nodes and watches go,
        its link is dropped; its client learns of the expiry when it re-attaches."""
        session = self._sessions.get(session_id)
        if session is None:
            raise ValueError(f"{self.hosts} has no session 0x{session_id:x}.")
        link = session.link
        self._expire(session, "expired on request")
        if link is not None:
            await link.wait_closed()

    def disconnect(self, session_id: int | None = None) -> int:
        """Drop the links (of one session, or all) as a reset would; sessions survive.

        Replies not yet delivered are lost: their requests fail with
        ``ConnectionLossError`` although the server applied them. Returns how
        many links were dropped.
        """
        links = [
            link
            for link in list(self._links)
            if session_id is None or (link.session is not None and link.session.id == session_id)
        ]
        for link in links:
            self._drop(link, ConnectionLossError(f"{self.hosts} dropped the connection."))
        return len(links)

    def partition(self, session_id: int | None = None) -> None:
        """Cut the server off (or one session's client): links drop, connecting is refused.

        Session clocks keep running, so a partition longer than a session's
        timeout expires it; the client learns of that after :meth:`heal`.
        """
        if session_id is None:
            self._partitioned = True
        else:
            self._cut_off.add(session_id)
        self.disconnect(session_id)

    def heal(self) -> None:
        """End every partition: clients may connect again."""
        self._partitioned = False
        self._cut_off.clear()

    def close(self) -> None:
        """Unregister the name, drop every link, forget every session; idempotent."""
        if self._closed:
            return
        self._closed = True
        if _SERVERS.get(self.name) is self:
            del _SERVERS[self.name]
        for link in list(self._links):
            self._drop(link, ConnectionLossError(f"{self.hosts} was closed."))
        for session in self._sessions.values():
            if session.timer is not None:
                session.timer.cancel()
        self._sessions.clear()

    def __enter__(self) -> MemoryZooKeeper:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._sessions)} session(s)"
        return f"<MemoryZooKeeper {self.hosts} zxid=0x{self.zxid:x} {state}>"

    # -- sessions --------------------------------------------------------------------

    def _refuses(self, session_id: int) -> bool:
        return self._closed or self._partitioned or session_id in self._cut_off

    def _password(self, session_id: int) -> bytes:
        raw = session_id.to_bytes(8, "big", signed=session_id < 0)
        return hashlib.sha256(self._secret + raw).digest()[:16]

    def _connect(self, link: MemoryLink, request: Connect) -> Handshake:
        """The server's side of a handshake: a new session, or re-attaching one."""
        self._reap_orphans()
        if request.last_zxid > self._tree.zxid:  # the client saw a newer server
            raise ConnectionLossError(
                f"{self.hosts} refused the client: it has seen zxid "
                f"0x{request.last_zxid:x}, the server's last is 0x{self._tree.zxid:x}."
            )
        low, high = int(self.min_session_timeout * 1000), int(self.max_session_timeout * 1000)
        timeout_ms = min(max(request.timeout_ms, low), high)
        session_id = request.session_id
        if session_id == 0:
            self._tree.next_zxid()  # creating a session is a transaction
            session_id = self._next_session
            self._next_session += 1
            session = ServerSession(session_id, timeout_ms / 1000, link.loop)
            self._sessions[session_id] = session
            log.debug("%s: new session 0x%x.", self.hosts, session_id)
        else:
            found = self._sessions.get(session_id)
            if found is not None and found.link is not None:  # a client reconnecting
                self._drop(found.link, ConnectionLossError(f"{self.hosts} closed the old link."))
            if found is None or bytes(request.password) != self._password(session_id):
                link.drop(ConnectionLossError(f"{self.hosts} refused the session."), graceful=True)
                return Handshake(0, bytes(16), 0, False)
            session = found
            session.timeout = timeout_ms / 1000
        session.link = link
        link.session = session
        self._links.add(link)
        self._touch(session, link.loop)
        return Handshake(session_id, self._password(session_id), timeout_ms, False)

    def _touch(self, session: ServerSession, loop: asyncio.AbstractEventLoop) -> None:
        """The client was heard from: its session lives another timeout."""
        if session.loop is not loop and session.timer is not None:
            session.timer.cancel()
            session.timer = None
        session.loop = loop
        session.deadline = loop.time() + session.timeout
        if session.timer is None:
            session.timer = loop.call_at(session.deadline, self._timer_fired, session)

    def _timer_fired(self, session: ServerSession) -> None:
        session.timer = None
        if self._sessions.get(session.id) is not session:
            return
        if session.loop.time() < session.deadline:
            session.timer = session.loop.call_at(session.deadline, self._timer_fired, session)
            return
        self._expire(session, f"timed out after {session.timeout:g} s")

    def _expire(self, session: ServerSession, why: str) -> None:
        log.info("%s: session 0x%x %s.", self.hosts, session.id, why)
        if session.link is not None:
            self._drop(session.link, ConnectionLossError(f"{self.hosts} expired the session."))
        self._end_session(session)

    def _end_session(self, session: ServerSession) -> int:
        """Close a session (a transaction): delete its ephemeral nodes, forget it."""
        if session.timer is not None:
            session.timer.cancel()
            session.timer = None
        self._sessions.pop(session.id, None)
        return self._write(
            lambda zxid, now, out: self._tree.kill_session(session.id, zxid=zxid, out=out)
        )[0]

    def _reap_orphans(self) -> None:
        """Sessions whose event loop is gone can never be heard from again: expire them."""
        for session in list(self._sessions.values()):
            if session.loop.is_closed():
                self._expire(session, "lost its event loop")

    # -- requests ----------------------------------------------------------------------

    def _handle(self, link: MemoryLink, xid: int, request: Request[Any], size: int) -> None:
        """A request whose frame is ``size`` bytes long (after the length prefix)."""
        if size > self.jute_maxbuffer:  # as NIOServerCnxn.readLength: close, no reply
            self._drop(
                link, ConnectionLossError(f"{link.address} refused a frame of {size} bytes.")
            )
            return
        if link.session is not None:
            self._touch(link.session, link.loop)
        self._requests.handle(link, xid, request)

    def _write(self, apply: Callable[[int, int, list[Trigger]], _T]) -> tuple[int, _T]:
        """Run ``apply(zxid, now_ms, triggers)`` as one transaction, then fire its watches.

        The zxid is taken even if ``apply`` raises :class:`Fault` (the server
        logs failed writes as error transactions).
        """
        zxid = self._tree.next_zxid()
        triggers: list[Trigger] = []
        result = apply(zxid, int(time.time() * 1000), triggers)
        self._watches.fire(triggers)
        return zxid, result

    # -- links and watches -------------------------------------------------------------

    def _drop(self, link: MemoryLink, reason: BaseException, *, graceful: bool = False) -> None:
        """Close a link from the server's side (a reset unless ``graceful``)."""
        self._detach(link)
        link.drop(reason, graceful=graceful)

    def _detach(self, link: MemoryLink) -> None:
        """Forget a closed link: its watches go (its session stays)."""
        self._links.discard(link)
        self._watches.detach(link)
        if link.session is not None and link.session.link is link:
            link.session.link = None

    def _ping(self, link: MemoryLink) -> None:
        if link.session is not None:
            self._touch(link.session, link.loop)
        link.queue_ping(self._tree.zxid)


async def open_memory_link(
    host: str,
    port: int,
    connect: Connect,
    *,
    listener: LinkListener,
    timeout: float,
    ssl: _ssl.SSLContext | None = None,
    max_request_size: int = NO_REQUEST_LIMIT,
) -> tuple[MemoryLink, Handshake]:
    """Attach to the in-memory server named ``host``: the connector for ``memory://``.

    ``port``, ``timeout`` and ``ssl`` are ignored (attaching takes one turn
    of the loop); a name no live server has raises :class:`FailedConnect`,
    a partition refuses with :class:`ConnectionRefusedError`.
    """
    await asyncio.sleep(0)  # connecting takes a turn of the loop, as a socket's would
    server = _SERVERS.get(host)
    if server is None:
        raise FailedConnect(
            f"No in-memory ZooKeeper is named {host!r}: create MemoryZooKeeper({host!r}) "
            "first (or it was closed)."
        )
    if server._refuses(connect.session_id):
        raise ConnectionRefusedError(f"{server.hosts} is partitioned from this client.")
    link = MemoryLink(server, listener, max_request_size)
    return link, server._connect(link, connect)


def find_server(name: str) -> MemoryZooKeeper | None:
    """The live in-memory server called ``name``, if any."""
    return _SERVERS.get(name)


register_scheme("memory", open_memory_link)
