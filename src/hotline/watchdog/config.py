"""The watchdog's thresholds per team and shift, and each rule's severity and escalation.

Read from the ``watchdog:`` section of config/center.yaml by
:func:`hotline.center.config.load_center` (``center.watchdog``); every key is optional,
the defaults are DOMAIN.md's::

    watchdog:
      thresholds: {busy_max_minutes: 10, wait_seconds: 20}     # every team
      teams:
        team-b:
          busy_max_minutes: 15                                  # this team
          shifts: {night: {wait_seconds: 30}}                   # this team, this shift
      rules:
        paused_while_waiting:
          severity: critical
          escalation:
            - {action: note_agent, after_seconds: 0}
            - {action: alert_supervisor, after_seconds: 60}
            - {action: force_logout, after_seconds: 900}        # optional: QueueRemove
        short_talks: {enabled: false}

    limits = center.watchdog.thresholds("team-b", "night")
    center.watchdog.policy(RuleId.LONG_PAUSE).escalation

Every threshold is inclusive: a pause that lasts exactly ``busy_max_minutes`` is too long,
a pause exactly ``after_ring_no_answer_seconds`` after the ring-no-answer is "right after".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from hotline.watchdog.alerts import RuleId, Severity

__all__ = [
    "DEFAULT_POLICIES",
    "THRESHOLD_KEYS",
    "EscalationStep",
    "RulePolicy",
    "StepAction",
    "Thresholds",
    "WatchdogConfig",
    "load_watchdog",
]

Fail = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The rules' limits for one team (and shift); times in ms."""

    busy_max_ms: int = 10 * 60_000  # rule 1: one 示忙 episode
    break_max_ms: int = 60 * 60_000  # a break whose reason sets no max_minutes
    shift_busy_ms: int = 30 * 60_000  # rule 1: 示忙 per shift
    shift_busy_share: float = 0.15  # rule 1: 示忙 / logged-in time in a shift ...
    share_after_ms: int = 60 * 60_000  # ... once logged in this long in the shift
    shift_break_ms: int = 60 * 60_000  # breaks per shift
    wait_ms: int = 20_000  # rule 2: a caller waited this long while the agent was paused
    after_ring_ms: int = 30_000  # rule 3: a pause this soon after a ring-no-answer
    flip_ms: int = 60_000  # rule 3: unpaused this briefly: the same episode goes on
    flips: int = 2  # rule 3: that many flips in one episode
    ring_no_answers: int = 3  # rule 4: per shift
    team_paused: int = 2  # rule 5: members of one team in 示忙 at once ...
    team_paused_ms: int = 60_000  # ... for this long
    shift_change_ms: int = 30 * 60_000  # rule 5: 示忙 this close to a shift change
    unavailable_ms: int = 30_000  # rule 6: phone unreachable while shown ready
    short_talk_ms: int = 10_000  # rule 7: a talk ended by the agent this short ...
    short_talks: int = 3  # ... this many times in a shift
    answer_ms: int = 15_000  # the cost: answered later than this after t_q is a miss


# YAML key → (field, factor to the field's unit)
THRESHOLD_KEYS: dict[str, tuple[str, float]] = {
    "busy_max_minutes": ("busy_max_ms", 60_000),
    "break_max_minutes": ("break_max_ms", 60_000),
    "shift_busy_minutes": ("shift_busy_ms", 60_000),
    "shift_busy_share": ("shift_busy_share", 1),
    "share_after_minutes": ("share_after_ms", 60_000),
    "shift_break_minutes": ("shift_break_ms", 60_000),
    "wait_seconds": ("wait_ms", 1000),
    "after_ring_no_answer_seconds": ("after_ring_ms", 1000),
    "flip_seconds": ("flip_ms", 1000),
    "flips": ("flips", 1),
    "ring_no_answers": ("ring_no_answers", 1),
    "team_paused": ("team_paused", 1),
    "team_paused_seconds": ("team_paused_ms", 1000),
    "shift_change_minutes": ("shift_change_ms", 60_000),
    "unavailable_seconds": ("unavailable_ms", 1000),
    "short_talk_seconds": ("short_talk_ms", 1000),
    "short_talks": ("short_talks", 1),
    "answer_seconds": ("answer_ms", 1000),
}
_MINIMUM = {"flips": 1, "ring_no_answers": 1, "team_paused": 2, "short_talks": 1}


class StepAction(Enum):
    """What an escalation step does (the controller carries it out and journals it)."""

    NOTE_AGENT = "note_agent"  # a note on the agent's board
    ALERT_SUPERVISOR = "alert_supervisor"  # the team's supervisor is alerted
    FORCE_LOGOUT = "force_logout"  # QueueRemove from every queue (only while it goes on)


