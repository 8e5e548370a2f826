"""Live children and properties views, on the real server and the in-memory one."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from server_view import watch_count
from waits import first_snapshot

from aiozkreg import Children, Properties, PropertiesSnapshot, Registry
from aiozkreg.testing import settle

FOO = {"database": "/databases/foomain", "threads": 1, "favorite_color": "red"}


@pytest.fixture
async def zk(hosts: str) -> AsyncIterator[Registry]:
    async with Registry(hosts) as registry:
        await registry.create("/fooservice", json.dumps(FOO).encode())
        await registry.create("/fooservice/providers")
        yield registry


async def test_children_view_follows_registrations(zk: Registry) -> None:
    """children() lists providers and keeps up as servers register (README example)."""
    await zk.register("/fooservice/providers", ("192.168.0.42", 8080))
    addresses = await zk.children("/fooservice/providers")
    assert isinstance(addresses, Children)
    assert sorted(addresses) == ["192.168.0.42:8080"]
    await zk.register("/fooservice/providers", ("192.168.0.42", 8081))
    await first_snapshot(addresses, lambda names: len(names) == 2)
    assert sorted(addresses) == ["192.168.0.42:8080", "192.168.0.42:8081"]
    assert len(addresses) == 2 and "192.168.0.42:8081" in addresses
    assert addresses.path == addresses.real_path == "/fooservice/providers"


async def test_children_callback_called_now_and_on_change(zk: Registry) -> None:
    """A callback is called at once with the view, then on every change; returns the view."""
    addresses = await zk.children("/fooservice/providers")
    calls: list[list[str]] = []
    assert addresses(lambda view: calls.append(sorted(view))) is addresses
    assert calls == [[]]
    await zk.register("/fooservice/providers", ("192.168.0.42", 8082))
    await first_snapshot(addresses, lambda names: names)
    assert calls == [[], ["192.168.0.42:8082"]]


async def test_async_callbacks(zk: Registry) -> None:
    """An async callback is awaited now and on every change."""
    addresses = await zk.children("/fooservice/providers")
    seen: list[tuple[str, ...]] = []
    got = asyncio.Event()

    async def callback(view: Children) -> None:
        seen.append(tuple(view))
        got.set()

    addresses(callback)
    await asyncio.wait_for(got.wait(), 5)
    got.clear()
    await zk.create("/fooservice/providers/x")
    await asyncio.wait_for(got.wait(), 5)
    assert seen == [(), ("x",)]


async def test_properties_view_reads_and_notifies(zk: Registry) -> None:
    """properties() is a live mapping of the node's JSON; callbacks see every update."""
    data = await zk.properties("/fooservice")
    assert isinstance(data, Properties)
    assert data["database"] == "/databases/foomain" and data["threads"] == 1
    updates: list[dict[str, Any]] = []
    data(lambda d: updates.append(dict(d)))
    assert updates == [FOO]
    await data.update({"threads": 2}, secret="123")
    assert dict(data) == {**FOO, "threads": 2, "secret": "123"}
    await data.update({"threads": 5}, threads=1)  # keywords win
    assert data["threads"] == 1
    await data.set({"threads": 9}, threads=3, secret="1234")
    assert dict(data) == {"threads": 3, "secret": "1234"}
    assert updates[-1] == {"threads": 3, "secret": "1234"}
    assert len(updates) == 4
    assert json.loads((await zk.get("/fooservice"))[0]) == {"threads": 3, "secret": "1234"}


async def test_properties_without_watch(zk: Registry) -> None:
    """watch=False reads once, refuses callbacks with TypeError, and still writes."""
    p2 = await zk.properties("/fooservice", watch=False)
    assert sorted(p2) == sorted(FOO)
    with pytest.raises(TypeError, match="Can't set callbacks without watching"):
        p2(lambda data: None)
    watched = await zk.properties("/fooservice")
    await p2.update(threads=3)
    assert p2["threads"] == 3
    await first_snapshot(watched, lambda snap: snap["threads"] == 3)
    assert [dict(s) for s in [snap async for snap in p2]] == [dict(p2)]


async def test_empty_properties_stored_as_braces(zk: Registry) -> None:
    """Setting no properties stores {}, never empty bytes."""
    data = await zk.properties("/fooservice")
    await data.set()
    assert (await zk.get("/fooservice"))[0] == b"{}"
    assert dict(data) == {}


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (b"", {}),
        (b"  \n", {}),
        (b"plain text", {"string_value": "plain text"}),
        (b"[1, 2]", {"string_value": "[1, 2]"}),
        (b"\n{xxx}\n", {"string_value": "\n{xxx}\n"}),
        (b'{"a": 1}', {"a": 1}),
    ],
)
async def test_foreign_data_reads_safely(zk: Registry, stored: bytes, expected: Any) -> None:
    """Data written by other tools reads as {} or {"string_value": text}, never crashes."""
    await zk.create("/foreign", stored)
    assert dict(await zk.properties("/foreign")) == expected


