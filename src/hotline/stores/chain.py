"""Hash chains for the append-only logs (agent journal, access log, disposal records).

Each entry's hash is the SHA-256 of the previous entry's hash and the entry's fields as
compact JSON, so changing, removing or reordering any entry breaks every hash after it:

    prev = GENESIS
    for fields in entries:
        prev = link(prev, fields)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

GENESIS = "0" * 64


def link(prev: str, fields: Sequence[object]) -> str:
    """The hash of an entry with FIELDS (JSON values) after the entry hashed PREV."""
    body = json.dumps([prev, *fields], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()
