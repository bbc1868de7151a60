"""What the controller does about alerts, as pure parts: lifecycles kept on documents and
across restarts, the journal's supervision entries ignored by the rules, bounded memory."""

from __future__ import annotations

import pytest

from hotline.core.records import AgentChange
from hotline.queuelog import ParseProblem, build, parse_lines
from hotline.stores.docs import alert_doc, to_doc
from hotline.watchdog import Action, AlertState, LifecycleError, Watchdog, replay
from hotline.watchdog.alerts import lifecycle_of, step, transition
from hotline.watchdog.engine import REFRESH_MS

from .scenes import CENTER, ms, wuyi


def long_pause(dog: Watchdog) -> str:
    dog.feed(AgentChange(ms("10:00"), "王芳", "login", "intake"))
    dog.feed(AgentChange(ms("10:01"), "王芳", "pause", "intake", "busy"))
    [alert] = dog.tick(ms("10:11"))
    return alert.id


def test_a_stored_document_keeps_its_lifecycle_and_refuses_what_the_table_refuses() -> None:
    dog = Watchdog(CENTER.watchdog, CENTER)
    alert = dog.alert(long_pause(dog))
    assert alert is not None
    acked = transition(alert, Action.ACKNOWLEDGE, by="班长01", at=ms("10:12"), comment="已提醒")
    doc = alert_doc(acked)
    state, history = lifecycle_of(doc)
    assert (state, history) == (acked.state, acked.history)
    # what the controller does with an alert the engine has forgotten
    s = step(state, history, Action.CLOSE, by="班长01", at=ms("10:40"), comment="核实")
    assert s.after is AlertState.CLOSED
    doc = {**doc, "state": s.after.value, "history": [*doc["history"], to_doc(s)]}
    assert lifecycle_of(doc)[0] is AlertState.CLOSED
    with pytest.raises(LifecycleError, match="cannot close an alert that is closed"):
        step(*lifecycle_of(doc), Action.CLOSE, by="班长01", at=ms("10:41"), comment="again")
    with pytest.raises(LifecycleError, match="unreadable lifecycle"):
        lifecycle_of({"id": "x", "state": "open", "history": [{"action": "shrug"}]})


def test_an_adopted_lifecycle_survives_a_restart_of_the_engine() -> None:
    before = Watchdog(CENTER.watchdog, CENTER)
    alert_id = long_pause(before)
    acked = before.transition(alert_id, Action.ACKNOWLEDGE, by="班长01", at=ms("10:12"),
                              comment="已提醒")  # fmt: skip
    # the controller restarts: a new engine, the same pause again (resynced), same id
    after = Watchdog(CENTER.watchdog, CENTER)
    after.adopt(alert_id, acked.state, acked.history)
    assert long_pause(after) == alert_id
    remade = after.alert(alert_id)
    assert remade is not None
    assert (remade.state, remade.history) == (AlertState.ACKNOWLEDGED, acked.history)
    plain = Watchdog(CENTER.watchdog, CENTER)
    long_pause(plain)
    assert plain.alert(alert_id).state is AlertState.OPEN  # type: ignore[union-attr]


def test_supervision_entries_in_the_journal_change_no_alert() -> None:
    log = wuyi()
    entries = [e for e in parse_lines(log.text.splitlines(True)) if not isinstance(e, ParseProblem)]
    built = build(entries)
    plain = replay(Watchdog(CENTER.watchdog, CENTER), built.agent_changes, built.calls)
    noted = list(built.agent_changes)
    for a in plain:  # what the controller journals about each alert, at its time
        noted += [
            AgentChange(a.t_raised, a.agent, "alert", reason=a.rule.value, actor="watchdog"),
            AgentChange(a.t_raised, a.agent, "escalation", reason="note_agent", actor="watchdog"),
            AgentChange(a.t_raised + 1, a.agent, "alert_acknowledge", actor="班长01", note="x"),
        ]
    noted.append(AgentChange(ms("09:00"), "", "notice", reason="water-cut", actor="班长01"))
    noted.sort(key=lambda c: c.t)
    again = replay(Watchdog(CENTER.watchdog, CENTER), noted, built.calls)
    assert [a.facts() for a in again] == [a.facts() for a in plain]
    assert plain  # the Wuyi day raises alerts: the comparison is not empty


def test_the_live_engine_forgets_finished_alerts_and_hands_each_out_first() -> None:
    """A month of daily pauses: the controller's engine holds about a day's alerts."""
    kept, bounded = (
        Watchdog(CENTER.watchdog, CENTER),
        Watchdog(CENTER.watchdog, CENTER, keep_alerts=False),
    )
    handed: set[str] = set()
    for day in range(30):
        for hms in ("09:00", "11:00", "14:00"):
            t = ms(hms, day)
            for dog in (kept, bounded):
                dog.feed(AgentChange(t, "王芳", "login", "intake"))
                dog.feed(AgentChange(t + 60_000, "王芳", "pause", "intake", "busy"))
                out = dog.feed(AgentChange(t + 20 * 60_000, "王芳", "unpause", "intake"))
                out += dog.tick(t + REFRESH_MS + 3600_000)
                if dog is bounded:
                    handed |= {a.id for a in out}
    assert len(kept.alerts()) >= 90
    assert handed == {a.id for a in kept.alerts()}  # nothing lost on the way out
    assert len(bounded.alerts()) < 10
