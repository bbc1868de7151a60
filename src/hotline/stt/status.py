"""``hotline stt status``: the job stream's backlog, throughput and failures, from Redis.

st = read(client, now_ms)
print(render(st))
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

import redis

from hotline.stores.keys import KEYS, STT_GROUP, Keys

WINDOW_MS = 300_000  # throughput over the last five minutes


@dataclass(frozen=True, slots=True)
class SttStatus:
    queued: int  # entries never delivered to a worker (the group's lag)
    running: int  # delivered, not yet acknowledged (being transcribed, or stuck)
    done: int
    retried: int
    dead: int
    integrity: int  # of the dead: recordings that failed their SHA-256 check
    audio_ms: int
    busy_ms: int
    recent_jobs: int  # done within WINDOW_MS
    recent_audio_ms: int
    workers: list[dict[str, Any]]
    dead_reasons: dict[str, int]


def _int(value: object) -> int:
    return int(cast("bytes | int | str", value or 0))


def backlog(groups: list[dict[str, Any]], length: int) -> tuple[int, int]:
    """(queued, running) from the jobs stream's XINFO GROUPS and XLEN: the STT workers'
    group's lag and pending; everything is queued while no worker ever ran."""
    group = next((g for g in groups if _name(g["name"]) == STT_GROUP), None)
    if group is None:
        return length, 0
    return _int(group.get("lag")), _int(group.get("pending"))


def read(client: redis.Redis, now_ms: int, keys: Keys = KEYS) -> SttStatus:
    queued = running = 0
    if client.exists(keys.stt_jobs):
        groups: list[dict[str, Any]] = client.xinfo_groups(keys.stt_jobs)
        queued, running = backlog(groups, _int(client.xlen(keys.stt_jobs)))
    raw_stats = cast("dict[bytes, bytes]", client.hgetall(keys.stt_stats))
    stats = {k.decode(): _int(v) for k, v in raw_stats.items()}
    since = f"{max(0, now_ms - WINDOW_MS)}-0"
    recent = cast("list[tuple[bytes, dict[bytes, bytes]]]",
                  client.xrange(keys.stt_done, min=since))  # fmt: skip
    reasons: dict[str, int] = {}
    for _, fields in cast("list[tuple[bytes, dict[bytes, bytes]]]",
                          client.xrevrange(keys.stt_dead, count=1000)):  # fmt: skip
        reason = fields.get(b"reason", b"?").decode()
        reasons[reason] = reasons.get(reason, 0) + 1
    workers = [
        {"consumer": k.decode(), **json.loads(v)}
        for k, v in cast("dict[bytes, bytes]", client.hgetall(keys.stt_workers)).items()
    ]
    return SttStatus(
        queued=queued, running=running, done=stats.get("done", 0),
        retried=stats.get("retried", 0), dead=stats.get("dead", 0),
        integrity=stats.get("integrity", 0), audio_ms=stats.get("audio_ms", 0),
        busy_ms=stats.get("busy_ms", 0), recent_jobs=len(recent),
        recent_audio_ms=sum(_int(f.get(b"audio_ms")) for _, f in recent),
        workers=sorted(workers, key=lambda w: w["consumer"]), dead_reasons=reasons,
    )  # fmt: skip


def _name(raw: object) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def render(st: SttStatus, now_ms: int) -> str:
    minutes = WINDOW_MS / 60_000
    rtf = st.busy_ms / st.audio_ms if st.audio_ms else 0.0
    lines = [
        f"backlog     {st.queued} queued, {st.running} running",
        f"done        {st.done} legs, {st.audio_ms / 3_600_000:.2f} h of audio "
        f"(real-time factor {rtf:.3f})",
        f"last {minutes:.0f} min  {st.recent_jobs / minutes:.1f} legs/min, "
        f"{st.recent_audio_ms / 1000 / minutes:.0f} s of audio/min",
        f"failed      {st.retried} retried, {st.dead} dead-lettered"
        + (f" ({', '.join(f'{r}: {n}' for r, n in sorted(st.dead_reasons.items()))})"
           if st.dead_reasons else "")
        + (f"; {st.integrity} integrity alerts" if st.integrity else ""),
    ]  # fmt: skip
    if not st.workers:
        lines.append("workers     none running")
    for w in st.workers:
        ago = (now_ms - int(w.get("t_seen", 0))) / 1000
        job = w.get("job") or "idle"
        lines.append(f"worker      {w['consumer']}: {w.get('engine')} {w.get('model')}, "
                     f"{w.get('handled', 0)} done, {job}, seen {ago:.0f} s ago")  # fmt: skip
    return "\n".join(lines)
