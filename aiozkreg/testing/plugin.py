"""The aiozkreg pytest plugin: a real ZooKeeper for tests, a chroot per test, fault proxies.

Registered through the ``pytest11`` entry point, so installing aiozkreg is
enough. Fixtures:

``zookeeper_server``   (session) a started :class:`ZooKeeperServer`
``zookeeper_chroot``   a fresh node ``/aiozkreg-test-<unique>``, deleted (recursively) after
``zookeeper_hosts``    ``"127.0.0.1:PORT/aiozkreg-test-<unique>"``: the server, chrooted
``zookeeper_ensemble`` (session, created on first use) a started 3-server ensemble
``fault_proxy``        (async) a started :class:`FaultProxy` in front of the server
``fault_proxy_hosts``  the test's chroot, reached through ``fault_proxy``
``registry``           (async) a started :class:`aiozkreg.Registry` on ``zookeeper_hosts``
``memory_zookeeper``   a fresh :class:`MemoryZooKeeper` (in-process, no Java), closed after
``memory_hosts``       ``"memory://NAME/aiozkreg-test"``: that server, chrooted to a fresh node

If ZooKeeper cannot be found or started, the fixtures fail (never skip)
with a message saying why. A failing test that used a server gets the
tail of the server's log in its report when the server is implicated: it
is down, or the failure is a connection or session error.

Nothing to configure, under pytest-asyncio's strict mode (its default) and
auto mode alike: an async test that uses one of these fixtures is run on
asyncio without an ``asyncio`` mark, and pytest-asyncio's warning that
``asyncio_default_fixture_loop_scope`` is unset is silenced (the async
fixtures here state their loop: the test's, function scope).
"""

from __future__ import annotations

import inspect
import uuid
import warnings
from collections.abc import AsyncIterator, Generator, Iterator

import pytest

from .._errors import ZKConnectionError
from .._registry import Registry
from ._chroot import RawClient, create_path, delete_tree
from ._ensemble import ZooKeeperEnsemble
from ._errors import ZooKeeperHarnessError
from ._memory import MemoryZooKeeper
from ._proxy import FaultProxy
from ._server import ZooKeeperServer

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - pytest-asyncio is in aiozkreg's test extra
    pytest_asyncio = None  # type: ignore[assignment]

_LOG_LINES = 40
MEMORY_CHROOT = "/aiozkreg-test"
FIXTURES = frozenset(
    {
        "zookeeper_server",
        "zookeeper_chroot",
        "zookeeper_hosts",
        "zookeeper_ensemble",
        "fault_proxy",
        "fault_proxy_hosts",
        "registry",
        "memory_zookeeper",
        "memory_hosts",
    }
)
# Marks by which a test says which event loop runs it; a test with one is left alone.
_LOOP_MARKS = ("asyncio", "anyio", "trio")
_UNSET_LOOP_SCOPE = r'The configuration option "asyncio_default_fixture_loop_scope" is unset'
# Connection trouble as kazoo names it, for users' tests that use kazoo next to the fixtures.
_KAZOO_CONNECTION_ERRORS = frozenset(
    {"ConnectionLoss", "ConnectionClosedError", "KazooTimeoutError", "SessionExpiredError"}
)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register the ``slow`` marker; keep pytest-asyncio quiet about an unset loop scope."""
    config.addinivalue_line(
        "markers", "slow: fault tests that take seconds (ensembles, expiry by partition)"
    )
    # Before pytest-asyncio's own pytest_configure, which warns when the option is unset.
    # The filter lives in pytest's configure-time warnings context, which ends with the run.
    try:
        unset = not config.getini("asyncio_default_fixture_loop_scope")
    except ValueError:  # pytest-asyncio is not there (or not loaded): nothing to silence
        unset = False
    if unset:
        warnings.filterwarnings(
            "ignore", message=_UNSET_LOOP_SCOPE, category=pytest.PytestDeprecationWarning
        )


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, object, object]:
    """Mark async tests that use the plugin's fixtures ``asyncio``, so strict mode runs them.

    The innermost wrapper: pytest-asyncio's own wrapper sees the mark when
    it turns the collected functions into asyncio tests.
    """
    result = yield
    items = result if isinstance(result, list) else [result]
    for item in items:
        if (
            pytest_asyncio is not None
            and isinstance(item, pytest.Function)
            and inspect.iscoroutinefunction(item.obj)
            and not any(item.get_closest_marker(mark) for mark in _LOOP_MARKS)
            and FIXTURES.intersection(item.fixturenames)
        ):
            item.add_marker(pytest.mark.asyncio)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Add the tail of the ZooKeeper log(s) to a failed test's report when they are implicated.

    A server is implicated when it is down (it died, or the test stopped it)
    or when the failure is a connection or session error; an assertion
    that has nothing to do with ZooKeeper gets no log.
    """
    report = yield
    if not report.failed:
        return report
    funcargs = getattr(item, "funcargs", {})
    server = funcargs.get("zookeeper_server")
    ensemble = funcargs.get("zookeeper_ensemble")
    members = ensemble.members if isinstance(ensemble, ZooKeeperEnsemble) else []
    trouble = call.excinfo is not None and connection_trouble(call.excinfo.value)
    if isinstance(server, ZooKeeperServer) and (trouble or not server.running):
        report.sections.append(
            (f"ZooKeeper log {server.log_path} (last lines)", server.log_tail(_LOG_LINES))
        )
    if trouble or not all(m.running for m in members):
        for m in members:
            report.sections.append(
                (f"ZooKeeper member {m.id} log {m.log_path} (last lines)", m.log_tail(20))
            )
    return report


