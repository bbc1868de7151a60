"""Calls keyed by (PBX, Uniqueid): ids qualified at the edge (calls.namespace)."""

from __future__ import annotations

from hotline.calls.namespace import Namespace
from hotline.calls.state import CallEnded, Calls
from hotline.core.records import CallRecord
from hotline.queuelog.parse import QueueLogEntry
from tests.unit.core.events import T0, event

TWO = Namespace("pbx2", qualified=True)
ONE = Namespace("pbx1")


def test_the_same_uniqueid_on_two_pbxs_is_two_calls() -> None:
    calls = Calls()
    for ns in (ONE, TWO):
        join = event("QueueCallerJoin", T0, Uniqueid="1765100000.7", Linkedid="1765100000.7",
                     Queue="intake", Position="1", CallerIDNum="13800000001")  # fmt: skip
        calls.apply(ns.event(join))
    assert sorted(r.call_id for r in calls.records()) == ["1765100000.7", "pbx2:1765100000.7"]
    (ended,) = calls.apply(TWO.event(event("Hangup", T0 + 5, Uniqueid="1765100000.7")))
    assert isinstance(ended, CallEnded)
    assert ended.record.call_id == "pbx2:1765100000.7"
    assert ended.record.linkedid == "pbx2:1765100000.7"
    assert TWO.record(ended.record).pbx == "pbx2"
    assert [r.call_id for r in calls.records()] == ["1765100000.7"]


def test_only_id_headers_change_and_the_default_pbx_keeps_bare_ids() -> None:
    e = event("AgentCalled", T0, Uniqueid="1.1", DestUniqueid="1.2", Interface="PJSIP/1001")
    q = TWO.event(e)
    assert (q.get("Uniqueid"), q.get("DestUniqueid"), q.get("Interface")) == (
        "pbx2:1.1", "pbx2:1.2", "PJSIP/1001",
    )  # fmt: skip
    assert q.get("Timestamp") == e.get("Timestamp")
    assert ONE.event(e) is e
    assert TWO.event(event("FullyBooted", T0)).headers == event("FullyBooted", T0).headers
    assert TWO.uniqueid("pbx2:1.1") == "1.1"
    assert ONE.uniqueid("1.1") == "1.1"
    assert TWO.owns("pbx2:1.1")
    assert not TWO.owns("1.1")
    assert ONE.owns("1.1")
    assert not ONE.owns("pbx2:1.1")


def test_queue_log_lines_are_qualified_too() -> None:
    line = QueueLogEntry(1765100000, "1765100000.7", "intake", "NONE", "ENTERQUEUE", ("", "1"))
    assert TWO.entry(line).callid == "pbx2:1765100000.7"
    assert ONE.entry(line) is line
    none = QueueLogEntry(1765100000, "NONE", "NONE", "NONE", "QUEUESTART", ())
    assert TWO.entry(none) is none
    assert ONE.record(CallRecord("x")).pbx == "pbx1"
