"""center.yaml and the AMI actions of agent commands."""

from __future__ import annotations

import pytest

from hotline.center.config import CenterError, load_center
from hotline.commands.plan import Command, CommandError, Verb, plan, plan_notice
from hotline.core.records import PauseSetBy
from hotline.host.settings import DEFAULT_CENTER

TEXT = (DEFAULT_CENTER).read_text(encoding="utf-8")
QUEUES = {"intake", "labour", "property", "environment"}
CENTER = load_center(TEXT, QUEUES)


def cmd(verb: Verb, agent: str = "1001", **kw: object) -> Command:
    return Command(id="c1", verb=verb, agent=agent, actor=kw.pop("actor", "王芳"), **kw)  # type: ignore[arg-type]


def test_the_shipped_center_loads() -> None:
    assert CENTER.agent("王芳") == CENTER.agents["1001"]
    assert CENTER.agents["1001"].interface == "PJSIP/1001"
    assert CENTER.reason("meal").is_break
    assert CENTER.reason("meal").max_minutes == 40
    assert not CENTER.reason("busy").is_break
    assert [s.name for s in CENTER.teams["team-a"].shifts] == ["day", "evening"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "team: team-b, queues: [intake, labour, property]",
            "team: team-c, queues: [intake]",
            "agents.1004.team: unknown team 'team-c'",
        ),
        (
            "queues: [intake, labour]}",
            "queues: [intake, labor]}",
            "agents.1001.queues: unknown queue 'labor'",
        ),
        (
            '{name: night, from: "00:00", to: "08:00"}',
            '{name: night, from: "25:00", to: "08:00"}',
            "teams.team-b.shifts.0: write a shift",
        ),
        ("meal:     {label: 用餐", "meal:     {lable: 用餐", "pause_reasons.meal: needs a label"),
        ("{name: 李娜,", "{name: 王芳,", "agents: two agents are named '王芳'"),
    ],
)
def test_a_broken_center_names_its_node(old: str, new: str, expected: str) -> None:
    assert old in TEXT
    with pytest.raises(CenterError) as caught:
        load_center(TEXT.replace(old, new, 1), QUEUES)
    assert any(str(p).startswith(expected) for p in caught.value.problems), caught.value.problems


def test_the_centre_file_is_read_like_a_flow() -> None:
    with pytest.raises(CenterError) as caught:
        load_center(
            "teamz: {}\npause_reasons: {meal: {label: 用餐, max_minutes: 0}}\n"
            "agents: {'1001': {name: 王芳, team: team-a, queues: intake}}\n"
        )
    assert [str(p) for p in caught.value.problems] == [
        "teamz: unknown key (expected one of agents, orders, pause_reasons, qa, recall, "
        "retention, stt, supervision, teams, watchdog)",
        "pause_reasons.meal.max_minutes: 0 is less than 1",
        "agents.1001.team: unknown team 'team-a'",
        "agents.1001.queues: expected a list, got str",
    ]


def test_login_adds_the_agent_to_each_queue_by_name() -> None:
    planned = plan(cmd(Verb.LOGIN), CENTER)
    assert [a[0] for a in planned.actions] == ["QueueAdd", "QueueAdd"]
    assert {a[1]["Queue"] for a in planned.actions} == {"intake", "labour"}
    assert all(a[1]["MemberName"] == "王芳" for a in planned.actions)
    assert all(a[1]["Interface"] == "PJSIP/1001" for a in planned.actions)


def test_pause_sends_the_reason_code_and_knows_who_set_it() -> None:
    mine = plan(cmd(Verb.PAUSE, reason="meal"), CENTER)
    assert mine.set_by is PauseSetBy.SELF
    assert {a[1]["Reason"] for a in mine.actions} == {"meal"}
    forced = plan(cmd(Verb.PAUSE, reason="forced", supervisor=True, actor="班长01"), CENTER)
    assert forced.set_by is PauseSetBy.SUPERVISOR
    busy = plan(cmd(Verb.PAUSE, queue="labour"), CENTER)  # no reason given: 示忙
    assert busy.actions == (
        (
            "QueuePause",
            {"Queue": "labour", "Interface": "PJSIP/1001", "Paused": "true", "Reason": "busy"},
        ),
    )


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (cmd(Verb.PAUSE, agent="9999"), "unknown agent '9999'"),
        (cmd(Verb.PAUSE, reason="nap"), "unknown pause reason 'nap'"),
        (cmd(Verb.PAUSE, reason="forced"), "only a supervisor may set 强制示忙"),
        (cmd(Verb.LOGIN, queue="property"), "王芳 does not serve queue 'property'"),
    ],
)
def test_commands_that_are_not_allowed(command: Command, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        plan(command, CENTER)


def test_commands_round_trip_through_stream_fields() -> None:
    original = cmd(Verb.PAUSE, reason="toilet", queue="intake", supervisor=True, issued_at=5)
    assert Command.from_fields(original.fields()) == original
    with pytest.raises(CommandError, match="malformed"):
        Command.from_fields({"id": "x", "verb": "dance", "agent": "1"})


def test_alert_and_notice_commands_travel_whole_over_the_stream() -> None:
    command = Command(
        id="c9", verb=Verb.ACKNOWLEDGE, agent="", actor="班长01", supervisor=True,
        alert="paused_while_waiting/王芳/1795463379", comment="已电话提醒", issued_at=5,
    )  # fmt: skip
    assert Command.from_fields(command.fields()) == command
    notice = Command(id="c10", verb=Verb.NOTICE, agent="", actor="班长01", notice="water-cut")
    assert Command.from_fields(notice.fields()) == notice


def test_only_agent_verbs_are_planned_as_membership_actions() -> None:
    for verb in (Verb.ACKNOWLEDGE, Verb.CLOSE, Verb.REOPEN, Verb.NOTICE):
        assert not verb.on_agent
        with pytest.raises(CommandError, match="does not act on an agent"):
            plan(cmd(verb), CENTER)


def test_the_announcement_is_a_global_setvar_for_supervisors_only() -> None:
    on = Command(id="n", verb=Verb.NOTICE, agent="", actor="班长01", supervisor=True,
                 notice="water-cut")  # fmt: skip
    assert plan_notice(on, ["water-cut"]) == (
        "Setvar", {"Variable": "HOTLINE_NOTICE", "Value": "water-cut"}
    )  # fmt: skip
    off = Command(id="n", verb=Verb.NOTICE, agent="", actor="班长01", supervisor=True)
    assert plan_notice(off, ["water-cut"])[1]["Value"] == ""
    with pytest.raises(CommandError, match="unknown announcement 'flood'"):
        plan_notice(Command(id="n", verb=Verb.NOTICE, agent="", actor="x", supervisor=True,
                            notice="flood"), ["water-cut"])  # fmt: skip
    with pytest.raises(CommandError, match="only a supervisor"):
        plan_notice(Command(id="n", verb=Verb.NOTICE, agent="", actor="王芳",
                            notice="water-cut"), ["water-cut"])  # fmt: skip
