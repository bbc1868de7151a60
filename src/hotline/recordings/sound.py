"""Audio devices (PortAudio through sounddevice): the only module that imports it.

``hotline play`` writes a leg to an output device; ``hotline stt listen`` reads a
microphone. On a headless box PortAudio lists only the PCMs that ``~/.asoundrc`` defines
(docs/platform.md, "Audio devices"); a missing device is a clear error, not a hang.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

from hotline.recordings.errors import RecordingError

BLOCK_MS = 100


class SoundError(RecordingError):
    """No usable audio device (or no PortAudio)."""

    reason = "device"


def _sd() -> ModuleType:
    try:
        import sounddevice
    except OSError as exc:  # libportaudio2 missing
        raise SoundError(
            f"PortAudio is not available: {exc} (apt-get install libportaudio2)"
        ) from None
    module: ModuleType = sounddevice
    return module


def _device(sd: ModuleType, device: str | None, kind: str) -> str | int | None:
    devices = sd.query_devices()
    if not len(devices):
        raise SoundError(
            "no audio device: PortAudio lists none (on a server, define one in ~/.asoundrc)"
        )
    if device is None:
        return None
    try:
        sd.query_devices(device, kind)
    except ValueError as exc:
        names = ", ".join(str(d["name"]) for d in devices)
        raise SoundError(f"no {kind} device {device!r} ({exc}); devices: {names}") from None
    return device


def play(pcm: bytes, rate: int, device: str | None = None) -> None:
    """Play 16-bit mono PCM at RATE on DEVICE (the default output when None)."""
    sd = _sd()
    dev = _device(sd, device, "output")
    try:
        with sd.RawOutputStream(samplerate=rate, channels=1, dtype="int16", device=dev) as out:
            step = rate * BLOCK_MS // 1000 * 2
            for i in range(0, len(pcm), step):
                out.write(pcm[i : i + step])
    except sd.PortAudioError as exc:
        raise SoundError(f"cannot play on {device or 'the default device'}: {exc}") from None


def capture(rate: int, device: str | None = None, seconds: float | None = None) -> Iterator[bytes]:
    """Blocks of 16-bit mono PCM at RATE from DEVICE, for SECONDS (None: until closed)."""
    sd = _sd()
    dev = _device(sd, device, "input")
    frames = rate * BLOCK_MS // 1000
    left = None if seconds is None else int(seconds * rate)
    try:
        with sd.RawInputStream(samplerate=rate, channels=1, dtype="int16", device=dev,
                               blocksize=frames) as mic:  # fmt: skip
            while left is None or left > 0:
                n = frames if left is None else min(frames, left)
                data, _overflowed = mic.read(n)
                yield bytes(data)
                if left is not None:
                    left -= n
    except sd.PortAudioError as exc:
        raise SoundError(f"cannot record from {device or 'the default device'}: {exc}") from None
