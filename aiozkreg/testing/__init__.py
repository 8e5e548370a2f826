"""Test support: real ZooKeeper servers, an in-memory one, a fault proxy, a pytest plugin.

The servers, ensembles and the proxy run a real Java ZooKeeper found by
:func:`find_zookeeper`; :class:`MemoryZooKeeper` emulates one in-process
for fast unit tests (see docs/testing.md). The pytest plugin
(:mod:`aiozkreg.testing.plugin`) is registered through the ``pytest11``
entry point and provides the fixtures.
"""

from ._ensemble import EnsembleMember, ZooKeeperEnsemble
from ._errors import ZooKeeperHarnessError, ZooKeeperNotFound, ZooKeeperStartError
from ._expire import expire_session
from ._fourlw import four_letter_word
from ._install import ZooKeeperInstall, find_zookeeper
from ._memory import MemoryZooKeeper
from ._proxy import FaultProxy, ProxyState
from ._server import ZooKeeperServer
from ._settle import settle

__all__ = [
    "EnsembleMember",
    "FaultProxy",
    "MemoryZooKeeper",
    "ProxyState",
    "ZooKeeperEnsemble",
    "ZooKeeperHarnessError",
    "ZooKeeperInstall",
    "ZooKeeperNotFound",
    "ZooKeeperServer",
    "ZooKeeperStartError",
    "expire_session",
    "find_zookeeper",
    "four_letter_word",
    "settle",
]
