"""The call centre's configuration (config/center.yaml): pause reasons, teams, agents, and
the watchdog's thresholds.

    center = load_center(text)
    center.reason("meal").label        # 用餐
    center.agents["1001"].interface    # PJSIP/1001
    center.watchdog.thresholds("team-a", "day").busy_max_ms   # 600000

Validated like a flow: every problem is reported at once, naming its node.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from hotline.agents.roster import Agent, PauseReason, Roster, Shift, Team
from hotline.core.validate import Kind, check
from hotline.ivr.loader import FlowError, Problem
from hotline.recordings.retention import RetentionPolicy, load_retention
from hotline.watchdog.config import WatchdogConfig, load_watchdog


class CenterError(FlowError):
    """config/center.yaml is invalid; ``problems`` names every bad node."""


@dataclass(frozen=True, slots=True)
class Center(Roster):
    """The roster and the sections only the centre file holds."""

    watchdog: WatchdogConfig = field(default_factory=WatchdogConfig)
    """The ``watchdog:`` section: thresholds per team and shift, severity and escalation."""
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    """The ``retention:`` section: days recordings and transcripts are kept, by category."""


def _time(value: str) -> dt.time | None:
    m = re.fullmatch(r"(\d\d):(\d\d)", value)
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour == 24 and minute == 0:
        return dt.time(0, 0)
    try:
        return dt.time(hour, minute)
    except ValueError:
        return None


def load_center(text: str, queues: set[str] | None = None) -> Center:
    """Parse and validate; ``queues`` (the flow's) lets agents' queues be checked."""
    problems: list[Problem] = []

    def fail(node: str, message: str) -> None:
        problems.append(Problem.of(node, message))

    def kind(node: str, of: Kind, value: object) -> None:
        problem = check(of, value)
        if problem is not None:
            fail(node, problem)

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CenterError([Problem("center", f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise CenterError([Problem("center", "expected a mapping")])
    for key in data:
        if key not in ("pause_reasons", "teams", "agents", "watchdog", "retention"):
            fail(
                str(key),
                "unknown key (expected pause_reasons, teams, agents, watchdog, retention)",
            )

    reasons: dict[str, PauseReason] = {}
    for code, spec in _mapping(data, "pause_reasons", fail).items():
        node = f"pause_reasons.{code}"
        kind(node, Kind.CODE, code)
        if not isinstance(spec, dict) or not isinstance(spec.get("label"), str):
            fail(node, "needs a label")
            continue
        kind(f"{node}.label", Kind.TEXT, spec["label"])
        limit = spec.get("max_minutes")
        if limit is not None and (
            not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0
        ):
            fail(f"{node}.max_minutes", "a positive number of minutes")
            limit = None
        reasons[code] = PauseReason(
            code,
            spec["label"],
            bool(spec.get("break", False)),
            limit,
            bool(spec.get("supervisor_only", False)),
        )

    teams: dict[str, Team] = {}
    for name, spec in _mapping(data, "teams", fail).items():
        node = f"teams.{name}"
        kind(node, Kind.CODE, name)
        if not isinstance(spec, dict):
            fail(node, "expected a mapping")
            continue
        if "label" in spec:
            kind(f"{node}.label", Kind.TEXT, spec["label"])
        if "supervisor" in spec:
            kind(f"{node}.supervisor", Kind.TEXT, spec["supervisor"])
        shifts = []
        for i, raw in enumerate(_list(spec, "shifts", f"{node}.shifts", fail)):
            start = _time(str(raw.get("from", ""))) if isinstance(raw, dict) else None
            end = _time(str(raw.get("to", ""))) if isinstance(raw, dict) else None
            if start is None or end is None:
                fail(f"{node}.shifts.{i}", "write a shift as {name, from: HH:MM, to: HH:MM}")
                continue
            shifts.append(Shift(str(raw.get("name", i)), start, end))
        teams[name] = Team(
            name, str(spec.get("label", name)), str(spec.get("supervisor", "")), tuple(shifts)
        )

    agents: dict[str, Agent] = {}
    for ext, spec in _mapping(data, "agents", fail).items():
        node = f"agents.{ext}"
        kind(node, Kind.EXTENSION, ext)
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            fail(node, "needs a name")
            continue
        kind(f"{node}.name", Kind.TEXT, spec["name"])
        if "interface" in spec:
            kind(f"{node}.interface", Kind.INTERFACE, spec["interface"])
        team = str(spec.get("team", ""))
        if team not in teams:
            fail(f"{node}.team", f"unknown team {team!r}")
        agent_queues = tuple(str(q) for q in _list(spec, "queues", f"{node}.queues", fail))
        for q in agent_queues:
            kind(f"{node}.queues", Kind.NAME, q)
            if queues is not None and q not in queues:
                fail(f"{node}.queues", f"unknown queue {q!r}")
        agents[ext] = Agent(
            ext, spec["name"], team, agent_queues, str(spec.get("interface", f"PJSIP/{ext}"))
        )
    names = [a.name for a in agents.values()]
    for name in {n for n in names if names.count(n) > 1}:
        fail("agents", f"two agents are named {name!r} (names are Asterisk MemberNames)")
    watchdog = load_watchdog(
        data.get("watchdog"), fail, {name: [s.name for s in t.shifts] for name, t in teams.items()}
    )
    retention = load_retention(data.get("retention"), fail)
    if problems:
        raise CenterError(problems)
    return Center(reasons, teams, agents, watchdog, retention)


def _list(data: Mapping[str, Any], key: str, node: str, fail: Any) -> list[Any]:
    """A list the file may leave out; anything else is a problem, not a crash (fuzzing
    found ``queues: 5``)."""
    value = data.get(key) or []
    if not isinstance(value, list):
        fail(node, f"expected a list, got {type(value).__name__}")
        return []
    return value


def _mapping(data: Mapping[str, Any], key: str, fail: Any) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        fail(key, "expected a mapping")
        return {}
    return {str(k): v for k, v in value.items()}
