"""Transfers: an agent's call goes to another queue, an agent or a department (pure).

    target = resolve_target("housing", center, queues)     # Target(DEPARTMENT, ...) or error
    check_transferer(grant, call_agent)                     # the call's agent, or a supervisor
    actions = plan_transfer(Mode("blind"), agent_channel, target)

Every kind acts on the AGENT's channel, never the caller's: Asterisk 22 then writes the
transfer into queue_log (BLINDTRANSFER, ATTENDEDTRANSFER) and app_queue ends the agent's
part with AgentComplete Reason ``transfer``, so the call stays one call (calls.state). A
Redirect of the caller instead leaves a stale COMPLETECALLER behind.

- blind: ``BlindTransfer`` sends the citizen to the target at once: a queue's own context
  (the citizen waits there like any caller, the queue visits follow one another), an
  agent's softphone (``hotline-transfer``), or a department's duty line through the
  trunk (``hotline-outbound``, the number from center.yaml).
- attended: the atxfer keys (as ``Atxfer`` sends them) hold the citizen while the agent
  talks to the target; the agent completes (hangs up, or the atxfercomplete keys) or
  cancels (``CancelAtxfer``).
- conference (三方通话): an attended transfer that becomes three-way once the target
  answers: the atxferthreeway keys, emulated as received on the agent's channel
  (``PlayDTMF`` with ``Receive``), put citizen, agent and target in one bridge.

The citizen's channel keeps its MixMonitor throughout, so the recording follows the call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from hotline.agents.roster import Agent
from hotline.commands.plan import CommandError
from hotline.commands.supervise import SUPERVISOR_ROLE, SupervisorGrant
from hotline.ivr.asterisk import queue_context
from hotline.ivr.model import QueueSpec
from hotline.orders.config import Department

AGENT_CONTEXT = "hotline-transfer"
"""The dialplan context that rings an agent's softphone (pbx/dialplan/extensions.conf)."""
OUTBOUND = "hotline-outbound"
"""The trunk's only way out (pbx.trunk.OUTBOUND: that module reads settings, this one is pure)."""
AGENT_ROLE = "agent"
JOURNAL_KIND = "transfer"
EVENT = "HotlineTransfer"
"""The UserEvent the controller sends once a transfer is under way (the calls reducer notes it
on the call: ``Uniqueid`` is the call)."""
# features.conf [featuremap]: what Atxfer, CancelAtxfer and the three-way step send. Keys an
# agent would not press by chance: the agents' phones could dial them as well.
ATXFER_KEYS = "*#7"
ABORT_KEYS = "*#0"
COMPLETE_KEYS = "*#1"
THREEWAY_KEYS = "*#3"

Action = tuple[str, list[tuple[str, str]]]
CHANNEL_BAD = ",|\r\n"


class Mode(Enum):
    BLIND = "blind"
    ATTENDED = "attended"
    CONFERENCE = "conference"


MODES = tuple(m.value for m in Mode)


class TargetKind(Enum):
    QUEUE = "queue"
    AGENT = "agent"
    DEPARTMENT = "department"


@dataclass(frozen=True, slots=True)
class Target:
    kind: TargetKind
    name: str  # the queue, the agent's extension, the department's code
    label: str  # what people read: the queue, the agent's name, 住建局
    context: str
    exten: str

    def __str__(self) -> str:
        return f"{self.kind.value} {self.label}"


def resolve_target(
    to: str,
    agents: Mapping[str, Agent],
    queues: Mapping[str, QueueSpec] | Iterable[str],
    departments: Mapping[str, Department],
) -> Target:
    """What ``to`` names: a queue of the flow (its label read where the flow's specs are
    given), an agent (extension or name), or a department (code or name) with a duty
    number. CommandError says which are known."""
    labels = (
        {name: spec.label or name for name, spec in queues.items()}
        if isinstance(queues, Mapping)
        else {name: name for name in queues}
    )
    known_queues = sorted(labels)
    if to in labels:
        return Target(TargetKind.QUEUE, to, labels[to], queue_context(to), "s")
    for agent in agents.values():
        if to in (agent.ext, agent.name):
            return Target(TargetKind.AGENT, agent.ext, agent.name, AGENT_CONTEXT, agent.ext)
    for dept in departments.values():
        if to in (dept.code, dept.name):
            if not dept.phone:
                raise CommandError(
                    f"department {dept.name} ({dept.code}) has no duty number "
                    f"(center.yaml orders.departments.{dept.code}.phone)"
                )
            return Target(TargetKind.DEPARTMENT, dept.code, dept.name, OUTBOUND, dept.phone)
    raise CommandError(
        f"unknown transfer target {to!r}: not a queue ({', '.join(known_queues) or 'none'}), "
        f"an agent, or a department ({', '.join(sorted(departments)) or 'none'})"
    )


