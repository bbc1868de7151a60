"""The flow loader: the shipped flow loads; every broken flow names its node."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import yaml

from hotline.host.settings import DEFAULT_FLOW
from hotline.ivr.loader import FlowError, load_flow
from hotline.ivr.model import WhenEmpty, routes

FLOW_FILE = DEFAULT_FLOW
TEXT = FLOW_FILE.read_text(encoding="utf-8")


def broken(edit: str, old: str, new: str) -> list[str]:
    assert old in TEXT, f"{edit}: the shipped flow no longer contains {old!r}"
    with pytest.raises(FlowError) as caught:
        load_flow(TEXT.replace(old, new, 1))
    return [str(p) for p in caught.value.problems]


def test_the_shipped_flow_loads() -> None:
    flow = load_flow(TEXT)
    assert flow.start == "language"
    assert flow.languages == ("zh", "en")
    assert set(flow.queues) == {"property", "labour", "environment", "intake"}
    assert flow.queues["intake"].when_empty is WhenEmpty.CALLBACK
    assert flow.queues["labour"].overflow_to == "intake"


def test_zero_reaches_a_human_from_every_menu() -> None:
    flow = load_flow(TEXT)
    for menu in flow.menus.values():
        zero = menu.option("0")
        assert zero is not None, menu.name
        assert zero.queue == flow.operator_queue


def test_every_menu_and_queue_is_reachable_by_some_route() -> None:
    flow = load_flow(TEXT)
    found = list(routes(flow))
    assert {m for r in found for m in r.menus} == set(flow.menus)
    assert {r.queue for r in found} == set(flow.queues)
    assert {r.language for r in found} == {"zh", "en"}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            '"1": {queue: property, tag: inquiry}',
            '"1": {queue: houseing, tag: inquiry}',
            "menus.inquiry.options.1: unknown queue 'houseing'",
        ),
        (
            '"1": {goto: inquiry}',
            '"1": {goto: inquiri}',
            "menus.main.options.1: unknown menu 'inquiri'",
        ),
        (
            '"9": {goto: main}',
            '"9": {goto: main, queue: intake}',
            "menus.inquiry.options.9: needs exactly one of 'goto' (a menu) or 'queue'",
        ),
        (
            '"4": {queue: intake, tag: suggestion}',
            '"0": {goto: inquiry}',
            "menus.main.options.0: 0 must reach a human: give it a queue",
        ),
        (
            '"1": {language: zh, goto: main}',
            '"1": {language: fr, goto: main}',
            "menus.language.options.1: language 'fr' is not one of the flow's languages",
        ),
        ('"3": {goto: help}', '"x": {goto: help}', "menus.main.options.x: an option is one key"),
        (
            "prompt: main-menu",
            "prompt: main-menuu",
            "menus.main.prompt: unknown prompt 'main-menuu'",
        ),
        (
            "when_empty: overflow ",
            "when_empty: sometimes ",
            "queues.property.when_empty: 'sometimes': use overflow, callback or operator",
        ),
        ("  labour:\n    label", "  labour:\n    labl", "queues.labour.labl: unknown key"),
        ("timeout: 900", "timeout: 2", "queues.intake.timeout: 2 is outside 5..7200"),
        ("timeout: 900", "timeout: soon", "queues.intake.timeout: expected int, got 'soon'"),
        ("  property:\n", "  general:\n", "queues.general: 'general' is reserved"),
        ("start: language", "start: welcome", "start: unknown menu 'welcome'"),
        ("    en: Sorry, that is not a valid choice.\n", "", "prompts.invalid.en: missing text"),
        (
            "when_empty: callback ",
            "when_empty: operator ",
            "queues.intake.when_empty: with no agent logged in callers would loop: intake > intake",
        ),
        (
            "operator_queue: intake",
            "operator_queue: operators",
            "line.operator_queue: unknown queue 'operators'",
        ),
        (
            "  help:\n    prompt: help-menu",
            "  helpdesk:\n    prompt: help-menu",
            "menus.main.options.3: unknown menu 'help'",
        ),
        (
            "hours: always",
            "hours: {weekly: {mon-fri: '08:30-17:30', sat: '9-12'}}",
            "line.hours.weekly.sat: '9-12': write hours as HH:MM-HH:MM",
        ),
        (
            "hours: always",
            "hours: {weekly: {mon: '18:00-08:00'}}",
            "line.hours.weekly.mon: the line must open before it closes",
        ),
        (
            "hours: always",
            "hours: {weekly: {mon: '08:00-18:00'}, holidays: [tomorrow]}",
            "line.hours.holidays.0: 'tomorrow' is not a date",
        ),
    ],
)
def test_a_broken_flow_names_its_node(old: str, new: str, expected: str) -> None:
    problems = broken(expected, old, new)
    assert any(p.startswith(expected) for p in problems), problems


def test_an_unreachable_menu_is_an_error() -> None:
    problems = broken("unreachable", '"3": {goto: help}', '"3": {queue: labour}')
    assert "menus.help: no caller can reach this menu from 'language'" in problems


def test_every_problem_is_reported_at_once() -> None:
    text = TEXT.replace("{queue: property, tag: inquiry}", "{queue: houseing}").replace(
        "prompt: main-menu", "prompt: nope"
    )
    with pytest.raises(FlowError) as caught:
        load_flow(text)
    assert len(caught.value.problems) == 2


@pytest.mark.parametrize(
    "text",
    [
        "",
        "just a string",
        "- a\n- list",
        "menus: [1, 2",
        "\tline: {",
        "line: !!python/object:os.system {}",
    ],
)
def test_garbage_is_an_error_not_a_crash(text: str) -> None:
    with pytest.raises(FlowError) as caught:
        load_flow(text)
    assert str(caught.value)


def test_hours_are_parsed_and_applied() -> None:
    text = TEXT.replace(
        "hours: always",
        "hours: {weekly: {mon-fri: '08:30-17:30'}, holidays: [2026-10-01], "
        "workdays: [2026-10-10], closed: no-input}",
    )
    hours = load_flow(text).hours
    tz = ZoneInfo("Asia/Shanghai")
    assert hours.is_open(dt.datetime(2026, 11, 24, 9, 0, tzinfo=tz))  # a Tuesday
    assert not hours.is_open(dt.datetime(2026, 11, 24, 18, 0, tzinfo=tz))
    assert not hours.is_open(dt.datetime(2026, 11, 28, 10, 0, tzinfo=tz))  # Saturday
    assert not hours.is_open(dt.datetime(2026, 10, 1, 10, 0, tzinfo=tz))  # National Day
    assert hours.is_open(dt.datetime(2026, 10, 10, 10, 0, tzinfo=tz))  # make-up Saturday


def test_yaml_is_loaded_safely() -> None:
    # yaml.safe_load: no Python objects from a flow file
    with pytest.raises(FlowError, match="not valid YAML"):
        load_flow("line: !!python/object/apply:os.system ['true']")
    assert yaml.__version__
