"""Follow Asterisk's queue_log as it grows, by byte offset (the I/O edge; parsing is pure).

Usage::

    tail = QueueLogTail("/var/log/asterisk/queue_log", offset=saved.offset,
                        identity=saved.identity)
    while running:
        lines, offset = tail.read_new()  # complete lines only, each with its "\\n"
        if tail.reset is not None:
            ...  # ROTATED or TRUNCATED: this batch starts at byte 0 of the file now there
        for item in parse_lines(lines, start=tail.lineno):
            ...
        save(offset, tail.identity)  # resume here after a restart
        sleep(...)  # when lines == []
    tail.close()

``read_new`` never blocks and never raises for the file's life cycle:

- **growth**: the bytes after ``offset`` up to the last ``\\n``; a partial last line stays
  in the file for the next call (Asterisk writes a line with one fprintf, but a reader can
  still catch it half-flushed), so ``offset`` is always at a line start and is safe to save.
- **rotation** (``logger rotate``: the file is renamed and a new one opened; logrotate
  ``create``): the rest of the old file is read first, through the handle still open on
  it, then the new file from 0, with ``reset`` ROTATED. Identity is (st_dev, st_ino).
- **truncation** (logrotate ``copytruncate``, or a file replaced in place): the file is
  shorter than ``offset``, or the byte before ``offset`` is no longer a ``\\n``: read again
  from 0, ``reset`` TRUNCATED. Lines written between our last read and a copytruncate are
  lost to us; they are in the copy.
- **missing** (not created yet, or between a rename and the new file): no lines,
  ``missing`` True, and the old handle, if any, is kept for what Asterisk still writes there.

A batch comes from one file. At most ``max_bytes`` are read per call: call again until it
returns no lines. Bytes are decoded as UTF-8 with errors="replace": binary junk turns into
U+FFFD and reaches the parser, which reports it as a problem.
"""

from __future__ import annotations

import os
from enum import Enum
from typing import BinaryIO

__all__ = ["QueueLogTail", "Reset"]


class Reset(Enum):
    """Why a read restarted at byte 0."""

    ROTATED = "rotated"  # the path names another file now
    TRUNCATED = "truncated"  # the same file got shorter, or was rewritten under our offset


class QueueLogTail:
    """Read the complete lines added to a queue_log since the last read."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        offset: int = 0,
        *,
        identity: tuple[int, int] | None = None,
        max_bytes: int = 4 << 20,
    ) -> None:
        self.path = os.fspath(path)
        self.offset = offset
        self.identity = identity  # (st_dev, st_ino) of the file ``offset`` is in
        self.max_bytes = max_bytes
        self.reset: Reset | None = None  # what the last read_new did, if it restarted
        self.resets = 0  # restarts so far
        self.missing = False  # the path named no file at the last read_new
        self.lineno = 1  # number of the first line of the last batch (from where we began)
        self._next_lineno = 1
        self._file: BinaryIO | None = None
        self._cut = False  # the last read cut an overlong line: offset is not at a line start

    def read_new(self) -> tuple[list[str], int]:
        """The complete lines since the last call, and the offset after them."""
        self.reset = None
        # first the rest of the file we have open, even if the path names another one now
        if self._file is not None and self._at_line_start():
            lines = self._read()
            if lines:
                return lines, self.offset
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self.missing = True
            return [], self.offset
        self.missing = False
        identity = (st.st_dev, st.st_ino)
        if self._file is not None and identity == self.identity:
            if st.st_size >= self.offset and self._at_line_start():
                return [], self.offset
            self._restart(Reset.TRUNCATED)
        else:
            known = self.identity
            try:
                opened = self._open()
            except FileNotFoundError:  # renamed away between the stat and the open
                self.missing = True
                return [], self.offset
            if opened != known and known is not None:
                self._restart(Reset.ROTATED)
            elif st.st_size < self.offset or not self._at_line_start():
                self._restart(Reset.TRUNCATED)
        return self._read(), self.offset

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> QueueLogTail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- inside -----------------------------------------------------------------------------

    def _open(self) -> tuple[int, int]:
        file = open(self.path, "rb")  # noqa: SIM115 (kept open across calls)
        self.close()
        self._file = file
        # the path may have changed since the stat: fstat says what we really opened
        st = os.fstat(file.fileno())
        self.identity = (st.st_dev, st.st_ino)
        return self.identity

    def _restart(self, why: Reset) -> None:
        self.offset = 0
        self._cut = False
        self._next_lineno = 1
        self.reset = why
        self.resets += 1

    def _at_line_start(self) -> bool:
        if self.offset == 0 or self._file is None or self._cut:
            return True
        self._file.seek(self.offset - 1)
        return self._file.read(1) == b"\n"

    def _read(self) -> list[str]:
        assert self._file is not None
        self._file.seek(self.offset)
        data = self._file.read(self.max_bytes)
        end = data.rfind(b"\n") + 1
        if end == 0:
            if len(data) < self.max_bytes:
                return []  # a partial line: wait for its end
            end = len(data)  # a "line" longer than max_bytes: junk, let the parser say so
        self._cut = data[end - 1 : end] != b"\n"  # then the offset is mid-line on purpose
        self.offset += end
        # "\n" is never part of a UTF-8 sequence, so decoding the block then splitting is
        # the same as splitting then decoding; str.splitlines would also split on \r, \x1c...
        parts = data[:end].decode("utf-8", errors="replace").split("\n")
        cut = parts.pop()  # "" after the last "\n", or the cut junk line
        lines = [part + "\n" for part in parts]
        if cut:
            lines.append(cut)
        self.lineno = self._next_lineno
        self._next_lineno += len(lines)
        return lines
