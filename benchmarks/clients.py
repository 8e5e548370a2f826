"""The clients under comparison, behind one small interface.

Every adapter can create a parent node, run a batch of requests all in
flight at once, and run requests one after another while timing each one.
The asyncio clients share :class:`AsyncioClient`, which issues in-flight
batches the way an application would (``asyncio.gather`` over coroutines:
one task per request). kazoo is threaded: its whole batch runs in a worker
thread with ``create_async``/``get_async``, so the event loop is not blocked.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiozk
from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError as KazooNodeExists
from minimal_client import MinimalClient, MinimalError

from aiozkreg import Registry

_NODE_EXISTS = -110


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch of requests: wall time and this process's CPU time, in seconds."""

    wall: float
    cpu: float


@dataclass(frozen=True, slots=True)
class Sequential:
    """Requests one after another: each one's latency (ns) and the CPU time of all (s)."""

    latencies_ns: list[int]
    cpu: float


class Client(abc.ABC):
    """One connected client of one library."""

    name: str

    @abc.abstractmethod
    async def start(self, address: str) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def make_parent(self, path: str) -> None:
        """Create ``path`` (and its missing ancestors) as an empty persistent node."""

    @abc.abstractmethod
    async def create_in_flight(self, paths: Sequence[str], value: bytes) -> Batch: ...

    @abc.abstractmethod
    async def get_in_flight(self, paths: Sequence[str]) -> Batch: ...

    @abc.abstractmethod
    async def create_sequential(self, paths: Sequence[str], value: bytes) -> Sequential: ...

    @abc.abstractmethod
    async def get_sequential(self, paths: Sequence[str]) -> Sequential: ...


async def _timed_batch(issue: Callable[[], list[Awaitable[Any]]]) -> Batch:
    # The clock starts before ``issue`` runs: the future API sends as it is called.
    cpu = time.process_time()
    wall = time.perf_counter()
    await asyncio.gather(*issue())
    return Batch(time.perf_counter() - wall, time.process_time() - cpu)


async def _timed_loop(call: Callable[[str], Awaitable[Any]], paths: Sequence[str]) -> Sequential:
    latencies: list[int] = []
    clock = time.perf_counter_ns
    cpu = time.process_time()
    for path in paths:
        start = clock()
        await call(path)
        latencies.append(clock() - start)
    return Sequential(latencies, time.process_time() - cpu)


class AsyncioClient(Client):
    """An asyncio client with ``create(path, value)`` and ``get(path)`` coroutines."""

    @abc.abstractmethod
    def create(self, path: str, value: bytes) -> Awaitable[Any]: ...

    @abc.abstractmethod
    def get(self, path: str) -> Awaitable[Any]: ...

    async def create_in_flight(self, paths: Sequence[str], value: bytes) -> Batch:
        create = self.create
        return await _timed_batch(lambda: [create(path, value) for path in paths])

    async def get_in_flight(self, paths: Sequence[str]) -> Batch:
        get = self.get
        return await _timed_batch(lambda: [get(path) for path in paths])

    async def create_sequential(self, paths: Sequence[str], value: bytes) -> Sequential:
        create = self.create
        return await _timed_loop(lambda path: create(path, value), paths)

    async def get_sequential(self, paths: Sequence[str]) -> Sequential:
        return await _timed_loop(self.get, paths)


class RegistryClient(AsyncioClient):
    """aiozkreg's :class:`Registry` shortcuts."""

    name = "aiozkreg"

    async def start(self, address: str) -> None:
        self.registry = Registry(address)
        await self.registry.start()

    async def close(self) -> None:
        await self.registry.close()

    async def make_parent(self, path: str) -> None:
        await self.registry.ensure_path(path)

    def create(self, path: str, value: bytes) -> Awaitable[str]:
        return self.registry.create(path, value)

    def get(self, path: str) -> Awaitable[Any]:
        return self.registry.get(path)


