"""Agents: the state reducer (:mod:`.state`), its values (:mod:`.model`), the derived status
(:mod:`.status`), and the watchdog rules that read them."""

from hotline.agents.model import AgentView, Expectation, Membership
from hotline.agents.state import Agents, diff
from hotline.agents.status import STATUS_RULES, DeviceState, PauseKind, PausePolicy, Phase, status

__all__ = [
    "STATUS_RULES",
    "AgentView",
    "Agents",
    "DeviceState",
    "Expectation",
    "Membership",
    "PauseKind",
    "PausePolicy",
    "Phase",
    "diff",
    "status",
]
