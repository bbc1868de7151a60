"""Each speech engine's library is imported by its one module and nowhere else."""

from __future__ import annotations

from pathlib import Path

import hotline
from tests.unit.test_import_contracts import imported_modules

PACKAGE = Path(hotline.__file__).parent
OWNERS = {
    "vosk": "stt/vosk_engine.py",
    "faster_whisper": "stt/whisper_engine.py",
    "zhconv": "stt/whisper_engine.py",
    "sounddevice": "recordings/sound.py",
}


def test_one_module_imports_each_engine() -> None:
    found: dict[str, set[str]] = {lib: set() for lib in OWNERS}
    for path in PACKAGE.rglob("*.py"):
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top in found:
                found[top].add(str(path.relative_to(PACKAGE)))
    assert found == {lib: {owner} for lib, owner in OWNERS.items()}
