"""Voice cloning with F5-TTS, from a local model folder (nothing downloads).

Needs the ``f5-tts`` library and torch, a model folder (``REELFORGE_F5_MODEL_DIR``: the
checkpoint ``model_*.safetensors`` or ``.pt``, its ``vocab.txt``, and the Vocos vocoder in a
``vocos`` subfolder so that none is fetched), a reference recording (``REELFORGE_F5_REFERENCE``,
under ~12 s: F5-TTS clips longer ones) and what it says (``REELFORGE_F5_REFERENCE_TEXT``: F5
conditions on the reference's text and audio together). The model is loaded once
(``f5_tts.api.F5TTS(model=..., ckpt_file=..., vocab_file=..., vocoder_local_path=...)``), each
scene is ``infer(ref_file, ref_text, gen_text, speed=...)``: audio at the rate it reports.
F5-TTS gives no word times; they are spread over the speech by letters. The device is
``REELFORGE_GEN_DEVICE``.

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
from reelforge.errors import EngineFailed, SpecError
from reelforge.settings import Settings

ARCHITECTURE = "F5TTS_v1_Base"
MAX_INPUT_CHARS = 300  # per inference: F5 sizes its output from the text's share of the reference
_INSTALL_HINT = "pip install f5-tts torch"


def checkpoint(folder: Path) -> Path | None:
    """The folder's checkpoint: ``model_*.safetensors`` first, then ``model_*.pt``."""
    for pattern in ("model_*.safetensors", "model_*.pt", "*.safetensors", "*.pt"):
        found = sorted(folder.glob(pattern))
        if found:
            return found[-1]  # the last (highest step) when several
    return None


class F5TtsEngine(ClonedVoice):
    """A voice cloned from one recording and its transcript by F5-TTS."""

    name: ClassVar[str] = "f5-tts"
    libraries: ClassVar[dict[str, str]] = {"f5_tts": "f5-tts", "torch": "torch"}
    title: ClassVar[str] = "F5-TTS"

    def folder_problem(self, folder: Path, settings: Settings) -> str:
        if checkpoint(folder) is None or not (folder / "vocab.txt").is_file():
            return f"the F5-TTS folder {folder} needs a model_*.safetensors (or .pt) and vocab.txt"
        if not (folder / "vocos").is_dir():
            return f"{folder} needs the Vocos vocoder in vocos/ (F5-TTS would download it)"
        if not settings.f5_reference_text.strip():
            return "the reference's words are missing: set REELFORGE_F5_REFERENCE_TEXT"
        return ""

    def load(self, settings: Settings) -> Any:
        import torch
        from f5_tts.api import F5TTS

        from reelforge.engines.visuals.diffusion import GenSettings, device_of

        folder = Path(str(settings.f5_model_dir))
        vocoder = folder / "vocos"  # checked by problem(): nothing is fetched
        return F5TTS(
            model=ARCHITECTURE,
            ckpt_file=str(checkpoint(folder)),
            vocab_file=str(folder / "vocab.txt"),
            vocoder_local_path=str(vocoder),
            device=device_of(GenSettings("", "REELFORGE_GEN_DEVICE", settings.gen_device), torch),
        )

    def version(self) -> str:
        try:
            return f"f5-tts {metadata.version('f5-tts')}; {ARCHITECTURE}"
        except metadata.PackageNotFoundError:
            return f"f5-tts (not installed); {ARCHITECTURE}"

    def synthesize(self, request: SpeechRequest, workdir: Path) -> SpeechResult:
        speech_file.check_speed(request.speed, 0.5, 2.0, self.name)
        pieces = speech_file.chunks(request.text, MAX_INPUT_CHARS)
        if not pieces:
            raise SpecError("nothing to say: the narration text is empty", hint="add words")
        settings = self._config()
        model = self.model()
        audio, rate = [], 0
        for text in pieces:
            try:
                wave, rate, _ = model.infer(
                    ref_file=str(settings.f5_reference),
                    ref_text=settings.f5_reference_text,
                    gen_text=text,
                    speed=request.speed,
                    show_info=lambda *_: None,
                )
            except (RuntimeError, ValueError) as error:
                raise EngineFailed(f"F5-TTS failed: {error}", hint=_INSTALL_HINT) from error
            audio.append(np.asarray(wave, dtype=np.float32).ravel())
        return speech_file.result(
            np.concatenate(audio), int(rate), request.text, workdir, self.name, self.version()
        )
