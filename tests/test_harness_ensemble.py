"""ZooKeeperEnsemble: a quorum forms, survives losing its leader, and members rejoin."""

from __future__ import annotations

import pytest
from kazoo.client import KazooClient

from aiozkreg.testing import ZooKeeperEnsemble

pytestmark = pytest.mark.slow


def test_ensemble_forms_a_quorum(zookeeper_ensemble: ZooKeeperEnsemble) -> None:
    """Every member leads or follows, exactly one leads, and the connect string lists all."""
    modes = sorted(m.mode or "" for m in zookeeper_ensemble.members)
    assert modes == ["follower", "follower", "leader"]
    assert zookeeper_ensemble.member(zookeeper_ensemble.leader()).mode == "leader"
    assert zookeeper_ensemble.connect_string == ",".join(
        f"127.0.0.1:{m.port}" for m in zookeeper_ensemble.members
    )
    assert [m.id for m in zookeeper_ensemble.members] == [1, 2, 3]


def test_quorum_survives_leader_loss_and_member_rejoins(
    zookeeper_ensemble: ZooKeeperEnsemble,
) -> None:
    """Killing the leader leaves a writable quorum; the member restarts and follows."""
    client = KazooClient(hosts=zookeeper_ensemble.connect_string, timeout=4.0)
    client.start(timeout=10)
    try:
        client.ensure_path("/failover")
        old_leader = zookeeper_ensemble.leader()
        zookeeper_ensemble.kill(old_leader)
        assert not zookeeper_ensemble.member(old_leader).running
        client.retry(client.create, "/failover/after-kill", b"written")
        new_leader = zookeeper_ensemble.leader()
        assert new_leader != old_leader

        zookeeper_ensemble.start(old_leader)
        rejoined = zookeeper_ensemble.member(old_leader)
        assert rejoined.mode == "follower"
        direct = KazooClient(hosts=rejoined.address, timeout=4.0)
        direct.start(timeout=10)
        try:
            direct.sync("/failover")
            assert direct.get("/failover/after-kill")[0] == b"written"
        finally:
            direct.stop()
            direct.close()
    finally:
        client.delete("/failover", recursive=True)
        client.stop()
        client.close()


def test_stopped_member_restarts_on_its_data() -> None:
    """stop(id) then start(id) brings a member back as a follower; close() ends them all."""
    with ZooKeeperEnsemble(3) as ensemble:
        follower = next(m for m in ensemble.members if m.mode == "follower")
        ensemble.stop(follower.id)
        assert not follower.running
        ensemble.start(follower.id)
        assert follower.mode == "follower"
    assert not any(m.running for m in ensemble.members)
