"""Transfers without a PBX: what a target names, who may transfer, the AMI actions of each
kind, the call's note and journal, and the checks against Asterisk's channels."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hotline.ami.message import EventList, Message, MessageKind
from hotline.ami.stand_in import Headers, StandInAMI
from hotline.calls.state import Calls
from hotline.center.config import CenterError, load_center
from hotline.cli.common import CLIError
from hotline.cli.transfer import call_agent
from hotline.commands.plan import Command, CommandError, Verb
from hotline.commands.supervise import SupervisorGrant
from hotline.commands.transfer import (
    ABORT_KEYS,
    ATXFER_KEYS,
    COMPLETE_KEYS,
    THREEWAY_KEYS,
    Mode,
    TargetKind,
    check_transferer,
    plan_note,
    plan_threeway,
    plan_transfer,
    resolve_target,
)
from hotline.controller.links import Links
from hotline.controller.transfers import Transfers, answered_peer
from hotline.core.records import SUPERVISION_KINDS, AgentChange
from hotline.host.settings import DEFAULT_CENTER
from hotline.pbx import trunk

from .core.events import T0, agent_event, event

CENTER = load_center(DEFAULT_CENTER.read_text(encoding="utf-8"))
DEPTS = dict(CENTER.orders.departments)
QUEUES = ("intake", "labour")
WANG = CENTER.agents["1001"]  # 王芳, team-a
DIALPLAN = Path(trunk.__file__).parent / "dialplan"


def target(to: str) -> object:
    return resolve_target(to, CENTER.agents, QUEUES, DEPTS)


# -- targets ------------------------------------------------------------------------------


def test_a_target_is_a_queue_an_agent_or_a_department_with_a_duty_number() -> None:
    queue = resolve_target("labour", CENTER.agents, QUEUES, DEPTS)
    assert (queue.kind, queue.context, queue.exten) == (TargetKind.QUEUE, "hotline-queue-labour",
                                                        "s")  # fmt: skip
    by_ext = resolve_target("1002", CENTER.agents, QUEUES, DEPTS)
    by_name = resolve_target(CENTER.agents["1002"].name, CENTER.agents, QUEUES, DEPTS)
    assert by_ext == by_name
    assert (by_ext.kind, by_ext.context, by_ext.exten) == (TargetKind.AGENT, "hotline-transfer",
                                                           "1002")  # fmt: skip
    dept = resolve_target("住建局", CENTER.agents, QUEUES, DEPTS)
    assert (dept.kind, dept.name, dept.context, dept.exten) == (
        TargetKind.DEPARTMENT, "housing", trunk.OUTBOUND, "01065550101")  # fmt: skip


def test_unknown_targets_and_departments_without_a_number_are_refused() -> None:
    with pytest.raises(CommandError, match=r"unknown transfer target 'nowhere'.*intake, labour"):
        resolve_target("nowhere", CENTER.agents, QUEUES, DEPTS)
    with pytest.raises(CommandError, match=r"房地产服务中心 \(realty\) has no duty number"):
        resolve_target("realty", CENTER.agents, QUEUES, DEPTS)


def test_a_duty_number_is_checked_in_the_centre_file() -> None:
    text = DEFAULT_CENTER.read_text(encoding="utf-8").replace('phone: "01065550101"',
                                                              'phone: "0106;Hangup"')  # fmt: skip
    with pytest.raises(CenterError, match=r"orders\.departments\.housing\.phone"):
        load_center(text)


# -- who may transfer ---------------------------------------------------------------------


def grant(role: str, teams: set[str] = frozenset(), **kw: bool) -> SupervisorGrant:  # type: ignore[assignment]
    return SupervisorGrant("u1", role, frozenset(teams), **kw)


def test_the_calls_agent_and_the_teams_supervisors_may_transfer() -> None:
    check_transferer(grant("agent"), WANG, own_ext="1001")
    check_transferer(grant("supervisor", {"team-a"}), WANG)
    check_transferer(grant("supervisor", all_teams=True), WANG)
    with pytest.raises(CommandError, match="only their own calls"):
        check_transferer(grant("agent"), WANG, own_ext="1002")
    with pytest.raises(CommandError, match="not a supervisor of 王芳's team"):
        check_transferer(grant("supervisor", {"team-b"}), WANG)
    with pytest.raises(CommandError, match="an auditor: only the call's agent or a supervisor"):
        check_transferer(grant("auditor", all_teams=True), WANG)
    with pytest.raises(CommandError, match="disabled"):
        check_transferer(grant("supervisor", all_teams=True, disabled=True), WANG)


# -- the actions --------------------------------------------------------------------------


def test_each_kind_acts_on_the_agents_channel() -> None:
    chan = "PJSIP/1001-0000002a"
    dept = resolve_target("housing", CENTER.agents, QUEUES, DEPTS)
    [[(blind, headers)]] = plan_transfer(Mode.BLIND, chan, dept)
    assert blind == "BlindTransfer"
    assert dict(headers) == {"Channel": chan, "Context": "hotline-outbound",
                             "Exten": "01065550101"}  # fmt: skip
    start, dial = plan_transfer(Mode.ATTENDED, chan, dept)
    assert start[0] == ("Setvar", [("Channel", chan), ("Variable", "TRANSFER_CONTEXT"),
                                   ("Value", "hotline-outbound")])  # fmt: skip
    assert [dict(h)["Digit"] for _, h in start[1:]] == list(ATXFER_KEYS)
    assert "".join(dict(h)["Digit"] for _, h in dial) == "01065550101#"
    assert all(name == "PlayDTMF" and dict(h)["Receive"] == "true" for name, h in dial)
    assert plan_transfer(Mode.CONFERENCE, chan, dept) == [start, dial]
    keys = plan_threeway(chan)
    assert [dict(h)["Digit"] for _, h in keys] == list(THREEWAY_KEYS)
    plus = dataclasses.replace(dept, exten="+8601065550101")
    with pytest.raises(CommandError, match="dials digits only"):
        plan_transfer(Mode.ATTENDED, chan, plus)


def test_a_queue_takes_blind_transfers_only_and_channels_are_checked() -> None:
    queue = resolve_target("labour", CENTER.agents, QUEUES, DEPTS)
    with pytest.raises(CommandError, match="blind transfers only"):
        plan_transfer(Mode.ATTENDED, "PJSIP/1001-1", queue)
    with pytest.raises(CommandError, match="invalid channel"):
        plan_transfer(Mode.BLIND, "PJSIP/1001-1,Hangup", queue)


def test_the_feature_keys_match_features_conf() -> None:
    conf = (DIALPLAN / "features.conf").read_text(encoding="utf-8")
    for option, keys in (
        ("atxfer", ATXFER_KEYS),
        ("atxferabort", ABORT_KEYS),
        ("atxfercomplete", COMPLETE_KEYS),
        ("atxferthreeway", THREEWAY_KEYS),
    ):
        assert f"\n{option} = {keys}\n" in conf
    assert "[hotline-transfer]\nexten => _X.,1,Dial(PJSIP/${EXTEN},30)" in (
        DIALPLAN / "extensions.conf"
    ).read_text(encoding="utf-8")


# -- the call stays one call --------------------------------------------------------------


def note(call: str = "c1") -> Message:
    dept = resolve_target("housing", CENTER.agents, QUEUES, DEPTS)
    _, headers = plan_note(call, Mode.BLIND, dept, "wangfang")
    return event("UserEvent", T0 + 60_000, **dict(headers))


def test_a_blind_transfer_to_a_department_is_one_answered_call_with_its_note() -> None:
    calls = Calls()
    for e in (
        event("UserEvent", T0, UserEvent="HotlineIvr", Uniqueid="c1", Menu="entry"),
        event("QueueCallerJoin", T0 + 1_000, Uniqueid="c1", Queue="intake", Position="1"),
        agent_event("AgentCalled", T0 + 1_100, queue="intake"),
        event("QueueCallerLeave", T0 + 3_000, Uniqueid="c1", Queue="intake"),
        agent_event("AgentConnect", T0 + 3_010, queue="intake"),
        note(),
        agent_event("AgentComplete", T0 + 60_001, queue="intake", Reason="transfer"),
    ):
        calls.apply(e)
    assert calls.apply(note()) == []  # the same note twice: once
    [ended] = calls.apply(event("Hangup", T0 + 200_000, Uniqueid="c1"))
    r = ended.record
    assert (r.t_answer, r.completed_by) == (T0 + 3_010, "transfer")
    assert (r.talk_end, r.t_end) == (T0 + 60_001, T0 + 200_000)
    assert [(v.queue, v.outcome) for v in r.visits] == [("intake", "CONNECT")]
    assert "transfer blind to department housing by wangfang" in r.notes


def test_a_note_about_an_unknown_channel_starts_no_call() -> None:
    calls = Calls()
    assert calls.apply(note("nobody")) == []
    assert len(calls) == 0


def test_the_journal_entry_is_not_an_agent_state() -> None:
    assert "transfer" in SUPERVISION_KINDS


# -- the controller's side ----------------------------------------------------------------


def chan(name: str, uid: str, bridge: str = "", state: str = "6") -> Message:
    return Message(
        MessageKind.EVENT,
        (("Event", "CoreShowChannel"), ("Channel", name), ("Uniqueid", uid),
         ("BridgeId", bridge), ("ChannelState", state)),
    )  # fmt: skip


@dataclass
class PBX(StandInAMI):
    channels: list[Message] = field(default_factory=list)
    after_atxfer: list[Message] | None = None

    async def action(self, name: str, headers: Headers = ()) -> Message | EventList:
        reply = await super().action(name, headers)
        if name == "Setvar" and self.after_atxfer is not None:
            self.channels = self.after_atxfer
        if name == "CoreShowChannels":
            ok = Message(MessageKind.RESPONSE, (("Response", "Success"),))
            done = Message(MessageKind.EVENT, (("Event", "CoreShowChannelsComplete"),))
            return EventList(ok, tuple(self.channels), done)
        return reply


def transfers(ami: PBX, journal: list[AgentChange]) -> Transfers:
    return Transfers(CENTER, ami, journal=journal.append, queues=lambda: QUEUES,
                     clock=lambda: T0, poll=0.01, answer_timeout=1, digit_pause=0)  # fmt: skip


def command(to: str = "labour", mode: str = "blind", call: str = "1795.7") -> Command:
    return Command("x1", Verb.TRANSFER, "王芳", "banzhang01", supervisor=True, mode=mode,
                   call=call, target=to)  # fmt: skip


TALKING = [chan("PJSIP/9000-00000001", "1795.7", "b1"), chan("PJSIP/1001-00000002", "1795.8", "b1")]


def test_a_blind_transfer_is_sent_noted_and_journaled() -> None:
    ami, journal = PBX(channels=TALKING), []
    reply = asyncio.run(transfers(ami, journal).carry_out(command()))
    assert reply.ok, reply.message
    names = [name for name, _ in ami.sent]
    assert names == ["CoreShowChannels", "BlindTransfer", "UserEvent"]
    assert ami.sent[1][1] == {"Channel": "PJSIP/1001-00000002", "Context": "hotline-queue-labour",
                              "Exten": "s"}  # fmt: skip
    assert ami.sent[2][1]["Uniqueid"] == "1795.7"
    [entry] = journal
    assert (entry.kind, entry.agent, entry.actor, entry.call_id, entry.reason) == (
        "transfer",
        "王芳",
        "banzhang01",
        "1795.7",
        "blind:queue:labour",
    )


def test_no_call_an_unanswered_call_or_an_unknown_target_is_refused() -> None:
    waiting = [chan("PJSIP/9000-00000001", "1795.7", ""), chan("PJSIP/1001-00000002", "x", "b9")]
    cases = [
        (TALKING, command(call="1795.99"), "no such call '1795.99'"),
        (waiting, command(), "not answered by 王芳"),
        (TALKING, command(to="nowhere"), "unknown transfer target"),
        (TALKING, command(to="realty"), "has no duty number"),
        (TALKING, command(to="labour", mode="attended"), "blind transfers only"),
        (TALKING[:1], command(), "王芳 is in no call"),
    ]
    for channels, cmd, error in cases:
        ami, journal = PBX(channels=channels), []
        reply = asyncio.run(transfers(ami, journal).carry_out(cmd))
        assert not reply.ok
        assert error in reply.message, (cmd, reply.message)
        assert not journal
        assert not any(n in ("BlindTransfer", "Setvar", "PlayDTMF") for n, _ in ami.sent)


def test_a_local_member_under_the_agents_name_is_found_in_the_citizens_bridge() -> None:
    member = Message(
        MessageKind.EVENT,
        (("Event", "CoreShowChannel"), ("Channel", "Local/1001@hotline-test-agent-00000001;1"),
         ("Uniqueid", "1795.8"), ("BridgeId", "b1"), ("Application", "AppQueue")),
    )  # fmt: skip
    ami, journal = PBX(channels=[TALKING[0], member]), []
    reply = asyncio.run(transfers(ami, journal).carry_out(command()))
    assert reply.ok, reply.message
    assert ami.sent[1][1]["Channel"] == "Local/1001@hotline-test-agent-00000001;1"
    # a channel in the bridge that app_queue did not connect is not taken for the agent
    other = Message(MessageKind.EVENT, tuple((k, "Dial" if k == "Application" else v)
                                             for k, v in member.headers))  # fmt: skip
    ami = PBX(channels=[TALKING[0], other])
    reply = asyncio.run(transfers(ami, []).carry_out(command()))
    assert not reply.ok


def test_a_conference_turns_three_way_once_the_target_answers() -> None:
    agent = "PJSIP/1001-00000002"
    consulting = [
        chan("PJSIP/9000-00000001", "1795.7", "b1"),
        chan(agent, "1795.8", "b2"),
        chan("Local/01065550101@hotline-outbound-00000003;1", "1795.9", "b2"),
    ]
    ami, journal = PBX(channels=TALKING, after_atxfer=consulting), []

    async def go() -> None:
        t = transfers(ami, journal)
        reply = await t.carry_out(command(to="housing", mode="conference"))
        assert reply.ok, reply.message
        await asyncio.gather(*t.tasks)

    asyncio.run(go())
    digits = [h["Digit"] for name, h in ami.sent if name == "PlayDTMF"]
    assert "".join(digits) == ATXFER_KEYS + "01065550101#" + THREEWAY_KEYS
    assert answered_peer(consulting, agent, "1795.7") == consulting[2].get("Channel")
    ringing = [*consulting[:2], chan("Local/x;1", "1795.9", "b2", state="5")]
    assert answered_peer(ringing, agent, "1795.7") is None


# -- the command line ---------------------------------------------------------------------


def test_the_cli_names_the_calls_agent_or_says_why_not() -> None:
    calls = {"c1": {"agent": "王芳", "t_answer": T0}, "c2": {"agent": "", "t_answer": None},
             "c3": {"agent": "王芳", "t_answer": T0, "talk_end": T0 + 1}}  # fmt: skip
    assert call_agent("c1", CENTER, calls) == WANG
    with pytest.raises(CLIError, match="no call 'c9' in progress"):
        call_agent("c9", CENTER, calls)
    with pytest.raises(CLIError, match="not answered"):
        call_agent("c2", CENTER, calls)
    with pytest.raises(CLIError, match="not talking with an agent"):
        call_agent("c3", CENTER, calls)


def test_a_transfer_command_crosses_the_bus_whole() -> None:
    cmd = command(to="住建局", mode="conference")
    assert Command.from_fields(cmd.fields()) == cmd


def test_a_queue_is_named_by_its_label_where_the_flow_is_given() -> None:
    from hotline.ivr.model import QueueSpec

    specs = {"labour": QueueSpec("labour", "劳动保障（含欠薪）"), "intake": QueueSpec("intake", "")}
    target = resolve_target("labour", CENTER.agents, specs, DEPTS)
    assert (target.name, target.label) == ("labour", "劳动保障（含欠薪）")
    assert resolve_target("intake", CENTER.agents, specs, DEPTS).label == "intake"  # no label


def test_a_call_on_another_pbx_is_transferred_there_under_its_own_uniqueid() -> None:
    """A centre of two PBXs: the call ``pbx2:1795.7`` is looked up and transferred on pbx2,
    with pbx2's own Uniqueid in the note; pbx1 is not touched. With pbx2's link down the
    reply says so."""
    one, two = PBX(channels=[]), PBX(channels=TALKING)
    links = Links("pbx1", one, {"pbx2": two})
    journal: list[AgentChange] = []
    doer = Transfers(CENTER, links, journal=journal.append, queues=lambda: QUEUES,
                     clock=lambda: T0, digit_pause=0)  # fmt: skip
    reply = asyncio.run(doer.carry_out(command(call="pbx2:1795.7")))
    assert reply.ok, reply.message
    assert one.sent == []
    assert [name for name, _ in two.sent] == ["CoreShowChannels", "BlindTransfer", "UserEvent"]
    assert two.sent[2][1]["Uniqueid"] == "1795.7"  # qualified again when the event comes back
    assert [e.call_id for e in journal] == ["pbx2:1795.7"]
    two.connected = False
    down = asyncio.run(doer.carry_out(command(call="pbx2:1795.7")))
    assert (down.ok, down.key) == (False, "transfer_pbx_down")
    stranger = asyncio.run(doer.carry_out(command(call="pbx9:1795.7")))
    assert (stranger.ok, stranger.key) == (False, "no_such_call")
