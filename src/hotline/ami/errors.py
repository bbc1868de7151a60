"""Errors of the AMI package: one base, peer misbehaviour apart from local misuse.

Catch :class:`AMIError` for "anything AMI went wrong". :class:`ProtocolError` means Asterisk
(or whatever answered on the port) sent bytes we cannot frame or parse: the connection is
unusable and must be dropped. :class:`ActionError` means *our* code tried to send something
invalid (header injection, an empty name): a bug or unvalidated input, never the peer's fault.
The connection errors below are raised by the asyncio client, not by the pure protocol.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hotline.ami.message import EventList, Message


class AMIError(Exception):
    """Base of every error raised by :mod:`hotline.ami`."""


class ProtocolError(AMIError):
    """The peer sent something that cannot be framed or parsed.

    ``offset`` is the byte offset, in the whole stream received so far, where the offending
    message starts. ``items`` holds the messages completed before it in the same
    ``receive_data`` call (so nothing before ``offset`` is lost by raising).
    """

    def __init__(
        self, message: str, offset: int, items: tuple[Message | EventList, ...] = ()
    ) -> None:
        super().__init__(f"{message} (at byte {offset})")
        self.offset = offset
        self.items = items


class ActionError(AMIError):
    """Local misuse: an action that must not be sent (CR/LF/NUL injection, bad header name)."""


# -- raised by the asyncio client (hotline.ami.client) ------------------------------------
# Named for the outcome, as the client and its callers spell them (hence noqa: N818).


class ConnectFailed(AMIError):  # noqa: N818
    """The TCP connection to the AMI port could not be opened."""


class ConnectionLost(AMIError):  # noqa: N818
    """The connection dropped while an action was waiting for its reply."""


class NotConnected(AMIError):  # noqa: N818
    """An action was attempted while no AMI session is up (nothing is queued)."""


class ActionTimeout(AMIError):  # noqa: N818
    """No reply with the action's ActionID arrived in time."""


class ActionFailed(AMIError):  # noqa: N818
    """Asterisk answered ``Response: Error``; ``response`` is that reply."""

    def __init__(self, message: str, response: Message | None = None) -> None:
        super().__init__(message)
        self.response = response


class LoginFailed(AMIError):  # noqa: N818
    """Asterisk refused the credentials (``Authentication failed``)."""
