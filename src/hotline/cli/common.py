"""What every command of the ``hotline`` CLI shares: its one error type.

A command that cannot do what was asked raises :class:`CLIError`; ``hotline.cli.main``
reports it once, the same way for every command (``hotline: MESSAGE`` on stderr), and exits
with its code: 1 when the data, a file or a service failed, 2 when the command line or the
configuration is wrong.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["CLIError", "failures", "report"]


class CLIError(Exception):
    """A command failed; the text says why, ``code`` is the exit code (1 or 2)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@contextmanager
def failures(*kinds: type[Exception], code: int = 1) -> Iterator[None]:
    """Within: an exception of one of KINDS (a layer below's error) is the command's
    failure, a :class:`CLIError` with the same text."""
    try:
        yield
    except kinds as exc:
        raise CLIError(str(exc), code) from None


def report(error: CLIError, stream: TextIO | None = None) -> int:
    """Print ERROR the CLI's way; its exit code."""
    print(f"hotline: {error}", file=stream or sys.stderr)
    return error.code
