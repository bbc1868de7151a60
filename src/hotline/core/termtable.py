"""Plain-text tables for the terminal that stay aligned with Chinese text (pure).

    print(table(["agent", "status"], [["王芳", "示闲"], ["li", "ready"]], right={1}))
    print("\n".join(aligned_rows([["王芳", "示闲"], ["li", "ready"]])))  # no header line

A Chinese character takes two columns of a terminal, so padding by ``len`` (what
``f"{name:<14}"`` does) leaves every row with a Chinese name out of line. Widths here are
display widths (wcwidth, Unicode's East Asian Width); a cell wider than its column's
``limit`` is cut with "…".
"""

from __future__ import annotations

from collections.abc import Sequence

from wcwidth import wcswidth

__all__ = ["aligned_rows", "table", "width"]


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
    return "\n".join(aligned_rows([headers, *rows], right=right, limit=limit, gap=gap))


def aligned_rows(
    rows: Sequence[Sequence[str]],
    *,
    right: frozenset[int] | set[int] = frozenset(),
    limit: int | None = None,
    gap: str = "  ",
    minimum: Sequence[int] = (),
) -> list[str]:
    """ROWS alone (no header), one line each, columns aligned as :func:`table` does.

    For listings whose layout has no header line. A column is at least as wide as its
    MINIMUM (display columns, from the left: the fixed widths an f-string used to pad to);
    nothing is cut unless LIMIT is given. A row may have fewer cells than another: its
    last cell is not padded.
    """
    cells = [[str(c) if limit is None else _cut(str(c), limit) for c in row] for row in rows]
    widths = _widths(cells, minimum)
    return [gap.join(_padded(row, widths, right)).rstrip() for row in cells]


def _widths(cells: Sequence[Sequence[str]], minimum: Sequence[int]) -> list[int]:
    """Each column's width; the last cell of a short row runs on and widens nothing."""
    n = max((len(row) for row in cells), default=0)
    floor = [*minimum, *[0] * n][:n]
    sized = [row if len(row) == n else row[:-1] for row in cells]
    return [max([floor[i], *(width(row[i]) for row in sized if i < len(row))]) for i in range(n)]


def _padded(
    row: Sequence[str], widths: Sequence[int], right: frozenset[int] | set[int]
) -> list[str]:
    parts = []
    for i, cell in enumerate(row):
        pad = " " * (widths[i] - width(cell))
        last = i == len(row) - 1
        parts.append(pad + cell if i in right else (cell if last else cell + pad))
    return parts
