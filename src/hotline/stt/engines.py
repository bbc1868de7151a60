"""Open the engine of a kind: the only module that knows every engine's module.

The engines import :mod:`hotline.stt.engine` (the interface); this module imports them, each
only when its kind is asked for, so a centre without Vosk never loads it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

from hotline.center.config import load_center
from hotline.host.settings import Settings
from hotline.ivr.loader import load_flow
from hotline.stores.dialect import DatabaseError
from hotline.stores.kb import KbStore
from hotline.stt.engine import Engine, EngineKind
from hotline.transcripts.vocabulary import Term, fit, gather, hotwords

log = logging.getLogger(__name__)


def site_vocabulary(settings: Settings, *, kb: bool = True) -> tuple[Term, ...]:
    """The centre's words (:mod:`hotline.transcripts.vocabulary`): its centre file's
    ``stt.vocabulary`` and, unless it says ``gather: false``, its departments, order
    categories, the flow's queue labels and the knowledge base's titles. A centre or flow
    file that does not load is an error (CenterError, FlowError); a knowledge base that
    cannot be read (a worker on another host without the database) is logged and left out."""
    center = load_center(settings.center.read_text(encoding="utf-8"))
    flow = load_flow(settings.flow.read_text(encoding="utf-8"), str(settings.flow))
    titles: list[str] = []
    if isinstance(settings.db, Path) and not settings.db.exists():
        log.info("vocabulary without the knowledge base's titles: no database %s", settings.db)
    elif kb and center.vocabulary.gather:
        try:
            store = KbStore.open(settings.db)
            try:
                titles = [a.content.title for a in store.answers()]
            finally:
                store.close()
        except DatabaseError as exc:
            log.warning("vocabulary without the knowledge base's titles: %s", exc)
    return gather(
        center.vocabulary,
        departments=[d.name for d in center.orders.departments.values()],
        categories=list(center.orders.categories),
        queues=[q.label for q in flow.queues.values()],
        kb_titles=titles,
    )


def vocabulary_fit(settings: Settings) -> tuple[tuple[Term, ...], tuple[Term, ...], int]:
    """The site's words whisper is given, those over its budget, and the budget (tokens)."""
    from hotline.stt import whisper_engine

    engine = whisper_engine.WhisperEngine.load(settings.whisper_model, settings.stt_language)
    kept, dropped = fit(site_vocabulary(settings), engine.count_tokens, engine.hotword_budget)
    return kept, dropped, engine.hotword_budget


def open_engine(
    kind: EngineKind,
    settings: Settings,
    language: str | None = None,
    threads: int = 0,
    vocabulary: Sequence[Term] | None = None,
) -> Engine:
    """Load KIND's model as SETTINGS say (once per process per model); ModelError if it
    is missing or broken. THREADS: whisper's CPU threads (0: its default). VOCABULARY: the
    words whisper is given as hotwords (None: the site's, :func:`site_vocabulary`, when
    the engine hears the centre's language; ``()``: none); the Vosk models here take none."""
    if kind is EngineKind.VOSK:
        from hotline.stt import vosk_engine

        # a model for another language than the centre's is refused (the bundled test
        # model is Korean: it printed Korean words for Mandarin calls)
        return vosk_engine.VoskEngine.load(settings.vosk_model, language or settings.stt_language)
    from hotline.stt import whisper_engine

    engine = whisper_engine.WhisperEngine.load(
        settings.whisper_model, language or settings.stt_language, threads
    )
    if vocabulary is None:  # the centre's words, for the centre's language only
        centre = engine.language == settings.stt_language
        words = site_vocabulary(settings) if centre else ()
    else:
        words = tuple(vocabulary)
    kept, dropped = fit(words, engine.count_tokens, engine.hotword_budget)
    if dropped:
        log.info("vocabulary: %d words given to whisper, %d left out (its budget is %d tokens)",
                 len(kept), len(dropped), engine.hotword_budget)  # fmt: skip
    return dataclasses.replace(engine, hotwords=hotwords(kept))
