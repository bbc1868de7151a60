"""Live supervision without a PBX: who may listen, which channel is spied on, what is
originated, and the access log of a session from the ring to the hang-up."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline.ami.message import EventList, Message, MessageKind
from hotline.ami.stand_in import Headers, StandInAMI
from hotline.center.config import CenterError, load_center
from hotline.cli.common import CLIError
from hotline.cli.supervise import grant_of, resolve
from hotline.commands.plan import Command, CommandError, Verb
from hotline.commands.supervise import (
    Mode,
    SupervisorGrant,
    agent_channel,
    channel_prefix,
    check_supervisor,
    plan_notify,
    plan_spy,
)
from hotline.controller.links import Links
from hotline.controller.supervision import Supervision
from hotline.host.settings import DEFAULT_CENTER
from hotline.pbx.softphones import render_softphones
from hotline.stores.access import AccessLog
from hotline.web.roles import Role, Scope, User

CENTER = load_center(DEFAULT_CENTER.read_text(encoding="utf-8"))
WANG = CENTER.agents["1001"]  # 王芳, team-a
LIU = CENTER.agents["1004"]  # 刘洋, team-b


def event(name: str, **headers: str) -> Message:
    return Message(MessageKind.EVENT, (("Event", name), *headers.items()))


def show(*channels: tuple[str, str]) -> EventList:
    ok = Message(MessageKind.RESPONSE, (("Response", "Success"),))
    items = tuple(event("CoreShowChannel", Channel=c, BridgeId=b) for c, b in channels)
    return EventList(ok, items, event("CoreShowChannelsComplete"))


# -- the centre file and the phones ------------------------------------------------------


def test_the_bundled_centre_has_supervisor_phones_and_does_not_tell_agents() -> None:
    assert sorted(CENTER.supervision.phones) == ["1901", "1902"]
    assert CENTER.supervision.notify_agent is False


def test_a_supervisor_phone_is_an_endpoint_that_dials_nothing() -> None:
    conf = render_softphones(CENTER, "site-secret")
    block = conf[conf.index("[1901]") :].split("\n\n")[0]
    assert "context = hotline-supervisors" in block
    assert "auth = 1901-auth" in block
    assert "context = hotline-agents" in conf[conf.index("[1001]") :].split("\n\n")[0]


def test_bad_supervision_sections_are_named() -> None:
    text = DEFAULT_CENTER.read_text(encoding="utf-8")
    bad = text.replace('"1901": {name: 班长01}', '"1001": {name: 班长01}').replace(
        "notify_agent: false", "notify_agent: sometimes"
    )
    with pytest.raises(CenterError) as err:
        load_center(bad)
    problems = "\n".join(map(str, err.value.problems))
    assert "supervision.phones.1001: is an agent's extension too" in problems
    assert "supervision.notify_agent: expected bool" in problems


# -- who may listen ----------------------------------------------------------------------


def grant(
    role: str = "supervisor", teams: tuple[str, ...] = ("team-a",), **kw: bool
) -> SupervisorGrant:
    return SupervisorGrant("banzhang01", role, frozenset(teams), **kw)


def test_only_a_supervisor_of_the_agents_team_may_listen() -> None:
    check_supervisor(grant(), WANG)
    check_supervisor(grant(teams=(), all_teams=True), LIU)
    with pytest.raises(CommandError, match="not a supervisor of 刘洋's team 'team-b'"):
        check_supervisor(grant(), LIU)
    with pytest.raises(CommandError, match="an auditor: only supervisors"):
        check_supervisor(grant("auditor"), WANG)
    with pytest.raises(CommandError, match="an admin"):
        check_supervisor(grant("admin", all_teams=True), WANG)
    with pytest.raises(CommandError, match="disabled"):
        check_supervisor(grant(disabled=True), WANG)


def test_a_queue_scope_does_not_reach_another_teams_agents() -> None:
    # 刘洋 (team-b) serves intake; a supervisor scoped to queue intake still may not listen
    user = User("banzhang01", Role.SUPERVISOR, Scope(frozenset({"team-a"}), frozenset({"intake"})))
    with pytest.raises(CommandError):
        check_supervisor(grant_of(user), LIU)


def test_the_target_is_an_agent_or_an_answered_call() -> None:
    calls = {"1795.1": {"agent": "刘洋"}, "1795.2": {"agent": ""}}
    assert resolve("1001", CENTER, None) == (WANG, "")
    assert resolve("王芳", CENTER, None) == (WANG, "")
    assert resolve("1795.1", CENTER, calls) == (LIU, "1795.1")
    with pytest.raises(CLIError, match="not answered"):
        resolve("1795.2", CENTER, calls)
    with pytest.raises(CLIError, match="neither an agent"):
        resolve("nobody", CENTER, calls)


# -- the channel and the originate -------------------------------------------------------


def test_the_agents_bridged_channel_is_found_by_its_interface() -> None:
    listing = show(
        ("PJSIP/10010-00000001", "b1"),  # another endpoint that starts alike
        ("PJSIP/1001-00000002", ""),  # ringing, not bridged
        ("PJSIP/1001-00000003", "b2"),
        ("Local/12345@hotline-ivr-00000001;2", "b2"),
    ).events
    assert agent_channel(listing, WANG) == "PJSIP/1001-00000003"
    assert agent_channel(listing, LIU) is None
    local = WANG.__class__(
        "8001", "agent8001", "team-a", ("intake",), "Local/8001@hotline-test-agent/n"
    )
    assert channel_prefix(local) == "Local/8001@hotline-test-agent-"
    halves = show(("Local/8001@hotline-test-agent-0000000a;2", "b3"),
                  ("Local/8001@hotline-test-agent-0000000a;1", "b4")).events  # fmt: skip
    assert agent_channel(halves, local) == "Local/8001@hotline-test-agent-0000000a;1"


def test_the_supervisors_phone_is_originated_into_chanspy() -> None:
    action, headers = plan_spy(
        "spy-1", Mode.WHISPER, "PJSIP/1001-00000003", WANG, "1901", "banzhang01"
    )
    assert action == "Originate"
    assert ("Channel", "PJSIP/1901") in headers
    assert ("Context", "hotline-supervise") in headers
    assert ("ChannelId", "spy-1") in headers
    assert ("Variable", "SPY_CHANNEL=PJSIP/1001-00000003") in headers
    assert ("Variable", "SPY_MODE=whisper") in headers
    with pytest.raises(CommandError):
        plan_spy("spy-1", Mode.LISTEN, "PJSIP/1001-1,qwB", WANG, "1901", "x")
    assert ("Data", "PJSIP/1001-00000003,qwES") in plan_notify("PJSIP/1001-00000003")[1]
    assert [m.key for m in Mode] == ["4", "5", "6"]


# -- the controller's side ---------------------------------------------------------------


@dataclass
class PBX(StandInAMI):
    """The stand-in AMI, answering CoreShowChannels with ``channels``."""

    channels: tuple[tuple[str, str], ...] = ()
    phone_state: str = "NOT_INUSE"

    async def action(self, name: str, headers: Headers = ()) -> Message | EventList:
        reply = await super().action(name, headers)
        if name == "Getvar":
            return Message(
                MessageKind.RESPONSE, (("Response", "Success"), ("Value", self.phone_state))
            )
        if name == "Originate":
            return Message(MessageKind.RESPONSE, (("Response", "Success"), ("ActionID", "a-1")))
        return show(*self.channels) if name == "CoreShowChannels" else reply


class Clock:
    def __init__(self) -> None:
        self.t = 1_795_563_000_000

    def __call__(self) -> int:
        return self.t


def command(mode: str = "listen", agent: str = "1001", phone: str = "1901") -> Command:
    return Command("c1", Verb.SUPERVISE, agent, "banzhang01", supervisor=True, mode=mode,
                   phone=phone, call="1795.7")  # fmt: skip


def test_a_session_is_logged_from_the_ring_to_the_hang_up(tmp_path: Path) -> None:
    log = AccessLog.open(tmp_path / "h.db")
    ami, clock = PBX(channels=(("PJSIP/1001-00000003", "b2"),)), Clock()
    sessions = Supervision(CENTER, ami, log.append, clock)
    reply = asyncio.run(sessions.carry_out(command("listen")))
    assert reply.ok, reply.message
    session = reply.details["session"]
    originate = dict(ami.sent[2][1])
    assert ami.sent[2][0] == "Originate"
    assert originate["ChannelId"] == session
    # the phone answers and ChanSpy starts; the supervisor presses 5 then 6; hangs up
    for dt, ev in (
        (2000, event("UserEvent", UserEvent="HotlineSpy", Step="start", Uniqueid=session)),
        (1000, event("DTMFEnd", Digit="5", Direction="Received", Uniqueid=session)),
        (1000, event("DTMFEnd", Digit="6", Direction="Received", Uniqueid=session)),
        (0, event("Hangup", Uniqueid="someone-else")),
        (3000, event("Hangup", Uniqueid=session)),
    ):
        clock.t += dt
        entry = sessions.apply(ev, clock.t)
        if entry is not None:
            log.append(entry)
    start, end = log.entries()
    assert (start.entry.user, start.entry.action, start.entry.target) == (
        "banzhang01", "supervise-listen", "1795.7")  # fmt: skip
    assert json.loads(start.entry.detail)["agent"] == "王芳"
    assert end.entry.action == "supervise-end"
    detail = json.loads(end.entry.detail)
    assert detail["joined"] is True
    assert detail["seconds"] == 5.0
    t0 = 1_795_563_002_000
    assert detail["modes"] == [["listen", t0], ["whisper", t0 + 1000], ["barge", t0 + 2000]]
    assert sessions.sessions == {}
    assert log.verify() is None


def test_no_call_no_phone_no_session(tmp_path: Path) -> None:
    log = AccessLog.open(tmp_path / "h.db")
    sessions = Supervision(CENTER, PBX(), log.append, Clock())
    reply = asyncio.run(sessions.carry_out(command()))
    assert (reply.ok, reply.message) == (False, "王芳 is in no call right now")
    reply = asyncio.run(sessions.carry_out(command(phone="1001")))
    assert not reply.ok
    assert "no supervisor's phone" in reply.message
    reply = asyncio.run(sessions.carry_out(command(mode="shout")))
    assert not reply.ok
    assert "unknown mode" in reply.message
    refused = PBX(refuse={"Originate": "Extension does not exist."},
                  channels=(("PJSIP/1001-00000003", "b2"),))  # fmt: skip
    sessions = Supervision(CENTER, refused, log.append, Clock())
    reply = asyncio.run(sessions.carry_out(command()))
    assert not reply.ok
    assert sessions.sessions == {}
    assert log.entries() == []


def test_the_agent_hears_a_beep_only_when_the_centre_says_so(tmp_path: Path) -> None:
    told = dataclasses.replace(
        CENTER, supervision=dataclasses.replace(CENTER.supervision, notify_agent=True)
    )
    log = AccessLog.open(tmp_path / "h.db")
    for center, originates in ((CENTER, 1), (told, 2)):
        ami = PBX(channels=(("PJSIP/1001-00000003", "b2"),))
        assert asyncio.run(Supervision(center, ami, log.append, Clock()).carry_out(command())).ok
        assert [n for n, _ in ami.sent].count("Originate") == originates


def test_the_agents_beep_is_two_short_tones_of_signed_linear_audio() -> None:
    from hotline.pbx.instance import double_beep

    audio = double_beep()
    assert len(audio) == (1200 + 800 + 1200) * 2  # 150 ms, 100 ms, 150 ms at 8 kHz, 16 bit
    assert audio[2400 * 1 : 2400 * 1 + 1600] == bytes(1600)  # the gap is silent


def test_a_phone_that_cannot_be_rung_ends_its_session_unjoined(tmp_path: Path) -> None:
    log = AccessLog.open(tmp_path / "h.db")
    clock = Clock()
    sessions = Supervision(
        CENTER, PBX(channels=(("PJSIP/1001-00000003", "b2"),)), log.append, clock
    )
    assert asyncio.run(sessions.carry_out(command("barge"))).ok
    assert (
        sessions.apply(event("OriginateResponse", ActionID="other", Response="Failure"), 1) is None
    )
    end = sessions.apply(event("OriginateResponse", ActionID="a-1", Response="Failure"), clock.t)
    assert end is not None
    assert end.action == "supervise-end"
    assert json.loads(end.detail)["joined"] is False
    assert sessions.sessions == {}


def test_a_phone_that_is_not_registered_is_not_rung(tmp_path: Path) -> None:
    ami = PBX(channels=(("PJSIP/1001-00000003", "b2"),), phone_state="UNAVAILABLE")
    sessions = Supervision(CENTER, ami, AccessLog.open(tmp_path / "h.db").append, Clock())
    reply = asyncio.run(sessions.carry_out(command()))
    assert (reply.ok, reply.message) == (False, "phone 1901 is not registered (not reachable)")
    assert "Originate" not in [name for name, _ in ami.sent]


# -- a centre on several PBXs ------------------------------------------------------------


@dataclass
class Centre:
    """Supervision over two PBXs; her call (PJSIP/1001-00000003) is on pbx2."""

    log: AccessLog
    one: PBX
    two: PBX
    clock: Clock
    sessions: Supervision


def centre(tmp_path: Path) -> Centre:
    one, two = PBX(), PBX(channels=(("PJSIP/1001-00000003", "b2"),))
    log, clock = AccessLog.open(tmp_path / "h.db"), Clock()
    links = Links("pbx1", one, {"pbx2": two})
    return Centre(log, one, two, clock, Supervision(CENTER, links, log.append, clock))


def test_the_supervisor_is_rung_into_chanspy_on_the_pbx_that_carries_the_call(
    tmp_path: Path,
) -> None:
    c = centre(tmp_path)
    log, one, two, clock, sessions = c.log, c.one, c.two, c.clock, c.sessions
    reply = asyncio.run(sessions.carry_out(command("whisper")))
    assert reply.ok, reply.message
    assert "(PJSIP/1001-00000003 on pbx2)" in reply.message
    assert reply.details["pbx"] == "pbx2"
    assert [name for name, _ in one.sent] == ["CoreShowChannels"]  # looked for her there
    assert [name for name, _ in two.sent] == ["CoreShowChannels", "Getvar", "Originate"]
    assert dict(two.sent[1][1]) == {"Variable": "DEVICE_STATE(PJSIP/1901)"}  # the phone there
    assert dict(two.sent[2][1])["Variable"] == "SPY_ACTOR=banzhang01"
    session = reply.details["session"]
    (start,) = log.entries()
    assert json.loads(start.entry.detail)["pbx"] == "pbx2"
    # an Originate's ActionID is only unique on its own link: pbx1's a-1 is another one
    failure = event("OriginateResponse", ActionID="a-1", Response="Failure")
    assert sessions.apply(failure, clock.t, "pbx1") is None
    assert session in sessions.sessions
    clock.t += 1000
    joined = event("UserEvent", UserEvent="HotlineSpy", Step="start", Uniqueid=session)
    assert sessions.apply(joined, clock.t, "pbx2") is None
    clock.t += 4000
    end = sessions.apply(event("Hangup", Uniqueid=session), clock.t, "pbx2")
    assert end is not None
    assert (end.action, json.loads(end.detail)["seconds"]) == ("supervise-end", 4.0)
    assert sessions.sessions == {}


def test_a_call_on_a_pbx_whose_link_is_down_gets_a_clear_reply(tmp_path: Path) -> None:
    c = centre(tmp_path)
    log, one, two, sessions = c.log, c.one, c.two, c.sessions
    two.connected = False
    # the supervisor picked her call on pbx2 (its id names the PBX)
    picked = dataclasses.replace(command(), call="pbx2:1795.7")
    reply = asyncio.run(sessions.carry_out(picked))
    assert (reply.ok, reply.key, reply.details) == (
        False, "spy_pbx_down", {"agent": "王芳", "pbx": "pbx2"})  # fmt: skip
    assert reply.message == (
        "王芳's call cannot be joined now: the controller is not connected to PBX pbx2"
    )
    # picked by the agent: not found on pbx1, and pbx2 cannot be asked
    reply = asyncio.run(sessions.carry_out(dataclasses.replace(command(), call="")))
    assert (reply.ok, reply.key) == (False, "spy_pbx_down")
    # her call on pbx1 (a bare id), which is up: it has ended
    reply = asyncio.run(sessions.carry_out(command()))
    assert (reply.ok, reply.key) == (False, "no_call")
    one.connected = False
    reply = asyncio.run(sessions.carry_out(command()))
    assert (reply.ok, reply.key) == (False, "no_pbx_connected")
    assert log.entries() == []
    assert [n for n, _ in one.sent] == ["CoreShowChannels"] * 3


def test_a_session_whose_hang_up_came_while_its_pbx_was_away_ends_at_its_resync(
    tmp_path: Path,
) -> None:
    c = centre(tmp_path)
    log, clock, sessions = c.log, c.clock, c.sessions
    session = asyncio.run(sessions.carry_out(command())).details["session"]
    clock.t += 1000
    sessions.apply(event("UserEvent", UserEvent="HotlineSpy", Step="start", Uniqueid=session),
                   clock.t, "pbx2")  # fmt: skip
    clock.t += 9000
    # pbx1 resyncs: not its session
    assert sessions.lost("pbx1", [], clock.t) == []
    # pbx2 still has the supervisor's channel: it goes on
    still = event("CoreShowChannel", Channel="PJSIP/1901-0000000a", Uniqueid=session)
    assert sessions.lost("pbx2", [still], clock.t) == []
    asyncio.run(sessions.resynced("pbx2", []))  # gone: ended, logged
    assert sessions.sessions == {}
    start, end = log.entries()
    assert (start.entry.action, end.entry.action) == ("supervise-listen", "supervise-end")
    detail = json.loads(end.entry.detail)
    assert (detail["end_unseen"], detail["joined"], detail["seconds"]) == (True, True, 9.0)
