"""aiozkreg serve's page in a real headless Chromium: the graph, live updates, text-only
values, a ZooKeeper restart, writes. The screenshots in docs/web.md are taken here."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from browser import Browser, launch, playwright, screenshot
from readme_trees import TREE_TEXT

from aiozkreg import Registry
from aiozkreg.testing import ZooKeeperServer
from aiozkreg.web import serving

README_NODES = [
    "/lb", "/lb/pools", "/lb/pools/cms", "/lb/pools/retail", "/cms", "/cms/databases",
    "/cms/databases/main", "/retail", "/retail/databases", "/retail/databases/ugc",
]  # fmt: skip
MARKUP = "<script>window.__pwned = 1</script><b>bold</b>"
NODE_MARKUP = "<img src=x onerror=window.__pwned=2>"


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    """A fresh headless Chromium (its own profile); the test fails on any script error."""
    async with launch(tmp_path / "chromium-profile") as running:
        yield running
    assert running.errors == []


def expect(locator: Any) -> Any:
    return playwright().expect(locator)


def vertex(page: Any, path: str) -> Any:
    return page.locator(f'#graph-svg g.vertex[data-path="{path}"]')


def row(page: Any, path: str) -> Any:
    return page.locator(f'#tree .row[data-path="{path}"]')


async def registered(hosts: str) -> list[Registry]:
    """The README's tree with a few providers, each with a session of its own (as make demo-web)."""
    async with Registry(hosts) as zk:
        await zk.import_tree(TREE_TEXT)
        pool = await zk.properties("/lb/pools/cms", watch=False)
        await pool.update({"threads =>": "/cms threads"})  # a property link to show
    sessions = []
    for path, address in [
        ("/cms/providers", "127.0.0.1:8081"),
        ("/cms/providers", "127.0.0.1:8082"),
        ("/cms/databases/main/providers", "127.0.0.1:5432"),
    ]:
        zk = Registry(hosts)
        await zk.start()
        await zk.register(path, address)
        sessions.append(zk)
    return sessions


async def test_the_graph_shows_the_readme_tree(zookeeper_hosts: str, browser: Browser) -> None:
    """Every node of the README's tree is a box in the graph and a row in the tree browser."""
    sessions = await registered(zookeeper_hosts)
    try:
        async with serving(zookeeper_hosts, "/", listen="127.0.0.1:0") as served:
            page = await browser.open(served.url + "#/cms")
            for path in README_NODES:
                await expect(vertex(page, path)).to_be_visible()
                await expect(row(page, path)).to_be_visible()
            await expect(vertex(page, "/cms").locator("tspan.count")).to_have_text("2 providers")
            await expect(vertex(page, "/cms")).to_have_class("vertex service selected")
            await expect(vertex(page, "/lb")).to_have_class("vertex node")
            links = page.locator('#graph-svg g.edge.link[data-source="/lb/pools/cms"]')
            await expect(links).to_have_attribute("data-target", "/cms")
            await expect(page.locator("#details h2")).to_have_text("/cms")
            await expect(page.locator("#details table.providers tbody tr")).to_have_count(2)
            await expect(page.locator("#session")).to_have_attribute("data-state", "connected")
            await screenshot(page, "overview")
            await vertex(page, "/lb/pools/cms").click()
            await expect(page.locator("#details h2")).to_have_text("/lb/pools/cms")
            followed = page.locator('#details tr[data-key="threads =>"] td.followed')
            await expect(followed).to_have_text("3")
            await screenshot(page, "links")
    finally:
        for zk in sessions:
            await zk.close()


async def test_a_registration_appears_without_a_reload(
    zookeeper_hosts: str, browser: Browser
) -> None:
    """Another session's provider shows in the graph and the tree within a second, and goes."""
    async with Registry(zookeeper_hosts) as zk:
        await zk.import_tree(TREE_TEXT)
    async with (
        serving(zookeeper_hosts, "/", listen="127.0.0.1:0") as served,
        Registry(zookeeper_hosts) as other,
    ):
        page = await browser.open(served.url)
        await expect(vertex(page, "/cms")).to_be_visible()
        await page.evaluate("window.__same_page = true")
        began = time.monotonic()
        registration = await other.register("/cms/providers", "127.0.0.1:8081")
        await expect(vertex(page, "/cms").locator("tspan.count")).to_have_text("1 provider")
        assert time.monotonic() - began < 1.0
        await expect(row(page, "/cms/providers/127.0.0.1:8081")).to_be_visible()
        await expect(row(page, "/cms/providers/127.0.0.1:8081").locator(".tag")).to_have_text(
            "ephemeral"
        )
        await registration.unregister()
        await expect(row(page, "/cms/providers/127.0.0.1:8081")).to_have_count(0)
        await expect(vertex(page, "/cms").locator("tspan.count")).to_have_count(0)
        assert await page.evaluate("window.__same_page") is True  # never reloaded


