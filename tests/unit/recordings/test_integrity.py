"""A leg is used only with the catalogue's SHA-256; each failed check is stored as an alert."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.recordings.catalogue import describe
from hotline.recordings.errors import IntegrityError
from hotline.recordings.integrity import MismatchError, verified
from hotline.recordings.leg import Leg, Recording
from hotline.stores.history import History
from hotline.stores.integrity import IntegrityAlerts
from tests.unit.test_recordings import wav


@pytest.fixture
def catalogued(tmp_path: Path) -> tuple[History, Recording]:
    history = History.open(tmp_path / "h.sqlite3")
    rec = describe("1795.7", Leg.CALLER, wav(tmp_path / "1795.7-rx.wav", 1.0))
    history.save_recordings([rec], 1)
    return history, rec


def test_an_untouched_leg_passes(catalogued: tuple[History, Recording]) -> None:
    history, rec = catalogued
    assert verified(history, "1795.7", Leg.CALLER) == rec


def test_an_altered_leg_is_refused_and_alerted(
    catalogued: tuple[History, Recording], tmp_path: Path
) -> None:
    history, rec = catalogued
    data = bytearray(Path(rec.path).read_bytes())
    data[-1] ^= 1  # one bit of one sample
    Path(rec.path).write_bytes(bytes(data))
    with pytest.raises(MismatchError, match="altered") as caught:
        verified(history, "1795.7", Leg.CALLER)
    m = caught.value.mismatch
    assert (m.reason, m.expected, m.path) == ("integrity", rec.sha256, rec.path)
    assert m.actual not in ("", rec.sha256)
    alerts = IntegrityAlerts.open(tmp_path / "h.sqlite3")
    alerts.add(m, by="test", at=5)
    [stored] = alerts.recent()
    assert (stored.mismatch, stored.raised_by, stored.t_raised) == (m, "test", 5)
    assert alerts.count() == 1


def test_a_missing_or_uncatalogued_leg_is_refused(catalogued: tuple[History, Recording]) -> None:
    history, rec = catalogued
    with pytest.raises(IntegrityError) as none:
        verified(history, "1795.7", Leg.AGENT)
    assert none.value.reason == "not_catalogued"
    Path(rec.path).unlink()
    with pytest.raises(IntegrityError) as gone:
        verified(history, "1795.7", Leg.CALLER)
    assert gone.value.reason == "missing"


def test_a_leg_catalogued_again_with_other_bytes_is_refused_not_replaced(tmp_path: Path) -> None:
    """INSERT OR REPLACE took any new hash: an altered file re-catalogued looked genuine."""
    history = History.open(tmp_path / "h.sqlite3")
    try:
        leg = wav(tmp_path / "u9-rx.wav", 0.2)
        first = describe("u9", Leg.CALLER, leg)
        assert history.save_recordings([first], 1) == []
        assert history.save_recordings([first], 2) == []  # the same bytes: nothing to say
        with leg.open("r+b") as f:
            f.seek(100)
            f.write(b"\x07\x07")
        again = describe("u9", Leg.CALLER, leg)
        [refused] = history.save_recordings([again], 3)
        assert (refused.reason, refused.expected, refused.actual) == (
            "changed", first.sha256, again.sha256)  # fmt: skip
        assert history.recordings("u9") == [first]
        assert history.file == str(tmp_path / "h.sqlite3")
    finally:
        history.close()
