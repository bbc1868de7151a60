"""How full Redis is, from ``INFO memory``: an alarm before ``maxmemory`` is reached.

Redis holds the live state, the commands and the speech-to-text jobs. It runs with
``maxmemory`` and ``noeviction``: at the limit it refuses writes rather than dropping keys,
so hotline warns well before (health, /metrics, ``hotline stt status``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MEMORY_WARN = 0.8  # warn from this share of maxmemory


@dataclass(frozen=True, slots=True)
class Memory:
    used: int  # bytes (used_memory)
    limit: int  # bytes (maxmemory; 0: none set)
    policy: str

    @property
    def ratio(self) -> float | None:
        """used / limit, or None without a limit."""
        return self.used / self.limit if self.limit else None

    @property
    def warning(self) -> str | None:
        """What an operator must hear, or None."""
        if not self.limit:
            return "Redis has no maxmemory: it can grow until the host runs out of memory"
        if self.policy != "noeviction":
            return (
                f"Redis evicts keys at its limit (maxmemory-policy {self.policy}): use noeviction"
            )
        ratio = self.ratio or 0.0
        if ratio >= MEMORY_WARN:
            return f"Redis memory at {ratio:.0%} of maxmemory ({self.used} of {self.limit} bytes)"
        return None


def memory(info: Mapping[str, Any]) -> Memory:
    """From the parsed ``INFO memory`` reply."""
    return Memory(
        int(info.get("used_memory", 0)),
        int(info.get("maxmemory", 0)),
        str(info.get("maxmemory_policy", "")),
    )
