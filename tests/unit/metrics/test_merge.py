"""An imported queue_log record meeting a stored one."""

from __future__ import annotations

from dataclasses import replace

from hotline.core.records import EndReason, Precision, Source
from hotline.metrics.merge import COMPLETED_NOTE, merge

from .calls import T0, S, answered, vanished


def test_a_new_call_is_stored_as_imported() -> None:
    record = answered("c", 17 * S, precision=Precision.SECOND)
    assert merge(None, record) == record


def test_a_second_import_stores_the_same_record() -> None:
    record = answered("c", 17 * S, precision=Precision.SECOND)
    assert merge(record, record) == record
    assert merge(merge(record, record), record) == record


def test_the_controllers_finished_record_is_kept() -> None:
    ami = answered("c", 17_208)
    assert ami.source is Source.AMI
    assert merge(ami, answered("c", 17 * S, precision=Precision.SECOND)) is None


def test_an_open_or_vanished_record_is_completed_keeping_the_ivr() -> None:
    lost = replace(vanished("c"), ivr_path="language:1>main:3", tag="unpaid-wages", t_request=T0)
    record = answered("c", 17 * S, precision=Precision.SECOND)
    merged = merge(lost, record)
    assert merged is not None
    assert (merged.t_arrival, merged.ivr_path, merged.tag) == (
        lost.t_arrival, "language:1>main:3", "unpaid-wages",
    )  # fmt: skip
    assert (merged.end_reason, merged.source) == (EndReason.ANSWERED, Source.QUEUE_LOG)
    assert merged.notes[-1] == COMPLETED_NOTE
    assert merge(merged, record) == merged  # and a second import changes nothing
    still_open = replace(lost, end_reason=None)
    assert merge(still_open, record) == merged


def test_a_record_closed_with_its_lost_pbx_takes_the_end_an_import_proves() -> None:
    cut = replace(answered("c", 17_208), end_reason=EndReason.PBX_LOST, ivr_path="1")
    record = answered("c", 17 * S, precision=Precision.SECOND)
    merged = merge(cut, record)
    assert merged is not None
    assert (merged.end_reason, merged.ivr_path) == (EndReason.ANSWERED, "1")
    assert merged.notes[-1] == COMPLETED_NOTE
    # an import that has no end either leaves the presumed one
    assert merge(cut, replace(record, end_reason=None, t_end=None)) is None
