"""Find and mask personal numbers in transcripts (pure): ID cards, mobiles, bank cards.

    find("我的手机是一三八 一二三四 五六七八")    # [Pii(MOBILE, 5, 19)]
    mask("call me at 138-1234-5678")           # 'call me at 138-****-5678'
    mask("one three eight one two three four five six seven eight")
        # 'one three eight * * * * five six seven eight'

Speech-to-text writes digits as digits, Chinese numerals (一二三四五六七八九零〇, 幺 for 1,
两 for 2) or English words (zero/oh ... nine), with spaces, hyphens or commas between
groups. Detection works on that *normalised* sequence of digits and maps every number back
to its span in the original text:

* ID card (居民身份证号码, GB 11643): 18 digits, the last may be X, with the ISO 7064
  MOD 11-2 check digit right;
* mobile: 11 digits ``1[3-9]…`` (a ``+86``/``86`` before it is left alone);
* bank card: 13–19 digits passing the Luhn check.

Which digits form one number: a run of digit tokens with at most 3 separator characters
between neighbours. A run read in groups (``138 1234 5678``) may hold several numbers, cut
where the groups are; a run spelled out digit by digit (``一 三 八 …``, English words) or
written solid is one number, except that an ID or mobile may have up to 2 stray digits
around it (``两`` before it), and a run too long to be one number (> 21 digits: numbers read
back to back) is cut anywhere. Of the possible readings, the one covering most digits wins
(then the one cut most where the groups are); a window valid as two kinds is an ID card
before a bank card.

Speech-to-text mishears digits: one wrong, dropped or doubled digit and no checksum holds
(a test of 2,000 perturbed IDs found 90 % in clear). So what the exact reading above leaves
of a run is masked too whenever 7 or more digits are left, whatever their checksum: as an
ID (17-20 digits), a bank card (13-16), a mobile (10-12 from a 1), a landline with its area
code (9-12 from a 0), or a number (any other 7 or more: a local landline, a passport
number's digits, an account). A group read with units (一百三十八 一千二百三十四 …, 138
1234) counts as its digits; it is masked whole when any of its digits is hidden.

Masking keeps the text's shape: each hidden digit becomes ``*`` (an English digit word one
``*``), separators stay, and a few digits stay visible so people can tell numbers apart:
mobile 3 + 4 (``138****5678``), ID card 3 + 4, bank card 4 + 4. A ``*`` counts as a hidden
digit when detecting, so masking twice changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum

from hotline.transcripts.transcript import Transcript
from hotline.transcripts.turns import join_words

__all__ = [
    "ALL",
    "Pii",
    "PiiKind",
    "find",
    "id_check_char",
    "luhn_ok",
    "mask",
    "mask_phone",
    "mask_spans",
    "mask_transcript",
    "probes_numbers",
]


class PiiKind(Enum):
    ID_CARD = "id_card"
    MOBILE = "mobile"
    BANK_CARD = "bank_card"
    LANDLINE = "landline"  # with its area code (0xx...): only by shape, no checksum
    NUMBER = "number"  # 7 or more digits of no known shape: masked all the same
    STRAY = "stray"  # digits in the run of a number that no window read: hidden whole


ALL: frozenset[PiiKind] = frozenset(PiiKind)


@dataclass(frozen=True, slots=True)
class Pii:
    kind: PiiKind
    start: int  # offsets into the text: the first digit ...
    end: int  # ... and just after the last


_DIGITS = {
    **{str(d): str(d) for d in range(10)},
    **{chr(0xFF10 + d): str(d) for d in range(10)},  # full-width
    **dict(zip("零〇一二三四五六七八九", "00123456789", strict=True)),
    "幺": "1",
    "两": "2",
}
_WORDS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_TOKEN = re.compile(
    "(?P<d>[" + "".join(_DIGITS) + "])"
    # an ID's check character X: not inside a word, but doubled (XX: misheard) it counts
    r"|(?<![A-WYZa-wyz])(?P<x>[XxＸｘ])(?![A-WYZa-wyz])"
    r"|(?<![A-Za-z])(?P<w>" + "|".join(_WORDS) + r")(?![A-Za-z])"
    r"|(?P<m>\*)",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"[\s\-‐‑–—,，、.·]{1,3}")
_MAX_GAP = 3
_LONG_RUN = 21  # longer than any number (19) plus strays: numbers read back to back
_STRAYS = 2

# visible digits (first, last) when masked
_KEEP = {
    PiiKind.MOBILE: (3, 4), PiiKind.ID_CARD: (3, 4), PiiKind.BANK_CARD: (4, 4),
    PiiKind.LANDLINE: (3, 2), PiiKind.NUMBER: (0, 2), PiiKind.STRAY: (0, 0),
}  # fmt: skip
_FALLBACK = 7  # a run of this many digits left unread is masked by its shape
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def luhn_ok(digits: str) -> bool:
    total = 0
    for n, ch in enumerate(reversed(digits)):
        d = int(ch)
        if n % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@dataclass(frozen=True, slots=True)
class _Token:
    value: str  # "0"-"9", "X", or "*" (already masked)
    start: int
    end: int
    word: bool  # an English word (masked as one "*")


_NUMERALS = "零〇一二两三四五六七八九幺十百千"
_UNIT_GROUP = re.compile(f"[{_NUMERALS}]*[十百千][{_NUMERALS}]*")
_UNITS = {"十": 10, "百": 100, "千": 1000}


def _unit_value(group: str) -> str | None:
    """一百三十八 → "138", 十三 → "13", 一千零五 → "1005"; None if it is not one number."""
    total, digit, last_unit = 0, None, 10_000
    for ch in group:
        if ch in _UNITS:
            unit = _UNITS[ch]
            if unit >= last_unit:
                return None  # 十百: not a number
            total += (digit if digit is not None else 1) * unit
            digit, last_unit = None, unit
        else:
            value = int(_DIGITS[ch])
            if digit is not None and value != 0:
                return None  # two digits in a row inside a unit group
            digit = value if value != 0 else digit
    if digit is not None:
        total += digit
    return str(total)


def _normalised(text: str) -> tuple[str, list[tuple[int, int]] | None]:
    """TEXT with every group read with units (一百三十八) written as its digits, and where
    each character of the result came from (None: nothing was rewritten)."""
    if not any(u in text for u in _UNITS):
        return text, None
    out: list[str] = []
    origin: list[tuple[int, int]] = []
    at = 0
    for m in _UNIT_GROUP.finditer(text):
        value = _unit_value(m.group())
        if value is None:
            continue
        for i in range(at, m.start()):
            out.append(text[i])
            origin.append((i, i + 1))
        out.append(value)
        origin += [(m.start(), m.end())] * len(value)
        at = m.end()
    for i in range(at, len(text)):
        out.append(text[i])
        origin.append((i, i + 1))
    return "".join(out), origin


def _back(tokens: list[_Token], origin: list[tuple[int, int]] | None) -> list[_Token]:
    """Tokens of the normalised text as spans of the original (a unit group: all of it)."""
    if origin is None:
        return tokens
    return [replace(t, start=origin[t.start][0], end=origin[t.end - 1][1]) for t in tokens]


def _runs(text: str) -> list[tuple[list[_Token], list[bool]]]:
    """Runs of digit tokens, each with ``gaps[i]``: is there a separator before token i."""
    runs: list[tuple[list[_Token], list[bool]]] = []
    tokens: list[_Token] = []
    gaps: list[bool] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        value = (
            _DIGITS[m.group()] if kind == "d"
            else "X" if kind == "x"
            else _WORDS[m.group().lower()] if kind == "w"
            else "*"
        )  # fmt: skip
        token = _Token(value, m.start(), m.end(), kind == "w")
        between = text[tokens[-1].end : m.start()] if tokens else ""
        if tokens and (between == "" or _SEPARATOR.fullmatch(between)):
            tokens.append(token)
            gaps.append(between != "")
        else:
            if tokens:
                runs.append((tokens, gaps))
            tokens, gaps = [token], [False]
    if tokens:
        runs.append((tokens, gaps))
    return runs


def _valid(kind: PiiKind, digits: str) -> bool:
    if "*" in digits:
        return False  # masked already
    if kind is PiiKind.ID_CARD:
        return (
            len(digits) == 18 and digits[:17].isdigit() and id_check_char(digits[:17]) == digits[17]
        )
    if "X" in digits:
        return False
    if kind is PiiKind.MOBILE:
        return len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789"
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


_LENGTHS = {PiiKind.ID_CARD: (18,), PiiKind.BANK_CARD: tuple(range(13, 20)), PiiKind.MOBILE: (11,)}
_ORDER = (PiiKind.ID_CARD, PiiKind.BANK_CARD, PiiKind.MOBILE)  # one window, several kinds


def _candidates(
    tokens: list[_Token], gaps: list[bool]
) -> dict[int, list[tuple[int, PiiKind, int]]]:
    """Valid windows by start: (end, kind, how many of its edges fall on group cuts)."""
    n = len(tokens)
    grouped = any(gaps[1:]) and not all(gaps[1:])
    cuts = {0, n} | ({i for i in range(1, n) if gaps[i]} if grouped else set())
    values = "".join(t.value for t in tokens)
    out: dict[int, list[tuple[int, PiiKind, int]]] = {}
    taken: dict[int, set[int]] = {}  # a window valid as two kinds is the first of _ORDER
    for a in range(n):
        for kind in _ORDER:
            strays = kind is not PiiKind.BANK_CARD  # fixed length: a stray digit around it
            for length in _LENGTHS[kind]:
                b = a + length
                if b > n:
                    break
                edges = (a in cuts) + (b in cuts)
                allowed = edges == 2 or n > _LONG_RUN or (strays and n - length <= _STRAYS)
                if allowed and _valid(kind, values[a:b]) and b not in taken.get(a, ()):
                    out.setdefault(a, []).append((b, kind, edges))
                    taken.setdefault(a, set()).add(b)
    return out


def _shape(tokens: Sequence[_Token]) -> PiiKind | None:
    """The kind a run of digits no checksum vouches for is masked as, by its length and
    first digit; None when it is too short to be personal."""
    n = len(tokens)
    first = tokens[0].value
    if sum(t.value.isdigit() for t in tokens) < _FALLBACK:
        return None  # XXXXXXX is a word, not a number
    if 17 <= n <= 20:
        return PiiKind.ID_CARD
    if 13 <= n <= 16:
        return PiiKind.BANK_CARD
    if 10 <= n <= 12 and first == "1":
        return PiiKind.MOBILE
    if 9 <= n <= 12 and first == "0":
        return PiiKind.LANDLINE
    return PiiKind.NUMBER


def _hides_something(kind: PiiKind, tokens: Sequence[_Token]) -> bool:
    first, last = _KEEP[kind]
    return any(t.value != "*" for t in tokens[first : len(tokens) - last])


def _found(text: str, kinds: Iterable[PiiKind]) -> list[tuple[Pii, list[_Token]]]:
    """The personal numbers of TEXT with their tokens (as spans of TEXT), in order."""
    norm, origin = _normalised(text)
    found = []
    for pii, toks in _read(norm, kinds):
        back = _back(toks, origin)
        found.append((Pii(pii.kind, back[0].start, back[-1].end), back))
    return found


def _read(text: str, kinds: Iterable[PiiKind]) -> list[tuple[Pii, list[_Token]]]:
    """Each run read as the numbers that cover most of its digits (then: whose edges
    fall on the most group cuts), whatever KINDS asks for, so asking for fewer kinds
    never turns an ID into a mobile; what is left of 7 digits or more is masked by its
    shape; then only those of KINDS."""
    wanted = set(kinds)
    found: list[tuple[Pii, list[_Token]]] = []
    if len(_TOKEN.findall(text)) < _FALLBACK:
        return found  # too few digits for any number (most texts): skip the reading
    for tokens, gaps in _runs(text):
        n = len(tokens)
        if n < _FALLBACK:
            continue
        windows = _candidates(tokens, gaps)
        # best[i]: (digits covered, edges on cuts) from token i on, and the first window
        best: list[tuple[tuple[int, int], tuple[int, PiiKind] | None]] = [((0, 0), None)] * (n + 1)
        for a in range(n - 1, -1, -1):
            best[a] = (best[a + 1][0], None)
            for b, kind, edges in windows.get(a, []):
                (covered, on_cuts), _ = best[b]
                score = (covered + b - a, on_cuts + edges)
                if score > best[a][0]:
                    best[a] = (score, (b, kind))
        read: list[tuple[int, int, PiiKind]] = []
        a = 0
        while a < n:
            step = best[a][1]
            if step is None:
                a += 1
                continue
            b, kind = step
            read.append((a, b, kind))
            a = b
        # a run holding "*" was masked before (no engine writes one): only what is read;
        # a date written 2026-12-07 is no personal number
        masked = any(t.value == "*" for t in tokens) or (not read and _a_date(tokens, gaps))
        left = 0  # where the digits no window read begin
        for_run: list[tuple[Pii, list[_Token]]] = []
        for a, b, kind in read:
            for_run += _unread(tokens[left:a], beside_a_number=True, masked=masked)
            for_run.append((Pii(kind, tokens[a].start, tokens[b - 1].end), tokens[a:b]))
            left = b
        for_run += _unread(tokens[left:n], beside_a_number=bool(read), masked=masked)
        found += [(pii, toks) for pii, toks in for_run if pii.kind in wanted]
    return found


def _a_date(tokens: Sequence[_Token], gaps: Sequence[bool]) -> bool:
    """Digits in groups of 4, 2 and 2 that make a date (2026-12-07, 2026 12 07), perhaps
    with the hour after it (2026-12-07 10:30: the run stops at the colon)."""
    cuts = [i for i, gap in enumerate(gaps) if gap]
    if not (cuts == [4, 6] and len(tokens) == 8) and not (
        cuts == [4, 6, 8] and len(tokens) in (9, 10)
    ):
        return False
    v = "".join(t.value for t in tokens)
    return (
        v.isdigit()
        and 1900 <= int(v[:4]) <= 2099
        and 1 <= int(v[4:6]) <= 12
        and 1 <= int(v[6:8]) <= 31
    )


def _unread(
    tokens: list[_Token], *, beside_a_number: bool, masked: bool
) -> list[tuple[Pii, list[_Token]]]:
    """Digits no window read: all of them hidden when they are in the run of a number (a
    misheard digit of it, a stray before it: 两13812345678; a number misread as a shorter
    one and the rest); else masked by their shape when there are 7 or more."""
    if not tokens or masked:
        return []
    kind = PiiKind.STRAY if beside_a_number else _shape(tokens)
    if kind is None or not _hides_something(kind, tokens):
        return []
    return [(Pii(kind, tokens[0].start, tokens[-1].end), tokens)]


def find(text: str, kinds: Iterable[PiiKind] = ALL) -> list[Pii]:
    """The personal numbers in TEXT, in order, as spans of the original text."""
    return [pii for pii, _ in _found(text, kinds)]


Edit = tuple[int, int, str]  # replace text[start:end] by the string


def _edits(kind: PiiKind, tokens: Sequence[_Token]) -> list[Edit]:
    first, last = _KEEP[kind]
    hidden = tokens[first : len(tokens) - last]
    return [(t.start, t.end, "*" if t.word else "*" * (t.end - t.start)) for t in hidden]


def _merged(edits: Iterable[Edit]) -> list[Edit]:
    """Sorted, one edit per span (the digits of one unit group share its span)."""
    return sorted(set(edits))


def _apply(text: str, edits: Sequence[Edit]) -> str:
    out, at = [], 0
    for start, end, new in _merged(edits):
        out.append(text[at:start])
        out.append(new)
        at = end
    out.append(text[at:])
    return "".join(out)


def mask(text: str, kinds: Iterable[PiiKind] = ALL) -> str:
    """TEXT with the personal numbers of KINDS masked (idempotent)."""
    return _apply(text, [e for pii, toks in _found(text, kinds) for e in _edits(pii.kind, toks)])


def _shift(pos: int, edits: Sequence[Edit], *, end: bool) -> int:
    """Where offset POS of the text is once EDITS (sorted) are applied; a POS inside an
    edit goes to the edit's start (or, for an END, its end)."""
    delta = 0
    for start, stop, new in edits:
        if pos <= start:
            break
        if pos < stop:
            return start + delta + (len(new) if end else 0)
        delta += len(new) - (stop - start)
    return pos + delta


