"""Live supervision: a supervisor listens to, whispers to or barges into an agent's call (pure).

    mode = Mode("whisper")
    check_supervisor(SupervisorGrant("banzhang01", "supervisor", teams, False), agent)
    channel = agent_channel(core_show_channels, agent)      # PJSIP/1001-0000002a or None
    action, headers = plan_spy(session, mode, channel, agent, phone, actor)

The supervisor's softphone is originated into the dialplan context ``hotline-supervise``
(pbx/dialplan/extensions.conf), which runs ChanSpy on the agent's channel. The modes are
ChanSpy's: listen (spy: nobody hears the supervisor), whisper (``w``: only the agent hears
the supervisor), barge (``B``: the agent and the citizen both do). While joined, the
supervisor's keys switch the mode (ChanSpy ``d``): 4 listen, 5 whisper, 6 barge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from hotline.agents.roster import Agent
from hotline.ami.message import Message
from hotline.commands.plan import CommandError

CONTEXT = "hotline-supervise"
EXTEN = "spy"
NOTIFY_CHANNEL = "Local/beep@hotline-supervise-notify"
"""A Local channel whose other half plays a double beep: whispered into the agent's channel
when the centre tells agents that a supervisor joined (center.yaml supervision.notify_agent)."""
SUPERVISOR_ROLE = "supervisor"
ACCESS_END = "supervise-end"
"""The access-log action of a session's end (the start is ``supervise-<mode>``)."""


class Mode(Enum):
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"

    @property
    def key(self) -> str:
        """The supervisor's key that switches to this mode during the session (ChanSpy d)."""
        return {Mode.LISTEN: "4", Mode.WHISPER: "5", Mode.BARGE: "6"}[self]

    @property
    def access_action(self) -> str:
        return f"supervise-{self.value}"


MODES = tuple(m.value for m in Mode)


@dataclass(frozen=True, slots=True)
class SupervisorGrant:
    """Who asks, as the accounts store knows them: their role, the teams in their scope,
    and whether their scope is everything."""

    username: str
    role: str
    teams: frozenset[str]
    all_teams: bool = False
    disabled: bool = False


def check_supervisor(grant: SupervisorGrant, agent: Agent) -> None:
    """CommandError unless ``grant`` is an enabled supervisor of ``agent``'s team.

    Only supervisors listen in (an admin manages accounts, an auditor reviews recordings:
    neither joins live calls), and only on calls of their own teams: a scope of single
    queues does not reach the agents of another team who serve them.
    """
    if grant.disabled:
        raise CommandError(f"account {grant.username!r} is disabled")
    if grant.role != SUPERVISOR_ROLE:
        raise CommandError(
            f"{grant.username!r} is {'an' if grant.role[:1] in 'aeiou' else 'a'} {grant.role}: "
            "only supervisors listen to live calls"
        )
    if not grant.all_teams and agent.team not in grant.teams:
        teams = ", ".join(sorted(grant.teams)) or "none"
        raise CommandError(
            f"{grant.username!r} is not a supervisor of {agent.name}'s team {agent.team!r} "
            f"(their teams: {teams})"
        )


def channel_prefix(agent: Agent) -> str:
    """The start of every channel name of the agent's interface: ``PJSIP/1001-`` for
    ``PJSIP/1001``, ``Local/8001@ctx-`` for ``Local/8001@ctx/n``."""
    interface = agent.interface
    if interface.startswith("Local/") and interface.count("/") > 1:
        interface = interface.rsplit("/", 1)[0]
    return f"{interface}-"


def agent_channel(channels: Iterable[Message], agent: Agent) -> str | None:
    """The agent's channel in a call, from CoreShowChannels' ``CoreShowChannel`` items: a
    channel of the agent's interface that is in a bridge (of a Local member, the ``;1``
    half, which the queue bridges with the caller). None when the agent is in no call."""
    prefix = channel_prefix(agent)
    found = []
    for ch in channels:
        name = ch.get("Channel") or ""
        if ch.name != "CoreShowChannel" or not name.startswith(prefix) or not ch.get("BridgeId"):
            continue
        if name.startswith("Local/") and not name.endswith(";1"):
            continue
        found.append(name)
    return sorted(found)[0] if found else None


def plan_spy(
    session: str, mode: Mode, channel: str, agent: Agent, phone: str, actor: str
) -> tuple[str, list[tuple[str, str]]]:
    """The Originate that rings the supervisor's ``phone`` and, once answered, spies on
    ``channel`` in ``mode``; ``session`` becomes the Uniqueid of the supervisor's channel
    (so its Hangup ends the session)."""
    for what, value in (("channel", channel), ("phone", phone), ("session", session)):
        if not value or any(c in value for c in ",|\r\n"):
            raise CommandError(f"invalid {what} {value!r}")
    return (
        "Originate",
        [
            ("Channel", f"PJSIP/{phone}"),
            ("Context", CONTEXT),
            ("Exten", EXTEN),
            ("Priority", "1"),
            ("ChannelId", session),
            ("CallerID", f'"{mode.value} {agent.name}" <{agent.ext}>'),
            ("Timeout", "30000"),
            ("Async", "true"),
            ("Variable", f"SPY_CHANNEL={channel}"),
            ("Variable", f"SPY_MODE={mode.value}"),
            ("Variable", f"SPY_ACTOR={actor}"),
        ],
    )


def plan_notify(channel: str) -> tuple[str, list[tuple[str, str]]]:
    """The Originate that whispers a double beep into the agent's ``channel``."""
    return (
        "Originate",
        [
            ("Channel", NOTIFY_CHANNEL),
            ("Application", "ChanSpy"),
            ("Data", f"{channel},qwES"),
            ("Async", "true"),
        ],
    )
