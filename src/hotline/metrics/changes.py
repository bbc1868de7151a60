"""Changes of a parameter or of the formula registry, with who and when: never silent (pure).

    change = param_change(current, "threshold_s", "20", by="张三", why="...", at=now)
    params = params_at(changes, t)                 # the parameters in force at t
    periods = in_force(changes, since, until)      # what was in force over a window, piecewise

The store (:class:`hotline.stores.metrics.MetricsStore`) keeps the changes append-only. A
parameter change takes effect when it is recorded; nothing can be back-dated. A change of
the registry (a new :data:`~hotline.metrics.formulas.REVISION` in the code) is recorded the
first time this hotline opens the store, by the software, pointing at docs/metrics.md.

A report computes every call with one set of parameters (those in force at the end of its
window, unless given on the command line) and lists each period of the window with what was
in force then, so a report over a change says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

from hotline.metrics.params import MetricsError, Params, seconds_text, to_ms

__all__ = [
    "PARAMS",
    "Change",
    "ChangeKind",
    "Period",
    "in_force",
    "param_change",
    "params_at",
    "registry_change",
]


class ChangeKind(Enum):
    PARAM = "param"
    REGISTRY = "registry"


@dataclass(frozen=True, slots=True)
class Change:
    t: int  # recorded and in force from (epoch ms)
    kind: ChangeKind
    name: str  # the Params field (threshold_ms, ...) or "registry"
    value: str  # the new value (ms, days, or the registry's sha256)
    previous: str  # the value before ("" for the first registry)
    revision: int  # the registry revision in force when it was recorded
    by: str
    why: str

    def text(self) -> str:
        """ "threshold T 15 s → 20 s" or "formulas revision 2 (sha256 c23a…)"."""
        if self.kind is ChangeKind.REGISTRY:
            return f"formulas revision {self.revision} (registry sha256 {self.value[:12]}…)"
        label, unit = _SHOWN[self.name]
        old, new = _show(self.name, self.previous), _show(self.name, self.value)
        return f"{label} {old} {unit} → {new} {unit}"


# the names a person types (seconds, days) -> the Params field
PARAMS: dict[str, str] = {
    "threshold_s": "threshold_ms",
    "short_abandon_s": "short_abandon_ms",
    "repeat_days": "repeat_days",
}
_SHOWN = {
    "threshold_ms": ("threshold T", "s"),
    "short_abandon_ms": ("short abandon S", "s"),
    "repeat_days": ("repeat window N", "days"),
}


def _show(field: str, value: str) -> str:
    return seconds_text(int(value)) if field.endswith("_ms") else value


def param_change(
    current: Params, name: str, value: str, *, by: str, why: str, at: int, revision: int
) -> Change:
    """A validated change of ``name`` (threshold_s, short_abandon_s, repeat_days) to
    ``value``; MetricsError when the name, the value, ``by`` or ``why`` is unusable, or the
    value is the one in force already."""
    field = PARAMS.get(name)
    if field is None:
        raise MetricsError(f"unknown parameter {name!r}: use one of {', '.join(PARAMS)}")
    if not by.strip():
        raise MetricsError("say who changes it (--by NAME)")
    if not why.strip():
        raise MetricsError("say why (--why TEXT): a change is never silent")
    if field == "repeat_days":
        try:
            new = int(value)
        except ValueError:
            raise MetricsError(f"repeat_days={value!r}: use a whole number of days") from None
    else:
        new = to_ms(value, name)
    updated = _with(current, field, new)  # validates (Params.__post_init__)
    old = getattr(current, field)
    if getattr(updated, field) == old:
        raise MetricsError(f"{name} is {value} already: nothing to change")
    return Change(
        at, ChangeKind.PARAM, field, str(new), str(old), revision, by.strip(), why.strip()
    )


def registry_change(
    sha256: str, revision: int, previous: Sequence[Change], *, by: str, at: int
) -> Change | None:
    """The change to record when the code's registry is not the last one recorded."""
    last = next((c for c in reversed(previous) if c.kind is ChangeKind.REGISTRY), None)
    if last is not None and last.value == sha256:
        return None
    why = f"formula registry revision {revision}: the changes are listed in docs/metrics.md"
    prev = last.value if last is not None else ""
    return Change(at, ChangeKind.REGISTRY, "registry", sha256, prev, revision, by, why)


def _with(params: Params, field: str, value: int) -> Params:
    if field == "threshold_ms":
        return replace(params, threshold_ms=value)
    if field == "short_abandon_ms":
        return replace(params, short_abandon_ms=value)
    if field == "repeat_days":
        return replace(params, repeat_days=value)
    raise MetricsError(f"unknown parameter {field!r}")


def params_at(changes: Sequence[Change], t: int, base: Params | None = None) -> Params:
    """The parameters in force at ``t``: ``base`` (the defaults) with every parameter change
    recorded at or before ``t`` applied in order."""
    params = base or Params()
    for c in changes:
        if c.kind is ChangeKind.PARAM and c.t <= t:
            params = _with(params, c.name, int(c.value))
    return params


@dataclass(frozen=True, slots=True)
class Period:
    """A stretch of a window with one set of parameters and one registry in force."""

    since: int | None
    until: int | None
    params: Params
    registry: Change | None  # the registry recorded in force (None: before any record)
    started_by: Change | None  # the change that began the period (None: the window's start)


def in_force(
    changes: Sequence[Change], since: int | None, until: int | None, base: Params | None = None
) -> tuple[Period, ...]:
    """The window [since, until) cut at every recorded change inside it."""
    ordered = sorted(changes, key=lambda c: c.t)
    inside = [
        c for c in ordered if (since is None or c.t > since) and (until is None or c.t < until)
    ]
    starts: list[tuple[int | None, Change | None]] = [(since, None)]
    starts += [(c.t, c) for c in inside]
    periods = []
    for i, (t0, change) in enumerate(starts):
        t1 = starts[i + 1][0] if i + 1 < len(starts) else until
        at = t0 if t0 is not None else (ordered[0].t - 1 if ordered else 0)
        registry = next(
            (c for c in reversed(ordered) if c.kind is ChangeKind.REGISTRY and c.t <= at), None
        )
        periods.append(Period(t0, t1, params_at(ordered, at, base), registry, change))
    return tuple(periods)
