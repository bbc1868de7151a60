"""The orders' one error type."""

from __future__ import annotations

__all__ = ["OrderError"]


class OrderError(ValueError):
    """A step the rules do not allow, or an order that is not there; the text says why."""
