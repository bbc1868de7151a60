from __future__ import annotations

from dataclasses import replace

from hotline.kb.propose import grams, propose
from tests.unit.kb.scene import CONTENTS, T0, answer, answers


def ids(found: list) -> list[int]:  # type: ignore[type-arg]
    return [p.answer for p in found]


def test_grams_are_pairs_of_chinese_and_whole_words_like_the_search() -> None:
    assert grams("物业 噪音") == {"物业", "业噪", "噪音"}  # Vosk's spaces between words ignored
    assert grams("拨打96116，ＡＢ") == {"拨打", "96116", "ab"}
    assert grams("停") == {"停"}


def test_the_ivr_tag_comes_first() -> None:
    found = propose(answers(), tag="unpaid-wages", now=T0)
    assert ids(found) == [1]
    assert (found[0].level, found[0].match) == (2, "tag unpaid-wages")


def test_a_path_prefix_matches_and_the_deeper_one_ranks_first() -> None:
    found = propose(answers(), ivr_path="main:2>labour>arbitration", now=T0)
    assert ids(found) == [2, 1]
    assert [p.match for p in found] == ["path main:2>labour>arbitration", "path main:2>labour"]
    # a path that only shares a prefix of a step does not match
    assert propose(answers(), ivr_path="main:2>labourer", now=T0) == []


def test_the_words_decide_within_a_level() -> None:
    # the caller chose labour, then spoke of arbitration: the arbitration answer first
    words = "我想 申请 劳动 仲裁 请问 时效 是 多久"
    kb = [answer(1), answer(2, replace(CONTENTS[2], serves=("main:2>labour",)))]
    found = propose(kb, ivr_path="main:2>labour>wages", words=words, now=T0)
    assert ids(found) == [2, 1]
    assert [p.level for p in found] == [2, 2]
    # the deeper path matched does not outrank the words; without words it decides
    assert ids(propose(answers(), ivr_path="main:2>labour", words=words, now=T0)) == [1, 2]
    assert {"仲裁", "时效"} <= set(found[0].shared)


def test_without_an_ivr_match_the_transcript_finds_the_matter() -> None:
    cases = {
        "楼下工地晚上十一点还在施工，噪声太大睡不着": 4,
        "我们小区今天突然停水了，什么时候来水": 5,
        "我的社保卡丢了，要去哪里补办": 6,
        "物业乱收物业费，公共区域卫生也很差": 3,
        "老板拖欠我三个月工资，我是农民工": 1,
    }
    for words, best in cases.items():
        found = propose(answers(), tag="operator", words=words, now=T0)
        assert [p.answer for p in found][:1] == [best], (words, found)
        assert found[0].level == 0
        assert found[0].score > 0


def test_an_ivr_match_outranks_more_words() -> None:
    # the IVR said water; the words are about noise: the IVR's answer still comes first
    found = propose(answers(), tag="water", words="施工噪声扰民", now=T0)
    assert ids(found)[:2] == [5, 4]


def test_the_category_as_a_tag_is_a_weaker_match() -> None:
    kb = [answer(3, replace(CONTENTS[3], serves=())), answer(4)]
    found = propose(kb, tag="物业", now=T0)
    assert ids(found) == [3]
    assert found[0].level == 1


def test_common_words_count_little_and_nothing_shared_proposes_nothing() -> None:
    assert propose(answers(), words="你好 谢谢", now=T0) == []
    # 工作日 is in three answers, 补办 in one: the rare one wins
    found = propose(answers(), words="工作日 补办", now=T0)
    assert found[0].answer == 6


def test_answers_outside_their_validity_are_never_proposed() -> None:
    expired = answer(5, replace(CONTENTS[5], valid_until=T0))
    future = answer(6, replace(CONTENTS[6], valid_from=T0 + 1))
    assert propose([expired, future], tag="water", words="社保卡", now=T0) == []
    assert ids(propose([expired, future], tag="water", now=T0 - 1)) == [5]


def test_the_current_version_is_proposed_and_the_limit_holds() -> None:
    edited = answer(1, CONTENTS[1], replace(CONTENTS[1], title="欠薪投诉渠道"))
    (p,) = propose([edited], tag="unpaid-wages", now=T0)
    assert (p.version, p.title) == (2, "欠薪投诉渠道")
    assert len(propose(answers(), words="可向 投诉 工作日 小区", now=T0, limit=2)) == 2
