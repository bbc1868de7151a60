"""The flag rules over turns: each fires on what it is for, and not on what only looks close."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.center.config import CenterError, load_center
from hotline.qa.config import default_flags, load_qa
from hotline.qa.flags import Flag, FlagConfig, QaTurn, RuleId, flag
from hotline.qa.text import Matcher, normalize
from hotline.qa.turnfile import TurnsError, parse_turns, turn_doc
from hotline.recordings.leg import Leg
from hotline.transcripts.transcript import Word
from hotline.transcripts.turns import Turn

CENTER = Path(__file__).resolve().parents[3] / "src/hotline/center/center.yaml"
CFG = load_center(CENTER.read_text(encoding="utf-8")).qa.flags


def t(speaker: str, start: float, end: float, text: str, energy: float | None = None) -> QaTurn:
    leg = Leg.AGENT if speaker == "a" else Leg.CALLER
    return QaTurn(Turn(leg, int(start * 1000), int(end * 1000), text, ()), energy)


GOOD = [
    t("a", 0.5, 3.0, "您好，12345政务服务热线，很高兴为您服务"),
    t("c", 3.5, 8.0, "你好，我家楼下的烧烤店晚上太吵了"),
    t("a", 8.5, 12.0, "好的，我帮您记录下来，转给区城管局处理"),
    t("c", 12.5, 13.5, "好的谢谢"),
    t("a", 14.0, 16.0, "感谢您的来电，再见"),
]


def rules(flags: list[Flag]) -> list[str]:
    return [f.rule.value for f in flags]


def test_a_good_call_raises_nothing() -> None:
    assert flag(GOOD, CFG) == []


def test_the_config_in_the_centre_file_is_the_default() -> None:
    assert CFG.enabled == default_flags().enabled
    assert [g.name for g in CFG.groups] == [g.name for g in default_flags().groups]


@pytest.mark.parametrize(
    "said",
    [
        "这个不归我们管",
        "这不归我们管。",
        "这个 不 归 我们 管 的",  # Vosk's spaces
        "这个不是我们管的",
        "不属于我们这边负责",
        "您自己去问问他们吧",
        "我也没办法",
        "我们也没有办法",
        "幺二三四五能办什么事啊",
        "１２３４５能办什么事",
        "12345到底能干啥",
    ],
)
def test_forbidden_phrases_and_their_variants_fire(said: str) -> None:
    turns = [*GOOD[:2], t("a", 8.5, 12.0, said), *GOOD[3:]]
    (f,) = flag(turns, CFG)
    assert f.rule is RuleId.FORBIDDEN_PHRASE
    assert f.evidence.speaker is Leg.AGENT
    assert f.evidence.start_ms == 8500
    assert f.evidence.text
    assert f.evidence.text in said


@pytest.mark.parametrize(
    "said",
    [
        "请问有没有办法先帮我登记一下",
        "我们一起想办法",
        "如果您那边没办法的话我们再联系",
        "这个归我们管，您放心",
        "12345热线就是为您办事的",
    ],
)
def test_what_only_looks_close_does_not_fire(said: str) -> None:
    turns = [*GOOD[:2], t("a", 8.5, 12.0, said), *GOOD[3:]]
    assert flag(turns, CFG) == []


def test_the_citizen_saying_a_forbidden_phrase_is_not_the_agent() -> None:
    turns = [*GOOD[:1], t("c", 3.5, 8.0, "上次那个人说不归他们管，你们12345能办什么事"), *GOOD[2:]]
    assert flag(turns, CFG) == []


def test_the_evidence_has_the_words_times_when_the_turn_has_them() -> None:
    words = (Word("好的", 9000, 9400, 1.0), Word("这个", 9500, 9900, 1.0),
             Word("不归", 10000, 10400, 1.0), Word("我们", 10400, 10800, 1.0),
             Word("管", 10800, 11000, 1.0))  # fmt: skip
    turn = Turn(Leg.AGENT, 9000, 11000, "好的这个不归我们管", words)
    (f,) = flag([*GOOD[:2], QaTurn(turn), *GOOD[3:]], CFG)
    assert (f.evidence.start_ms, f.evidence.end_ms, f.evidence.text) == (10000, 11000, "不归我们管")
    assert f.item == "dismissive"
    assert f.doc()["speaker"] == "agent"
    assert f.doc()["start"] == 10.0


def test_greeting_missing_and_late() -> None:
    no_greeting = [t("a", 0.5, 3.0, "喂，说吧"), *GOOD[1:]]
    (f,) = flag(no_greeting, CFG)
    assert f.rule is RuleId.GREETING_MISSING
    assert f.evidence.text == "喂，说吧"
    late = [t("c", 0.0, 12.0, "喂喂有人吗"), *[QaTurn(x.turn, None) for x in GOOD[1:]]]
    late = [late[0], t("a", 12.5, 14.0, "您好"), *late[1:]]
    assert "greeting_missing" in rules(flag(late, CFG))


def test_closing_missing() -> None:
    (f,) = flag([*GOOD[:4], t("a", 14.0, 16.0, "行了就这样")], CFG)
    assert f.rule is RuleId.CLOSING_MISSING
    assert f.evidence.text == "行了就这样"


def test_talk_over_by_the_agent_not_by_the_citizen() -> None:
    over = [
        GOOD[0],
        t("c", 3.5, 8.0, "我家楼下的烧烤店"),
        t("a", 5.0, 9.0, "知道了知道了"),
        *GOOD[3:],
    ]
    (f,) = flag(over, CFG)
    assert f.rule is RuleId.TALK_OVER
    assert f.evidence.speaker is Leg.AGENT
    assert f.detail.startswith("overlap 3.0 s")
    brief = [GOOD[0], t("c", 3.5, 8.0, "我家楼下"), t("a", 7.0, 9.0, "嗯嗯好的"), *GOOD[3:]]
    assert flag(brief, CFG) == []  # 1.0 s: under the threshold
    citizen = [GOOD[0], t("a", 3.5, 8.0, "请问您的地址"), t("c", 4.0, 9.0, "等一下"), *GOOD[3:]]
    assert flag(citizen, CFG) == []


def test_long_silence_is_the_gap_nobody_spoke() -> None:
    gap = [*GOOD[:3], t("c", 30.0, 31.0, "好的谢谢"), t("a", 31.5, 33.0, "感谢您的来电，再见")]
    (f,) = flag(gap, CFG)
    assert f.rule is RuleId.LONG_SILENCE
    assert (f.evidence.start_ms, f.evidence.end_ms) == (12000, 30000)
    # an overlapping long turn covers the gap
    covered = [*gap[:3], t("c", 11.0, 29.0, "我再说一下情况"), *gap[3:]]
    assert flag(covered, CFG) == []


@pytest.mark.parametrize("said", ["我都打了好几次了", "我打了三次电话", "这是我第二次打了",
                                  "我又打来了", "我之前打过一次", "都打了两个电话了"])  # fmt: skip
def test_repeat_caller(said: str) -> None:
    turns = [GOOD[0], t("c", 3.5, 8.0, said), *GOOD[2:]]
    (f,) = flag(turns, CFG)
    assert f.rule is RuleId.REPEAT_CALLER
    assert f.evidence.speaker is Leg.CALLER


@pytest.mark.parametrize("said", ["我是第一次打", "打一次就行吗", "我打算明天再去"])
def test_not_a_repeat_caller(said: str) -> None:
    assert flag([GOOD[0], t("c", 3.5, 8.0, said), *GOOD[2:]], CFG) == []


def test_raised_voice_needs_energies_and_a_jump() -> None:
    calm = [QaTurn(x.turn, -30.0 if x.speaker is Leg.AGENT else -25.0) for x in GOOD]
    assert flag(calm, CFG) == []
    loud = [*calm[:2], QaTurn(calm[2].turn, -20.0), *calm[3:]]
    (f,) = flag(loud, CFG)
    assert f.rule is RuleId.RAISED_VOICE
    assert f.detail.startswith("+10.0 dB")
    assert flag([*GOOD[:2], QaTurn(GOOD[2].turn, -5.0), *GOOD[3:]], CFG) == []  # one figure


def test_rules_can_be_switched_off_and_tuned() -> None:
    cfg = load_qa({"flags": {"greeting_missing": {"enabled": False},
                             "long_silence": {"min_gap_seconds": 1}}}, _raise)  # fmt: skip
    assert RuleId.GREETING_MISSING not in cfg.flags.enabled
    assert cfg.flags.silence_ms == 1000
    assert flag([t("a", 0, 1, "喂"), t("a", 2.5, 3, "再见")], cfg.flags)[0].rule is (
        RuleId.LONG_SILENCE
    )


def _raise(node: str, message: str) -> None:
    raise AssertionError(f"{node}: {message}")


def test_bad_config_is_named_by_node() -> None:
    base = CENTER.read_text(encoding="utf-8").split("\nqa:")[0]
    bad = (
        base
        + """
