"""Twilio's callers in the PBX's queues, and the trunk's ACL, on the real PBX.

Two namespaces (tests/integration/netns.py): "Twilio" (its address is HOTLINE_TWILIO_PEERS)
and the carrier (HOTLINE_TRUNK=ip, its address is the trunk's peer). The PBX's trunk
transport binds this host's end of Twilio's pair; the carrier reaches it through a route
of its own. A third address, a stranger listed nowhere, sits beside Twilio in its
namespace. SIPp plays Twilio's SIP leg with the headers the TwiML renders
(hotline.ivr.twiml.SipTarget), the carrier and the stranger.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from hotline.ami.client import AMIClient
from hotline.calls.state import CallEnded, Calls
from hotline.host.settings import Settings
from hotline.ivr import twiml
from hotline.pbx import install
from hotline.pbx import runner as pbx
from hotline.stores.history import History
from hotline.stores.twilio_events import TwilioEvent
from tests.conftest import bed_env, hotline
from tests.integration import bed, netns, sip
from tests.integration.conftest import add_ops_user
from tests.integration.test_trunk import Events, clean_pbx, fill

pytestmark = pytest.mark.asyncio

DID = "02112345"
PORT = 5070  # the trunk transport
SID = "CA" + os.urandom(16).hex()


@dataclass
class Centre:
    settings: Settings
    twilio: netns.Namespace
    carrier: netns.Namespace
    stranger: str
    """An address in Twilio's namespace that no peer list names."""

    @property
    def trunk(self) -> str:
        return f"{self.twilio.host_ip}:{PORT}"

    async def sipp(self, scenario: Path, service: str, *, ns: netns.Namespace,
                   local: str, timeout: float = 30) -> sip.SippRun:  # fmt: skip
        return await sip.run_sipp(
            scenario,
            self.settings,
            service=service,
            timeout=timeout,
            netns=ns.name,
            local=(local, 5060),
            remote=self.trunk,
        )


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    work = tmp_path_factory.mktemp("twilio-sip")
    with netns.namespace("tw") as tw, netns.namespace("ca") as ca:
        # the carrier reaches the trunk's address (on Twilio's pair) through this host
        ip("-n", ca.name, "route", "add", f"{tw.host_ip}/32", "via", ca.host_ip)
        # the stranger: one more address beside Twilio (gone with the pair)
        stranger = str(netns.free_subnet().network_address + 1)
        ip("-n", tw.name, "addr", "add", f"{stranger}/32", "dev", f"{tw.name}p")
        ip("route", "add", f"{stranger}/32", "dev", f"{tw.name}h")
        env = bed_env(work / "run") | {
            "HOTLINE_TRUNK": "ip",
            "HOTLINE_TRUNK_HOST": ca.peer_ip,
            "HOTLINE_TRUNK_BIND": f"{tw.host_ip}:{PORT}",
            "HOTLINE_TRUNK_DIDS": DID,
            "HOTLINE_TRUNK_CALLER_ID": DID,
            "HOTLINE_TWILIO_AUTH_TOKEN": "twilio-test-token",
            "HOTLINE_TWILIO_SIP": f"{tw.host_ip}:{PORT}",
            "HOTLINE_TWILIO_PEERS": f"{tw.peer_ip}/32",
        }
        settings = Settings.from_env(env)
        try:
            add_ops_user(settings)
            install.install(settings, settings.flow)
            pbx.start(settings)
            yield Centre(settings, tw, ca, stranger)
        finally:
            pbx.stop(settings)


@pytest_asyncio.fixture
async def ami(centre: Centre) -> AsyncIterator[AMIClient]:
    """A clean PBX; no ERROR logged by Asterisk during the test (a function not
    registered, such as PJSIP_HEADER without its module, is one)."""
    async with clean_pbx(centre.settings) as client:
        yield client


