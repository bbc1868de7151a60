"""center.yaml's ``orders:`` section: the bundled file reads, a broken one names each node."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import hotline.center
from hotline.center.config import CenterError, load_center
from hotline.orders.model import OrderType
from hotline.orders.workdays import Limit

BUNDLED = Path(hotline.center.__file__).parent / "center.yaml"
BASE = "teams: {t: {shifts: []}}\nagents: {}\n"


def test_the_bundled_file_has_departments_and_limits() -> None:
    orders = load_center(BUNDLED.read_text(encoding="utf-8")).orders
    assert orders.departments["greening"].name == "绿化市容局"
    assert orders.department_of("lvhua01") is orders.departments["greening"]
    assert orders.limit(OrderType.HELP, "供水") == Limit(4, "h")
    assert orders.limit(OrderType.HELP, "物业") == Limit(3, "d")
    assert dt.date(2026, 10, 1) in orders.calendar.holidays
    assert orders.calendar.is_workday(dt.date(2026, 9, 27))  # a Sunday, 调休
    assert [(c.name, c.hours) for c in orders.chase] == [("催办", -4), ("督办", 0), ("通报", 24)]


def test_left_out_it_keeps_the_defaults() -> None:
    orders = load_center(BASE).orders
    assert orders.departments == {}
    assert orders.limit(OrderType.SUGGESTION, "x") == Limit(10, "d")
    assert orders.thresholds.returns == 2


def test_a_broken_section_names_every_problem() -> None:
    text = (
        BASE
        + """
orders:
  working_hours: {from: "18:00", to: "09:00"}
  holidays: ["2026-13-01"]
  limits: {sign: soon, types: {咨询: 1w, 投诉: 2d}}
  duplicates: {similarity: 2}
  chase: [{name: 催办, hours: -4}, {name: 催办, hours: 900}, {hours: 1}]
  rules: {returns: -1, bounces: 3}
  departments:
    Greening: {name: 绿化, handlers: [a]}
    other: {handlers: [a]}
"""
    )
    with pytest.raises(CenterError) as caught:
        load_center(text)
    said = str(caught.value)
    for node in (
        "orders.working_hours: ends (09:00) before it starts (18:00)",
        "orders.holidays.0: '2026-13-01': write a date as YYYY-MM-DD",
        "orders.limits.sign: 'soon'",
        "orders.limits.types.咨询: '1w'",
        "orders.limits.types.投诉",
        "orders.duplicates.similarity: 2: a number from 0 to 1",
        "orders.rules.returns: -1 is less than 0",
        "orders.chase.1.hours: 900 is outside -720..720",
        "orders.chase.2.name: missing",
        "orders.rules.bounces: unknown key",
        "orders.departments.Greening",
        "orders.departments.other.name: missing",
        "orders.departments.other.handlers: 'a' handles for Greening already",
    ):
        assert node in said, node
