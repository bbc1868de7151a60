"""When hotline warns that Redis is filling up (pure: INFO memory in, a warning out)."""

from __future__ import annotations

from hotline.stores.memory import memory


def test_below_the_mark_nothing_to_say() -> None:
    m = memory({"used_memory": 100, "maxmemory": 1000, "maxmemory_policy": "noeviction"})
    assert (m.ratio, m.warning) == (0.1, None)


def test_from_80_percent_a_warning_with_the_figures() -> None:
    m = memory({"used_memory": 800, "maxmemory": 1000, "maxmemory_policy": "noeviction"})
    assert m.warning == "Redis memory at 80% of maxmemory (800 of 1000 bytes)"


def test_no_limit_or_an_evicting_policy_is_a_warning_too() -> None:
    assert "no maxmemory" in (memory({"used_memory": 5, "maxmemory": 0}).warning or "")
    evicting = memory({"used_memory": 5, "maxmemory": 10, "maxmemory_policy": "allkeys-lru"})
    assert "evicts keys" in (evicting.warning or "")
