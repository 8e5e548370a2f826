"""ZooKeeperEnsemble with observers: they serve registries, forward writes, never vote."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from waits import first_snapshot

from aiozkreg import Registry
from aiozkreg.testing import ZooKeeperEnsemble

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def observed() -> Iterator[ZooKeeperEnsemble]:
    """Three voters and one observer (member 4), started once for the module."""
    ensemble = ZooKeeperEnsemble(3, observers=1)
    try:
        ensemble.start()
        yield ensemble
    finally:
        ensemble.close()


def test_observer_is_member_n_plus_one_and_observes(observed: ZooKeeperEnsemble) -> None:
    """Member 4 is the observer: srvr and mntr say so, leader() is a voter, all are listed."""
    assert [m.id for m in observed.members] == [1, 2, 3, 4]
    assert [m.id for m in observed.voters] == [1, 2, 3]
    (observer,) = observed.observers
    assert observer.id == 4 and observer.observer
    assert not any(m.observer for m in observed.voters)
    assert observer.mode == "observer"
    assert "Mode: observer" in observer.four_letter_word("srvr")
    assert "zk_server_state\tobserver" in observer.four_letter_word("mntr")
    assert sorted(m.mode or "" for m in observed.voters) == ["follower", "follower", "leader"]
    assert observed.leader() in (1, 2, 3)
    assert observer.address in observed.connect_string.split(",")


async def test_registration_through_observer_is_seen_through_voter(
    observed: ZooKeeperEnsemble,
) -> None:
    """A registry on the observer alone registers (written by the leader); a voter sees it."""
    voter = observed.member(1)
    (observer,) = observed.observers
    async with (
        Registry(observer.address) as through_observer,
        Registry(voter.address) as through_voter,
    ):
        # each session makes sure of the path itself: ZooKeeper promises a session
        # its own writes, not another session's on another server, at once
        await through_observer.ensure_path("/observed/a")
        await through_voter.ensure_path("/observed/a")
        async with through_observer.register("/observed/a", "10.0.0.1:8080"):
            providers = await through_voter.providers("/observed/a")
            await first_snapshot(providers, lambda s: [p.name for p in s] == ["10.0.0.1:8080"])
            assert await through_voter.get_children("/observed/a") == ["10.0.0.1:8080"]
            await providers.close()
        assert through_observer.connected_to == observer.address
        assert through_voter.connected_to == voter.address


async def test_registration_through_voter_reaches_observer_provider_set(
    observed: ZooKeeperEnsemble,
) -> None:
    """A provider set whose registry talks to the observer alone sees a voter's registration."""
    voter = observed.member(2)
    (observer,) = observed.observers
    async with (
        Registry(observer.address) as through_observer,
        Registry(voter.address) as through_voter,
    ):
        await through_voter.ensure_path("/observed/b")
        await through_observer.ensure_path("/observed/b")  # as above: its own view of it
        providers = await through_observer.providers("/observed/b")
        assert providers.all == ()
        async with through_voter.register("/observed/b", "10.0.0.2:9090", epoch=1) as reg:
            await first_snapshot(providers, lambda s: [p.name for p in s] == ["10.0.0.2:9090"])
            await reg.update(epoch=2)
            await first_snapshot(providers, lambda s: [p.properties.get("epoch") for p in s] == [2])
        await first_snapshot(providers, lambda s: len(s) == 0)
        await providers.close()


def test_stopped_observer_restarts_as_observer(observed: ZooKeeperEnsemble) -> None:
    """stop(id) and start(id) of an observer wait until it observes again; restart() too."""
    (observer,) = observed.observers
    observed.stop(observer.id)
    assert not observer.running
    observed.start(observer.id)
    assert observer.mode == "observer"
    observer.restart()
    assert observer.mode == "observer"


def test_observer_counts_zookeeper_refuses_are_refused() -> None:
    """observers=-1, or observers with a single voter, are a ValueError before anything starts."""
    with pytest.raises(ValueError, match="-1 observers"):
        ZooKeeperEnsemble(3, observers=-1)
    with pytest.raises(ValueError, match="two voters"):
        ZooKeeperEnsemble(1, observers=1)
