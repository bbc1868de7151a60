"""Small helpers the call tests share: waiting for a condition, the loudness of a leg."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


async def until(
    check: Callable[[], T], timeout: float, what: str, *, in_thread: bool = False,
    every: float = 0.1,
) -> T:  # fmt: skip
    """CHECK's first truthy value, asked every EVERY s (in a thread when it reads a
    database); AssertionError naming WHAT after TIMEOUT s."""
    deadline = time.monotonic() + timeout
    while True:
        got = await asyncio.to_thread(check) if in_thread else check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")
        await asyncio.sleep(every)


def rms(path: Path | str) -> float:
    """sox's RMS amplitude of a WAV (0 for digital silence)."""
    out = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True,
                         check=True)  # fmt: skip
    m = re.search(r"RMS\s+amplitude:\s+([0-9.]+)", out.stderr)
    assert m, out.stderr
    return float(m.group(1))
