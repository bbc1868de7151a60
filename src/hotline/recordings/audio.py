"""Reading legs for speech-to-text: WAV checks with a clear reason, speech segments.

    info = probe(path)               # AudioError (reason empty/not_wav/format/...) if unusable
    for seg in segments(path, info): # the voiced parts, 16-bit mono PCM at info.rate
        ...

Accepted: RIFF/WAVE, 16-bit PCM, mono or stereo (mixed down), 8-48 kHz; each engine
resamples to its model's rate (Vosk inside Kaldi, faster-whisper with PyAV). Below 8 kHz
there is no telephone speech band left, so such files are refused rather than guessed at.
The file is read in windows and spans, never whole: an hour-long leg costs its speech.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hotline.recordings import voiced
from hotline.recordings.errors import AudioError

MIN_RATE, MAX_RATE = 8000, 48000
_PCM, _EXTENSIBLE = 1, 0xFFFE
_FORMATS = {3: "32-bit float", 6: "A-law", 7: "µ-law", 0x11: "IMA ADPCM", 0x55: "MP3"}
_FIX = "convert it: sox IN.wav -b 16 -e signed-integer OUT.wav"


@dataclass(frozen=True, slots=True)
class WavInfo:
    rate: int
    channels: int
    frames: int
    data_offset: int  # where the samples start in the file

    @property
    def duration_ms(self) -> int:
        return self.frames * 1000 // self.rate


@dataclass(frozen=True, slots=True)
class Segment:
    """Speech at ``start_ms`` into the leg: 16-bit little-endian mono PCM."""

    start_ms: int
    pcm: bytes
    rate: int

    @property
    def duration_ms(self) -> int:
        return len(self.pcm) // 2 * 1000 // self.rate


def _chunks(head: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(id, offset of its data, declared size) of each RIFF chunk in the file's head."""
    pos = 12
    while pos + 8 <= len(head):
        cid, length = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
        yield cid, pos + 8, length
        if cid == b"data":
            return
        pos += 8 + length + (length & 1)


