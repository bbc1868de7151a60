"""Load and faults (issue 17): SIPp citizens through the IVR to SIP agents, on a private PBX.

What it measures, per step of a concurrency ladder (default 10, 20, 50, 100, 150, 200
calls at once):

- Asterisk CPU (% of one core, from /proc/PID/stat) per concurrent call over the steady
  part of the step, against a **bare peer** run right after it on the same PBX: the same
  number of SIPp calls into ``Answer/Playback/Echo`` (bench-bare, a context of the bench's
  own dialplan copy); the ratio is the cost of hotline's call (IVR, queue, agent leg,
  two recorded legs, survey);
- RSS of asterisk, the controller and redis; the load generator's CPU (SIPp) beside it;
- the controller's AMI event lag (``event_lag_ms`` in its heartbeat key, sampled every
  0.5 s: p50/p99/max), whether the AMI link dropped (resyncs, ``ami_connected``, the
  controller log's Ping drops);
- cataloguing lag: each leg's ``t_catalogued`` minus its call's end.

Then (``--breakdown LEVEL``, 50 unless told; 0: not) hotline's call is taken apart at one
level, each part a step of its own against the bare call (bench/load_sip.py
BREAKDOWN_CONTEXT): ``bridge`` (the caller put through to an agent's phone: two channels,
nothing recorded), ``recorded`` (the same with hotline's two MixMonitor legs), ``queued``
(recorded, through the intake queue: no IVR menu, no survey). What hotline's call costs
beyond ``queued`` is its IVR, survey and events.

Then the fault cases under ``--fault-calls`` (default 50) calls: the controller killed
(-9) and started again 10 s later, Redis restarted, Asterisk restarted, the AMI link cut
(``ss -K``). After each, every call is compared: the history (end reason, agent, answer,
completed_by, recording link) against queue_log, SIPp's own outcome and the WAV files on
disk (every leg catalogued, SHA-256 equal).

Citizens: one SIPp UAC per step (PCMU, RFC 4733 "0" at the language menu: the operator
queue, intake); agents: the centre's PJSIP endpoints (a generated centre of as many agents
as the top step), registered from the port one SIPp UAS listens on, logged in through the
controller's command bus (what ``hotline agent login`` does). Loopback only; every loop is
bounded in count and time.

    .venv/bin/python bench/load.py                 # the full ladder, the breakdown at 50, faults
    .venv/bin/python bench/load.py --quick         # 5 and 10 calls, one fault (about 7 min)
    .venv/bin/python bench/load.py --ladder 10,20 --faults controller_kill
    .venv/bin/python bench/load.py --ladder "" --faults ""   # the breakdown alone (at 50)

Results: a table on stdout, JSON in bench/.data/load.json (``--out``; the directory is
``HOTLINE_BENCH_DATA`` if set), and beside it
(``load.logs/``) what a mismatch is checked against: queue_log, the controller's log, a
copy of the history, SIPp's per-call traces.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import redis as sredis
import redis.asyncio as aredis
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from bench import load_sip as sip  # noqa: E402
from bench.bed import private_pbx  # noqa: E402
from bench.datadir import data_dir  # noqa: E402
from bench.load_check import Verdict, compare  # noqa: E402

from hotline.commands import bus  # noqa: E402
from hotline.commands.plan import Command, Verb  # noqa: E402
from hotline.host.settings import DEFAULT_CENTER, DEFAULT_DIALPLAN_DIR, Settings  # noqa: E402
from hotline.pbx import process  # noqa: E402
from hotline.pbx import runner as pbx  # noqa: E402
from hotline.stores import redis_server  # noqa: E402
from hotline.stores.keys import KEYS  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
FAULTS = ("controller_kill", "redis_restart", "asterisk_restart", "ami_cut")
UAS_MEDIA, UAC_MEDIA = 21000, 11000  # SIPp's per-call media ports: base + 4·n mod 10000
RTP = "4000-9999"  # Asterisk's own RTP range, away from SIPp's


@dataclass(frozen=True, slots=True)
class Plan:
    ladder: tuple[int, ...]
    faults: tuple[str, ...]
    fault_calls: int
    talk_s: float  # the agent talks this long, then hangs up (the caller goes to the survey)
    steady_s: float  # each step holds its level this long
    out: Path
    breakdown: int = 0  # the call a part at a time at this level (0: not run)


# -- the bed -------------------------------------------------------------------------------


def bench_center(path: Path, exts: list[str]) -> Path:
    """config/center.yaml with its agents replaced by ``exts``, all in intake."""
    data = yaml.safe_load(DEFAULT_CENTER.read_text(encoding="utf-8"))
    data["agents"] = {
        e: {"name": f"agent{e}", "team": "team-a", "queues": ["intake"]} for e in exts
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class Bed:
    settings: Settings
    env: dict[str, str]
    work: Path
    db: Path
    exts: list[str]
    uas_port: int
    controller: subprocess.Popen[bytes] | None = None
    uas: sip.Sipp | None = None
    media: sip.Media | None = None

    @property
    def log(self) -> Path:
        return self.work / "controller.log"

    def controller_pid(self) -> int | None:
        return self.controller.pid if self.controller and self.controller.poll() is None else None


def start_controller(bed: Bed) -> None:
    argv = [sys.executable, "-m", "hotline", "controller"]
    child_env = {**os.environ, **bed.env, "HOTLINE_DB": str(bed.db)}
    child_env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    with bed.log.open("ab") as out:
        bed.controller = subprocess.Popen(argv, env=child_env, stdout=out, stderr=out)
    wait_log(bed, "resync", bed.log.read_text().count("resync") + 1, 30)


def wait_log(bed: Bed, word: str, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while bed.log.read_text(errors="replace").count(word) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"controller log: no {word!r} in {timeout:g} s; see {bed.log}")
        time.sleep(0.2)


def stop_controller(bed: Bed) -> None:
    if bed.controller is not None and bed.controller.poll() is None:
        bed.controller.send_signal(signal.SIGTERM)
        try:
            bed.controller.wait(20)
        except subprocess.TimeoutExpired:
            bed.controller.kill()
            bed.controller.wait()


async def login_agents(settings: Settings, exts: list[str]) -> None:
    """Each agent logs in through the controller's command bus (as `hotline agent login`)."""
    client = aredis.Redis.from_url(redis_server.url(settings))
    try:
        for ext in exts:
            command = Command(id=uuid.uuid4().hex, verb=Verb.LOGIN, agent=ext, actor=ext)
            reply = await bus.send(client, command, timeout=20)
            if not reply.ok:
                raise RuntimeError(f"login {ext}: {reply.message}")
    finally:
        await client.aclose()


