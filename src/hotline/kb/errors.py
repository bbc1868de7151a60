"""The knowledge base's one error."""

from __future__ import annotations


class KbError(ValueError):
    """A knowledge-base request cannot be done (bad input, no such answer, a stale edit);
    the text says why and what to do."""
