"""A recorded leg as values: which side of the call it holds, and what the catalogue knows of
its file (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Leg(Enum):
    CALLER = "rx"  # what the caller said (MixMonitor r())
    AGENT = "tx"  # what the agent said (MixMonitor t())
    MIXED = "mixed"


@dataclass(frozen=True, slots=True)
class Recording:
    call_id: str
    leg: Leg
    path: str  # on this host
    size: int
    duration_ms: int
    sha256: str
