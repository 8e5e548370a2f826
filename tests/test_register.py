"""register(): the reference's registration behaviour, in async form, on the real server
and the in-memory one."""

from __future__ import annotations

import os
import socket
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from aiozkreg import (
    READ_ACL_UNSAFE,
    NoAuthError,
    NodeExistsError,
    Perm,
    RegisteringServer,
    Registry,
    event,
)
from aiozkreg.testing import expire_session, settle


@pytest.fixture
def events() -> Iterator[list[Any]]:
    seen: list[Any] = []
    event.subscribers.append(seen.append)
    yield seen
    event.subscribers.remove(seen.append)


async def test_register_creates_ephemeral_node_with_pid(hosts: str) -> None:
    """The node is an ephemeral HOST:PORT child holding {"pid": ...}, world read-only,
    writable by the registry's own digest identity alone."""
    async with Registry(hosts) as zk, Registry(hosts) as other:
        await zk.ensure_path("/fooservice/providers")
        await zk.register("/fooservice/providers", ("192.168.0.42", 8080))
        node = "/fooservice/providers/192.168.0.42:8080"
        assert await zk.get_properties(node) == {"pid": os.getpid()}
        assert await zk.is_ephemeral(node)
        acl, _ = await other.get_acls(node)
        assert acl[0] == READ_ACL_UNSAFE[0] and len(acl) == 2
        assert acl[1].scheme == "digest" and acl[1].perms == Perm.ALL
        with pytest.raises(NoAuthError):
            await other.set(node, b'{"hijacked": true}')


async def test_register_string_address_and_data(hosts: str) -> None:
    """A "host:port" string works; keyword data is stored; pid always wins."""
    async with Registry(hosts) as zk:
        await zk.ensure_path("/svc")
        reg = await zk.register("/svc", "10.0.0.1:81", weight=3, pid=1)
        assert reg.nodes == ("/svc/10.0.0.1:81",)
        assert await zk.get_properties("/svc/10.0.0.1:81") == {"weight": 3, "pid": os.getpid()}


async def test_register_at_root(hosts: str) -> None:
    """Registering at / gives /a:1, with no double slash."""
    async with Registry(hosts) as zk:
        reg = await zk.register("/", "a:1")
        assert reg.nodes == ("/a:1",)
        assert await zk.exists("/a:1") is not None


async def test_duplicate_registration_raises(hosts: str) -> None:
    """Registering the same address twice raises NodeExistsError."""
    async with Registry(hosts) as zk:
        await zk.register("/", "a:1")
        with pytest.raises(NodeExistsError):
            await zk.register("/", "a:1")
        assert zk.registrations[0].nodes == ("/a:1",) and len(zk.registrations) == 1


async def test_register_context_manager_unregisters(hosts: str) -> None:
    """Leaving `async with zk.register(...)` deletes the node; unregister() is idempotent."""
    async with Registry(hosts) as zk:
        async with zk.register("/", ("h", 1)) as reg:
            assert await zk.exists("/h:1") is not None
        assert await zk.exists("/h:1") is None
        await reg.unregister()
        assert not reg.active and zk.registrations == []


async def test_registering_server_event_before_creation(hosts: str, events: list[Any]) -> None:
    """RegisteringServer is notified once before the node exists; subscribers add data."""

    def add_color(ev: object) -> None:
        if isinstance(ev, RegisteringServer):
            ev.properties["color"] = "blue"

    event.subscribers.append(add_color)
    try:
        async with Registry(hosts) as zk:
            await zk.ensure_path("/s")
            await zk.register("/s", ("h", 2), weight=1)
            props = await zk.get_properties("/s/h:2")
    finally:
        event.subscribers.remove(add_color)
    (ev,) = [e for e in events if isinstance(e, RegisteringServer)]
    assert ev.address == ("h", 2) and ev.path == "/s"
    assert props == {"weight": 1, "pid": os.getpid(), "color": "blue"}


