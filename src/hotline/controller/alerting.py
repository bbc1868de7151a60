"""The watchdog's alerts in the running controller: handled by supervisors, escalated.

- ``handle``: a supervisor acknowledges, closes or reopens an alert (``hotline alerts ack``,
  the wallboard); the alert's new version is published and stored, and the journal says
  who did it, when and why. An alert the engine no longer holds (it stopped changing a
  while ago) is handled on its stored document.
- ``escalate``: each second, the escalation steps that fell due (config/center.yaml
  ``watchdog.rules.<rule>.escalation``) are carried out once each: a note to the agent, a
  note to the team's supervisor, a forced logout (QueueRemove through the same path as a
  supervisor's ``hotline agent logout --supervisor``). Each is journaled and recorded in
  the history, so a restarted controller does not repeat it.
- ``restore``: at start, the lifecycles of the last day's alerts are given back to the
  engine, whose re-made alerts (same episode, same id) would otherwise be open again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from hotline.commands.bus import Reply
from hotline.commands.plan import Command, Verb
from hotline.core.records import AgentChange
from hotline.stores.docs import to_doc
from hotline.stores.live import Change
from hotline.watchdog import Action, Alert, LifecycleError, Step, StepAction, engine
from hotline.watchdog.alerts import lifecycle_of, step

if TYPE_CHECKING:
    from hotline.controller.core import Controller

log = logging.getLogger(__name__)
ACTIONS = {
    Verb.ACKNOWLEDGE: Action.ACKNOWLEDGE,
    Verb.CLOSE: Action.CLOSE,
    Verb.REOPEN: Action.REOPEN,
}
# lifecycles and steps restored at start, notes kept: as long as the engine keeps its journal
KEEP_MS = engine.KEEP_MS
WATCHDOG = "watchdog"  # the actor of escalation steps in the journal


async def restore(controller: Controller) -> None:
    """Adopt the stored lifecycles of recent alerts; remember the steps already done."""
    since = controller.clock() - KEEP_MS
    docs = await asyncio.to_thread(controller.history.alerts, since=since)
    for doc in docs:
        try:
            state, history = lifecycle_of(doc)
        except LifecycleError as exc:
            log.error("%s", exc)
            continue
        controller.announced[doc["id"]] = int(doc["t_raised"])
        if history:
            controller.watchdog.adopt(doc["id"], state, history)
    done = await asyncio.to_thread(controller.history.escalations, since=since)
    controller.steps_done.update(row["step_id"] for row in done)
    # alerts a controller stopped before expiring them: off the live store too
    for alert_id, doc in (await controller.live.alerts()).items():
        if int(doc.get("t_raised") or 0) < since:
            controller.pending.live[("alert", alert_id)] = Change("alert", alert_id, None)


def announce(controller: Controller, alert: Alert) -> None:
    """Journal an alert the first time it is raised (later versions are not news)."""
    if alert.id in controller.announced:
        return
    controller.announced[alert.id] = alert.t_raised
    controller.pending.journal.append(
        AgentChange(
            t=controller.clock(),
            agent=alert.agent,
            kind="alert",
            reason=alert.rule.value,
            actor=WATCHDOG,
            note=f"{alert.id}: {alert.label} ({alert.severity.value})",
        )
    )


async def handle(controller: Controller, command: Command) -> Reply:
    """Acknowledge, close or reopen the alert ``command.alert``."""
    action = ACTIONS[command.verb]
    alert_id, by, comment = command.alert, command.actor, command.comment
    if not alert_id:
        return Reply(False, f"{action.value}: which alert? (an alert id)")
    now = controller.clock()
    try:
        if controller.watchdog.alert(alert_id) is not None:
            alert = controller.watchdog.transition(alert_id, action, by=by, at=now, comment=comment)
            controller.publish_alerts([alert])
            agent, state = alert.agent, alert.state.value
        else:
            doc = await asyncio.to_thread(controller.history.alert, alert_id)
            if doc is None:
                return Reply(False, f"no alert {alert_id!r}")
            before, history = lifecycle_of(doc)
            s = step(before, history, action, by=by, at=now, comment=comment)
            doc = {**doc, "state": s.after.value, "history": [*doc.get("history", []), to_doc(s)]}
            controller.pending.live[("alert", alert_id)] = Change("alert", alert_id, doc)
            controller.pending.alerts[alert_id] = doc
            agent, state = str(doc.get("agent", "")), s.after.value
    except LifecycleError as exc:
        return Reply(False, str(exc))
    controller.pending.journal.append(
        AgentChange(
            t=now,
            agent=agent,
            kind=f"alert_{action.value}",
            actor=by,
            note=f"{alert_id}: {comment}",
        )
    )
    return Reply(True, f"{alert_id}: {state}", {"state": state})


def due_steps(controller: Controller, now: int) -> list[Step]:
    """The steps due by ``now`` not yet carried out (nor being carried out)."""
    steps = []
    for alert in controller.watchdog.active():
        for s in controller.watchdog.escalation(alert, now):
            if s.id not in controller.steps_done:
                steps.append(s)
    return steps


async def escalate(controller: Controller, steps: list[Step]) -> None:
    """Carry out ``steps`` in order; each is marked done first, so it runs at most once."""
    for s in steps:
        controller.steps_done.add(s.id)
        now = controller.clock()
        if s.action is StepAction.FORCE_LOGOUT:
            command = Command(
                id=f"escalation:{s.id}", verb=Verb.LOGOUT, agent=s.agent, actor=WATCHDOG,
                supervisor=True, issued_at=now,
            )  # fmt: skip
            reply = await controller.agent_actions.carry_out(command)
            result = ("done: " if reply.ok else "failed: ") + reply.message
        else:
            role = "supervisor" if s.action is StepAction.ALERT_SUPERVISOR else "agent"
            note: dict[str, Any] = {
                "id": s.id, "t": now, "t_due": s.at, "to": s.to, "role": role,
                "agent": s.agent, "alert": s.alert, "action": s.action.value, "text": s.text,
            }  # fmt: skip
            controller.pending.live[("note", s.id)] = Change("note", s.id, note)
            controller.notes[s.id] = now
            result = f"note to {s.to}"
        log.warning("escalation %s (%s): %s", s.id, s.action.value, result)
        controller.pending.journal.append(
            AgentChange(
                t=now,
                agent=s.agent,
                kind="escalation",
                reason=s.action.value,
                actor=WATCHDOG,
                note=f"{s.alert} -> {s.to}: {s.text}; {result}",
            )
        )
        row = {"step_id": s.id, "alert": s.alert, "action": s.action.value, "target": s.to,
               "agent": s.agent, "t_due": s.at, "t_done": now, "result": result}  # fmt: skip
        controller.pending.escalations.append(row)


def expire_notes(controller: Controller, now: int) -> None:
    """Take notes and alerts raised more than KEEP_MS ago off the live store (the journal
    and the history keep them; the wallboard reads an alert no longer live from there)."""
    for note_id, t in list(controller.notes.items()):
        if t < now - KEEP_MS:
            del controller.notes[note_id]
            controller.pending.live[("note", note_id)] = Change("note", note_id, None)
    for alert_id, t in list(controller.announced.items()):
        if t < now - KEEP_MS:
            del controller.announced[alert_id]
            controller.pending.live[("alert", alert_id)] = Change("alert", alert_id, None)
