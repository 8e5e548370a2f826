"""What a live provider set reads when its service changes (issue 14: requests per change)."""

from __future__ import annotations

from waits import first_snapshot

from aiozkreg import Provider, Registry
from aiozkreg.testing import settle


def _epochs(snapshot: tuple[Provider, ...]) -> dict[str, object]:
    return {p.host: p.properties.get("epoch") for p in snapshot}


async def test_a_data_change_costs_a_watcher_one_read_and_no_listing(zookeeper_hosts: str) -> None:
    """A provider's data change is re-read with one getData by a watching registry, no listing."""
    async with Registry(zookeeper_hosts) as writer, Registry(zookeeper_hosts) as watcher:
        await writer.ensure_path("/svc")
        regs = [await writer.register("/svc", f"10.0.0.{i}:80", epoch=0) for i in range(5)]
        providers = await watcher.providers("/svc")
        await settle(watcher)
        before = dict(watcher.metrics().requests)
        for epoch in (1, 2):
            await regs[2].update(epoch=epoch)
            await first_snapshot(providers, lambda s, e=epoch: _epochs(s)["10.0.0.2"] == e)
        after = dict(watcher.metrics().requests)
        assert after.get("getData", 0) - before.get("getData", 0) == 2
        assert after.get("getChildren2", 0) == before.get("getChildren2", 0)
        await writer.register("/svc", "10.0.0.9:80", epoch=3)  # a join is listed as before
        await regs[0].unregister()
        snapshot = await first_snapshot(
            providers, lambda s: len(s) == 5 and "10.0.0.0" not in _epochs(s)
        )
        assert _epochs(snapshot) == {
            "10.0.0.1": 0,
            "10.0.0.2": 2,
            "10.0.0.3": 0,
            "10.0.0.4": 0,
            "10.0.0.9": 3,
        }
        await regs[3].update(epoch=4)  # and data changes after the listing still arrive
        await first_snapshot(providers, lambda s: _epochs(s)["10.0.0.3"] == 4)


async def test_a_provider_leaving_and_coming_back_at_once_is_shown(zookeeper_hosts: str) -> None:
    """A provider unregistered and registered again under its name is in the set after each."""
    async with Registry(zookeeper_hosts) as writer, Registry(zookeeper_hosts) as watcher:
        await writer.ensure_path("/svc")
        regs = [await writer.register("/svc", f"10.0.0.{i}:80", epoch=0) for i in range(5)]
        providers = await watcher.providers("/svc")
        for n in range(30):  # the events of the delete and the create race the re-reads
            old = regs[n % 5]
            await old.unregister()
            regs[n % 5] = await writer.register("/svc", old.address, epoch=n)
            await settle(watcher)
            assert _epochs(providers.all) == {
                r.address.split(":")[0]: r.properties["epoch"] for r in regs
            }
