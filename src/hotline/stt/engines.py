"""Open the engine of a kind: the only module that knows every engine's module.

The engines import :mod:`hotline.stt.engine` (the interface); this module imports them, each
only when its kind is asked for, so a centre without Vosk never loads it.
"""

from __future__ import annotations

from hotline.host.settings import Settings
from hotline.stt.engine import Engine, EngineKind


def open_engine(
    kind: EngineKind, settings: Settings, language: str | None = None, threads: int = 0
) -> Engine:
    """Load KIND's model as SETTINGS say (once per process per model); ModelError if it
    is missing or broken. THREADS: whisper's CPU threads (0: its default)."""
    if kind is EngineKind.VOSK:
        from hotline.stt import vosk_engine

        # a model for another language than the centre's is refused (the bundled test
        # model is Korean: it printed Korean words for Mandarin calls)
        return vosk_engine.VoskEngine.load(settings.vosk_model, language or settings.stt_language)
    from hotline.stt import whisper_engine

    return whisper_engine.WhisperEngine.load(
        settings.whisper_model, language or settings.stt_language, threads
    )
