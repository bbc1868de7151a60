"""The alert lifecycle (a transition table) and escalation as data."""

from __future__ import annotations

import pytest

from hotline.core.records import AgentChange
from hotline.watchdog import (
    TRANSITIONS,
    Action,
    Alert,
    AlertState,
    EscalationStep,
    LifecycleError,
    RuleId,
    RulePolicy,
    Severity,
    StepAction,
    Watchdog,
    escalation,
    transition,
)

from .scenes import CENTER, ms

MIN = 60_000


def raised() -> tuple[Watchdog, Alert]:
    dog = Watchdog(CENTER.watchdog, CENTER)
    dog.feed(AgentChange(ms("10:00"), "王芳", "login", "intake"))
    dog.feed(AgentChange(ms("10:01"), "王芳", "pause", "intake", "busy"))
    [alert] = dog.tick(ms("10:11"))
    return dog, alert


def test_open_acknowledged_closed_with_who_when_and_why() -> None:
    _, alert = raised()
    assert alert.state is AlertState.OPEN
    acked = transition(alert, Action.ACKNOWLEDGE, by="班长01", at=ms("10:12"), comment="已电话提醒")
    closed = transition(acked, Action.CLOSE, by="班长01", at=ms("10:30"), comment="核实: 离岗")
    assert closed.state is AlertState.CLOSED
    assert [(h.action, h.by, h.at, h.before, h.after) for h in closed.history] == [
        (Action.ACKNOWLEDGE, "班长01", ms("10:12"), AlertState.OPEN, AlertState.ACKNOWLEDGED),
        (Action.CLOSE, "班长01", ms("10:30"), AlertState.ACKNOWLEDGED, AlertState.CLOSED),
    ]
    assert closed.facts() == alert.facts()
    reopened = transition(closed, Action.REOPEN, by="纪检", at=ms("11:00"), comment="复查")
    assert reopened.state is AlertState.OPEN


@pytest.mark.parametrize(
    ("state", "action"),
    [(s, a) for s in AlertState for a in Action if (s, a) not in TRANSITIONS],
)
def test_transitions_not_in_the_table_are_refused(state: AlertState, action: Action) -> None:
    _, alert = raised()
    path = {
        AlertState.OPEN: [],
        AlertState.ACKNOWLEDGED: [Action.ACKNOWLEDGE],
        AlertState.CLOSED: [Action.CLOSE],
    }[state]
    for step in path:
        alert = transition(alert, step, by="班长01", at=ms("10:12"), comment="x")
    assert alert.state is state
    with pytest.raises(LifecycleError, match="cannot"):
        transition(alert, action, by="班长01", at=ms("10:13"), comment="x")


@pytest.mark.parametrize(
    ("by", "comment", "at", "message"),
    [
        ("", "ok", ms("10:12"), "must be named"),
        ("班长01", " ", ms("10:12"), "comment is required"),
        ("班长01", "ok", ms("10:10"), "before the last change"),
    ],
)
def test_who_and_why_are_required(by: str, comment: str, at: int, message: str) -> None:
    _, alert = raised()
    alert = transition(alert, Action.ACKNOWLEDGE, by="班长01", at=ms("10:11"), comment="seen")
    with pytest.raises(LifecycleError, match=message):
        transition(alert, Action.CLOSE, by=by, at=at, comment=comment)


def test_a_newer_version_of_a_handled_alert_keeps_its_lifecycle() -> None:
    dog, alert = raised()
    acked = dog.transition(alert.id, Action.ACKNOWLEDGE, by="班长01", at=ms("10:12"), comment="x")
    [update] = dog.feed(AgentChange(ms("10:20"), "王芳", "unpause", "intake"))
    assert (update.id, update.end) == (alert.id, ms("10:20"))
    assert (update.state, update.history) == (acked.state, acked.history)


def test_escalation_note_then_supervisor_stops_once_acknowledged() -> None:
    _, alert = raised()  # long_pause: note at once, the supervisor after 5 min
    assert [s.action for s in escalation(alert, ms("10:11"), *_policy(alert))] == [
        StepAction.NOTE_AGENT
    ]
    steps = escalation(alert, ms("10:16"), *_policy(alert))
    assert [(s.action, s.to, s.at) for s in steps] == [
        (StepAction.NOTE_AGENT, "王芳", ms("10:11")),
        (StepAction.ALERT_SUPERVISOR, "班长01", ms("10:16")),
    ]
    acked = transition(alert, Action.ACKNOWLEDGE, by="班长01", at=ms("10:13"), comment="x")
    assert [s.action for s in escalation(acked, ms("10:30"), *_policy(acked))] == [
        StepAction.NOTE_AGENT
    ]
    assert len({s.id for s in steps}) == 2  # the controller runs each id once


def test_a_forced_logout_only_while_the_pause_goes_on() -> None:
    dog, alert = raised()
    policy = RulePolicy(
        Severity.WARNING,
        (
            EscalationStep(StepAction.NOTE_AGENT, 0),
            EscalationStep(StepAction.FORCE_LOGOUT, 10 * MIN),
        ),
    )
    steps = escalation(alert, ms("10:21"), policy, "班长01")
    assert [(s.action, s.to, s.queues) for s in steps][-1] == (
        StepAction.FORCE_LOGOUT, "王芳", ("intake",)
    )  # fmt: skip
    [ended] = dog.feed(AgentChange(ms("10:15"), "王芳", "unpause", "intake"))
    assert [s.action for s in escalation(ended, ms("10:30"), policy, "班长01")] == [
        StepAction.NOTE_AGENT
    ]


def test_the_watchdog_knows_each_team_s_supervisor() -> None:
    dog, alert = raised()
    assert {s.to for s in dog.escalation(alert, ms("12:00"))} == {"王芳", "班长01"}
    assert alert.rule is RuleId.LONG_PAUSE


def _policy(alert: Alert) -> tuple[RulePolicy, str]:
    return CENTER.watchdog.policy(alert.rule), "班长01"
