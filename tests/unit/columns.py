"""Where cells start on a terminal: the display column (wcwidth), not the string index."""

from __future__ import annotations

from collections.abc import Sequence

from hotline.core.termtable import width


def starts(lines: Sequence[str], cells: Sequence[str]) -> list[int]:
    """The display column at which each line's cell (its first occurrence) starts."""
    assert len(lines) == len(cells), (lines, cells)
    return [width(line[: line.index(cell)]) for line, cell in zip(lines, cells, strict=True)]


def line_up(lines: Sequence[str], cells: Sequence[str]) -> bool:
    """Whether CELLS, one per line, start at the same display column."""
    return len(set(starts(lines, cells))) == 1