def start_agents(bed: Bed, plan: Plan) -> None:
    """Register every agent from the UAS port, then start the UAS there."""
    secret = bed.env["HOTLINE_SIP_SECRET"]
    sip.wait_port_free(bed.uas_port)
    sip.register_agents(bed.settings, secret, bed.exts, bed.uas_port)
    assert bed.media is not None
    scenario = sip.agent_scenario(bed.work, bed.media, talk_s=plan.talk_s)
    bed.uas = sip.start_uas(scenario, bed.uas_port, UAS_MEDIA)


def stop_agents(bed: Bed) -> None:
    if bed.uas is not None and bed.uas.proc.poll() is None:
        bed.uas.proc.send_signal(signal.SIGUSR1)  # SIPp: stop, write its files
        bed.uas.wait(10)


@contextlib.contextmanager
def running_bed(plan: Plan, tmp: Path) -> Iterator[Bed]:
    top = max([*plan.ladder, plan.breakdown, plan.fault_calls if plan.faults else 0])
    exts = sip.agent_exts(top + 10)
    extra = {
        "HOTLINE_CENTER": str(bench_center(tmp / "center.yaml", exts)),
        "HOTLINE_SIP_SECRET": sip.env_secret(),
        "HOTLINE_DIALPLAN_DIR": str(
            sip.bench_dialplan(tmp / "dialplan", DEFAULT_DIALPLAN_DIR, len(exts))
        ),
    }
    with private_pbx("load", rtp=RTP, extra=extra) as (settings, env):
        sip.install_endpoints(settings)
        bed = Bed(
            settings, {**env, **extra}, tmp, tmp / "history.sqlite3", exts, sip.free_udp_port()
        )
        hold = plan.talk_s + 40
        bed.media = sip.make_media(tmp / "media", plan.talk_s, hold)
        try:
            start_controller(bed)
            start_agents(bed, plan)
            asyncio.run(login_agents(settings, exts))
            yield bed
        finally:
            stop_agents(bed)
            stop_controller(bed)


