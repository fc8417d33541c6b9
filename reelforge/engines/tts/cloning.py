"""What the voice-cloning adapters (XTTS-v2, F5-TTS) share: settings, availability, one voice
(the clone of the configured reference recording), and a model loaded once on first use.

Not an engine: ``xtts`` and ``f5_tts`` subclass it and add their library calls.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any, ClassVar

from reelforge.engines.base import EngineInfo, VoiceInfo
from reelforge.engines.tts import speech_file
from reelforge.errors import EngineUnavailable
from reelforge.settings import Settings, get_settings


class ClonedVoice:
    """A cloning model behind the voice contract; subclasses say what it needs and load it."""

    name: ClassVar[str]
    title: ClassVar[str]  # "XTTS-v2"
    # the modules it imports -> the packages that install them
    libraries: ClassVar[dict[str, str]]
    concurrent: ClassVar[bool] = False  # one model on one device: scenes take turns

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings  # None: the process's settings, read at each call
        self._lock = threading.Lock()
        self._loaded: Any = None

    def _config(self) -> Settings:
        return self._settings if self._settings is not None else get_settings()

    def problem(self, settings: Settings) -> str:
        """Why the model cannot run here ("" when it can), with the fix."""
        for module in self.libraries:
            if importlib.util.find_spec(module) is None:
                return f"the {module} library is not installed: {self.install_hint()}"
        folder = getattr(settings, self.setting("model_dir"))
        if folder is None:
            variable = f"REELFORGE_{self.setting('model_dir').upper()}"
            return f"no model folder: set {variable} to a local {self.title} folder"
        lacking = self.folder_problem(Path(folder), settings)
        if lacking:
            return lacking
        reference = getattr(settings, self.setting("reference"))
        if reference is None or not Path(reference).is_file():
            variable = f"REELFORGE_{self.setting('reference').upper()}"
            return f"no reference recording: set {variable} to the voice to clone"
        return ""

    def setting(self, what: str) -> str:
        """The Settings field of this model's ``what``: "xtts" + "model_dir" -> xtts_model_dir."""
        return f"{self.name.split('-')[0]}_{what}"

    def install_hint(self) -> str:
        return "pip install " + " ".join(self.libraries.values())

    def folder_problem(self, folder: Path, settings: Settings) -> str:
        """What the model folder (or another setting) lacks ("" when nothing)."""
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError

    def load(self, settings: Settings) -> Any:
        """The loaded model, conditioned on the reference where the library allows."""
        raise NotImplementedError

    def info(self) -> EngineInfo:
        reason = self.problem(self._config())
        return EngineInfo(self.name, "voice", self.version(), available=not reason, reason=reason)

    def voices(self) -> list[VoiceInfo]:
        settings = self._config()
        if self.problem(settings):
            return []
        reference = Path(str(getattr(settings, self.setting("reference"))))
        description = f"{self.title} clone of {reference.name}; word times estimated"
        return [
            speech_file.any_language_voice(
                f"{self.name}-clone", self.name, description, str(reference)
            )
        ]

    def model(self) -> Any:
        """Load the model once (thread-safe)."""
        with self._lock:
            if self._loaded is None:
                settings = self._config()
                reason = self.problem(settings)
                if reason:
                    raise EngineUnavailable(f"{self.title} cannot run: {reason}")
                self._loaded = self.load(settings)
            return self._loaded
