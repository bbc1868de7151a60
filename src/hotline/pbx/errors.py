"""Errors of the PBX runner: each says what failed and what to do about it."""


class PBXError(Exception):
    """The bundled PBX could not be started, stopped or reached; ``str()`` says how to fix it."""
