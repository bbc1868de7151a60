"""Recording integrity: a leg is used (transcribed, played) only if its bytes still have
the SHA-256 the catalogue took when the call ended.

    rec = verified(history, call_id, Leg.CALLER)   # the catalogued leg, checked now
    # otherwise MismatchError, an IntegrityError (reason "integrity", "not_catalogued",
    # "missing") with .mismatch: the caller stores it as an alert (stores/integrity.py)

A changed file is evidence that someone or something altered a recording; a missing one
that it was moved or disposed of. Either way, an auditor must hear about it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hotline.recordings.errors import IntegrityError
from hotline.recordings.leg import Leg, Recording


@dataclass(frozen=True, slots=True)
class Mismatch:
    call_id: str
    leg: Leg
    path: str
    expected: str  # the catalogue's SHA-256 ("" when the leg is not catalogued)
    actual: str  # the file's SHA-256 now ("" when it cannot be read)
    reason: str  # "integrity", "missing", "not_catalogued"


class Catalogue(Protocol):
    def recordings(self, call_id: str) -> list[Recording]: ...


class MismatchError(IntegrityError):
    """An IntegrityError about one leg: ``.mismatch`` is what to store as the alert."""

    def __init__(self, message: str, mismatch: Mismatch) -> None:
        super().__init__(message, mismatch.reason)
        self.mismatch = mismatch


_fail = MismatchError


def sha256_of(path: Path | str) -> str:
    """The file's SHA-256, read a megabyte at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def verify(recording: Recording) -> Recording:
    """The recording, if its file still has the catalogued SHA-256; IntegrityError if not."""
    try:
        actual = sha256_of(recording.path)
    except OSError as exc:
        m = Mismatch(recording.call_id, recording.leg, recording.path, recording.sha256, "",
                     "missing")  # fmt: skip
        raise _fail(f"{recording.path}: cannot read the recording: {exc.strerror}", m) from None
    if actual != recording.sha256:
        m = Mismatch(recording.call_id, recording.leg, recording.path, recording.sha256, actual,
                     "integrity")  # fmt: skip
        raise _fail(
            f"{recording.path}: SHA-256 {actual[:16]}... differs from the catalogue's "
            f"{recording.sha256[:16]}...: the recording was altered since the call",
            m,
        )
    return recording


def verified(catalogue: Catalogue, call_id: str, leg: Leg, path: str = "") -> Recording:
    """The catalogued leg of CALL_ID, checked against its file now."""
    for rec in catalogue.recordings(call_id):
        if rec.leg is leg:
            return verify(rec)
    m = Mismatch(call_id, leg, path, "", "", "not_catalogued")
    raise _fail(f"call {call_id} has no catalogued {leg.name.lower()} leg", m)