async def test_twilio_s_sip_leg_lands_in_the_queue_and_the_call_keeps_its_call_sid(
    centre: Centre, ami: AMIClient, tmp_path: Path
) -> None:
    flow = install.read_flow(centre.settings.flow)[0]
    queue, tag = "labour", "unpaid-wages"
    assert queue in flow.queues
    # what the TwiML hands Twilio for this caller: the same queue, tag and CallSid
    target = twiml.SipTarget(centre.twilio.host_ip, PORT, call_sid=SID)
    uri = target.uri(queue, tag=tag, language="en")
    assert uri == (
        f"sip:{queue}@{centre.trunk}?X-Hotline-CallSid={SID}&X-Hotline-Tag={tag}&X-Hotline-Lang=en"
    )
    await bed.add_members(ami, [queue], paused=False)  # a Local agent who answers
    every = Events(ami)  # every event, for the calls reducer
    seen = sip.ChannelEvents(ami, "PJSIP/hotline-twilio-")
    scenario = fill("twilio_leg.xml", tmp_path, CALLER="+8613800000005", CALL_SID=SID,
                    TAG=tag, LANG="en", HOLD_MS="40000")  # fmt: skip
    try:
        run = await centre.sipp(scenario, queue, ns=centre.twilio, local=centre.twilio.peer_ip,
                                timeout=60)  # fmt: skip
        await seen.until(lambda: seen.named("Hangup"), timeout=5)
        await asyncio.sleep(0.5)
    finally:
        seen.close()
        every.close()
    why = f"{run.report()}\n--- AMI ---\n{seen.summary()}"
    assert run.returncode == 0, why
    assert len(seen.uniqueids) == 1, why
    uid = next(iter(seen.uniqueids))
    twilio = every.where("UserEvent", UserEvent="HotlineTwilio", Uniqueid=uid)
    assert [(e.get("CallSid"), e.get("Queue")) for e in twilio] == [(SID, queue)], why
    # straight into the queue: no menu of the PBX's IVR ran
    menus = every.where("UserEvent", UserEvent="HotlineIvr", Uniqueid=uid)
    assert [e.get("Menu") for e in menus] == ["entry"], why
    joins = every.where("QueueCallerJoin", Uniqueid=uid)
    assert [j.get("Queue") for j in joins] == [queue], why
    assert every.where("AgentConnect", Uniqueid=uid, Queue=queue), why
    # the record the controller keeps: queue, tag, agent and the Twilio CallSid
    calls = Calls()
    ended = [
        effect.record
        for event in every.events
        for effect in calls.apply(event)
        if isinstance(effect, CallEnded) and effect.record.call_id == uid
    ]
    assert len(ended) == 1, [e.name for e in every.events]
    record = ended[0]
    assert (record.twilio_sid, record.first_queue, record.tag, record.line) == (
        SID, queue, tag, flow.did,
    ), record  # fmt: skip
    assert record.t_answer is not None, record
    assert record.agent, record
    db = centre.settings.run_dir / "twilio.sqlite3"
    history = History.open(db)
    history.save_calls([record])
    # what Twilio's webhooks stored for this call, and for one that never reached the PBX
    history.save_twilio_events([
        TwilioEvent(SID, "entry", 1, {"open": "1"}),
        TwilioEvent(SID, "gather", 2, {"node": "main", "digit": "2"}),
        TwilioEvent("CA" + "0" * 32, "status", 3, {"CallStatus": "completed"}),
    ])  # fmt: skip
    history.close()
    shown = hotline({"HOTLINE_DB": str(db)}, "calls", "show", uid)
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert (doc["twilio_sid"], doc["queue"], doc["tag"]) == (SID, queue, tag), doc
    assert [(e["kind"], e["fields"].get("digit")) for e in doc["twilio_events"]] == [
        ("entry", None),
        ("gather", "2"),
    ], doc
    alone = hotline({"HOTLINE_DB": str(db)}, "calls", "show", "CA" + "0" * 32)
    assert alone.returncode == 0, alone.stderr
    assert [e["kind"] for e in json.loads(alone.stdout)["twilio_events"]] == ["status"]
    missing = hotline({"HOTLINE_DB": str(db)}, "calls", "show", "CA" + "9" * 32)
    assert missing.returncode == 1, missing.stderr
    assert "no call 'CA9999" in missing.stderr, missing.stderr
    assert "Traceback" not in missing.stderr, missing.stderr
    # counted like every call: queue_log has the caller and the agent who answered
    queue_log = (centre.settings.pbx_dir / "log" / "queue_log").read_text()
    kinds = [ln.split("|")[4] for ln in queue_log.splitlines() if f"|{uid}|" in ln]
    assert "ENTERQUEUE" in kinds, queue_log
    assert "CONNECT" in kinds, queue_log


