"""``hotline qa forms|sample|score|appeal|report|flagged``: reviews of calls by the centre's
forms (the ``qa:`` section of center.yaml), in the history's database.

    hotline qa forms [--format table|json]
    hotline qa sample --week 2026-W49 [--seed 0] [--purpose TEXT] [--format table|json]
    hotline qa score CALL_ID --item greeting=10 --item dismissive=pass ... [--form service]
        [--by REVIEWER] [--note TEXT]
    hotline qa appeal open SCORE_ID --by AGENT --reason TEXT
    hotline qa appeal settle APPEAL_ID --by REVIEWER (--uphold | --item K=V ...) [--note TEXT]
    hotline qa appeal list [--state open|upheld|revised] [--agent NAME] [--format table|json]
    hotline qa report --from 2026-11-01 --to 2026-11-30 [--by agent|team] [--format table|json]
    hotline qa flagged --from D --to D --purpose CASE [--rule R] [--agent NAME] [--text WORDS]
        [--unmask]

``sample`` runs the flag rules over every answered call of the week that has a transcript,
stores what they found, and draws the week's sample (a share of each agent's calls, plus
every flagged call: :mod:`hotline.qa.sampling`); reading the transcripts goes into the
access log, and so does ``flagged`` (the evidence is the citizen's and the agent's words,
personal numbers masked unless ``--unmask``). ``score`` answers every item of the form
(points, or pass/fail for a critical item); an agent appeals their score and a second
reviewer settles it, upholding it or giving a revised score that replaces it. ``report``
counts the effective scores of the calls answered in the period. Dates are Asia/Shanghai
days, both included.
"""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path
from typing import Any

from hotline.center.config import Center
from hotline.cli.common import (
    DB_HELP,
    CLIError,
    center_file,
    db_path,
    failures,
    local_time,
    log_read,
    parse_when,
    print_json,
)
from hotline.core.termtable import table
from hotline.host.clock import wall_ms
from hotline.host.settings import Database, Settings
from hotline.qa.forms import Form, FormError, score_call
from hotline.qa.report import report
from hotline.qa.sampling import SampledCall, sample, week_bounds
from hotline.stores.access import AccessError
from hotline.stores.history import History
from hotline.stores.qa import QaStore, QaStoreError, Score, StoredScore
from hotline.stores.transcripts import TranscriptStore
from hotline.stt.flagging import flag_call
from hotline.transcripts import redact, turns

__all__ = ["add_parsers", "run"]


def add_parsers(ps: Any) -> None:
    """The review commands under ``hotline qa``."""
    f = ps.add_parser("forms", help="the scoring forms of the centre file")
    _common(f)

    s = ps.add_parser("sample", help="flag a week's calls and draw the calls to review")
    s.add_argument("--week", required=True, help="an ISO week: 2026-W49 (Asia/Shanghai)")
    s.add_argument("--seed", type=int, default=0, help="the same seed draws the same calls")
    s.add_argument("--purpose", help="logged with the transcripts read (default: 质检抽样 WEEK)")
    _common(s, db=True)

    c = ps.add_parser("score", help="score a call by a form")
    c.add_argument("call_id")
    c.add_argument("--form", default="service", help="the form's name (default: service)")
    c.add_argument("--item", action="append", default=[], metavar="KEY=VALUE",
                   help="points, or pass|fail for a critical item (every item)")  # fmt: skip
    c.add_argument("--by", help="the reviewer (default: the OS user)")
    c.add_argument("--note", default="")
    _common(c, db=True)

    a = ps.add_parser("appeal", help="an agent appeals a score; a second reviewer settles it")
    aps = a.add_subparsers(dest="appeal_command", required=True)
    o = aps.add_parser("open", help="appeal a score (the agent it is of)")
    o.add_argument("score_id", type=int)
    o.add_argument("--by", required=True, help="the agent (their name)")
    o.add_argument("--reason", required=True)
    _common(o, db=True)
    t = aps.add_parser("settle", help="uphold the score or revise it (another reviewer)")
    t.add_argument("appeal_id", type=int)
    t.add_argument("--by", help="the second reviewer (default: the OS user)")
    t.add_argument("--uphold", action="store_true", help="the score stands")
    t.add_argument("--item", action="append", default=[], metavar="KEY=VALUE",
                   help="the revised score's answers (every item)")  # fmt: skip
    t.add_argument("--note", default="", help="the decision, in words")
    _common(t, db=True)
    li = aps.add_parser("list", help="appeals")
    li.add_argument("--state", choices=["open", "upheld", "revised"])
    li.add_argument("--agent")
    _common(li, db=True)

    r = ps.add_parser("report", help="per agent or team: scores, failed items, flags, weeks")
    r.add_argument("--from", dest="since", required=True, help="YYYY-MM-DD (Asia/Shanghai)")
    r.add_argument("--to", dest="until", required=True, help="YYYY-MM-DD (included)")
    r.add_argument("--by", dest="group", choices=["agent", "team"], default="agent")
    _common(r, db=True)

    g = ps.add_parser("flagged", help="flagged calls with their evidence, for inspectors")
    g.add_argument("--from", dest="since", required=True, help="YYYY-MM-DD (Asia/Shanghai)")
    g.add_argument("--to", dest="until", required=True, help="YYYY-MM-DD (included)")
    g.add_argument("--rule")
    g.add_argument("--agent")
    g.add_argument("--text", help="words in the evidence")
    g.add_argument("--unmask", action="store_true", help="personal numbers shown (logged)")
    g.add_argument("--purpose", required=True, help="why: the case / 工单 number (logged)")
    _common(g, db=True)


