"""`hotline qa flag`: the rules over a turns file or a stored call, bad input refused clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotline.cli.main import main
from hotline.recordings.leg import Leg
from hotline.stores.access import AccessLog
from hotline.stores.transcripts import TranscriptStore
from hotline.transcripts.transcript import Transcript, Word

TURNS = [
    {"speaker": "agent", "start": 0.5, "end": 3, "text": "喂，说吧"},
    {"speaker": "caller", "start": 3.5, "end": 9, "text": "我都打了好几次了，楼下烧烤店太吵"},
    {"speaker": "agent", "start": 9.5, "end": 12, "text": "这个不归我们管，你自己去问城管"},
    {"speaker": "agent", "start": 13, "end": 14, "text": "感谢您的来电，再见"},
]


def hotline(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def turns_file(tmp_path: Path) -> Path:
    path = tmp_path / "turns.json"
    path.write_text(json.dumps(TURNS, ensure_ascii=False), encoding="utf-8")
    return path


def test_flags_as_json_with_evidence(turns_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = hotline(capsys, "qa", "flag", str(turns_file), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["turns"] == 4
    got = [(f["rule"], f["item"], f["speaker"], f["start"], f["text"]) for f in doc["flags"]]
    assert got == [
        ("greeting_missing", "", "agent", 0.5, "喂，说吧"),
        ("repeat_caller", "", "caller", 3.5, "打了好几次"),
        ("forbidden_phrase", "dismissive", "agent", 9.5, "不归我们管"),
        ("forbidden_phrase", "dismissive", "agent", 9.5, "自己去问"),
    ]


def test_flags_as_a_table(turns_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = hotline(capsys, "qa", "flag", str(turns_file))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "4 turns, 4 flags"
    assert lines[1].split() == ["rule", "item", "who", "when", "words", "detail"]
    assert lines[4].split()[:5] == ["forbidden_phrase", "dismissive", "坐席", "00:09.5-00:12.0",
                                    "不归我们管"]  # fmt: skip


def test_a_centre_file_changes_the_rules(
    tmp_path: Path, turns_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    center = tmp_path / "center.yaml"
    center.write_text("qa: {flags: {greeting_missing: {enabled: false}, forbidden_phrase: "
                      "{groups: {rude: {phrases: [说吧]}}}}}\n", encoding="utf-8")  # fmt: skip
    code, out, _ = hotline(capsys, "qa", "flag", str(turns_file), "--center", str(center),
                           "--format", "json")  # fmt: skip
    assert code == 0
    assert [(f["rule"], f["item"]) for f in json.loads(out)["flags"]] == [
        ("forbidden_phrase", "rude"), ("repeat_caller", ""),
    ]  # fmt: skip
    center.write_text("qa: {flags: {talk_over: {min_overlap_seconds: fast}}}\n", encoding="utf-8")
    code, _, err = hotline(capsys, "qa", "flag", str(turns_file), "--center", str(center))
    assert code == 2
    assert "qa.flags.talk_over.min_overlap_seconds" in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[{", "is not JSON"),
        ('{"turns": []}', "turns: expected a list of turns"),
        ('[{"speaker": "boss", "start": 0, "end": 1, "text": "x"}]', "turns.0.speaker"),
        ('[{"speaker": "agent", "start": 5, "end": 1, "text": "x"}]', "turns.0.end: 1.0 is before"),
        ('[{"speaker": "agent", "start": true, "end": 1, "text": "x"}]', "turns.0.start"),
    ],
)
def test_bad_turns_are_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    code, out, err = hotline(capsys, "qa", "flag", str(path))
    assert code == 1
    assert out == ""
    assert err.startswith("hotline: ")
    assert expected in err, err


def test_a_missing_file_and_no_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = hotline(capsys, "qa", "flag", str(tmp_path / "none.json"))
    assert code == 1
    assert "cannot read" in err
    code, _, err = hotline(capsys, "qa", "flag")
    assert code == 2
    assert "one of them" in err


def test_a_stored_call_is_flagged_logged_and_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "h.sqlite3"
    monkeypatch.setenv("HOTLINE_DB", str(db))
    store = TranscriptStore.open(db)
    agent = [("喂", 0), ("这个", 9000), ("不归", 9400), ("我们", 9800), ("管", 10200),
             ("你", 10400), ("打", 10600), ("13812345678", 10800)]  # fmt: skip
    caller = [("我", 1500), ("打了", 1800), ("三次", 2100), ("了", 2400)]
    for leg, words in ((Leg.AGENT, agent), (Leg.CALLER, caller)):
        timed = tuple(Word(w, t, t + 300, 0.9) for w, t in words)
        store.save(Transcript("c1", leg, "vosk", "m", "zh", " ".join(w for w, _ in words),
                              timed, 20_000))  # fmt: skip
    store.close()
    code, _, err = hotline(capsys, "qa", "flag", "--call", "c1")
    assert code == 2
    assert "--purpose" in err
    code, out, _ = hotline(capsys, "qa", "flag", "--call", "c1", "--purpose", "质检-1",
                           "--format", "json")  # fmt: skip
    assert code == 0
    flags = {f["rule"]: f for f in json.loads(out)["flags"]}
    assert (flags["forbidden_phrase"]["start"], flags["forbidden_phrase"]["end"]) == (9.4, 10.5)
    assert flags["repeat_caller"]["speaker"] == "caller"
    assert "13812345678" not in out  # the talk-over detail / closing evidence are masked
    assert "138" in flags["closing_missing"]["text"]  # masked, not dropped
    log = AccessLog.open(db)
    entries = [(e.entry.action, e.entry.target, e.entry.purpose) for e in log.entries()]
    log.close()
    assert entries == [("qa-flag", "c1", "质检-1")]
    code, _, err = hotline(capsys, "qa", "flag", "--call", "nope", "--purpose", "x")
    assert code == 1
    assert "no transcript of call 'nope'" in err