def connection_trouble(exc: BaseException) -> bool:
    """Whether ``exc``, its causes, contexts or group members hold a connection or session error.

    aiozkreg's (:class:`~aiozkreg.ZKConnectionError` and below), the
    harness's, Python's ``ConnectionError`` and kazoo's count.
    """
    stack: list[BaseException | None] = [exc]
    seen: set[int] = set()
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        kazoo = type(e).__module__.startswith("kazoo") and any(
            cls.__name__ in _KAZOO_CONNECTION_ERRORS for cls in type(e).__mro__
        )
        if kazoo or isinstance(e, ZKConnectionError | ZooKeeperHarnessError | ConnectionError):
            return True
        stack += [e.__cause__, e.__context__]
        if isinstance(e, BaseExceptionGroup):
            stack += e.exceptions
    return False


@pytest.fixture(scope="session")
def zookeeper_server() -> Iterator[ZooKeeperServer]:
    """A standalone ZooKeeper server for the whole test session."""
    try:
        server = ZooKeeperServer()
    except ZooKeeperHarnessError as exc:
        pytest.fail(f"aiozkreg: cannot run a ZooKeeper server: {exc}", pytrace=False)
    try:
        server.start()
    except ZooKeeperHarnessError as exc:
        server.close()
        pytest.fail(f"aiozkreg: cannot start a ZooKeeper server: {exc}", pytrace=False)
    yield server
    server.close()


@pytest.fixture
def zookeeper_chroot(zookeeper_server: ZooKeeperServer) -> Iterator[str]:
    """A fresh, empty node for this test; it and everything under it is deleted afterwards."""
    path = f"/aiozkreg-test-{uuid.uuid4().hex[:12]}"
    zookeeper_server.start()  # a no-op, unless an earlier test left it stopped
    with RawClient(zookeeper_server.host, zookeeper_server.port) as client:
        create_path(client, path)
    yield path
    zookeeper_server.start()
    with RawClient(zookeeper_server.host, zookeeper_server.port) as client:
        delete_tree(client, path)


@pytest.fixture
def zookeeper_hosts(zookeeper_server: ZooKeeperServer, zookeeper_chroot: str) -> str:
    """The connect string of the session server, chrooted to this test's node."""
    return f"{zookeeper_server.address}{zookeeper_chroot}"


@pytest.fixture(scope="session")
def zookeeper_ensemble() -> Iterator[ZooKeeperEnsemble]:
    """A 3-server ZooKeeper ensemble, started the first time a test asks for it."""
    try:
        ensemble = ZooKeeperEnsemble(3)
    except ZooKeeperHarnessError as exc:
        pytest.fail(f"aiozkreg: cannot run a ZooKeeper ensemble: {exc}", pytrace=False)
    try:
        ensemble.start()
    except ZooKeeperHarnessError as exc:
        ensemble.close()
        pytest.fail(f"aiozkreg: cannot start a ZooKeeper ensemble: {exc}", pytrace=False)
    yield ensemble
    ensemble.close()


if pytest_asyncio is not None:

    @pytest_asyncio.fixture(loop_scope="function")
    async def fault_proxy(zookeeper_server: ZooKeeperServer) -> AsyncIterator[FaultProxy]:
        """A started fault proxy in front of the session server, closed after the test."""
        async with FaultProxy(zookeeper_server.host, zookeeper_server.port) as proxy:
            yield proxy

else:  # pragma: no cover

    @pytest.fixture
    def fault_proxy() -> FaultProxy:
        """Unavailable: the fault proxy fixture needs pytest-asyncio."""
        pytest.fail("aiozkreg: the fault_proxy fixture needs pytest-asyncio.", pytrace=False)


@pytest.fixture
def fault_proxy_hosts(fault_proxy: FaultProxy, zookeeper_chroot: str) -> str:
    """The connect string of this test's chroot, through ``fault_proxy``."""
    return f"{fault_proxy.address}{zookeeper_chroot}"


if pytest_asyncio is not None:

    @pytest_asyncio.fixture(loop_scope="function")
    async def registry(zookeeper_hosts: str) -> AsyncIterator[Registry]:
        """A started :class:`aiozkreg.Registry` on this test's chroot, closed after."""
        async with Registry(zookeeper_hosts) as started:
            yield started

else:  # pragma: no cover

    @pytest.fixture
    def registry() -> Registry:
        """Unavailable: the registry fixture needs pytest-asyncio."""
        pytest.fail("aiozkreg: the registry fixture needs pytest-asyncio.", pytrace=False)


@pytest.fixture
def memory_zookeeper() -> Iterator[MemoryZooKeeper]:
    """A fresh in-memory ZooKeeper for this test, closed after."""
    with MemoryZooKeeper() as server:
        yield server


@pytest.fixture
def memory_hosts(memory_zookeeper: MemoryZooKeeper) -> str:
    """The connect string of this test's in-memory server, chrooted to a fresh node."""
    memory_zookeeper.ensure_path(MEMORY_CHROOT)
    return f"{memory_zookeeper.hosts}{MEMORY_CHROOT}"