@dataclass(frozen=True, slots=True)
class EscalationStep:
    action: StepAction
    after_ms: int  # after the alert was raised


@dataclass(frozen=True, slots=True)
class RulePolicy:
    severity: Severity
    escalation: tuple[EscalationStep, ...]
    enabled: bool = True


def _steps(*pairs: tuple[StepAction, int]) -> tuple[EscalationStep, ...]:
    return tuple(EscalationStep(a, s * 1000) for a, s in pairs)


_AGENT, _SUPERVISOR = StepAction.NOTE_AGENT, StepAction.ALERT_SUPERVISOR
_W, _I, _C = Severity.WARNING, Severity.INFO, Severity.CRITICAL
DEFAULT_POLICIES: dict[RuleId, RulePolicy] = {
    RuleId.LONG_PAUSE: RulePolicy(_W, _steps((_AGENT, 0), (_SUPERVISOR, 300))),
    RuleId.LONG_BREAK: RulePolicy(_I, _steps((_AGENT, 0), (_SUPERVISOR, 600))),
    RuleId.SHIFT_BUSY_TOTAL: RulePolicy(_W, _steps((_AGENT, 0), (_SUPERVISOR, 0))),
    RuleId.SHIFT_BUSY_SHARE: RulePolicy(_W, _steps((_SUPERVISOR, 0))),
    RuleId.SHIFT_BREAK_TOTAL: RulePolicy(_I, _steps((_AGENT, 0), (_SUPERVISOR, 600))),
    RuleId.PAUSED_WHILE_WAITING: RulePolicy(_C, _steps((_AGENT, 0), (_SUPERVISOR, 60))),
    RuleId.PAUSE_AFTER_RING_NO_ANSWER: RulePolicy(_W, _steps((_SUPERVISOR, 0))),
    RuleId.PAUSE_FLIP: RulePolicy(_W, _steps((_SUPERVISOR, 0))),
    RuleId.RING_NO_ANSWER_COUNT: RulePolicy(_W, _steps((_AGENT, 0), (_SUPERVISOR, 0))),
    RuleId.TEAM_PAUSED_TOGETHER: RulePolicy(_W, _steps((_SUPERVISOR, 0))),
    RuleId.PAUSE_NEAR_SHIFT_CHANGE: RulePolicy(_I, _steps((_AGENT, 0))),
    RuleId.PAUSE_WITHOUT_REASON: RulePolicy(_I, _steps((_AGENT, 0))),
    RuleId.UNAVAILABLE_WHILE_READY: RulePolicy(_W, _steps((_AGENT, 0), (_SUPERVISOR, 120))),
    RuleId.SHORT_TALKS: RulePolicy(_W, _steps((_SUPERVISOR, 0))),
}


@dataclass(frozen=True, slots=True)
class WatchdogConfig:
    defaults: Thresholds = Thresholds()
    teams: Mapping[str, Thresholds] = field(default_factory=dict)
    shifts: Mapping[tuple[str, str], Thresholds] = field(default_factory=dict)
    """(team, shift name) → limits of that shift (the team's, changed where the shift says)."""
    rules: Mapping[RuleId, RulePolicy] = field(default_factory=lambda: dict(DEFAULT_POLICIES))

    def thresholds(self, team: str, shift: str = "") -> Thresholds:
        """The limits for ``team`` during ``shift`` ("" or unknown: the team's own)."""
        found = self.shifts.get((team, shift))
        if found is not None:
            return found
        return self.teams.get(team, self.defaults)

    def policy(self, rule: RuleId) -> RulePolicy:
        return self.rules.get(rule) or DEFAULT_POLICIES[rule]

    def enabled(self, rule: RuleId) -> bool:
        return self.policy(rule).enabled


