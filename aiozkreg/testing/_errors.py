"""The errors of the testing harness.

::

    aiozkreg.ZKRegError
    └── ZooKeeperHarnessError          the harness could not do what was asked
        ├── ZooKeeperNotFound          no ZooKeeper (or no Java) to run
        └── ZooKeeperStartError        a server did not start serving in time
"""

from __future__ import annotations

from .._errors import ZKRegError


class ZooKeeperHarnessError(ZKRegError):
    """The testing harness could not run or control a ZooKeeper server."""


class ZooKeeperNotFound(ZooKeeperHarnessError):
    """No ZooKeeper installation, or no Java runtime, could be found."""


class ZooKeeperStartError(ZooKeeperHarnessError):
    """A ZooKeeper server exited, or did not start serving, within its start timeout."""
