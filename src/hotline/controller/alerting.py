"""The watchdog's alerts in the running controller: handled by supervisors, escalated.

:class:`Alerting` owns what the controller remembers about alerts (those journaled as
raised, the escalation steps carried out, the notes on the live store) and does:

- ``handle``: a supervisor acknowledges, closes or reopens an alert (``hotline alerts ack``,
  the wallboard); the alert's new version is published and stored, and the journal says
  who did it, when and why. An alert the engine no longer holds (it stopped changing a
  while ago) is handled on its stored document.
- ``escalate``: each second, the escalation steps that fell due (center.yaml
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
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from hotline.commands.bus import Reply
from hotline.commands.plan import Command, Verb
from hotline.controller.outbox import Publish
from hotline.core.records import AgentChange
from hotline.stores.docs import alert_doc, to_doc
from hotline.stores.live import Change
from hotline.watchdog import Action, Alert, LifecycleError, Step, StepAction, Watchdog, engine
from hotline.watchdog.alerts import lifecycle_of, step

log = logging.getLogger(__name__)
ACTIONS = {
    Verb.ACKNOWLEDGE: Action.ACKNOWLEDGE,
    Verb.CLOSE: Action.CLOSE,
    Verb.REOPEN: Action.REOPEN,
}
# lifecycles and steps restored at start, notes kept: as long as the engine keeps its journal
KEEP_MS = engine.KEEP_MS
WATCHDOG = "watchdog"  # the actor of escalation steps in the journal


class AlertHistory(Protocol):
    """The stored alerts and steps (:class:`hotline.stores.history.History`)."""

    def alerts(
        self, agent: str | None = None, *, since: int | None = None, until: int | None = None,
        state: str | None = None,
    ) -> list[dict[str, Any]]: ...  # fmt: skip

    def alert(self, alert_id: str) -> dict[str, Any] | None: ...

    def escalations(self, *, alert: str | None = None, since: int = 0) -> list[dict[str, Any]]: ...


class LiveAlerts(Protocol):
    """The alerts on the live store (:class:`hotline.stores.live.LiveStore`)."""

    async def alerts(self) -> dict[str, dict[str, Any]]: ...


class Alerting:
    """The watchdog's alerts published, handled by supervisors and escalated.

    ``carry_out`` carries out an agent command (a forced logout), as a supervisor's would be.
    """

    def __init__(
        self,
        watchdog: Watchdog,
        outbox: Publish,
        history: AlertHistory,
        live: LiveAlerts,
        *,
        carry_out: Callable[[Command], Awaitable[Reply]],
        clock: Callable[[], int],
    ) -> None:
        self.watchdog = watchdog
        self.outbox = outbox
        self.history = history
        self.live = live
        self.carry_out = carry_out
        self.clock = clock
        self.announced: dict[str, int] = {}  # alert id -> t_raised: journaled as raised
        self.steps_done: set[str] = set()  # escalation steps carried out (Step.id)
        self.notes: dict[str, int] = {}  # escalation notes on the live store -> when

    async def restore(self) -> None:
        """Adopt the stored lifecycles of recent alerts; remember the steps already done."""
        since = self.clock() - KEEP_MS
        docs = await asyncio.to_thread(self.history.alerts, since=since)
        for doc in docs:
            try:
                state, history = lifecycle_of(doc)
            except LifecycleError as exc:
                log.error("%s", exc)
                continue
            self.announced[doc["id"]] = int(doc["t_raised"])
            if history:
                self.watchdog.adopt(doc["id"], state, history)
        done = await asyncio.to_thread(self.history.escalations, since=since)
        self.steps_done.update(row["step_id"] for row in done)
        # alerts a controller stopped before expiring them: off the live store too
        for alert_id, doc in (await self.live.alerts()).items():
            if int(doc.get("t_raised") or 0) < since:
                self.outbox.put(Change("alert", alert_id, None))

    def publish(self, alerts: list[Alert]) -> None:
        """Publish and keep the watchdog's alerts (new ones and new versions)."""
        for alert in alerts:
            self.announce(alert)
            self.outbox.store_alert(alert.id, alert_doc(alert))

    def announce(self, alert: Alert) -> None:
        """Journal an alert the first time it is raised (later versions are not news)."""
        if alert.id in self.announced:
            return
        self.announced[alert.id] = alert.t_raised
        self.outbox.journal(
            AgentChange(
                t=self.clock(),
                agent=alert.agent,
                kind="alert",
                reason=alert.rule.value,
                actor=WATCHDOG,
                note=f"{alert.id}: {alert.label} ({alert.severity.value})",
            )
        )

    async def handle(self, command: Command) -> Reply:
        """Acknowledge, close or reopen the alert ``command.alert``."""
        action = ACTIONS[command.verb]
        alert_id, by, comment = command.alert, command.actor, command.comment
        if not alert_id:
            return Reply(False, f"{action.value}: which alert? (an alert id)")
        now = self.clock()
        try:
            if self.watchdog.alert(alert_id) is not None:
                alert = self.watchdog.transition(alert_id, action, by=by, at=now, comment=comment)
                self.publish([alert])
                agent, state = alert.agent, alert.state.value
            else:
                doc = await asyncio.to_thread(self.history.alert, alert_id)
                if doc is None:
                    return Reply(False, f"no alert {alert_id!r}", {"alert": alert_id}, "no_alert")
                before, history = lifecycle_of(doc)
                s = step(before, history, action, by=by, at=now, comment=comment)
                doc = {**doc, "state": s.after.value,
                       "history": [*doc.get("history", []), to_doc(s)]}  # fmt: skip
                self.outbox.store_alert(alert_id, doc)
                agent, state = str(doc.get("agent", "")), s.after.value
        except LifecycleError as exc:
            return Reply(False, str(exc))
        self.outbox.journal(
            AgentChange(
                t=now,
                agent=agent,
                kind=f"alert_{action.value}",
                actor=by,
                note=f"{alert_id}: {comment}",
            )
        )
        return Reply(True, f"{alert_id}: {state}", {"alert": alert_id, "state": state},
                     f"alert_{state}")  # fmt: skip

    def due_steps(self, now: int) -> list[Step]:
        """The steps due by ``now`` not yet carried out (nor being carried out)."""
        steps = []
        for alert in self.watchdog.active():
            for s in self.watchdog.escalation(alert, now):
                if s.id not in self.steps_done:
                    steps.append(s)
        return steps

    async def escalate(self, steps: list[Step]) -> None:
        """Carry out ``steps`` in order; each is marked done first, so it runs at most once."""
        for s in steps:
            self.steps_done.add(s.id)
            now = self.clock()
            if s.action is StepAction.FORCE_LOGOUT:
                command = Command(
                    id=f"escalation:{s.id}", verb=Verb.LOGOUT, agent=s.agent, actor=WATCHDOG,
                    supervisor=True, issued_at=now,
                )  # fmt: skip
                reply = await self.carry_out(command)
                result = ("done: " if reply.ok else "failed: ") + reply.message
            else:
                role = "supervisor" if s.action is StepAction.ALERT_SUPERVISOR else "agent"
                note: dict[str, Any] = {
                    "id": s.id, "t": now, "t_due": s.at, "to": s.to, "role": role,
                    "agent": s.agent, "alert": s.alert, "action": s.action.value, "text": s.text,
                }  # fmt: skip
                self.outbox.put(Change("note", s.id, note))
                self.notes[s.id] = now
                result = f"note to {s.to}"
            log.warning("escalation %s (%s): %s", s.id, s.action.value, result)
            self.outbox.journal(
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
            self.outbox.store_escalation(row)

    def expire_notes(self, now: int) -> None:
        """Take notes and alerts raised more than KEEP_MS ago off the live store (the journal
        and the history keep them; the wallboard reads an alert no longer live from there)."""
        for note_id, t in list(self.notes.items()):
            if t < now - KEEP_MS:
                del self.notes[note_id]
                self.outbox.put(Change("note", note_id, None))
        for alert_id, t in list(self.announced.items()):
            if t < now - KEEP_MS:
                del self.announced[alert_id]
                self.outbox.put(Change("alert", alert_id, None))
