"""aiozkreg serve over HTTP, without a browser: the event stream, writes, and the guards."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import aiohttp
import pytest
from readme_trees import TREE_TEXT
from web_events import events

from aiozkreg import Perm, Registry, make_digest_acl
from aiozkreg.testing import ZooKeeperServer
from aiozkreg.web import ListenError, _feed, serving
from aiozkreg.web._writes import WriteError, WritePolicy, is_loopback

STATIC = Path(__file__).resolve().parent.parent / "aiozkreg" / "web" / "static"
WEB_DOC = Path(__file__).resolve().parent.parent / "docs" / "web.md"


async def test_stream_starts_with_the_whole_tree_and_a_live_session(zookeeper_hosts: str) -> None:
    """A page's first event holds every node, the README's graph, and a connected session."""
    async with Registry(zookeeper_hosts) as zk:
        await zk.import_tree(TREE_TEXT)
    async with (
        serving(zookeeper_hosts, "/", listen="127.0.0.1:0") as served,
        events(served.url) as stream,
    ):
        page = await stream.until(lambda p: p.session.get("live") and p.graph is not None)
        assert {"/", "/lb/pools/cms", "/cms/providers", "/retail/databases/ugc"} <= set(page.nodes)
        drawn = {v["path"] for v in page.graph["vertices"]} if page.graph else set()
        assert {"/lb", "/cms", "/retail", "/cms/databases/main"} <= drawn
        assert page.config["writes"] is False
        link = page.property("/lb/pools/cms", "providers ->")
        assert (link["resolved"], link["problem"]) == ("/cms/providers", None)


async def test_nodes_the_session_may_not_read_are_named_in_the_status(
    zookeeper_hosts: str,
) -> None:
    """A node the serving session may not read is left out of the page and named in the
    status the page shows."""
    async with Registry(zookeeper_hosts, auth=[("digest", "admin:secret")]) as admin:
        await admin.import_tree(TREE_TEXT)
        secret = [make_digest_acl("admin", "secret", Perm.ALL)]
        await admin.create("/cms/providers/hidden", b'{"port": 1}', acl=secret)
        try:
            async with (
                serving(zookeeper_hosts, "/", listen="127.0.0.1:0") as served,
                events(served.url) as stream,
            ):
                page = await stream.until(lambda p: p.status.get("status") == "live")
                assert page.status["unreadable"] == ["/cms/providers/hidden"]
                assert "/cms/providers/hidden" not in page.nodes
        finally:
            await admin.delete("/cms/providers/hidden")  # the harness's clean-up may not read it


async def test_a_registration_elsewhere_reaches_the_page_within_a_second(
    zookeeper_hosts: str,
) -> None:
    """Another session registering a provider: a delta with the node and the new count, < 1 s."""
    async with Registry(zookeeper_hosts) as zk:
        await zk.import_tree(TREE_TEXT)
    async with (
        serving(zookeeper_hosts, "/", listen="127.0.0.1:0") as served,
        events(served.url) as stream,
        Registry(zookeeper_hosts) as other,
    ):
        await stream.until(lambda p: p.graph is not None)
        began = time.monotonic()
        registration = await other.register("/cms/providers", "127.0.0.1:8081")
        page = await stream.until(
            lambda p: (
                "1 provider" in p.vertex("/cms")["lines"]
                and "/cms/providers/127.0.0.1:8081" in p.nodes
            )
        )
        assert time.monotonic() - began < 1.0
        node = page.nodes["/cms/providers/127.0.0.1:8081"]
        assert node["ephemeral"] and dict(node["provider"]["fields"])["address"] == (
            "127.0.0.1:8081"
        )
        await registration.unregister()
        await stream.until(lambda p: "/cms/providers/127.0.0.1:8081" not in p.nodes)


async def test_a_changed_property_follows_through_property_links(zookeeper_hosts: str) -> None:
    """Changing a linked property updates the holder's followed value on the page."""
    async with Registry(zookeeper_hosts) as zk:
        await zk.import_tree("/a\n  threads => /b threads\n/b\n  threads = 3\n")
        async with (
            serving(zookeeper_hosts, "/", listen="127.0.0.1:0") as served,
            events(served.url) as stream,
        ):
            await stream.until(lambda p: p.property("/a", "threads =>")["resolved"] == "3")
            await zk.set("/b", b'{"threads": 4}')
            await stream.until(lambda p: p.property("/a", "threads =>")["resolved"] == "4")


async def test_a_deleted_path_is_waited_for_and_shown_again(zookeeper_hosts: str) -> None:
    """PATH deleted: the page is told it is missing and emptied; made again: live again."""
    async with Registry(zookeeper_hosts) as zk:
        await zk.create("/app/x", makepath=True)
        async with (
            serving(zookeeper_hosts, "/app", listen="127.0.0.1:0") as served,
            events(served.url) as stream,
        ):
            await stream.until(lambda p: "/app/x" in p.nodes)
            await zk.delete_recursive("/app")
            page = await stream.until(lambda p: p.status.get("status") == "missing")
            await stream.until(lambda p: not p.nodes)
            assert "/app" in page.status["message"]
            await zk.create("/app/y", makepath=True)
            await stream.until(lambda p: p.status["status"] == "live" and "/app/y" in p.nodes)


