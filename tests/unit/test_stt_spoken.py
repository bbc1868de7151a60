"""A piece no one could have said in its time is not speech (hotline.stt.engine.spoken)."""

from __future__ import annotations

import pytest

from hotline.stt.engine import spoken


@pytest.mark.parametrize(
    ("text", "start", "end", "language", "expected"),
    [
        ("我想问一下办理居住证需要多长时间", 0.0, 2.6, "zh", True),  # 15 characters, 5.8/s
        ("证 证 证 证 证", 2.6, 2.9, "zh", False),  # whisper filling 0.3 s with a hotword
        ("游户 游户", 3.36, 3.44, "zh", False),
        ("好的", 5.0, 5.0, "zh", True),  # too short to judge
        ("谢谢你，再见。", 1.0, 1.5, "zh", True),  # 5 characters in 0.5 s: fast, possible
        ("thank you very much", 0.0, 0.2, "en", True),  # words, not syllables: not judged
    ],
)
def test_a_piece_faster_than_speech_is_not_spoken(
    text: str, start: float, end: float, language: str, expected: bool
) -> None:
    assert spoken(text, start, end, language) is expected
