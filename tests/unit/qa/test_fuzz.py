"""Random input never crashes the turns reader or the matcher; spans always point into the
text and at what was matched."""

from __future__ import annotations

import random

from hotline.qa.config import default_flags
from hotline.qa.flags import flag
from hotline.qa.text import normalize
from hotline.qa.turnfile import TurnsError, parse_turns

VALUES: list[object] = [None, True, 0, -1, 1.5, float("nan"), float("inf"), 1e300, "", "agent",
                        "caller", "x", [], {}, [1], {"a": 1}, "不归我们管", 10**20]  # fmt: skip
KEYS = ["speaker", "start", "end", "text", "energy", "words", ""]
ALPHABET = "不归我们管没有办法，。！ 12345幺二三四五１２嗯啊你自己去问打了好几次又来ab"


def valid(rng: random.Random) -> dict[str, object]:
    start = rng.uniform(0, 60)
    text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 20)))
    turn: dict[str, object] = {"speaker": rng.choice(["agent", "caller"]), "start": start,
                               "end": start + rng.uniform(0, 8), "text": text}  # fmt: skip
    if rng.random() < 0.5:
        turn["energy"] = rng.uniform(-60, 0)
    return turn


def test_random_turn_documents_are_read_or_refused() -> None:
    rng = random.Random(20)
    read = refused = 0
    for _ in range(3000):
        doc: object
        if rng.random() < 0.1:
            doc = rng.choice(VALUES)
        else:
            doc = [
                rng.choice(VALUES) if rng.random() < 0.1
                else valid(rng) if rng.random() < 0.7
                else {rng.choice(KEYS): rng.choice(VALUES) for _ in range(rng.randint(0, 6))}
                for _ in range(rng.randint(0, 5))
            ]  # fmt: skip
        try:
            turns = parse_turns(doc)
        except TurnsError as exc:
            refused += bool(exc.problems)  # refused with its reasons, never without
            continue
        read += bool(turns)
        flag(turns, default_flags())  # whatever was accepted, the rules run on it
    assert read > 300
    assert refused > 100


def test_spans_point_at_what_matched() -> None:
    rng = random.Random(21)
    cfg = default_flags()
    for _ in range(3000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 30)))
        for group in cfg.groups:
            for start, end in group.matcher.find(text):
                assert 0 <= start < end <= len(text)
                assert normalize(text[start:end])[0]  # the span holds the words, not only noise
                assert normalize(text[start:end])[0] in normalize(text)[0]
