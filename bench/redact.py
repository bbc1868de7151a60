"""Masking personal numbers that speech-to-text got slightly wrong: how many still show.

    .venv/bin/python bench/redact.py                 # --numbers 10000 --seed 7

10,000 personal numbers (ID cards, mobiles, bank cards, landlines with an area code), each
perturbed as an engine mishears: one or two digits changed, dropped or doubled, then written
as engines write them (solid, grouped, Chinese digits, spaced, English words, groups read
with units like 一百三十八, mixed digits and words), inside a generated sentence. A number
*shows* when more than 8 of its digits are visible after masking (the most the masking
policy keeps: 4 + 4 of a bank card). Also 10,000 ordinary numbers (dates, amounts, house
numbers, times, counts, ticket numbers) to count false masks.

The peer, in the same run: a naive scan that masks every run of 7 or more ASCII digits
(what a regular expression over the text does). Reported: numbers shown, false masks,
and the time per sentence of each.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections import Counter
from collections.abc import Callable

from hotline.transcripts.redact import id_check_char, luhn_ok, mask

ZH = dict(zip("0123456789", "零一二三四五六七八九", strict=True))
NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
EN = dict(zip("0123456789", NAMES, strict=True))
UNITS_DIGIT = "零一二三四五六七八九"
AROUND = [
    "我的{}。",
    "号码是 {} 谢谢",
    "请记一下{}，好吗",
    "{}",
    "身份证号{}对",
    "卡号是{}",
    "电话{}",
]
ORDINARY = [
    "{y}年{m}月{d}日", "{h}点{mi}分", "{a}元", "{n}号楼{r}室", "共{c}个人", "工单号{t}",
    "{y}-{m2}-{d2}", "第{c}次", "{a}块钱", "{n}号", "{y}-{m2}-{d2} {h}:{mi:02d}",
    "邮编{zip}", "合同金额{big}元", "工单号{y}{m2}{d2}{t:04d}",  # the last two: 7+ digits
]  # fmt: skip


def _id(rng: random.Random) -> str:
    body = f"{rng.randint(110000, 659999)}{rng.randint(1950, 2010)}{rng.randint(1, 12):02d}"
    body += f"{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return body + id_check_char(body)


def _mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def _card(rng: random.Random) -> str:
    body = "62" + "".join(rng.choice("0123456789") for _ in range(rng.randint(14, 16)))
    return body + next(d for d in "0123456789" if luhn_ok(body + d))


def _landline(rng: random.Random) -> str:
    area = rng.choice(["010", "021", "022", "0311", "0318", "0755"])
    return area + "".join(rng.choice("0123456789") for _ in range(8 if len(area) == 3 else 7))


def perturb(number: str, rng: random.Random) -> str:
    digits = list(number)
    for _ in range(rng.randint(1, 2)):
        i = rng.randrange(len(digits))
        how = rng.choice(["change", "drop", "double"])
        if how == "change":
            digits[i] = rng.choice([d for d in "0123456789" if d != digits[i]])
        elif how == "drop" and len(digits) > 8:
            del digits[i]
        else:
            digits.insert(i, digits[i])
    return "".join(digits)


def _units(group: str) -> str:
    """A 1-4 digit group read with units: 138 → 一百三十八 (as a person reads it aloud)."""
    if not group.isdigit() or group.startswith("0") or int(group) == 0:
        return "".join(ZH.get(d, d) for d in group)
    value = int(group)
    out = []
    for unit, name in ((1000, "千"), (100, "百"), (10, "十")):
        q, value = divmod(value, unit)
        if q:
            out.append(UNITS_DIGIT[q] + name)
        elif out and value:
            out.append("零") if not out[-1].endswith("零") else None
    if value:
        out.append(UNITS_DIGIT[value])
    return "".join(out)


def write(digits: str, style: str, rng: random.Random) -> str:
    groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    if style == "solid":
        return digits
    if style == "grouped":
        return " ".join(groups)
    if style == "zh":
        return "".join(ZH.get(d, d) for d in digits)
    if style == "zh-spaced":
        return " ".join(ZH.get(d, d) for d in digits)
    if style == "en":
        return " ".join(EN.get(d, d) for d in digits)
    if style == "units":
        return " ".join(_units(g) for g in groups)
    if style == "mixed":
        return " ".join(
            g if rng.random() < 0.5 else "".join(ZH.get(d, d) for d in g) for g in groups
        )
    raise ValueError(style)


STYLES = ["solid", "grouped", "zh", "zh-spaced", "en", "units", "mixed"]
_NORMAL = {**{v: k for k, v in ZH.items()}, "幺": "1", "两": "2"}


def visible_digits(masked: str) -> int:
    """Digits still readable in a masked number (units: each digit a numeral stands for)."""
    n = len(re.findall(r"\b(?:zero|one|two|three|four|five|six|seven|eight|nine)\b", masked))
    n += sum(1 for ch in masked if ch.isdigit() or ch in _NORMAL or ch == "X")
    return n


def _category(text: str) -> str:
    """An ordinary text's template, by the words around its numbers."""
    return re.sub(r"[0-9]+", "N", text)[:12]


