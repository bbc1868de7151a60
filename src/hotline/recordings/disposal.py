"""Disposal of recorded legs: the files deleted from disk, each with what was deleted.

    done = remove_leg("rx", "/var/spool/asterisk/monitor/...-rx.wav", catalogue_sha256)
    done.outcome        # "deleted", "missing" (gone already), or "failed: <why>"

:class:`hotline.stores.retention.RetentionStore` calls it inside the transaction that
checks the call's legal hold and records the disposal (hash-chained): the store holds the
SQL, this module touches the files. A failed file is recorded as such and tried again on
the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hotline.recordings.integrity import sha256_of

__all__ = ["DELETED", "MISSING", "DisposedFile", "Remove", "remove_leg"]

DELETED, MISSING = "deleted", "missing"  # a failure is "failed: <why>" (retried next run)


@dataclass(frozen=True, slots=True)
class DisposedFile:
    """What became of one recorded leg at its disposal (a row of the disposal record)."""

    leg: str
    path: str
    size: int
    sha256: str  # of the bytes deleted (the catalogue's when the file was already gone)
    catalogue_sha256: str
    outcome: str  # "deleted", "missing", or "failed: <why>"

    def fields(self) -> list[object]:
        return [self.leg, self.path, self.size, self.sha256, self.catalogue_sha256, self.outcome]


def remove_leg(leg: str, path: str, catalogued: str) -> DisposedFile:
    """Delete one recorded leg; what was deleted (size, SHA-256 of its bytes) or why not.
    ``catalogued`` is the catalogue's SHA-256, kept beside the file's for the record."""
    p = Path(path)
    try:
        size = p.stat().st_size
        sha = sha256_of(p)
    except FileNotFoundError:
        return DisposedFile(leg, path, 0, catalogued, catalogued, MISSING)
    except OSError as exc:
        return DisposedFile(leg, path, 0, "", catalogued, f"failed: {exc.strerror or exc}")
    try:
        p.unlink()
    except FileNotFoundError:
        pass  # gone between the hash and now: it is gone either way
    except OSError as exc:
        return DisposedFile(leg, path, size, sha, catalogued, f"failed: {exc.strerror or exc}")
    return DisposedFile(leg, path, size, sha, catalogued, DELETED)


Remove = Callable[[str, str, str], DisposedFile]
"""(leg, path, catalogue SHA-256) → what became of the file: :func:`remove_leg`."""
