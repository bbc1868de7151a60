from __future__ import annotations

from dataclasses import replace

import pytest

from hotline.core.localtime import DAY_MS
from hotline.kb.conflicts import Use, find
from tests.unit.kb.scene import CONTENTS, T0

ONE, TWO = CONTENTS[1], CONTENTS[2]


def use(link: int, answer: int, t: int, *, version: int = 1, text: str = "",
        kind: str = "call", target: str = "", caller: str = "", matter: str = "",
        category: str = "欠薪") -> Use:  # fmt: skip
    c = {1: ONE, 2: TWO}.get(answer, ONE)
    return Use(link, answer, version, c.title, category, text or c.text, kind,
               target or f"c{link}", t, "wangfang", caller, matter)  # fmt: skip


def test_the_hengshui_case_same_caller_two_answers_within_days() -> None:
    a = use(1, 1, T0, caller="13800000001")
    b = use(2, 2, T0 + 3 * DAY_MS, caller="13800000001")
    (c,) = find([b, a], days=30)
    assert (c.first, c.second, c.category) == (a, b, "欠薪")
    assert c.why == ("same caller",)
    assert c.difference.startswith("different answers: 1 “农民工工资被拖欠怎么办” and 2")
    assert c.days == 3.0


def test_no_conflict_apart_in_time_category_or_person() -> None:
    a = use(1, 1, T0, caller="13800000001")
    assert find([a, use(2, 2, T0 + 31 * DAY_MS, caller="13800000001")], days=30) == []
    assert find([a, use(2, 2, T0 + DAY_MS, caller="13900000002")], days=30) == []
    assert find([a, use(2, 2, T0 + DAY_MS, caller="13800000001", category="社保")]) == []
    assert find([use(1, 1, T0), use(2, 2, T0 + 1)]) == []  # unknown callers: no matter known
    assert find([a, use(2, 1, T0 + DAY_MS, caller="13800000001")]) == []  # the same answer
    # two answers on one call: not a contradiction
    assert find([a, use(2, 2, T0 + 1, caller="13800000001", target="c1")]) == []


def test_the_same_order_links_a_call_and_the_order() -> None:
    a = use(1, 1, T0, matter="20261201-0001")
    b = use(2, 2, T0 + DAY_MS, kind="order", target="20261201-0001", matter="20261201-0001")
    (c,) = find([a, b])
    assert c.why == ("same order 20261201-0001",)


def test_versions_of_one_answer_conflict_only_when_the_text_changed_materially() -> None:
    changed = ONE.text.replace("5个工作日", "15个工作日")
    a = use(1, 1, T0, caller="13800000001")
    b = use(2, 1, T0 + DAY_MS, version=2, text=changed, caller="13800000001")
    (c,) = find([a, b])
    assert c.difference == "answer 1 version 1 → 2: numbers changed: 12345 5 → 12345 15"
    reworded = ONE.text.replace("也可", "还可以")
    assert find([a, replace(b, text=reworded)]) == []


def test_days_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="days -1"):
        find([], days=-1)
