"""Each speech engine's library is imported by its one module and nowhere else."""

from __future__ import annotations

import grimp

OWNERS = {
    "vosk": "hotline.stt.vosk_engine",
    "faster_whisper": "hotline.stt.whisper_engine",
    "zhconv": "hotline.stt.whisper_engine",
    "sounddevice": "hotline.recordings.sound",
}


def test_one_module_imports_each_engine() -> None:
    g = grimp.build_graph("hotline", include_external_packages=True)
    found = {lib: g.find_modules_that_directly_import(lib) for lib in OWNERS}
    assert found == {lib: {owner} for lib, owner in OWNERS.items()}