# -- sampling ------------------------------------------------------------------------------


def proc_cpu(pid: int | None) -> int | None:
    """utime + stime of a process, in clock ticks."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def proc_rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Sample:
    t: float
    cpu: dict[str, int | None]
    rss: dict[str, float | None]
    lag_ms: int | None
    ami_connected: bool | None
    resyncs: int | None


class Sampler:
    """Every 0.5 s: CPU ticks and RSS per process, the controller's heartbeat."""

    def __init__(self, bed: Bed, extra: dict[str, int]) -> None:
        self.bed = bed
        self.extra = extra
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._redis = sredis.Redis.from_url(redis_server.url(bed.settings), socket_timeout=1)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def pids(self) -> dict[str, int | None]:
        return {
            "asterisk": process.asterisk_pid(self.bed.settings.pbx_dir),
            "controller": self.bed.controller_pid(),
            "redis": redis_server._pid(self.bed.settings),
            "sipp_agents": self.bed.uas.proc.pid if self.bed.uas else None,
            **self.extra,
        }

    def _heartbeat(self) -> dict[str, object]:
        try:
            raw = self._redis.get(KEYS.controller_status)
        except sredis.RedisError:
            return {}
        return json.loads(raw) if raw else {}

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            pids = self.pids()
            beat = self._heartbeat()
            self.samples.append(
                Sample(
                    time.time(),
                    {k: proc_cpu(p) for k, p in pids.items()},
                    {k: proc_rss_mb(p) for k, p in pids.items()},
                    beat.get("event_lag_ms"),  # type: ignore[arg-type]
                    beat.get("ami_connected"),  # type: ignore[arg-type]
                    beat.get("resyncs"),  # type: ignore[arg-type]
                )
            )

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._redis.close()


def cpu_percent(samples: list[Sample], name: str, t0: float, t1: float) -> float | None:
    """A process's CPU, % of one core, between the samples nearest t0 and t1."""
    window = [s for s in samples if t0 <= s.t <= t1 and s.cpu.get(name) is not None]
    if len(window) < 2:
        return None
    a, b = window[0], window[-1]
    ticks = (b.cpu[name] or 0) - (a.cpu[name] or 0)
    return 100.0 * ticks / CLK_TCK / (b.t - a.t)


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


# -- a step ----------------------------------------------------------------------------------


@dataclass
class Step:
    kind: str  # "hotline", "bare" or a part of the breakdown (load_sip.BREAKDOWN)
    target: int
    calls: int = 0
    answered: int = 0
    failed: int = 0
    concurrent: float = 0.0  # mean calls up over the steady window
    steady_s: float = 0.0
    call_s: float = 0.0  # mean call length
    cpu: dict[str, float | None] = field(default_factory=dict)  # % of a core, steady window
    cpu_per_call: float | None = None  # asterisk, % of a core per call up
    cpu_s_per_call: float | None = None  # asterisk, CPU seconds per call (its whole length)
    rss_mb: dict[str, float | None] = field(default_factory=dict)  # peak
    lag_ms: dict[str, float | None] = field(default_factory=dict)
    ami_drops: int = 0
    resyncs: int = 0
    ami_down_samples: int = 0
    catalogue_ms: dict[str, float | None] = field(default_factory=dict)
    catalogued: int = 0
    uncatalogued: int = 0  # answered calls with no leg catalogued 60 s after the step
    ratio: float | None = None  # hotline cpu_per_call / bare cpu_per_call
    outcomes: dict[str, int] = field(default_factory=dict)  # history end reasons
    wrong_calls: int = 0  # history differs from queue_log (end reason, agent, answer, ...)
    wrong: dict[str, int] = field(default_factory=dict)


