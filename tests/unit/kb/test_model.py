from __future__ import annotations

from dataclasses import replace

import pytest

from hotline.kb.errors import KbError
from hotline.kb.model import Content, check, material, summary
from tests.unit.kb.scene import CONTENTS, T0, answer


def test_check_tidies_and_refuses_what_is_missing() -> None:
    c = check(Content(" 欠薪 ", "  农民工  欠薪 ", " 可投诉\n", tags=("欠薪", " 欠薪", "仲裁")))
    assert (c.category, c.title, c.text, c.tags) == (
        "欠薪",
        "农民工 欠薪",
        "可投诉",
        ("欠薪", "仲裁"),
    )
    for bad, says in [
        (Content("", "t", "x"), "category"),
        (Content("欠薪", " ", "x"), "title"),
        (Content("欠薪", "t", "  "), "text"),
        (Content("欠薪", "t", "x", tags=("",)), "empty tag"),
        (Content("欠薪", "t", "x", valid_from=T0, valid_until=T0), "after valid from"),
        (Content("欠薪", "t" * 201, "x"), "at most 200"),
    ]:
        with pytest.raises(KbError, match=says):
            check(bad)


def test_validity_period() -> None:
    c = Content("社保", "t", "x", valid_from=T0, valid_until=T0 + 10)
    assert not c.valid_at(T0 - 1)
    assert c.valid_at(T0)
    assert c.valid_at(T0 + 9)
    assert not c.valid_at(T0 + 10)
    assert Content("社保", "t", "x").valid_at(0)


def test_every_edit_is_a_version_with_a_summary_of_what_changed() -> None:
    old = CONTENTS[6]
    new = replace(old, text=old.text.replace("7个工作日", "15个工作日"), tags=("社保卡", "补卡"))
    a = answer(6, old, new)
    assert [v.n for v in a.versions] == [1, 2]
    assert a.current.n == 2
    assert a.content.tags == ("社保卡", "补卡")
    assert a.versions[0].change == "new answer"
    change = a.current.change
    assert change.startswith("text: +2 −1 characters in 1 place: −“7” +“15”")
    assert change.endswith("tags: +补卡")
    assert summary(old, old) == ""
    assert summary(old, replace(old, category="医保")) == "category: 社保 → 医保"
    with pytest.raises(KbError, match="no version 3"):
        a.version(3)


def test_a_material_change_is_a_number_a_negation_or_a_rewording() -> None:
    text = CONTENTS[6].text
    assert material(text, text) == ""
    assert material(text, text.replace("，", ",")) == ""  # punctuation only
    assert material(text, text.replace("一般", "通常")) == ""  # a word reworded
    assert material(text, text.replace("20元", "10元")).startswith("numbers changed: 20 7 → 10 7")
    can = "符合条件的可以在网上办理。"
    assert material(can, "符合条件的不可以在网上办理。") == "a negation added or removed"
    other = "物业公司的服务问题请先与业主委员会协商，再向街道办反映。"
    assert material("小区物业问题请向住建局物业科投诉。", other).startswith("reworded: ")
    # Chinese numerals count as numbers too (五个工作日 → 十个工作日)
    assert material("五个工作日内答复", "十个工作日内答复").startswith("numbers changed")
