"""The explicit, lazy registry of engines: names to ``"module:Class"`` strings.

Nothing here imports an engine until it is asked for, so ``import reelforge`` never loads
onnxruntime, torch or pretty-midi. Tests register fake engines the same way.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any, Literal, overload

from reelforge.engines.base import (
    AsrEngine,
    CaptionEngine,
    EmbeddingEngine,
    Engine,
    EngineInfo,
    MusicEngine,
    StockEngine,
    TranslationEngine,
    VisualEngine,
    VoiceEngine,
    WriterEngine,
)
from reelforge.errors import EngineUnavailable, ReelforgeError

AVAILABLE_ENGINES: dict[str, dict[str, str]] = {
    "voice": {
        "piper": "reelforge.engines.tts.piper:PiperEngine",
        "espeak": "reelforge.engines.tts.espeak:EspeakEngine",
        "kokoro-ja": "reelforge.engines.tts.kokoro_ja:KokoroJaEngine",
        "kokoro": "reelforge.engines.tts.kokoro:KokoroEngine",
        # SVOX Pico (Debian non-free, redistributable): French, when pico2wave is installed
        "pico": "reelforge.engines.tts.pico:PicoEngine",
        # optional, non-free: MBROLA diphone voices (Arabic), when the user installed them
        "mbrola": "reelforge.engines.tts.espeak:MbrolaEngine",
        # voices beyond the catalogue's own, each configured in the settings
        "voice-folder": "reelforge.engines.tts.voice_folder:VoiceFolderEngine",
        "openai-speech": "reelforge.engines.tts.openai_speech:OpenAISpeechEngine",
        "elevenlabs": "reelforge.engines.tts.elevenlabs:ElevenLabsEngine",
        "xtts": "reelforge.engines.tts.xtts:XttsEngine",
        "f5-tts": "reelforge.engines.tts.f5_tts:F5TtsEngine",
    },
    "music": {
        "procedural": "reelforge.engines.music.procedural:ProceduralMusic",
    },
    "visuals": {
        "procedural": "reelforge.engines.visuals.procedural:ProceduralVisuals",
        "illustrated": "reelforge.engines.visuals.illustrated:IllustratedVisuals",
        # generative (the `gen` extra; models from local folders, see README "Generative visuals")
        "sd-image": "reelforge.engines.visuals.sd_image:SdImageVisuals",
        "svd-video": "reelforge.engines.visuals.svd_video:SvdVideoVisuals",
        "t2v-video": "reelforge.engines.visuals.t2v_video:T2vVideoVisuals",
    },
    "asr": {
        "whisper": "reelforge.engines.asr.whisper:WhisperEngine",
    },
    "writer": {
        "rule-based": "reelforge.engines.llm.rule_based:RuleBasedWriter",
        "openai-compatible": "reelforge.engines.llm.openai_compatible:OpenAICompatibleWriter",
    },
    # stock pictures and clips, when the user has a key (REELFORGE_PEXELS_API_KEY...)
    "stock": {
        "pexels": "reelforge.engines.stock.pexels:PexelsStock",
        "pixabay": "reelforge.engines.stock.pixabay:PixabayStock",
    },
    # what a picture shows, in words (the `gen` extra; REELFORGE_CAPTION_MODEL)
    "captioner": {
        "blip": "reelforge.engines.vision.blip:BlipCaptions",
    },
    # caption translation (`--translate fr,ar`): a chat-completions server, or a local
    # CTranslate2 model folder (NLLB-200, M2M-100, Marian/OPUS-MT); see README "Translation"
    "translation": {
        "openai-compatible": (
            "reelforge.engines.translate.openai_compatible:OpenAICompatibleTranslator"
        ),
        "ctranslate2": "reelforge.engines.translate.ctranslate2_folder:CTranslate2Translator",
    },
    # sentence meanings (clips' topics and --query, media library matching; no torch)
    "embeddings": {
        "minilm": "reelforge.engines.embeddings.minilm:MiniLMEngine",
    },
}

# The contract each kind of engine implements (reelforge.engines.base).
CONTRACTS: dict[str, type[Any]] = {
    "voice": VoiceEngine,
    "music": MusicEngine,
    "visuals": VisualEngine,
    "asr": AsrEngine,
    "writer": WriterEngine,
    "stock": StockEngine,
    "captioner": CaptionEngine,
    "translation": TranslationEngine,
    "embeddings": EmbeddingEngine,
}

# What an engine offers to choose from (music moods, picture styles), keyed by the engine's
# target: a ``"module:CONSTANT"`` mapping names to descriptions in a light module beside the
# engine, so checking a storyboard's mood loads no numpy or model. An engine without an entry
# here (a test's fake) is asked itself.
ENGINE_CHOICES: dict[str, str] = {
    "reelforge.engines.music.procedural:ProceduralMusic": (
        "reelforge.engines.music.procedural_moods:MOODS"
    ),
    "reelforge.engines.visuals.procedural:ProceduralVisuals": (
        "reelforge.engines.visuals.procedural_styles:STYLES"
    ),
    # the illustrated engine draws its subjects over the procedural engine's backdrops
    "reelforge.engines.visuals.illustrated:IllustratedVisuals": (
        "reelforge.engines.visuals.procedural_styles:STYLES"
    ),
}

_instances: dict[tuple[str, str], Engine] = {}


def register(kind: str, name: str, target: str | type) -> None:
    """Add or replace an engine. ``target`` is ``"module:Class"`` or a class."""
    if kind not in AVAILABLE_ENGINES:
        raise ValueError(f"unknown engine kind {kind!r}")
    if isinstance(target, type):
        AVAILABLE_ENGINES[kind][name] = f"{target.__module__}:{target.__qualname__}"
    else:
        AVAILABLE_ENGINES[kind][name] = target
    _instances.pop((kind, name), None)


def names(kind: str) -> list[str]:
    return list(AVAILABLE_ENGINES[kind])


@overload
def get(kind: Literal["voice"], name: str) -> VoiceEngine: ...
@overload
def get(kind: Literal["music"], name: str) -> MusicEngine: ...
@overload
def get(kind: Literal["visuals"], name: str) -> VisualEngine: ...
@overload
def get(kind: Literal["asr"], name: str) -> AsrEngine: ...
@overload
def get(kind: Literal["writer"], name: str) -> WriterEngine: ...
@overload
def get(kind: Literal["stock"], name: str) -> StockEngine: ...
@overload
def get(kind: Literal["captioner"], name: str) -> CaptionEngine: ...
@overload
def get(kind: Literal["translation"], name: str) -> TranslationEngine: ...
@overload
def get(kind: Literal["embeddings"], name: str) -> EmbeddingEngine: ...
@overload
def get(kind: str, name: str) -> Engine: ...
def get(kind: str, name: str) -> Engine:
    """Return the (cached) engine instance, importing its module on first use."""
    key = (kind, name)
    if key in _instances:
        return _instances[key]
    instance = _load(kind, name, _target(kind, name))
    _instances[key] = instance
    return instance


def _target(kind: str, name: str) -> str:
    try:
        return AVAILABLE_ENGINES[kind][name]
    except KeyError:
        known = ", ".join(AVAILABLE_ENGINES.get(kind, {})) or "none"
        raise EngineUnavailable(
            f"unknown {kind} engine {name!r}", hint=f"known {kind} engines: {known}"
        ) from None


def _import(kind: str, name: str, target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EngineUnavailable(
            f"{kind} engine {name!r} cannot be imported: {exc}",
            hint="install the optional extras: pip install 'reelforge[default]'",
        ) from exc
    return getattr(module, attribute)


def _load(kind: str, name: str, target: str) -> Engine:
    instance = _import(kind, name, target)()
    if not isinstance(instance, CONTRACTS[kind]):
        raise EngineUnavailable(
            f"{kind} engine {name!r} ({target}) does not implement the {kind} contract",
            hint=f"implement {CONTRACTS[kind].__name__} of reelforge.engines.base",
        )
    return instance  # type: ignore[no-any-return]


def choices(kind: Literal["music", "visuals"], name: str) -> dict[str, str]:
    """The music moods or picture styles engine ``name`` offers: name -> description."""
    target = _target(kind, name)
    if target in ENGINE_CHOICES:
        return dict(_import(kind, name, ENGINE_CHOICES[target]))
    if kind == "music":
        return dict.fromkeys(get("music", name).moods(), "")
    return dict.fromkeys(get("visuals", name).styles(), "")


def survey() -> list[EngineInfo]:
    """Every registered engine and whether it can run here; if not, why and the fix."""
    found = []
    for kind in AVAILABLE_ENGINES:
        for name in names(kind):
            try:
                info = get(kind, name).info()  # named as registered (a stand-in keeps its own)
                found.append(dataclasses.replace(info, name=name, kind=kind))
            except ReelforgeError as exc:
                reason = exc.message + (f" ({exc.hint})" if exc.hint else "")
                found.append(EngineInfo(name, kind, "", available=False, reason=reason))
            except Exception as exc:  # noqa: BLE001 - a broken engine must not break the list
                reason = f"{type(exc).__name__}: {exc}"
                found.append(EngineInfo(name, kind, "", available=False, reason=reason))
    return found


def reset() -> None:
    """Forget cached instances (tests)."""
    _instances.clear()
