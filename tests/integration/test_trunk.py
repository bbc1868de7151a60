"""The carrier trunk on the real PBX: a SIPp "carrier" in its own network namespace.

The carrier lives in a namespace this module creates (tests/integration/netns.py: a veth
pair and a /30 of 10.78.0.0/16 nothing else uses); its own PBX instance binds the trunk
transport to this host's end of the pair, in register mode (the REGISTER is challenged
and answered), so the inbound INVITEs are identified by the carrier's address and the
outbound ones presented with the centre's caller ID. Everything is torn down on leaving,
also after a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import pytest_asyncio

from hotline.ami.client import AMIClient
from hotline.ami.errors import ActionFailed
from hotline.ami.message import EventList, Message
from hotline.host.settings import Settings
from hotline.ivr.model import routes
from hotline.pbx import install
from hotline.pbx import runner as pbx
from tests.conftest import bed_env
from tests.integration import bed, netns, sip
from tests.integration.conftest import OPS_USER, add_ops_user
from tests.integration.test_ivr_calls import Watcher, expected_path

pytestmark = pytest.mark.asyncio

DID = "02112345"
OTHER_DID = "+862112345"
CALLER_ID = "02112345"
ACCOUNT = "+862112345"
CARRIER_PORT = 5060  # inside the carrier's namespace: nothing else is there
TRUNK_PORT = 5070  # the PBX's trunk transport, on this host's end of the pair


@dataclass
class Carrier:
    mode: str
    settings: Settings
    ns: netns.Namespace
    registrar: sip.SippRun | None
    """The registrar's run (register mode), started before the PBX."""
    started_s: float
    secret: str

    @property
    def did(self) -> str:
        """The DID the carrier calls (both forms are configured: one per mode)."""
        return DID if self.mode == "register" else OTHER_DID

    @property
    def pbx_address(self) -> str:
        return f"{self.ns.host_ip}:{TRUNK_PORT}"

    async def listening(self, timeout: float = 10.0) -> None:
        """Wait until SIPp (a server scenario) has bound the carrier's port: under load
        it takes longer than the half second the first tests slept (an INVITE sent before
        then goes unanswered for 32 s)."""
        deadline = time.monotonic() + timeout
        while True:
            out = subprocess.run(
                ["ip", "netns", "exec", self.ns.name, "ss", "-Hlun", f"sport = :{CARRIER_PORT}"],
                capture_output=True, text=True, check=False,
            ).stdout  # fmt: skip
            if out.strip():
                return
            assert time.monotonic() < deadline, f"SIPp did not listen within {timeout} s"
            await asyncio.sleep(0.1)

    async def sipp(self, scenario: Path, *, service: str = "s", timeout: float = 45) -> sip.SippRun:
        """SIPp as the carrier: from its namespace, to the PBX's trunk transport
        (``service=""``: a server scenario that waits for the PBX)."""
        return await sip.run_sipp(
            scenario,
            self.settings,
            service=service or "s",
            timeout=timeout,
            netns=self.ns.name,
            local=(self.ns.peer_ip, CARRIER_PORT),
            remote=self.pbx_address if service else "",
        )


def fill(name: str, workdir: Path, **values: str) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    text = (sip.SIPP_DIR / name).read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    assert not re.search(r"@[A-Z_]+@", text), f"unfilled marker in {name}"
    path = workdir / name
    path.write_text(text)
    return path


@contextlib.contextmanager
def carrier_pbx(mode: str, work: Path, ns_name: str) -> Iterator[Carrier]:
    """A PBX with a trunk to a SIPp carrier in the namespace ``ns_name``: registered with
    a password (``register``), or known by its address (``ip``); stopped on leaving."""
    secret = "trunk-" + os.urandom(6).hex()
    with netns.namespace(ns_name) as ns:
        env = bed_env(work / "run") | {
            "HOTLINE_TRUNK": mode,
            "HOTLINE_TRUNK_HOST": ns.peer_ip,
            "HOTLINE_TRUNK_PORT": str(CARRIER_PORT),
            "HOTLINE_TRUNK_BIND": f"{ns.host_ip}:{TRUNK_PORT}",
            "HOTLINE_TRUNK_USER": ACCOUNT,
            "HOTLINE_TRUNK_SECRET": secret,
            "HOTLINE_TRUNK_DIDS": f"{DID},{OTHER_DID}",
            "HOTLINE_TRUNK_CALLER_ID": CALLER_ID,
        }
        settings = Settings.from_env(env)
        try:
            add_ops_user(settings)
            install.install(settings, settings.flow)
            server = Carrier(mode, settings, ns, None, 0, secret)
            start = time.monotonic()
            if mode == "ip":
                pbx.start(settings)
            else:
                registrar = fill(
                    "trunk_registrar.xml", work / "registrar", USER=ACCOUNT, SECRET=secret
                )
                with ThreadPoolExecutor(1) as pool:
                    # the registrar listens before Asterisk starts: the first REGISTER is
                    # answered (a retry would come only retry_interval later)
                    run = pool.submit(asyncio.run, server.sipp(registrar, service="", timeout=60))
                    time.sleep(0.5)
                    pbx.start(settings)
                    server.registrar = run.result(timeout=90)
            server.started_s = time.monotonic() - start
            yield server
        finally:
            pbx.stop(settings)


