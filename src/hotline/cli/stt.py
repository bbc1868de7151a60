"""``hotline transcribe``, ``hotline play``, ``hotline stt worker|status|listen|vocabulary``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import redis

from hotline.cli.common import CLIError
from hotline.cli.progress import Progress
from hotline.core.termtable import table
from hotline.host.clock import wall_ms
from hotline.host.settings import Settings
from hotline.recordings import audio, integrity, sound
from hotline.recordings.errors import RecordingError
from hotline.recordings.leg import Leg
from hotline.stores import redis_server
from hotline.stores.history import History
from hotline.stores.integrity import IntegrityAlerts
from hotline.stt.engine import EngineKind, Heard, Recognized, transcribe
from hotline.stt.engines import open_engine, vocabulary_fit
from hotline.stt.pool import Plan, run_pool
from hotline.stt.status import read, render
from hotline.stt.worker import Options
from hotline.transcripts.vocabulary import as_rows

LEGS = {"caller": Leg.CALLER, "agent": Leg.AGENT}


def _engine_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        choices=[k.value for k in EngineKind],
        help="default: HOTLINE_STT_ENGINE (whisper; vosk with HOTLINE_VOSK_MODEL)",
    )
    p.add_argument(
        "--language",
        help="default: HOTLINE_STT_LANGUAGE (zh); a Vosk model for another language is refused",
    )


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("transcribe", help="transcribe WAV files (offline)")
    p.set_defaults(handler=run_transcribe)
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    _engine_arg(p)
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument(
        "--no-vocabulary",
        action="store_true",
        help="give whisper none of the centre's words (see hotline stt vocabulary)",
    )

    p = sub.add_parser("play", help="play a call's recorded leg (verified first)")
    p.set_defaults(handler=run_play)
    p.add_argument("call_id")
    p.add_argument(
        "--leg",
        choices=[*LEGS, "both"],
        default="caller",
        help="caller, agent, or both mixed (each leg verified first)",
    )
    p.add_argument("--at", type=float, default=0.0, metavar="SECONDS", help="start there")
    p.add_argument("--device", help="an output device name (default: the system's)")

    p = sub.add_parser("stt", help="speech-to-text jobs: worker, status, live listening")
    p.set_defaults(handler=run_stt)
    ps = p.add_subparsers(dest="stt_command", required=True)
    w = ps.add_parser("worker", help="transcribe queued legs until Ctrl-C")
    w.add_argument("--processes", type=int, default=1)
    w.add_argument("--engine", choices=[k.value for k in EngineKind])
    w.add_argument("--claim-idle", type=float, default=30.0, metavar="SECONDS",
                   help="take over a job another worker left pending this long")  # fmt: skip
    ps.add_parser("status", help="backlog, throughput, failures, workers")
    li = ps.add_parser("listen", help="live transcription from an input device")
    _engine_arg(li)
    li.add_argument("--device", help="an input device name (default: the system's)")
    li.add_argument("--rate", type=int, default=16000)
    li.add_argument("--seconds", type=float, help="stop after this much audio")
    vo = ps.add_parser("vocabulary", help="the centre's words whisper is given, and which fit")
    vo.add_argument("--format", choices=["text", "json"], default="text")


def _kind(settings: Settings, args: argparse.Namespace) -> EngineKind:
    return EngineKind(getattr(args, "engine", None) or settings.stt_engine)


def _doc(path: Path, heard: Recognized, engine: Any) -> dict[str, Any]:
    return {
        "file": str(path), "engine": engine.name, "model": engine.model,
        "language": engine.language, "duration_ms": heard.duration_ms, "text": heard.text,
        "words": [{"text": w.text, "start_ms": w.start_ms, "end_ms": w.end_ms,
                   "confidence": w.confidence} for w in heard.words],
    }  # fmt: skip


def run_transcribe(settings: Settings, args: argparse.Namespace) -> int:
    none = () if args.no_vocabulary else None
    engine = open_engine(_kind(settings, args), settings, args.language, vocabulary=none)
    progress = Progress(len(args.files)) if len(args.files) > 1 else None
    failed = 0
    for path in args.files:
        try:
            heard = transcribe(engine, path)
        except RecordingError as exc:
            failed += 1
            print(f"hotline: {exc} [{exc.reason}]", file=sys.stderr)
            if progress:
                progress.step(str(path), f"failed: {exc.reason}")
            continue
        if args.format == "json":
            print(json.dumps(_doc(path, heard, engine), ensure_ascii=False), flush=True)
        else:
            print(f"{path}: {heard.text}" if len(args.files) > 1 else heard.text, flush=True)
        if progress:
            progress.step(str(path), "ok")
    return 1 if failed else 0


def run_play(settings: Settings, args: argparse.Namespace) -> int:
    legs = [Leg.CALLER, Leg.AGENT] if args.leg == "both" else [LEGS[args.leg]]
    history = History.open(settings.db)
    try:
        recs = [integrity.verified(history, args.call_id, leg) for leg in legs]
    except integrity.MismatchError as exc:
        alerts = IntegrityAlerts.open(settings.db)
        alerts.add(exc.mismatch, by=f"play:{os.environ.get('USER', '?')}", at=wall_ms())
        alerts.close()
        raise
    finally:
        history.close()
    infos = [audio.probe(rec.path) for rec in recs]
    longest = max(infos, key=lambda i: i.duration_ms)
    if args.at * 1000 >= longest.duration_ms:
        long = f"{longest.duration_ms / 1000:.1f} s"
        raise CLIError(f"--at {args.at:g}: the {args.leg} leg of {args.call_id} is {long} long")
    at = round(args.at * 1000)
    if len(recs) == 2:
        pcm = audio.mix_from(recs[0].path, recs[1].path, infos[0], infos[1], at)
    else:
        pcm = audio.pcm_from(recs[0].path, infos[0], at)
    info = longest
    print(f"playing {args.call_id} {args.leg} leg from {args.at:.1f} s "
          f"({len(pcm) // 2 / info.rate:.1f} s, SHA-256 verified)", file=sys.stderr)  # fmt: skip
    sound.play(pcm, info.rate, args.device)
    return 0


def _listen(settings: Settings, args: argparse.Namespace) -> int:
    engine = open_engine(_kind(settings, args), settings, args.language)
    live = engine.live(args.rate)
    tty = sys.stderr.isatty()

    def show(heard: Heard | None) -> None:
        if heard is None:
            return
        if heard.final:
            if tty:
                sys.stderr.write("\r\033[K")
            print(heard.text, flush=True)
        else:
            sys.stderr.write(f"\r\033[K… {heard.text}" if tty else f"… {heard.text}\n")
            sys.stderr.flush()

    try:
        for block in sound.capture(args.rate, args.device, args.seconds):
            show(live.feed(block))
    except KeyboardInterrupt:
        pass
    show(live.close())
    return 0


def _vocabulary(settings: Settings, args: argparse.Namespace) -> int:
    """Each word of the centre's vocabulary, where it comes from, whether whisper gets it."""
    kept, dropped, budget = vocabulary_fit(settings)
    rows = as_rows(kept, dropped)
    if args.format == "json":
        doc = {"budget_tokens": budget, "words": rows}
        print(json.dumps(doc, ensure_ascii=False))
        return 0
    print(table(["word", "source", "given"],
                [[r["word"], r["source"], "yes" if r["used"] else "no (over budget)"]
                 for r in rows]))  # fmt: skip
    print(f"{len(kept)} of {len(rows)} words given to whisper "
          f"(at most {budget} tokens)")  # fmt: skip
    return 0


def run_stt(settings: Settings, args: argparse.Namespace) -> int:
    if args.stt_command == "worker":
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
        cores = os.cpu_count() or 1
        plan = Plan(_kind(settings, args), Options(claim_idle_ms=round(args.claim_idle * 1000)),
                    threads=max(1, cores // max(1, args.processes)))  # fmt: skip
        return run_pool(settings, plan, args.processes)
    if args.stt_command == "listen":
        return _listen(settings, args)
    if args.stt_command == "vocabulary":
        return _vocabulary(settings, args)
    client = redis.Redis.from_url(redis_server.url(settings), socket_timeout=5)
    try:
        now = wall_ms()
        print(render(read(client, now), now))
    except redis.RedisError as exc:
        raise CLIError(f"Redis at {redis_server.url(settings)}: {exc}") from None
    finally:
        client.close()
    return 0