def mask_spans(
    text: str, spans: Iterable[Pii], marks: Iterable[tuple[int, int]] = ()
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Mask the numbers at SPANS (from :func:`find` over a longer text, cut to this one)
    and move MARKS (highlighted ranges) to where they are in the masked text."""
    edits: list[Edit] = []
    for pii in spans:
        piece, origin = _normalised(text[pii.start : pii.end])
        tokens = [
            replace(t, start=t.start + pii.start, end=t.end + pii.start)
            for run, _ in _runs(piece)
            for t in _back(run, origin)
        ]
        edits.extend(_edits(pii.kind, tokens))
    edits = _merged(edits)
    moved = tuple((_shift(a, edits, end=False), _shift(b, edits, end=True)) for a, b in marks)
    return _apply(text, edits), moved


PROBE_DIGITS = 4  # the hidden middle of a mobile is 4 digits


def probes_numbers(query: str) -> bool:
    """Whether a search QUERY holds a run of PROBE_DIGITS or more digits (in any of the forms
    masking reads): run against the unmasked index, it could confirm a masked number's
    hidden digits one guess at a time, so it is an unmask."""
    norm, _ = _normalised(query)
    return any(sum(t.value.isdigit() for t in tokens) >= PROBE_DIGITS for tokens, _ in _runs(norm))


def mask_phone(number: str) -> str:
    """A caller number for display: ``138****5678`` (short numbers as they are)."""
    if len(number) < 8:
        return number
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_transcript(t: Transcript, kinds: Iterable[PiiKind] = ALL) -> Transcript:
    """The transcript with its text and its words masked (numbers spoken across words too)."""
    kinds = frozenset(kinds)
    starts: list[int] = []
    joined = join_words([w.text for w in t.words], starts)
    edits = [e for pii, toks in _found(joined, kinds) for e in _edits(pii.kind, toks)]
    words = []
    for w, start in zip(t.words, starts, strict=True):
        end = start + len(w.text)
        mine = [(a - start, b - start, new) for a, b, new in edits if start <= a and b <= end]
        words.append(replace(w, text=_apply(w.text, mine)) if mine else w)
    return replace(t, text=mask(t.text, kinds), words=tuple(words))
