"""Shared test configuration; the aiozkreg plugin's fixtures come from its entry point."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture(params=["real", "memory"])
def hosts(request: pytest.FixtureRequest) -> str:
    """A chrooted connect string, once on the real server and once on the in-memory one.

    Tests of behaviour both must share use this, so the emulation cannot drift.
    """
    fixture = "zookeeper_hosts" if request.param == "real" else "memory_hosts"
    value: str = request.getfixturevalue(fixture)
    return value
