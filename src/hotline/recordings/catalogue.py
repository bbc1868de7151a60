"""Catalogue a call's recorded legs when it ends: path, size, duration, SHA-256.

The dialplan records each call bridged to an agent with MixMonitor into
``<prefix>-rx.wav`` (the caller) and ``<prefix>-tx.wav`` (the agent), the prefix named by
the caller's uniqueid (HotlineRecording tells it). Calls recorded before hotline stopped
writing a mixed copy also have ``<prefix>.wav``; it is catalogued as the MIXED leg. MixMonitor
closes the files only after the caller's channel is gone, so a leg is catalogued once its
size stopped changing. Each caller/agent leg then becomes a speech-to-text job.
"""

from __future__ import annotations

import hashlib
import struct
import wave
from pathlib import Path, PurePosixPath

from hotline.recordings.errors import RecordingError as RecordingError  # re-exported
from hotline.recordings.leg import Leg, Recording


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


_CANONICAL = 44  # RIFF(12) + fmt (8 + 16) + data header (8): what MixMonitor's wav writes


def finish_header(path: Path) -> bool:
    """Write the sizes into a leg's WAV header that its writer never finished; True if it did.

    MixMonitor writes a 44-byte header with RIFF and data sizes of 0 and fills them in when
    it closes the file: an Asterisk killed (or stopped) mid-call leaves the zeros, and no
    WAV reader accepts the file although its samples are all there. Only that exact case
    is touched (a canonical PCM header with zero sizes); the caller must know the file is
    closed (the sweep waits for it to be quiet), and hashes it afterwards.
    """
    with path.open("r+b") as f:
        head = f.read(_CANONICAL)
        if len(head) < _CANONICAL or head[0:4] != b"RIFF" or head[8:16] != b"WAVEfmt ":
            return False
        riff, fmt_size, data_id, data = (
            struct.unpack_from("<I", head, 4)[0],
            struct.unpack_from("<I", head, 16)[0],
            head[36:40],
            struct.unpack_from("<I", head, 40)[0],
        )
        if fmt_size != 16 or data_id != b"data" or (riff, data) != (0, 0):
            return False
        size = f.seek(0, 2)
        f.seek(4)
        f.write(struct.pack("<I", size - 8))
        f.seek(40)
        f.write(struct.pack("<I", size - _CANONICAL))
    return True