def steady_window(timeline: list[tuple[float, int]], level: int) -> tuple[float, float, float]:
    """(t0, t1, mean calls up) over the span where at least 90 % of ``level`` were up."""
    high = [t for t, up in timeline if up >= 0.9 * level]
    if len(high) < 2:
        return 0.0, 0.0, 0.0
    t0, t1 = high[0], high[-1]
    area, prev_t, prev_up = 0.0, t0, 0
    for t, up in timeline:
        if t <= t0:
            prev_up = up
            continue
        if t > t1:
            break
        area += prev_up * (t - prev_t)
        prev_t, prev_up = t, up
    return t0, t1, area / (t1 - t0) if t1 > t0 else 0.0


def place_calls(
    bed: Bed,
    *,
    kind: str,
    level: int,
    total: int,
    prefix: str,
    hold_s: float,
    rate: float,
) -> tuple[sip.Sipp, Path]:
    assert bed.media is not None
    user, service = ("sipp", "12345") if kind == "hotline" else ("sippbare", kind)
    work = bed.work / f"{kind}-{prefix}"
    work.mkdir(exist_ok=True)
    scenario = sip.caller_scenario(
        work, bed.media, user=user, prefix=prefix, digit="0", hold_s=hold_s
    )
    uac = sip.start_uac(
        scenario, bed.settings, service=service, calls=total, limit=level, rate=rate,
        media_port=UAC_MEDIA,
    )  # fmt: skip
    return uac, scenario


def run_step(bed: Bed, plan: Plan, kind: str, level: int, prefix: str, call_s: float) -> Step:
    """``level`` calls at once for about ``plan.steady_s``; ``call_s``: the expected length."""
    total = level + math.ceil(level * plan.steady_s / call_s)
    rate = max(1.0, level / 15)  # reach the level in about 15 s
    # the bare call lasts as long as asked; the others until Asterisk's BYE
    hold = max(1.0, call_s - 3.1) if kind == "bare" else plan.talk_s + 40
    log_before = bed.log.read_text(errors="replace")
    log_start = (bed.settings.pbx_dir / "log" / "queue_log").stat().st_size
    uac, _ = place_calls(
        bed, kind=kind, level=level, total=total, prefix=prefix, hold_s=hold, rate=rate
    )
    bound = 15 + total / rate + call_s + plan.talk_s + 120
    with Sampler(bed, {"sipp_citizens": uac.proc.pid}) as sampler:
        uac.wait(bound)
        time.sleep(1)
    calls = sip.read_calls(uac.short, prefix)
    step = summarize(kind, level, calls, sampler.samples)
    log_after = bed.log.read_text(errors="replace")[len(log_before) :]
    step.ami_drops = log_after.count("did not answer Ping") + log_after.count("AMI link lost")
    step.resyncs = log_after.count("resync ")
    if kind == "hotline":
        catalogue_lag(bed, step, calls)
        check_records(bed, step, calls, log_start)
    return step


def check_records(bed: Bed, step: Step, calls: dict[str, sip.SippCall], log_start: int) -> None:
    """The step's history rows against queue_log (the recordings: see catalogue_lag)."""
    verdict = compare(bed.settings, bed.db, calls, log_start, legs=False)
    step.wrong_calls = len({m["caller"] for m in verdict.mismatches})
    for m in verdict.mismatches:
        step.wrong[m["what"]] = step.wrong.get(m["what"], 0) + 1
    con = sqlite3.connect(f"file:{bed.db}?mode=ro", uri=True, timeout=10)
    try:
        rows = con.execute("SELECT caller, end_reason FROM calls").fetchall()
    finally:
        con.close()
    for caller, reason in rows:
        if caller in calls:
            step.outcomes[reason] = step.outcomes.get(reason, 0) + 1


