"""The wall clock in epoch milliseconds, read in one place.

The pure core takes ``now`` as a parameter; the shell (the controller, the CLI, the web, the
STT worker) reads it here, and tests give their own clock where a component takes one.
"""

from __future__ import annotations

import time


def wall_ms() -> int:
    """Now, in milliseconds since the epoch (UTC)."""
    return time.time_ns() // 1_000_000