async def test_writes_are_refused_unless_allowed(zookeeper_hosts: str) -> None:
    """Without --allow-writes a write is 403 and says how to allow it."""
    async with Registry(zookeeper_hosts) as zk:
        await zk.create("/a")
    async with (
        serving(zookeeper_hosts, "/", listen="127.0.0.1:0") as served,
        aiohttp.ClientSession() as client,
        client.post(served.url + "api/set", json={"path": "/a", "set": ["x=1"]}) as response,
    ):
        assert response.status == 403
        assert "--allow-writes" in (await response.json())["error"]


async def test_a_write_checks_as_the_command_line_does(zookeeper_hosts: str) -> None:
    """--allow-writes: a good write lands; bad literals, wrong tokens, foreign origins do not."""
    async with Registry(zookeeper_hosts) as zk:
        await zk.create("/a", b'{"keep": 1}')
        async with (
            serving(zookeeper_hosts, "/", listen="127.0.0.1:0", allow_writes=True) as served,
            aiohttp.ClientSession() as client,
            events(served.url) as stream,
        ):
            token = stream.page.config["token"]
            url, headers = served.url + "api/set", {"X-Aiozkreg-Token": token}

            async def post(body: object, **extra: str) -> tuple[int, dict[str, object]]:
                async with client.post(url, json=body, headers={**headers, **extra}) as response:
                    return response.status, await response.json()

            assert await post({"path": "/a", "set": ["threads=4", "comment='ok'"]}) == (
                200,
                {"path": "/a", "keys": ["comment", "keep", "threads"]},
            )
            assert await zk.get_properties("/a") == {"keep": 1, "threads": 4, "comment": "ok"}
            status, body = await post({"path": "/a", "set": ["comment=ok"]})
            assert status == 400
            assert "to set a string, quote it" in str(body["error"])
            status, body = await post({"path": "/a", "set": ["x =>='/nowhere x'"]})
            assert (status, str(body["error"]).startswith("bad property link")) == (400, True)
            status, body = await post({"path": "/nope", "set": ["x=1"]})
            assert (status, body["error"]) == (404, "/nope: no such node")
            status, _ = await post({"path": "/a", "delete": ["keep"]}, **{"X-Aiozkreg-Token": "x"})
            assert status == 403
            status, body = await post({"path": "/a", "delete": ["keep"]}, Origin="http://evil.test")
            assert status == 403 and "evil.test" in str(body["error"])
            assert await post({"path": "/a", "delete": ["keep"]}) == (
                200,
                {"path": "/a", "keys": ["comment", "threads"]},
            )


async def test_foreign_host_names_are_refused_on_loopback(zookeeper_hosts: str) -> None:
    """A Host header that is not a loopback name gets 421 (no DNS rebinding); pages carry a CSP."""
    async with (
        serving(zookeeper_hosts, "/", listen="127.0.0.1:0") as served,
        aiohttp.ClientSession() as client,
    ):
        async with client.get(served.url, headers={"Host": "evil.test:8080"}) as response:
            assert response.status == 421
        async with client.get(served.url, headers={"Host": "localhost:1"}) as response:
            assert response.status == 200
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_page_needs_nothing_from_elsewhere(zookeeper_hosts: str) -> None:
    """Every file the page loads is served by aiozkreg itself, and none names another site."""
    async with (
        serving(zookeeper_hosts, "/", listen="127.0.0.1:0") as served,
        aiohttp.ClientSession() as client,
    ):
        async with client.get(served.url) as response:
            html = await response.text()
        wanted = set(re.findall(r'(?:src|href)="([^"]+)"', html))
        for path in STATIC.glob("*.js"):
            wanted |= {f"static/{m}" for m in re.findall(r'from "\./([^"]+)"', path.read_text())}
        assert {"static/app.js", "static/graph.js", "static/style.css"} <= wanted
        for name in sorted(wanted):
            async with client.get(served.url + name) as response:
                assert response.status == 200, name
    for path in STATIC.iterdir():
        urls = re.findall(r"https?://[^\s\"')]+", path.read_text())
        assert set(urls) <= {"http://www.w3.org/2000/svg"}, path.name


async def test_stopping_ends_every_stream_quickly(zookeeper_hosts: str) -> None:
    """Leaving serving() ends open event streams and returns within a few seconds."""
    async with serving(zookeeper_hosts, "/", listen="127.0.0.1:0") as served:
        client = aiohttp.ClientSession()
        response = await client.get(served.url + "events")
        assert served.feed.pages == 1
        began = time.monotonic()
    try:
        assert time.monotonic() - began < 5
        async with asyncio.timeout(5):
            assert await response.content.read() is not None  # the stream ends, no hang
    finally:
        response.close()
        await client.close()


