"""Forms, sampling and the report: the pure parts of a review."""

from __future__ import annotations

import pytest

from hotline.core.reader import Reader
from hotline.qa.forms import Form, FormError, Item, load_forms, score_call
from hotline.qa.report import FlagRow, ScoreRow, report
from hotline.qa.sampling import (
    SampledCall,
    SamplingConfig,
    sample,
    week_bounds,
    week_of,
    weeks_from,
)

FORM = Form("service", "服务", 1, (Item("greeting", "问候", 10), Item("accuracy", "准确", 30),
                                   Item("dismissive", "推诿", 0, critical=True)))  # fmt: skip
T0 = 1_796_000_000_000  # 2026-11-30 (a Monday in Shanghai: 11:33)


def test_a_score_is_points_over_the_form() -> None:
    r = score_call(FORM, {"greeting": "10", "accuracy": "15", "dismissive": "pass"})
    assert (r.total, r.failed, r.passed) == (62.5, (), True)
    assert dict(r.points) == {"greeting": 10, "accuracy": 15, "dismissive": 0}


def test_a_failed_critical_item_fails_the_whole_call() -> None:
    r = score_call(FORM, {"greeting": "10", "accuracy": "30", "dismissive": "FAIL"})
    assert (r.total, r.failed, r.passed) == (0.0, ("dismissive",), False)


def test_bad_answers_are_named_each() -> None:
    with pytest.raises(FormError) as err:
        score_call(FORM, {"greeting": "11", "accuracy": "2.5", "dismissive": "yes", "x": "1"})
    assert [p.node for p in err.value.problems] == ["x", "greeting", "accuracy", "dismissive"]
    with pytest.raises(FormError, match="greeting: not answered"):
        score_call(FORM, {"accuracy": "3", "dismissive": "pass"})


def test_forms_from_config_and_their_problems() -> None:
    r = Reader()
    forms = load_forms(r, {"f": {"version": 2, "items": {"a": {"weight": 5},
                                                         "b": {"critical": True}}}})  # fmt: skip
    assert r.problems == []
    assert forms["f"].items == (Item("a", "a", 5), Item("b", "b", 0, True))
    assert Form.from_doc(forms["f"].doc()) == forms["f"]
    bad = Reader()
    load_forms(bad, {"f": {"items": {"a": {"weight": 0}}}, "g": {"version": 1, "items": {}},
                     "h": {"version": 1, "items": {"c": {"critical": True}}}})  # fmt: skip
    assert [str(p) for p in bad.problems] == [
        "qa.forms.f.version: missing",
        "qa.forms.f.items.a.weight: 0 is outside 1..100",
        "qa.forms.f.items: a form needs items",
        "qa.forms.g.items: a form needs items",
        "qa.forms.h.items: the items weigh nothing: give some a weight",
    ]


def test_a_new_version_has_a_new_digest() -> None:
    changed = Form("service", "服务", 1, (*FORM.items[:2], Item("dismissive", "推诿", 5, True)))
    assert changed.digest() != FORM.digest()


def calls(agent: str, n: int) -> list[SampledCall]:
    return [SampledCall(f"{agent}-{i:03d}", agent, T0 + i) for i in range(n)]


def test_sampling_is_a_share_per_agent_plus_flagged_and_deterministic() -> None:
    every = calls("王芳", 100) + calls("李娜", 10)
    cfg = SamplingConfig(share=0.05, min_per_agent=2)
    picks = sample(every, {"李娜-009", "王芳-050"}, cfg, seed=7)
    drawn = [p for p in picks if p.reason == "share"]
    assert sum(p.agent == "王芳" for p in drawn) in (4, 5)  # 5 drawn, one may be the flagged
    assert {p.call_id for p in picks if p.reason == "flagged"} == {"李娜-009", "王芳-050"}
    assert len([p for p in picks if p.agent == "李娜"]) in (2, 3)
    assert sample(list(reversed(every)), {"李娜-009", "王芳-050"}, cfg, seed=7) == picks
    assert sample(every, set(), cfg, seed=8) != sample(every, set(), cfg, seed=7)
    # a call added later does not reshuffle the others' draw
    more = sample([*every, *calls("王芳", 101)[100:]], set(), cfg, seed=7)
    before = {p.call_id for p in sample(every, set(), cfg, seed=7) if p.agent == "王芳"}
    assert len(before - {p.call_id for p in more}) <= 1
    assert sample(calls("张伟", 1), set(), cfg, seed=1)[0].call_id == "张伟-000"
    off = SamplingConfig(share=0, min_per_agent=0, flagged=False)
    assert sample(every, {"李娜-009"}, off, seed=7) == []


def test_weeks_are_iso_weeks_in_the_centres_zone() -> None:
    assert week_of(T0) == "2026-W49"
    start, end = week_bounds("2026-W49")
    assert week_of(start) == "2026-W49"
    assert week_of(start - 1) == "2026-W48"
    assert week_of(end) == "2026-W50"
    assert end - start == 7 * 86_400_000
    for bad in ("2026-49", "2026-W54"):
        with pytest.raises(ValueError, match="2026"):
            week_bounds(bad)


def test_a_range_of_weeks_crosses_the_year_and_is_bounded() -> None:
    assert weeks_from("2026-W49", "2026-W49") == ["2026-W49"]
    assert weeks_from("2026-W52", "2027-W02") == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]
    assert len(weeks_from("2026-W01", "2026-W53")) == 53
    with pytest.raises(ValueError, match="before"):
        weeks_from("2026-W49", "2026-W48")
    with pytest.raises(ValueError, match="at most 53"):
        weeks_from("2025-W01", "2026-W49")
    with pytest.raises(ValueError, match="YYYY-Www"):
        weeks_from("2026-W49", "last week")


def test_the_report_by_agent_and_team() -> None:
    week = 7 * 86_400_000
    scores = [ScoreRow("c1", "王芳", "a", T0, 90.0, ()), ScoreRow("c2", "王芳", "a", T0 + week,
              0.0, ("dismissive",)), ScoreRow("c3", "李娜", "a", T0, 80.0, ())]  # fmt: skip
    flags = [FlagRow("c2", "王芳", "a", "forbidden_phrase"),
             FlagRow("c2", "王芳", "a", "forbidden_phrase"),
             FlagRow("c9", "李娜", "a", "talk_over")]  # fmt: skip
    lines = report(scores, flags)
    assert [ln.key for ln in lines] == ["李娜", "王芳"]
    wang = lines[1].doc()
    assert wang["scored"] == 2
    assert wang["average"] == 45.0
    assert wang["failed_calls"] == 1
    assert wang["failed_items"] == {"dismissive": 1}
    assert wang["flags"] == {"forbidden_phrase": 1}
    assert wang["weeks"] == [{"week": "2026-W49", "scored": 1, "average": 90.0},
                             {"week": "2026-W50", "scored": 1, "average": 0.0}]  # fmt: skip
    (team,) = report(scores, flags, by="team")
    assert (team.key, team.scored, team.average) == ("a", 3, 56.7)
    with pytest.raises(ValueError, match="agent or team"):
        report(scores, flags, by="queue")
