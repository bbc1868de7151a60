"""What ``hotline metrics`` reads to report: the parameter changes recorded in the
history, the parameters in force (or given on the command line), and the report itself,
from the rollup when one is built for those parameters, else from the call records.

Shared by ``metrics report``, ``metrics explain``, ``metrics params`` and ``metrics
report --chart`` (:mod:`hotline.cli.metrics_chart`, which reports again by the hour).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from hotline import __version__
from hotline.agents.status import PausePolicy
from hotline.center.config import Center, load_center
from hotline.cli.common import db_path
from hotline.core.localtime import DAY_MS
from hotline.core.records import CallRecord
from hotline.host.clock import wall_ms as now_ms
from hotline.host.settings import Database, Settings
from hotline.ivr.loader import FlowError
from hotline.metrics import GroupBy, Params, compute, version
from hotline.metrics.agenttime import AgentData
from hotline.metrics.changes import Change, in_force
from hotline.metrics.report import CallbackState, Report
from hotline.stores.history import History
from hotline.stores.metrics import MetricsStore

if TYPE_CHECKING:  # numpy loads with it: only when a rollup is built
    from hotline.stores.rollup import Rollup

__all__ = ["SOFTWARE", "agent_data", "load_report", "params_given", "params_of", "recorded_changes"]

SOFTWARE = f"hotline {__version__}"
"""Who records a new formula registry: the software that brought it."""


def recorded_changes(path: Database) -> list[Change]:
    """Every recorded change, after recording this hotline's registry if it is new."""
    store = MetricsStore.open(path)
    try:
        store.note_registry(at=now_ms(), by=SOFTWARE)
        return store.changes()
    finally:
        store.close()


def params_given(args: argparse.Namespace, recorded: Params) -> Params:
    return params_of(args, recorded)[0]


def params_of(args: argparse.Namespace, recorded: Params) -> tuple[Params, bool]:
    """``recorded`` with what the command line gives; whether it gave anything."""
    given: dict[str, Any] = {}
    if args.threshold is not None:
        given["threshold_ms"] = Params.of(threshold_s=args.threshold).threshold_ms
    if args.short_abandon is not None:
        given["short_abandon_ms"] = Params.of(short_abandon_s=args.short_abandon).short_abandon_ms
    if getattr(args, "repeat_days", None) is not None:
        given["repeat_days"] = args.repeat_days
    return replace(recorded, **given), bool(given)


def pbx_of(record: CallRecord, default: str) -> CallRecord:
    """``record`` with its PBX named: a call stored before PBXs were named ("") was on
    the default PBX (``HOTLINE_PBX_NAME``)."""
    return record if record.pbx else replace(record, pbx=default)


def _center(settings: Settings) -> Center | None:
    """The centre (teams, pause reasons), or None when center.yaml is unusable."""
    try:
        return load_center(settings.center.read_text(encoding="utf-8"))
    except (FlowError, OSError, UnicodeDecodeError):
        return None


def agent_data(center: Center | None, journal: list[Any]) -> AgentData:
    if center is None:
        return AgentData(journal=tuple(journal))
    return AgentData(
        journal=tuple(journal),
        policy=PausePolicy.from_reasons(center.reasons.values()),
        teams={a.name: a.team for a in center.agents.values()},
    )


def load_report(
    settings: Settings, args: argparse.Namespace, since: int, until: int, by: GroupBy
) -> Report:
    """The report over [since, until) from the history, the journal and the callbacks, with
    the parameters recorded in force (or given) and what was in force over the window."""
    path = db_path(settings, args.db)
    changes = recorded_changes(path)
    periods = in_force(changes, since, until)
    params, given = params_of(args, periods[-1].params)
    source = "command line" if given else ("recorded" if changes_of_params(changes) else "default")
    center = _center(settings)
    pbx = getattr(args, "pbx", None)
    # the rollup's rows are not kept per PBX: one PBX's figures come from its call records
    rollup = None if pbx or by is GroupBy.PBX else _rollup_if_built(path, params)
    history = rollup.history if rollup is not None else History.open(path)
    try:
        # the journal from a day before (each agent's state at the start) to a day after (a
        # wrap-up that ends after the window belongs to a call in it)
        journal = history.journal(since=since - DAY_MS, until=until + DAY_MS)
        agents = agent_data(center, journal)
        if rollup is not None:
            rollup.refresh()
            served = rollup.report(
                params, by=by, since=since, until=until, agents=agents, in_force=periods,
                params_from=source,
            )  # fmt: skip
            if served is not None:
                return served
        # the N days before: earlier calls of the same numbers (repeat callers), and calls
        # that arrived before the window but queued inside it
        records = history.calls(since=since - params.repeat_days * DAY_MS, until=until)
        records = [pbx_of(r, settings.pbx_name) for r in records]
        if pbx:
            records = [r for r in records if r.pbx == pbx]
        callbacks = {
            row["call_id"]: CallbackState(row["call_id"], row["t_requested"], row["t_done"])
            for row in history.callbacks(since=since - DAY_MS, until=until + 2 * DAY_MS)
        }
    finally:
        history.close()
    return compute(
        records, params, by=by, since=since, until=until, agents=agents, callbacks=callbacks,
        in_force=periods, params_from=source,
    )  # fmt: skip


def _rollup_if_built(path: Database, params: Params) -> Rollup | None:
    """The rollup when one is built for ``params`` (numpy is loaded only then), else None."""
    store = MetricsStore.open(path)  # the rollup's tables are its migration 2
    try:
        row = store.connection.execute(
            "SELECT 1 FROM metrics_rollup_built WHERE version = ?", (version(params).id,)
        ).fetchone()
    finally:
        store.close()
    if row is None:
        return None
    from hotline.stores.rollup import Rollup

    return Rollup.open(path)


def changes_of_params(changes: list[Change]) -> bool:
    return any(c.kind.value == "param" for c in changes)
