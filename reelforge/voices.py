"""The voice catalogue across engines, and voice resolution for a scene.

Voice ids are ``<language>-<age>-<gender>`` ("en-adult-male", "ar-senior-female"). Several
engines may offer the same id; the catalogue keeps the best one (piper's neural English voice
and kokoro-ja's neural Japanese voices before espeak's formant ones), so a machine without them
still speaks every id with espeak.

Regional tags resolve to their primary language: "ar-dz" (Algerian Darija) and the voice
"ar-dz-adult-male" use the Arabic voices, which speak Modern Standard Arabic pronunciation.
Maghrebi Darija (ar-dz, ar-ma, ar-tn) mixes French in Latin letters into Arabic script: its
Latin runs are read by the French voice of the same age and gender and stitched into one
narration (reelforge.text.runs).

Before any engine speaks, the text is normalised for its language (reelforge.text.normalise:
numbers, money, dates, times... in words); the caption words stay what the user wrote, timed by
the words said for them. Pitch (-12..+12 semitones) is moved by WORLD after the engine, for
every engine, so word times are unchanged.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import difflib
import gc
import hashlib
import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TypeVar

from reelforge import speech_transform
from reelforge.engines import registry
from reelforge.engines.base import SpeechRequest, SpeechResult, VoiceEngine, VoiceInfo
from reelforge.errors import EngineUnavailable, ReelforgeError, SpecError
from reelforge.text.language import primary_language
from reelforge.text.normalise import normalise, written_words
from reelforge.text.runs import MAGHREB_REGIONS, Run, script_runs

# Engines in order of preference: an id offered by an earlier engine hides later ones.
ENGINE_PREFERENCE: tuple[str, ...] = ("piper", "kokoro-ja", "pico", "kokoro", "mbrola", "espeak")
AGES: tuple[str, ...] = ("adult", "young", "teen", "preteen", "child", "toddler", "baby", "senior")
# Other names people use for an age group in a voice id.
AGE_ALIASES: dict[str, str] = {"mature": "senior", "elder": "senior", "kid": "child"}
GENDERS: tuple[str, ...] = ("male", "female", "neutral")
# When no voice is named: the first of these the language's best engine has (ENGINE_PREFERENCE:
# French is Pico's woman when Pico is installed, else Kokoro's man).
_DEFAULT_PERSONAS: tuple[tuple[str, str], ...] = (
    ("adult", "male"),
    ("adult", "female"),
    ("adult", "neutral"),
)
_LIST_HINT = "run `reelforge voices` to list every voice"
# The language of a voice that speaks whichever it is asked (remote services, cloning models)
MULTILINGUAL = "mul"


def catalog() -> list[VoiceInfo]:
    """Every voice this machine can speak, one per id, best engine first.

    Engines that cannot load (missing extra or library) are skipped.
    """
    seen: dict[str, VoiceInfo] = {}
    for name in sorted(registry.names("voice"), key=lambda n: _rank(n, ENGINE_PREFERENCE)):
        try:
            engine = registry.get("voice", name)
            voices = engine.voices()
        except ReelforgeError:
            continue
        for voice in voices:
            seen.setdefault(voice.id, voice)
    return sorted(seen.values(), key=_sort_key)


def _rank(value: str, order: tuple[str, ...]) -> int:
    """Where ``value`` stands in ``order`` (anything else after it)."""
    return order.index(value) if value in order else len(order)


def _sort_key(voice: VoiceInfo) -> tuple[str, int, int]:
    return voice.language, _rank(voice.age, AGES), _rank(voice.gender, GENDERS)


def _split_id(voice_id: str) -> tuple[str, str, str] | None:
    """Split "ar-dz-adult-male" into ("ar", "adult", "male"); None if not of that shape."""
    parts = voice_id.strip().lower().split("-")
    if len(parts) < 3 or not parts[0]:
        return None
    return parts[0], parts[-2], parts[-1]


def resolve_voice(voice: str | None, language: str) -> VoiceInfo:
    """The catalogue voice for a scene.

    ``voice=None`` picks the language's default: an adult voice of the most preferred engine
    that speaks it (piper's English man, Pico's French woman, Kokoro, else espeak).
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
        usual = [v for v in mine if (v.age, v.gender) in _DEFAULT_PERSONAS]
        if usual:  # the best engine's first default persona
            return min(
                usual,
                key=lambda v: (
                    _rank(v.engine, ENGINE_PREFERENCE),
                    _DEFAULT_PERSONAS.index((v.age, v.gender)),
                ),
            )
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
    return speak_as(resolve_voice(voice, language), text, language, workdir, speed, pitch)


