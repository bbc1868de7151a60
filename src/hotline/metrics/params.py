"""The parameters every figure depends on, in integer milliseconds (pure).

    params = Params.of(threshold_s=15, short_abandon_s=0, repeat_days=7)
    params.threshold_ms     # 15000: answered within 15.000 s, inclusive, counts in A15

Seconds come in as the user typed them ("15", "15.5", "0.25") and are converted exactly,
through the decimal text, never through a float: ``Params.of(threshold_s=0.1)`` is 100 ms.
A value that is not a whole number of milliseconds is refused rather than rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from hotline.core.localtime import TZ_NAME

__all__ = ["MetricsError", "Params"]


class MetricsError(ValueError):
    """A parameter or an input the metrics cannot use; the message says which."""


def to_ms(seconds: float | int | str | Decimal, name: str) -> int:
    """Exact seconds → milliseconds; MetricsError if negative or finer than 1 ms."""
    try:
        value = Decimal(str(seconds)) * 1000
    except InvalidOperation:
        raise MetricsError(f"{name}={seconds!r} is not a number of seconds") from None
    if not value.is_finite() or value < 0 or value != value.to_integral_value():
        raise MetricsError(f"{name}={seconds!r}: use a non-negative number of seconds, to the ms")
    return int(value)


@dataclass(frozen=True, slots=True)
class Params:
    """Thresholds and windows; part of every :class:`~hotline.metrics.formulas.FormulaVersion`.

    ``threshold_ms`` T: an answer within T (inclusive) counts in A15, an abandon within T in
    Ab15 (for SL2, as Asterisk's ``servicelevel``). ``short_abandon_ms`` S: abandons within S
    (inclusive) leave the strict denominators (Ab≤S); S = 0 excludes nothing, even an abandon
    in the very millisecond of entry. ``repeat_days`` N: a call is a repeat when the same
    number asked for a human within the N days before it.
    """

    threshold_ms: int = 15_000
    short_abandon_ms: int = 0
    repeat_days: int = 7
    tz: str = TZ_NAME

    def __post_init__(self) -> None:
        if self.threshold_ms < 0 or self.short_abandon_ms < 0:
            raise MetricsError("thresholds must not be negative")
        if self.repeat_days < 1:
            raise MetricsError(f"repeat_days={self.repeat_days}: use 1 or more")

    @classmethod
    def of(
        cls,
        *,
        threshold_s: float | int | str | Decimal = 15,
        short_abandon_s: float | int | str | Decimal = 0,
        repeat_days: int = 7,
        tz: str = TZ_NAME,
    ) -> Params:
        return cls(
            threshold_ms=to_ms(threshold_s, "threshold"),
            short_abandon_ms=to_ms(short_abandon_s, "short_abandon"),
            repeat_days=repeat_days,
            tz=tz,
        )

    @property
    def threshold_s(self) -> str:
        """T in seconds as text without trailing zeros ("15", "15.5")."""
        return seconds_text(self.threshold_ms)

    @property
    def short_abandon_s(self) -> str:
        return seconds_text(self.short_abandon_ms)

    def as_dict(self) -> dict[str, int | str]:
        """The canonical form, as hashed into the formula version and shown in JSON."""
        return {
            "threshold_ms": self.threshold_ms,
            "short_abandon_ms": self.short_abandon_ms,
            "repeat_days": self.repeat_days,
            "tz": self.tz,
        }


def seconds_text(ms: int) -> str:
    """1500 → "1.5", 15000 → "15"."""
    whole, rest = divmod(ms, 1000)
    return f"{whole}.{rest:03d}".rstrip("0").rstrip(".") if rest else str(whole)
