"""Catalogue: templates, voices, the built-in cast, music moods, options (engines and why not)
and pricing.

Public (no key): they describe this installation, not anyone's data. Built once per process:
listing voices loads every voice engine, which takes about a second.
"""

from __future__ import annotations

import shutil
import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

import reelforge
from reelforge import kinds
from reelforge.kinds import Workload
from reelforge.service.api.deps import LimitedCallerDep, ServiceDep, SettingsDep
from reelforge.service.api.problems import responses
from reelforge.service.api.schemas import VideoRequest
from reelforge.service.pricing import price

router = APIRouter(prefix="/api", tags=["catalogue"])

_lock = threading.RLock()  # _options() builds "voices" and "engines" inside its own build
_cache: dict[str, Any] = {}


def _cached(name: str, build: Any) -> Any:
    with _lock:
        if name not in _cache:
            _cache[name] = build()
        return _cache[name]


def reset_cache() -> None:
    """Forget what was built (tests that register engines)."""
    with _lock:
        _cache.clear()


class Template(BaseModel):
    name: str
    description: str
    palette: list[str]
    visual_style: str
    title_font: str
    caption_style: str
    caption_color: str
    caption_highlight: str
    caption_uppercase: bool
    music_mood: str
    transition: str
    transition_duration: float
    grade: str
    motions: list[str]
    prompt_keywords: list[str]
    cultural_contexts: dict[str, list[str]]


class Voice(BaseModel):
    id: str
    engine: str
    language: str
    gender: str
    age: str
    description: str


class CastMember(BaseModel):
    name: str = Field(description="what a request's ``character`` field takes")
    display_name: str
    age: str
    gender: str
    voice: str = Field(description="the voice it speaks with when none is chosen")
    description: str


class Mood(BaseModel):
    name: str
    description: str


class Engine(BaseModel):
    kind: str
    name: str
    version: str
    available: bool
    reason: str = Field(description="why it cannot run here, and the fix; empty when available")


class Language(BaseModel):
    code: str = Field(description="ISO 639-1, what a request's translate lists")
    name: str


class Translation(BaseModel):
    engine: str | None = Field(description="the engine this server translates with, if any")
    available: bool
    reason: str = Field(description="why captions cannot be translated here; empty when they can")
    hint: str = Field(description="what the server's operator sets to translate captions")
    languages: list[Language] = Field(description="what captions can be translated into")
    max_languages: int = Field(description="the most translations of one video")


class Options(BaseModel):
    formats: list[str]
    languages: list[str]
    caption_styles: list[str]
    music_moods: list[str]
    visual_styles: list[str]
    transitions: list[str]
    grades: list[str]
    templates: list[str]
    priorities: list[str]
    downloads: list[str]
    engines: list[Engine]
    ffmpeg: bool
    translation: Translation


class Pricing(BaseModel):
    duration_s: float
    preview: bool
    accelerator: Literal["cpu", "gpu"]
    compute_seconds: float
    price_per_compute_second: float
    cost: float
    currency: str
    rates: dict[str, float]


def _templates() -> list[dict[str, Any]]:
    return [t.to_dict() for t in reelforge.list_templates()]


def _voices() -> list[dict[str, Any]]:
    return [
        {
            "id": v.id,
            "engine": v.engine,
            "language": v.language,
            "gender": v.gender,
            "age": v.age,
            "description": v.description,
        }
        for v in reelforge.list_voices()
    ]


def _moods() -> list[dict[str, str]]:
    from reelforge import list_moods
    from reelforge.spec.templates import MUSIC_MOODS

    descriptions = list_moods()  # light: the mood table imports no numpy or MIDI
    return [{"name": m, "description": descriptions.get(m, "")} for m in MUSIC_MOODS]


def engines() -> list[dict[str, Any]]:
    """Every registered engine, whether it can run here, and if not why (with the fix)."""
    return [
        {
            "kind": info.kind,
            "name": info.name,
            "version": info.version,
            "available": bool(info.available),
            "reason": info.reason,
        }
        for info in reelforge.list_engines()
    ]


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


def _options() -> dict[str, Any]:
    from reelforge.captions.formats import CAPTION_STYLES
    from reelforge.service.models import PRIORITIES
    from reelforge.spec.model import FORMATS
    from reelforge.spec.templates import MUSIC_MOODS, TEMPLATES, VISUAL_STYLES
    from reelforge.timeline import GRADES, TRANSITIONS

    languages = sorted({v["language"] for v in _cached("voices", _voices)})
    return {
        "formats": list(FORMATS),
        "languages": languages,
        "caption_styles": [*CAPTION_STYLES, "none"],
        "music_moods": [*MUSIC_MOODS, "none"],
        "visual_styles": list(VISUAL_STYLES),
        "transitions": list(TRANSITIONS),
        "grades": list(GRADES),
        "templates": list(TEMPLATES),
        "priorities": list(PRIORITIES),
        "downloads": [output.download for output in kinds.get("video").outputs.values()],
        "engines": _cached("engines", engines),
        "ffmpeg": ffmpeg_available(),
        "translation": _translation(),
    }