def _common(p: argparse.ArgumentParser, *, db: bool = False) -> None:
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--center", type=Path, help="the centre file (default: HOTLINE_CENTER)")
    if db:
        p.add_argument("--db", help=DB_HELP)


def run(settings: Settings, args: argparse.Namespace) -> int:
    commands = {"forms": _forms, "sample": _sample, "score": _score, "appeal": _appeal,
                "report": _report, "flagged": _flagged}  # fmt: skip
    with failures(QaStoreError, AccessError):
        return commands[args.qa_command](settings, args)


def _center(settings: Settings, args: argparse.Namespace) -> Center:
    return center_file(args.center or settings.center, code=2)


def _open(settings: Settings, args: argparse.Namespace) -> tuple[Database, QaStore]:
    db = db_path(settings, args.db)
    return db, QaStore.open(db)


def _period(args: argparse.Namespace) -> tuple[int, int]:
    since, until = parse_when(args.since), parse_when(args.until, end=True)
    if until <= since:
        raise CLIError(f"--to {args.until} is not after --from {args.since}", 2)
    return since, until


# -- forms -----------------------------------------------------------------------------------


def _forms(settings: Settings, args: argparse.Namespace) -> int:
    forms = _center(settings, args).qa.forms
    if args.format == "json":
        print_json([f.doc() for f in forms.values()])
        return 0
    for form in forms.values():
        print(f"{form.name} v{form.version}  {form.label}  ({form.points} points)")
        rows = [[i.key, i.label, "critical" if i.critical else str(i.weight)] for i in form.items]
        print(table(["item", "label", "weight"], rows, right={2}))
        print()
    return 0


# -- sample ----------------------------------------------------------------------------------


def _sample(settings: Settings, args: argparse.Namespace) -> int:
    try:
        since, until = week_bounds(args.week)
    except ValueError as exc:
        raise CLIError(str(exc), 2) from None
    center = _center(settings, args)
    db, store = _open(settings, args)
    history = History.open(db)
    transcripts = TranscriptStore.open(db)
    try:
        answered = [c for c in history.calls(since, until) if c.agent and c.t_answer is not None]
        candidates, flagged, read = [], set(), []

        def team_of(name: str) -> str:
            agent = center.agent(name)
            return agent.team if agent is not None else ""

        for call in answered:
            candidates.append(SampledCall(call.call_id, call.agent, call.t_answer or 0))
            found = flag_call(history, transcripts, store, center.qa.flags, team_of, call.call_id)
            if found is None:
                continue  # not transcribed (yet): nothing read
            read.append(call.call_id)
            if found:
                flagged.add(call.call_id)
        purpose = args.purpose or f"质检抽样 {args.week}"
        log_read(db, "qa-sample", args.week, purpose, {"calls": read})
        picks = sample(candidates, flagged, center.qa.sampling, args.seed)
        store.save_sample(args.week, picks, seed=args.seed, at=wall_ms())
    finally:
        transcripts.close()
        history.close()
        store.close()
    if args.format == "json":
        print_json({"week": args.week, "seed": args.seed, "calls": len(candidates),
                    "transcribed": len(read), "flagged": sorted(flagged),
                    "sample": [{"call_id": p.call_id, "agent": p.agent, "reason": p.reason}
                               for p in picks]})  # fmt: skip
        return 0
    print(f"{args.week}: {len(candidates)} answered calls, {len(read)} transcribed, "
          f"{len(flagged)} flagged; {len(picks)} to review (seed {args.seed})")  # fmt: skip
    if picks:
        print(table(["agent", "call", "why"], [[p.agent, p.call_id, p.reason] for p in picks]))
    return 0


