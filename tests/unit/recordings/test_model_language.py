"""Which language a Vosk model serves, from its directory's name (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.recordings.errors import ModelError
from hotline.stt.vosk_engine import VoskEngine, model_language


@pytest.mark.parametrize(
    ("name", "language"),
    [
        ("vosk-model-cn-0.22", "zh"),
        ("vosk-model-small-cn-0.22", "zh"),
        ("vosk-model-en-us-0.22", "en"),
        ("vosk-model-small-ko-0.22", "ko"),
        ("vosk-model-ru", "ru"),
        ("model", None),  # unknown: the configured language is trusted
        ("my-vosk-model-cn", None),
    ],
)
def test_the_name_says_the_language(name: str, language: str | None) -> None:
    assert model_language(name) == language


def test_a_model_for_another_language_is_refused_before_loading(tmp_path: Path) -> None:
    model = tmp_path / "vosk-model-small-ko-0.22"  # not even a model: never loaded
    with pytest.raises(ModelError, match="recognises 'ko', not 'zh'") as refused:
        VoskEngine.load(model, "zh")
    assert refused.value.reason == "language"
    assert "vosk-model-cn-0.22" in str(refused.value)