def summarize(kind: str, level: int, calls: dict[str, sip.SippCall], samples: list[Sample]) -> Step:
    step = Step(kind, level, calls=len(calls))
    step.answered = sum(c.answered for c in calls.values())
    step.failed = sum(not c.answered or not c.bye_ok for c in calls.values())
    lengths = [c.end - c.start for c in calls.values() if c.answered]
    step.call_s = statistics.fmean(lengths) if lengths else 0.0
    t0, t1, step.concurrent = steady_window(sip.concurrency(calls), level)
    step.steady_s = t1 - t0
    names = samples[0].cpu.keys() if samples else []
    step.cpu = {n: cpu_percent(samples, n, t0, t1) for n in names}
    ast = step.cpu.get("asterisk")
    step.cpu_per_call = ast / step.concurrent if ast is not None and step.concurrent else None
    if step.cpu_per_call is not None:
        step.cpu_s_per_call = step.cpu_per_call / 100 * step.call_s
    step.rss_mb = {
        n: max((s.rss[n] or 0.0 for s in samples if s.rss.get(n) is not None), default=None)
        for n in names
    }
    lags = [float(s.lag_ms) for s in samples if s.lag_ms is not None and t0 <= s.t <= t1]
    step.lag_ms = {"p50": pct(lags, 0.5), "p99": pct(lags, 0.99), "max": max(lags, default=None)}
    step.ami_down_samples = sum(s.ami_connected is False for s in samples)
    return step


def catalogue_lag(bed: Bed, step: Step, calls: dict[str, sip.SippCall]) -> None:
    """Each answered call's last leg catalogued minus the call's end (history's t_end)."""
    deadline = time.monotonic() + 60
    rows: list[tuple[str, int, int | None]] = []
    while time.monotonic() < deadline:
        rows = _catalogue_rows(bed.db, set(calls))
        if rows and all(t is not None for _, _, t in rows):
            break
        time.sleep(1)
    lags = [float(t - end) for _, end, t in rows if t is not None]
    step.catalogued = len(lags)
    step.uncatalogued = sum(t is None for _, _, t in rows)
    step.catalogue_ms = {
        "p50": pct(lags, 0.5),
        "p99": pct(lags, 0.99),
        "max": max(lags, default=None),
    }


