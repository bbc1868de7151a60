"""The agent page's two cards as their templates render them (hotline.web.templates):
the recall offered with its preview, and the answers proposed on a call."""

from __future__ import annotations

from hotline.kb.propose import Proposal
from hotline.recall.tasks import Origin, Task
from hotline.web import i18n
from hotline.web.app import templates
from hotline.web.offer import Offer

T0 = 1_796_000_000_000
TASK = Task(7, "13800000001", Origin.CALLBACK, "labour", T0, T0 + 1_800_000, ("c1", "c2"))


def render(name: str, lang: str = "zh", **values: object) -> str:
    t = templates().get_template(name)
    return t.render(t=lambda k, **v: i18n.text(k, lang, **v), **values)


def test_the_offer_shows_the_masked_number_the_preview_and_both_buttons() -> None:
    html = render(
        "agent_recall.html",
        offer=Offer(TASK),
        number="138****0001",
        calls=[{"call_id": "c0", "t_arrival": T0 - 86_400_000, "queue": "labour",
                "tag": "unpaid-wages", "end_reason": "answered", "agent": "刘洋"}],
        orders=[{"id": "20261201-0001", "type": "求助", "category": "欠薪", "state": "派单",
                 "department": "labour-bureau", "deadline": T0, "content": "<b>拖欠</b>工资"}],
    )  # fmt: skip
    assert 'data-task="7"' in html
    assert "138****0001" in html
    assert "预约回拨" in html
    assert "来电 2 次" in html
    assert 'data-recall="dial"' in html
    assert 'data-recall="done"' in html
    assert "unpaid-wages" in html
    assert 'href="/orders/20261201-0001"' in html
    assert "&lt;b&gt;拖欠&lt;/b&gt;" in html  # what citizens said is text, never markup


def test_no_offer_says_why_in_either_language() -> None:
    for why in ("not_ready", "callers_waiting", "none_due", "unavailable"):
        zh = render("agent_recall.html", offer=Offer(None, why))
        en = render("agent_recall.html", "en", offer=Offer(None, why))
        assert i18n.text(f"recall.why.{why}", "zh") in zh
        assert i18n.text(f"recall.why.{why}", "en") in en
        assert "data-recall" not in zh


def test_the_answers_proposed_carry_what_use_sends() -> None:
    p = Proposal(3, 2, "农民工工资被拖欠怎么办", "欠薪", 2, "tag unpaid-wages", 0.5, ("拖欠",))
    html = render("agent_kb.html", call={"call_id": "1796.4", "ivr_path": "main:2>labour",
                                         "tag": "unpaid-wages"},
                  proposals=[p], texts={3: "可向劳动监察大队投诉"}, transcribed=True)  # fmt: skip
    assert 'data-kb-use="3" data-version="2" data-call="1796.4"' in html
    assert "可向劳动监察大队投诉" in html
    assert "已转写" in html
    idle = render("agent_kb.html", "en", call=None, proposals=[], texts={})
    assert "while you are on a call" in idle
    none = render("agent_kb.html", call={"call_id": "x"}, proposals=[], texts={})
    assert "没有匹配的答案" in none
