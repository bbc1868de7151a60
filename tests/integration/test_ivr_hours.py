"""Opening hours rendered to dialplan, run by a real Asterisk (a second PBX instance)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.ami.client import AMIClient
from hotline.host.settings import Settings
from hotline.pbx import install
from hotline.pbx import runner as pbx
from tests.integration.test_ivr_calls import Watcher, dial

pytestmark = pytest.mark.asyncio
SHANGHAI = ZoneInfo("Asia/Shanghai")


def office_flow(tmp_path: Path, hours: str) -> Path:
    shipped = Settings.from_env({}).flow.read_text(encoding="utf-8")
    path = tmp_path / "office.yaml"
    path.write_text(shipped.replace("hours: always", f"hours: {hours}"), encoding="utf-8")
    return path


async def first_step(settings: Settings, flow: Path) -> str:
    """Install ``flow``, call 12345 once, return the first IVR path Asterisk reported."""
    await asyncio.to_thread(install.install, settings, flow)
    await asyncio.to_thread(pbx.start, settings)
    client = AMIClient(pbx.endpoint(settings))
    await client.connect()
    try:
        watcher = Watcher(client)
        uid = await dial(client, "w", NO_INPUT_WAIT="1", TALK="30")
        await watcher.until(lambda: watcher.callers[uid].steps[1:], timeout=30)
        watcher.close()
        return watcher.callers[uid].steps[1]
    finally:
        await client.close()


async def test_a_holiday_closes_the_line(other_env: dict[str, str], tmp_path: Path) -> None:
    today = dt.datetime.now(SHANGHAI).date().isoformat()
    flow = office_flow(
        tmp_path,
        "{weekly: {mon-sun: '00:00-23:59'}, holidays: [" + today + "], closed: no-input}",
    )
    assert await first_step(Settings.from_env(other_env), flow) == "closed"


async def test_open_hours_reach_the_menu(other_env: dict[str, str], tmp_path: Path) -> None:
    now = dt.datetime.now(SHANGHAI)
    if now.time() >= dt.time(23, 58):  # the span below must contain now for the whole test
        await asyncio.sleep(150)
        now = dt.datetime.now(SHANGHAI)
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[now.weekday()]
    flow = office_flow(tmp_path, "{weekly: {" + day + ": '00:00-23:59'}, closed: no-input}")
    # no input at the language menu: its no_input option goes on to the main menu
    assert await first_step(Settings.from_env(other_env), flow) == "language:no-input"