async def test_markup_from_zookeeper_is_shown_as_text(
    zookeeper_hosts: str, browser: Browser
) -> None:
    """A property value and a node name holding markup show as text; no script runs."""
    async with Registry(zookeeper_hosts) as zk:
        await zk.create("/app", f'{{"note": "{MARKUP}", "type": "<b>t</b>"}}'.encode())
        await zk.create(f"/app/{NODE_MARKUP}")
        async with serving(zookeeper_hosts, "/", listen="127.0.0.1:0") as served:
            page = await browser.open(served.url + "#/app")
            note = page.locator('#details tr[data-key="note"] td.value')
            await expect(note).to_have_text(repr(MARKUP))
            await expect(row(page, f"/app/{NODE_MARKUP}").locator(".name")).to_have_text(
                NODE_MARKUP
            )
            await expect(vertex(page, "/app").locator("tspan.type")).to_have_text("<b>t</b>")
            assert await page.locator("#details b, #details script, img").count() == 0
            assert await page.evaluate("window.__pwned") is None
            await screenshot(page, "markup")


async def test_the_page_survives_a_zookeeper_restart(browser: Browser) -> None:
    """ZooKeeper stopped: the page says the session is lost; started again: it is live again."""
    with ZooKeeperServer() as server:
        async with Registry(server.address) as zk:
            await zk.import_tree(TREE_TEXT)
        async with serving(server.address, "/", listen="127.0.0.1:0") as served:
            page = await browser.open(served.url + "#/cms")
            session = page.locator("#session")
            await expect(session).to_have_attribute("data-state", "connected")
            await server.astop()
            await expect(session).to_have_attribute("data-state", "suspended", timeout=20_000)
            await expect(page.locator("#banner")).to_contain_text("last state seen")
            await screenshot(page, "session-lost")
            await server.astart()
            await expect(session).to_have_attribute("data-state", "connected", timeout=30_000)
            await expect(page.locator("#banner")).to_be_hidden()
            async with Registry(server.address) as other:
                await other.register("/cms/providers", "127.0.0.1:8081")
                await expect(vertex(page, "/cms").locator("tspan.count")).to_have_text("1 provider")


async def test_a_property_is_set_from_the_page(zookeeper_hosts: str, browser: Browser) -> None:
    """--allow-writes: the page sets a property; a bad literal is refused in the CLI's words."""
    async with Registry(zookeeper_hosts) as zk:
        await zk.import_tree(TREE_TEXT)
        async with serving(zookeeper_hosts, "/", listen="127.0.0.1:0", allow_writes=True) as served:
            page = await browser.open(served.url + "#/cms")
            value = page.locator('#details tr[data-key="threads"] td.value')
            await expect(value).to_have_text("3")
            await page.locator("#assignment").fill("threads=4")
            await page.locator("#assignment").press("Enter")
            await expect(value).to_have_text("4")
            assert (await zk.get_properties("/cms"))["threads"] == 4
            await page.locator("#assignment").fill("comment=ok")
            await page.locator("#assignment").press("Enter")
            await expect(page.locator("#write-result")).to_contain_text("to set a string, quote it")
            browser.errors.remove(  # the refusal, as the browser logs it
                "console: Failed to load resource: the server responded with a status of 400 "
                "(Bad Request)"
            )
            await page.locator("#write-result").scroll_into_view_if_needed()
            await screenshot(page, "write", "#details-pane")


async def test_a_read_only_page_offers_no_writes(zookeeper_hosts: str, browser: Browser) -> None:
    """Without --allow-writes there is no form and no delete button."""
    async with Registry(zookeeper_hosts) as zk:
        await zk.import_tree(TREE_TEXT)
    async with serving(zookeeper_hosts, "/", listen="127.0.0.1:0") as served:
        page = await browser.open(served.url + "#/cms")
        await expect(page.locator('#details tr[data-key="threads"]')).to_be_visible()
        await expect(page.locator("#write")).to_be_hidden()
        assert await page.locator("#details button.delete").count() == 0