qa:
  flags:
    forbidden_phrase:
      groups:
        dismissive: {phrases: [没办法], regex: ['(不归']}
        empty: {label: x}
    talk_over: {min_overlap_seconds: -1}
    long_silence: {min_gap: 3}
    raised_voice: {min_turns: 1}
    nonsense: {}
"""
    )
    with pytest.raises(CenterError) as err:
        load_center(bad)
    text = str(err.value)
    for node in ("qa.flags.forbidden_phrase.groups.dismissive.regex",
                 "qa.flags.forbidden_phrase.groups.empty", "qa.flags.talk_over.min_overlap_seconds",
                 "qa.flags.long_silence.min_gap", "qa.flags.raised_voice.min_turns",
                 "qa.flags.nonsense"):  # fmt: skip
        assert node in text, text


def test_normalize_keeps_where_each_character_came_from() -> None:
    norm, where = normalize("嗯，不 归！")
    assert norm == "不归"
    assert where == [2, 4]
    assert Matcher.build(["没办法"], gap=1).find("真的没有办法") == [(2, 6)]
    assert not Matcher.build()


def test_turns_json_round_trip_and_problems() -> None:
    doc = [{"speaker": "agent", "start": 0.5, "end": 3, "text": "您好", "energy": -20}]
    (turn,) = parse_turns(doc)
    assert turn.turn.start_ms == 500
    assert turn.energy_db == -20.0
    assert turn_doc(turn) == {**doc[0], "end": 3.0, "energy": -20.0}
    with pytest.raises(TurnsError) as err:
        parse_turns([{"speaker": "boss", "start": -1, "end": "x", "text": 5, "loud": 1},
                     {"speaker": "agent", "start": 5, "end": 4, "text": ""}, 7])  # fmt: skip
    problems = [p.node for p in err.value.problems]
    assert problems == ["turns.0.loud", "turns.0.speaker", "turns.0.start", "turns.0.end",
                        "turns.0.text", "turns.1.end", "turns.2"]  # fmt: skip
    with pytest.raises(TurnsError, match="expected a list"):
        parse_turns({"turns": []})


def test_default_config_has_no_problems() -> None:
    assert isinstance(default_flags(), FlagConfig)
