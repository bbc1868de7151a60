"""Metrics: the hotline's figures, defined once, explainable call by call (pure).

Definitions: docs/domain.md, "Metrics"; the reference with the JSON shape and every
formula: docs/metrics.md. The modules:

- :mod:`~hotline.metrics.params`: T (15 s), S (0 s), the repeat window, the time zone;
- :mod:`~hotline.metrics.populations`: R, A, A15, Ab, Ab≤15, Ab≤S, L (and 含导航语音 nav.*)
  for one call (:func:`classify`);
- :mod:`~hotline.metrics.explain`: the same with the reasons in English and Chinese
  (:func:`verdict`, ``hotline metrics explain``);
- :mod:`~hotline.metrics.formulas`: the registry of named formulas and its version hash;
- :mod:`~hotline.metrics.report`: every formula per queue, agent, team or interval
  (:func:`compute`), from the mergeable sums of :mod:`~hotline.metrics.sums`;
- :mod:`~hotline.metrics.agenttime`: after-call work and occupancy from the agent journal
  (the timeline of :mod:`hotline.agents.timeline`, shared with the watchdog);
- :mod:`~hotline.metrics.changes`: parameter and registry changes with who and when, and
  what was in force over a window;
- :mod:`~hotline.metrics.render`: a report as JSON, CSV or a table;
  :mod:`~hotline.metrics.charts`: as SVG charts;
- :mod:`~hotline.metrics.asterisk`: Asterisk's own QueueParams counters for the same calls,
  to cross-check against a live Asterisk;
- :mod:`~hotline.metrics.merge`: how an imported queue_log record meets a stored one.

Usage::

    from hotline.metrics import GroupBy, Params, compute, to_table, verdict

    params = Params.of(threshold_s=15, short_abandon_s=0)
    print("\\n".join(verdict(record, params=params).zh))
    report = compute(records, params, by=GroupBy.HOUR, since=t0, until=t1)
    print(to_table(report))
"""

from hotline.metrics.explain import verdict
from hotline.metrics.formulas import BY_ID, REGISTRY, Formula, FormulaVersion, Kind, version
from hotline.metrics.params import MetricsError, Params
from hotline.metrics.populations import Exclusion, Population, Verdict, classify
from hotline.metrics.render import as_dict, to_csv, to_json, to_table
from hotline.metrics.report import Figure, Group, Quality, Report, compute
from hotline.metrics.timefmt import GroupBy

__all__ = [
    "BY_ID",
    "REGISTRY",
    "Exclusion",
    "Figure",
    "Formula",
    "FormulaVersion",
    "Group",
    "GroupBy",
    "Kind",
    "MetricsError",
    "Params",
    "Population",
    "Quality",
    "Report",
    "Verdict",
    "as_dict",
    "classify",
    "compute",
    "to_csv",
    "to_json",
    "to_table",
    "verdict",
    "version",
]
