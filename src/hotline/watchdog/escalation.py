"""Escalation: which steps of a rule's policy are due for an alert (pure, data in and out).

    for step in escalation(alert, now, center.watchdog.policy(alert.rule), supervisor):
        if step.id not in done:          # the controller runs each step once, and journals it
            run(step); done.add(step.id)

A step is due ``after_ms`` after the alert was raised. Steps stop once the alert leaves
OPEN (a supervisor acknowledged or closed it): those that fell due before still stand. A
forced logout is only for an episode still going on when it falls due (logging out an agent
who is back at work punishes nobody and loses calls).
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.watchdog.alerts import Alert, AlertState
from hotline.watchdog.config import RulePolicy, StepAction

__all__ = ["Step", "escalation"]


@dataclass(frozen=True, slots=True)
class Step:
    id: str  # f"{alert id}#{n}": run once
    alert: str
    action: StepAction
    at: int  # ms: when it fell due
    to: str  # the agent (note, logout) or the team's supervisor
    agent: str
    queues: tuple[str, ...]  # a forced logout removes the agent from these (QueueRemove)
    text: str  # what the note or alert says


def escalation(alert: Alert, now: int, policy: RulePolicy, supervisor: str) -> list[Step]:
    """The steps of ``policy`` due for ``alert`` by ``now``, in order."""
    held = alert.history[-1].at if alert.state is not AlertState.OPEN and alert.history else None
    steps = []
    for n, step in enumerate(policy.escalation):
        at = alert.t_raised + step.after_ms
        if at > now or (held is not None and at >= held):
            continue
        if step.action is StepAction.FORCE_LOGOUT and alert.end is not None and alert.end <= at:
            continue
        to = supervisor if step.action is StepAction.ALERT_SUPERVISOR else alert.agent
        if not to:
            continue
        text = f"{alert.rule.label}: {alert.agent}"
        if alert.cost.missed:
            text += f", {alert.cost.missed} calls missed"
        steps.append(
            Step(f"{alert.id}#{n}", alert.id, step.action, at, to, alert.agent, alert.queues, text)
        )
    return steps