async def test_a_busy_address_is_a_listen_error(zookeeper_hosts: str) -> None:
    """Serving on an address in use raises ListenError naming it."""
    async with serving(zookeeper_hosts, "/", listen="127.0.0.1:0") as served:
        port = served.url.rsplit(":", 1)[1].rstrip("/")
        with pytest.raises(ListenError, match=f"127.0.0.1:{port}"):
            async with serving(zookeeper_hosts, "/", listen=f"127.0.0.1:{port}"):
                pass


async def test_the_web_docs_example_serves(zookeeper_hosts: str) -> None:
    """docs/web.md's Python example serves the page as written (until cancelled)."""
    text = WEB_DOC.read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S)
    assert block is not None
    source = block.group(1).replace("asyncio.run(main())", "")
    source = source.replace('"127.0.0.1:2181"', repr(zookeeper_hosts))
    source = source.replace('"127.0.0.1:8080"', '"127.0.0.1:0"')
    opened: asyncio.Queue[str] = asyncio.Queue()
    namespace: dict[str, object] = {"print": lambda _open, url: opened.put_nowait(url)}
    exec(compile(source, "docs/web.md", "exec"), namespace)
    task = asyncio.create_task(namespace["main"]())  # type: ignore[operator]
    try:
        async with asyncio.timeout(20):
            url = await opened.get()
        async with aiohttp.ClientSession() as client, client.get(url) as response:
            assert response.status == 200
    finally:
        task.cancel()
        await asyncio.wait({task})


async def test_a_path_through_links_is_followed_and_waited_for(
    zookeeper_hosts: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PATH through a symlink shows the real node; one that does not resolve yet is waited for."""
    monkeypatch.setattr(_feed, "RECHECK", 0.2)
    async with Registry(zookeeper_hosts) as zk:
        await zk.import_tree("/lb\n  /pools\n    /cms\n      providers -> /cms/providers\n")
        path = "/lb/pools/cms/providers"
        async with (
            serving(zookeeper_hosts, path, listen="127.0.0.1:0") as served,
            events(served.url) as stream,
        ):
            await stream.until(lambda p: p.status["status"] == "missing")
            await zk.create("/cms/providers/10.0.0.1:80", makepath=True)
            page = await stream.until(lambda p: p.status["status"] == "live" and p.nodes)
            assert page.status["real_path"] == "/cms/providers"
            assert set(page.nodes) == {"/cms/providers", "/cms/providers/10.0.0.1:80"}


def test_who_may_write() -> None:
    """Writes need --allow-writes, a loopback client (unless listening beyond), the token."""
    local = WritePolicy(allowed=True, token="t")
    local.check("127.0.0.1", "t", None, "127.0.0.1:8080")
    local.check("::1", "t", "http://127.0.0.1:8080", "127.0.0.1:8080")
    local.check("::ffff:127.0.0.1", "t", None, "localhost:8080")
    refusals = [
        (WritePolicy(token="t"), "127.0.0.1", "t", None, "--allow-writes"),
        (local, "10.1.2.3", "t", None, "loopback"),
        (local, "127.0.0.1", "wrong", None, "token"),
        (local, "127.0.0.1", None, None, "token"),
        (local, "127.0.0.1", "t", "http://evil.test", "evil.test"),
    ]
    for policy, peer, token, origin, why in refusals:
        with pytest.raises(WriteError, match=why) as refused:
            policy.check(peer, token, origin, "127.0.0.1:8080")
        assert refused.value.status == 403
    WritePolicy(allowed=True, remote=True, token="t").check("10.1.2.3", "t", None, "zk:8080")
    assert [is_loopback(h) for h in ("localhost", "127.0.0.2", "[::1]", "0.0.0.0", "zk", None)] == [
        True, True, True, False, False, False]  # fmt: skip


async def test_losing_zookeeper_while_path_is_missing_is_waited_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ZooKeeper stops and starts while PATH is missing: the feed keeps going, shows it later."""
    monkeypatch.setattr(_feed, "RECHECK", 0.1)  # it looks for PATH during the outage too
    with ZooKeeperServer() as server:
        async with (
            serving(server.address, "/app", listen="127.0.0.1:0") as served,
            events(served.url) as stream,
        ):
            await stream.until(lambda p: p.status.get("status") == "missing")
            await server.astop()
            await stream.until(lambda p: not p.session["live"], timeout=20)
            await server.astart()
            await stream.until(lambda p: p.session["live"], timeout=30)
            async with Registry(server.address) as zk:
                await zk.create("/app")
            await stream.until(lambda p: p.status["status"] == "live" and "/app" in p.nodes)
