"""Audio in, a ``SpeechResult`` out, for voices that give audio but not always word times:
remote services (OpenAI-compatible speech, ElevenLabs) and cloning models (XTTS-v2, F5-TTS).

Not an engine: the adapters in this folder share it instead of copying it. It reads WAV or raw
16-bit PCM bytes, trims silence, writes the 16-bit mono wav the contract asks for, and times the
words: from a character alignment when the voice gives one (ElevenLabs), else spread over the
speech in proportion to each word's letters (an estimate, said so in the engines' docs).
"""

from __future__ import annotations

import hashlib
import io
import struct
import wave
from collections.abc import Sequence
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import SpeechResult, VoiceInfo, Word
from reelforge.engines.tts.speech_audio import ordered_words, speech_bounds
from reelforge.errors import EngineFailed, SpecError
from reelforge.speech_transform import write_wav

_PEAK = 0.9  # headroom below full scale so later mixing does not clip
_SILENCE = 0.01  # |sample| under 1 % of the peak counts as silence
_SENTENCE_ENDS = ".!?。！？؟।\n"


def from_pcm16(data: bytes) -> NDArray[np.float32]:
    """Raw little-endian 16-bit mono samples as floats in -1..1."""
    usable = len(data) - len(data) % 2
    return np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0


def from_wav(data: bytes, what: str) -> tuple[NDArray[np.float32], int]:
    """Samples (mono) and rate of a WAV file's bytes. Streamed WAVs that state no length
    (0 or 0xFFFFFFFF) are read to the end."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise EngineFailed(
            f"{what} did not answer a WAV file ({len(data)} bytes starting {data[:12]!r})",
            hint="check the service returns audio for this request",
        )
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            channels, width, rate = (
                reader.getnchannels(),
                reader.getsampwidth(),
                reader.getframerate(),
            )
    except (wave.Error, EOFError) as error:
        raise EngineFailed(f"{what} answered a broken WAV file: {error}") from error
    if width != 2:
        raise EngineFailed(f"{what} answered {8 * width}-bit WAV; 16-bit is expected")
    start = data.find(b"data", 12)
    length = struct.unpack("<I", data[start + 4 : start + 8])[0]
    body = data[start + 8 :]
    if 0 < length < len(body):
        body = body[:length]
    samples = from_pcm16(body)
    if channels > 1:
        samples = samples[: samples.size - samples.size % channels]
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate


def chunks(text: str, limit: int) -> list[str]:
    """``text`` cut at sentence ends into pieces of at most ``limit`` characters (a sentence
    longer than that is cut at spaces)."""
    pieces: list[str] = []
    current = ""
    sentence = ""
    for char in text:
        sentence += char
        if char in _SENTENCE_ENDS:
            current, pieces = _add(current, sentence, limit, pieces)
            sentence = ""
    current, pieces = _add(current, sentence, limit, pieces)
    if current.strip():
        pieces.append(current.strip())
    return pieces


def _add(current: str, sentence: str, limit: int, pieces: list[str]) -> tuple[str, list[str]]:
    if len(current) + len(sentence) <= limit:
        return current + sentence, pieces
    if current.strip():
        pieces.append(current.strip())
    while len(sentence) > limit:
        cut = sentence.rfind(" ", 0, limit)
        cut = cut if cut > 0 else limit
        pieces.append(sentence[:cut].strip())
        sentence = sentence[cut:]
    return sentence, pieces


def spread_words(text: str, start_ms: int, end_ms: int) -> list[Word]:
    """``text``'s words over ``start_ms..end_ms`` in proportion to their letters (plus one for
    the gap after each): an estimate for voices that report no timings."""
    tokens = text.split()
    if not tokens:
        return []
    step = max(0, end_ms - start_ms) / sum(len(t) + 1 for t in tokens)
    words: list[Word] = []
    at = float(start_ms)
    for token in tokens:
        words.append(Word(token, round(at), round(at + len(token) * step)))
        at += (len(token) + 1) * step
    return words


def aligned_words(
    text: str, characters: Sequence[str], starts_s: Sequence[float], ends_s: Sequence[float]
) -> list[Word]:
    """``text``'s words timed by a character alignment (the characters the voice said, each
    with its start and end in seconds). Characters are matched to the text in order, so a
    service that normalised a few of them (quotes, spaces) still times every word."""
    said = "".join(characters)
    if not (len(characters) == len(starts_s) == len(ends_s)):
        raise EngineFailed(
            "the voice's character alignment is inconsistent "
            f"({len(characters)} characters, {len(starts_s)} starts, {len(ends_s)} ends)"
        )
    where: dict[int, int] = {}  # text index -> alignment index
    matcher = SequenceMatcher(None, text, said, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            where[block.a + k] = block.b + k
    words: list[Word] = []
    position = 0
    previous = 0
    for token in text.split():
        begin = text.index(token, position)
        position = begin + len(token)
        found = [where[i] for i in range(begin, position) if i in where]
        if found:
            start = round(float(starts_s[min(found)]) * 1000)
            end = round(float(ends_s[max(found)]) * 1000)
        else:  # nothing of it was said as written: zero length where we are
            start = end = previous
        start = max(start, previous)
        words.append(Word(token, start, max(end, start)))
        previous = max(end, start)
    return words


def result(
    audio: NDArray[np.float32],
    rate: int,
    text: str,
    workdir: Path,
    engine: str,
    version: str,
    words: Sequence[Word] | None = None,
) -> SpeechResult:
    """Write ``audio`` (peak-normalised, silence trimmed) as the contract's wav and time the
    words: ``words`` (times in the untrimmed audio) moved with the trim, else spread over the
    speech."""
    if audio.size == 0 or not np.any(audio):
        raise EngineFailed(f"{engine} returned no audio", hint="check the text has words")
    peak = float(np.max(np.abs(audio)))
    audio = audio * (_PEAK / peak)
    first, last = speech_bounds(audio, rate, _SILENCE)
    audio = audio[first:last]
    duration_ms = round(audio.size * 1000 / rate)
    shift = round(first * 1000 / rate)
    if words is None:
        timed = spread_words(text, 0, duration_ms)
    else:
        timed = [w.shifted(-shift) for w in words]
    clamped = ordered_words(((w.text, w.start_ms, w.end_ms) for w in timed), duration_ms)
    key = hashlib.sha256(f"{engine}|{version}|{text}".encode()).hexdigest()[:16]
    path = Path(workdir) / f"{engine}-{key}-{hashlib.sha256(audio.tobytes()).hexdigest()[:8]}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, audio.astype(np.float64), rate)
    return SpeechResult(path, duration_ms, rate, tuple(clamped), engine, version)


def any_language_voice(
    voice_id: str, engine: str, description: str, engine_voice: str
) -> VoiceInfo:
    """A voice that speaks whichever language it is asked (remote services, clones); its
    words are timed as the engine can (said in the description when estimated)."""
    return VoiceInfo(
        id=voice_id,
        engine=engine,
        language="mul",
        gender="neutral",
        age="adult",
        description=description,
        engine_voice=engine_voice,
    )


def check_speed(speed: float, low: float, high: float, engine: str) -> None:
    if not low <= speed <= high:
        raise SpecError(
            f"{engine} speaks at {low:g}-{high:g}x, not {speed:g}x",
            hint=f"set the speed between {low:g} and {high:g} for this voice",
        )