def _catalogue_rows(db: Path, numbers: set[str]) -> list[tuple[str, int, int | None]]:
    """(call id, t_end, last t_catalogued or None) of the answered calls of these callers."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        got = con.execute(
            "SELECT c.call_id, c.caller, c.t_end, MAX(r.t_catalogued) FROM calls c "
            "LEFT JOIN recordings r ON r.call_id = c.call_id "
            "WHERE c.t_answer IS NOT NULL AND c.t_end IS NOT NULL GROUP BY c.call_id"
        ).fetchall()
    finally:
        con.close()
    return [(cid, end, t) for cid, caller, end, t in got if caller in numbers]


# -- faults ------------------------------------------------------------------------------------


@dataclass
class FaultResult:
    fault: str
    calls: int = 0
    answered: int = 0
    sipp_failed: int = 0
    mismatched_calls: int = 0
    mismatches: list[dict[str, str]] = field(default_factory=list)
    by_kind: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def ami_cut(bed: Bed) -> None:
    """Kill the controller's AMI TCP connection from the kernel's side."""
    port = bed.settings.ami_port
    subprocess.run(
        ["ss", "-K", "dst", "127.0.0.1", "dport", "=", str(port)], check=True, capture_output=True
    )


def asterisk_restart(bed: Bed) -> None:
    pbx.stop(bed.settings)
    pbx.start(bed.settings)


def redis_restart(bed: Bed) -> None:
    redis_server.stop(bed.settings)
    time.sleep(2)
    redis_server.start(bed.settings)


def controller_kill(bed: Bed) -> None:
    assert bed.controller is not None
    bed.controller.send_signal(signal.SIGKILL)
    bed.controller.wait()
    time.sleep(10)
    start_controller(bed)


def inject(bed: Bed, fault: str) -> float:
    """Do the fault; return when it began (epoch s)."""
    began = time.time()
    {"controller_kill": controller_kill, "redis_restart": redis_restart,
     "asterisk_restart": asterisk_restart, "ami_cut": ami_cut}[fault](bed)  # fmt: skip
    return began


def run_fault(bed: Bed, plan: Plan, fault: str, prefix: str) -> FaultResult:
    """``plan.fault_calls`` calls at once, the fault once they are talking, then the check."""
    log = bed.settings.pbx_dir / "log" / "queue_log"
    log_start = log.stat().st_size
    n = plan.fault_calls
    start = time.monotonic()
    uac, _ = place_calls(
        bed, kind="hotline", level=n, total=n, prefix=prefix, hold_s=plan.talk_s + 40,
        rate=max(2.0, n / 10),
    )  # fmt: skip
    time.sleep(min(n / max(2.0, n / 10), 10) + 6)  # all placed, most talking
    began = inject(bed, fault)
    if fault == "asterisk_restart":
        restart_agents(bed, plan)
    uac.wait(plan.talk_s + 180)
    settle(bed)
    calls = sip.read_calls(uac.short, prefix)
    cut = began if fault == "asterisk_restart" else None
    verdict = compare(bed.settings, bed.db, calls, log_start, pbx_cut_at=cut)
    return fault_result(fault, calls, verdict, time.monotonic() - start)


def restart_agents(bed: Bed, plan: Plan) -> None:
    """After a PBX restart: the agents register again (their phones would) from the UAS port."""
    stop_agents(bed)
    start_agents(bed, plan)


def settle(bed: Bed, *, min_s: float = 45, quiet_s: float = 10, bound_s: float = 150) -> None:
    """Until the history stops changing (the last queue_log lines, the reconciliation, the
    recording sweep, which runs every 30 s), at least ``min_s`` and at most ``bound_s``."""
    start = time.monotonic()
    last, since = None, start
    while time.monotonic() - start < bound_s:
        con = sqlite3.connect(f"file:{bed.db}?mode=ro", uri=True, timeout=10)
        try:
            now = con.execute(
                "SELECT (SELECT COUNT(*) FROM calls), (SELECT COUNT(*) FROM recordings), "
                "(SELECT COUNT(*) FROM calls WHERE recording != ''), "
                "(SELECT COUNT(*) FROM calls WHERE t_answer IS NOT NULL), "
                "(SELECT group_concat(end_reason) FROM calls)"
            ).fetchone()
        finally:
            con.close()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s and time.monotonic() - start >= min_s:
            return
        time.sleep(1)


def fault_result(
    fault: str, calls: dict[str, sip.SippCall], v: Verdict, secs: float
) -> FaultResult:
    kinds: dict[str, int] = {}
    for m in v.mismatches:
        kinds[m["what"]] = kinds.get(m["what"], 0) + 1
    return FaultResult(
        fault,
        calls=len(calls),
        answered=v.answered,
        sipp_failed=sum(not c.answered for c in calls.values()),
        mismatched_calls=len({m["caller"] for m in v.mismatches}),
        mismatches=v.mismatches,
        by_kind=kinds,
        seconds=round(secs, 1),
    )


# -- the run -------------------------------------------------------------------------------------


def ladder(bed: Bed, plan: Plan) -> list[Step]:
    steps: list[Step] = []
    expected = plan.talk_s + 15  # IVR, talk, survey: corrected by what the step measured
    for i, level in enumerate(plan.ladder):
        ours = run_step(bed, plan, "hotline", level, f"13{i:02d}1", expected)
        bare = run_step(bed, plan, "bare", level, f"13{i:02d}2", ours.call_s or expected)
        if ours.cpu_per_call and bare.cpu_per_call:
            ours.ratio = ours.cpu_per_call / bare.cpu_per_call
        print(row(ours), row(bare), sep="\n", flush=True)
        steps += [ours, bare]
        expected = ours.call_s or expected
    return steps


def breakdown(bed: Bed, plan: Plan) -> list[Step]:
    """Hotline's call and its parts at one level: the bare call, two channels bridged, the
    two legs recorded, through the queue (load_sip.BREAKDOWN), each against the bare call."""
    level = plan.breakdown
    ours = run_step(bed, plan, "hotline", level, "13901", plan.talk_s + 15)
    steps = [ours]
    for i, kind in enumerate(sip.BREAKDOWN):
        expected = ours.call_s if kind == "bare" else plan.talk_s + 4
        steps.append(run_step(bed, plan, kind, level, f"139{i + 1}2", expected or 20))
    bare = steps[1]
    for step in steps:
        if step.cpu_per_call and bare.cpu_per_call:
            step.ratio = step.cpu_per_call / bare.cpu_per_call
    print(BREAKDOWN_HEADER, *map(breakdown_row, steps), sep="\n", flush=True)
    return steps


BREAKDOWN_HEADER = (
    f"{'call':9} {'level':>5} {'calls':>5} {'fail':>4} {'conc':>6} {'ast %':>6} "
    f"{'%/call':>6} {'ratio':>5} {'call s':>6} {'CPU s/call':>10}"
)


def breakdown_row(s: Step) -> str:
    return (
        f"{s.kind:9} {s.target:>5} {s.calls:>5} {s.failed:>4} {s.concurrent:>6.1f} "
        f"{fmt(s.cpu.get('asterisk')):>6} {fmt(s.cpu_per_call, '.2f'):>6} "
        f"{fmt(s.ratio, '.2f'):>5} {s.call_s:>6.1f} {fmt(s.cpu_s_per_call, '.3f'):>10}"
    )


def faults(bed: Bed, plan: Plan) -> list[FaultResult]:
    results = []
    for i, fault in enumerate(plan.faults):
        result = run_fault(bed, plan, fault, f"14{i:02d}1")
        print(fault_row(result), flush=True)
        results.append(result)
    return results


def fmt(x: float | None, spec: str = ".0f") -> str:
    return "-" if x is None else format(x, spec)


HEADER = (
    f"{'kind':8} {'level':>5} {'calls':>5} {'fail':>4} {'conc':>6} {'ast %':>6} "
    f"{'%/call':>6} {'ratio':>5} {'sipp %':>6} {'ctl %':>5} {'ast MB':>6} {'ctl MB':>6} "
    f"{'rds MB':>6} {'lag p99':>7} {'lag max':>7} {'drops':>5} {'cat p99':>7} {'agent':>5} "
    f"{'wrong':>5}"
)


def row(s: Step) -> str:
    sipp = (s.cpu.get("sipp_citizens") or 0) + (s.cpu.get("sipp_agents") or 0)
    return (
        f"{s.kind:8} {s.target:>5} {s.calls:>5} {s.failed:>4} {s.concurrent:>6.1f} "
        f"{fmt(s.cpu.get('asterisk')):>6} {fmt(s.cpu_per_call, '.2f'):>6} "
        f"{fmt(s.ratio, '.2f'):>5} {sipp:>6.0f} {fmt(s.cpu.get('controller')):>5} "
        f"{fmt(s.rss_mb.get('asterisk')):>6} {fmt(s.rss_mb.get('controller')):>6} "
        f"{fmt(s.rss_mb.get('redis')):>6} {fmt(s.lag_ms.get('p99')):>7} "
        f"{fmt(s.lag_ms.get('max')):>7} {s.ami_drops:>5} {fmt(s.catalogue_ms.get('p99')):>7} "
        f"{s.outcomes.get('answered', '-'):>5} {s.wrong_calls if s.kind == 'hotline' else '-':>5}"
    )


def fault_row(r: FaultResult) -> str:
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(r.by_kind.items())) or "none"
    return (
        f"fault {r.fault:17} calls {r.calls:3} answered {r.answered:3} sipp-failed "
        f"{r.sipp_failed:3} calls with a mismatch {r.mismatched_calls:3} ({kinds})"
    )


def parse(argv: list[str] | None = None) -> Plan:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ladder", default="10,20,50,100,150,200", help="concurrent calls per step")
    p.add_argument("--faults", default=",".join(FAULTS), help=f"some of {','.join(FAULTS)}")
    p.add_argument("--fault-calls", type=int, default=50)
    p.add_argument("--talk", type=float, default=15.0, help="agent talk time, s")
    p.add_argument("--steady", type=float, default=25.0, help="seconds held at each level")
    p.add_argument("--quick", action="store_true", help="5 and 10 calls, the controller kill")
    p.add_argument(
        "--breakdown", type=int, default=50, metavar="LEVEL",
        help="then hotline's call a part at a time at LEVEL calls (bare, bridge, recorded, "
        "queued); 0: not",
    )  # fmt: skip
    p.add_argument("--out", type=Path, default=data_dir() / "load.json")
    a = p.parse_args(argv)
    if a.quick:
        a.ladder, a.faults, a.fault_calls, a.talk, a.steady = "5,10", "controller_kill", 10, 10, 15
        a.breakdown = 5
    faults_ = tuple(f for f in a.faults.split(",") if f)
    unknown = set(faults_) - set(FAULTS)
    if unknown:
        p.error(f"unknown faults {sorted(unknown)}; use some of {FAULTS}")
    levels = tuple(int(x) for x in a.ladder.split(",") if x)
    if any(not 1 <= n <= 250 for n in levels) or a.fault_calls > 250 or a.breakdown > 250:
        p.error("levels between 1 and 250")
    if not (levels or a.breakdown or faults_):
        p.error("nothing to run: give --ladder, --breakdown or --faults")
    return Plan(levels, faults_, a.fault_calls, a.talk, a.steady, a.out, a.breakdown)


def keep_logs(bed: Bed, into: Path) -> None:
    """What a mismatch is checked against, kept beside the JSON: queue_log, the controller's
    log, the history, SIPp's traces (the run directory itself is removed)."""
    into.mkdir(parents=True, exist_ok=True)
    pbx_log = bed.settings.pbx_dir / "log"
    for src in [pbx_log / "queue_log", bed.log, *bed.work.glob("*/*.short.log")]:
        if src.exists():
            shutil.copyfile(src, into / src.name)
    with (
        contextlib.closing(sqlite3.connect(bed.db)) as con,
        contextlib.closing(sqlite3.connect(into / "history.sqlite3")) as copy,
    ):
        con.backup(copy)


