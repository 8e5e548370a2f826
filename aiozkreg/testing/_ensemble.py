"""A ZooKeeper ensemble (a quorum of servers, and observers) on loopback, for failover tests."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from ._errors import ZooKeeperHarnessError
from ._install import ZooKeeperInstall, find_zookeeper
from ._process import READY_MODES, TEST_SETTINGS, ZooKeeperProcess, free_ports

__all__ = ["EnsembleMember", "ZooKeeperEnsemble"]

_MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
_OBSERVER_MODES = frozenset({"observer"})


class EnsembleMember(ZooKeeperProcess):
    """One server of a :class:`ZooKeeperEnsemble`; ``id`` is its ``myid``.

    ``observer`` is true for a member that does not vote: it serves
    clients, forwards writes to the leader and reports ``Mode: observer``.
    """

    def __init__(
        self,
        member_id: int,
        directory: Path,
        *,
        port: int,
        settings: Mapping[str, str | int],
        install: ZooKeeperInstall,
        start_timeout: float,
        jvm_options: Sequence[str] = (),
        observer: bool = False,
    ) -> None:
        self.id = member_id
        self.observer = observer
        super().__init__(
            directory,
            port=port,
            main_class=_MAIN,
            settings=settings,
            install=install,
            start_timeout=start_timeout,
            jvm_options=jvm_options,
        )

    @property
    def ready_modes(self) -> frozenset[str]:
        """The modes in which this member serves: observer, or leader or follower."""
        return _OBSERVER_MODES if self.observer else READY_MODES

    def wait_ready(self, timeout: float, modes: Iterable[str] | None = None) -> str:
        """Wait until ``srvr`` reports one of ``modes`` (by default :attr:`ready_modes`)."""
        return super().wait_ready(timeout, self.ready_modes if modes is None else modes)

    def launch(self) -> None:
        """Write ``myid`` and start the JVM without waiting for it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "myid").write_text(f"{self.id}\n")
        super().launch()

    def __repr__(self) -> str:
        kind = " observer" if self.observer else ""
        return f"<EnsembleMember {self.id}{kind} {self.address} mode={self.mode}>"


class ZooKeeperEnsemble:
    """``n`` ZooKeeper servers forming a quorum on loopback, in a temporary directory.

    Members are numbered from 1; with ``observers=k``, members ``n + 1`` to
    ``n + k`` are observers (they serve clients and see every write, but do
    not vote). ``start()`` starts every member and returns once each voter
    is a leader or follower and each observer observes; ``start(id)``,
    ``stop(id)`` and ``kill(id)`` act on one member (a restarted member
    rejoins on its data).
    """

    def __init__(
        self,
        n: int = 3,
        *,
        install: ZooKeeperInstall | None = None,
        start_timeout: float = 60.0,
        settings: Mapping[str, str | int] | None = None,
        jvm_options: Sequence[str] = (),
        observers: int = 0,
    ) -> None:
        if n < 1:
            raise ValueError(f"An ensemble needs at least one server, not {n}.")
        if observers < 0:
            raise ValueError(f"An ensemble cannot have {observers} observers.")
        if observers and n < 2:  # ZooKeeper refuses: "Observers w/o quorum"
            raise ValueError(f"Observers need at least two voters to follow, not {n}.")
        install = install or find_zookeeper()
        self._start_timeout = start_timeout
        total = n + observers
        ports = free_ports(3 * total)
        client, peer, election = ports[:total], ports[total : 2 * total], ports[2 * total :]
        servers = {
            f"server.{i + 1}": f"127.0.0.1:{peer[i]}:{election[i]}"
            + (":observer" if i >= n else "")
            for i in range(total)
        }
        self._dir: Path | None = Path(tempfile.mkdtemp(prefix="aiozkreg-ensemble-"))
        self._members = tuple(
            EnsembleMember(
                i + 1,
                self._dir / f"server{i + 1}",
                port=client[i],
                settings={
                    **TEST_SETTINGS,
                    "dataDir": str(self._dir / f"server{i + 1}"),
                    "clientPort": client[i],
                    **servers,
                    **({"peerType": "observer"} if i >= n else {}),
                    **(settings or {}),
                },
                install=install,
                start_timeout=start_timeout,
                jvm_options=jvm_options,
                observer=i >= n,
            )
            for i in range(total)
        )

    @property
    def members(self) -> tuple[EnsembleMember, ...]:
        """Every member, in ``id`` order."""
        return self._members

    @property
    def voters(self) -> tuple[EnsembleMember, ...]:
        """The members that vote (ids 1 to ``n``)."""
        return tuple(m for m in self._members if not m.observer)

    @property
    def observers(self) -> tuple[EnsembleMember, ...]:
        """The observers (ids ``n + 1`` on), empty unless asked for."""
        return tuple(m for m in self._members if m.observer)

    @property
    def connect_string(self) -> str:
        """``"127.0.0.1:p1,127.0.0.1:p2,..."``: every member's client address, observers too."""
        return ",".join(m.address for m in self._members)

    def member(self, member_id: int) -> EnsembleMember:
        """The member whose ``myid`` is ``member_id``."""
        for m in self._members:
            if m.id == member_id:
                return m
        raise KeyError(f"The ensemble has no member {member_id}.")

    def start(self, member_id: int | None = None) -> None:
        """Start one member (or every stopped one) and wait until it leads, follows or observes."""
        if self._dir is None:
            raise ZooKeeperHarnessError("The ZooKeeper ensemble is closed.")
        chosen = self._chosen(member_id)
        for m in chosen:
            m.launch()
        deadline = time.monotonic() + self._start_timeout
        for m in chosen:
            m.wait_ready(max(0.0, deadline - time.monotonic()))

    def stop(self, member_id: int | None = None) -> None:
        """Stop one member (or all) with SIGTERM and wait for it to exit."""
        for m in self._chosen(member_id):
            m.stop()

    def kill(self, member_id: int | None = None) -> None:
        """Kill one member (or all) with SIGKILL, as in a crash."""
        for m in self._chosen(member_id):
            m.kill()

    def leader(self, timeout: float = 10.0) -> int:
        """The id of the voter that reports ``Mode: leader``, polling for up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            for m in self.voters:
                if m.mode == "leader":
                    return m.id
            if time.monotonic() >= deadline:
                raise ZooKeeperHarnessError(
                    f"No member of the ensemble reported Mode: leader within {timeout} s."
                )
            time.sleep(0.05)

    def close(self) -> None:
        """Kill every member and remove the ensemble's directory; idempotent."""
        for m in self._members:
            m.close(graceful=False)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> ZooKeeperEnsemble:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _chosen(self, member_id: int | None) -> tuple[EnsembleMember, ...]:
        return self._members if member_id is None else (self.member(member_id),)
