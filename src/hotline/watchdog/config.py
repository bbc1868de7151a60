"""The watchdog's thresholds per team and shift, and each rule's severity and escalation.

Read from the ``watchdog:`` section of center.yaml by
:func:`hotline.center.config.load_center` (``center.watchdog``); every key is optional,
the defaults are docs/domain.md's::

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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from hotline.core.reader import Fail, Reader
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

    Problems go to ``fail(node, message)``, read the way the whole file is
    (:class:`hotline.core.reader.Reader`); what is wrong is left at its default.
    """
    r = Reader(fail)
    section = r.section("watchdog", raw, {"thresholds", "teams", "rules"})
    given = r.section("watchdog.thresholds", section.get("thresholds"), THRESHOLD_KEYS)
    defaults = _thresholds(r, given, Thresholds(), "watchdog.thresholds")
    per_team: dict[str, Thresholds] = {}
    per_shift: dict[tuple[str, str], Thresholds] = {}
    for name, spec in r.section("watchdog.teams", section.get("teams")).items():
        node = f"watchdog.teams.{name}"
        if name not in teams:
            r.fail(node, f"unknown team {name!r}")
            continue
        own = r.mapping(node, spec, {"shifts", *THRESHOLD_KEYS})
        limits = per_team[name] = _thresholds(r, own, defaults, node)
        for shift, values in r.section(f"{node}.shifts", own.get("shifts")).items():
            where = f"{node}.shifts.{shift}"
            if shift not in teams[name]:
                r.fail(where, f"team {name!r} has no shift {shift!r}")
                continue
            mine = r.section(where, values, THRESHOLD_KEYS)
            per_shift[(name, shift)] = _thresholds(r, mine, limits, where)
    return WatchdogConfig(defaults, per_team, per_shift, _policies(r, section.get("rules")))


def _thresholds(r: Reader, raw: Mapping[str, Any], base: Thresholds, node: str) -> Thresholds:
    """``base`` changed where ``raw`` (read by ``r``: unknown keys are its problems) says."""
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        spec = THRESHOLD_KEYS.get(key)
        if spec is None:
            continue  # "shifts", or a key r.mapping has reported
        name, factor = spec
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            r.fail(f"{node}.{key}", "a number, 0 or more")
            continue
        if isinstance(getattr(base, name), float):
            if not 0 < value <= 1:
                r.fail(f"{node}.{key}", "a share between 0 and 1")
                continue
            changes[name] = float(value)
        elif value < _MINIMUM.get(key, 0) or (factor == 1 and value != int(value)):
            r.fail(f"{node}.{key}", f"a whole number, at least {_MINIMUM.get(key, 0)}")
        else:
            changes[name] = round(value * factor)
    return replace(base, **changes)


def _policies(r: Reader, raw: Any) -> dict[RuleId, RulePolicy]:
    policies = dict(DEFAULT_POLICIES)
    known = {rule.value: rule for rule in RuleId}
    for key, spec in r.section("watchdog.rules", raw, known).items():
        rule = known.get(key)
        if rule is None:
            continue  # reported by r.section
        node = f"watchdog.rules.{key}"
        given = r.mapping(node, spec, {"severity", "escalation", "enabled"})
        policy = policies[rule]
        if "severity" in given:
            severity = r.choice(f"{node}.severity", given["severity"], Severity)
            policy = replace(policy, severity=severity or policy.severity)
        enabled = r.get(node, given, "enabled", bool, policy.enabled)
        if enabled is not None:
            policy = replace(policy, enabled=enabled)
        if "escalation" in given:
            steps = _escalation(r, given["escalation"], f"{node}.escalation")
            if steps is not None:
                policy = replace(policy, escalation=steps)
        policies[rule] = policy
    return policies


def _escalation(r: Reader, raw: Any, node: str) -> tuple[EscalationStep, ...] | None:
    if not isinstance(raw, list):
        r.fail(node, "a list of {action, after_seconds}")
        return None
    steps = []
    for i, item in enumerate(raw):
        step = r.mapping(f"{node}.{i}", item)
        if not isinstance(item, dict):
            continue
        action = r.get(f"{node}.{i}", step, "action", str)
        kind = r.choice(f"{node}.{i}.action", action, StepAction) if action is not None else None
        after = r.get(f"{node}.{i}", step, "after_seconds", int, 0)
        if kind is None or after is None or not r.number(f"{node}.{i}.after_seconds", after, 0):
            continue
        steps.append(EscalationStep(kind, after * 1000))
    return tuple(sorted(steps, key=lambda s: s.after_ms))
