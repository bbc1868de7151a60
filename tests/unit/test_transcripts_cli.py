"""`hotline transcripts search|show`, `hotline access`, `hotline retention` on a real file:
masked unless --unmask, every access logged with its purpose, disposal of real files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from hotline.cli.main import main
from hotline.core.records import CallRecord, QueueVisit
from hotline.recordings.leg import Leg, Recording
from hotline.stores import transcript_search
from hotline.stores.access import AccessEntry, AccessLog
from hotline.stores.history import History
from hotline.stores.transcripts import TranscriptStore
from hotline.transcripts.transcript import Transcript, Word

from .columns import line_up

T0 = 1_795_463_379_000  # 2026-11-24 03:49:39 in Shanghai
CALLER = [("我", 1500), ("要", 1600), ("投诉", 1700), ("物业", 2100), ("噪音", 2900),
          ("电话", 5200), ("一三八", 5500), ("一二三四", 6000), ("五六七八", 6600)]  # fmt: skip
AGENT = [("您好", 0), ("请讲", 400), ("好的", 9000), ("记录", 9300)]


def legs(call_id: str, which: Leg, words: list[tuple[str, int]]) -> Transcript:
    timed = tuple(Word(w, t, t + 300, 0.9) for w, t in words)
    return Transcript(call_id, which, "vosk", "vosk-model-cn", "zh",
                      " ".join(w for w, _ in words), timed, 20_000)  # fmt: skip


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "h.sqlite3"
    monkeypatch.setenv("HOTLINE_DB", str(db))
    monkeypatch.setenv("HOTLINE_RUN_DIR", str(tmp_path / "run"))
    history = History.open(db)
    history.save_calls([
        CallRecord("c1", caller="13812345678", t_arrival=T0, t_end=T0 + 90_000, tag="inquiry",
                   agent="王芳", visits=(QueueVisit("property", T0 + 5000),)),
        CallRecord("c2", caller="13900001111", t_arrival=T0 + 86_400_000,
                   t_end=T0 + 86_490_000, tag="complaint", agent="李娜",
                   visits=(QueueVisit("intake", T0 + 86_405_000),)),
    ])  # fmt: skip
    spool = tmp_path / "spool"
    spool.mkdir()
    recordings = []
    for call in ("c1", "c2"):
        for leg in (Leg.CALLER, Leg.AGENT):
            path = spool / f"{call}-{leg.value}.wav"
            path.write_bytes(f"RIFF {call} {leg.value}".encode())
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            recordings.append(Recording(call, leg, str(path), path.stat().st_size, 1000, sha))
    history.save_recordings(recordings, at=T0 + 100_000)
    history.close()
    store = TranscriptStore.open(db)
    store.save(legs("c1", Leg.CALLER, CALLER))
    store.save(legs("c1", Leg.AGENT, AGENT))
    store.save(legs("c2", Leg.CALLER, [("物业", 0), ("电梯", 400)]))
    store.close()
    return db


def hotline(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def logged(db: Path) -> list[tuple[str, str, str, str]]:
    return [(e.entry.action, e.entry.target, e.entry.purpose, e.entry.role)
            for e in AccessLog.open(db).entries()]  # fmt: skip


def test_search_is_masked_marked_and_logged(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = hotline(capsys, "transcripts", "search", "物业", "--purpose", "工单2026-1234")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "2 transcribed legs match (showing 1-2)"
    assert lines[1].split() == [
        "2026-11-25", "03:49:44", "c2", "市民", "intake", "李娜", "139****1111", "@00:00.0",
    ]  # fmt: skip
    assert "138****5678" in out
    assert "13812345678" not in out
    assert "投诉 【物业】 噪音 电话 一三八 **** 五六七八" in out
    assert logged(db) == [("search", "物业", "工单2026-1234", "cli")]
    (entry,) = AccessLog.open(db).entries()
    assert json.loads(entry.entry.detail)["calls"] == ["c1", "c2"]


def test_unmask_shows_the_numbers_and_is_logged(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = hotline(capsys, "transcripts", "search", "电话", "--purpose", "P-1", "--unmask")
    assert code == 0
    assert "一三八 一二三四 五六七八" in out
    assert "13812345678" in out
    assert logged(db) == [("search", "电话", "P-1", "cli"), ("unmask", "电话", "P-1", "cli")]


def test_filters_and_json(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["transcripts", "search", "物业", "--purpose", "P", "--format", "json"]
    docs = {}
    for name, extra in {
        "ext": ["--agent", "1001"],  # 王芳's extension (center.yaml)
        "day": ["--from", "2026-11-25", "--to", "2026-11-25"],
        "queue": ["--queue", "property", "--leg", "caller"],
        "agent-leg": ["--leg", "agent"],
        "caller": ["--caller", "13900001111"],
    }.items():
        code, out, _ = hotline(capsys, *args, *extra)
        assert code == 0
        docs[name] = json.loads(out)
    assert [h["call_id"] for h in docs["ext"]["hits"]] == ["c1"]
    assert docs["ext"]["filters"]["agent"] == "王芳"
    assert [h["call_id"] for h in docs["day"]["hits"]] == ["c2"]
    assert [(h["call_id"], h["leg"]) for h in docs["queue"]["hits"]] == [("c1", "rx")]
    assert docs["agent-leg"]["total"] == 0
    (hit,) = docs["caller"]["hits"]
    assert hit["caller"] == "139****1111"
    assert hit["snippet"][slice(*hit["marks"][0])] == "物业"
    assert len(logged(db)) == 5


def test_a_total_past_the_cap_is_more_unless_exact(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transcript_search, "COUNT_CAP", 1)  # 物业: 2 legs
    args = ["transcripts", "search", "物业", "--purpose", "P"]
    code, out, _ = hotline(capsys, *args)
    assert (code, out.splitlines()[0]) == (0, "1+ transcribed legs match (showing 1-2)")
    code, out, _ = hotline(capsys, *args, "--format", "json")
    assert (json.loads(out)["total"], json.loads(out)["total_more"]) == (1, True)
    code, out, _ = hotline(capsys, *args, "--format", "json", "--exact-count")
    assert (json.loads(out)["total"], json.loads(out)["total_more"]) == (2, False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--purpose", " "], "say why you look (--purpose CASE)"),
        (["--purpose", "P", "--from", "yesterday"], "'yesterday' is not YYYY-MM-DD"),
        (["--purpose", "P", "--from", "2026-11-25", "--to", "2026-11-24"], "is not after"),
        (["--purpose", "P", "--limit", "5000"], "limit 5000: use 0 to 1000"),
    ],
)
def test_bad_input_is_a_clear_error_and_not_logged(
    db: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = hotline(capsys, "transcripts", "search", "物业", *args)
    assert (code, out) == (1, "")
    assert message in err
    assert logged(db) == []


def test_a_too_long_query_and_a_missing_purpose(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = hotline(capsys, "transcripts", "search", "物" * 300, "--purpose", "P")
    assert code == 1
    assert "300 characters; at most 200" in err
    with pytest.raises(SystemExit) as exit_:
        main(["transcripts", "search", "物业"])
    assert exit_.value.code == 2
    assert "--purpose" in capsys.readouterr().err


def test_show_turns_masked_unless_unmask(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = hotline(capsys, "transcripts", "show", "c1", "--purpose", "P")
    assert code == 0
    assert out.splitlines()[0] == (
        "call c1  2026-11-24 03:49:44  queue property  agent 王芳  caller 138****5678"
    )
    assert "坐席 [00:00.0]: 您好请讲" in out
    assert "市民 [00:01.5]: 我要投诉物业噪音" in out
    assert "市民 [00:05.2]: 电话一三八 **** 五六七八" in out
    code, out, _ = hotline(capsys, "transcripts", "show", "c1", "--purpose", "P", "--unmask",
                           "--format", "json")  # fmt: skip
    doc = json.loads(out)
    assert doc["caller"] == "13812345678"
    assert [t["label"] for t in doc["turns"]] == ["坐席", "市民", "市民", "坐席"]
    assert doc["turns"][2]["text"] == "电话一三八一二三四五六七八"
    assert doc["turns"][2]["words"][0] == ["电话", 5200, 5500]
    code, _, err = hotline(capsys, "transcripts", "show", "nope", "--purpose", "P")
    assert code == 1
    assert "no transcript of call 'nope'" in err
    assert [a[:2] for a in logged(db)] == [
        ("show", "c1"), ("show", "c1"), ("unmask", "c1"), ("show", "nope"),
    ]  # fmt: skip


def test_access_list_and_verify(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hotline(capsys, "transcripts", "search", "物业", "--purpose", "P-9")
    code, out, _ = hotline(capsys, "access", "list", "--format", "json")
    (entry,) = json.loads(out)
    assert (entry["action"], entry["target"], entry["purpose"]) == ("search", "物业", "P-9")
    code, out, _ = hotline(capsys, "access", "verify")
    assert (code, out.split(":")[0]) == (0, "intact")
    log = AccessLog.open(db)
    log.connection.execute("DROP TRIGGER access_log_no_update")
    log.connection.execute("UPDATE access_log SET purpose = 'other'")
    code, _, err = hotline(capsys, "access", "verify")
    assert code == 1
    assert "broken at entry 1" in err


def test_retention_plan_hold_run_release(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spool = tmp_path / "spool"
    code, out, _ = hotline(capsys, "retention", "plan", "--now", "2027-06-01")
    assert code == 0
    assert out.splitlines()[0] == (
        "as of 2027-06-01: 1 calls due (2 files, 2 transcripts), 0 kept on legal hold"
    )
    assert "c1  inquiry  180 days" in out
    code, out, _ = hotline(capsys, "retention", "hold", "c1", "--reason", "信访 2026-88",
                           "--by", "纪检组-李")  # fmt: skip
    assert code == 0
    code, out, _ = hotline(capsys, "retention", "run", "--now", "2027-06-01")
    assert "disposed of 0 calls; 1 kept on legal hold" in out
    assert len(list(spool.iterdir())) == 4
    hotline(capsys, "retention", "release", "c1", "--reason", "结案", "--by", "纪检组-李")
    code, out, _ = hotline(capsys, "retention", "run", "--now", "2027-06-01", "--by", "档案室")
    assert code == 0
    assert "disposed of 1 calls" in out
    assert sorted(p.name for p in spool.iterdir()) == ["c2-rx.wav", "c2-tx.wav"]
    code, out, _ = hotline(capsys, "retention", "disposals", "c1", "--format", "json")
    (record,) = json.loads(out)
    assert record["by"] == "档案室"
    assert {f["outcome"] for f in record["files"]} == {"deleted"}
    code, out, _ = hotline(capsys, "transcripts", "search", "物业", "--purpose", "P")
    assert out.startswith("1 transcribed legs match")  # only c2's is left
    assert hotline(capsys, "retention", "verify")[0] == 0
    code, _, err = hotline(capsys, "retention", "release", "c1", "--reason", "x", "--by", "y")
    assert code == 1
    assert "c1 is not on hold" in err


def test_access_list_lines_up_chinese_names(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = AccessLog.open(db)
    for n, (user, target, purpose) in enumerate(
        [("王芳", "物业", "工单2026-1234"), ("li", "c1", "P-1"), ("纪检组-李", "拖欠工资", "信访")]
    ):
        log.append(AccessEntry(T0 + n, user, "auditor", "search", target, purpose, "{}"))
    log.close()
    code, out, _ = hotline(capsys, "access", "list")
    lines = out.splitlines()
    assert code == 0
    assert line_up(lines, ["search"] * 3), out
    assert line_up(lines, ["物业", "c1", "拖欠工资"]), out
    assert line_up(lines, ["purpose"] * 3), out
    assert line_up(lines, ["{}"] * 3), out


def test_retention_listings_line_up_chinese_names(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for call, by, reason in [("c1", "纪检组-李", "信访 2026-88"), ("c2", "li", "case 7")]:
        assert hotline(capsys, "retention", "hold", call, "--reason", reason, "--by", by)[0] == 0
    code, out, _ = hotline(capsys, "retention", "holds")
    assert code == 0
    assert line_up(out.splitlines(), ["信访", "case"]), out
    code, out, _ = hotline(capsys, "retention", "plan", "--now", "2029-06-01")
    assert code == 0
    assert line_up(out.splitlines()[1:], ["信访", "case"]), out
    for call, by in [("c1", "档案室"), ("c2", "li")]:  # one at a time: two records, two names
        hotline(capsys, "retention", "release", call, "--reason", "结案", "--by", "纪检组-李")
        assert hotline(capsys, "retention", "run", "--now", "2029-06-01", "--by", by)[0] == 0
    code, out, _ = hotline(capsys, "retention", "disposals")
    records = [line for line in out.splitlines() if "#" in line]
    assert code == 0
    assert len(records) == 2, out
    assert line_up(records, ["by 档案室", "by li"]), out
    assert line_up(records, [" on 2", " on 2"]), out


def test_search_hits_line_up_chinese_names(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    History.open(db).save_calls([
        CallRecord("c3", caller="13700002222", t_arrival=T0 + 2000, t_end=T0 + 60_000,
                   agent="li", visits=(QueueVisit("property", T0 + 3000),)),
    ])  # fmt: skip
    store = TranscriptStore.open(db)
    store.save(legs("c3", Leg.CALLER, [("物业", 0)]))
    store.close()
    code, out, _ = hotline(capsys, "transcripts", "search", "物业", "--purpose", "P")
    hits = [line for line in out.splitlines()[1:] if not line.startswith("    ")]
    assert code == 0
    assert sorted(line.split()[5] for line in hits) == ["li", "李娜", "王芳"]
    assert line_up(hits, ["****"] * 3), out
