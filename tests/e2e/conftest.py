"""The end-to-end bed: the real Asterisk, Redis and controller of the integration tests,
the web app served by uvicorn on a free port, and Debian's chromium through Playwright.

Never `playwright install`: the browser is /usr/bin/chromium (scripts/setup installs it).
Screenshots go to artifacts/e2e/ (gitignored), to be looked at.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
import redis.asyncio as aredis
import uvicorn
from playwright.async_api import Browser, Page, async_playwright
from starlette.applications import Starlette

from hotline.ami.client import AMIClient
from hotline.host.settings import Settings
from hotline.web.context import Services
from tests.conftest import free_port
from tests.integration.conftest import ami, pbx_running, redis_url  # noqa: F401 (fixtures)
from tests.integration.test_controller import Running
from tests.integration.webapp import PASSWORD, close_web, make_web

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@dataclass
class Site:
    url: str
    services: Services
    running: Running
    browser: Browser

    async def signed_in(self, username: str, width: int = 1920, height: int = 1080) -> Page:
        """A new browser context (its own cookies) signed in as USERNAME."""
        context = await self.browser.new_context(
            viewport={"width": width, "height": height}, locale="zh-CN"
        )
        page = await context.new_page()
        await page.goto(self.url + "/login")
        await page.fill('input[name="username"]', username)
        await page.fill('input[name="password"]', PASSWORD)
        async with page.expect_navigation():
            await page.click('button[type="submit"]')
        return page


@contextlib.asynccontextmanager
async def served(app: Starlette) -> AsyncIterator[tuple[str, Browser]]:
    """APP served by uvicorn on a free loopback port, and Debian's chromium: (the app's
    URL, the browser); both stopped on the way out."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            timeout_graceful_shutdown=1)  # fmt: skip
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "uvicorn did not start"
        await asyncio.sleep(0.05)
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path="/usr/bin/chromium",
                                              args=CHROMIUM_ARGS)  # fmt: skip
            try:
                yield f"http://127.0.0.1:{port}", browser
            finally:
                await browser.close()
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)


@pytest_asyncio.fixture
async def site(
    ami: AMIClient,  # noqa: F811
    pbx_running: Settings,  # noqa: F811
    redis_url: str,  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[Site]:
    """Controller + web + browser on the real PBX, one history file shared by both."""
    redis = aredis.Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    db = tmp_path / "history.sqlite3"
    log = pbx_running.pbx_dir / "log" / "queue_log"
    running = Running(pbx_running, db)
    st = log.stat()
    position = {"offset": st.st_size, "identity": [st.st_dev, st.st_ino]}
    await running.redis.set("hotline:queuelog:position", json.dumps(position))
    await running.start()
    web = await make_web(pbx_running, db, redis_url)
    try:
        async with served(web.app) as (url, browser):
            yield Site(url, web.services, running, browser)
    finally:
        await close_web(web)
        await running.stop()