def check_transferer(grant: SupervisorGrant, agent: Agent, own_ext: str = "") -> None:
    """CommandError unless ``grant`` may transfer ``agent``'s call: the agent themself (an
    agent account whose extension ``own_ext`` is theirs), or an enabled supervisor of the
    agent's team."""
    if grant.disabled:
        raise CommandError(f"account {grant.username!r} is disabled")
    if grant.role == AGENT_ROLE:
        if own_ext != agent.ext:
            raise CommandError(
                f"{grant.username!r} may transfer only their own calls (this is {agent.name}'s)"
            )
        return
    if grant.role != SUPERVISOR_ROLE:
        raise CommandError(
            f"{grant.username!r} is {'an' if grant.role[:1] in 'aeiou' else 'a'} {grant.role}: "
            "only the call's agent or a supervisor transfers calls"
        )
    if not grant.all_teams and agent.team not in grant.teams:
        raise CommandError(
            f"{grant.username!r} is not a supervisor of {agent.name}'s team {agent.team!r}"
        )


def check_mode(mode: Mode, target: Target) -> None:
    """A queue takes blind transfers only: nobody there would answer the agent's consultation
    but the next free agent, which is a blind transfer with the first agent waiting."""
    if target.kind is TargetKind.QUEUE and mode is not Mode.BLIND:
        raise CommandError(f"a queue takes blind transfers only ({target.name}: no --{mode.value})")


def _safe(what: str, value: str, bad: str = ",|;\r\n") -> str:
    """``value`` unless it is empty or has a character AMI or the dialplan would read as
    syntax (a channel name may have ``;``: the halves of a Local channel)."""
    if not value or any(c in value for c in bad):
        raise CommandError(f"invalid {what} {value!r}")
    return value


def plan_transfer(mode: Mode, channel: str, target: Target) -> list[list[Action]]:
    """The actions that start the transfer of the agent's ``channel`` (the citizen is what
    is bridged to it), in steps the controller sends a moment apart.

    Blind: one ``BlindTransfer``. Attended and conference: TRANSFER_CONTEXT on the agent's
    channel, then the atxfer keys as if the agent pressed them, then (a step later) the
    target's digits and ``#``. Not AMI's ``Atxfer``: it queues the feature code and the
    digits at once, and on Asterisk 22 digits that reach the channel before the transfer
    starts collecting are lost ("Unable to acquire target extension", seen on the real
    PBX, now and then).
    """
    check_mode(mode, target)
    _safe("channel", channel, CHANNEL_BAD)
    context, exten = _safe("context", target.context), _safe("extension", target.exten)
    if mode is Mode.BLIND:
        return [[("BlindTransfer", [("Channel", channel), ("Context", context),
                                    ("Exten", exten)])]]  # fmt: skip
    if not exten.isdigit():
        raise CommandError(f"an attended transfer dials digits only, not {exten!r}")
    setvar = ("Setvar", [("Channel", channel), ("Variable", "TRANSFER_CONTEXT"),
                         ("Value", context)])  # fmt: skip
    return [[setvar, *plan_keys(channel, ATXFER_KEYS)], plan_keys(channel, exten + "#")]


def plan_keys(channel: str, keys: str) -> list[Action]:
    """The feature ``keys`` as if the agent pressed them: one PlayDTMF Receive per digit."""
    _safe("channel", channel, CHANNEL_BAD)
    return [
        ("PlayDTMF", [("Channel", channel), ("Digit", key), ("Duration", "100"),
                      ("Receive", "true")])
        for key in keys
    ]  # fmt: skip


def plan_threeway(channel: str) -> list[Action]:
    """Turn the agent's attended transfer into a three-way call (三方通话)."""
    return plan_keys(channel, THREEWAY_KEYS)


def plan_cancel(channel: str) -> list[Action]:
    """Cancel the agent's attended transfer: back to the citizen."""
    return [("CancelAtxfer", [("Channel", _safe("channel", channel, CHANNEL_BAD))])]


def plan_note(call: str, mode: Mode, target: Target, actor: str) -> Action:
    """The UserEvent that tells the calls reducer (and the AMI dump) what happened."""
    return (
        "UserEvent",
        [
            ("UserEvent", EVENT),
            ("Uniqueid", _safe("call", call)),
            ("Mode", mode.value),
            ("Kind", target.kind.value),
            ("Target", target.name),
            ("Actor", _safe("actor", actor)),
        ],
    )
