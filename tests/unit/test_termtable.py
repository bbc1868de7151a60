"""Terminal tables line up whatever the script of their cells (pure)."""

from __future__ import annotations

from hotline.core.termtable import aligned_rows, table, width

from .columns import line_up


def test_chinese_cells_take_two_columns_and_rows_line_up() -> None:
    out = table(["agent", "status", "for"], [["王芳", "示闲", "3:05"], ["li-na", "ready", "12:00"]],
                right={2})  # fmt: skip
    lines = out.splitlines()
    # the second column starts at the same display column on every line
    starts = [
        width(line[: line.index(cell)])
        for line, cell in zip(lines, ["status", "示闲", "ready"], strict=True)
    ]
    assert starts == [7, 7, 7], out
    assert [width(line) for line in lines] == [width(lines[1])] * 3
    assert lines[1].startswith("王芳   ")  # 4 columns of name + 1 pad to "li-na" (5)


def test_a_long_cell_is_cut_with_an_ellipsis() -> None:
    out = table(["path"], [["语" * 50]], limit=10)
    assert out.splitlines()[1] == "语" * 4 + "…"
    assert width(out.splitlines()[1]) <= 10


def test_rows_alone_line_up_without_a_header() -> None:
    lines = aligned_rows([["王芳", "supervisor", "team a"], ["li", "agent", "1001"]])
    assert lines == ["王芳  supervisor  team a", "li    agent       1001"]
    assert line_up(lines, ["team", "1001"])
    assert line_up(lines, ["super", "agent"])


def test_rows_keep_a_minimum_width_and_are_not_cut_unless_asked() -> None:
    lines = aligned_rows([["a", "x" * 60, "b"], ["王", "y", "c"]], minimum=[5], right={2})
    assert lines == ["a      " + "x" * 60 + "  b", "王     y" + " " * 61 + "c"]
    assert aligned_rows([["语" * 30, "z"]], limit=10) == ["语" * 4 + "…  z"]
    assert aligned_rows([]) == []


def test_rows_of_unequal_length_pad_only_up_to_their_last_cell() -> None:
    lines = aligned_rows([["c1", "inquiry", "180 days"], ["c22", "held since 2027-01-01"]])
    assert lines == ["c1   inquiry  180 days", "c22  held since 2027-01-01"]
