"""The call centre's configuration (center.yaml): pause reasons, teams, agents, the
watchdog's thresholds, retention, recall, quality inspection (``qa:``) and the work
orders' departments and rules.

    center = load_center(text)
    center.reason("meal").label        # 用餐
    center.agents["1001"].interface    # PJSIP/1001
    center.watchdog.thresholds("team-a", "day").busy_max_ms   # 600000

Validated like a flow, with the same reader (:mod:`hotline.core.reader`): every problem is
reported at once, naming its node.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import yaml

from hotline.agents.roster import Agent, PauseReason, Roster, Shift, Team
from hotline.core.reader import Problem, Reader
from hotline.core.validate import Kind
from hotline.ivr.loader import FlowError
from hotline.orders.config import OrdersConfig, load_orders
from hotline.qa.config import QaConfig, load_qa
from hotline.recall.rules import RecallRules, load_recall
from hotline.recordings.retention import RetentionPolicy, load_retention
from hotline.transcripts.vocabulary import VocabularyConfig, load_vocabulary
from hotline.watchdog.config import WatchdogConfig, load_watchdog


class CenterError(FlowError):
    """center.yaml is invalid; ``problems`` names every bad node."""


@dataclass(frozen=True, slots=True)
class SupervisorPhone:
    """A supervisor's softphone: a PJSIP endpoint that can only be called (to listen in)."""

    ext: str
    name: str


@dataclass(frozen=True, slots=True)
class Supervision:
    """Live supervision (``hotline supervise``): the phones supervisors join from, and
    whether the agent hears a beep when one joins (``notify_agent``; default: not told)."""

    phones: dict[str, SupervisorPhone] = field(default_factory=dict)
    notify_agent: bool = False


