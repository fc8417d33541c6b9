"""What the voice engines do alike with the audio they synthesise (not an engine).

Sentences are joined with a pause, each trimmed of its own silence; the whole is scaled to one
peak, trimmed again and written as 16-bit mono WAV; sample spans become word and phoneme times
in ms that never run backwards nor past the end. The engines import this module and never each
other.
"""

from __future__ import annotations

import hashlib
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import Phoneme, SpeechResult, Word

PEAK = 0.9  # headroom below full scale so later mixing does not clip
SILENCE = 0.01  # |sample| under 1 % of full scale (-40 dBFS) counts as silence
MARGIN_S = 0.01  # keep 10 ms around the speech so onsets and releases are not cut

Span = tuple[str, int, int]  # a word or phoneme and its start and end sample (-1: not heard)


def wav_name(engine: str, *parts: object) -> str:
    """The file name of a synthesis: the engine and a hash of all that decides the audio."""
    key = hashlib.sha256("|".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:16]
    return f"{engine}-{key}.wav"


def write_wav(path: Path, samples: NDArray[np.int16], rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype("<i2").tobytes())


def speech_bounds(audio: NDArray[Any], rate: int, threshold: float) -> tuple[int, int]:
    """First and one-past-last sample louder than ``threshold``, with a small margin."""
    # 16-bit samples widen first: abs(-32768) does not fit in 16 bits
    loud = np.flatnonzero(
        np.abs(audio.astype(np.int32) if audio.dtype.kind == "i" else audio) > threshold
    )
    if loud.size == 0:
        return 0, len(audio)
    margin = int(MARGIN_S * rate)
    return max(0, int(loud[0]) - margin), min(len(audio), int(loud[-1]) + 1 + margin)


def peak(audio: NDArray[np.float32]) -> float:
    return float(np.max(np.abs(audio))) if audio.size else 0.0


def ordered_words(
    times: Iterable[tuple[str, int | None, int | None]], duration_ms: int
) -> list[Word]:
    """Words in ms, in order: each starts where the previous ended or later and lies within the
    audio; one not heard on its own (None: a lone symbol) is zero length where we are."""
    words: list[Word] = []
    previous_end = 0
    for text, start, end in times:
        if start is None or end is None:
            start = end = previous_end
        start = min(max(start, previous_end), duration_ms)
        end = min(max(end, start), duration_ms)
        words.append(Word(text, start, end))
        previous_end = end
    return words


@dataclass(frozen=True)
class Speech:
    """Synthesised speech ready to write: 16-bit samples, the silence around them cut."""

    pcm: NDArray[np.int16]
    rate: int
    first: int  # where the kept samples start in the audio they were cut from

    @classmethod
    def of(cls, audio: NDArray[np.float32], rate: int) -> Speech:
        """Scaled to one peak, trimmed of the silence around it."""
        loudest = peak(audio)
        if loudest > 0:
            audio = audio * (PEAK / loudest)
        first, last = speech_bounds(audio, rate, SILENCE)
        pcm = np.clip(np.round(audio[first:last] * 32767.0), -32767, 32767).astype(np.int16)
        return cls(pcm, rate, first)

    @property
    def duration_ms(self) -> int:
        return round(len(self.pcm) * 1000 / self.rate)

    def ms(self, sample: int) -> int:
        """A sample of the untrimmed audio, in ms of the trimmed one."""
        return round((sample - self.first) * 1000 / self.rate)

    def words(self, spans: Iterable[Span]) -> list[Word]:
        times = ((t, self.ms(s), self.ms(e)) if s >= 0 else (t, None, None) for t, s, e in spans)
        return ordered_words(times, self.duration_ms)

    def phonemes(self, spans: Iterable[Span]) -> tuple[Phoneme, ...]:
        """The phonemes heard in the trimmed audio, cut to it."""
        return tuple(
            Phoneme(symbol, start, end)
            for symbol, s, e in spans
            if (start := max(0, self.ms(s))) < (end := min(self.duration_ms, self.ms(e)))
        )

    def result(
        self,
        path: Path,
        words: Iterable[Word],
        engine: str,
        version: str,
        phonemes: tuple[Phoneme, ...] = (),
    ) -> SpeechResult:
        """Write the samples to ``path`` and describe them."""
        write_wav(path, self.pcm, self.rate)
        return SpeechResult(
            path, self.duration_ms, self.rate, tuple(words), engine, version, phonemes
        )


@dataclass(frozen=True)
class Sentence:
    """One synthesised sentence: its audio and where its words and phonemes are heard."""

    audio: NDArray[np.float32]
    words: Sequence[str]
    spans: Sequence[tuple[int, int]]  # per word: (start, end) sample, (-1, -1) if silent
    phones: Sequence[Span] = ()


@dataclass
class Sentences:
    """Sentences joined with a pause between them, each trimmed of its own silence (relative
    to its own peak); the word and phoneme spans follow them into the joined audio."""

    rate: int
    pause: int  # samples of silence between two sentences
    pieces: list[NDArray[np.float32]] = field(default_factory=list)
    words: list[Span] = field(default_factory=list)
    phones: list[Span] = field(default_factory=list)
    size: int = 0

    @classmethod
    def joined(cls, sentences: Iterable[Sentence], rate: int, pause_s: float) -> Sentences:
        """``sentences`` one after another, ``pause_s`` apart."""
        out = cls(rate, int(pause_s * rate))
        for sentence in sentences:
            out.add(sentence)
        return out

    def add(self, sentence: Sentence) -> None:
        audio = sentence.audio
        first, last = speech_bounds(audio, self.rate, SILENCE * max(1e-6, peak(audio)))
        audio = audio[first:last]
        if audio.size == 0:
            self.words.extend((w, -1, -1) for w in sentence.words)
            return
        if self.pieces:
            self.pieces.append(np.zeros(self.pause, np.float32))
            self.size += self.pause
        for symbol, s, e in sentence.phones:
            if s - first < audio.size and e > first:
                s, e = max(s - first, 0), min(e - first, audio.size)
                self.phones.append((symbol, self.size + s, self.size + e))
        for w, (s, e) in zip(sentence.words, sentence.spans, strict=True):
            if s < 0:
                self.words.append((w, -1, -1))
            else:
                s = min(max(s - first, 0), audio.size)
                e = min(max(e - first, s), audio.size)
                self.words.append((w, self.size + s, self.size + e))
        self.pieces.append(audio)
        self.size += audio.size

    def audio(self) -> NDArray[np.float32]:
        return np.concatenate(self.pieces) if self.pieces else np.zeros(0, np.float32)