@pytest.fixture(scope="module", params=["register", "ip"])
def carrier(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Carrier]:
    """A PBX with a trunk to a SIPp carrier in its own namespace, in each mode."""
    mode: str = request.param
    with carrier_pbx(mode, tmp_path_factory.mktemp(f"trunk-{mode}"), f"tr{mode[0]}") as server:
        yield server


async def ops_client(settings: Settings) -> AMIClient:
    """The operator AMI user (PJSIP show actions need the 'system' class)."""
    ep = pbx.endpoint(settings)
    client = AMIClient(replace(ep, username=OPS_USER, secret="ops-" + ep.secret))
    await client.connect()
    return client


@contextlib.asynccontextmanager
async def clean_pbx(settings: Settings) -> AsyncIterator[AMIClient]:
    """The operator's AMI client on a PBX reset to no calls and no members; on leaving,
    no ERROR may have been logged by Asterisk meanwhile (a function not registered, such
    as PJSIP_HEADER without its module, is one)."""
    client = await ops_client(settings)
    await bed.reset(client)
    log = settings.pbx_dir / "log" / "messages.log"
    start = log.stat().st_size
    yield client
    await client.close()
    with log.open(errors="replace") as f:
        f.seek(start)
        errors = [line.strip() for line in f if "ERROR[" in line]
    assert errors == [], "Asterisk logged errors during the test"


@pytest_asyncio.fixture
async def ami(carrier: Carrier) -> AsyncIterator[AMIClient]:
    """A clean PBX (no calls, no members); no ERROR logged by Asterisk during the test."""
    async with clean_pbx(carrier.settings) as client:
        yield client


class Events:
    """Every event of the given names, for assertions after the call."""

    def __init__(self, client: AMIClient, *names: str) -> None:
        self.events: list[Message] = []
        self.sub = client.subscribe(*names)
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for event in self.sub:
            self.events.append(event)

    def where(self, name: str, **fields: str) -> list[Message]:
        return [
            e
            for e in self.events
            if e.name == name and all(e.get(k) == v for k, v in fields.items())
        ]

    def close(self) -> None:
        self.sub.close()
        self.task.cancel()


def invite_of(run: sip.SippRun, *, last: bool = False) -> str:
    """The first (or last) INVITE SIPp received, as text (its messages log)."""
    text = run.logs.get("messages", "")
    found = re.findall(r"UDP message received[^\n]*\n\n(INVITE .*?)(?:\n-{10}|\Z)", text, re.S)
    assert found, run.report()
    return str(found[-1] if last else found[0])


async def registrations(ami: AMIClient) -> list[tuple[str | None, ...]]:
    try:
        reply = await ami.action("PJSIPShowRegistrationsOutbound")
    except ActionFailed:  # none configured
        return []
    assert isinstance(reply, EventList)
    details = [e for e in reply.events if e.name == "OutboundRegistrationDetail"]
    return [(e.get("ObjectName"), e.get("Status"), e.get("ServerUri")) for e in details]


async def test_the_trunk_registers_with_the_carriers_challenge_in_register_mode_only(
    carrier: Carrier, ami: AMIClient
) -> None:
    if carrier.registrar is None:  # ip mode: the carrier knows the centre by its address
        assert await registrations(ami) == []
        return
    why = carrier.registrar.report()
    assert carrier.registrar.returncode == 0, why  # verifyauth accepted the digest
    assert carrier.registrar.ladder() == [
        "< REGISTER",
        "> 401",
        "< REGISTER",
        "> 200",
    ], why
    server = f"sip:{carrier.ns.peer_ip}:{CARRIER_PORT}"
    assert await registrations(ami) == [("hotline-trunk", "Registered", server)], why
    registers = carrier.registrar.logs["messages"]
    assert f'username="{ACCOUNT}"' in registers, why
    assert f"Contact: <sip:{ACCOUNT}@{carrier.ns.host_ip}:{TRUNK_PORT}" in registers, why