def naive(text: str) -> str:
    return re.sub(r"\d{7,}", lambda m: "*" * len(m.group()), text)


def run(maskers: dict[str, Callable[[str], str]], numbers: int, seed: int) -> None:
    rng = random.Random(seed)
    makers = [("id_card", _id), ("mobile", _mobile), ("bank_card", _card), ("landline", _landline)]
    cases = []
    for _ in range(numbers):
        kind, make = rng.choice(makers)
        number = perturb(make(rng), rng)
        style = rng.choice(STYLES)
        said = write(number, style, rng)
        template = rng.choice(AROUND)
        cases.append((kind, style, template.format(said), template.split("{}")))
    ordinary = []
    for _ in range(numbers):
        text = rng.choice(ORDINARY).format(
            y=rng.randint(1990, 2030), m=rng.randint(1, 12), d=rng.randint(1, 28),
            m2=f"{rng.randint(1, 12):02d}", d2=f"{rng.randint(1, 28):02d}",
            h=rng.randint(0, 23), mi=rng.randint(0, 59), a=rng.randint(1, 99999),
            n=rng.randint(1, 999), r=rng.randint(101, 2999), c=rng.randint(1, 99),
            t=rng.randint(1, 9999), zip=rng.randint(100000, 850000),
            big=rng.randint(1_000_000, 9_999_999),
        )  # fmt: skip
        ordinary.append(text)
    print(f"{numbers} perturbed personal numbers, {numbers} ordinary numbers (seed {seed})")
    for name, fn in maskers.items():
        shown: Counter[str] = Counter()
        t0 = time.perf_counter()
        for kind, style, text, (before, after) in cases:
            masked = fn(text)
            middle = (
                masked[len(before) : len(masked) - len(after)] if after else masked[len(before) :]
            )
            if visible_digits(middle) > 8:
                shown[f"{kind}/{style}"] += 1
        took = time.perf_counter() - t0
        falsely = Counter(_category(text) for text in ordinary if fn(text) != text)
        false = sum(falsely.values())
        per = took / numbers * 1e6
        leaked = sum(shown.values())
        print(f"{name:>8}: {leaked:5d} shown ({leaked / numbers:.2%}), {false:5d} false masks "
              f"({false / numbers:.2%}), {per:6.1f} µs per sentence")  # fmt: skip
        for key, n in shown.most_common(6):
            print(f"{'':>10}shown {key}: {n}")
        for key, n in falsely.most_common(6):
            print(f"{'':>10}false mask {key}: {n}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--numbers", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    run({"hotline": mask, "naive": naive}, args.numbers, args.seed)


if __name__ == "__main__":
    main()
