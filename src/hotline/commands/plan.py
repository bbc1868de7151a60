"""Agent and supervisor commands: what they mean in AMI actions (pure).

``hotline agent pause 1001 --reason meal`` becomes a :class:`Command`; the running
controller turns it into actions with :func:`plan` (QueueAdd / QueueRemove / QueuePause with
the reason code, so queue_log says ``PAUSE|meal``), remembers who asked, and replies.
Supervisors' forced pause and forced logout are the same actions, recorded as such.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from hotline.agents.roster import Agent, Roster
from hotline.core.records import PauseSetBy
from hotline.ivr.asterisk import NOTICE_VARIABLE


class Verb(Enum):
    LOGIN = "login"
    LOGOUT = "logout"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    # the watchdog's alerts (``alert``, ``comment``): supervisors handle them
    ACKNOWLEDGE = "ack"
    CLOSE = "close"
    REOPEN = "reopen"
    # the IVR announcement (``notice``: a name from the flow's announcements, "" = off)
    NOTICE = "notice"
    # call a citizen back (``task``: the recall task; ``agent``: whose phone rings first)
    RECALL = "recall"
    # the IVR's 回访 call after 办结 (``task``: the work order)
    VISIT = "visit"
    # live supervision (``hotline supervise``): the supervisor's phone joins the agent's call
    SUPERVISE = "supervise"
    # transfer a call (``hotline transfer``): ``call``, ``target``, ``mode`` blind, attended,
    # conference; ``agent`` is the call's agent
    TRANSFER = "transfer"

    @property
    def on_agent(self) -> bool:
        """Whether the verb acts on an agent's queue membership (planned by :func:`plan`)."""
        return self in AGENT_VERBS


AGENT_VERBS = frozenset({Verb.LOGIN, Verb.LOGOUT, Verb.PAUSE, Verb.UNPAUSE})
ALERT_VERBS = frozenset({Verb.ACKNOWLEDGE, Verb.CLOSE, Verb.REOPEN})


class CommandError(ValueError):
    """The command cannot be carried out as asked; the text says why (shown to the user)."""


@dataclass(frozen=True, slots=True)
class Command:
    id: str
    verb: Verb
    agent: str  # extension or name
    actor: str  # who asked (the agent themself, or a supervisor)
    queue: str | None = None  # None: every queue of the agent
    reason: str | None = None  # a pause reason code from center.yaml
    supervisor: bool = False  # a supervisor acting on someone else's behalf
    issued_at: int = 0  # ms
    alert: str = ""  # the alert an ack/close/reopen is about
    comment: str = ""  # why (required for the alert verbs)
    notice: str = ""  # the announcement NOTICE switches on ("" switches it off)
    task: str = ""  # the recall task RECALL dials
    mode: str = ""  # SUPERVISE: listen, whisper or barge
    phone: str = ""  # SUPERVISE: the supervisor's softphone (extension) that joins
    call: str = ""  # SUPERVISE: the call the supervisor picked ("" when they picked the agent)
    target: str = ""  # TRANSFER: a queue, an agent's extension or a department (center.yaml)

    def fields(self) -> dict[str, str]:
        """As flat strings, for a Redis stream entry."""
        return {
            "id": self.id,
            "verb": self.verb.value,
            "agent": self.agent,
            "actor": self.actor,
            "queue": self.queue or "",
            "reason": self.reason or "",
            "supervisor": "1" if self.supervisor else "",
            "issued_at": str(self.issued_at),
            "alert": self.alert,
            "comment": self.comment,
            "notice": self.notice,
            "task": self.task,
            "mode": self.mode,
            "phone": self.phone,
            "call": self.call,
            "target": self.target,
        }

    @classmethod
    def from_fields(cls, raw: dict[str, str]) -> Command:
        try:
            return cls(
                id=raw["id"],
                verb=Verb(raw["verb"]),
                agent=raw["agent"],
                actor=raw.get("actor", ""),
                queue=raw.get("queue") or None,
                reason=raw.get("reason") or None,
                supervisor=raw.get("supervisor") == "1",
                issued_at=int(raw.get("issued_at") or 0),
                alert=raw.get("alert", ""),
                comment=raw.get("comment", ""),
                notice=raw.get("notice", ""),
                task=raw.get("task", ""),
                mode=raw.get("mode", ""),
                phone=raw.get("phone", ""),
                call=raw.get("call", ""),
                target=raw.get("target", ""),
            )
        except (KeyError, ValueError) as exc:
            raise CommandError(f"malformed command: {exc}") from None


@dataclass(frozen=True, slots=True)
class Planned:
    agent: Agent
    set_by: PauseSetBy
    actions: tuple[tuple[str, dict[str, str]], ...]


def plan(command: Command, center: Roster) -> Planned:
    """The AMI actions for an agent ``command``; CommandError if it is not allowed."""
    if not command.verb.on_agent:
        raise CommandError(f"{command.verb.value} does not act on an agent")
    agent = center.agent(command.agent)
    if agent is None:
        raise CommandError(f"unknown agent {command.agent!r} (see center.yaml)")
    queues = agent.queues if command.queue is None else (command.queue,)
    if command.queue is not None and command.queue not in agent.queues:
        raise CommandError(f"{agent.name} does not serve queue {command.queue!r}")
    set_by = PauseSetBy.SUPERVISOR if command.supervisor else PauseSetBy.SELF
    actions: list[tuple[str, dict[str, str]]] = []
    if command.verb is Verb.LOGIN:
        for queue in queues:
            actions.append(
                (
                    "QueueAdd",
                    {
                        "Queue": queue,
                        "Interface": agent.interface,
                        "MemberName": agent.name,
                        "StateInterface": agent.state_interface,
                    },
                )
            )
    elif command.verb is Verb.LOGOUT:
        actions = [("QueueRemove", {"Queue": q, "Interface": agent.interface}) for q in queues]
    elif command.verb is Verb.PAUSE:
        code = command.reason or "busy"
        reason = center.reasons.get(code)
        if reason is None:
            known = ", ".join(sorted(center.reasons))
            raise CommandError(f"unknown pause reason {code!r} (one of: {known})")
        if reason.supervisor_only and not command.supervisor:
            raise CommandError(f"only a supervisor may set {reason.label} ({code})")
        actions = [
            ("QueuePause", {"Queue": q, "Interface": agent.interface, "Paused": "true",
                            "Reason": code})
            for q in queues
        ]  # fmt: skip
    else:
        actions = [
            ("QueuePause", {"Queue": q, "Interface": agent.interface, "Paused": "false"})
            for q in queues
        ]
    return Planned(agent, set_by, tuple(actions))


def plan_notice(command: Command, announcements: Iterable[str]) -> tuple[str, dict[str, str]]:
    """The Setvar that switches the IVR announcement (a global: no Channel header)."""
    known = sorted(announcements)
    if command.notice and command.notice not in known:
        raise CommandError(
            f"unknown announcement {command.notice!r} (the flow has: {', '.join(known) or 'none'})"
        )
    if not command.supervisor:
        raise CommandError("only a supervisor may switch the announcement")
    return ("Setvar", {"Variable": NOTICE_VARIABLE, "Value": command.notice})
