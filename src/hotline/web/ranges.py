"""HTTP Range requests over a file of known size (pure): RFC 9110 §14, one range.

    parse_range("bytes=0-99", size=1000)     # (0, 99)
    parse_range("bytes=-100", size=1000)     # (900, 999): the last 100 bytes
    parse_range(None, size=1000)             # None: the whole file
    parse_range("bytes=5000-", size=1000)    # raises Unsatisfiable (answer 416)

Several ranges in one header are refused as unsatisfiable: an audio player asks for one
range at a time, and a multipart answer would only serve a scraper.
"""

from __future__ import annotations

import re

_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")  # ASCII digits: \d also takes "١٢"


class Unsatisfiable(ValueError):  # noqa: N818
    """The Range cannot be served: answer 416 with ``Content-Range: bytes */SIZE``."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte to send, or None to send the whole file."""
    if header is None or not header.strip():
        return None
    m = _RANGE.fullmatch(header.strip().replace(" ", ""))
    if m is None:
        raise Unsatisfiable(f"unsupported Range {header[:60]!r}")
    first, last = m.group(1), m.group(2)
    if not first and not last:
        raise Unsatisfiable("empty Range")
    if not first:  # a suffix: the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise Unsatisfiable("an empty suffix")
        return max(0, size - n), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise Unsatisfiable(f"bytes {start}-{end} of {size}")
    return start, min(end, size - 1)