async def test_a_carrier_call_to_a_did_goes_through_the_ivr_to_an_agent(
    carrier: Carrier, ami: AMIClient, tmp_path: Path
) -> None:
    flow = install.read_flow(carrier.settings.flow)[0]
    route = next(r for r in routes(flow) if "".join(r.digits) == "122")
    assert route.queue is not None
    await bed.add_members(ami, [route.queue], paused=False)  # a Local agent who answers
    watcher = Watcher(ami)
    seen = sip.ChannelEvents(ami, "PJSIP/hotline-trunk-")
    events = Events(ami, "AgentConnect", "AgentComplete", "UserEvent", "QueueCallerJoin")
    citizen = sip.Caller("13800000001", sip.DtmfMode.RFC4733)
    # the agent talks 2 s; the citizen hangs up 10 s after the last digit (the survey
    # after the agent would take another 15 s)
    scenario = sip.write_scenario(citizen, "122", tmp_path, sip.Timing(hold=10000))
    try:
        run = await carrier.sipp(scenario, service=carrier.did, timeout=60)
        await seen.until(lambda: seen.named("Hangup"), timeout=5)
    finally:
        watcher.close()
        seen.close()
        events.close()
    why = f"{run.report()}\n--- AMI ---\n{seen.summary()}"
    assert run.returncode == 0, why
    assert seen.digits == "122", why
    assert len(seen.uniqueids) == 1, why
    uid = next(iter(seen.uniqueids))
    got = watcher.callers[uid]
    # the same IVR, the same path, the same queue as a local citizen, on the hotline's line
    assert (got.joined, got.tag, got.path) == (route.queue, route.tag, expected_path(route)), why
    trunk = events.where("UserEvent", UserEvent="HotlineTrunk", Uniqueid=uid)
    assert [(e.get("Did"), e.get("Number")) for e in trunk] == [(carrier.did, citizen.user)], why
    entry = events.where("UserEvent", UserEvent="HotlineIvr", Uniqueid=uid, Menu="entry")
    assert [e.get("Line") for e in entry] == [flow.did], why
    joins = events.where("QueueCallerJoin", Uniqueid=uid)
    assert [(j.get("Queue"), j.get("CallerIDNum")) for j in joins] == [
        (route.queue, citizen.user)
    ], why
    assert events.where("AgentConnect", Uniqueid=uid, Queue=route.queue), why
    completes = events.where("AgentComplete", Uniqueid=uid, Queue=route.queue)
    assert [c.get("Reason") for c in completes] == ["agent"], why  # the agent hung up
    # counted like every call: queue_log has the caller and the agent who answered
    queue_log = (carrier.settings.pbx_dir / "log" / "queue_log").read_text()
    mine = [line.split("|") for line in queue_log.splitlines() if f"|{uid}|" in line]
    kinds = [fields[4] for fields in mine]
    assert "ENTERQUEUE" in kinds, queue_log
    assert "CONNECT" in kinds, queue_log
    enter = next(fields for fields in mine if fields[4] == "ENTERQUEUE")
    assert enter[6] == citizen.user, queue_log
    # then the citizen, in the survey
    assert run.ladder()[-2:] == ["> BYE", "< 200"], why


async def test_a_did_not_configured_is_refused(
    carrier: Carrier, ami: AMIClient, tmp_path: Path
) -> None:
    events = Events(ami, "Newchannel")
    scenario = fill("trunk_refused.xml", tmp_path, CALLER="13800000002")
    try:
        run = await carrier.sipp(scenario, service="02199999", timeout=20)
        await asyncio.sleep(0.5)
    finally:
        events.close()
    assert run.returncode == 0, run.report()
    final = [m for m in run.ladder() if not m.startswith("< 1")]
    assert final == ["> INVITE", "< 404", "> ACK"], run.report()
    assert events.events == [], "a refused call must not create a channel"