def speak_as(
    info: VoiceInfo, text: str, language: str, workdir: Path, speed: float = 1.0, pitch: float = 0.0
) -> SpeechResult:
    """Voice ``info`` (from the catalogue, or made: a matched voice) speaks ``text``."""
    # "ar-dz" keeps its region (Darija's French runs), another language is the voice's own
    # (a multilingual voice speaks the one asked)
    own = info.language == MULTILINGUAL or primary_language(language) == info.language
    request = SpeechRequest(
        text, language if own else info.language, info.engine_voice, speed, pitch
    )
    return speak(registry.get("voice", info.engine), info, request, Path(workdir))


# Engines whose own pitch control moves F0 by the semitones asked; for the others the voice
# layer shifts it with WORLD. None here: espeak-ng's pitch parameter is not in semitones (asked
# for -5 st it measured x0.88 in F0, not x0.75), so WORLD shifts every engine's voice.
NATIVE_PITCH: frozenset[str] = frozenset()


Item = TypeVar("Item")
Spoken = TypeVar("Spoken")


def side_by_side(
    speak: Callable[[Item], Spoken],
    items: Sequence[Item],
    workers: int,
    progress: Callable[[str, float], None] | None = None,
) -> list[Spoken]:
    """``speak`` on every item, on up to ``workers`` threads, the answers in order. Each task
    runs in a copy of the caller's context, so a job's Cancellation (a context variable)
    reaches any ffmpeg a voice engine starts; ``progress("voice", done)`` follows the tasks as
    they finish, and the first failure cancels those not started."""
    answers: dict[int, Spoken] = {}
    workers = max(1, min(workers, os.cpu_count() or 1, len(items)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="voice") as pool:
        futures = {
            pool.submit(contextvars.copy_context().run, speak, item): k
            for k, item in enumerate(items)
        }
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                answers[futures[future]] = future.result()
                if progress:
                    progress("voice", done / len(items))
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return [answers[k] for k in range(len(items))]


# Voice engines whose model stays loaded in the process after a synthesis (module globals),
# (engine name, module): the big ones, released before an encode.
HEAVY_MODELS = (
    ("kokoro", "reelforge.engines.tts.kokoro"),
    ("kokoro-ja", "reelforge.engines.tts.kokoro_ja"),
)


def release_models() -> None:
    """Drop the voices' loaded models and hand the freed heap back to the OS (glibc keeps it
    otherwise), so an encode's memory does not stack on the synthesis' high-water mark
    (Kokoro's ONNX session, ~900 MB). Called once everything is voiced; a later job reloads
    the model (~2 s)."""
    for _, name in HEAVY_MODELS:
        module = sys.modules.get(name)
        if module is not None:
            module.release_model()
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)


_engine_locks: dict[str, threading.Lock] = {}
_engine_locks_guard = threading.Lock()


def speak_in_turn(
    engine: VoiceEngine, info: VoiceInfo, request: SpeechRequest, workdir: Path
) -> SpeechResult:
    """:func:`speak` from any thread: an engine that is not ``concurrent`` (espeak-ng's one
    global state, kokoro-ja's frontend) speaks one request at a time, the others side by side."""
    if engine.concurrent:
        return speak(engine, info, request, workdir)
    with _engine_locks_guard:
        lock = _engine_locks.setdefault(info.engine, threading.Lock())
    with lock:
        return speak(engine, info, request, workdir)


