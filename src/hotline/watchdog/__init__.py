"""The busy-abuse watchdog (docs/domain.md, "Agent states and the busy abuse"; issue 6).

One rule engine for the live controller and the retrospective audit (pure)::

    from hotline.watchdog import Watchdog, replay

    watchdog = Watchdog(center.watchdog, center)         # thresholds from center.yaml
    alerts = watchdog.feed(change)                       # AgentChange | Resynced | CallRecord
    alerts = watchdog.tick(now_ms)                        # long pauses fire while nothing happens
    steps = watchdog.escalation(alert, now_ms)            # note → supervisor → forced logout

    alerts = replay(Watchdog(center.watchdog, center), journal, calls)   # a batch, same rules

- :mod:`.alerts`: Alert, Evidence, Cost, the lifecycle (open → acknowledged → closed);
- :mod:`.config`: thresholds per team and shift, severity and escalation per rule;
- :mod:`.rules`: when each rule fires; :mod:`.engine`: the Watchdog (state, clock, alerts);
  :mod:`.track`, :mod:`.basis`, :mod:`.spans`, :mod:`.shifts`, :mod:`.evidence`: parts;
- :mod:`.escalation`: the steps due; :mod:`.audit`: queue_log lines → alerts;
- :mod:`.report`: the per-agent shift report; :mod:`.render`: tables, CSV, JSON.

Live, in the controller: feed it every journal entry (after ``resynced`` on a resync, so a
pause found on a restart counts from Asterisk's LastPause) and every call record the calls
reducer updates, tick it each second, publish and store what comes back, run the due
escalation steps once each (``Step.id``), and record supervisors' acknowledgements with
``Watchdog.transition``.
"""

from hotline.watchdog.alerts import (
    TRANSITIONS,
    Action,
    Alert,
    AlertState,
    Cost,
    Evidence,
    LifecycleError,
    RuleId,
    Severity,
    Transition,
    Waiting,
    alert_id,
    transition,
)
from hotline.watchdog.audit import Audit, audit_lines, replay
from hotline.watchdog.config import (
    EscalationStep,
    RulePolicy,
    StepAction,
    Thresholds,
    WatchdogConfig,
    load_watchdog,
)
from hotline.watchdog.engine import Item, Watchdog
from hotline.watchdog.escalation import Step, escalation
from hotline.watchdog.report import AgentReport, PauseStat, shift_report
from hotline.watchdog.shifts import Shifts, Window
from hotline.watchdog.track import Resynced, resynced

__all__ = [
    "TRANSITIONS",
    "Action",
    "AgentReport",
    "Alert",
    "AlertState",
    "Audit",
    "Cost",
    "EscalationStep",
    "Evidence",
    "Item",
    "LifecycleError",
    "PauseStat",
    "Resynced",
    "RuleId",
    "RulePolicy",
    "Severity",
    "Shifts",
    "Step",
    "StepAction",
    "Thresholds",
    "Transition",
    "Waiting",
    "Watchdog",
    "WatchdogConfig",
    "Window",
    "alert_id",
    "audit_lines",
    "escalation",
    "load_watchdog",
    "replay",
    "resynced",
    "shift_report",
    "transition",
]