async def test_binary_data_does_not_crash(zk: Registry) -> None:
    """Undecodable bytes read as a string_value and survive a rewrite byte for byte."""
    await zk.create("/bin", b"\xff\xfe\x00binary")
    data = await zk.properties("/bin")
    assert "string_value" in data
    await data.set(dict(data))
    assert (await zk.get("/bin"))[0] == b"\xff\xfe\x00binary"


async def test_concurrent_updates_lose_nothing(hosts: str) -> None:
    """Two registries updating one node concurrently, 50 keys in all: none is lost."""
    async with Registry(hosts) as a, Registry(hosts) as b:
        await a.create("/shared", b"{}")
        pa = await a.properties("/shared", watch=False)
        pb = await b.properties("/shared", watch=False)
        await asyncio.gather(
            *(pa.update({f"a{i}": i}) for i in range(25)),
            *(pb.update({f"b{i}": i}) for i in range(25)),
        )
        final = await a.get_properties("/shared")
        assert len(final) == 50


async def test_slow_consumer_sees_monotonic_states_and_the_last(zk: Registry) -> None:
    """A slow `async for` against 150 fast writes never goes backwards and reaches the last."""
    await zk.create("/counter", b'{"n":0}')
    view = await zk.properties("/counter")
    seen: list[int] = []

    async def consume() -> None:
        async for snapshot in view:
            seen.append(snapshot["n"])
            if snapshot["n"] == 150:
                return
            await asyncio.sleep(0.01)  # a slow consumer, on purpose

    consumer = asyncio.create_task(consume())
    for n in range(1, 151):
        await zk.set("/counter", json.dumps({"n": n}).encode())
    await asyncio.wait_for(consumer, 20)
    assert seen == sorted(set(seen)) and seen[-1] == 150
    assert len(seen) < 150  # coalesced: intermediate states skipped


async def test_snapshots_are_immutable(zk: Registry) -> None:
    """Snapshots do not change when the node does."""
    view = await zk.properties("/fooservice")
    first = await first_snapshot(view, lambda s: True)
    assert isinstance(first, PropertiesSnapshot)
    await view.update(threads=7)
    assert first["threads"] == 1 and view["threads"] == 7
    with pytest.raises(TypeError):
        first["threads"] = 2  # type: ignore[index]


async def test_many_iterators_and_callbacks_share_one_watch(zk: Registry) -> None:
    """Views of one path share one ZooKeeper watch; every iterator and callback sees the end."""
    before = watch_count(zk)  # the server's count: all sessions
    views = [await zk.children("/fooservice/providers") for _ in range(5)]
    assert watch_count(zk) == before + 1
    calls = [0] * 5
    for i, view in enumerate(views):
        view(lambda v, i=i: calls.__setitem__(i, calls[i] + 1))
    tasks = [
        asyncio.create_task(first_snapshot(view, lambda names: "c" in names))
        for view in views
        for _ in range(2)
    ]
    for name in "abc":
        await zk.create(f"/fooservice/providers/{name}")
    results = await asyncio.gather(*tasks)
    assert all("c" in names for names in results)
    await settle(zk)
    assert all(count >= 2 for count in calls)


