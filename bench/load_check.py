"""bench/load.py's after-a-fault comparison: per call, the history against queue_log, SIPp's
own outcome and the recorded legs on disk (every leg catalogued, its SHA-256 the file's)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from bench.load_sip import SippCall

from hotline.core.records import CallRecord, EndReason
from hotline.host.settings import Settings
from hotline.queuelog.build import build
from hotline.queuelog.parse import QueueLogEntry, parse_lines
from hotline.stores.history import History


@dataclass
class Verdict:
    """What one fault run shows, call by call."""

    calls: int = 0
    answered: int = 0
    mismatches: list[dict[str, str]] = field(default_factory=list)

    def add(self, number: str, call_id: str, what: str, ours: object, proof: object) -> None:
        self.mismatches.append(
            {"caller": number, "call_id": call_id, "what": what, "history": str(ours),
             "proof": str(proof)}
        )  # fmt: skip


def queue_log_records(settings: Settings, since: int) -> dict[str, CallRecord]:
    """The calls queue_log has after byte ``since``, by caller number."""
    with (settings.pbx_dir / "log" / "queue_log").open() as f:
        f.seek(since)
        entries = [e for e in parse_lines(f.readlines()) if isinstance(e, QueueLogEntry)]
    return {r.caller: r for r in build(entries).calls if r.caller}


def legs_on_disk(settings: Settings, call_id: str) -> dict[str, Path]:
    """The legs the PBX wrote for a call (rx, tx, mixed), found by the call id in the name."""
    root = settings.pbx_dir / "spool" / "recordings"
    legs = {}
    for suffix, leg in (("-rx.wav", "rx"), ("-tx.wav", "tx"), (".wav", "mixed")):
        for path in root.glob(f"*/*/*/{call_id}{suffix}"):
            legs[leg] = path
    return legs


def compare(
    settings: Settings,
    db: Path,
    sipp: dict[str, SippCall],
    log_start: int,
    *,
    pbx_cut_at: float | None = None,
    legs: bool = True,
) -> Verdict:
    """Each SIPp call against queue_log, the history and the files; ``pbx_cut_at``: when
    the PBX was stopped under the calls (epoch s): the calls up then must say ``pbx_down``;
    ``legs``: check the recordings too (after a fault; a ladder step checks the records)."""
    truth = queue_log_records(settings, log_start)
    history = History.open(db)
    try:
        stored = {r.caller: r for r in history.calls() if r.caller in sipp}
        verdict = Verdict(calls=len(sipp))
        for number, call in sorted(sipp.items()):
            ours = stored.get(number)
            proof = truth.get(number)
            if ours is None:
                verdict.add(number, "", "no history row", None, proof and proof.end_reason)
                continue
            verdict.answered += ours.t_answer is not None
            cut = pbx_cut_at is not None and call.start < pbx_cut_at < call.end
            _fields(verdict, number, ours, proof, call, cut=cut)
            if legs:
                _legs(verdict, number, ours, history, settings)
    finally:
        history.close()
    return verdict


def _fields(
    v: Verdict,
    number: str,
    ours: CallRecord,
    proof: CallRecord | None,
    call: SippCall,
    *,
    cut: bool,
) -> None:
    uid = ours.call_id
    if proof is None:
        if call.answered and ours.end_reason is not EndReason.IVR_ONLY:
            v.add(number, uid, "not in queue_log", ours.end_reason, call.outcome)
        return
    if cut:
        if ours.end_reason is not EndReason.PBX_DOWN:
            v.add(number, uid, "end reason (cut by the PBX)", ours.end_reason, "pbx_down")
    elif ours.end_reason is not proof.end_reason:
        v.add(number, uid, "end reason", ours.end_reason, proof.end_reason)
    if ours.agent != proof.agent:
        v.add(number, uid, "agent", ours.agent, proof.agent)
    if (ours.t_answer is None) != (proof.t_answer is None):
        v.add(number, uid, "answer time", ours.t_answer, proof.t_answer)
    if ours.completed_by != proof.completed_by:
        v.add(number, uid, "completed_by", ours.completed_by, proof.completed_by)
    if proof.t_answer is not None and not call.answered:
        v.add(number, uid, "SIPp saw no answer", call.outcome, "queue_log CONNECT")


def _legs(v: Verdict, number: str, ours: CallRecord, history: History, settings: Settings) -> None:
    uid = ours.call_id
    disk = legs_on_disk(settings, uid)
    if disk and not ours.recording.endswith(uid):
        v.add(number, uid, "recording link", ours.recording or "(none)", sorted(disk))
    catalogued = {r.leg.value: r for r in history.recordings(uid)}
    if set(catalogued) != set(disk):
        v.add(number, uid, "legs catalogued", sorted(catalogued), sorted(disk))
    for leg, rec in catalogued.items():
        path = disk.get(leg)
        if path is None:
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != rec.sha256:
            v.add(number, uid, f"sha256 {leg}", rec.sha256[:12], digest[:12])