def missing() -> str | None:
    """What this machine lacks for the run, in one line (None: nothing)."""
    if os.geteuid() != 0:
        return "bench/load.py needs root: SIPp plays RTP from raw sockets (sudo make bench)"
    for tool, package in (("sipp", "sip-tester"), ("ss", "iproute2")):
        if shutil.which(tool) is None:
            return f"bench/load.py needs {tool}: run scripts/setup as root (installs {package})"
    return None


def main(argv: list[str] | None = None) -> int:
    plan = parse(argv)
    if (lacking := missing()) is not None:
        print(lacking, file=sys.stderr)
        return 2
    print(f"load: ladder {plan.ladder}, faults {plan.faults} under {plan.fault_calls} calls")
    started = time.time()
    with (
        tempfile.TemporaryDirectory(prefix="hotline-load-") as tmp,
        running_bed(plan, Path(tmp)) as bed,
    ):
        if plan.ladder:
            print(HEADER, flush=True)
        steps = ladder(bed, plan)
        parts = breakdown(bed, plan) if plan.breakdown else []
        results = faults(bed, plan)
        controller_log = bed.log.read_text(errors="replace")
        keep_logs(bed, plan.out.with_suffix(".logs"))
    report = {
        "command": " ".join(["bench/load.py", *(argv if argv is not None else sys.argv[1:])]),
        "started": started,
        "seconds": round(time.time() - started),
        "cpus": os.cpu_count(),
        "plan": {**asdict(plan), "out": str(plan.out)},
        "steps": [asdict(s) for s in steps],
        "breakdown": [asdict(s) for s in parts],
        "faults": [asdict(r) for r in results],
        "controller_errors": [ln for ln in controller_log.splitlines() if " ERROR " in ln][-50:],
    }
    plan.out.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    print(f"results: {plan.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