def load_watchdog(raw: Any, fail: Fail, teams: Mapping[str, Sequence[str]]) -> WatchdogConfig:
    """The ``watchdog:`` section (None: all defaults); ``teams`` maps a team to its shifts.

    Problems go to ``fail(node, message)``; what is wrong is left at its default.
    """
    if raw is None:
        return WatchdogConfig()
    if not isinstance(raw, dict):
        fail("watchdog", "expected a mapping")
        return WatchdogConfig()
    for key in raw:
        if key not in ("thresholds", "teams", "rules"):
            fail(f"watchdog.{key}", "unknown key (expected thresholds, teams, rules)")
    defaults = _thresholds(raw.get("thresholds"), Thresholds(), "watchdog.thresholds", fail)
    per_team: dict[str, Thresholds] = {}
    per_shift: dict[tuple[str, str], Thresholds] = {}
    team_specs = raw.get("teams") or {}
    if not isinstance(team_specs, dict):
        fail("watchdog.teams", "expected a mapping")
        team_specs = {}
    for name, spec in team_specs.items():
        node = f"watchdog.teams.{name}"
        if str(name) not in teams:
            fail(node, f"unknown team {name!r}")
            continue
        if not isinstance(spec, dict):
            fail(node, "expected a mapping")
            continue
        own = {k: v for k, v in spec.items() if k != "shifts"}
        limits = per_team[str(name)] = _thresholds(own, defaults, node, fail)
        shifts = spec.get("shifts") or {}
        if not isinstance(shifts, dict):
            fail(f"{node}.shifts", "expected a mapping")
            continue
        for shift, values in shifts.items():
            if str(shift) not in teams[str(name)]:
                fail(f"{node}.shifts.{shift}", f"team {name!r} has no shift {shift!r}")
                continue
            per_shift[(str(name), str(shift))] = _thresholds(
                values, limits, f"{node}.shifts.{shift}", fail
            )
    return WatchdogConfig(defaults, per_team, per_shift, _policies(raw.get("rules"), fail))


def _thresholds(raw: Any, base: Thresholds, node: str, fail: Fail) -> Thresholds:
    if raw is None:
        return base
    if not isinstance(raw, dict):
        fail(node, "expected a mapping")
        return base
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        spec = THRESHOLD_KEYS.get(str(key))
        if spec is None:
            fail(f"{node}.{key}", f"unknown threshold (one of {', '.join(THRESHOLD_KEYS)})")
            continue
        name, factor = spec
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            fail(f"{node}.{key}", "a number, 0 or more")
            continue
        if isinstance(getattr(base, name), float):
            if not 0 < value <= 1:
                fail(f"{node}.{key}", "a share between 0 and 1")
                continue
            changes[name] = float(value)
        elif value < _MINIMUM.get(str(key), 0) or (factor == 1 and value != int(value)):
            fail(f"{node}.{key}", f"a whole number, at least {_MINIMUM.get(str(key), 0)}")
        else:
            changes[name] = round(value * factor)
    return replace(base, **changes)


def _policies(raw: Any, fail: Fail) -> dict[RuleId, RulePolicy]:
    policies = dict(DEFAULT_POLICIES)
    if raw is None:
        return policies
    if not isinstance(raw, dict):
        fail("watchdog.rules", "expected a mapping")
        return policies
    for key, spec in raw.items():
        node = f"watchdog.rules.{key}"
        try:
            rule = RuleId(str(key))
        except ValueError:
            fail(node, f"unknown rule (one of {', '.join(RuleId)})")
            continue
        if not isinstance(spec, dict):
            fail(node, "expected a mapping")
            continue
        for k in spec:
            if k not in ("severity", "escalation", "enabled"):
                fail(f"{node}.{k}", "unknown key (expected severity, escalation, enabled)")
        policy = policies[rule]
        if "severity" in spec:
            try:
                policy = replace(policy, severity=Severity(spec["severity"]))
            except ValueError:
                fail(f"{node}.severity", f"one of {', '.join(s.value for s in Severity)}")
        if "enabled" in spec:
            if isinstance(spec["enabled"], bool):
                policy = replace(policy, enabled=spec["enabled"])
            else:
                fail(f"{node}.enabled", "true or false")
        if "escalation" in spec:
            steps = _escalation(spec["escalation"], f"{node}.escalation", fail)
            if steps is not None:
                policy = replace(policy, escalation=steps)
        policies[rule] = policy
    return policies


def _escalation(raw: Any, node: str, fail: Fail) -> tuple[EscalationStep, ...] | None:
    if not isinstance(raw, list):
        fail(node, "a list of {action, after_seconds}")
        return None
    steps = []
    for i, item in enumerate(raw):
        action = item.get("action") if isinstance(item, dict) else None
        after = item.get("after_seconds", 0) if isinstance(item, dict) else None
        try:
            kind = StepAction(action)
        except ValueError:
            fail(f"{node}.{i}", f"action is one of {', '.join(a.value for a in StepAction)}")
            continue
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            fail(f"{node}.{i}.after_seconds", "whole seconds, 0 or more")
            continue
        steps.append(EscalationStep(kind, after * 1000))
    return tuple(sorted(steps, key=lambda s: s.after_ms))
