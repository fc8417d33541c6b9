"""Fake engines for fast, deterministic tests, registered exactly like the real ones.

``FakeVoice`` is a voice engine: it "speaks" each word as a short tone (or noise burst) whose
length follows the word's length, with silent gaps between words and longer pauses at
punctuation, and reports those word times, so planner and end-to-end tests get a real WAV and
exact word timings in milliseconds without loading a neural voice. It is chosen the supported
way, by voice id: the registry's voice catalogue lists every registered engine's voices, so a
storyboard (or ``--voice``) naming ``fake-adult-male`` resolves to it.

``FakeMusic`` is a music engine writing a soft stereo chord; the planner always asks the
``procedural`` music engine, so the ``fake_music`` fixture registers it under that name for the
duration of a test and puts the real one back afterwards.

Use them through the fixtures at the bottom (import them into a test module) or, outside
pytest, the ``fake_*_registered()`` context managers; never register them by hand: these undo
the registration, so other tests see the real catalogue.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from reelforge.engines import registry
from reelforge.engines.base import (
    EngineInfo,
    MusicRequest,
    MusicResult,
    SpeechRequest,
    SpeechResult,
    VoiceInfo,
    Word,
)

VERSION = "test-1"
VOICE_RATE = 22050
MUSIC_RATE = 44100

# The fake's speaking model, in ms at speed 1.0 (public so tests can predict durations).
WORD_BASE_MS = 120
CHAR_MS = 45
GAP_MS = 60  # silence between words
COMMA_PAUSE_MS = 200  # extra silence after , ; :
SENTENCE_PAUSE_MS = 400  # extra silence after . ! ? and their non-Latin forms
VOICE_AMPLITUDE = 0.25  # RMS of a tone word: about -12 dBFS

_SENTENCE_END = tuple(".!?…。！？؟।")
_CLAUSE_END = tuple(",;:،、，")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def fake_words(text: str) -> list[str]:
    """The words the fake speaks: whitespace-separated tokens; CJK text one character each
    (punctuation stays with the character before it)."""
    words: list[str] = []
    for token in text.split():
        if not _CJK.search(token):
            words.append(token)
            continue
        for char in token:
            if words and not _CJK.match(char) and not char.isalnum():
                words[-1] += char
            else:
                words.append(char)
    return words


def word_ms(word: str, speed: float = 1.0) -> int:
    """How long the fake sounds ``word``."""
    letters = sum(1 for c in word if c.isalnum())
    return round((WORD_BASE_MS + CHAR_MS * letters) / speed)


def pause_after_ms(word: str, speed: float = 1.0) -> int:
    """The silence after ``word`` (the last word of a text has none: audio is trimmed)."""
    extra = (
        SENTENCE_PAUSE_MS
        if word.endswith(_SENTENCE_END)
        else COMMA_PAUSE_MS
        if word.endswith(_CLAUSE_END)
        else 0
    )
    return round((GAP_MS + extra) / speed)


def _write_wav(path: Path, samples: np.ndarray, rate: int, channels: int) -> None:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:4], "little")


class FakeVoice:
    """A voice engine whose "speech" is one tone (or noise burst) per word."""

    name: ClassVar[str] = "fake"
    concurrent: ClassVar[bool] = False
    # Every request, in order, so tests can check languages, speeds and cache hits.
    calls: ClassVar[list[SpeechRequest]] = []

    def info(self) -> EngineInfo:
        return EngineInfo(self.name, "voice", VERSION)

    def voices(self) -> list[VoiceInfo]:
        return [
            VoiceInfo(
                "fake-adult-male", self.name, "en", "male", "adult", "test voice: tones", "tone"
            ),
            VoiceInfo(
                "fake-adult-female",
                self.name,
                "en",
                "female",
                "adult",
                "test voice: noise bursts",
                "noise",
            ),
        ]

    def synthesize(self, request: SpeechRequest, workdir: Path) -> SpeechResult:
        type(self).calls.append(request)
        texts = fake_words(request.text)
        words: list[Word] = []
        t = 0
        for index, text in enumerate(texts):
            length = word_ms(text, request.speed)
            words.append(Word(text, t, t + length))
            t += length
            if index + 1 < len(texts):
                t += pause_after_ms(text, request.speed)
        duration_ms = t
        samples = np.zeros(duration_ms * VOICE_RATE // 1000, dtype=np.float64)
        rng = np.random.default_rng(_seed(request.text, request.voice))
        for index, word in enumerate(words):
            a = word.start_ms * VOICE_RATE // 1000
            b = min(samples.size, word.end_ms * VOICE_RATE // 1000)
            n = b - a
            if request.voice == "noise":
                burst = rng.uniform(-1.0, 1.0, n)
            else:
                freq = 180 + 40 * (index % 5)
                burst = np.sin(2 * np.pi * freq * np.arange(n) / VOICE_RATE)
            ramp = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / 110)
            samples[a:b] = VOICE_AMPLITUDE * np.sqrt(2) * burst * ramp
        workdir.mkdir(parents=True, exist_ok=True)
        audio = workdir / "speech.wav"
        _write_wav(audio, samples, VOICE_RATE, 1)
        return SpeechResult(
            audio=audio,
            duration_ms=samples.size * 1000 // VOICE_RATE,
            sample_rate=VOICE_RATE,
            words=tuple(words),
            engine=self.name,
            version=VERSION,
        )


class FakeMusic:
    """A music engine writing a quiet, steady stereo chord with a fade at the end."""

    name: ClassVar[str] = "fake"
    calls: ClassVar[list[MusicRequest]] = []
    MOODS: ClassVar[tuple[str, ...]] = (
        "calm",
        "upbeat",
        "cinematic",
        "corporate",
        "playful",
        "warm",
        "news",
        "indian",
    )

    def info(self) -> EngineInfo:
        return EngineInfo(self.name, "music", VERSION)

    def moods(self) -> list[str]:
        return list(self.MOODS)

    def compose(self, request: MusicRequest, workdir: Path) -> MusicResult:
        type(self).calls.append(request)
        n = request.duration_ms * MUSIC_RATE // 1000
        t = np.arange(n) / MUSIC_RATE
        chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63)) / 3
        fade = np.minimum(1.0, (n - np.arange(n)) / (MUSIC_RATE * 0.5))
        mono = 0.35 * chord * fade
        workdir.mkdir(parents=True, exist_ok=True)
        audio = workdir / f"music-{request.mood}-{request.seed}.wav"
        _write_wav(audio, np.repeat(mono[:, None], 2, axis=1).reshape(-1), MUSIC_RATE, 2)
        return MusicResult(
            audio=audio,
            duration_ms=request.duration_ms,
            sample_rate=MUSIC_RATE,
            mood=request.mood,
            tempo_bpm=request.tempo_bpm or 100,
            engine=self.name,
            version=VERSION,
        )


# --------------------------------------------------------------------------- registration


@contextlib.contextmanager
def fake_voice_registered() -> Iterator[type[FakeVoice]]:
    """:class:`FakeVoice` as voice engine ``fake`` (ids ``fake-adult-male``/``-female``)."""
    registry.register("voice", FakeVoice.name, FakeVoice)
    FakeVoice.calls.clear()
    try:
        yield FakeVoice
    finally:
        registry.AVAILABLE_ENGINES["voice"].pop(FakeVoice.name, None)
        registry._instances.pop(("voice", FakeVoice.name), None)


@contextlib.contextmanager
def fake_music_registered() -> Iterator[type[FakeMusic]]:
    """:class:`FakeMusic` standing in for the ``procedural`` music engine."""
    real = registry.AVAILABLE_ENGINES["music"]["procedural"]
    registry.register("music", "procedural", FakeMusic)
    FakeMusic.calls.clear()
    try:
        yield FakeMusic
    finally:
        registry.register("music", "procedural", real)


@pytest.fixture
def fake_voice() -> Iterator[type[FakeVoice]]:
    """Register :class:`FakeVoice` as voice engine ``fake``: ids ``fake-adult-male``/``-female``."""
    with fake_voice_registered() as engine:
        yield engine


@pytest.fixture
def fake_music() -> Iterator[type[FakeMusic]]:
    """Stand :class:`FakeMusic` in for the ``procedural`` music engine during one test."""
    with fake_music_registered() as engine:
        yield engine
