"""Terminal tables line up whatever the script of their cells (pure)."""

from __future__ import annotations

from hotline.core.termtable import table, width


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
