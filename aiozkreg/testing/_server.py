"""A standalone ZooKeeper server for tests."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from ._install import ZooKeeperInstall, find_zookeeper
from ._process import TEST_SETTINGS, ZooKeeperProcess, free_ports

__all__ = ["ZooKeeperServer"]

_MAIN = "org.apache.zookeeper.server.ZooKeeperServerMain"


class ZooKeeperServer(ZooKeeperProcess):
    """A standalone ZooKeeper server on a free loopback port.

    ``data_dir`` defaults to a temporary directory that :meth:`close`
    removes. :meth:`stop` then :meth:`start` keeps the data and the port, and
    clients' sessions survive the restart. Start servers from the main
    thread: the orphan guard is only armed there (see docs/testing.md).

    ``with ZooKeeperServer() as server:`` starts it and closes it.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        install: ZooKeeperInstall | None = None,
        start_timeout: float = 30.0,
        settings: Mapping[str, str | int] | None = None,
        jvm_options: Sequence[str] = (),
    ) -> None:
        install = install or find_zookeeper()
        if data_dir is None:
            directory = Path(tempfile.mkdtemp(prefix="aiozkreg-zookeeper-"))
            self._owned_dir: Path | None = directory
        else:
            directory = Path(data_dir).absolute()
            self._owned_dir = None
        port = port or free_ports(1)[0]
        super().__init__(
            directory,
            port=port,
            main_class=_MAIN,
            settings={
                **TEST_SETTINGS,
                "dataDir": str(directory),
                "clientPort": port,
                **(settings or {}),
            },
            install=install,
            start_timeout=start_timeout,
            jvm_options=jvm_options,
        )

    def close(self, *, graceful: bool = True) -> None:
        """Stop the server and remove its directory if it made it; idempotent.

        A temporary directory is about to go, so its server is simply killed.
        """
        super().close(graceful=graceful and self._owned_dir is None)
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)
            self._owned_dir = None

    async def astart(self) -> None:
        """:meth:`start` in a worker thread, so the event loop keeps running."""
        await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        """:meth:`stop` in a worker thread, so the event loop keeps running."""
        await asyncio.to_thread(self.stop)

    async def arestart(self) -> None:
        """:meth:`restart` in a worker thread, so the event loop keeps running."""
        await asyncio.to_thread(self.restart)

    def __enter__(self) -> ZooKeeperServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<ZooKeeperServer {self.address} {state} in {self.data_dir}>"