@dataclass(frozen=True, slots=True)
class Center(Roster):
    """The roster and the sections only the centre file holds."""

    watchdog: WatchdogConfig = field(default_factory=WatchdogConfig)
    """The ``watchdog:`` section: thresholds per team and shift, severity and escalation."""
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    """The ``retention:`` section: days recordings and transcripts are kept, by category."""
    recall: RecallRules = field(default_factory=RecallRules)
    """The ``recall:`` section: which unserved callers are called back, by when, how often."""
    qa: QaConfig = field(default_factory=QaConfig)
    """The ``qa:`` section: the flag rules over transcripts (:mod:`hotline.qa.config`)."""
    orders: OrdersConfig = field(default_factory=OrdersConfig)
    """The ``orders:`` section: departments (承办单位), 限时办结, the calendar, bounce rules."""
    supervision: Supervision = field(default_factory=Supervision)
    """The ``supervision:`` section: supervisors' softphones, whether agents are told."""
    vocabulary: VocabularyConfig = field(default_factory=VocabularyConfig)
    """The ``stt.vocabulary`` section: the centre's words the speech engine is given."""


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
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CenterError([Problem("center", f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise CenterError([Problem("center", "expected a mapping")])
    r = Reader()
    top = r.mapping(
        "",
        data,
        {
            "pause_reasons",
            "teams",
            "agents",
            "watchdog",
            "retention",
            "recall",
            "qa",
            "orders",
            "supervision",
            "stt",
        },
    )

    reasons: dict[str, PauseReason] = {}
    for code, spec in r.section("pause_reasons", top.get("pause_reasons")).items():
        node = f"pause_reasons.{code}"
        r.kind(node, Kind.CODE, code)
        if not isinstance(spec, dict) or not isinstance(spec.get("label"), str):
            r.fail(node, "needs a label")
            continue
        r.kind(f"{node}.label", Kind.TEXT, spec["label"])
        limit = r.optional(node, spec, "max_minutes", int)
        if not r.number(f"{node}.max_minutes", limit, 1):
            limit = None
        reasons[code] = PauseReason(
            code,
            spec["label"],
            bool(spec.get("break", False)),
            limit,
            bool(spec.get("supervisor_only", False)),
        )

    teams: dict[str, Team] = {}
    for name, spec in r.section("teams", top.get("teams")).items():
        node = f"teams.{name}"
        r.kind(node, Kind.CODE, name)
        if not isinstance(spec, dict):
            r.mapping(node, spec)
            continue
        if "label" in spec:
            r.kind(f"{node}.label", Kind.TEXT, spec["label"])
        if "supervisor" in spec:
            r.kind(f"{node}.supervisor", Kind.TEXT, spec["supervisor"])
        shifts = []
        for i, raw in enumerate(r.items(f"{node}.shifts", spec.get("shifts"))):
            start = _time(str(raw.get("from", ""))) if isinstance(raw, dict) else None
            end = _time(str(raw.get("to", ""))) if isinstance(raw, dict) else None
            if start is None or end is None:
                r.fail(f"{node}.shifts.{i}", "write a shift as {name, from: HH:MM, to: HH:MM}")
                continue
            shifts.append(Shift(str(raw.get("name", i)), start, end))
        teams[name] = Team(
            name, str(spec.get("label", name)), str(spec.get("supervisor", "")), tuple(shifts)
        )

    agents: dict[str, Agent] = {}
    for ext, spec in r.section("agents", top.get("agents")).items():
        node = f"agents.{ext}"
        r.kind(node, Kind.EXTENSION, ext)
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            r.fail(node, "needs a name")
            continue
        r.kind(f"{node}.name", Kind.TEXT, spec["name"])
        if "interface" in spec:
            r.kind(f"{node}.interface", Kind.INTERFACE, spec["interface"])
        team = str(spec.get("team", ""))
        if team not in teams:
            r.fail(f"{node}.team", f"unknown team {team!r}")
        given = r.items(f"{node}.queues", spec.get("queues"))
        agent_queues = tuple(str(q) for q in given)
        for q in agent_queues:
            r.kind(f"{node}.queues", Kind.NAME, q)
            if queues is not None and q not in queues:
                r.fail(f"{node}.queues", f"unknown queue {q!r}")
        agents[ext] = Agent(
            ext, spec["name"], team, agent_queues, str(spec.get("interface", f"PJSIP/{ext}"))
        )
    names = [a.name for a in agents.values()]
    for name in {n for n in names if names.count(n) > 1}:
        r.fail("agents", f"two agents are named {name!r} (names are Asterisk MemberNames)")
    shifts_of = {name: [s.name for s in t.shifts] for name, t in teams.items()}
    watchdog = load_watchdog(top.get("watchdog"), r.fail, shifts_of)
    retention = load_retention(top.get("retention"), r.fail)
    recall = load_recall(top.get("recall"), r.fail)
    qa = load_qa(top.get("qa"), r.fail)
    orders = load_orders(top.get("orders"), r.fail)
    supervision = _supervision(r, top.get("supervision"), set(agents))
    stt = r.section("stt", top.get("stt"), {"vocabulary"})
    vocabulary = load_vocabulary(stt.get("vocabulary"), r.fail)
    if r.problems:
        raise CenterError(r.problems)
    return Center(
        reasons, teams, agents, watchdog, retention, recall, qa, orders, supervision, vocabulary
    )


def _supervision(r: Reader, raw: object, agent_exts: set[str]) -> Supervision:
    section = r.section("supervision", raw, {"phones", "notify_agent"})
    notify = r.get("supervision", section, "notify_agent", bool, False)
    phones: dict[str, SupervisorPhone] = {}
    for ext, spec in r.section("supervision.phones", section.get("phones")).items():
        node = f"supervision.phones.{ext}"
        r.kind(node, Kind.EXTENSION, ext)
        if ext in agent_exts:
            r.fail(node, "is an agent's extension too (a phone is an agent's or a supervisor's)")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            r.fail(node, "needs a name")
            continue
        r.mapping(node, spec, {"name"})
        r.kind(f"{node}.name", Kind.TEXT, spec["name"])
        phones[ext] = SupervisorPhone(ext, spec["name"])
    return Supervision(phones, bool(notify))