class AiozkClient(AsyncioClient):
    """aiozk's ``ZKClient`` (no chroot: a chroot in the host string makes it hang)."""

    name = "aiozk"

    async def start(self, address: str) -> None:
        self.client = aiozk.ZKClient(address, session_timeout=10)
        await self.client.start()

    async def close(self) -> None:
        await self.client.close()

    async def make_parent(self, path: str) -> None:
        await self.client.ensure_path(path)

    def create(self, path: str, value: bytes) -> Awaitable[Any]:
        return self.client.create(path, data=value)  # type: ignore[no-any-return]

    def get(self, path: str) -> Awaitable[Any]:
        return self.client.get_data(path)  # type: ignore[no-any-return]


class MinimalTasksClient(AsyncioClient):
    """The minimal client through its coroutines: a task per in-flight request."""

    name = "minimal, task per request"

    async def start(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.client = await MinimalClient.connect(host, int(port))

    async def close(self) -> None:
        await self.client.close()

    async def make_parent(self, path: str) -> None:
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            try:
                await self.client.create("/" + "/".join(parts[:i]), b"")
            except MinimalError as exc:
                if exc.code != _NODE_EXISTS:
                    raise

    def create(self, path: str, value: bytes) -> Awaitable[Any]:
        return self.client.create(path, value)

    def get(self, path: str) -> Awaitable[Any]:
        return self.client.get(path)


class MinimalClientLimit(MinimalTasksClient):
    """The minimal client through its future API: no task, no reply parsing.

    This is the suite's stand-in for "as fast as the server goes".
    """

    name = "minimal"

    def create(self, path: str, value: bytes) -> Awaitable[Any]:
        return self.client.create_future(path, value)

    def get(self, path: str) -> Awaitable[Any]:
        return self.client.get_future(path)


class KazooAdapter(Client):
    """kazoo 2.x, threaded; batches and loops run in a worker thread."""

    name = "kazoo"

    async def start(self, address: str) -> None:
        self.client = KazooClient(hosts=address, timeout=10.0)
        await asyncio.to_thread(self.client.start, 10.0)

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        self.client.stop()
        self.client.close()

    async def make_parent(self, path: str) -> None:
        with contextlib.suppress(KazooNodeExists):
            await asyncio.to_thread(self.client.ensure_path, path)

    async def create_in_flight(self, paths: Sequence[str], value: bytes) -> Batch:
        create = self.client.create_async
        return await asyncio.to_thread(self._batch, lambda: [create(p, value) for p in paths])

    async def get_in_flight(self, paths: Sequence[str]) -> Batch:
        get = self.client.get_async
        return await asyncio.to_thread(self._batch, lambda: [get(p) for p in paths])

    @staticmethod
    def _batch(send: Callable[[], list[Any]]) -> Batch:
        cpu = time.process_time()
        wall = time.perf_counter()
        for result in send():
            result.get()
        return Batch(time.perf_counter() - wall, time.process_time() - cpu)

    async def create_sequential(self, paths: Sequence[str], value: bytes) -> Sequential:
        create = self.client.create
        return await asyncio.to_thread(self._loop, lambda path: create(path, value), paths)

    async def get_sequential(self, paths: Sequence[str]) -> Sequential:
        return await asyncio.to_thread(self._loop, self.client.get, paths)

    @staticmethod
    def _loop(call: Callable[[str], Any], paths: Sequence[str]) -> Sequential:
        latencies: list[int] = []
        clock = time.perf_counter_ns
        cpu = time.process_time()
        for path in paths:
            start = clock()
            call(path)
            latencies.append(clock() - start)
        return Sequential(latencies, time.process_time() - cpu)


#: Every client, in the order of the report's columns.
CLIENTS: tuple[type[Client], ...] = (
    RegistryClient,
    AiozkClient,
    KazooAdapter,
    MinimalClientLimit,
    MinimalTasksClient,
)

__all__ = [
    "CLIENTS",
    "AiozkClient",
    "AsyncioClient",
    "Batch",
    "Client",
    "KazooAdapter",
    "MinimalClientLimit",
    "MinimalTasksClient",
    "RegistryClient",
    "Sequential",
]
