"""A progress bar for batches on stderr: redrawn in place on a terminal, one plain line per
item otherwise (logs, pipes, CI), so it never garbles what a script reads from stdout."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

WIDTH = 24


@dataclass
class Progress:
    total: int
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    done: int = 0
    _start: float = field(default_factory=time.monotonic)

    @property
    def tty(self) -> bool:
        return self.stream.isatty()

    def step(self, name: str, note: str = "") -> None:
        """One more item finished (NOTE: "ok", "failed: ...")."""
        self.done += 1
        elapsed = time.monotonic() - self._start
        if self.tty:
            filled = WIDTH * self.done // max(1, self.total)
            bar = "#" * filled + "." * (WIDTH - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} {elapsed:5.1f} s {name[-40:]}"
                              "\033[K")  # fmt: skip
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"{self.done}/{self.total} {name}{f' {note}' if note else ''}"
                              f" ({elapsed:.1f} s)\n")  # fmt: skip
        self.stream.flush()
