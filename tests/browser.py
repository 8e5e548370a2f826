"""A real headless Chromium for the page tests: Debian's, driven by Playwright (never its own).

Playwright's Python package talks to the system Chromium (``chromium`` on
PATH, or ``AIOZKREG_CHROMIUM``); ``playwright install`` is never needed.
Each test gets a fresh profile directory. Without Playwright or Chromium
the tests skip, saying which is missing and how ``make setup`` installs it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
SCREENSHOTS = DOCS / "web"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 860}


def chromium() -> str:
    """The Chromium binary to drive, or skip the test saying why there is none."""
    path = os.environ.get("AIOZKREG_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.skip(
            "no Chromium for the browser tests: install Debian's chromium (make setup does, as "
            "root) or set AIOZKREG_CHROMIUM to a Chromium binary"
        )
    return path


def playwright() -> Any:
    """Playwright's async API, or skip saying how to get it."""
    return pytest.importorskip(
        "playwright.async_api",
        reason="Playwright is not installed: pip install -e '.[test]' (make setup does)",
    )


class Browser:
    """One Chromium with a fresh profile; pages opened on it report their script errors."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.errors: list[str] = []

    async def open(self, url: str) -> Any:
        page = await self.context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on(
            "console",
            lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None,
        )
        await page.goto(url)
        return page


@asynccontextmanager
async def launch(profile: Path) -> AsyncIterator[Browser]:
    """A running browser for one test, closed on the way out."""
    executable = chromium()
    api = playwright()
    async with api.async_playwright() as driver:
        context = await driver.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            headless=True,
            args=FLAGS,
            viewport=VIEWPORT,
        )
        try:
            yield Browser(context)
        finally:
            await context.close()


NORMALISE = """
() => {
  document.getElementById('where').textContent = 'zk1.example.com:2181  /';
  for (const cell of document.querySelectorAll('table.stat td')) {
    const example = '2025-01-01 12:00:00 UTC';
    if (/^\\d{4}-\\d\\d-\\d\\d /.test(cell.textContent)) cell.textContent = example;
  }
}
"""


async def screenshot(page: Any, name: str, part: str | None = None) -> None:
    """Save the page (or the element ``part`` selects) as docs/web/NAME.png for docs/web.md
    (in a source checkout).

    What changes from run to run (the server's address, times) is shown as
    fixed example values first, so an unchanged page gives the same file.
    """
    if not DOCS.is_dir():
        return
    await page.evaluate(NORMALISE)
    SCREENSHOTS.mkdir(exist_ok=True)
    shot = page.locator(part) if part is not None else page
    png = await shot.screenshot(animations="disabled")
    target = SCREENSHOTS / f"{name}.png"
    if not target.exists() or target.read_bytes() != png:
        target.write_bytes(png)
