"""French narration with SVOX Pico (``pico2wave``), word times aligned from espeak-ng.

Pico (Debian's ``libttspico-utils``) speaks fr-FR, de-DE, es-ES, it-IT, en-US and en-GB with one
woman's voice per language. It is clear (Whisper-base CER 0.044 in French against Kokoro's
0.064-0.095, whose French R is heard as "h"; benchmarks/voices.py) and fast (~0.02 s of CPU
per second of speech, alignment included), but it reports no word times.

Word times come from espeak-ng, which says the same sentence with exact word and phoneme events
(the ``espeak`` engine, asked through the registry). Both voices are cut to log-mel cepstra
(13 coefficients less the level, normalised per sentence, with their slopes; 10 ms frames) and
matched by dynamic time warping; every espeak word and phoneme boundary then moves along the
warping path onto Pico's time axis. Measured on benchmarks/voices.py's French sentences, the word
starts land a median 0.024 s from Whisper's (p90 0.08 s; Kokoro's exact times 0.11 s), and the
caption words of a French make60 video a median 0.028 s from Whisper's on the MP4. The captions
and the talking head's visemes read these times.

Sentences synthesise side by side (a ``pico2wave`` process each, its wav in a private folder).
``speed`` goes to Pico's own ``<speed>`` markup and to espeak, and the alignment follows what
Pico actually said, so the times stay right at any speed; pitch is moved by WORLD in the voice
layer like every engine's.

``SpeechRequest.voice`` is a Pico language ("fr-FR"); empty picks the request language's.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
import threading
import wave
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from reelforge.engines import registry
from reelforge.engines.base import EngineInfo, SpeechRequest, SpeechResult, VoiceInfo
from reelforge.engines.tts.speech_audio import (
    Sentence,
    Sentences,
    Span,
    Speech,
    peak,
    speech_bounds,
    wav_name,
)
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError
from reelforge.speech_transform import read_wav

_PROGRAM = "pico2wave"
INSTALL_HINT = (
    "install SVOX Pico: `make pico` (or apt-get install libttspico-utils, from Debian's "
    "non-free section)"
)
LICENCE = (
    "SVOX Pico: Apache-2.0 code; its language data (Debian non-free, no source) may be "
    "redistributed and used commercially"
)
# Primary language (or full tag) -> Pico's language.
LANGUAGES: dict[str, str] = {
    "fr": "fr-FR",
    "de": "de-DE",
    "es": "es-ES",
    "it": "it-IT",
    "en": "en-US",
    "en-us": "en-US",
    "en-gb": "en-GB",
}
# The catalogue's Pico voices: where Pico is understood better than the other engines. French
# women of every age are Pico's woman (~187 Hz) moved by WORLD in the voice layer
# (reelforge.speech_transform: F0 factor, spectral envelope stretched for a shorter tract, breath,
# pace). Whisper-base CER on benchmarks/voices.py's twelve French sentences, through the voice
# layer, Pico's against Kokoro's same persona: adult 0.045/0.095, young 0.043/0.145, teen
# 0.052/0.169, preteen 0.062/0.160, child 0.064/0.186, toddler 0.073/0.372, baby 0.086/0.473,
# senior 0.034/0.123. French men stay Kokoro's (a natural man's voice), the other languages too.
CATALOGUE: dict[str, str] = {"fr": "French"}
# age -> (description, WORLD transform) of the women's voices
WOMEN: dict[str, tuple[str, str]] = {
    "baby": ("baby girl", "f0=2.0;envelope=1.22;speed=0.85"),
    "toddler": ("toddler, girl", "f0=1.8;envelope=1.2;speed=0.9"),
    "child": ("child, girl", "f0=1.6;envelope=1.18"),
    "preteen": ("preteen girl", "f0=1.35;envelope=1.1"),
    "teen": ("teenage girl", "f0=1.15;envelope=1.05"),
    "young": ("young adult female", "f0=1.08"),
    "adult": ("adult female", ""),
    "senior": ("senior female", "f0=0.9;envelope=0.96;breath=0.2;speed=0.9"),
}
# Pico language -> the espeak-ng voice that times its words (a woman's, closer to Pico's).
_TIMERS: dict[str, str] = {
    "fr-FR": "fr+f3",
    "de-DE": "de+f3",
    "es-ES": "es+f3",
    "it-IT": "it+f3",
    "en-US": "en-us+f3",
    "en-GB": "en-gb+f3",
}
_RATE = 16000  # pico2wave writes 16 kHz mono
_SENTENCE_PAUSE_S = 0.35  # between sentences at speed 1.0
_SENTENCES = re.compile(r"(?<=[.!?…])\s+|\n+")
_MARKUP = re.compile(r"[<>]")  # Pico reads <...> as markup: never pass it the user's

# Alignment features: 25 ms windows every 10 ms (longer hops for very long sentences, so the
# warping stays within _MAX_FRAMES a side), 26 mel bands from 60 Hz to 7.6 kHz (both voices
# have that band: Pico 16 kHz, espeak 22 kHz), cepstra 1-12 and their slopes.
_HOP_S = 0.01
_WINDOW_S = 0.025
_MAX_FRAMES = 1500
_MEL_BANDS = 26
_CEPSTRA = 13


def installed() -> bool:
    return shutil.which(_PROGRAM) is not None


@functools.lru_cache(maxsize=1)
def _version() -> str:
    try:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", "libttspico-utils"],
            capture_output=True,
            timeout=10,
            check=False,
        )
        found = done.stdout.decode("ascii", "replace").strip() if done.returncode == 0 else ""
    except (OSError, subprocess.TimeoutExpired):
        found = ""
    return f"svox-pico {found or 'unknown'}; espeak-ng word times"


def pico_language(request: SpeechRequest) -> str:
    """The Pico language of a request: its voice, else its language ("fr-CA" -> "fr-FR")."""
    if request.voice:
        if request.voice in _TIMERS:
            return request.voice
        raise SpecError(
            f"unknown Pico voice {request.voice!r}", hint=f"use one of {', '.join(_TIMERS)}"
        )
    tag = request.language.strip().lower().replace("_", "-")
    found = LANGUAGES.get(tag) or LANGUAGES.get(tag.split("-")[0])
    if found is None:
        raise EngineUnavailable(
            f"SVOX Pico does not speak {request.language!r}",
            hint=f"Pico speaks {', '.join(sorted(set(LANGUAGES.values())))}; pick a voice of "
            "another engine (reelforge voices)",
        )
    return found


# --------------------------------------------------------------------------- alignment
def _mel_filters(rate: int, size: int) -> NDArray[np.float64]:
    """Triangular mel filters (_MEL_BANDS x size // 2 + 1) from 60 Hz to 7.6 kHz."""

    low_mel, high_mel = (2595.0 * np.log10(1.0 + hz / 700.0) for hz in (60.0, 7600.0))
    points = 700.0 * (10 ** (np.linspace(low_mel, high_mel, _MEL_BANDS + 2) / 2595.0) - 1.0)
    bins = np.arange(size // 2 + 1) * rate / size
    low, centre, high = points[:-2, None], points[1:-1, None], points[2:, None]
    rising = (bins[None, :] - low) / (centre - low)
    falling = (high - bins[None, :]) / (high - centre)
    filters: NDArray[np.float64] = np.clip(np.minimum(rising, falling), 0.0, None)
    return filters


def features(audio: NDArray[Any], rate: int, hop_s: float = _HOP_S) -> NDArray[np.float64]:
    """Frames of log-mel cepstra 1..12 (no level), normalised per utterance, and their slopes:
    what two voices saying the same words share, whatever their pitch and loudness."""
    samples = np.asarray(audio, dtype=np.float64)
    samples = np.append(samples[:1], samples[1:] - 0.97 * samples[:-1])  # pre-emphasis
    hop, window = max(1, round(rate * hop_s)), round(rate * _WINDOW_S)
    size = 1 << (window - 1).bit_length()
    count = max(1, 1 + (samples.size - window) // hop)
    samples = np.pad(samples, (0, max(0, (count - 1) * hop + window - samples.size)))
    frames = samples[np.arange(window)[None, :] + hop * np.arange(count)[:, None]]
    power = np.abs(np.fft.rfft(frames * np.hamming(window), size)) ** 2
    log_mel = np.log(power @ _mel_filters(rate, size).T + 1e-10)
    bands = np.arange(_MEL_BANDS)
    dct = np.cos(np.pi / _MEL_BANDS * (bands[None, :] + 0.5) * np.arange(_CEPSTRA)[:, None])
    cepstra = (log_mel @ dct.T)[:, 1:]
    cepstra = (cepstra - cepstra.mean(axis=0)) / (cepstra.std(axis=0) + 1e-6)
    slopes = np.gradient(cepstra, axis=0) if count > 1 else np.zeros_like(cepstra)
    return np.hstack([cepstra, slopes])


def warping_path(source: NDArray[np.float64], target: NDArray[np.float64]) -> NDArray[np.int64]:
    """The cheapest monotonic path of (source frame, target frame) pairs from the first frames
    to the last (dynamic time warping, Euclidean distance; one anti-diagonal at a time)."""
    n, m = len(source), len(target)
    squared = (source**2).sum(1)[:, None] + (target**2).sum(1)[None, :] - 2 * source @ target.T
    cost = np.sqrt(np.maximum(squared, 0.0))
    total = np.full((n + 1, m + 1), np.inf)
    total[0, 0] = 0.0
    for diagonal in range(2, n + m + 1):
        rows = np.arange(max(1, diagonal - m), min(n, diagonal - 1) + 1)
        cols = diagonal - rows
        best = np.minimum(
            np.minimum(total[rows - 1, cols], total[rows, cols - 1]), total[rows - 1, cols - 1]
        )
        total[rows, cols] = cost[rows - 1, cols - 1] + best
    i, j = n, m
    path = [(i - 1, j - 1)]
    while i > 1 or j > 1:
        steps = ((i - 1, j - 1), (i - 1, j), (i, j - 1))
        i, j = min((s for s in steps if s[0] >= 1 and s[1] >= 1), key=lambda s: total[s])
        path.append((i - 1, j - 1))
    return np.array(path[::-1], dtype=np.int64)


def time_map(
    source: NDArray[Any], source_rate: int, target: NDArray[Any], target_rate: int
) -> Callable[[float], float]:
    """seconds in ``source`` -> seconds in ``target``, two recordings of the same words (each
    cut to its speech), by dynamic time warping of their cepstra."""
    longest = max(source.size / source_rate, target.size / target_rate)
    hop_s = max(_HOP_S, longest / _MAX_FRAMES)
    path = warping_path(features(source, source_rate, hop_s), features(target, target_rate, hop_s))
    frames = int(path[-1, 0]) + 1
    # Where the path stays on one source frame for several target frames, take their middle.
    sums = np.bincount(path[:, 0], weights=path[:, 1], minlength=frames)
    middle = sums / np.maximum(np.bincount(path[:, 0], minlength=frames), 1)
    end_s = target.size / target_rate

    def seconds(t: float) -> float:
        frame = float(np.interp(t / hop_s, np.arange(frames), middle))
        return min(max(0.0, frame * hop_s), end_s)

    return seconds


# --------------------------------------------------------------------------- synthesis
def _pico(text: str, language: str, speed: float, folder: Path) -> NDArray[np.float32]:
    """``pico2wave``'s speech of one sentence, as floats (a private wav in ``folder``)."""
    said = " ".join(_MARKUP.sub(" ", text).split())
    if abs(speed - 1.0) > 1e-3:
        said = f'<speed level="{round(speed * 100)}">{said}</speed>'
    handle, name = tempfile.mkstemp(suffix=".wav", dir=folder)
    os.close(handle)
    try:
        done = subprocess.run(
            [_PROGRAM, "-l", language, "-w", name, "--", said],
            capture_output=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip()[-300:]
            raise EngineFailed(f"pico2wave failed: {message}", hint=INSTALL_HINT)
        audio, _ = read_wav(Path(name))
    except (OSError, subprocess.TimeoutExpired, wave.Error) as exc:
        raise EngineFailed(f"pico2wave failed ({type(exc).__name__})", hint=INSTALL_HINT) from exc
    finally:
        Path(name).unlink(missing_ok=True)
    return audio.astype(np.float32)


Timing = tuple[tuple[str, ...], tuple[tuple[int, int], ...], tuple[Span, ...]]
# Sentences already timed in this process: (text, language, speed, samples) -> their timing.
# espeak-ng's audio varies a little from call to call (its synthesiser carries state over),
# which could move a boundary by a frame or two; Pico's audio does not, so the same sentence
# said again (a pitch-shifted re-render, an edit) keeps the times it had.
_timings: dict[tuple[str, str, float, int], Timing] = {}
_timings_lock = threading.Lock()
_REMEMBERED = 512


def _sentence(text: str, language: str, speed: float, folder: Path) -> Sentence:
    """One sentence said by Pico, its words and phonemes timed by espeak's aligned onto it."""
    audio = _pico(text, language, speed, folder)
    key = (text, language, speed, audio.size)
    with _timings_lock:
        timing = _timings.get(key)
    if timing is None:
        timing = _aligned(text, language, speed, audio)
        with _timings_lock:
            if len(_timings) >= _REMEMBERED:
                _timings.pop(next(iter(_timings)))
            _timings[key] = timing
    words, spans, phones = timing
    return Sentence(audio, words, spans, phones)


def _aligned(text: str, language: str, speed: float, audio: NDArray[np.float32]) -> Timing:
    """The words, their sample spans in Pico's ``audio`` and the phonemes', from espeak-ng's
    speech of the same sentence warped onto it."""
    with tempfile.TemporaryDirectory(prefix="reelforge-pico-") as folder:
        timer = registry.get("voice", "espeak")
        timed = timer.synthesize(
            SpeechRequest(text, language, _TIMERS[language], speed), Path(folder)
        )
        reference, reference_rate = read_wav(Path(timed.audio))
    words = tuple(w.text for w in timed.words)
    first, last = speech_bounds(audio, _RATE, 0.01 * peak(audio))  # speech: 1 % of its peak
    if last - first < _RATE // 50 or reference.size == 0:  # nothing said (a lone symbol)
        return words, ((-1, -1),) * len(words), ()
    moved = time_map(reference, reference_rate, audio[first:last], _RATE)

    def sample(ms: int) -> int:
        return first + round(moved(ms / 1000) * _RATE)

    spans = tuple((sample(w.start_ms), sample(w.end_ms)) for w in timed.words)
    phones = tuple((p.symbol, sample(p.start_ms), sample(p.end_ms)) for p in timed.phonemes)
    return words, spans, phones


class PicoEngine:
    """SVOX Pico voices (one woman per language; French women of every age by WORLD), word
    times aligned from espeak-ng."""

    name: ClassVar[str] = "pico"
    concurrent: ClassVar[bool] = True  # separate processes; espeak's timing keeps its own lock
    sample_rate: ClassVar[int] = _RATE

    def info(self) -> EngineInfo:
        if not installed():
            return EngineInfo(
                self.name,
                "voice",
                "",
                False,
                f"{_PROGRAM} is not installed: {INSTALL_HINT}",
                LICENCE,
            )
        return EngineInfo(self.name, "voice", _version(), licence=LICENCE)

    def voices(self) -> list[VoiceInfo]:
        if not installed():
            return []
        return [
            VoiceInfo.persona(
                self.name,
                language,
                age,
                "female",
                description=f"{label}, {what} (SVOX Pico{' + WORLD' if transform else ''})",
                engine_voice=LANGUAGES[language],
                transform=transform,
            )
            for language, label in CATALOGUE.items()
            for age, (what, transform) in WOMEN.items()
        ]

    def synthesize(self, request: SpeechRequest, workdir: Path) -> SpeechResult:
        language = pico_language(request)
        if not 0.25 <= request.speed <= 4.0:
            raise SpecError(f"speech speed {request.speed} is out of range", hint="use 0.25 to 4.0")
        sentences = [s.strip() for s in _SENTENCES.split(request.text) if s.strip()]
        if not any(re.search(r"\w", s) for s in sentences):
            raise SpecError("nothing to say: the narration text is empty", hint="add words")
        if not installed():
            raise EngineUnavailable(f"{_PROGRAM} is not installed", hint=INSTALL_HINT)
        workers = max(1, min(len(sentences), os.cpu_count() or 1))
        with (
            tempfile.TemporaryDirectory(prefix="reelforge-pico-") as private,
            ThreadPoolExecutor(workers, thread_name_prefix="pico") as pool,
        ):
            spoken = list(
                pool.map(lambda s: _sentence(s, language, request.speed, Path(private)), sentences)
            )
        joined = Sentences.joined(spoken, _RATE, _SENTENCE_PAUSE_S / request.speed)
        if joined.size == 0:
            raise EngineFailed("pico2wave produced no audio", hint="check the text has words")
        speech = Speech.of(joined.audio(), _RATE)
        path = Path(workdir) / wav_name(self.name, language, request.speed, request.text)
        words, phonemes = speech.words(joined.words), speech.phonemes(joined.phones)
        return speech.result(path, words, self.name, _version(), phonemes)