def probe(path: Path | str) -> WavInfo:
    """The facts of a WAV file hotline can transcribe, or AudioError saying why not."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(65536)
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file", "missing") from None
    except OSError as exc:
        raise AudioError(f"{path}: cannot read: {exc.strerror}", "unreadable") from None
    if size == 0:
        raise AudioError(f"{path}: the file is empty (0 bytes)", "empty")
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise AudioError(f"{path}: not a WAV file (no RIFF/WAVE header)", "not_wav")
    fmt = data = None
    for cid, offset, length in _chunks(head):
        if cid == b"fmt " and length >= 16:
            fmt = head[offset : offset + min(length, 40)]
        elif cid == b"data":
            data = (offset, length)
    if fmt is None or len(fmt) < 16:
        raise AudioError(f"{path}: a WAV file without a format chunk (truncated?)", "truncated")
    tag, channels, rate, _, align, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack("<H", fmt[24:26])[0]
    if tag != _PCM or bits != 16:
        kind = _FORMATS.get(tag, f"format {tag}") if tag != _PCM else f"{bits}-bit PCM"
        raise AudioError(f"{path}: {kind} WAV; hotline reads 16-bit PCM: {_FIX}", "format")
    if channels not in (1, 2):
        raise AudioError(f"{path}: {channels} channels; hotline reads mono or stereo", "format")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(
            f"{path}: sample rate {rate} Hz is outside {MIN_RATE}-{MAX_RATE} Hz "
            "(below 8 kHz the telephone speech band is gone; a higher rate: resample it, "
            "sox IN.wav -r 16000 OUT.wav)",
            "sample_rate",
        )
    if data is None:
        raise AudioError(f"{path}: a WAV file without audio data (truncated?)", "truncated")
    offset, length = data
    present = size - offset
    if length == 0 and present > 0:
        raise AudioError(
            f"{path}: the WAV header was never finalised ({present} bytes of audio, header "
            "says 0): the recorder stopped before closing it",
            "truncated",
        )
    if length > present:
        raise AudioError(
            f"{path}: truncated: the header announces {length} bytes of audio, the file "
            f"holds {present}",
            "truncated",
        )
    frames = length // (align or 2 * channels)
    if frames == 0:
        raise AudioError(f"{path}: no audio in the file (0 frames)", "empty")
    return WavInfo(rate=rate, channels=channels, frames=frames, data_offset=offset)


def _mono(raw: bytes, channels: int) -> np.ndarray:
    samples = np.frombuffer(raw[: len(raw) // (2 * channels) * 2 * channels], dtype="<i2")
    if channels == 1:
        return samples
    pairs = samples.reshape(-1, 2).astype(np.int32)
    return ((pairs[:, 0] + pairs[:, 1]) // 2).astype("<i2")


def _read(path: Path, info: WavInfo, first: int, count: int) -> np.ndarray:
    """``count`` frames from frame ``first``, mono."""
    block = 2 * info.channels
    with path.open("rb") as f:
        f.seek(info.data_offset + first * block)
        return _mono(f.read(count * block), info.channels)


def peaks(path: Path | str, info: WavInfo, window_ms: int = voiced.WINDOW_MS) -> list[int]:
    """The peak |sample| of each window, read a minute at a time."""
    path = Path(path)
    window = info.rate * window_ms // 1000
    step = window * 1200
    out: list[int] = []
    for first in range(0, info.frames, step):
        samples = np.abs(_read(path, info, first, min(step, info.frames - first)).astype(np.int32))
        whole = len(samples) // window * window
        if whole:
            out.extend(samples[:whole].reshape(-1, window).max(axis=1).tolist())
        if len(samples) > whole:
            out.append(int(samples[whole:].max()))
    return out


def segments(path: Path | str, info: WavInfo | None = None) -> Iterator[Segment]:
    """The leg's voiced segments in order (none for a silent leg)."""
    path = Path(path)
    info = info or probe(path)
    found = voiced.spans(peaks(path, info), total_ms=info.duration_ms)
    for span in found:
        first = span.start_ms * info.rate // 1000
        last = min(info.frames, span.end_ms * info.rate // 1000)
        pcm = _read(path, info, first, last - first).tobytes()
        yield Segment(span.start_ms, pcm, info.rate)


def segments_of(pcm: bytes, rate: int) -> list[Segment]:
    """The voiced segments of audio in memory (16-bit mono PCM at ``rate``)."""
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(
            f"sample rate {rate} Hz is outside {MIN_RATE}-{MAX_RATE} Hz", "sample_rate"
        )
    samples = np.abs(np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.int32))
    window = rate * voiced.WINDOW_MS // 1000
    levels = [int(samples[i : i + window].max()) for i in range(0, len(samples), window)]
    total = len(samples) * 1000 // rate
    return [
        Segment(s.start_ms, pcm[s.start_ms * rate // 1000 * 2 : s.end_ms * rate // 1000 * 2], rate)
        for s in voiced.spans(levels, total_ms=total)
    ]


def pcm_from(path: Path | str, info: WavInfo, start_ms: int = 0) -> bytes:
    """The leg's mono PCM from START_MS to its end (for playback)."""
    first = min(info.frames, max(0, start_ms) * info.rate // 1000)
    return _read(Path(path), info, first, info.frames - first).tobytes()


def mix_from(
    caller: Path | str,
    agent: Path | str,
    caller_info: WavInfo,
    agent_info: WavInfo,
    start_ms: int = 0,
) -> bytes:
    """Both legs of a call as one mono PCM stream from START_MS (the mixed copy the PBX no
    longer writes, made when someone wants to hear the whole call).

    The legs start together (MixMonitor's b option: both from the bridge) and share a rate;
    the shorter is padded with silence, the sum clipped to 16 bits.
    """
    if caller_info.rate != agent_info.rate:
        raise AudioError(
            f"{caller} ({caller_info.rate} Hz) and {agent} ({agent_info.rate} Hz): the legs "
            "of one call have different rates",
            "format",
        )
    a = np.frombuffer(pcm_from(caller, caller_info, start_ms), dtype="<i2").astype(np.int32)
    b = np.frombuffer(pcm_from(agent, agent_info, start_ms), dtype="<i2").astype(np.int32)
    mixed = np.zeros(max(len(a), len(b)), dtype=np.int32)
    mixed[: len(a)] += a
    mixed[: len(b)] += b
    return np.clip(mixed, -32768, 32767).astype("<i2").tobytes()


def peak(pcm: bytes) -> int:
    """The largest |sample| of 16-bit PCM (0 for none)."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.int32)
    return int(np.abs(samples).max()) if len(samples) else 0


def level_db(path: Path | str, info: WavInfo, spans: list[tuple[int, int]]) -> float | None:
    """The loudness of SPANS (ms in the leg) together, in dBFS (RMS; a full-scale square
    wave is 0): how loud someone spoke over their words. None when the spans hold no audio
    or only digital silence."""
    path = Path(path)
    total, count = 0.0, 0
    for start_ms, end_ms in spans:
        first = min(info.frames, max(0, start_ms) * info.rate // 1000)
        last = min(info.frames, max(0, end_ms) * info.rate // 1000)
        if last <= first:
            continue
        samples = _read(path, info, first, last - first).astype(np.float64)
        total += float(np.sum(samples * samples))
        count += len(samples)
    if not count or total == 0:
        return None
    return round(10 * float(np.log10(total / count / 32768.0**2)), 1)