def acl_refusals(settings: Settings, start: int, address: str) -> list[str]:
    with (settings.pbx_dir / "log" / "messages.log").open(errors="replace") as f:
        f.seek(start)
        return [ln for ln in f if "Not match Endpoint ACL" in ln and f"'{address}:" in ln]


@pytest.mark.parametrize(
    ("endpoint", "service"), [("hotline-trunk", DID), ("hotline-twilio", "intake")]
)
async def test_a_stranger_naming_an_endpoint_is_refused_by_its_acl(
    centre: Centre, ami: AMIClient, tmp_path: Path, endpoint: str, service: str
) -> None:
    """No identify matches the stranger's address, so PJSIP identifies it by the From
    user: the endpoint's name. Without the ACL that INVITE would be the trunk's (or
    Twilio's) call, with no password asked."""
    log = centre.settings.pbx_dir / "log" / "messages.log"
    start = log.stat().st_size
    events = Events(ami, "Newchannel")
    scenario = fill("refused.xml", tmp_path, CALLER=endpoint, CODE="401")
    try:
        run = await centre.sipp(scenario, service, ns=centre.twilio, local=centre.stranger)
        await asyncio.sleep(0.5)
    finally:
        events.close()
    assert run.returncode == 0, run.report()
    final = [m for m in run.ladder() if not m.startswith("< 1")]
    assert final == ["> INVITE", "< 401", "> ACK"], run.report()
    assert events.events == [], "a refused INVITE must not create a channel"
    assert acl_refusals(centre.settings, start, centre.stranger), "no ACL refusal logged"


@pytest.mark.parametrize(
    ("who", "service"), [("carrier", "intake"), ("twilio", DID)], ids=["carrier", "twilio"]
)
async def test_each_listed_peer_reaches_only_its_own_context(
    centre: Centre, ami: AMIClient, tmp_path: Path, who: str, service: str
) -> None:
    """The carrier cannot skip the IVR into a queue; Twilio's leg cannot enter the IVR:
    both are accepted by their ACL and answered 404 by their context."""
    ns = centre.carrier if who == "carrier" else centre.twilio
    log = centre.settings.pbx_dir / "log" / "messages.log"
    start = log.stat().st_size
    scenario = fill("refused.xml", tmp_path, CALLER="13800000007", CODE="404")
    run = await centre.sipp(scenario, service, ns=ns, local=ns.peer_ip)
    assert run.returncode == 0, run.report()
    assert [m for m in run.ladder() if not m.startswith("< 1")] == ["> INVITE", "< 404", "> ACK"]
    assert acl_refusals(centre.settings, start, ns.peer_ip) == []


async def test_the_carrier_listed_in_the_acl_gets_its_did_call_through(
    centre: Centre, ami: AMIClient, tmp_path: Path
) -> None:
    """The ACL lets the carrier's own address through: a DID call enters the IVR."""
    seen = sip.ChannelEvents(ami, "PJSIP/hotline-trunk-")
    events = Events(ami, "UserEvent")
    scenario = fill("twilio_leg.xml", tmp_path, CALLER="13800000008", CALL_SID="", TAG="",
                    LANG="", HOLD_MS="3000")  # fmt: skip
    started = time.monotonic()
    try:
        run = await centre.sipp(scenario, DID, ns=centre.carrier, local=centre.carrier.peer_ip)
        await seen.until(lambda: seen.named("Hangup"), timeout=5)
    finally:
        seen.close()
        events.close()
    assert run.returncode == 0, run.report()
    assert len(seen.uniqueids) == 1, seen.summary()
    uid = next(iter(seen.uniqueids))
    trunk = events.where("UserEvent", UserEvent="HotlineTrunk", Uniqueid=uid)
    assert [e.get("Did") for e in trunk] == [DID], seen.summary()
    assert events.where("UserEvent", UserEvent="HotlineIvr", Uniqueid=uid, Menu="entry")
    assert time.monotonic() - started < 30
