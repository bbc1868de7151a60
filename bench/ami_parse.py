"""Benchmark: parsing real AMI traffic with hotline.ami vs pyst2, asterisk-ami and panoramisk.

Usage (records the capture first if ``bench/.data/capture-<N>.raw`` is missing, which needs our
Asterisk running: ``hotline pbx start`` with the same ``HOTLINE_*`` environment)::

    .venv/bin/python bench/ami_parse.py [--messages 100000] [--reps 5] [--e2e-reps 5]

Offline, each library parses the whole capture through its own framing at its real read size
(see peers.py): one run keeps every message to judge it, then ``--reps`` interleaved timed
runs hand each message to a consumer that drops it. pyst2, which reads one byte per call, is
timed on the first ``--pyst2-messages`` messages (and judged once on the whole capture). Every
library's output is compared with the reference split (capture.py): *lost* is the true count
minus the messages delivered, *altered* the delivered messages whose headers match no
reference message exactly. Then end to end: each library's client against a replay server
over loopback TCP (e2e.py), judged once, then timed ``--e2e-reps`` times (pyst2 on its
sample only). Prints the figures as Markdown tables (medians of the repetitions). Bounded:
about 4 minutes on 2 cores, plus the recording (about 4 minutes) when there is no capture.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import e2e
from capture import (
    HeaderDict,
    cross_check,
    ensure_capture,
    event_mix,
    prefix,
    reference_parse,
)
from peers import PARSERS

PYST2 = "pyst2 0.5.1 (1 B reads)"
OURS_4K = "hotline (4 KiB reads)"
OURS_256K = "hotline (256 KiB reads)"
OURS_E2E = "hotline AMIClient (256 KiB reads)"

Key = tuple[tuple[str, str | tuple[str, ...]], ...]


def key(headers: HeaderDict) -> Key:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in headers.items()))


def identity(headers: HeaderDict) -> tuple[str, ...]:
    """What tells a message apart, to pair an altered message with its original."""
    return tuple(
        str(headers.get(name, "")) for name in ("Event", "Response", "Timestamp", "ActionID")
    )


@dataclass(slots=True)
class Verdict:
    true: int
    produced: int
    intact: int
    examples: list[str] = field(default_factory=list)
    missing: Counter[str] = field(default_factory=Counter)

    @property
    def lost(self) -> int:
        return self.true - self.produced

    @property
    def altered(self) -> int:
        return self.produced - self.intact


def unkey(k: Key) -> HeaderDict:
    return {name: list(value) if isinstance(value, tuple) else value for name, value in k}


def judge(reference: list[HeaderDict], produced: list[HeaderDict]) -> Verdict:
    """Match delivered messages to reference messages as multisets of exact header dicts."""
    want = Counter(key(h) for h in reference)
    got = Counter(key(h) for h in produced)
    verdict = Verdict(len(reference), len(produced), sum((want & got).values()))
    originals: dict[tuple[str, ...], HeaderDict] = {}
    for k, count in (want - got).items():
        original = unkey(k)
        name = original.get("Event") or f"Response: {original.get('Response')}"
        verdict.missing[str(name)] += count
        originals.setdefault(identity(original), original)
    for k in list(got - want)[:3]:
        altered = unkey(k)
        verdict.examples.append(describe(originals.get(identity(altered)), altered))
    return verdict


def describe(original: HeaderDict | None, altered: HeaderDict) -> str:
    name = altered.get("Event") or f"Response: {altered.get('Response')}"
    if original is None:
        return f"{name}: no original found; got {short(altered)}"
    parts = []
    for k in original.keys() - altered.keys():
        parts.append(f"{k} missing (was {original[k]!r:.60})")
    for k in altered.keys() - original.keys():
        parts.append(f"{k} added ({altered[k]!r:.60})")
    for k in original.keys() & altered.keys():
        if original[k] != altered[k]:
            parts.append(f"{k}: {original[k]!r:.60} became {altered[k]!r:.60}")
    return f"{name}: " + "; ".join(sorted(parts)[:4]) + (" ..." if len(parts) > 4 else "")


def short(headers: HeaderDict) -> str:
    return repr(dict(list(headers.items())[:4]))[:160]


# -- runs ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Figures:
    rates: list[float] = field(default_factory=list)
    per_message_us: list[float] = field(default_factory=list)
    verdict: Verdict | None = None
    messages: int = 0
    """The true count of messages in what it was fed."""
    delivered: int = 0
    note: str = ""

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    @property
    def cost(self) -> float:
        return statistics.median(self.per_message_us)


def offline(
    data: bytes,
    everything: list[HeaderDict],
    reps: int,
    pyst2_messages: int,
    judge_pyst2_fully: bool,
) -> dict[str, Figures]:
    sample = prefix(data, pyst2_messages)
    figures = {name: Figures() for name in PARSERS}
    # First a run that keeps every message, to judge it (and to warm up); not timed.
    for name, parse in PARSERS.items():
        whole = name != PYST2 or judge_pyst2_fully
        print(f"  judging {name}{'' if whole else ' on its sample'}...", file=sys.stderr)
        result = parse(data if whole else sample, True)
        figures[name].verdict = judge(
            everything if whole else everything[:pyst2_messages], result.messages
        )
        figures[name].note = result.note
    # Then the timed runs, interleaved; messages are counted and dropped as they come.
    for rep in range(reps):
        for name, parse in PARSERS.items():
            expected = pyst2_messages if name == PYST2 else len(everything)
            result = parse(sample if name == PYST2 else data, False)
            fig = figures[name]
            fig.messages = expected
            # messages/s of the true count: a parser cannot go faster by dropping messages
            fig.rates.append(expected / result.seconds)
            fig.per_message_us.append(result.seconds / expected * 1e6)
            print(
                f"  rep {rep + 1}/{reps} {name}: {fig.rates[-1]:,.0f} messages/s "
                f"({result.count:,} delivered)",
                file=sys.stderr,
            )
    return figures


def delivered_by_design(everything: list[HeaderDict]) -> list[HeaderDict]:
    """What our client hands its subscribers: the events, less the parts of EventLists
    (those go, as one EventList, to the action that asked; here nobody did)."""
    lists = {
        h.get("ActionID")
        for h in everything
        if "Response" in h and str(h.get("EventList", "")).lower() == "start"
    }
    return [h for h in everything if "Event" in h and h.get("ActionID") not in lists]


def end_to_end(
    capture: Path, everything: list[HeaderDict], reps: int, pyst2_messages: int
) -> dict[str, Figures]:
    figures = {name: Figures() for name in e2e.CLIENTS}
    # First a session that keeps every message, to judge what each client delivered.
    for name in e2e.CLIENTS:
        sample = pyst2_messages if name == PYST2 else 0
        expected = everything[:pyst2_messages] if sample else everything
        print(f"  judging {name} end to end...", file=sys.stderr)
        session = e2e.run(name, capture, sample, keep=True)
        fig = figures[name]
        fig.messages = len(expected)
        fig.delivered = session.count
        if name == OURS_E2E:
            expected = delivered_by_design(expected)
        fig.verdict = judge(expected, session.messages)
        fig.note = session.note
    for rep in range(reps):
        for name in e2e.CLIENTS:
            fig = figures[name]
            session = e2e.run(name, capture, pyst2_messages if name == PYST2 else 0)
            fig.rates.append(fig.messages / session.seconds)
            fig.per_message_us.append(session.seconds / fig.messages * 1e6)
            print(
                f"  e2e rep {rep + 1}/{reps} {name}: {fig.rates[-1]:,.0f} messages/s, "
                f"{session.count:,} messages ({session.note})",
                file=sys.stderr,
            )
    return figures


# -- report ----------------------------------------------------------------------------------


def spread(fig: Figures) -> str:
    return f"{min(fig.rates):,.0f}–{max(fig.rates):,.0f}"


def offline_table(figures: dict[str, Figures], fastest_peer: float) -> list[str]:
    lines = [
        "| parser (read size) | messages/s (median) | range | µs/message | vs fastest peer "
        "| delivered / true | lost | altered |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, fig in figures.items():
        v = fig.verdict
        assert v is not None
        lines.append(
            f"| {name} | {fig.rate:,.0f} | {spread(fig)} | {fig.cost:.1f} "
            f"| {fig.rate / fastest_peer:.2f}× | {v.produced:,} / {v.true:,} | {v.lost:,} "
            f"| {v.altered:,} |"
        )
    return lines


def e2e_table(figures: dict[str, Figures], fastest_peer: float) -> list[str]:
    lines = [
        "| client (read size) | messages/s (median) | range | vs fastest peer "
        "| counted / streamed | delivered to the application | altered |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for name, fig in figures.items():
        v = fig.verdict
        assert v is not None
        lines.append(
            f"| {name} | {fig.rate:,.0f} | {spread(fig)} | {fig.rate / fastest_peer:.2f}× "
            f"| {fig.delivered:,} / {fig.messages:,} | {fig.note} | {v.altered:,} |"
        )
    return lines


def environment() -> list[str]:
    import hotline.ami.protocol

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    source = Path(hotline.ami.protocol.__file__).read_bytes()
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("pyst2", "asterisk-ami", "panoramisk")
    )
    return [
        f"machine: {os.cpu_count()} CPUs ({cpu}), "
        f"Python {platform.python_version()} ({platform.python_implementation()})",
        f"peers: {versions}",
        f"hotline/ami/protocol.py sha256 {hashlib.sha256(source).hexdigest()[:12]}",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000, help="capture size (target)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--e2e-reps", type=int, default=5)
    parser.add_argument("--pyst2-messages", type=int, default=5_000)
    parser.add_argument("--no-pyst2-full", action="store_true", help="judge pyst2 on its sample")
    args = parser.parse_args(argv)

    started = time.monotonic()
    path = ensure_capture(args.messages)
    data = path.read_bytes()
    ref = reference_parse(data)
    cross_check(data, ref)
    true = len(ref.frames)
    everything = [ref.headers(i) for i in range(true)]
    print("\n".join(environment()))
    print(f"## capture {path.name}: {true:,} messages, {len(data):,} bytes")
    print(f"greeting {ref.greeting!r}; frames after a stray blank line: {ref.stray_blank_lines}")
    frames_with_cjk = sum(1 for f in ref.frames if any(b >= 0xE0 for b in f))
    print(f"messages holding Chinese (multi-byte UTF-8) text: {frames_with_cjk:,}")
    print("top 10 of", len(event_mix(ref)), "message types:")
    for name, count in event_mix(ref).most_common(10):
        print(f"  {count:7,d}  {name}")
    empty_values = sum(1 for h in everything for v in h.values() if v == "")
    print(f"headers with an empty value: {empty_values:,}")

    print("\n## offline parse", file=sys.stderr)
    figures = offline(data, everything, args.reps, args.pyst2_messages, not args.no_pyst2_full)
    fastest = max(f.rate for n, f in figures.items() if not n.startswith("hotline"))
    print(f"\n## offline parse (median of {args.reps})\n")
    print("\n".join(offline_table(figures, fastest)))
    ratio = figures[OURS_256K].cost / figures[OURS_4K].cost
    print(f"\nhotline µs/message at 256 KiB vs 4 KiB reads: {ratio:.2f}×")
    for name, fig in figures.items():
        v = fig.verdict
        assert v is not None
        if v.lost or v.altered or fig.note:
            print(f"\n{name}: lost {v.lost}, altered {v.altered}. {fig.note}")
            print("  missing from the output:", dict(v.missing.most_common(6)))
            for example in v.examples:
                print("  e.g.", example)

    print("\n## end to end", file=sys.stderr)
    flows = end_to_end(path, everything, args.e2e_reps, args.pyst2_messages)
    fastest = max(f.rate for n, f in flows.items() if not n.startswith("hotline"))
    print(f"\n## end to end over loopback TCP (median of {args.e2e_reps})\n")
    print("\n".join(e2e_table(flows, fastest)))
    for name, fig in flows.items():
        v = fig.verdict
        assert v is not None
        if v.lost or v.altered:
            print(f"\n{name}: not delivered {v.lost}, altered {v.altered}.")
            print("  missing from the output:", dict(v.missing.most_common(6)))
            for example in v.examples:
                print("  e.g.", example)
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
