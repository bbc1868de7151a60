"""The ``qa:`` section of center.yaml: the flag rules, the forms, the sampling (pure).

Every key is optional; what is left out keeps the default below. A list given in the file
(a group's phrases, the greeting's phrases, the groups themselves) replaces the default
list whole, so the file says exactly what is matched::

    qa:
      flags:
        forbidden_phrase:
          groups:
            dismissive:
              label: 推诿
              phrases: [不归我们管, 你自己去问, 没办法]
              regex: ["不(归|是)我们(这边|这里)?管"]     # over the normalized text
              except: [有没有办法]                      # cancels a match it overlaps
              gap: 0                                    # characters allowed inside a phrase
        greeting_missing: {within_seconds: 10, phrases: [您好, 你好]}
        closing_missing: {within_seconds: 30, phrases: [感谢您的来电, 再见]}
        talk_over: {min_overlap_seconds: 1.5}
        long_silence: {min_gap_seconds: 15}
        repeat_caller: {phrases: [又打来], regex: ["打(了|过)(好几|\\d+)(次|遍|回)"]}
        raised_voice: {above_median_db: 8, min_turns: 3, enabled: false}
      forms:                      # hotline.qa.forms
        service: {label: 服务质量, version: 1, items: {greeting: {label: 规范问候, weight: 10},
                  attitude: {label: 推诿辱骂, critical: true}}}
      sampling: {share: 0.05, min_per_agent: 2, flagged: true}   # hotline.qa.sampling

    center.qa.flags        # a FlagConfig for hotline.qa.flags.flag

How phrases are compared (punctuation, spaces, Chinese digits) is
:mod:`hotline.qa.text`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hotline.core.reader import Fail, Reader
from hotline.qa.flags import FlagConfig, PhraseGroup, RuleId
from hotline.qa.forms import Form, load_forms
from hotline.qa.sampling import SamplingConfig
from hotline.qa.text import Matcher, PatternError

__all__ = ["DEFAULT_GROUPS", "QaConfig", "load_qa"]


@dataclass(frozen=True, slots=True)
class GroupSpec:
    label: str
    phrases: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()
    gap: int = 0


DEFAULT_GROUPS: Mapping[str, GroupSpec] = {
    "dismissive": GroupSpec(
        "推诿",
        phrases=(
            "不归我们管", "不是我们管的", "我们管不了", "这个管不了", "自己去问", "去找别的部门",
            "找别人去", "没办法", "没有办法", "办不了", "打别的电话",
        ),
        regex=(
            r"不(归|是|属于)我们(这边|这里|12345)?(管|负责)",
            r"(你|您)(自己)?去问(问)?(别人|他们)",
        ),
        exceptions=("有没有办法", "有没有什么办法", "没办法的话", "没有办法的话", "想办法"),
    ),
    "attitude": GroupSpec(
        "态度",
        phrases=("你烦不烦", "爱打哪打哪", "你听不懂吗", "说了多少遍了", "跟你说不清"),
        regex=(r"12345(又|还|到底)?(能|可以)(办|干|做|管)(什么|啥)(事|用)?", r"12345有(什么|啥)用"),
    ),
}  # fmt: skip
GREETINGS = ("您好", "你好")
CLOSINGS = ("感谢您的来电", "感谢来电", "谢谢您的来电", "谢谢来电", "再见", "祝您生活愉快")
REPEATS = (
    "又打来", "又打过来", "又打进来", "又来电", "之前打过", "上次打过", "已经打过", "打过好几回",
)  # fmt: skip
REPEAT_REGEX = (
    r"打(了|过)(好几|好多|很多|无数|几|两|\d+|十\d?)(次|遍|回|个电话|通电话)",
    r"第([2-9]|\d\d+|十\d?)(次|回|遍)(打|来电|打电话)",
)

_RULE_KEYS: Mapping[RuleId, set[str]] = {
    RuleId.FORBIDDEN_PHRASE: {"enabled", "groups"},
    RuleId.GREETING_MISSING: {"enabled", "within_seconds", "phrases", "regex"},
    RuleId.CLOSING_MISSING: {"enabled", "within_seconds", "phrases", "regex"},
    RuleId.TALK_OVER: {"enabled", "min_overlap_seconds"},
    RuleId.LONG_SILENCE: {"enabled", "min_gap_seconds"},
    RuleId.REPEAT_CALLER: {"enabled", "phrases", "regex", "except"},
    RuleId.RAISED_VOICE: {"enabled", "above_median_db", "min_turns"},
}


@dataclass(frozen=True, slots=True)
class QaConfig:
    """The ``qa:`` section."""

    flags: FlagConfig = field(default_factory=lambda: default_flags())
    forms: Mapping[str, Form] = field(default_factory=dict)
    """Scoring forms by name (:mod:`hotline.qa.forms`)."""
    sampling: SamplingConfig = field(default_factory=SamplingConfig)


def default_flags() -> FlagConfig:
    return _flags(Reader(), {})


def load_qa(raw: Any, fail: Fail) -> QaConfig:
    """The ``qa:`` section (None: every default); problems go to ``fail(node, message)``."""
    r = Reader(fail)
    section = r.section("qa", raw, {"flags", "forms", "sampling"})
    flags = _flags(r, r.section("qa.flags", section.get("flags"), _names()))
    return QaConfig(flags, load_forms(r, section.get("forms")), _sampling(r, section))


def _sampling(r: Reader, section: Mapping[str, Any]) -> SamplingConfig:
    node = "qa.sampling"
    spec = r.section(node, section.get("sampling"), {"share", "min_per_agent", "flagged"})
    base = SamplingConfig()
    share = base.share
    if "share" in spec:
        value = spec["share"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            r.fail(f"{node}.share", f"expected a share from 0 to 1, got {value!r}")
        else:
            share = float(value)
    least = r.get(node, spec, "min_per_agent", int, base.min_per_agent)
    if not r.number(f"{node}.min_per_agent", least, 0):
        least = base.min_per_agent
    flagged = r.get(node, spec, "flagged", bool, base.flagged)
    return SamplingConfig(
        share,
        least if least is not None else base.min_per_agent,
        base.flagged if flagged is None else flagged,
    )


def _names() -> set[str]:
    return {rule.value for rule in RuleId}


def _texts(r: Reader, node: str, value: object, default: Sequence[str]) -> tuple[str, ...]:
    if value is None:
        return tuple(default)
    out = []
    for i, item in enumerate(r.items(node, value)):
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)  # 12345 written without quotes
        if not isinstance(item, str) or not item.strip():
            r.fail(f"{node}.{i}", f"expected a phrase, got {item!r}")
            continue
        out.append(item)
    return tuple(out)


def _number(r: Reader, node: str, data: Mapping[str, Any], key: str, default: float) -> float:
    if key not in data:
        return default
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        r.fail(f"{node}.{key}", f"expected a number above 0, got {value!r}")
        return default
    return float(value)


def _matcher(
    r: Reader,
    node: str,
    phrases: Sequence[str],
    regex: Sequence[str],
    exceptions: Sequence[str] = (),
    gap: int = 0,
) -> Matcher:
    try:
        return Matcher.build(phrases, regex=regex, exceptions=exceptions, gap=gap)
    except PatternError as exc:
        r.fail(f"{node}.regex", str(exc))
        return Matcher.build(phrases, exceptions=exceptions, gap=gap)


def _groups(r: Reader, node: str, raw: object) -> tuple[PhraseGroup, ...]:
    specs: dict[str, GroupSpec] = dict(DEFAULT_GROUPS)
    if raw is not None:
        specs = {}
        for name, value in r.mapping(node, raw).items():
            where = f"{node}.{name}"
            r.name(where, name)
            spec = r.mapping(where, value, {"label", "phrases", "regex", "except", "gap"})
            label = r.get(where, spec, "label", str, name) or name
            gap = r.get(where, spec, "gap", int, 0) or 0
            if not r.number(f"{where}.gap", gap, 0, 4):
                gap = 0
            phrases = _texts(r, f"{where}.phrases", spec.get("phrases"), ())
            regex = _texts(r, f"{where}.regex", spec.get("regex"), ())
            if not phrases and not regex:
                r.fail(where, "give phrases or regex")
            specs[name] = GroupSpec(
                label, phrases, regex, _texts(r, f"{where}.except", spec.get("except"), ()), gap
            )
    groups = []
    for name, g in specs.items():
        matcher = _matcher(r, f"{node}.{name}", g.phrases, g.regex, g.exceptions, g.gap)
        groups.append(PhraseGroup(name, g.label, matcher))
    return tuple(groups)


def _flags(r: Reader, given: Mapping[str, Any]) -> FlagConfig:
    rules: dict[RuleId, dict[str, Any]] = {}
    enabled = set(RuleId)
    for rule in RuleId:
        node = f"qa.flags.{rule.value}"
        spec = rules[rule] = r.section(node, given.get(rule.value), _RULE_KEYS[rule])
        if not r.get(node, spec, "enabled", bool, True):
            enabled.discard(rule)
    base = FlagConfig()

    def ms(rule: RuleId, key: str, default_ms: int) -> int:
        node = f"qa.flags.{rule.value}"
        return round(_number(r, node, rules[rule], key, default_ms / 1000) * 1000)

    def phrases(rule: RuleId, default: Sequence[str], default_regex: Sequence[str] = ()) -> Matcher:
        node, spec = f"qa.flags.{rule.value}", rules[rule]
        return _matcher(
            r,
            node,
            _texts(r, f"{node}.phrases", spec.get("phrases"), default),
            _texts(r, f"{node}.regex", spec.get("regex"), default_regex),
            _texts(r, f"{node}.except", spec.get("except"), ()),
        )

    voice = rules[RuleId.RAISED_VOICE]
    min_turns = r.get("qa.flags.raised_voice", voice, "min_turns", int, base.raised_min_turns)
    if not r.number("qa.flags.raised_voice.min_turns", min_turns, 2):
        min_turns = base.raised_min_turns
    return FlagConfig(
        enabled=frozenset(enabled),
        groups=_groups(
            r, "qa.flags.forbidden_phrase.groups", rules[RuleId.FORBIDDEN_PHRASE].get("groups")
        ),
        greeting_ms=ms(RuleId.GREETING_MISSING, "within_seconds", base.greeting_ms),
        greeting=phrases(RuleId.GREETING_MISSING, GREETINGS),
        closing_ms=ms(RuleId.CLOSING_MISSING, "within_seconds", base.closing_ms),
        closing=phrases(RuleId.CLOSING_MISSING, CLOSINGS),
        overlap_ms=ms(RuleId.TALK_OVER, "min_overlap_seconds", base.overlap_ms),
        silence_ms=ms(RuleId.LONG_SILENCE, "min_gap_seconds", base.silence_ms),
        repeat=phrases(RuleId.REPEAT_CALLER, REPEATS, REPEAT_REGEX),
        raised_db=_number(r, "qa.flags.raised_voice", voice, "above_median_db", base.raised_db),
        raised_min_turns=min_turns or base.raised_min_turns,
    )
