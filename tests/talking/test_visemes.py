"""Visemes: phoneme timings from the voices themselves, co-articulated mouth tracks, and the
audio-driven estimator, measured against the narration's loudness."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from reelforge.engines import registry
from reelforge.engines.base import Phoneme, SpeechRequest, SpeechResult
from reelforge.talking import visemes as V

SENTENCE = "Hello world, my name is Maya and I build videos on a laptop."
HAS_PIPER = importlib.util.find_spec("piper") is not None
HAS_KOKORO = (
    "kokoro" in registry.names("voice") and registry.get("voice", "kokoro").info().available
)


def speak(engine: str, workdir: Path) -> SpeechResult:
    """The sentence in the engine's own English voice (the catalogue may prefer another)."""
    voice = registry.get("voice", engine)
    info = next(v for v in voice.voices() if v.language == "en" and v.age == "adult")
    return voice.synthesize(SpeechRequest(SENTENCE, "en", info.engine_voice), workdir)


def lagged_correlation(x: np.ndarray, y: np.ndarray, lags: int = 4) -> dict[int, float]:
    """Pearson correlation of x shifted by each lag (positive: x later than y)."""
    out = {}
    for lag in range(-lags, lags + 1):
        xa, ya = (x[lag:], y[: len(y) - lag]) if lag >= 0 else (x[:lag], y[-lag:])
        out[lag] = float(np.corrcoef(xa, ya)[0, 1])
    return out


@pytest.mark.parametrize(
    ("symbol", "viseme"),
    [
        ("m", "MBP"),
        ("b", "MBP"),
        ("f", "FV"),
        ("θ", "TH"),
        ("T", "TH"),  # espeak's θ
        ("ʃ", "SH"),
        ("S", "SH"),  # espeak's ʃ
        ("ɑ", "AI"),
        ("V", "AI"),  # espeak's ʌ
        ("i", "E"),
        ("@", "E"),  # espeak's schwa
        ("oU", "O"),
        ("u:", "U"),
        ("w", "U"),
        ("l", "L"),
        ("", "rest"),
    ],
)
def test_viseme_of_reads_ipa_and_espeak(symbol: str, viseme: str) -> None:
    assert V.viseme_of(symbol) == viseme


@pytest.mark.parametrize(
    "engine",
    [
        "espeak",
        pytest.param("piper", marks=pytest.mark.skipif(not HAS_PIPER, reason="no piper")),
        pytest.param("kokoro", marks=pytest.mark.skipif(not HAS_KOKORO, reason="no kokoro")),
    ],
)
def test_voices_report_phoneme_timings(engine: str, tmp_path: Path) -> None:
    speech = speak(engine, tmp_path)
    assert len(speech.phonemes) > 25  # one per sound, not per word
    previous = 0
    for phoneme in speech.phonemes:
        assert previous <= phoneme.start_ms < phoneme.end_ms <= speech.duration_ms
        previous = phoneme.start_ms
    # the phonemes cover the words: the first word's sounds start where the word starts
    assert abs(speech.phonemes[0].start_ms - speech.words[0].start_ms) < 80


@pytest.mark.parametrize(
    "engine",
    [
        "espeak",
        pytest.param("piper", marks=pytest.mark.skipif(not HAS_PIPER, reason="no piper")),
        pytest.param("kokoro", marks=pytest.mark.skipif(not HAS_KOKORO, reason="no kokoro")),
    ],
)
def test_mouth_follows_the_loudness_at_zero_lag(engine: str, tmp_path: Path) -> None:
    speech = speak(engine, tmp_path)
    samples, rate = V.read_wav(speech.audio)
    envelope = V.loudness_envelope(samples, rate, 30)
    for track in (
        V.track_for_speech(speech.audio, speech.duration_ms, speech.phonemes, 30),
        V.track_from_audio(samples, rate, 30),
    ):
        n = min(track.frames, len(envelope))
        assert abs(track.frames - len(envelope)) <= 1
        corr = lagged_correlation(track.open[:n], envelope[:n])
        best = max(corr, key=lambda lag: corr[lag])
        assert abs(best) <= 1, (track.source, corr)
        assert corr[best] > 0.6, (track.source, corr)


def test_shapes_blend_without_snapping_and_closures_close() -> None:
    # "ma" "oo" "pa": open vowels between lip closures, 80-160 ms each
    phonemes = [
        Phoneme("m", 0, 80),
        Phoneme("ɑ", 80, 240),
        Phoneme("u", 240, 400),
        Phoneme("p", 400, 470),
        Phoneme("ɑ", 470, 640),
    ]
    track = V.track_from_phonemes(phonemes, 700, 30)
    assert track.frames == 21
    steps = np.abs(np.diff(np.stack([track.open, track.width / 2, track.round])))
    # no snap: from closed to wide open takes at least two frames (~70 ms), as a jaw does
    assert steps.max() < 0.45
    frame = lambda ms: int(ms * 30 / 1000)  # noqa: E731
    assert track.open[frame(435)] < 0.15  # p: closed
    assert track.open[frame(160)] > 0.6  # ɑ: open
    assert track.round[frame(320)] > 0.7 and track.width[frame(320)] < -0.4  # u: puckered
    assert track.open[frame(560)] > 0.6  # the last vowel
    assert track.open[0] < 0.05  # m: closed


def test_audio_estimator_reads_silence_vowels_and_hiss() -> None:
    rate, fps = 16000, 25
    t = np.arange(rate) / rate
    vowel = 0.5 * np.sin(2 * np.pi * 180 * t) + 0.3 * np.sin(2 * np.pi * 1100 * t)
    rng = np.random.default_rng(0)
    hiss = rng.normal(0, 1, rate)
    hiss = np.diff(np.diff(hiss, prepend=0), prepend=0) * 0.15  # high-passed noise: "sss"
    samples = np.concatenate([np.zeros(rate), vowel, hiss]).astype(np.float32)
    track = V.track_from_audio(samples, rate, fps)
    silence, voiced, fricative = slice(5, 20), slice(30, 45), slice(55, 70)
    assert track.open[silence].max() < 0.05
    assert track.open[voiced].mean() > 0.5
    assert track.teeth[fricative].mean() > track.teeth[voiced].mean()
    assert track.open[fricative].mean() < track.open[voiced].mean()


def test_tracks_shift_and_combine_for_turns() -> None:
    first = V.track_from_phonemes([Phoneme("ɑ", 0, 300)], 300, 10)
    second = V.track_from_phonemes([Phoneme("o", 0, 300)], 300, 10)
    both = V.combine([first.shifted(0, 10), second.shifted(6, 10)])
    assert both.frames == 10
    assert both.open[4] < 0.05 and both.open[1] > 0.3 and both.round[7] > 0.3
