"""SVOX Pico: word times aligned from espeak-ng by dynamic time warping; French's default."""

from __future__ import annotations

import ctypes.util
import statistics
import wave
from pathlib import Path

import numpy as np
import pytest

from reelforge import voices
from reelforge.engines import registry
from reelforge.engines.base import SpeechRequest, SpeechResult
from reelforge.engines.tts import pico
from reelforge.errors import EngineUnavailable, SpecError

needs_espeak = pytest.mark.skipif(
    ctypes.util.find_library("espeak-ng") is None, reason="libespeak-ng is not installed"
)
needs_pico = pytest.mark.skipif(not pico.installed(), reason="pico2wave is not installed")

FRENCH = "Le marché du samedi matin attire les familles. Il faut arroser les tomates le soir."


def _samples(result: SpeechResult) -> tuple[np.ndarray, int]:
    with wave.open(str(result.audio), "rb") as wav:
        rate = wav.getframerate()
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
    return pcm.astype(np.float32) / 32768.0, rate


def test_warping_path_is_monotonic_and_spans_both() -> None:
    rng = np.random.default_rng(0)
    source = rng.normal(size=(40, 4))
    target = np.repeat(source, 2, axis=0)  # the same, twice as slow
    path = pico.warping_path(source, target)
    assert tuple(path[0]) == (0, 0) and tuple(path[-1]) == (39, 79)
    steps = np.diff(path, axis=0)
    assert (steps >= 0).all() and (steps.sum(axis=1) >= 1).all() and (steps <= 1).all()
    # every source frame is matched to its own two copies
    for i, j in path:
        assert j // 2 == i


@needs_espeak
def test_alignment_moves_word_times_onto_another_voice_and_pace(tmp_path: Path) -> None:
    """A woman's espeak voice at speed 1.0 aligned onto a man's at 1.35: his word starts are
    known exactly (espeak's events), so the mapped ones can be checked."""
    espeak = registry.get("voice", "espeak")
    text = "Les élèves ont visité le musée avant de déjeuner au parc, puis ils sont rentrés."
    source = espeak.synthesize(SpeechRequest(text, "fr", "fr+f3"), tmp_path)
    target = espeak.synthesize(SpeechRequest(text, "fr", "fr+m3", speed=1.35), tmp_path)
    moved = pico.time_map(*_samples(source), *_samples(target))
    errors = [
        abs(moved(a.start_ms / 1000) - b.start_ms / 1000)
        for a, b in zip(source.words, target.words, strict=True)
    ]
    assert statistics.median(errors) < 0.04, errors
    assert max(errors) < 0.12, errors
    end_s = target.duration_ms / 1000
    assert moved(0.0) < 0.05 and abs(moved(source.duration_ms / 1000) - end_s) < 0.05


def test_bad_requests_are_explained(tmp_path: Path) -> None:
    engine = pico.PicoEngine()
    with pytest.raises(EngineUnavailable) as err:
        engine.synthesize(SpeechRequest("مرحبا", "ar"), tmp_path)
    assert "fr-FR" in err.value.hint
    with pytest.raises(SpecError) as bad:
        engine.synthesize(SpeechRequest("Bonjour", "fr", "fr-CA"), tmp_path)
    assert "fr-FR" in bad.value.hint
    with pytest.raises(SpecError):
        engine.synthesize(SpeechRequest(" ... !", "fr"), tmp_path)


def test_without_pico_french_keeps_its_other_voices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pico, "installed", lambda: False)
    info = pico.PicoEngine().info()
    assert not info.available and "make pico" in info.reason and "commercial" in info.licence
    assert pico.PicoEngine().voices() == []
    assert all(v.engine != "pico" for v in voices.catalog())
    assert voices.resolve_voice(None, "fr").engine != "pico"


@needs_pico
@needs_espeak
def test_pico_speaks_french_with_every_word_timed(tmp_path: Path) -> None:
    engine = pico.PicoEngine()
    assert engine.info().available and "commercial" in engine.info().licence
    result = engine.synthesize(SpeechRequest(FRENCH, "fr"), tmp_path)
    assert result.sample_rate == 16000 and result.engine == "pico"
    assert [w.text for w in result.words] == FRENCH.split()
    starts = [w.start_ms for w in result.words]
    assert starts == sorted(starts) and starts[0] < 300
    assert all(w.end_ms > w.start_ms for w in result.words)
    assert result.words[-1].end_ms <= result.duration_ms
    assert result.words[-1].end_ms > result.duration_ms - 400
    # the second sentence starts after the pause between them
    gap = result.words[8].start_ms - result.words[7].end_ms
    assert gap >= 250, result.words
    assert result.phonemes and result.phonemes[-1].end_ms <= result.duration_ms
    faster = engine.synthesize(SpeechRequest(FRENCH, "fr", speed=1.5), tmp_path)
    assert faster.duration_ms < result.duration_ms * 0.8
    assert [w.text for w in faster.words] == FRENCH.split()


@needs_pico
@needs_espeak
def test_pico_is_french_default_once_installed() -> None:
    french = voices.resolve_voice(None, "fr")
    assert (french.id, french.engine, french.engine_voice) == ("fr-adult-female", "pico", "fr-FR")
    # French men are another engine's
    assert voices.resolve_voice("fr-child-male", "fr").engine != "pico"
    assert voices.resolve_voice(None, "es").engine != "pico"


@needs_pico
@needs_espeak
def test_french_girls_and_seniors_are_picos_woman_moved_by_world(tmp_path: Path) -> None:
    pytest.importorskip("pyworld")
    from reelforge import speech_transform

    text = "Regarde, le petit chat dort au soleil sur le banc."
    adult = voices.synthesize(text, "fr", "fr-adult-female", workdir=tmp_path)
    child = voices.synthesize(text, "fr", "fr-child-female", workdir=tmp_path)
    senior = voices.synthesize(text, "fr", "fr-senior-female", workdir=tmp_path)
    assert {adult.engine, child.engine, senior.engine} == {"pico"}
    grown, young = speech_transform.measure(adult.audio), speech_transform.measure(child.audio)
    assert 250 <= young.f0_hz <= 400 and young.f0_hz > grown.f0_hz * 1.3, (grown, young)
    assert all(y > g for y, g in zip(young.formants_hz, grown.formants_hz, strict=True))
    assert speech_transform.measure(senior.audio).f0_hz < grown.f0_hz
    # the same Pico speech underneath: WORLD keeps every word time
    assert child.words == adult.words and child.duration_ms == adult.duration_ms
    assert senior.duration_ms > adult.duration_ms  # seniors speak slower
