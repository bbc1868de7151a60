"""The batch progress bar: in place on a terminal, plain lines otherwise."""

from __future__ import annotations

import io

from hotline.cli.progress import Progress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    bar = Progress(2, out)
    bar.step("a.wav", "ok")
    bar.step("b.wav", "failed: empty")
    lines = out.getvalue().splitlines()
    assert [ln.split(" (")[0] for ln in lines] == ["1/2 a.wav ok", "2/2 b.wav failed: empty"]
    assert "\r" not in out.getvalue()


def test_redrawn_in_place_on_a_terminal() -> None:
    out = Tty()
    bar = Progress(4, out)
    for name in "abcd":
        bar.step(name)
    text = out.getvalue()
    assert text.count("\r") == 4
    assert "[" + "#" * 24 + "] 4/4" in text
    assert text.endswith("\n")
