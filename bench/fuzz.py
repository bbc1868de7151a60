"""Fuzz every reader of outside input with many generated inputs; report the figures.

    .venv/bin/python bench/fuzz.py            # --examples 5000 per target

Runs tests/unit/test_fuzz_inputs.py (the flow and centre loaders, queue_log lines of every
format, WAV headers, HTTP Range headers, masking) and tests/unit/ami/test_protocol_fuzz.py
(the AMI protocol) with HOTLINE_FUZZ_EXAMPLES inputs per target, one target at a time, and
prints inputs tried, the outcome and the time of each: the table in docs/security.md.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {
    "flow loader": ("tests/unit/test_fuzz_inputs.py", "flow_loader"),
    "centre loader": ("tests/unit/test_fuzz_inputs.py", "centre_loader"),
    "queue_log lines": ("tests/unit/test_fuzz_inputs.py", "queue_log_lines"),
    "WAV headers": ("tests/unit/test_fuzz_inputs.py", "wav_header"),
    "HTTP Range": ("tests/unit/test_fuzz_inputs.py", "range_header"),
    "masking": ("tests/unit/test_fuzz_inputs.py", "masking_takes"),
    "AMI protocol": ("tests/unit/ami/test_protocol_fuzz.py", ""),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=5000)
    args = ap.parse_args()
    env = {**os.environ, "HOTLINE_FUZZ_EXAMPLES": str(args.examples)}
    print("| target | inputs per property | properties | outcome | time |")
    print("|---|---|---|---|---|")
    failed = 0
    for name, (path, key) in TARGETS.items():
        argv = [sys.executable, "-m", "pytest", path, "-q", "-p", "no:cacheprovider"]
        if key:
            argv += ["-k", key]
        t0 = time.monotonic()
        out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
        took = time.monotonic() - t0
        last = (out.stdout.strip().splitlines() or ["?"])[-1]
        passed = int(m.group(1)) if (m := re.search(r"(\d+) passed", last)) else 0
        bad = int(m.group(1)) if (m := re.search(r"(\d+) failed", last)) else 0
        failed += bad
        outcome = "no crash" if out.returncode == 0 else f"{bad} failing: see pytest {path}"
        per = args.examples
        print(f"| {name} | {per} | {passed + bad} | {outcome} | {took:.0f} s |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
