"""Alerting: what a raised alert writes, which escalation step runs when (once), what a
supervisor's acknowledgement does, and what a restarted controller remembers."""

from __future__ import annotations

import asyncio

import pytest

from hotline.agents.state import Agents
from hotline.agents.status import PausePolicy
from hotline.ami.stand_in import StandInAMI
from hotline.center.config import Center, load_center
from hotline.commands.plan import Command, Verb
from hotline.controller.agent_actions import AgentActions
from hotline.controller.alerting import KEEP_MS, Alerting
from hotline.core.records import AgentChange
from hotline.host.settings import DEFAULT_CENTER
from hotline.stores.history import History
from hotline.stores.live import MemoryLive
from hotline.watchdog import Watchdog
from tests.unit.watchdog.scenes import ms

from .parts import CENTER, Clock, long_pause, outbox_on, watchdog

Parts = tuple[Alerting, Clock, StandInAMI]


def alerting_on(
    history: History, live: MemoryLive, center: Center = CENTER, dog: Watchdog | None = None
) -> Parts:
    outbox, _ = outbox_on(history, live)
    clock, ami = Clock(ms("10:11")), StandInAMI()
    agents = Agents(policy=PausePolicy.from_reasons(center.reasons.values()))
    actions = AgentActions(center, ami, agents, clock)
    dog = dog or Watchdog(center.watchdog, center)
    alerting = Alerting(dog, outbox, history, live, carry_out=actions.carry_out, clock=clock)
    return alerting, clock, ami


def flush(alerting: Alerting) -> None:
    asyncio.run(alerting.outbox.flush())  # type: ignore[attr-defined]


def supervise(
    alerting: Alerting, verb: Verb, alert: str, comment: str = "已提醒"
) -> tuple[bool, str]:
    command = Command(id="x", verb=verb, agent="", actor="班长01", alert=alert, comment=comment)
    reply = asyncio.run(alerting.handle(command))
    return reply.ok, reply.message


def test_a_raised_alert_is_journaled_once_and_stored_at_each_version(
    history: History, live: MemoryLive
) -> None:
    alerting, _, _ = alerting_on(history, live)
    alert = long_pause(alerting.watchdog)
    alerting.publish([alert])
    [update] = alerting.watchdog.feed(AgentChange(ms("10:20"), "王芳", "unpause", "intake"))
    alerting.publish([update])
    flush(alerting)
    raised = [c for c in history.journal() if c.kind == "alert"]
    assert [(c.agent, c.reason, c.actor) for c in raised] == [("王芳", "long_pause", "watchdog")]
    stored = history.alert(alert.id)
    assert stored is not None
    assert stored["end"] == ms("10:20")  # the newer version
    assert live.hashes["alert"][alert.id]["end"] == ms("10:20")


def test_each_escalation_step_runs_once_when_due(history: History, live: MemoryLive) -> None:
    alerting, clock, _ = alerting_on(history, live)
    alert = long_pause(alerting.watchdog)
    alerting.publish([alert])
    steps = alerting.due_steps(ms("10:11"))
    assert [(s.action.value, s.to) for s in steps] == [("note_agent", "王芳")]
    asyncio.run(alerting.escalate(steps))
    assert alerting.due_steps(ms("10:15")) == []  # done; the supervisor's is not due yet
    clock.now = ms("10:16")
    steps = alerting.due_steps(ms("10:16"))
    assert [(s.action.value, s.to) for s in steps] == [("alert_supervisor", "班长01")]
    asyncio.run(alerting.escalate(steps))
    flush(alerting)
    notes = live.hashes["note"]
    assert sorted((n["role"], n["to"], n["t"]) for n in notes.values()) == [
        ("agent", "王芳", ms("10:11")),
        ("supervisor", "班长01", ms("10:16")),
    ]
    rows = history.escalations(alert=alert.id)
    assert [(r["action"], r["target"], r["result"]) for r in rows] == [
        ("note_agent", "王芳", "note to 王芳"),
        ("alert_supervisor", "班长01", "note to 班长01"),
    ]
    assert [c.reason for c in history.journal() if c.kind == "escalation"] == [
        "note_agent", "alert_supervisor"]  # fmt: skip


def test_an_acknowledged_alert_goes_no_further_up(history: History, live: MemoryLive) -> None:
    alerting, clock, _ = alerting_on(history, live)
    alert = long_pause(alerting.watchdog)
    alerting.publish([alert])
    asyncio.run(alerting.escalate(alerting.due_steps(ms("10:11"))))
    clock.now = ms("10:13")
    assert supervise(alerting, Verb.ACKNOWLEDGE, alert.id) == (True, f"{alert.id}: acknowledged")
    assert alerting.due_steps(ms("10:30")) == []
    assert supervise(alerting, Verb.ACKNOWLEDGE, alert.id)[0] is False  # already
    flush(alerting)
    [acked] = [c for c in history.journal() if c.kind == "alert_acknowledge"]
    assert (acked.agent, acked.actor, acked.note) == ("王芳", "班长01", f"{alert.id}: 已提醒")
    stored = history.alert(alert.id)
    assert stored is not None
    assert stored["state"] == "acknowledged"