def speak(
    engine: VoiceEngine, info: VoiceInfo, request: SpeechRequest, workdir: Path
) -> SpeechResult:
    """``engine`` speaks ``request`` as voice ``info``: its speed factor is given to the engine
    (word times stay the engine's own), then its WORLD transform and any pitch shift the engine
    cannot do are applied to the audio, which keeps its length (and so every word time)."""
    if not 0.5 <= request.speed <= 2.0:
        raise SpecError(f"speech speed {request.speed:g} is out of range", hint="use 0.5 to 2.0")
    if not -12.0 <= request.pitch <= 12.0:
        raise SpecError(f"pitch {request.pitch:g} semitones is out of range", hint="use -12 to 12")
    primary, _, region = request.language.strip().lower().replace("_", "-").partition("-")
    if primary == "ar" and region in MAGHREB_REGIONS:  # Darija: Latin runs in French
        runs = script_runs(request.text)
        if any(run.script == "latin" for run in runs):
            french = _persona("fr", info)
            if french is not None:
                return _speak_runs(engine, info, french, request, runs, workdir)
    # Numbers, money, dates... in words; captions keep the written words (their times are the
    # spoken words' times).
    said = normalise(request.text, request.language)
    if said.changed:
        result = _speak(engine, info, dataclasses.replace(request, text=said.text), workdir)
        return dataclasses.replace(result, words=written_words(result.words, said))
    return _speak(engine, info, request, workdir)


def _speak(
    engine: VoiceEngine, info: VoiceInfo, request: SpeechRequest, workdir: Path
) -> SpeechResult:
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


def _persona(language: str, info: VoiceInfo) -> VoiceInfo | None:
    """The voice of ``language`` with ``info``'s age and gender (or an adult of its gender)."""
    for age in (info.age, "adult"):
        try:
            return resolve_voice(f"{language}-{age}-{info.gender}", language)
        except ReelforgeError:
            continue
    return None


_RUN_GAP_S = 0.08  # between two runs of different scripts


def _speak_runs(
    engine: VoiceEngine,
    info: VoiceInfo,
    french: VoiceInfo,
    request: SpeechRequest,
    runs: list[Run],
    workdir: Path,
) -> SpeechResult:
    """Mixed Darija: Arabic-script runs in ``info``'s voice, Latin runs in ``french``, one
    after the other in one wav at the higher sample rate, at one loudness, with every word and
    phoneme time moved to where its run starts."""
    import numpy as np

    from reelforge.engines.base import Phoneme, Word

    results = []
    for run in runs:
        if run.script == "latin":
            voice, language, run_engine = french, "fr", registry.get("voice", french.engine)
        else:
            voice, language, run_engine = info, request.language, engine
        asked = dataclasses.replace(
            request, text=run.text, language=language, voice=voice.engine_voice
        )
        results.append(speak(run_engine, voice, asked, workdir))
    rate = max(r.sample_rate for r in results)
    pieces = []
    words: list[Word] = []
    phonemes: list[Phoneme] = []
    offset_ms = 0
    gap = np.zeros(int(_RUN_GAP_S * rate))
    for k, result in enumerate(results):
        audio, source_rate = speech_transform.read_wav(Path(result.audio))
        if source_rate != rate:  # up to the higher rate: linear interpolation is enough
            times = np.arange(round(audio.size * rate / source_rate)) / rate
            audio = np.interp(times, np.arange(audio.size) / source_rate, audio)
        rms = float(np.sqrt(np.mean(audio**2))) if audio.size else 0.0
        if rms > 0:
            audio = audio * (0.1 / rms)  # one loudness for every run's voice
        if k:
            pieces.append(gap)
            offset_ms = round(sum(p.size for p in pieces) * 1000 / rate)
        words.extend(w.shifted(offset_ms) for w in result.words)
        phonemes.extend(
            Phoneme(p.symbol, p.start_ms + offset_ms, p.end_ms + offset_ms) for p in result.phonemes
        )
        pieces.append(audio)
    joined = np.concatenate(pieces)
    duration_ms = round(joined.size * 1000 / rate)
    key = hashlib.sha256("|".join(f"{r.audio}" for r in results).encode("utf-8")).hexdigest()[:16]
    target = Path(workdir) / f"runs-{key}.wav"
    speech_transform.write_wav(target, joined, rate)
    clamp = [Word(w.text, min(w.start_ms, duration_ms), min(w.end_ms, duration_ms)) for w in words]
    return SpeechResult(
        audio=target,
        duration_ms=duration_ms,
        sample_rate=rate,
        words=tuple(clamp),
        engine=info.engine,
        version=" + ".join(dict.fromkeys(r.version for r in results)),
        phonemes=tuple(p for p in phonemes if p.end_ms <= duration_ms),
    )


def _transform_key(transform: str, pitch: float) -> str:
    return hashlib.sha256(f"{transform}|{pitch}".encode()).hexdigest()[:8]
