"""Narration from an OpenAI-compatible speech server: ``POST {endpoint}/audio/speech``.

The request is the documented one: ``{"model", "input", "voice", "response_format": "wav",
"speed"}`` with ``Authorization: Bearer <key>`` when a key is set
(``REELFORGE_OPENAI_SPEECH_API_KEY``); the answer is the audio file's bytes. OpenAI's own
service (``https://api.openai.com/v1``, models ``tts-1``, ``tts-1-hd``, ``gpt-4o-mini-tts``) and
local servers that copy its API (Kokoro-FastAPI, openedai-speech, LocalAI) answer it.

Voices: ``REELFORGE_OPENAI_SPEECH_VOICES`` (comma-separated names the server knows, default
``alloy``) appear as ``openai-<name>``, multilingual (the scene's language is what is read).

Word times: the API returns none, so words are spread over the speech of each sentence-bounded
piece (input is sent in pieces of at most 4096 characters, the documented limit) in proportion
to their letters; captions follow the speech to within a word or so. Pitch is moved by the voice
layer (WORLD) like any engine's.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import EngineInfo, SpeechRequest, SpeechResult, VoiceInfo, Word
from reelforge.engines.tts import remote, speech_file
from reelforge.errors import SpecError
from reelforge.settings import Settings, get_settings

SERVICE = remote.Service(
    "the OpenAI-compatible speech server",
    "REELFORGE_OPENAI_SPEECH_ENDPOINT",
    "REELFORGE_OPENAI_SPEECH_API_KEY",
)
MAX_INPUT_CHARS = 4096  # the API's limit per request
_PIECE_GAP_S = 0.3  # silence between two pieces of a long narration


class OpenAISpeechEngine:
    """Any server that speaks OpenAI's ``/audio/speech``."""

    name: ClassVar[str] = "openai-speech"
    concurrent: ClassVar[bool] = True  # each scene is its own HTTP request

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings  # None: the process's settings, read at each call

    def _config(self) -> Settings:
        return self._settings if self._settings is not None else get_settings()

    def info(self) -> EngineInfo:
        settings = self._config()
        version = f"{settings.openai_speech_model} via {remote.client_version()}"
        if not settings.openai_speech_endpoint:
            return EngineInfo(
                self.name,
                "voice",
                version,
                available=False,
                reason="no endpoint configured: set REELFORGE_OPENAI_SPEECH_ENDPOINT to an "
                "OpenAI-compatible server's /v1 URL (and REELFORGE_OPENAI_SPEECH_API_KEY, "
                "REELFORGE_OPENAI_SPEECH_VOICES)",
            )
        return EngineInfo(self.name, "voice", version)

    def voices(self) -> list[VoiceInfo]:
        settings = self._config()
        if not settings.openai_speech_endpoint:
            return []
        names = [n.strip() for n in settings.openai_speech_voices.split(",") if n.strip()]
        where = f"{settings.openai_speech_model}, {settings.openai_speech_endpoint}"
        return [
            speech_file.any_language_voice(
                f"openai-{name.lower()}",
                self.name,
                f"{name} ({where}); word times estimated",
                name,
            )
            for name in names
        ]

    def synthesize(self, request: SpeechRequest, workdir: Path) -> SpeechResult:
        settings = self._config()
        url = remote.base_url(settings.openai_speech_endpoint, SERVICE) + "/audio/speech"
        speech_file.check_speed(request.speed, 0.25, 4.0, self.name)
        voice = request.voice or settings.openai_speech_voices.split(",")[0].strip()
        headers = {"Accept": "audio/wav"}
        if settings.openai_speech_api_key is not None:
            headers["Authorization"] = f"Bearer {settings.openai_speech_api_key.get_secret_value()}"
        pieces: list[NDArray[np.float32]] = []
        words: list[Word] = []
        rate = 0
        for text in speech_file.chunks(request.text, MAX_INPUT_CHARS):
            body = {
                "model": settings.openai_speech_model,
                "input": text,
                "voice": voice,
                "response_format": "wav",
                "speed": request.speed,
            }
            data, _ = remote.post(SERVICE, url, body, headers, settings.speech_timeout_s)
            audio, rate = speech_file.from_wav(data, f"{SERVICE.name} at {url}")
            if pieces:
                pieces.append(np.zeros(int(_PIECE_GAP_S * rate), np.float32))
            at = round(sum(p.size for p in pieces) * 1000 / rate)
            words += speech_file.spread_words(text, at, at + round(audio.size * 1000 / rate))
            pieces.append(audio)
        if not pieces:
            raise SpecError("nothing to say: the narration text is empty", hint="add words")
        # the words were spread over each piece whole; spread them over the speech instead
        # when it is one piece (the common case): leading silence must not delay them
        joined = np.concatenate(pieces)
        timed = None if len(pieces) == 1 else words
        return speech_file.result(
            joined, rate, request.text, workdir, self.name, self.info().version, timed
        )
