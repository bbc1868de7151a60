"""Plain-text tables for the terminal that stay aligned with Chinese text (pure).

    print(table(["agent", "status"], [["王芳", "示闲"], ["li", "ready"]], right={1}))

A Chinese character takes two columns of a terminal, so padding by ``len`` (what
``f"{name:<14}"`` does) leaves every row with a Chinese name out of line. Widths here are
display widths (wcwidth, Unicode's East Asian Width); a cell wider than its column's
``limit`` is cut with "…".
"""

from __future__ import annotations

from collections.abc import Sequence

from wcwidth import wcswidth

__all__ = ["table", "width"]


def width(text: str) -> int:
    """Columns TEXT takes in a terminal (a control character counts as none)."""
    w = wcswidth(text)
    return w if w >= 0 else sum(max(0, wcswidth(ch)) for ch in text)


def _cut(text: str, limit: int) -> str:
    if width(text) <= limit:
        return text
    out, used = [], 0
    for ch in text:
        w = max(0, wcswidth(ch))
        if used + w > limit - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: frozenset[int] | set[int] = frozenset(),
    limit: int = 40,
    gap: str = "  ",
) -> str:
    """HEADERS and ROWS as lines of aligned columns (those in RIGHT right-aligned); the
    last column is not padded."""
    cells = [[_cut(str(c), limit) for c in row] for row in [list(headers), *map(list, rows)]]
    widths = [max(width(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        parts = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - width(cell))
            last = i == len(row) - 1
            parts.append(pad + cell if i in right else (cell if last else cell + pad))
        lines.append(gap.join(parts).rstrip())
    return "\n".join(lines)
