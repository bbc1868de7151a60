"""Faults under real SIP load (issue 17): SIPp citizens through the IVR into the queue, SIP
agents (the centre's PJSIP endpoints, registered from a SIPp UAS) answering, 20 calls at
once; the controller killed (-9) and started again 10 s later, then Asterisk restarted.
After each, every call is compared with what proves it: the history's end reason, agent,
answer and completed_by against queue_log (a call up when the PBX stopped must say
``pbx_down``), SIPp's own outcome, and the WAV files on disk (every leg catalogued, its
SHA-256 the file's, the call linked to it). The fault passes with 0 calls wrong.

The bed, the faults and the comparison are bench/load.py's own (``running_bed``,
``run_fault``, ``bench/load_check.py``), imported rather than copied: the benchmark and
this test then cannot drift apart, and bench/load.py already builds on this directory's
SIP helpers (tests/integration/sip.py). It runs on a private PBX and Redis of its own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench import load

CALLS = 20
PLAN = load.Plan(
    ladder=(),
    faults=("controller_kill", "asterisk_restart"),
    fault_calls=CALLS,
    talk_s=10.0,  # the agent talks 10 s then hangs up; the caller goes on to the survey
    steady_s=0.0,
    out=Path("unused"),
)


@pytest.fixture(scope="module")
def sip_bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[load.Bed]:
    """A private PBX, Redis and controller; 30 SIP agents registered and logged in."""
    work = tmp_path_factory.mktemp("sipload")
    with load.running_bed(PLAN, work) as bed:
        yield bed
        load.keep_logs(bed, work / "logs")  # queue_log, the controller's log, the history


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    ("fault", "prefix"), [("controller_kill", "15001"), ("asterisk_restart", "15011")]
)
def test_no_call_is_wrong_after_the_fault(sip_bed: load.Bed, fault: str, prefix: str) -> None:
    started = time.monotonic()
    result = load.run_fault(sip_bed, PLAN, fault, prefix)
    report = json.dumps(result.mismatches[:20], ensure_ascii=False, indent=1)
    print(f"{load.fault_row(result)} in {time.monotonic() - started:.0f} s")
    assert result.calls == CALLS, f"SIPp placed {result.calls} calls"
    assert result.sipp_failed == 0, "calls SIPp saw fail (not the fault under test)"
    assert result.mismatched_calls == 0, f"{result.by_kind}; see {sip_bed.work}\n{report}"