# -- score and appeal ------------------------------------------------------------------------


def _answers(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in items:
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            raise CLIError(f"--item {raw!r}: write KEY=VALUE (greeting=10, dismissive=pass)", 2)
        if key.strip() in out:
            raise CLIError(f"--item {key.strip()} is given twice", 2)
        out[key.strip()] = value
    return out


def _form(center: Center, name: str) -> Form:
    form = center.qa.forms.get(name)
    if form is None:
        known = ", ".join(sorted(center.qa.forms)) or "none"
        raise CLIError(f"no form {name!r} in the centre file (forms: {known})", 2)
    return form


def _scored(form: Form, answers: dict[str, str]) -> tuple[float, tuple[str, ...], dict[str, int]]:
    try:
        result = score_call(form, answers)
    except FormError as exc:
        lines = "\n".join(f"  {p}" for p in exc.problems)
        raise CLIError(f"the answers do not fit {form.name} v{form.version}:\n{lines}", 2) from None
    return result.total, result.failed, dict(result.points)


def _show_score(s: StoredScore, fmt: str) -> None:
    if fmt == "json":
        print_json(s.doc())
        return
    sc = s.score
    verdict = f"FAILED ({', '.join(sc.failed)})" if sc.failed else "passed"
    print(f"score {s.id}: call {sc.call_id}, {sc.agent} ({sc.team or '-'}), {s.form} "
          f"v{s.version}, by {sc.reviewer}: {sc.total:g} {verdict}")  # fmt: skip


def _score(settings: Settings, args: argparse.Namespace) -> int:
    center = _center(settings, args)
    form = _form(center, args.form)
    total, failed, points = _scored(form, _answers(args.item))
    db, store = _open(settings, args)
    history = History.open(db)
    try:
        call = history.call(args.call_id)
        if call is None or not call.agent:
            raise CLIError(f"no answered call {args.call_id!r} in {db}")
        agent = center.agent(call.agent)
        now = wall_ms()
        score = Score(call.call_id, call.agent, agent.team if agent else "",
                      call.t_answer or call.t_arrival or 0, args.by or getpass.getuser(), now,
                      total, failed, points, args.note)  # fmt: skip
        stored = store.score(store.add_score(score, form))
    finally:
        history.close()
        store.close()
    assert stored is not None
    _show_score(stored, args.format)
    return 0


def _appeal(settings: Settings, args: argparse.Namespace) -> int:
    _, store = _open(settings, args)
    try:
        if args.appeal_command == "open":
            if not args.reason.strip():
                raise CLIError("say why (--reason): the second reviewer reads it", 2)
            appeal_id = store.open_appeal(args.score_id, by=args.by, reason=args.reason,
                                          at=wall_ms())  # fmt: skip
            print(f"appeal {appeal_id} of score {args.score_id} is open")
            return 0
        if args.appeal_command == "list":
            appeals = store.appeals(args.state, args.agent)
            if args.format == "json":
                print_json([a.doc() for a in appeals])
                return 0
            rows = [[str(a.id), str(a.score_id), a.agent, local_time(a.t_opened), a.state,
                     a.settled_by or "-", a.reason] for a in appeals]  # fmt: skip
            print(table(["appeal", "score", "agent", "opened", "state", "settled by", "reason"],
                        rows))  # fmt: skip
            return 0
        return _settle(settings, args, store)
    finally:
        store.close()


def _settle(settings: Settings, args: argparse.Namespace, store: QaStore) -> int:
    if args.uphold == bool(args.item):
        raise CLIError("give --uphold, or the revised score's --item answers (one of them)", 2)
    by = args.by or getpass.getuser()
    now = wall_ms()
    if args.uphold:
        appeal = store.settle(args.appeal_id, by=by, at=now, decision=args.note)
    else:
        old = next((a for a in store.appeals() if a.id == args.appeal_id), None)
        if old is None:
            raise CLIError(f"no appeal {args.appeal_id}")
        original = store.score(old.score_id)
        assert original is not None
        form = _form(_center(settings, args), original.form)
        if form.version != original.version:
            previous = store.form(original.form, original.version)
            form = previous if previous is not None else form
        total, failed, points = _scored(form, _answers(args.item))
        s = original.score
        revised = Score(s.call_id, s.agent, s.team, s.t_call, by, now, total, failed, points,
                        args.note)  # fmt: skip
        appeal = store.settle(args.appeal_id, by=by, at=now, decision=args.note,
                              revised=revised, form=form)  # fmt: skip
    if args.format == "json":
        print_json(appeal.doc())
        return 0
    if appeal.new_score is None:
        print(f"appeal {appeal.id}: upheld by {appeal.settled_by}")
    else:
        print(f"appeal {appeal.id}: revised by {appeal.settled_by}, score {appeal.new_score} "
              f"replaces score {appeal.score_id}")  # fmt: skip
        stored = store.score(appeal.new_score)
        assert stored is not None
        _show_score(stored, "table")
    return 0


# -- report and flagged ----------------------------------------------------------------------


def _report(settings: Settings, args: argparse.Namespace) -> int:
    since, until = _period(args)
    _, store = _open(settings, args)
    try:
        lines = report(store.score_rows(since, until), store.flag_rows(since, until), args.group)
    finally:
        store.close()
    if args.format == "json":
        print_json({"from": args.since, "to": args.until, "by": args.group,
                    "lines": [ln.doc() for ln in lines]})  # fmt: skip
        return 0
    rows = []
    for ln in lines:
        failed = ", ".join(f"{k} {n}" for k, n in sorted(ln.failed_items.items())) or "-"
        flags = ", ".join(f"{k} {n}" for k, n in sorted(ln.flags.items())) or "-"
        trend = " ".join(f"{w[5:]}:{a:g}" for w, _, a in ln.trend()) or "-"
        average = f"{ln.average:g}" if ln.average is not None else "-"
        rows.append([ln.key, str(ln.scored), average, str(ln.failed_calls), failed, flags, trend])
    print(table([args.group, "scored", "average", "failed", "failed items", "flags",
                 "weeks (average)"], rows, right={1, 2, 3}, limit=60))  # fmt: skip
    return 0


def _flagged(settings: Settings, args: argparse.Namespace) -> int:
    if not args.purpose.strip():
        raise CLIError("say why you look (--purpose CASE): it goes into the access log", 2)
    since, until = _period(args)
    db, store = _open(settings, args)
    try:
        found = store.flags(since, until, rule=args.rule, agent=args.agent, text=args.text)
    finally:
        store.close()
    detail = {"from": args.since, "to": args.until, "rule": args.rule, "agent": args.agent,
              "text": args.text, "calls": sorted({f["call_id"] for f in found})}  # fmt: skip
    log_read(db, "qa-flagged", args.text or "", args.purpose, detail)
    if args.unmask:
        log_read(db, "unmask", args.text or "", args.purpose, detail)
    if not args.unmask:
        found = [{**f, "text": redact.mask(f["text"]), "detail": redact.mask(f["detail"])}
                 for f in found]  # fmt: skip
    if args.format == "json":
        print_json(found)
        return 0
    rows = [[f["call_id"], f["agent"], f["rule"], f["item"] or "-", turns.clock(f["start_ms"]),
             f["text"] or "-", f["detail"]] for f in found]  # fmt: skip
    print(f"{len(found)} flags")
    if rows:
        print(table(["call", "agent", "rule", "item", "at", "words", "detail"], rows, limit=60))
    return 0
