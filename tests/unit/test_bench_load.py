"""bench/load.py's plan and the peers' dialplan it installs (the run itself needs root and a
PBX: `make bench`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench import load
from bench import load_sip as sip

from hotline.ivr.asterisk import RECORD_LEGS


def test_the_breakdown_alone_is_a_plan_and_nothing_at_all_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan = load.parse(["--ladder", "", "--faults", ""])
    assert (plan.ladder, plan.faults, plan.breakdown) == ((), (), 50)  # at 50 unless told
    assert load.parse(["--quick"]).breakdown == 5
    with pytest.raises(SystemExit):
        load.parse(["--ladder", "", "--faults", "", "--breakdown", "0"])
    assert "nothing to run" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        load.parse(["--breakdown", "300"])


def test_each_part_of_the_breakdown_is_an_extension_of_the_bare_peer(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "extensions.conf").write_text("[hotline-ivr]\n")
    (source / "queues.conf").write_text("[general]\n")
    out = sip.bench_dialplan(tmp_path / "out", source, agents=60)
    text = (out / "extensions.conf").read_text()
    assert text.startswith("[hotline-ivr]\n")  # the product's own, untouched
    assert (out / "queues.conf").read_text() == "[general]\n"
    assert "exten => bare,1,Answer()" in text
    assert "% 60])" in text  # callers spread over the 60 agents' phones
    for part in sip.BREAKDOWN[1:]:
        assert f"exten => {part},1," in text
    # the recorded parts record as hotline's queue contexts do, at a place of their own
    assert text.count(RECORD_LEGS) == 2
    assert "Set(HOTLINE_REC=/srv/hotline/spool/bench-legs/${UNIQUEID})" in text
