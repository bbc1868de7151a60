"""The whisper model assembled from its two PyPI halves: byte-identical or refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.recordings.errors import ModelError
from hotline.stt import whisper_model


def test_the_installed_halves_join_into_faster_whisper_base(tmp_path: Path) -> None:
    out = whisper_model.assemble(tmp_path / "wb")
    assert sorted(p.name for p in out.iterdir()) == [".verified", *sorted(whisper_model.FILES)]
    whisper_model.verify(out)  # every file's SHA-256 is the published one


def test_a_changed_half_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    parts = whisper_model.sources()
    bad = tmp_path / "model.bin.part2"
    data = bytearray(parts["model.bin"][1].read_bytes())
    data[1000] ^= 0xFF
    bad.write_bytes(bytes(data))
    parts["model.bin"] = [parts["model.bin"][0], bad]
    with pytest.raises(ModelError, match="SHA-256") as caught:
        whisper_model.assemble(tmp_path / "wb", parts)
    assert caught.value.reason == "model_broken"
    assert not (tmp_path / "wb").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin.part2"]


def test_a_missing_half_says_how_to_install_it(tmp_path: Path) -> None:
    parts = whisper_model.sources()
    parts["model.bin"] = [parts["model.bin"][0], tmp_path / "gone.part2"]
    with pytest.raises(ModelError, match=r"hotline\[whisper\]"):
        whisper_model.assemble(tmp_path / "wb", parts)
