"""The recordings package's errors: one base, each with a stable ``reason`` id.

A failed speech-to-text job carries ``reason`` (``empty``, ``not_wav``, ``integrity`` ...)
into the dead-letter stream, so an operator can count failures by kind without parsing
messages; the message says what was wrong and what to do.
"""

from __future__ import annotations


class RecordingError(Exception):
    """A recording cannot be used; ``reason`` names the kind (subclasses set it)."""

    reason = "recording"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class AudioError(RecordingError):
    """The file is not audio hotline can transcribe (empty, truncated, not WAV, ...)."""

    reason = "audio"


class IntegrityError(RecordingError):
    """A leg's bytes differ from the catalogue's SHA-256, or the leg is not catalogued."""

    reason = "integrity"


class ModelError(RecordingError):
    """A speech model is missing or broken: no job can run until it is fixed."""

    reason = "model"


class JobError(RecordingError):
    """A job in the stream lacks a field or has a malformed one."""

    reason = "bad_job"
