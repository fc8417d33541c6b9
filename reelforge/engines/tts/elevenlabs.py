"""Narration from ElevenLabs, with word times from its character alignment.

The request is the documented one: ``POST {endpoint}/v1/text-to-speech/{voice_id}/with-timestamps
?output_format=pcm_24000`` with the header ``xi-api-key`` and the JSON body ``{"text",
"model_id", "voice_settings": {"speed"}}``. The answer is JSON: ``audio_base64`` (raw 16-bit
PCM at 24 kHz for that output format) and ``alignment`` (``characters``,
``character_start_times_seconds``, ``character_end_times_seconds``): every character of the
text with its time, grouped here into words, so captions are timed by the voice itself.

Settings: ``REELFORGE_ELEVENLABS_API_KEY`` (the engine is available once it is set),
``REELFORGE_ELEVENLABS_VOICES`` (comma-separated voice ids, or ``name=voice_id`` pairs; they
appear as ``elevenlabs-<name>``), ``REELFORGE_ELEVENLABS_MODEL`` (default
``eleven_multilingual_v2``) and ``REELFORGE_ELEVENLABS_ENDPOINT``. ElevenLabs speaks at 0.7-1.2x
(``voice_settings.speed``); other speeds are refused rather than silently changed.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import EngineInfo, SpeechRequest, SpeechResult, VoiceInfo, Word
from reelforge.engines.tts import remote, speech_file
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError
from reelforge.settings import Settings, get_settings

SERVICE = remote.Service(
    "ElevenLabs", "REELFORGE_ELEVENLABS_ENDPOINT", "REELFORGE_ELEVENLABS_API_KEY"
)
OUTPUT_FORMAT = "pcm_24000"
SAMPLE_RATE = 24_000
MAX_INPUT_CHARS = 5000  # per request (the multilingual v2 model's limit)
_PIECE_GAP_S = 0.3


def voice_table(text: str) -> dict[str, str]:
    """``"Rachel=21m00Tcm4TlvDq8ikWAM, pNInz6obpgDQGcFmaJgB"`` -> name -> voice id (a bare id
    is its own name)."""
    table: dict[str, str] = {}
    for item in text.split(","):
        name, _, voice_id = item.strip().partition("=")
        if name:
            table[name.strip().lower()] = (voice_id or name).strip()
    return table


class ElevenLabsEngine:
    """ElevenLabs text-to-speech (network; the key is the user's)."""

    name: ClassVar[str] = "elevenlabs"
    concurrent: ClassVar[bool] = True

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings

    def _config(self) -> Settings:
        return self._settings if self._settings is not None else get_settings()

    def info(self) -> EngineInfo:
        settings = self._config()
        version = f"{settings.elevenlabs_model} via {remote.client_version()}"
        if settings.elevenlabs_api_key is None:
            return EngineInfo(
                self.name,
                "voice",
                version,
                available=False,
                reason="no key configured: set REELFORGE_ELEVENLABS_API_KEY and "
                "REELFORGE_ELEVENLABS_VOICES (voice ids, or name=voice_id pairs)",
            )
        return EngineInfo(self.name, "voice", version)

    def voices(self) -> list[VoiceInfo]:
        settings = self._config()
        if settings.elevenlabs_api_key is None:
            return []
        return [
            speech_file.any_language_voice(
                f"elevenlabs-{name}",
                self.name,
                f"ElevenLabs voice {voice_id} ({settings.elevenlabs_model})",
                voice_id,
            )
            for name, voice_id in voice_table(settings.elevenlabs_voices).items()
        ]

    def synthesize(self, request: SpeechRequest, workdir: Path) -> SpeechResult:
        settings = self._config()
        if settings.elevenlabs_api_key is None:
            raise EngineUnavailable(
                "ElevenLabs has no key configured", hint="set REELFORGE_ELEVENLABS_API_KEY"
            )
        speech_file.check_speed(request.speed, 0.7, 1.2, self.name)
        voices = voice_table(settings.elevenlabs_voices)
        voice_id = request.voice or next(iter(voices.values()), "")
        if not voice_id:
            raise SpecError(
                "no ElevenLabs voice given",
                hint="set REELFORGE_ELEVENLABS_VOICES to your voice ids (name=voice_id, ...)",
            )
        url = f"{remote.base_url(settings.elevenlabs_endpoint, SERVICE)}/v1/text-to-speech/"
        url += f"{voice_id}/with-timestamps"
        headers = {
            "xi-api-key": settings.elevenlabs_api_key.get_secret_value(),
            "Accept": "application/json",
        }
        pieces: list[NDArray[np.float32]] = []
        words: list[Word] = []
        for text in speech_file.chunks(request.text, MAX_INPUT_CHARS):
            body = {
                "text": text,
                "model_id": settings.elevenlabs_model,
                "voice_settings": {"speed": request.speed},
            }
            data, _ = remote.post(
                SERVICE,
                url,
                body,
                headers,
                settings.speech_timeout_s,
                params={"output_format": OUTPUT_FORMAT},
            )
            audio, said = _answer(data, text, url)
            if pieces:
                pieces.append(np.zeros(int(_PIECE_GAP_S * SAMPLE_RATE), np.float32))
            at = round(sum(p.size for p in pieces) * 1000 / SAMPLE_RATE)
            words += [Word(w.text, w.start_ms + at, w.end_ms + at) for w in said]
            pieces.append(audio)
        if not pieces:
            raise SpecError("nothing to say: the narration text is empty", hint="add words")
        return speech_file.result(
            np.concatenate(pieces),
            SAMPLE_RATE,
            request.text,
            workdir,
            self.name,
            self.info().version,
            words,
        )


def _answer(data: bytes, text: str, url: str) -> tuple[NDArray[np.float32], list[Word]]:
    """The audio and the timed words of one with-timestamps answer."""
    try:
        found: Any = json.loads(data)
        audio = speech_file.from_pcm16(base64.b64decode(found["audio_base64"], validate=True))
        alignment = found.get("alignment") or found.get("normalized_alignment")
        characters = list(alignment["characters"])
        starts = [float(t) for t in alignment["character_start_times_seconds"]]
        ends = [float(t) for t in alignment["character_end_times_seconds"]]
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise EngineFailed(
            f"ElevenLabs at {url} did not answer audio with its alignment ({error})",
            hint="check REELFORGE_ELEVENLABS_ENDPOINT points at the ElevenLabs API",
        ) from None
    return audio, speech_file.aligned_words(text, characters, starts, ends)
