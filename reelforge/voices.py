"""The voice catalogue across engines, and voice resolution for a scene.

Voice ids are ``<language>-<age>-<gender>`` ("en-adult-male", "ar-senior-female"). Several
engines may offer the same id; the catalogue keeps the best one (piper's neural English voice
and kokoro-ja's neural Japanese voices before espeak's formant ones), so a machine without them
still speaks every id with espeak.

Regional tags resolve to their primary language: "ar-dz" (Algerian Darija) and the voice
"ar-dz-adult-male" use the Arabic voices, which speak Modern Standard Arabic pronunciation.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
from pathlib import Path

from reelforge import speech_transform
from reelforge.engines import registry
from reelforge.engines.base import SpeechRequest, SpeechResult, VoiceEngine, VoiceInfo
from reelforge.errors import EngineUnavailable, ReelforgeError, SpecError
from reelforge.text.language import primary_language

# Engines in order of preference: an id offered by an earlier engine hides later ones.
ENGINE_PREFERENCE: tuple[str, ...] = ("piper", "kokoro-ja", "kokoro", "espeak")
AGES: tuple[str, ...] = ("adult", "young", "teen", "preteen", "child", "toddler", "baby", "senior")
# Other names people use for an age group in a voice id.
AGE_ALIASES: dict[str, str] = {"mature": "senior", "elder": "senior", "kid": "child"}
GENDERS: tuple[str, ...] = ("male", "female", "neutral")
# When no voice is named: the first of these the language has.
_DEFAULT_PERSONAS: tuple[tuple[str, str], ...] = (
    ("adult", "male"),
    ("adult", "female"),
    ("adult", "neutral"),
)
_LIST_HINT = "run `reelforge voices` to list every voice"


def catalog() -> list[VoiceInfo]:
    """Every voice this machine can speak, one per id, best engine first.

    Engines that cannot load (missing extra or library) are skipped.
    """
    seen: dict[str, VoiceInfo] = {}
    names = [n for n in ENGINE_PREFERENCE if n in registry.names("voice")]
    names += [n for n in registry.names("voice") if n not in ENGINE_PREFERENCE]
    for name in names:
        try:
            engine = registry.get("voice", name)
            voices = engine.voices()
        except ReelforgeError:
            continue
        for voice in voices:
            seen.setdefault(voice.id, voice)
    return sorted(seen.values(), key=_sort_key)


def _sort_key(voice: VoiceInfo) -> tuple[str, int, int]:
    age = AGES.index(voice.age) if voice.age in AGES else len(AGES)
    gender = GENDERS.index(voice.gender) if voice.gender in GENDERS else len(GENDERS)
    return voice.language, age, gender


def _split_id(voice_id: str) -> tuple[str, str, str] | None:
    """Split "ar-dz-adult-male" into ("ar", "adult", "male"); None if not of that shape."""
    parts = voice_id.strip().lower().split("-")
    if len(parts) < 3 or not parts[0]:
        return None
    return parts[0], parts[-2], parts[-1]


def resolve_voice(voice: str | None, language: str) -> VoiceInfo:
    """The catalogue voice for a scene.

    ``voice=None`` picks the language's default (piper's English voice for "en", else espeak).
    An explicit id is honoured even if its language differs from the scene's (a French voice
    reading English is the user's choice); an unknown id is a SpecError listing close ids.
    """
    voices = catalog()
    if not voices:
        raise EngineUnavailable(
            "no voice engine can run on this machine",
            hint="install espeak-ng (apt-get install espeak-ng) or pip install 'reelforge[voice]'",
        )
    by_id = {v.id: v for v in voices}
    if voice is None or not voice.strip():
        lang = primary_language(language)
        mine = [v for v in voices if v.language == lang]
        for age, gender in _DEFAULT_PERSONAS:
            for v in mine:
                if (v.age, v.gender) == (age, gender):
                    return v
        if mine:
            return mine[0]
        langs = ", ".join(sorted({v.language for v in voices}))
        if lang == "zh":
            raise SpecError(
                "no voice speaks Mandarin Chinese ('zh') here: espeak-ng's Mandarin voice "
                "cannot read Chinese characters",
                hint="narrate in another language, give a recorded narration, or set "
                "language: yue for Cantonese (espeak-ng, robotic)",
            )
        raise SpecError(
            f"no voice speaks language {language!r}",
            hint=f"set the scene's language to one of: {langs}; or {_LIST_HINT}",
        )
    wanted = voice.strip().lower()
    if wanted in by_id:
        return by_id[wanted]
    parts = _split_id(wanted)
    if parts is not None:  # regional tag: "ar-dz-adult-male" -> "ar-adult-male"
        lang, age, gender = parts
        age = AGE_ALIASES.get(age, age)
        canonical = f"{lang}-{age}-{gender}"
        if canonical in by_id:
            return by_id[canonical]
    close = difflib.get_close_matches(wanted, list(by_id), n=5, cutoff=0.5)
    suggestion = f"did you mean {', '.join(close)}? " if close else ""
    raise SpecError(f"unknown voice {voice!r}", hint=f"{suggestion}{_LIST_HINT}")


def synthesize(
    text: str,
    language: str,
    voice: str | None = None,
    speed: float = 1.0,
    *,
    workdir: Path,
    pitch: float = 0.0,
) -> SpeechResult:
    """Resolve the voice and speak ``text`` with its engine and the voice's transform."""
    info = resolve_voice(voice, language)
    engine = registry.get("voice", info.engine)
    request = SpeechRequest(
        text=text,
        language=info.language,
        voice=info.engine_voice,
        speed=speed,
        pitch=pitch,
    )
    return speak(engine, info, request, Path(workdir))


# Engines that move pitch themselves; for the others the voice layer shifts it with WORLD.
NATIVE_PITCH = frozenset({"espeak"})


def speak(
    engine: VoiceEngine, info: VoiceInfo, request: SpeechRequest, workdir: Path
) -> SpeechResult:
    """``engine`` speaks ``request`` as voice ``info``: its speed factor is given to the engine
    (word times stay the engine's own), then its WORLD transform and any pitch shift the engine
    cannot do are applied to the audio, which keeps its length (and so every word time)."""
    if not 0.5 <= request.speed <= 2.0:
        raise SpecError(f"speech speed {request.speed:g} is out of range", hint="use 0.5 to 2.0")
    transform = speech_transform.parse(info.transform)
    speed = request.speed * transform.speed
    world_pitch = 0.0 if info.engine in NATIVE_PITCH else request.pitch
    asked = dataclasses.replace(
        request, speed=speed, pitch=request.pitch if info.engine in NATIVE_PITCH else 0.0
    )
    result = engine.synthesize(asked, workdir)
    if transform.identity and world_pitch == 0.0:
        return result
    audio = Path(result.audio)
    target = audio.with_name(f"{audio.stem}-{_transform_key(info.transform, world_pitch)}.wav")
    speech_transform.apply(audio, target, transform, world_pitch)
    return dataclasses.replace(result, audio=target)


def _transform_key(transform: str, pitch: float) -> str:
    return hashlib.sha256(f"{transform}|{pitch}".encode()).hexdigest()[:8]
