"""The shipped 12345 flow with real SIP callers: SIPp over PJSIP, RFC 4733 and SIP INFO.

test_ivr_calls.py proves every route with Local channels; this proves the SIP path: the
endpoint identified by its From user, SDP with PCMU and telephone-event, RTP audio, and
the digits arriving as RFC 4733 events (``sipp``) or as SIP INFO (``sippinfo``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline.ami.client import AMIClient
from hotline.ami.message import Message
from hotline.host.settings import Settings
from hotline.ivr.model import Flow, routes
from hotline.pbx import install
from tests.integration import bed, sip
from tests.integration.test_ivr_calls import Watcher, expected_path

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def sip_callers(pbx_running: Settings) -> Iterator[tuple[sip.Caller, ...]]:
    """The SIPp endpoints, in the session PBX for this module only."""
    with sip.installed_endpoints(pbx_running) as callers:
        yield callers


@pytest.fixture
def flow(pbx_running: Settings) -> Flow:
    return install.read_flow(pbx_running.flow)[0]


@dataclass
class Call:
    run: sip.SippRun
    seen: sip.ChannelEvents
    watcher: Watcher
    rtcp: dict[str, str]
    """CHANNEL(rtcp,all,audio) of the caller's channel, a while after it joined a queue."""

    def why(self) -> str:
        """Everything worth reading when an assertion about the call fails."""
        events = self.seen.summary() or "(none)"
        return f"{self.run.report()}\n--- AMI events of {self.seen.prefix}* ---\n{events}"


async def call(
    ami: AMIClient, settings: Settings, caller: sip.Caller, digits: str, workdir: Path,
    timing: sip.Timing | None = None,
) -> Call:  # fmt: skip
    """Place one SIPp call and follow its PJSIP channel over AMI until it is gone."""
    watcher = Watcher(ami)
    seen = sip.ChannelEvents(ami, f"PJSIP/{caller.user}-")
    scenario = sip.write_scenario(caller, digits, workdir, timing or sip.Timing())
    sipp = asyncio.create_task(sip.run_sipp(scenario, settings))
    rtcp: dict[str, str] = {}
    try:
        await seen.until(lambda: seen.named("QueueCallerJoin") or sipp.done(), timeout=60)
        joins = seen.named("QueueCallerJoin")
        if joins and not sipp.done():
            # the caller waits in the queue and talks: the audio after the last digit
            await asyncio.sleep(1.5)
            channel = joins[0].get("Channel") or ""
            variable = "CHANNEL(rtcp,all,audio)"
            reply = await ami.action("Getvar", {"Channel": channel, "Variable": variable})
            assert isinstance(reply, Message)
            rtcp = sip.rtcp_stats(reply.get("Value") or "")
        run = await sipp
        await seen.until(lambda: seen.named("Hangup"), timeout=5)
    finally:
        sipp.cancel()
        watcher.close()
        seen.close()
    return Call(run, seen, watcher, rtcp)


@pytest.mark.parametrize(
    ("caller", "digits", "queue", "language"),
    [
        pytest.param(sip.RFC4733, "122", "labour", "zh", id="rfc4733-complaint-labour"),
        pytest.param(sip.INFO, "213", "environment", "en", id="info-english-inquiry-environment"),
    ],
)
async def test_a_sip_caller_presses_through_the_menus_into_the_queue(
    ami: AMIClient,
    pbx_running: Settings,
    sip_callers: tuple[sip.Caller, ...],
    flow: Flow,
    tmp_path: Path,
    caller: sip.Caller,
    digits: str,
    queue: str,
    language: str,
) -> None:
    route = next(r for r in routes(flow) if "".join(r.digits) == digits)
    assert (route.queue, route.language) == (queue, language)  # the flow still says so
    await bed.add_members(ami, list(flow.queues), paused=True)  # callers wait, nobody answers

    c = await call(ami, pbx_running, caller, digits, tmp_path)

    why = c.why()
    assert c.run.returncode == 0, why
    # one DTMFEnd per key press, on the SIP channel, in order: none lost, none repeated
    assert c.seen.digits == digits, why
    assert len(c.seen.uniqueids) == 1, why
    got = c.watcher.callers[next(iter(c.seen.uniqueids))]
    assert (got.joined, got.tag, got.path) == (queue, route.tag, expected_path(route)), why
    joins = [(j.get("Queue"), j.get("Language")) for j in c.seen.named("QueueCallerJoin")]
    assert joins == [(queue, language)], why
    # Asterisk gets the caller's audio (the last pcap's stream, 1 s of it at least)
    audio = [sip.AUDIO_SSRC + k for k in range(len(digits) + 1)]
    assert int(c.rtcp.get("themssrc", "-1")) in audio, f"{c.rtcp}\n{why}"
    assert int(c.rtcp.get("rxcount", "0")) >= 50, f"{c.rtcp}\n{why}"
    # the digits went the way the endpoint's dtmf_mode says; the caller hung up
    infos = ["> INFO", "< 200"] * len(digits) if caller.dtmf is sip.DtmfMode.INFO else []
    final = [m for m in c.run.ladder() if not m.startswith("< 1")]  # 100 Trying is optional
    assert final == ["> INVITE", "< 200", "> ACK", *infos, "> BYE", "< 200"], why
    assert c.seen.named("Hangup"), why


async def test_a_sip_caller_hears_asterisk_hang_up(
    ami: AMIClient,
    pbx_running: Settings,
    sip_callers: tuple[sip.Caller, ...],
    flow: Flow,
    tmp_path: Path,
) -> None:
    # nobody logged in: inquiry > labour overflows to intake, which keeps a callback
    # request, confirms it and hangs up; the caller answers Asterisk's BYE
    assert flow.callback is not None
    timing = sip.Timing(hold=15000)
    c = await call(ami, pbx_running, sip.RFC4733, "112", tmp_path, timing)
    why = c.why()
    assert c.run.returncode == 0, why
    assert c.seen.digits == "112", why
    got = c.watcher.callers[next(iter(c.seen.uniqueids))]
    assert got.callback is not None, why
    assert got.callback.get("Number") == sip.RFC4733.user, why  # the From user is the caller ID
    assert got.callback.get("Path") == "language:1>main:1>inquiry:2", why
    assert got.joined is None, why
    assert c.run.ladder()[-2:] == ["< BYE", "> 200"], why