def _translation() -> dict[str, Any]:
    """Whether a video's captions can be translated here (``translate``), and into what."""
    from reelforge import translation
    from reelforge.errors import ReelforgeError
    from reelforge.spec.model import MAX_TRANSLATIONS
    from reelforge.text.languages import TRANSLATION_LANGUAGES

    try:
        engine, reason, hint = translation.check_engine(), "", ""
    except ReelforgeError as exc:  # none configured, or it cannot run: say why and the fix
        engine, reason, hint = None, exc.message, exc.hint
    return {
        "engine": engine,
        "available": engine is not None,
        "reason": reason,
        "hint": hint,
        "languages": [{"code": c, "name": lang.name} for c, lang in TRANSLATION_LANGUAGES.items()],
        "max_languages": MAX_TRANSLATIONS,
    }


@router.get("/templates", response_model=list[Template], summary="Built-in templates")
def list_templates() -> Any:
    return _cached("templates", _templates)


@router.get("/voices", response_model=list[Voice], summary="Voices this installation speaks")
def list_voices(
    language: Annotated[str | None, Query(max_length=16, description="e.g. en, fr, ar")] = None,
    gender: Annotated[Literal["male", "female", "neutral"] | None, Query()] = None,
    age: Annotated[
        str | None,
        Query(max_length=16, pattern=r"^[a-z]+$", description="e.g. child, teen, adult, senior"),
    ] = None,
) -> Any:
    from reelforge.text.language import primary_language

    voices: list[dict[str, Any]] = _cached("voices", _voices)
    if language:
        wanted = primary_language(language)
        voices = [v for v in voices if v["language"] == wanted]
    if gender:
        voices = [v for v in voices if v["gender"] == gender]
    if age:
        from reelforge.voices import AGE_ALIASES

        wanted_age = AGE_ALIASES.get(age, age)  # "mature" names the senior voices
        voices = [v for v in voices if v["age"] == wanted_age]
    return voices


@router.get(
    "/characters",
    response_model=list[CastMember],
    summary="The built-in cast of talking characters (for talking videos and podcasts)",
)
def list_characters() -> Any:
    from reelforge.talking.cast import cast_list

    return _cached("characters", cast_list)


@router.get("/music-moods", response_model=list[Mood], summary="Music moods")
def list_moods() -> Any:
    return _cached("moods", _moods)


@router.get(
    "/options",
    response_model=Options,
    summary="Formats, languages, styles and the engines available here (or why not)",
)
def options() -> Any:
    return _cached("options", _options)


@router.get(
    "/pricing",
    response_model=Pricing,
    responses=responses(422),
    summary="Estimated compute seconds and cost of a video of this length",
)
def pricing(
    settings: SettingsDep,
    duration: Annotated[float, Query(gt=0, le=3600, description="video length, seconds")] = 60.0,
    preview: bool = False,
    accelerator: Literal["cpu", "gpu"] = "cpu",
) -> Any:
    return estimate(settings, duration, preview, accelerator)


class Estimate(BaseModel):
    duration_s: float
    compute_s: float
    queue: str
    preview: bool
    scenes: int
    cost: float
    currency: str
    rates: dict[str, float]


@router.post(
    "/pricing",
    response_model=Estimate,
    responses=responses(422, 429),
    summary="Estimated compute seconds and cost of this video request",
)
async def price_request(body: VideoRequest, service: ServiceDep, caller: LimitedCallerDep) -> Any:
    return await run_in_threadpool(service.estimate, body.to_service())


def estimate(settings: Any, duration: float, preview: bool, accelerator: str) -> dict[str, Any]:
    """Compute seconds and cost of a 1080p video lasting ``duration`` seconds, from the
    configured rates (REELFORGE_PRICE_* and friends), by the service's one pricing formula."""
    priced = price(Workload(seconds=duration), preview, accelerator, settings)
    return {
        "duration_s": duration,
        "preview": preview,
        "accelerator": accelerator,
        "compute_seconds": round(priced.compute_s, 2),
        "price_per_compute_second": priced.rate,
        "cost": round(priced.cost, 6),
        "currency": settings.currency,
        "rates": {
            "compute_per_output_second": settings.compute_per_output_second,
            "compute_per_output_second_preview": settings.compute_per_output_second_preview,
            "compute_overhead_s": settings.compute_overhead_s,
            "price_cpu_second": settings.price_cpu_second,
            "price_gpu_second": settings.price_gpu_second,
        },
    }