async def test_failing_callback_is_dropped_others_continue(
    zk: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    """A callback that raises later is logged and removed; other callbacks keep working."""
    view = await zk.children("/fooservice/providers")
    good: list[int] = []
    armed = [False]

    def bad(v: Children) -> None:
        if armed[0]:
            raise RuntimeError("boom")

    view(bad)
    view(lambda v: good.append(len(v)))
    armed[0] = True
    with caplog.at_level(logging.ERROR, logger="aiozkreg"):
        await zk.create("/fooservice/providers/a")
        await first_snapshot(view, lambda names: names)
        await zk.create("/fooservice/providers/b")
        await first_snapshot(view, lambda names: len(names) == 2)
        await settle(zk)
    assert good == [0, 1, 2]
    assert sum("boom" in r.getMessage() or r.exc_info is not None for r in caplog.records) == 1


async def test_callback_error_at_registration_propagates(zk: Registry) -> None:
    """An exception from the first call propagates and the callback is not kept."""
    view = await zk.children("/fooservice/providers")

    def bad(v: Children) -> None:
        raise ValueError("no")

    with pytest.raises(ValueError):
        view(bad)
    assert view._callbacks == []


async def test_deleted_node_empties_view_ends_iterators_calls_back_empty(zk: Registry) -> None:
    """Deleting the watched node: the view empties, iterators end, callbacks get no arguments."""
    await zk.create("/doomed", b'{"a":1}')
    await zk.create("/doomed/kid")
    kids = await zk.children("/doomed")
    props = await zk.properties("/doomed")
    got: list[tuple[Any, ...]] = []
    kids(lambda *args: got.append(args))
    props(lambda v: None)  # takes one argument: skipped silently on deletion
    iterating = asyncio.create_task(_collect(kids))
    await zk.delete("/doomed/kid")
    await zk.delete("/doomed")
    await asyncio.wait_for(iterating, 10)
    await settle(zk)
    assert kids.deleted and list(kids) == [] and dict(props) == {}
    assert got[0] == (kids,) and got[-1] == ()
    assert repr(kids).startswith("<DELETED: ")


async def _collect(view: Any) -> list[Any]:
    return [snapshot async for snapshot in view]


async def test_close_releases_the_watch(zk: Registry) -> None:
    """Closing the last view of a path drops our watch; iterators of it end."""
    before = watch_count(zk)  # the server's count: all sessions
    async with zk.children("/fooservice/providers") as view:
        iterating = asyncio.create_task(_collect(view))
        assert watch_count(zk) == before + 1
    await asyncio.wait_for(iterating, 5)
    await zk.settle()  # the server has answered the watch's removal
    assert watch_count(zk) == before
    assert view.closed


async def test_views_refuse_missing_nodes(zk: Registry) -> None:
    """Opening a view of a path that does not resolve raises NoNodeError."""
    from aiozkreg import NoNodeError

    with pytest.raises(NoNodeError):
        await zk.children("/nowhere")
    with pytest.raises(NoNodeError):
        await zk.properties("/nowhere")


async def test_unwatched_properties_write_through_links(zk: Registry) -> None:
    """A watch=False view of a symlinked path writes to the real node."""
    await zk.create("/real", b'{"a":1}')
    await zk.create("/holder", b'{"alias ->":"/real"}')
    view = await zk.properties("/holder/alias", watch=False)
    assert view.real_path == "/real" and view["a"] == 1
    await view.update(b=2)
    assert await zk.get_properties("/real") == {"a": 1, "b": 2}


# --- a property and a property link of the same name cannot both be set ---------


async def _stored(zk: Registry, path: str) -> dict[str, Any]:
    """The node's properties as a second client reads them."""
    async with Registry(zk.hosts) as other:
        return await other.get_properties(path)


@pytest.mark.parametrize(
    "changes",
    [
        {"threads =>": "/shared threads"},  # a link beside the key 'threads'
        {"x": 1, "x =>": "/fooservice threads"},  # both in one write
    ],
)
async def test_update_refuses_a_property_beside_its_property_link(
    zk: Registry, changes: dict[str, Any]
) -> None:
    """update() that would leave 'x' and 'x =>' raises ValueError naming both; nothing written."""
    await zk.create("/shared", b'{"threads": 8}')
    properties = await zk.properties("/fooservice", watch=False)
    with pytest.raises(ValueError, match="cannot both be set on /fooservice") as info:
        await properties.update(changes)
    name = "threads" if "threads =>" in changes else "x"
    assert f"{name!r}" in str(info.value) and f"{name + ' =>'!r}" in str(info.value)
    assert await _stored(zk, "/fooservice") == FOO


async def test_a_key_beside_an_existing_property_link_is_refused_too(zk: Registry) -> None:
    """Setting the key 'x' where the link 'x =>' is stored is refused, with set() and update()."""
    properties = await zk.properties("/fooservice", watch=False)
    await properties.update({"color =>": "/fooservice favorite_color"})
    assert properties["color"] == "red"
    with pytest.raises(ValueError, match="cannot both be set"):
        await properties.update(color="blue")
    with pytest.raises(ValueError, match="cannot both be set"):
        await properties.set({"color": "blue", "color =>": "/fooservice favorite_color"})
    assert (await _stored(zk, "/fooservice"))["color =>"] == "/fooservice favorite_color"


async def test_the_check_reads_the_node_not_a_stale_view(zk: Registry) -> None:
    """A key another client wrote after the view was read still refuses the link."""
    properties = await zk.properties("/fooservice", watch=False)
    async with Registry(zk.hosts) as other:
        await (await other.properties("/fooservice", watch=False)).update(limit=5)
    assert "limit" not in properties
    with pytest.raises(ValueError, match="cannot both be set"):
        await properties.update({"limit =>": "/fooservice threads"})
    assert "limit =>" not in await _stored(zk, "/fooservice")


async def test_remove_drops_keys_and_ignores_absent_ones(zk: Registry) -> None:
    """remove() drops properties and links in one write; a key that is not there is no error."""
    properties = await zk.properties("/fooservice")
    await properties.update({"db ->": "/databases/main"})
    await properties.remove("threads", "db ->", "nope")
    assert dict(properties) == {"database": "/databases/foomain", "favorite_color": "red"}
    assert await _stored(zk, "/fooservice") == dict(properties)


async def test_an_unrelated_write_is_not_blocked_by_a_conflict_already_stored(
    zk: Registry,
) -> None:
    """A node another tool left with 'x' and 'x =>' still takes writes of other keys."""
    await zk.set("/fooservice", json.dumps({**FOO, "threads =>": "/x threads"}).encode())
    properties = await zk.properties("/fooservice", watch=False)
    await properties.update(favorite_color="blue")
    assert (await _stored(zk, "/fooservice"))["favorite_color"] == "blue"
    await properties.remove("threads =>")
    assert await _stored(zk, "/fooservice") == {**FOO, "favorite_color": "blue"}
