"""Speech spans from window peaks: silence skipped, pauses kept inside, long spans cut."""

from __future__ import annotations

from hotline.recordings.voiced import Span, spans

LOUD, QUIET = 5000, 0


def test_silence_has_no_span() -> None:
    assert spans([QUIET] * 100) == []
    assert spans([]) == []


def test_a_burst_is_padded_and_clipped_to_the_audio() -> None:
    peaks = [QUIET] * 20 + [LOUD] * 10 + [QUIET] * 20  # 1.0-1.5 s of 2.5 s
    assert spans(peaks) == [Span(700, 1800)]
    assert spans([LOUD] * 4) == [Span(0, 200)]


def test_short_pauses_stay_inside_long_ones_split() -> None:
    pause = [QUIET] * 20  # 1 s < MIN_GAP_MS
    gap = [QUIET] * 80  # 4 s
    assert len(spans([LOUD] * 10 + pause + [LOUD] * 10)) == 1
    two = spans([LOUD] * 10 + gap + [LOUD] * 10)
    assert two == [Span(0, 800), Span(4200, 5000)]


def test_a_long_span_is_cut_at_its_quietest_window() -> None:
    peaks = [LOUD] * 3000  # 150 s of speech without a pause
    peaks[2300] = 300  # quieter at 115 s (still voiced)
    cut = spans(peaks)
    assert [s.start_ms for s in cut] == [0, 115_000]
    assert cut[-1].end_ms == 150_000
    assert all(s.duration_ms <= 120_000 for s in cut)