async def test_notify_can_be_replaced(hosts: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Applications may replace aiozkreg.event.notify; it is looked up at call time."""
    seen: list[object] = []
    monkeypatch.setattr(event, "notify", seen.append)
    async with Registry(hosts) as zk:
        await zk.register("/", "x:1")
    assert len(seen) == 1 and isinstance(seen[0], RegisteringServer)


def _fake_netifaces(addresses: dict[str, list[str]]) -> types.ModuleType:
    module = types.ModuleType("netifaces")
    module.AF_INET = 2  # type: ignore[attr-defined]
    module.interfaces = lambda: list(addresses)  # type: ignore[attr-defined]
    module.ifaddresses = lambda name: {2: [{"addr": a} for a in addresses[name]]}  # type: ignore[attr-defined]
    return module


async def test_blank_host_registers_every_outside_ipv4_address(
    hosts: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With netifaces, a blank host registers each non-loopback IPv4 address."""
    fake = _fake_netifaces({"lo": ["127.0.0.1"], "eth0": ["10.1.2.3"], "eth1": ["10.9.9.9"]})
    monkeypatch.setitem(sys.modules, "netifaces", fake)
    async with Registry(hosts) as zk:
        reg = await zk.register("/", ":8080", a=1)
        assert sorted(await zk.get_children("/")) == ["10.1.2.3:8080", "10.9.9.9:8080"]
        assert reg.nodes == ("/10.1.2.3:8080", "/10.9.9.9:8080")
        await zk.register("/", ("", 8081))
        assert "10.9.9.9:8081" in await zk.get_children("/")


async def test_blank_host_falls_back_to_loopback(
    hosts: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With netifaces but no outside interface, the loopback addresses are registered."""
    monkeypatch.setitem(sys.modules, "netifaces", _fake_netifaces({"lo": ["127.0.0.1"]}))
    async with Registry(hosts) as zk:
        await zk.register("/", ":8080")
        assert await zk.get_children("/") == ["127.0.0.1:8080"]


async def test_blank_host_without_netifaces_uses_fqdn(
    hosts: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without netifaces, a blank host becomes socket.getfqdn()."""
    monkeypatch.setitem(sys.modules, "netifaces", None)
    async with Registry(hosts) as zk:
        await zk.register("/", ":8080")
        assert await zk.get_children("/") == [f"{socket.getfqdn()}:8080"]


async def test_real_netifaces_blank_host(hosts: str) -> None:
    """The installed netifaces finds at least one address for a blank host."""
    async with Registry(hosts) as zk:
        reg = await zk.register("/", ":9")
        assert reg.nodes and all(n.endswith(":9") for n in reg.nodes)


async def test_update_changes_data_now_and_for_restores(hosts: str) -> None:
    """reg.update() rewrites the node, and a restore after expiry writes the new data."""
    async with Registry(hosts) as zk:
        reg = await zk.register("/", "u:1", weight=1)
        await reg.update(weight=5)
        assert (await zk.get_properties("/u:1"))["weight"] == 5
        await expire_session(zk)
        await settle(zk)
        assert await zk.get_properties("/u:1") == {"weight": 5, "pid": os.getpid()}


async def test_second_registration_under_a_moved_path_resolves_afresh(
    hosts: str, events: list[Any]
) -> None:
    """Registering again where we already registered skips the resolve, unless the path moved."""
    async with Registry(hosts) as zk:
        await zk.ensure_path("/svc/providers")
        await zk.ensure_path("/real/providers")
        await zk.register("/svc/providers", "a:1")
        await zk.register("/svc/providers", "a:2")  # known real: no resolve round trip
        assert sorted(await zk.get_children("/svc/providers")) == ["a:1", "a:2"]
        # the path becomes a symlink, in one step (our registrations there go with it)
        txn = zk.transaction().delete("/svc/providers/a:1").delete("/svc/providers/a:2")
        await (
            txn.delete("/svc/providers")
            .set_data("/svc", b'{"providers ->":"/real/providers"}')
            .commit()
        )
        reg = await zk.register("/svc/providers", "b:1")
        assert reg.nodes == ("/real/providers/b:1",)
        assert [e.path for e in events if isinstance(e, RegisteringServer)][-1] == "/real/providers"
