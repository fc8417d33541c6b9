"""Caption translation: the narration's caption cues in other languages, same times.

Planning calls :func:`translate_captions` with the caption lines it made; each target
language becomes a :class:`reelforge.timeline.SubtitleTrack` that the render muxes as a soft
subtitle track (``mov_text``) and ``make`` writes as ``video.<code>.srt`` / ``.vtt``. The
burned-in captions stay in the narration's language. Every language is translated before
anything is encoded or written, so an engine that fails half-way leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reelforge.engines import registry
from reelforge.engines.base import TranslationRequest
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError
from reelforge.settings import Settings, get_settings
from reelforge.text.language import is_rtl, primary_language
from reelforge.text.languages import TranslationLanguage, translation_language
from reelforge.timeline import CaptionLine, SubtitleTrack

Progress = Callable[[str, float], None]

NOT_CONFIGURED_HINT = (
    "set REELFORGE_TRANSLATION_MODEL to a local CTranslate2 model folder (NLLB-200, M2M-100 "
    "or Marian/OPUS-MT), or REELFORGE_LLM_ENDPOINT (and REELFORGE_LLM_MODEL) to an "
    "OpenAI-compatible chat server; REELFORGE_TRANSLATION_ENGINE chooses when both are set. "
    "See README, Translation"
)


@dataclass(frozen=True)
class Translated:
    """The translated tracks, in the order asked, and the engine that wrote them."""

    tracks: tuple[SubtitleTrack, ...]
    engine: dict[str, str]


def engine_name(settings: Settings | None = None) -> str:
    """The translation engine the settings choose; EngineUnavailable naming the settings to
    set when none is configured."""
    settings = settings or get_settings()
    if settings.translation_engine:
        return settings.translation_engine
    if settings.translation_model is not None:
        return "ctranslate2"
    if settings.llm_endpoint:
        return "openai-compatible"
    raise EngineUnavailable(
        "captions cannot be translated: no translation engine is configured",
        hint=NOT_CONFIGURED_HINT,
    )


def targets(codes: Sequence[str], source: str) -> tuple[TranslationLanguage, ...]:
    """The languages ``codes`` name, checked: known, distinct, none the narration's own."""
    found = tuple(translation_language(code) for code in codes)
    same = [lang for lang in found if lang.code == primary_language(source)]
    if same:
        raise SpecError(
            f"translate: the narration is already in {same[0].name} ({same[0].code})",
            hint="list only other languages; the burned-in captions are the narration's",
        )
    return found


def check(codes: Sequence[str], source: str, engine: str = "") -> str:
    """Fail fast, before any voice speaks: the languages are known and not the narration's,
    and a translation engine is configured and can run. Returns the engine's name."""
    targets(codes, source)
    try:
        translation_language(source)
    except SpecError as exc:
        raise SpecError(
            f"cannot translate captions from the narration's language {source!r}",
            hint=exc.hint,
        ) from None
    return check_engine(engine)


def check_engine(engine: str = "") -> str:
    """The translation engine ``engine`` ("" = the settings' choice), checked to be able to
    run here; EngineUnavailable naming the settings to set when it cannot."""
    name = engine or engine_name()
    info = registry.get("translation", name).info()
    if not info.available:
        raise EngineUnavailable(
            f"the {name} translation engine cannot run: {info.reason}", hint=NOT_CONFIGURED_HINT
        )
    return name


def translate_captions(
    lines: Sequence[CaptionLine],
    source: str,
    codes: Sequence[str],
    *,
    engine: str = "",
    progress: Progress | None = None,
) -> Translated:
    """``lines`` (in ``source``) translated into each language of ``codes``: one track per
    language, one cue per line with the line's own times. ``engine`` = "" chooses by the
    settings."""
    languages = targets(codes, source)
    if not languages:
        return Translated((), {})
    name = check(codes, source, engine)
    translator = registry.get("translation", name)
    version = translator.info().version
    texts = tuple(line.text for line in lines)
    tracks, model = [], ""
    for number, language in enumerate(languages):
        request = TranslationRequest(texts, primary_language(source), language.code)
        done = translator.translate(request)
        if len(done.texts) != len(texts):
            raise EngineFailed(
                f"the {name} translation engine gave {len(done.texts)} {language.name} "
                f"cues for {len(texts)} captions",
                hint="this is a bug in the engine: it must keep one text per cue",
            )
        cues = tuple(
            CaptionLine(line.start_ms, line.end_ms, text, rtl=is_rtl(language.code))
            for line, text in zip(lines, done.texts, strict=True)
        )
        tracks.append(SubtitleTrack(language.code, language.iso639_2, language.name, cues))
        model = done.model
        if progress:
            progress("translation", (number + 1) / len(languages))
    return Translated(tuple(tracks), {"name": name, "version": version, "model": model})
