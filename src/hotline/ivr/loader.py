"""Load and validate a flow: YAML text in, a :class:`~hotline.ivr.model.Flow` out.

Every problem is reported at once, each naming its node (the reader of
:mod:`hotline.core.reader`, which reads center.yaml too)::

    menus.main.options.3: unknown queue 'houseing'

Rules beyond the shape: "0" reaches a human from every menu (added where a menu does not
say otherwise, and it must be a queue where it does); every menu is reachable; every prompt
has a text in every language; overflow chains end.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from hotline.core.localtime import TZ_NAME
from hotline.core.reader import Problem, Reader
from hotline.core.validate import Kind
from hotline.ivr.model import (
    DIGITS,
    LANGUAGES,
    Callback,
    Flow,
    Hours,
    Menu,
    Option,
    QueueSpec,
    Survey,
    Visit,
    WhenEmpty,
)

# prompts the rendered dialplan plays on its own (menus' retries and the way to a human)
SYSTEM_PROMPTS = ("invalid", "no-input", "to-operator")
# queues.conf's [general] holds global settings: Asterisk silently makes no queue of it
RESERVED_QUEUES = ("general",)


class FlowError(ValueError):
    """The flow is invalid; ``problems`` lists every node at fault."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


def load_flow(text: str, source: str = "flow") -> Flow:
    """Parse and validate a flow; raise :class:`FlowError` listing every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else source
        raise FlowError(
            [Problem(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")]
        ) from None
    r = Reader()
    top = r.mapping(
        "",
        data,
        {
            "line",
            "languages",
            "queues",
            "callback",
            "survey",
            "visit",
            "announcements",
            "start",
            "menus",
            "prompts",
        },
    )
    flow = _build(r, top)
    if r.problems or flow is None:
        raise FlowError(r.problems or [Problem(source, "empty flow")])
    return flow


def _build(r: Reader, top: dict[str, Any]) -> Flow | None:
    line = r.mapping("line", top.get("line", {}), {"name", "did", "operator_queue", "hours"})
    given = tuple(r.get("", top, "languages", list, [LANGUAGES[0]]) or ())
    for i, lang in enumerate(given):
        if lang not in LANGUAGES:
            r.fail(f"languages.{i}", f"unknown language {lang!r} (known: {', '.join(LANGUAGES)})")
    languages = tuple(lang for lang in given if lang in LANGUAGES)  # names, no lists (fuzzing)
    prompts = _prompts(r, top.get("prompts", {}), languages)
    queues = _queues(r, top.get("queues", {}))
    operator = r.get("line", line, "operator_queue", str) or ""
    if operator and operator not in queues:
        r.fail("line.operator_queue", f"unknown queue {operator!r}")

    def need_prompt(node: str, name: str | None) -> None:
        if name is not None and name not in prompts:
            r.fail(node, f"unknown prompt {name!r}")

    for name in SYSTEM_PROMPTS:
        need_prompt("prompts", name)
    menus = _menus(r, top.get("menus", {}), queues, operator, languages, need_prompt)
    start = r.get("", top, "start", str) or ""
    if start and start not in menus:
        r.fail("start", f"unknown menu {start!r}")
    _check_reachable(r, menus, start)
    _check_overflow(r, queues)
    _check_when_empty(r, queues, operator)
    callback = _callback(r, top.get("callback"), need_prompt)
    survey = _survey(r, top.get("survey"), need_prompt)
    visit = _visit(r, top.get("visit"), need_prompt)
    announcements: dict[str, str] = {}
    raw_notices = top.get("announcements", {})
    for name, prompt in r.mapping(
        "announcements", raw_notices, set(raw_notices) if isinstance(raw_notices, dict) else set()
    ).items():
        r.name(f"announcements.{name}", name)
        need_prompt(f"announcements.{name}", str(prompt))
        announcements[name] = str(prompt)
    for name, queue in queues.items():
        if queue.when_empty is WhenEmpty.CALLBACK and callback is None:
            r.fail(f"queues.{name}.when_empty", "callback needs a top-level 'callback' section")
    hours = _hours(r, line.get("hours", "always"), need_prompt)
    name = r.get("line", line, "name", str) or ""
    did = r.get("line", line, "did", str) or ""
    r.kind("line.name", Kind.TEXT, name)
    r.kind("line.did", Kind.DID, did)
    if r.problems:
        return None
    return Flow(
        name=name,
        did=did,
        operator_queue=operator,
        hours=hours,
        languages=languages,
        queues=queues,
        menus=menus,
        start=start,
        prompts=prompts,
        callback=callback,
        survey=survey,
        visit=visit,
        announcements=announcements,
    )


def _prompts(r: Reader, raw: object, languages: tuple[str, ...]) -> dict[str, dict[str, str]]:
    prompts: dict[str, dict[str, str]] = {}
    for name, texts in r.mapping(
        "prompts", raw, set(raw) if isinstance(raw, dict) else set()
    ).items():
        node = f"prompts.{name}"
        r.name(node, name)
        by_lang = r.mapping(node, texts, set(LANGUAGES))
        for lang in languages:
            text = by_lang.get(lang)
            if not isinstance(text, str) or not text.strip():
                r.fail(f"{node}.{lang}", "missing text")
        prompts[name] = {k: str(v) for k, v in by_lang.items()}
    return prompts


def _queues(r: Reader, raw: object) -> dict[str, QueueSpec]:
    queues: dict[str, QueueSpec] = {}
    names = set(raw) if isinstance(raw, dict) else set()
    for name, spec in r.mapping("queues", raw, names).items():
        node = f"queues.{name}"
        r.name(node, name)
        if name in RESERVED_QUEUES:
            r.fail(node, f"'{name}' is reserved by Asterisk's queues.conf; choose another name")
        q = r.mapping(node, spec, {"label", "servicelevel", "timeout", "overflow", "when_empty"})
        servicelevel = r.get(node, q, "servicelevel", int, 15)
        timeout = r.get(node, q, "timeout", int, 600)
        r.number(f"{node}.servicelevel", servicelevel, 1, 600)
        r.number(f"{node}.timeout", timeout, 5, 7200)
        after, to = None, None
        if "overflow" in q:
            over = r.mapping(f"{node}.overflow", q["overflow"], {"after", "to"})
            after = r.get(f"{node}.overflow", over, "after", int)
            to = r.get(f"{node}.overflow", over, "to", str)
            r.number(f"{node}.overflow.after", after, 1, 7200)
            if to is not None and to not in names:
                r.fail(f"{node}.overflow.to", f"unknown queue {to!r}")
        when = r.get(node, q, "when_empty", str, "operator") or "operator"
        when_empty = r.choice(f"{node}.when_empty", when, WhenEmpty) or WhenEmpty.OPERATOR
        if when_empty is WhenEmpty.OVERFLOW and to is None:
            r.fail(f"{node}.when_empty", "overflow needs an 'overflow: {after, to}'")
        label = r.get(node, q, "label", str, name) or name
        r.kind(f"{node}.label", Kind.TEXT, label)
        queues[name] = QueueSpec(
            name,
            label,
            servicelevel or 15,
            timeout or 600,
            after,
            to,
            when_empty,
        )
    return queues


def _option(
    r: Reader,
    node: str,
    digit: str,
    raw: object,
    queues: Mapping[str, QueueSpec],
    menus: set[str],
    languages: tuple[str, ...],
) -> Option | None:
    o = r.mapping(node, raw, {"goto", "queue", "language", "tag"})
    goto, queue = o.get("goto"), o.get("queue")
    language, tag = o.get("language"), o.get("tag", "")
    if tag != "":
        r.kind(f"{node}.tag", Kind.NAME, tag)
    tag = str(tag)
    if (goto is None) == (queue is None):
        r.fail(node, "needs exactly one of 'goto' (a menu) or 'queue'")
        return None
    for key, value in (("goto", goto), ("queue", queue), ("language", language)):
        if value is not None and not isinstance(value, str):  # found by fuzzing: a list
            r.fail(f"{node}.{key}", f"expected a name, got {type(value).__name__}")
            return None
    if goto is not None and goto not in menus:
        r.fail(node, f"unknown menu {goto!r}")
    if queue is not None and queue not in queues:
        r.fail(node, f"unknown queue {queue!r}")
    if language is not None and language not in languages:
        r.fail(node, f"language {language!r} is not one of the flow's languages")
    return Option(digit, goto, queue, language, tag)


def _menus(
    r: Reader,
    raw: object,
    queues: Mapping[str, QueueSpec],
    operator: str,
    languages: tuple[str, ...],
    need_prompt: Callable[[str, str | None], None],
) -> dict[str, Menu]:
    names = set(raw) if isinstance(raw, dict) else set()
    menus: dict[str, Menu] = {}
    for name, spec in r.mapping("menus", raw, names).items():
        node = f"menus.{name}"
        r.name(node, name)
        m = r.mapping(node, spec, {"prompt", "options", "retries", "timeout", "no_input"})
        prompt = r.get(node, m, "prompt", str)
        need_prompt(f"{node}.prompt", prompt)
        retries = r.get(node, m, "retries", int, 2)
        timeout = r.get(node, m, "timeout", int, 5)
        r.number(f"{node}.retries", retries, 0, 5)
        r.number(f"{node}.timeout", timeout, 1, 30)
        options: list[Option] = []
        raw_options = m.get("options", {})
        for digit, spec_o in r.mapping(
            f"{node}.options",
            raw_options,
            {str(d) for d in raw_options} if isinstance(raw_options, dict) else set(),
        ).items():
            onode = f"{node}.options.{digit}"
            if len(digit) != 1 or digit not in DIGITS:
                r.fail(onode, "an option is one key: 0-9, * or #")
                continue
            option = _option(r, onode, digit, spec_o, queues, names, languages)
            if option is None:
                continue
            if digit == "0" and option.queue is None:
                r.fail(onode, "0 must reach a human: give it a queue")
            options.append(option)
        if not options:
            r.fail(f"{node}.options", "a menu needs at least one option")
        if operator and all(o.digit != "0" for o in options):
            options.append(Option("0", queue=operator, tag="operator"))
        no_input = None
        if "no_input" in m:
            no_input = _option(r, f"{node}.no_input", "", m["no_input"], queues, names, languages)
        menus[name] = Menu(name, prompt or "", tuple(options), retries or 0, timeout or 5, no_input)
    return menus


def _check_reachable(r: Reader, menus: Mapping[str, Menu], start: str) -> None:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen or name not in menus:
            continue
        seen.add(name)
        menu = menus[name]
        todo.extend(o.goto for o in (*menu.options, menu.no_input) if o is not None and o.goto)
    for name in menus:
        if name not in seen:
            r.fail(f"menus.{name}", f"no caller can reach this menu from '{start}'")


def _check_overflow(r: Reader, queues: Mapping[str, QueueSpec]) -> None:
    for name in queues:
        chain, current = [name], queues[name].overflow_to
        while current is not None and current in queues:
            if current in chain:
                r.fail(
                    f"queues.{name}.overflow.to", f"overflow loops: {' > '.join([*chain, current])}"
                )
                break
            chain.append(current)
            current = queues[current].overflow_to


def _check_when_empty(r: Reader, queues: Mapping[str, QueueSpec], operator: str) -> None:
    """With no agent logged in, each queue hands callers on; the chain must end in a callback."""

    def next_queue(q: QueueSpec) -> str | None:
        if q.when_empty is WhenEmpty.OVERFLOW:
            return q.overflow_to
        if q.when_empty is WhenEmpty.OPERATOR:
            return operator or None
        return None

    for name in queues:
        chain, current = [name], next_queue(queues[name])
        while current is not None and current in queues:
            if current in chain:
                if current != name:
                    break  # a loop further on, reported at its own queue
                r.fail(
                    f"queues.{name}.when_empty",
                    f"with no agent logged in callers would loop: {' > '.join([*chain, current])}"
                    " (end the chain with when_empty: callback)",
                )
                break
            chain.append(current)
            current = next_queue(queues[current])


def _callback(
    r: Reader, raw: object, need_prompt: Callable[[str, str | None], None]
) -> Callback | None:
    if raw is None:
        return None
    c = r.mapping("callback", raw, {"offer_when_waiting", "digit", "prompt", "confirm"})
    waiting = r.get("callback", c, "offer_when_waiting", int, 5)
    r.number("callback.offer_when_waiting", waiting, 1, 1000)
    digit = r.get("callback", c, "digit", str, "1") or "1"
    if len(digit) != 1 or digit not in DIGITS:
        r.fail("callback.digit", "one key: 0-9, * or #")
    prompt, confirm = r.get("callback", c, "prompt", str), r.get("callback", c, "confirm", str)
    need_prompt("callback.prompt", prompt)
    need_prompt("callback.confirm", confirm)
    return Callback(waiting or 5, digit, prompt or "", confirm or "")


def _survey(
    r: Reader, raw: object, need_prompt: Callable[[str, str | None], None]
) -> Survey | None:
    if raw is None:
        return None
    s = r.mapping("survey", raw, {"prompt", "thanks", "timeout"})
    prompt, thanks = r.get("survey", s, "prompt", str), r.get("survey", s, "thanks", str)
    need_prompt("survey.prompt", prompt)
    need_prompt("survey.thanks", thanks)
    timeout = r.get("survey", s, "timeout", int, 6)
    r.number("survey.timeout", timeout, 1, 30)
    return Survey(prompt or "", thanks or "", timeout or 6)


WEEKDAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}


def _hours(r: Reader, raw: object, need_prompt: Callable[[str, str | None], None]) -> Hours:
    if raw == "always":
        return Hours()
    h = r.mapping("line.hours", raw, {"timezone", "weekly", "holidays", "workdays", "closed"})
    weekly: list[tuple[int, dt.time, dt.time]] = []
    for days, span in r.mapping(
        "line.hours.weekly",
        h.get("weekly", {}),
        set(WEEKDAYS) | {f"{a}-{b}" for a in WEEKDAYS for b in WEEKDAYS},
    ).items():
        node = f"line.hours.weekly.{days}"
        first, _, last = days.partition("-")
        match = re.fullmatch(r"(\d\d):(\d\d)-(\d\d):(\d\d)", str(span))
        if not match:
            r.fail(node, f"{span!r}: write hours as HH:MM-HH:MM")
            continue
        h1, m1, h2, m2 = map(int, match.groups())
        try:
            start, end = dt.time(h1, m1), dt.time(h2, m2)
        except ValueError as exc:
            r.fail(node, str(exc))
            continue
        if start >= end:
            r.fail(node, "the line must open before it closes")
        for day in range(WEEKDAYS[first], WEEKDAYS[last or first] + 1):
            weekly.append((day, start, end))
    dates: dict[str, tuple[dt.date, ...]] = {}
    for key in ("holidays", "workdays"):
        values = h.get(key, []) or []
        parsed = []
        for i, value in enumerate(values if isinstance(values, list) else []):
            if isinstance(value, dt.date):
                parsed.append(value)
            else:
                r.fail(f"line.hours.{key}.{i}", f"{value!r} is not a date (YYYY-MM-DD)")
        dates[key] = tuple(parsed)
    closed = r.get("line.hours", h, "closed", str)
    need_prompt("line.hours.closed", closed)
    timezone = r.get("line.hours", h, "timezone", str, TZ_NAME) or TZ_NAME
    r.kind("line.hours.timezone", Kind.TIMEZONE, timezone)
    return Hours(
        always=False,
        timezone=timezone,
        weekly=tuple(weekly),
        holidays=dates["holidays"],
        workdays=dates["workdays"],
        closed_prompt=closed,
    )


def _visit(r: Reader, raw: object, need_prompt: Callable[[str, str | None], None]) -> Visit | None:
    """The ``visit:`` section: the 回访 call's prompts (None: no 回访 calls)."""
    if raw is None:
        return None
    v = r.mapping("visit", raw, {"resolved", "rating", "thanks", "timeout"})
    prompts = {key: r.get("visit", v, key, str) for key in ("resolved", "rating", "thanks")}
    for key, prompt in prompts.items():
        need_prompt(f"visit.{key}", prompt)
    timeout = r.get("visit", v, "timeout", int, 6)
    r.number("visit.timeout", timeout, 1, 30)
    return Visit(prompts["resolved"] or "", prompts["rating"] or "", prompts["thanks"] or "",
                 timeout or 6)  # fmt: skip