async def test_an_originate_into_hotline_outbound_reaches_the_carrier_with_the_centres_id(
    carrier: Carrier, ami: AMIClient, tmp_path: Path
) -> None:
    number = "13900000002"
    # register mode: the carrier challenges the INVITE too, and checks the digest
    challenge = carrier.mode == "register"
    verify = f'<verifyauth assign_to="authvalid" username="{ACCOUNT}" password="{carrier.secret}"/>'
    scenario = fill(
        "trunk_uas.xml",
        tmp_path,
        NUMBER=number,
        CALLER_ID=CALLER_ID,
        HOLD_MS="20000",
        CHALLENGE=(sip.SIPP_DIR / "trunk_challenge.xml").read_text() if challenge else "",
        VERIFY=verify if challenge else "",
        VERIFY_TEST=(sip.SIPP_DIR / "trunk_verify_test.xml").read_text() if challenge else "",
    )
    events = Events(ami, "UserEvent")  # HotlineOutbound only: see where() below
    uas = asyncio.create_task(carrier.sipp(scenario, service="", timeout=30))
    try:
        await asyncio.sleep(0.5)  # SIPp listens
        await ami.originate(
            [
                ("Channel", f"Local/{number}@hotline-outbound"),
                ("Context", "hotline-test"),
                ("Exten", "echo"),
                ("Priority", "1"),
                ("Variable", "WAIT=2"),
            ]
        )
        run = await uas
        # the outcome comes from the h extension, once the Local channel is gone
        for _ in range(50):
            if len(events.where("UserEvent", UserEvent="HotlineOutbound")) >= 2:
                break
            await asyncio.sleep(0.1)
    finally:
        uas.cancel()
        events.close()
    why = run.report()
    assert run.returncode == 0, why  # check_it: the number, From and PAI matched
    if challenge:
        assert run.ladder()[:4] == ["< INVITE", "> 401", "< ACK", "< INVITE"], why
        assert f'Authorization: Digest username="{ACCOUNT}"' in run.logs["messages"], why
    invite = invite_of(run, last=True)
    first = invite.splitlines()[0]
    assert first.startswith(f"INVITE sip:{number}@{carrier.ns.peer_ip}:{CARRIER_PORT}"), invite
    headers = dict(
        line.split(":", 1) for line in invite.splitlines()[1:] if ":" in line and line[0] != " "
    )
    peer = carrier.ns.peer_ip
    assert re.fullmatch(rf'\s*"?{CALLER_ID}"? <sip:{CALLER_ID}@{peer}>;tag=.*', headers["From"]), (
        invite
    )
    assert headers["P-Asserted-Identity"].strip() in (
        f"<sip:{CALLER_ID}@{peer}>",
        f'"{CALLER_ID}" <sip:{CALLER_ID}@{peer}>',
    ), invite
    assert "a=rtpmap:8 PCMA/8000" in invite, invite  # A-law offered (first: China's G.711)
    outbound = events.where("UserEvent", UserEvent="HotlineOutbound")
    outcome = [(e.get("Number"), e.get("Status")) for e in outbound]
    assert outcome == [(number, "DIALING"), (number, "ANSWER")], outcome


async def test_the_agents_and_the_ivr_cannot_reach_the_trunk(
    carrier: Carrier, ami: AMIClient
) -> None:
    events = Events(ami, "Newchannel", "Hangup")
    try:
        for context in ("hotline-agents", "hotline-ivr", "hotline-trunk-in"):
            # refused (no such extension) or answered and hung up: never a trunk channel
            with contextlib.suppress(ActionFailed):
                await ami.originate(
                    [
                        ("Channel", f"Local/13900000003@{context}"),
                        ("Context", "hotline-test"),
                        ("Exten", "echo"),
                        ("Priority", "1"),
                    ],
                    timeout=10,
                )
        await asyncio.sleep(2)
    finally:
        events.close()
    names = [e.get("Channel") or "" for e in events.events]
    assert not [n for n in names if n.startswith("PJSIP/")], names


@pytest.mark.parametrize(
    ("code", "reason", "status", "cause"),
    [
        (486, "Busy Here", "BUSY", "17"),  # busy
        (404, "Not Found", "CHANUNAVAIL", "1"),  # unallocated: an invalid number
        (480, "Temporarily Unavailable", "NOANSWER", "19"),  # switched off, out of reach
    ],
)
async def test_a_refused_outbound_call_reports_its_outcome(
    carrier: Carrier,
    ami: AMIClient,
    tmp_path: Path,
    code: int,
    reason: str,
    status: str,
    cause: str,
) -> None:
    number = "13900000004"
    scenario = fill("trunk_reject.xml", tmp_path, CODE=str(code), REASON=reason)
    events = Events(ami, "UserEvent")
    uas = asyncio.create_task(carrier.sipp(scenario, service="", timeout=20))
    failed: ActionFailed | None = None
    try:
        await asyncio.sleep(0.5)  # SIPp listens
        try:
            await ami.originate(
                [
                    ("Channel", f"Local/{number}@hotline-outbound"),
                    ("Context", "hotline-test"),
                    ("Exten", "echo"),
                    ("Priority", "1"),
                ],
                timeout=15,
            )
        except ActionFailed as exc:
            failed = exc
        run = await uas
        for _ in range(50):
            if len(events.where("UserEvent", UserEvent="HotlineOutbound")) >= 2:
                break
            await asyncio.sleep(0.1)
    finally:
        uas.cancel()
        events.close()
    assert run.returncode == 0, run.report()
    # a Local channel's Originate fails with Reason 0 whatever the carrier said: the
    # outcome is in the HotlineOutbound event
    assert failed is not None, "the Originate of a refused call must fail"
    outbound = events.where("UserEvent", UserEvent="HotlineOutbound")
    outcome = [(e.get("Status"), e.get("Cause")) for e in outbound]
    assert outcome == [("DIALING", None), (status, cause)], outcome
