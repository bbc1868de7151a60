"""Both legs merged into turns by time, word timings kept."""

from __future__ import annotations

from hotline.recordings.leg import Leg
from hotline.transcripts.transcript import Transcript, Word
from hotline.transcripts.turns import join_words, merge, render


def leg(which: Leg, *words: tuple[str, int, int], text: str = "") -> Transcript:
    ws = tuple(Word(w, a, b, 0.9) for w, a, b in words)
    return Transcript(
        "c1", which, "vosk", "m", "zh", text or " ".join(w for w, _, _ in words), ws, 60_000
    )


def test_turns_alternate_by_time_and_keep_word_times() -> None:
    agent = leg(Leg.AGENT, ("您好", 0, 400), ("请讲", 450, 800), ("好的", 5000, 5300),
                ("我", 5400, 5500), ("记录", 5500, 5900), ("一下", 5900, 6200))  # fmt: skip
    caller = leg(Leg.CALLER, ("我", 1000, 1100), ("想", 1100, 1300), ("投诉", 1300, 1700),
                 ("物业", 1800, 2200), ("噪音", 2300, 2700))  # fmt: skip
    turns = merge([caller, agent])
    assert [(t.speaker, t.text) for t in turns] == [
        (Leg.AGENT, "您好请讲"),
        (Leg.CALLER, "我想投诉物业噪音"),
        (Leg.AGENT, "好的我记录一下"),
    ]
    assert [(t.start_ms, t.end_ms) for t in turns] == [(0, 800), (1000, 2700), (5000, 6200)]
    assert turns[1].words[3] == Word("物业", 1800, 2200, 0.9)
    assert render(turns).splitlines() == [
        "坐席 [00:00.0]: 您好请讲",
        "市民 [00:01.0]: 我想投诉物业噪音",
        "坐席 [00:05.0]: 好的我记录一下",
    ]


def test_a_pause_longer_than_the_limit_starts_a_new_turn() -> None:
    caller = leg(Leg.CALLER, ("喂", 0, 300), ("你好", 1500, 1800), ("在吗", 3100, 3400))
    turns = merge([caller])  # 1.2 s gap: same turn; 1.3 s gap: a new one
    assert [t.text for t in turns] == ["喂你好", "在吗"]
    assert [t.text for t in merge([caller], pause_ms=2000)] == ["喂你好在吗"]


def test_words_join_without_spaces_in_chinese_with_spaces_otherwise() -> None:
    assert join_words(["我的", "email", "是", "a@b.cn", "谢谢"]) == "我的 email 是 a@b.cn 谢谢"
    assert join_words(["the", "noise", "噪音", "很大"]) == "the noise 噪音很大"
    starts: list[int] = []
    assert join_words(["ab", "物业", "噪音"], starts) == "ab 物业噪音"
    assert starts == [0, 3, 5]


def test_a_leg_without_word_times_is_one_turn_and_empty_legs_none() -> None:
    caller = Transcript("c1", Leg.CALLER, "whisper", "base", "zh", " 物业不管 ", (), 9000)
    agent = leg(Leg.AGENT, ("您好", 100, 500))
    silent = Transcript("c1", Leg.CALLER, "vosk", "m", "zh", "", (), 9000)
    turns = merge([caller, agent, silent])
    assert [(t.speaker, t.start_ms, t.end_ms, t.text) for t in turns] == [
        (Leg.CALLER, 0, 9000, "物业不管"),
        (Leg.AGENT, 100, 500, "您好"),
    ]
    assert merge([]) == []
    assert render([]) == ""


def test_whisper_words_lose_their_leading_spaces() -> None:
    caller = leg(
        Leg.CALLER, (" I", 0, 100), (" want", 100, 300), (" 物业", 300, 600), ("  ", 600, 700)
    )
    (turn,) = merge([caller])
    assert turn.text == "I want 物业"
    assert [w.text for w in turn.words] == ["I", "want", "物业"]
