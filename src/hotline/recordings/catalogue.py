"""Catalogue a call's recorded legs when it ends: path, size, duration, SHA-256.

The dialplan records each call bridged to an agent with MixMonitor into
``<prefix>.wav`` (mixed), ``<prefix>-rx.wav`` (the caller) and ``<prefix>-tx.wav`` (the
agent), the prefix named by the caller's uniqueid (HotlineRecording tells it). MixMonitor
closes the files only after the caller's channel is gone, so a leg is catalogued once its
size stopped changing. Each caller/agent leg then becomes a speech-to-text job.
"""

from __future__ import annotations

import hashlib
import wave
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath

from hotline.recordings.errors import RecordingError as RecordingError  # re-exported


class Leg(Enum):
    CALLER = "rx"  # what the caller said (MixMonitor r())
    AGENT = "tx"  # what the agent said (MixMonitor t())
    MIXED = "mixed"


@dataclass(frozen=True, slots=True)
class Recording:
    call_id: str
    leg: Leg
    path: str  # on this host
    size: int
    duration_ms: int
    sha256: str


def host_path(prefix: str, mount_point: str, instance: Path) -> Path:
    """Where the PBX's ``/srv/hotline/...`` path is on this host (the bundled instance)."""
    inside = PurePosixPath(prefix)
    try:
        relative = inside.relative_to(mount_point)
    except ValueError:
        return Path(prefix)  # an external Asterisk writing where we can read it directly
    return instance / relative


def leg_paths(prefix: Path) -> dict[Leg, Path]:
    return {
        Leg.CALLER: prefix.with_name(prefix.name + "-rx.wav"),
        Leg.AGENT: prefix.with_name(prefix.name + "-tx.wav"),
        Leg.MIXED: prefix.with_name(prefix.name + ".wav"),
    }


def describe(call_id: str, leg: Leg, path: Path) -> Recording:
    """Read one closed leg: size, duration from the WAV header, SHA-256 of the bytes."""
    try:
        data = path.read_bytes()
        with wave.open(str(path)) as w:
            frames, rate = w.getnframes(), w.getframerate()
    except (OSError, EOFError, wave.Error) as exc:
        raise RecordingError(f"{path}: {exc}", "unreadable") from None
    if rate <= 0:
        raise RecordingError(f"{path}: no sample rate in the header")
    return Recording(
        call_id=call_id,
        leg=leg,
        path=str(path),
        size=len(data),
        duration_ms=frames * 1000 // rate,
        sha256=hashlib.sha256(data).hexdigest(),
    )
