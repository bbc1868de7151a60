"""The QA flags of a stored call: its transcribed legs as turns, each turn's loudness from
the recorded legs, the centre's flag rules, the flags stored for the inspectors.

    found = flag_call(history, transcripts, qa, center.qa.flags, team_of, call_id)

The STT worker calls it when the last leg of an answered call is transcribed, so a flagged
call is on the inspectors' list minutes after it ended; ``hotline qa sample`` calls it for
every call of a week (the same rules, so a call is never flagged two ways).
"""

from __future__ import annotations

from collections.abc import Callable

from hotline.qa.flags import Flag, FlagConfig, QaTurn, flag
from hotline.recordings import audio
from hotline.recordings.errors import AudioError
from hotline.recordings.leg import Leg
from hotline.stores.history import History
from hotline.stores.qa import QaStore
from hotline.stores.transcripts import TranscriptStore
from hotline.transcripts import turns
from hotline.transcripts.transcript import Transcript

__all__ = ["flag_call", "stored_turns"]


def stored_turns(history: History, call_id: str, legs: list[Transcript]) -> list[QaTurn]:
    """The call's turns, each with its loudness (dBFS over its words) measured in its leg's
    recording when the file is on this host; None where it is not (disposed, elsewhere)."""
    found: dict[Leg, tuple[str, audio.WavInfo]] = {}
    for rec in history.recordings(call_id):
        try:
            found[rec.leg] = (rec.path, audio.probe(rec.path))
        except AudioError:
            continue  # gone or unreadable: that side's turns carry no loudness
    out = []
    for t in turns.merge(legs):
        spans = [(w.start_ms, w.end_ms) for w in t.words] or [(t.start_ms, t.end_ms)]
        where = found.get(t.speaker)
        level = None
        if where is not None:
            try:
                level = audio.level_db(where[0], where[1], spans)
            except OSError:  # the file went (a disposal) between the probe and the read
                found.pop(t.speaker)
        out.append(QaTurn(t, level))
    return out


def flag_call(
    history: History,
    transcripts: TranscriptStore,
    store: QaStore,
    cfg: FlagConfig,
    team_of: Callable[[str], str],
    call_id: str,
    *,
    both_legs: bool = False,
) -> list[Flag] | None:
    """Flag CALL_ID and store what was found (replacing an earlier run); None, and nothing
    stored, while the call has no agent or a recorded leg is not transcribed yet. With
    BOTH_LEGS, also until the citizen's and the agent's legs are both transcribed (the
    worker: a leg catalogued late must not leave a half call flagged)."""
    call = history.call(call_id)
    if call is None or not call.agent:
        return None
    legs = transcripts.get(call_id)
    need = {r.leg for r in history.recordings(call_id)}
    if both_legs:
        need |= {Leg.CALLER, Leg.AGENT}
    if not legs or not need <= {t.leg for t in legs}:
        return None
    found = flag(stored_turns(history, call_id, legs), cfg)
    t_call = call.t_answer or call.t_arrival or 0
    store.save_flags(call_id, call.agent, team_of(call.agent), t_call, [f.doc() for f in found])
    return found
