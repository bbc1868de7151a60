"""IVR prompts: the Mandarin and English texts, and what shapes their audio (pure).

A flow's ``prompts`` become one :class:`Prompt` per name and language; the name is the
file Asterisk plays (``Playback(/srv/hotline/prompts/<lang>/<name>)``)::

    prompts = prompts_from_table(flow.prompts)
    ssml(prompts[0])                        # what espeak-ng speaks: one <voice> per run
    cache_key(prompts[0], engine_version)   # the cache file of its synthetic audio

The voices, the sox effects and the output format are here because they decide the audio
and so the cache key; :mod:`hotline.pbx.voice` runs espeak-ng and sox with them and
installs the files.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType
from xml.sax.saxutils import escape as xml_escape

LANGUAGES = frozenset({"zh", "en"})
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")

# What Asterisk's format_wav reads: 8 kHz, 16-bit signed PCM, mono.
RATE = 8000
OUTPUT = ("-t", "wav", "-b", "16", "-e", "signed-integer")
"""sox's output options for that format."""

# Bump when the rendering changes in a way the settings below do not capture.
_KEY_SCHEMA = 1


class PromptError(ValueError):
    """A prompt is invalid, or could not be rendered or installed."""


@dataclass(frozen=True, slots=True)
class Prompt:
    """One text in one language. ``name`` is the file name Asterisk's Playback() uses."""

    name: str
    language: str
    text: str

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise PromptError(
                f"prompt {self.name!r}: the name must match [a-z0-9][a-z0-9-]* "
                "(it becomes a file name in Playback())"
            )
        if self.language not in LANGUAGES:
            raise PromptError(
                f"prompt {self.name!r}: language {self.language!r} is not one of "
                f"{sorted(LANGUAGES)}"
            )
        if not self.text.strip():
            raise PromptError(f"prompt {self.name!r} ({self.language}): the text is empty")


@dataclass(frozen=True, slots=True)
class Voice:
    """espeak-ng settings for one language (see ``espeak-ng --help``)."""

    voice: str
    speed_wpm: int
    pitch: int
    amplitude: int

    def args(self) -> tuple[str, ...]:
        return (
            *("-v", self.voice, "-s", str(self.speed_wpm)),
            *("-p", str(self.pitch), "-a", str(self.amplitude)),
        )


VOICES: Mapping[str, Voice] = MappingProxyType(
    {
        # Not plain `cmn`: in espeak-ng 1.51 its dictionary turns hanzi into pinyin with tone
        # digits ("nin2 hao3") which that voice, "latin as English", then reads in English
        # ("nin two hao three"). `cmn-latn-pinyin` reads the same pinyin as Mandarin.
        "zh": Voice("cmn-latn-pinyin", speed_wpm=150, pitch=50, amplitude=60),
        "en": Voice("en-us", speed_wpm=160, pitch=50, amplitude=60),
        # amplitude 60, not the default 100: at 100 espeak-ng's Mandarin peaks at full scale.
    }
)

# Telephone band is 300-3400 Hz (G.711): the two-pole filters are gentle, so the voice keeps
# some warmth below 300 Hz; `rate -v` is the steep anti-alias cut at 4 kHz. Peak-normalising
# after resampling leaves 3 dB of headroom, so the resampler's overshoot cannot clip.
SYNTH_EFFECTS = (
    *("channels", "1"),
    *("highpass", "300", "lowpass", "3400"),
    *("rate", "-v", str(RATE), "gain", "-n", "-3"),
)


def prompts_from_table(table: Mapping[str, Mapping[str, str]]) -> list[Prompt]:
    """``{name: {lang: text}}`` (a flow's ``prompts``) as a list of :class:`Prompt`."""
    return [
        Prompt(name, language, text)
        for name, texts in table.items()
        for language, text in texts.items()
    ]


# A bilingual menu says "普通话请按1，For English, press 2" in one prompt. The Mandarin voice
# would read the English as pinyin and the English voice says "Chinese letter" for each
# hanzi, so runs in the other script are handed to the other language's voice.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_FOREIGN_RUN: Mapping[str, re.Pattern[str]] = MappingProxyType(
    {
        # in a Mandarin prompt: Latin words with the digits and punctuation between them
        "zh": re.compile(r"[A-Za-z][A-Za-z0-9\s,.'’?!:;&/-]*"),
        # in an English prompt: hanzi with CJK/full-width punctuation, digits and spaces
        "en": re.compile(f"[{_HAN}][{_HAN}\u3000-\u303f\uff00-\uffef0-9\\s]*"),
    }
)


def segments(prompt: Prompt) -> list[tuple[str, str]]:
    """``prompt.text`` cut into ``(language, text)`` runs, each for one voice to speak."""
    other = next(lang for lang in sorted(LANGUAGES) if lang != prompt.language)
    out: list[tuple[str, str]] = []
    pos = 0
    for m in _FOREIGN_RUN[prompt.language].finditer(prompt.text):
        if m.start() > pos:
            out.append((prompt.language, prompt.text[pos : m.start()]))
        out.append((other, m.group()))
        pos = m.end()
    if pos < len(prompt.text):
        out.append((prompt.language, prompt.text[pos:]))
    return out


def ssml(prompt: Prompt) -> str:
    """The SSML document espeak-ng (``-m``) speaks for ``prompt``: one <voice> per run.

    Every run names its voice: after a ``</voice>`` espeak-ng 1.51 falls back to the voice
    for the language *code* (plain ``cmn``), not to the ``-v`` voice it started with.
    """
    body = "".join(
        f'<voice name="{VOICES[lang].voice}">{xml_escape(text)}</voice>'
        for lang, text in segments(prompt)
    )
    return f"<speak>{body}</speak>"


def cache_key(prompt: Prompt, engine_version: str) -> str:
    """The cache file name (hex sha256) of a synthetic prompt.

    Covers everything that shapes the audio: language, text, voice, sox effects, output
    format and ``engine_version`` (from :func:`hotline.pbx.voice.detect_engine_version`).
    The name is left out, so prompts with the same text share one file.
    """
    material = {
        "schema": _KEY_SCHEMA,
        "language": prompt.language,
        "text": prompt.text,
        "ssml": ssml(prompt),
        "voice": asdict(VOICES[prompt.language]),
        "effects": SYNTH_EFFECTS,
        "output": OUTPUT,
        "engine": engine_version,
    }
    blob = json.dumps(material, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
