"""`hotline qa forms|sample|score|appeal|report|flagged` on a real SQLite history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotline.cli.main import main
from hotline.core.records import CallRecord, QueueVisit
from hotline.recordings.leg import Leg
from hotline.stores.access import AccessLog
from hotline.stores.history import History
from hotline.stores.transcripts import TranscriptStore
from hotline.transcripts.transcript import Transcript, Word

T0 = 1_796_000_000_000  # Monday 2026-11-30 11:33 in Shanghai: week 2026-W49
GOOD = "service --item greeting=10 --item listening=15 --item accuracy=30 --item recording=25 " \
       "--item courtesy=20 --item dismissive=pass --item abusive=pass"  # fmt: skip


def hotline(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def leg(call_id: str, which: Leg, words: list[tuple[str, int]]) -> Transcript:
    timed = tuple(Word(w, t, t + 300, 0.9) for w, t in words)
    return Transcript(call_id, which, "vosk", "m", "zh", " ".join(w for w, _ in words), timed,
                      20_000)  # fmt: skip


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "h.sqlite3"
    monkeypatch.setenv("HOTLINE_DB", str(db))
    history = History.open(db)
    calls = []
    for i in range(40):
        agent = "王芳" if i % 2 == 0 else "李娜"
        t = T0 + i * 3_600_000
        calls.append(CallRecord(f"c{i:02d}", caller="13800000000", t_arrival=t, t_answer=t + 5000,
                                t_end=t + 90_000, agent=agent,
                                visits=(QueueVisit("intake", t + 1000),)))  # fmt: skip
    calls.append(CallRecord("next-week", t_arrival=T0 + 8 * 86_400_000, agent="王芳",
                            t_answer=T0 + 8 * 86_400_000 + 1))  # fmt: skip
    history.save_calls(calls)
    history.close()
    store = TranscriptStore.open(db)
    greeting = [("您好", 0), ("12345", 400), ("热线", 800)]
    closing = [("感谢", 17000), ("您的", 17300), ("来电", 17600), ("再见", 17900)]
    for i in range(0, 6):
        middle = [("这个", 9000), ("不归", 9400), ("我们", 9800), ("管", 10200)] if i == 3 else []
        store.save(leg(f"c{i:02d}", Leg.AGENT, greeting + middle + closing))
        store.save(leg(f"c{i:02d}", Leg.CALLER, [("我", 2000), ("家", 2300), ("楼下", 2600)]))
    store.close()
    return db


def test_forms_list_the_centres_form(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = hotline(capsys, "qa", "forms", "--format", "json")
    assert code == 0
    (form,) = json.loads(out)
    assert (form["name"], form["version"]) == ("service", 1)
    assert [i["key"] for i in form["items"] if i["critical"]] == ["dismissive", "abusive"]
    code, out, _ = hotline(capsys, "qa", "forms")
    assert out.startswith("service v1  服务质量评分表  (100 points)")


def test_a_week_sampled_scored_appealed_and_reported(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = hotline(capsys, "qa", "sample", "--week", "2026-W49", "--seed", "7",
                           "--format", "json")  # fmt: skip
    assert code == 0
    doc = json.loads(out)
    assert (doc["calls"], doc["transcribed"], doc["flagged"]) == (40, 6, ["c03"])
    picks = {p["call_id"]: p for p in doc["sample"]}
    assert picks["c03"]["reason"] == "flagged"
    assert sum(p["agent"] == "王芳" and p["reason"] == "share" for p in doc["sample"]) == 2
    assert sum(p["agent"] == "李娜" for p in doc["sample"]) == 3  # two drawn, c03 flagged
    _, again, _ = hotline(capsys, "qa", "sample", "--week", "2026-W49", "--seed", "7",
                          "--format", "json")  # fmt: skip
    assert json.loads(again)["sample"] == doc["sample"]
    log = AccessLog.open(db)
    entries = [e.entry for e in log.entries(action="qa-sample")]
    log.close()
    assert [(e.target, e.purpose) for e in entries] == [("2026-W49", "质检抽样 2026-W49")] * 2

    # the flagged call is scored: the critical item fails it
    bad = GOOD.replace("dismissive=pass", "dismissive=fail").split()
    code, out, _ = hotline(capsys, "qa", "score", "c03", "--form", *bad, "--by", "质检A",
                           "--format", "json")  # fmt: skip
    assert code == 0
    score = json.loads(out)
    assert (score["total"], score["failed"], score["agent"]) == (0.0, ["dismissive"], "李娜")
    assert score["team"] == "team-a"
    code, _, err = hotline(capsys, "qa", "score", "c03", "--form", *GOOD.split())
    assert code == 1
    assert "scored by service already" in err
    code, out, _ = hotline(capsys, "qa", "score", "c00", "--form", *GOOD.split(), "--by", "质检A")
    assert code == 0
    assert "passed" in out

    # the agent appeals; the same reviewer cannot settle it, a second one revises it
    code, out, _ = hotline(capsys, "qa", "appeal", "open", str(score["id"]), "--by", "李娜",
                           "--reason", "我已转办，并非推诿")  # fmt: skip
    assert code == 0
    appeal_id = out.split()[1]
    code, _, err = hotline(capsys, "qa", "appeal", "settle", appeal_id, "--by", "质检A",
                           "--uphold")  # fmt: skip
    assert code == 1
    assert "a second reviewer" in err
    revised = GOOD.replace("accuracy=30", "accuracy=20").split()[1:]
    code, out, _ = hotline(capsys, "qa", "appeal", "settle", appeal_id, "--by", "质检B",
                           *revised, "--note", "录音显示已转办")  # fmt: skip
    assert code == 0
    assert f"replaces score {score['id']}" in out
    assert "90 passed" in out
    code, out, _ = hotline(capsys, "qa", "appeal", "list", "--format", "json")
    assert [a["state"] for a in json.loads(out)] == ["revised"]

    code, out, _ = hotline(capsys, "qa", "report", "--from", "2026-11-30", "--to", "2026-12-06",
                           "--format", "json")  # fmt: skip
    assert code == 0
    lines = {ln["key"]: ln for ln in json.loads(out)["lines"]}
    assert (lines["李娜"]["scored"], lines["李娜"]["average"], lines["李娜"]["failed_calls"]) == (
        1, 90.0, 0)  # fmt: skip
    assert lines["李娜"]["flags"] == {"forbidden_phrase": 1}
    assert lines["王芳"]["weeks"] == [{"week": "2026-W49", "scored": 1, "average": 100.0}]
    code, out, _ = hotline(capsys, "qa", "report", "--from", "2026-11-30", "--to", "2026-12-06",
                           "--by", "team")  # fmt: skip
    assert out.splitlines()[1].split()[:4] == ["team-a", "2", "95", "0"]

    code, out, _ = hotline(capsys, "qa", "flagged", "--from", "2026-11-30", "--to", "2026-12-06",
                           "--purpose", "纪检-3", "--text", "不归", "--format", "json")  # fmt: skip
    assert code == 0
    (f,) = json.loads(out)
    assert (f["call_id"], f["rule"], f["start_ms"], f["text"]) == ("c03", "forbidden_phrase", 9400,
                                                                   "不归我们管")  # fmt: skip


@pytest.mark.parametrize(
    ("args", "expected", "code"),
    [
        (["sample", "--week", "2026-49"], "write a week as YYYY-Www", 2),
        (["score", "c00", "--form", "nope", "--item", "a=1"], "no form 'nope'", 2),
        (["score", "c00", "--item", "greeting"], "write KEY=VALUE", 2),
        (["score", "c00", "--item", "greeting=11"], "greeting: '11': give whole points", 2),
        (["score", "zz", *GOOD.split()[1:]], "no answered call 'zz'", 1),
        (["appeal", "open", "99", "--by", "王芳", "--reason", "x"], "no score 99", 1),
        (["appeal", "settle", "99", "--uphold", "--item", "a=1"], "one of them", 2),
        (["report", "--from", "2026-12-06", "--to", "2026-11-30"], "is not after", 2),
    ],
)
def test_bad_review_commands_say_why(
    db: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str, code: int
) -> None:
    got, out, err = hotline(capsys, "qa", *args)
    assert (got, out) == (code, "")
    assert expected in err, err