def test_an_alert_the_engine_forgot_is_handled_on_its_stored_document(
    history: History, live: MemoryLive
) -> None:
    alerting, _, _ = alerting_on(history, live)
    alert = long_pause(alerting.watchdog)
    alerting.publish([alert])
    flush(alerting)
    fresh, _, _ = alerting_on(history, live)  # a new engine: the alert is only stored
    fresh.clock = Clock(ms("11:00"))
    assert supervise(fresh, Verb.CLOSE, alert.id, "核实") == (True, f"{alert.id}: closed")
    assert supervise(fresh, Verb.CLOSE, "nope") == (False, "no alert 'nope'")
    assert supervise(fresh, Verb.CLOSE, "") == (False, "close: which alert? (an alert id)")
    flush(fresh)
    stored = history.alert(alert.id)
    assert stored is not None
    assert stored["state"] == "closed"
    assert stored["history"][-1]["by"] == "班长01"


def test_a_forced_logout_removes_the_agent_from_the_queues(
    history: History, live: MemoryLive
) -> None:
    text = (DEFAULT_CENTER).read_text(encoding="utf-8")
    text = text.replace(
        "  rules:                            # severity",
        "  rules:\n    long_pause:\n      escalation:\n"
        "        - {action: force_logout, after_seconds: 600}\n  # severity",
    )
    center = load_center(text)
    alerting, clock, ami = alerting_on(history, live, center, Watchdog(center.watchdog, center))
    alerting.publish([long_pause(alerting.watchdog)])
    assert alerting.due_steps(ms("10:20")) == []
    clock.now = ms("10:21")
    steps = alerting.due_steps(clock.now)
    asyncio.run(alerting.escalate(steps))
    assert [(name, h["Queue"]) for name, h in ami.sent] == [
        ("QueueRemove", "intake"),
        ("QueueRemove", "labour"),  # every queue of the roster, as a supervisor's logout
    ]
    flush(alerting)
    [row] = history.escalations()
    assert (row["action"], row["result"]) == ("force_logout", "done: logout 王芳 (intake, labour)")


def test_a_restarted_controller_neither_announces_nor_escalates_again(
    history: History, live: MemoryLive
) -> None:
    alerting, _, _ = alerting_on(history, live)
    alert = long_pause(alerting.watchdog)
    alerting.publish([alert])
    asyncio.run(alerting.escalate(alerting.due_steps(ms("10:11"))))
    flush(alerting)
    live.hashes["alert"]["yesterday"] = {"t_raised": ms("10:11") - KEEP_MS - 1}
    again, _, _ = alerting_on(history, live, dog=watchdog())
    asyncio.run(again.restore())
    again.publish([long_pause(again.watchdog)])  # the same pause, found at the resync
    assert again.due_steps(ms("10:12")) == []
    flush(again)
    assert [c.kind for c in history.journal()].count("alert") == 1
    assert "yesterday" not in live.hashes["alert"]
    assert alert.id in live.hashes["alert"]


@pytest.mark.parametrize("kind", ["alert", "note"])
def test_alerts_and_notes_raised_a_day_ago_leave_the_live_store(
    history: History, live: MemoryLive, kind: str
) -> None:
    """The live store held every alert forever; the history keeps them."""
    alerting, _, _ = alerting_on(history, live)
    now = 10 * KEEP_MS
    kept = alerting.announced if kind == "alert" else alerting.notes
    kept.update({"old": now - KEEP_MS - 1, "new": now - 1000})
    live.hashes[kind] = {"old": {}, "new": {}}  # type: ignore[index]
    alerting.expire_notes(now)
    flush(alerting)
    assert set(live.hashes[kind]) == {"new"}  # type: ignore[index]
    assert set(kept) == {"new"}


def test_the_replies_name_their_text_for_the_wallboard(history: History, live: MemoryLive) -> None:
    from hotline.web.i18n import reply_text

    alerting, _, _ = alerting_on(history, live)
    alert = long_pause(alerting.watchdog)
    alerting.publish([alert])
    command = Command(id="x", verb=Verb.ACKNOWLEDGE, agent="", actor="班长01", alert=alert.id,
                      comment="已提醒")  # fmt: skip
    reply = asyncio.run(alerting.handle(command))
    assert (reply.ok, reply.key) == (True, "alert_acknowledged"), reply
    assert reply_text(reply.key, reply.details, "zh") == f"告警 {alert.id} 已确认"
    missing = Command(id="y", verb=Verb.CLOSE, agent="", actor="班长01", alert="nope",
                      comment="已处理")  # fmt: skip
    reply = asyncio.run(alerting.handle(missing))
    assert (reply.ok, reply_text(reply.key, reply.details, "zh")) == (False, "没有告警 nope")
