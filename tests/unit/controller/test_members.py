"""Whose member events the agents' model follows, and what a PBX that was away must change
to be as the agents should be (controller/members.py, the pure parts)."""

from __future__ import annotations

from hotline.agents.holds import HOLD_PREFIX
from hotline.controller.members import members_source, pause_drift
from tests.unit.core.events import member


def test_the_default_pbx_while_it_is_up_else_the_first_pbx_up() -> None:
    assert members_source("pbx1", {"pbx1": True, "pbx2": True}) == "pbx1"
    assert members_source("pbx1", {"pbx1": False, "pbx2": False, "pbx3": True}) == "pbx3"
    assert members_source("pbx1", {"pbx1": False, "pbx2": True, "pbx3": True}) == "pbx2"
    assert members_source("pbx1", {"pbx1": False, "pbx2": False}) == "pbx1"  # none: no change


def want(queue: str, paused: bool, reason: str = "") -> dict[str, object]:
    return {"name": "王芳", "queue": queue, "interface": "PJSIP/1001", "state_interface": "",
            "paused": paused, "reason": reason}  # fmt: skip


def test_a_pbx_that_was_away_gets_the_pauses_it_missed_but_not_over_a_hold() -> None:
    status = [
        member(queue="intake", paused=False, listed=True),  # should be paused (meal)
        member(queue="labour", paused=True, reason="busy", listed=True),  # should not be
        member(queue="property", paused=True, reason=f"{HOLD_PREFIX}pbx2", listed=True),  # held
        member(queue="environment", paused=True, reason="meal", listed=True),  # as it should be
        member(queue="nobody-wants", paused=True, listed=True),  # no intent: left alone
    ]
    intents = [want("intake", True, "meal"), want("labour", False), want("property", False),
               want("environment", True, "meal")]  # fmt: skip
    assert pause_drift(status, intents) == [
        {"Queue": "intake", "Interface": "PJSIP/1001", "Paused": "true", "Reason": "meal"},
        {"Queue": "labour", "Interface": "PJSIP/1001", "Paused": "false"},
    ]
    assert pause_drift(status, []) == []
