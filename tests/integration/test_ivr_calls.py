"""The shipped 12345 flow on the real Asterisk: simulated citizens press digits.

Every route is generated from the flow (hotline.ivr.model.routes), not listed by hand.
Callers are Local channels: the ;2 half runs the IVR, the ;1 half (hotline-test-dialer)
presses the digits with SendDTMF.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import wave
from collections import defaultdict
from dataclasses import dataclass, field

import pytest

from hotline.ami.client import AMIClient, Subscription
from hotline.ami.message import Message
from hotline.host.settings import Settings
from hotline.ivr.model import Flow, Route, routes
from hotline.pbx import install
from tests.integration import bed

pytestmark = pytest.mark.asyncio
_ids = itertools.count(1)


@dataclass
class Caller:
    """What AMI told about one simulated citizen's IVR side."""

    uniqueid: str
    steps: list[str] = field(default_factory=list)
    path: str = ""
    joined: str | None = None
    tag: str | None = None
    callback: Message | None = None
    survey: str | None = None


class Watcher:
    """Follows UserEvents and queue joins per IVR-side uniqueid."""

    def __init__(self, client: AMIClient) -> None:
        self.sub: Subscription = client.subscribe("UserEvent", "QueueCallerJoin")
        self.callers: dict[str, Caller] = defaultdict(lambda: Caller(""))
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for event in self.sub:
            uid = event.get("Uniqueid") or ""
            caller = self.callers[uid]
            caller.uniqueid = uid
            kind = event.get("UserEvent")
            if event.name == "QueueCallerJoin":
                caller.joined = event.get("Queue")
            elif kind == "HotlineIvr":
                caller.path = event.get("Path") or ""
                caller.steps.append(caller.path)
            elif kind == "HotlineQueue":
                caller.tag = event.get("Tag")
            elif kind == "HotlineCallback":
                caller.callback = event
            elif kind == "HotlineSurvey":
                caller.survey = event.get("Score")

    async def until(self, done: object, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done():  # type: ignore[operator]
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(0.1)

    def close(self) -> None:
        self.sub.close()
        self.task.cancel()


async def dial(
    client: AMIClient, digits: str, *, caller: str = "13800138000", **variables: str
) -> str:
    """A citizen calls 12345 and presses ``digits``; return the IVR side's uniqueid."""
    n = next(_ids)
    ivr_side = f"ivr-{n}-{time.time_ns() % 10**9}-i"
    headers: list[tuple[str, str]] = [
        ("Channel", "Local/12345@hotline-ivr"),
        ("Context", "hotline-test-dialer"),
        ("Exten", "s"),
        ("Priority", "1"),
        ("CallerID", f'"市民{n}" <{caller}>'),
        # not "<id>" and "<id>-x": Asterisk matches uniqueids by prefix and refuses the call
        ("ChannelId", f"{ivr_side[:-1]}c"),
        ("OtherChannelId", ivr_side),
        ("Variable", f"DIGITS={digits}"),
    ]
    headers += [("Variable", f"{k}={v}") for k, v in variables.items()]
    await client.originate(headers)
    return ivr_side


def expected_path(route: Route) -> str:
    return ">".join(
        f"{menu}:{digit or 'no-input'}"
        for menu, digit in zip(route.menus, route.digits, strict=False)
    )


def prompt_seconds(settings: Settings, language: str, name: str) -> float:
    with wave.open(str(settings.pbx_dir / "prompts" / language / f"{name}.wav")) as w:
        return w.getnframes() / w.getframerate()


def no_input_wait(settings: Settings, flow: Flow, menu: str, language: str) -> float:
    m = flow.menus[menu]
    return prompt_seconds(settings, language, m.prompt) + m.timeout + 1.5


@pytest.fixture
def flow(pbx_running: Settings) -> Flow:
    return install.read_flow(pbx_running.flow)[0]


async def test_every_route_of_the_flow_reaches_its_queue(
    ami: AMIClient, pbx_running: Settings, flow: Flow
) -> None:
    await bed.add_members(ami, list(flow.queues), paused=True)
    watcher = Watcher(ami)
    all_routes = list(routes(flow))
    placed: dict[str, Route] = {}
    for route in all_routes:
        waits = {}
        for menu, digit in zip(route.menus, route.digits, strict=True):
            if digit == "":
                wait = no_input_wait(pbx_running, flow, menu, route.language)
                waits["NO_INPUT_WAIT"] = f"{wait:.1f}"
        digits = "-".join(d or "w" for d in route.digits)
        placed[await dial(ami, digits, TALK="90", **waits)] = route
    await watcher.until(lambda: all(watcher.callers[u].joined for u in placed), timeout=60)
    watcher.close()
    wrong = []
    for uid, route in placed.items():
        got = watcher.callers[uid]
        want = (route.queue, route.tag, expected_path(route))
        if (got.joined, got.tag, got.path) != want:
            wrong.append(f"{route.digits}: wanted {want}, got {(got.joined, got.tag, got.path)}")
    assert wrong == [], "\n".join(wrong)
    assert len(placed) == len(all_routes) == 40


async def test_invalid_input_replays_then_reaches_a_human(
    ami: AMIClient, pbx_running: Settings, flow: Flow
) -> None:
    await bed.add_members(ami, list(flow.queues), paused=True)
    watcher = Watcher(ami)
    # after "invalid" the menu replays: wait for the message, then press again
    gap = prompt_seconds(pbx_running, "zh", "invalid") + 1.5
    uid = await dial(ami, "1-7-7-7", STEP_WAIT=f"{gap:.1f}", TALK="60")
    await watcher.until(lambda: watcher.callers[uid].joined, timeout=60)
    watcher.close()
    got = watcher.callers[uid]
    assert got.joined == flow.operator_queue
    assert got.tag == "fallback"
    assert got.path == "language:1>main:invalid>main:invalid>main:invalid"


async def test_no_input_replays_then_reaches_a_human(
    ami: AMIClient, pbx_running: Settings, flow: Flow
) -> None:
    await bed.add_members(ami, list(flow.queues), paused=True)
    watcher = Watcher(ami)
    uid = await dial(ami, "2", TALK="120")  # English, then silence at the main menu
    per_try = no_input_wait(pbx_running, flow, "main", "en") + 2.6  # + the no-input message
    await watcher.until(lambda: watcher.callers[uid].joined, timeout=4 * per_try)
    watcher.close()
    got = watcher.callers[uid]
    assert got.path == "language:2>main:no-input>main:no-input>main:no-input"
    assert (got.joined, got.tag) == (flow.operator_queue, "fallback")


async def test_a_caller_rates_the_agent_after_the_call(
    ami: AMIClient, pbx_running: Settings, flow: Flow
) -> None:
    await bed.add_members(ami, ["labour"], paused=False)
    watcher = Watcher(ami)
    # help > unpaid wages; the agent talks 2 s and hangs up; during the survey prompt: 4
    uid = await dial(ami, "1-3-1-w-4", NO_INPUT_WAIT="4", AGENT_TALK="2", TALK="30")
    await watcher.until(lambda: watcher.callers[uid].survey is not None, timeout=40)
    watcher.close()
    got = watcher.callers[uid]
    assert got.joined == "labour"
    assert got.survey == "4"
    queue_log = (pbx_running.pbx_dir / "log" / "queue_log").read_text()
    assert f"|{uid}|labour|NONE|SURVEY|4" in queue_log
    assert f"|{uid}|labour|agent8001|CONNECT|" in queue_log


async def test_a_long_queue_offers_a_callback_and_keeps_the_request(
    ami: AMIClient, pbx_running: Settings, flow: Flow
) -> None:
    assert flow.callback is not None
    await bed.add_members(ami, list(flow.queues), paused=True)
    watcher = Watcher(ami)
    crowd = [await dial(ami, "1-4", TALK="120") for _ in range(flow.callback.offer_when_waiting)]
    await watcher.until(lambda: all(watcher.callers[u].joined for u in crowd), timeout=30)
    # the next caller hears the offer (Read waits up to 5 s) and presses 1
    uid = await dial(ami, "1-4-1", caller="13912345678", STEP_WAIT="1.5", TALK="30")
    await watcher.until(lambda: watcher.callers[uid].callback is not None, timeout=30)
    watcher.close()
    got = watcher.callers[uid]
    assert got.callback is not None, f"no callback registered; path {got.path}"
    assert got.joined is None  # never queued
    assert got.callback.get("Number") == "13912345678"
    assert got.callback.get("Queue") == flow.operator_queue
    assert got.callback.get("Path") == "language:1>main:4"
    queue_log = (pbx_running.pbx_dir / "log" / "queue_log").read_text()
    assert f"|{uid}|{flow.operator_queue}|NONE|CALLBACK|13912345678" in queue_log


async def test_no_agent_logged_in_means_a_callback_not_a_hang_up(
    ami: AMIClient, flow: Flow
) -> None:
    watcher = Watcher(ami)  # no members at all: every queue refuses (JOINEMPTY)
    uid = await dial(ami, "1-1-2", TALK="30")  # inquiry > labour > overflow intake > callback
    await watcher.until(lambda: watcher.callers[uid].callback is not None, timeout=30)
    watcher.close()
    got = watcher.callers[uid]
    assert got.callback is not None
    assert got.callback.get("Queue") == flow.operator_queue
    assert got.joined is None


async def test_apply_while_a_caller_is_in_the_menu(
    ami: AMIClient, pbx_running: Settings, flow: Flow
) -> None:
    await bed.add_members(ami, list(flow.queues), paused=True)
    watcher = Watcher(ami)
    # the caller chooses zh, then waits 4 s in the main menu before pressing 2-3
    uid = await dial(ami, "1-w-2-3", NO_INPUT_WAIT="4", STEP_WAIT="1.2", TALK="60")
    await watcher.until(lambda: watcher.callers[uid].path == "language:1", timeout=10)
    before = await bed.channels(ami)
    applied = await asyncio.to_thread(install.apply, pbx_running, pbx_running.flow)
    assert applied.flow.name == flow.name
    assert len(await bed.channels(ami)) == len(before)  # nobody dropped
    await watcher.until(lambda: watcher.callers[uid].joined, timeout=30)
    watcher.close()
    got = watcher.callers[uid]
    assert (got.joined, got.path) == ("environment", "language:1>main:2>complaint:3")


async def test_the_announcement_switch_needs_no_reload(ami: AMIClient, flow: Flow) -> None:
    await bed.add_members(ami, list(flow.queues), paused=True)
    notices = ami.subscribe("UserEvent")
    await ami.action("Setvar", {"Variable": "HOTLINE_NOTICE", "Value": "water-cut"})
    try:
        await dial(ami, "1-4", FIRST_WAIT="9", TALK="20")
        seen = []
        while "water-cut" not in seen:
            event = await notices.get(timeout=10)
            if event.get("UserEvent") == "HotlineNotice":
                seen.append(event.get("Notice"))
        # switched off again, and a name that is not an announcement is ignored
        await ami.action("Setvar", {"Variable": "HOTLINE_NOTICE", "Value": "rm -rf"})
        uid = await dial(ami, "1-4", TALK="20")
        watcher = Watcher(ami)
        await watcher.until(lambda: watcher.callers[uid].joined, timeout=20)
        watcher.close()
        assert watcher.callers[uid].joined == flow.operator_queue
    finally:
        await ami.action("Setvar", {"Variable": "HOTLINE_NOTICE", "Value": ""})
        notices.close()
