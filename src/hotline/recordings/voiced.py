"""Where the speech is in a leg: spans of audio louder than silence, from window peaks.

Pure: the caller measures each window's peak (``audio.peaks``) and gets back the spans in
milliseconds to transcribe. MixMonitor pads each leg with digital silence while the other
side talks (both legs are as long as the call), and whole legs can be silent: skipping the
silence saves the engines most of their time and bounds an hour-long file to its speech.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WINDOW_MS = 50
SILENCE_PEAK = 200  # |sample| below this (-44 dBFS) is silence: line noise, MixMonitor padding
MIN_GAP_MS = 1500  # quieter stretches shorter than this stay inside one span
PAD_MS = 300  # kept on each side, so word onsets and endings are not clipped
MAX_SPAN_MS = 120_000  # longer spans are cut at their quietest window, to bound memory
_SEARCH_MS = 10_000  # ... found in the last 10 s before the limit


@dataclass(frozen=True, slots=True)
class Span:
    start_ms: int
    end_ms: int

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


def spans(
    peaks: Sequence[int],
    *,
    window_ms: int = WINDOW_MS,
    total_ms: int | None = None,
    silence_peak: int = SILENCE_PEAK,
    min_gap_ms: int = MIN_GAP_MS,
    pad_ms: int = PAD_MS,
    max_span_ms: int = MAX_SPAN_MS,
) -> list[Span]:
    """The voiced spans of audio whose windows have these ``peaks``, padded and merged."""
    total = len(peaks) * window_ms if total_ms is None else total_ms
    runs: list[list[int]] = []  # [first, last] voiced window indices
    gap_windows = max(1, min_gap_ms // window_ms)
    for i, peak in enumerate(peaks):
        if peak < silence_peak:
            continue
        if runs and i - runs[-1][1] <= gap_windows:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    padded: list[Span] = []
    for first, last in runs:
        start = max(0, first * window_ms - pad_ms)
        end = min(total, (last + 1) * window_ms + pad_ms)
        if padded and start <= padded[-1].end_ms:
            padded[-1] = Span(padded[-1].start_ms, end)
        else:
            padded.append(Span(start, end))
    out: list[Span] = []
    for span in padded:
        out.extend(_split(span, peaks, window_ms, max_span_ms))
    return out


def _split(span: Span, peaks: Sequence[int], window_ms: int, max_ms: int) -> list[Span]:
    pieces = []
    start = span.start_ms
    while span.end_ms - start > max_ms:
        limit = start + max_ms
        lo = max(start + window_ms, limit - _SEARCH_MS) // window_ms
        hi = limit // window_ms
        window = range(lo, min(hi, len(peaks)))
        cut = min(window, key=lambda i: peaks[i], default=hi) * window_ms
        cut = max(cut, start + window_ms)
        pieces.append(Span(start, cut))
        start = cut
    pieces.append(Span(start, span.end_ms))
    return pieces
