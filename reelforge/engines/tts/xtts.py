"""Voice cloning with Coqui XTTS-v2, from a local model folder (nothing downloads).

Needs the ``coqui-tts`` (or ``TTS``) library and torch, a model folder
(``REELFORGE_XTTS_MODEL_DIR``: ``config.json``, ``model.pth``, ``vocab.json``,
``speakers_xtts.pth`` as published) and a reference recording of the voice to clone
(``REELFORGE_XTTS_REFERENCE``, a few seconds of clean speech). The model is loaded once
(``Xtts.init_from_config`` + ``load_checkpoint``), the reference turned into conditioning
latents once, then each scene is ``model.inference(text, language, latents, embedding,
speed=...)``: 24 kHz audio. XTTS gives no word times; they are spread over the speech by
letters (reelforge.engines.tts.speech_file). The device is ``REELFORGE_GEN_DEVICE``.

Not tested with weights here (none can be fetched on this machine): the tests cover the
availability messages, the request mapping and the audio handling with a stand-in model.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from reelforge.engines.base import SpeechRequest, SpeechResult
from reelforge.engines.tts import speech_file
from reelforge.engines.tts.cloning import ClonedVoice
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError
from reelforge.settings import Settings

SAMPLE_RATE = 24_000
# XTTS-v2's languages (its own codes); reelforge's primary tags map onto them
LANGUAGES = {
    "en": "en", "es": "es", "fr": "fr", "de": "de", "it": "it", "pt": "pt", "pl": "pl",
    "tr": "tr", "ru": "ru", "nl": "nl", "cs": "cs", "ar": "ar", "zh": "zh-cn", "ja": "ja",
    "hu": "hu", "ko": "ko", "hi": "hi",
}  # fmt: skip
MAX_INPUT_CHARS = 250  # XTTS-v2 warns past ~250 characters per call (its tokenizer limit)
_FILES = ("config.json", "model.pth", "vocab.json")
_INSTALL_HINT = "pip install coqui-tts torch (the TTS library of XTTS-v2)"


def language_code(language: str) -> str:
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    if primary not in LANGUAGES:
        raise EngineUnavailable(
            f"XTTS-v2 does not speak {language!r}",
            hint=f"XTTS-v2 speaks {', '.join(sorted(LANGUAGES))}",
        )
    return LANGUAGES[primary]


class XttsEngine(ClonedVoice):
    """A voice cloned from one recording by XTTS-v2 (the conditioning latents of the
    reference are computed once, with the model)."""

    name: ClassVar[str] = "xtts"
    libraries: ClassVar[dict[str, str]] = {"TTS": "coqui-tts", "torch": "torch"}
    title: ClassVar[str] = "XTTS-v2"

    def folder_problem(self, folder: Path, settings: Settings) -> str:
        missing = [name for name in _FILES if not (folder / name).is_file()]
        if missing:
            return f"the XTTS-v2 folder {folder} lacks {', '.join(missing)}: copy it whole"
        return ""

    def load(self, settings: Settings) -> tuple[Any, Any, Any]:
        import torch
        from TTS.tts.configs.xtts_config import XttsConfig
        from TTS.tts.models.xtts import Xtts

        from reelforge.engines.visuals.diffusion import GenSettings, device_of

        folder = Path(str(settings.xtts_model_dir))
        config = XttsConfig()
        config.load_json(str(folder / "config.json"))
        model = Xtts.init_from_config(config)
        model.load_checkpoint(config, checkpoint_dir=str(folder), eval=True)
        model.to(device_of(GenSettings("", "REELFORGE_GEN_DEVICE", settings.gen_device), torch))
        latents, embedding = model.get_conditioning_latents(
            audio_path=[str(settings.xtts_reference)]
        )
        return model, latents, embedding

    def version(self) -> str:
        for package in ("coqui-tts", "TTS"):
            try:
                return f"{package} {metadata.version(package)}; XTTS-v2"
            except metadata.PackageNotFoundError:
                continue
        return "XTTS-v2 (library not installed)"

    def synthesize(self, request: SpeechRequest, workdir: Path) -> SpeechResult:
        language = language_code(request.language)
        speech_file.check_speed(request.speed, 0.5, 2.0, self.name)
        pieces = speech_file.chunks(request.text, MAX_INPUT_CHARS)
        if not pieces:
            raise SpecError("nothing to say: the narration text is empty", hint="add words")
        model, latents, embedding = self.model()
        audio = []
        for text in pieces:
            try:
                out = model.inference(
                    text, language, latents, embedding, temperature=0.7, speed=request.speed
                )
            except (RuntimeError, ValueError) as error:
                raise EngineFailed(f"XTTS-v2 failed: {error}", hint=_INSTALL_HINT) from error
            audio.append(np.asarray(out["wav"], dtype=np.float32).ravel())
        return speech_file.result(
            np.concatenate(audio), SAMPLE_RATE, request.text, workdir, self.name, self.version()
        )
