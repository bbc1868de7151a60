"""The QA flag rules on generated calls with known labels: precision and recall per rule.

    .venv/bin/python bench/qa_flags.py                 # --calls 2000 --seed 7

Each generated call is a list of turns (an agent greeting, a citizen's matter, the agent's
answer, maybe more, a closing) where each rule's label is drawn on its own (about one call
in three is a positive of a rule). Positives come in the variants transcripts really have:
a phrase inside a longer sentence, Vosk's spaces between words, punctuation and filler
sounds inside a phrase, 12345 read as 幺二三四五 or written full-width, and some wordings no
list has (so recall is honest). Negatives include what only looks close: "有没有办法",
"想办法", the citizen (not the agent) saying a forbidden phrase, "第一次打", "打了两次架", an
overlap or a silence just under its threshold, a citizen who talks over the agent.

Reported per rule, at the level of the call (did the rule flag the call?): positives,
negatives, precision and recall of hotline (``hotline.qa.flags.flag`` with the centre
file's rules) and of the naive peer: the same rules, but phrases found by plain substring
search of the configured phrase lists in the raw text (no normalization, no regex, no
exceptions). The timing rules (talk-over, silence, raised voice) are the same code for both.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hotline.center.config import load_center
from hotline.qa.flags import FlagConfig, PhraseGroup, QaTurn, RuleId, flag
from hotline.qa.text import Matcher
from hotline.recordings.leg import Leg
from hotline.transcripts.turns import Turn

CENTER = Path(__file__).resolve().parents[1] / "src/hotline/center/center.yaml"

GREET_YES = [
    "您好，12345政务服务热线，{n}号为您服务",
    "你好，12345热线，请讲",
    "您好，请问有什么可以帮您",
    "您好 幺 二 三 四 五 热线 请 讲",
    "嗯，您好，请讲",
]
GREET_NO = ["喂，说吧", "喂？请讲", "12345热线，什么事", "嗯，你说", "请讲，什么问题"]
CLOSE_YES = [
    "感谢您的来电，再见",
    "好的，祝您生活愉快，再见",
    "谢谢来电",
    "感谢 您 的 来电 再见",
    "那先这样，再见啊",
]
CLOSE_NO = ["好的就这样", "行，那挂了", "嗯", "好，知道了", "我们会尽快处理的"]
MATTERS = [
    "我家楼下的烧烤店晚上太吵了",
    "小区电梯坏了一个礼拜没人修",
    "我在工地干了三个月老板不给工资",
    "我们这栋楼停水两天了",
    "请问办居住证要带什么材料",
    "路边的井盖丢了很危险",
]
ANSWERS = [
    "好的，我帮您记录下来，转给相关部门处理",
    "这个问题我们会派单给街道办",
    "请您留一下联系电话",
    "我们会在三个工作日内给您回复",
    "好的，已经给您登记了工单",
]

# what the agent says: dismissive or rude (yes), unseen by the lists, close but fine (no)
FORBIDDEN_YES = [
    "这个不归我们管",
    "这个不是我们管的，你找别人",
    "你自己去问吧",
    "您自己去问问他们",
    "我们也没办法",
    "这个真没有办法",
    "12345能办什么事？你自己想想",
    "幺二三四五能办什么事啊",
    "１２３４５能干什么，你说",
    "你烦不烦啊",
    "不属于我们这边负责",
    "这事儿我们办不了",
]
FORBIDDEN_UNSEEN = ["这事儿我们管不着", "你去别的地方问问吧", "跟我说没用", "爱找谁找谁去"]
FORBIDDEN_NO = [
    "请问有没有办法先帮我登记一下",
    "我们一起想办法帮您解决",
    "如果您那边没办法的话我们再联系",
    "这个归我们管，您放心",
    "12345热线就是为您办事的",
    "这个问题我们会尽快办理",
    "您可以自己去问一下物业吗",
    "我去问问我们领导",
    "有什么办法我们都会试试",
]
FORBIDDEN_HARD_NO = ["不是我们管不了，是需要您提供材料", "不是我们管的不好，是程序需要时间"]
REPEAT_YES = [
    "我都打了好几次了",
    "这是我第三次打电话了",
    "我打了三四次了",
    "我又打来了，还是没人管",
    "上次打过一次，说会处理的",
    "都打过好多回了",
    "第二次来电了",
]
REPEAT_UNSEEN = ["我已经反映过很多回了", "之前反映过没有用"]
REPEAT_NO = [
    "我是第一次打",
    "打一次就行了吗",
    "我打算明天去现场看看",
    "我打过去没人接",
    "好几次都没修好",
]
REPEAT_HARD_NO = ["我家邻居打了两次架", "他又打来骚扰电话"]
CITIZEN_FORBIDDEN = ["上次那个人说不归他们管", "你们12345能办什么事啊"]


def vary(text: str, rng: random.Random) -> str:
    """TEXT as a transcript might have it."""
    kind = rng.randrange(5)
    if kind == 1:  # Vosk: words with spaces, no punctuation
        chars = [c for c in text if c not in "，。？！、"]
        out, i = [], 0
        while i < len(chars):
            step = rng.choice([1, 2, 2, 3])
            out.append("".join(chars[i : i + step]))
            i += step
        return " ".join(out)
    if kind == 2:  # a filler or a comma inside
        at = rng.randrange(1, max(2, len(text)))
        return text[:at] + rng.choice(["，", "嗯", "啊，", "、"]) + text[at:]
    if kind == 3:
        return text.replace("12345", "幺二三四五")
    return text


@dataclass
class Call:
    turns: list[QaTurn]
    labels: dict[RuleId, bool]


class Timeline:
    def __init__(self, rng: random.Random, energies: bool) -> None:
        self.rng, self.t, self.turns, self.energies = rng, 0.0, list[QaTurn](), energies

    def say(
        self,
        who: str,
        text: str,
        *,
        gap: float | None = None,
        energy: float = 0.0,
        seconds: float | None = None,
        at: float | None = None,
    ) -> tuple[float, float]:
        start = (
            at
            if at is not None
            else self.t + (gap if gap is not None else self.rng.uniform(0.3, 1.5))
        )
        end = start + (seconds if seconds is not None else max(1.0, len(text) * 0.22))
        leg = Leg.AGENT if who == "a" else Leg.CALLER
        base = -30.0 if who == "a" else -26.0
        e = base + self.rng.uniform(-2, 2) + energy if self.energies else None
        self.turns.append(QaTurn(Turn(leg, round(start * 1000), round(end * 1000), text, ()), e))
        self.t = max(self.t, end)
        return start, end


def generate(rng: random.Random) -> Call:
    labels = {rule: rng.random() < 0.33 for rule in RuleId}
    loud = labels[RuleId.RAISED_VOICE]
    tl = Timeline(rng, energies=loud or rng.random() < 0.7)
    if labels[RuleId.GREETING_MISSING]:
        if rng.random() < 0.3:  # the citizen waits: the agent greets too late
            tl.say("c", "喂？喂？有人吗？请问是12345吗", at=0.0, seconds=rng.uniform(11, 14))
            tl.say("a", rng.choice(GREET_YES[:3]).format(n=rng.randint(1, 99)), gap=0.5)
        else:
            tl.say("a", vary(rng.choice(GREET_NO), rng), at=0.3)
    else:
        tl.say("a", vary(rng.choice(GREET_YES).format(n=rng.randint(1, 99)), rng), at=0.3)
    matter = rng.choice(MATTERS)
    if labels[RuleId.REPEAT_CALLER]:
        said = rng.choice(REPEAT_UNSEEN) if rng.random() < 0.15 else rng.choice(REPEAT_YES)
        matter = vary(said, rng) + "，" + matter
    elif rng.random() < 0.4:
        said = rng.choice(REPEAT_HARD_NO) if rng.random() < 0.15 else rng.choice(REPEAT_NO)
        matter = matter + "，" + vary(said, rng)
    elif rng.random() < 0.15:
        matter = rng.choice(CITIZEN_FORBIDDEN) + "，" + matter
    c_start, c_end = tl.say("c", matter)
    if labels[RuleId.TALK_OVER]:  # the agent cuts in, 2-5 s before the citizen stops
        over = rng.uniform(1.8, 5.0)
        tl.say("a", "知道了知道了，你听我说", at=max(c_start + 0.5, c_end - over))
    elif rng.random() < 0.3:  # a short "嗯嗯" over the citizen, under the threshold
        tl.say("a", "嗯嗯", at=c_end - rng.uniform(0.2, 1.2), seconds=1.0)
    answer = rng.choice(ANSWERS)
    if labels[RuleId.FORBIDDEN_PHRASE]:
        answer = vary(rng.choice(FORBIDDEN_UNSEEN if rng.random() < 0.15 else FORBIDDEN_YES), rng)
    elif rng.random() < 0.5:
        answer = vary(rng.choice(FORBIDDEN_HARD_NO if rng.random() < 0.1 else FORBIDDEN_NO), rng)
    gap = rng.uniform(16, 60) if labels[RuleId.LONG_SILENCE] else rng.uniform(0.3, 14.0)
    tl.say("a", answer, gap=gap, energy=rng.uniform(9, 15) if loud else rng.uniform(0, 5))
    if rng.random() < 0.3:  # the citizen talks over the agent: not the agent's fault
        a_start, a_end = tl.turns[-1].turn.start_ms / 1000, tl.turns[-1].turn.end_ms / 1000
        tl.say("c", "等一下，我还没说完", at=a_start + 0.3, seconds=max(2.5, a_end - a_start))
    tl.say("c", rng.choice(["好的谢谢", "那行吧", "嗯，知道了"]))
    closing = rng.choice(CLOSE_NO) if labels[RuleId.CLOSING_MISSING] else rng.choice(CLOSE_YES)
    tl.say("a", vary(closing, rng))
    return Call(tl.turns, labels)


@dataclass(frozen=True, slots=True)
class Substring(Matcher):
    """The naive peer: the literal phrases, found by ``str.find`` in the raw text."""

    phrases: tuple[str, ...] = ()

    def find(self, text: str) -> list[tuple[int, int]]:
        out = []
        for p in self.phrases:
            at = text.find(p)
            if at >= 0:
                out.append((at, at + len(p)))
        return out


def naive(cfg: FlagConfig, lists: dict[str, tuple[str, ...]]) -> FlagConfig:
    def m(key: str) -> Substring:
        return Substring(None, None, lists[key])

    groups = tuple(PhraseGroup(g.name, g.label, m(g.name)) for g in cfg.groups)
    return dataclasses.replace(
        cfg, groups=groups, greeting=m("greeting"), closing=m("closing"), repeat=m("repeat")
    )


def phrase_lists() -> dict[str, tuple[str, ...]]:
    import yaml

    qa = yaml.safe_load(CENTER.read_text(encoding="utf-8"))["qa"]["flags"]
    lists = {name: tuple(g["phrases"]) for name, g in qa["forbidden_phrase"]["groups"].items()}
    lists["greeting"] = tuple(qa["greeting_missing"]["phrases"])
    lists["closing"] = tuple(qa["closing_missing"]["phrases"])
    lists["repeat"] = tuple(qa["repeat_caller"]["phrases"])
    return lists


def score(
    calls: list[Call], run: Callable[[list[QaTurn]], set[RuleId]]
) -> dict[RuleId, Counter[str]]:
    out = {rule: Counter[str]() for rule in RuleId}
    for call in calls:
        fired = run(call.turns)
        for rule in RuleId:
            truth, got = call.labels[rule], rule in fired
            out[rule]["tp" if truth and got else "fp" if got else "fn" if truth else "tn"] += 1
    return out


def pr(c: Counter[str]) -> str:
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else float("nan")
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else float("nan")
    return f"{p:.3f} / {r:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    calls = [generate(rng) for _ in range(args.calls)]
    cfg = load_center(CENTER.read_text(encoding="utf-8")).qa.flags
    peer = naive(cfg, phrase_lists())
    t0 = time.perf_counter()
    ours = score(calls, lambda turns: {f.rule for f in flag(turns, cfg)})
    t1 = time.perf_counter()
    theirs = score(calls, lambda turns: {f.rule for f in flag(turns, peer)})
    t2 = time.perf_counter()
    print(f"{args.calls} calls, seed {args.seed}, {sum(len(c.turns) for c in calls)} turns")
    print("| rule | positives | negatives | hotline P / R | naive substring P / R |")
    print("|---|---:|---:|---:|---:|")
    for rule in RuleId:
        c = ours[rule]
        pos, neg = c["tp"] + c["fn"], c["tn"] + c["fp"]
        print(f"| {rule.value} | {pos} | {neg} | {pr(c)} | {pr(theirs[rule])} |")
    n = args.calls
    print(
        f"time per call: hotline {(t1 - t0) / n * 1e6:.0f} µs, naive {(t2 - t1) / n * 1e6:.0f} µs"
    )


if __name__ == "__main__":
    main()
