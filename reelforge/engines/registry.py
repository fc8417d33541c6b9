"""The explicit, lazy registry of engines: names to ``"module:Class"`` strings.

Nothing here imports an engine until it is asked for, so ``import reelforge`` never loads
onnxruntime, torch or pretty-midi. Tests register fake engines the same way.
"""

from __future__ import annotations

import importlib
from typing import Any

from reelforge.errors import EngineUnavailable

AVAILABLE_ENGINES: dict[str, dict[str, str]] = {
    "voice": {
        "piper": "reelforge.engines.tts.piper:PiperEngine",
        "espeak": "reelforge.engines.tts.espeak:EspeakEngine",
        "kokoro-ja": "reelforge.engines.tts.kokoro_ja:KokoroJaEngine",
    },
    "music": {
        "procedural": "reelforge.engines.music.procedural:ProceduralMusic",
    },
    "visuals": {
        "procedural": "reelforge.engines.visuals.procedural:ProceduralVisuals",
    },
}

_instances: dict[tuple[str, str], Any] = {}


def register(kind: str, name: str, target: str | type) -> None:
    """Add or replace an engine. ``target`` is ``"module:Class"`` or a class."""
    if kind not in AVAILABLE_ENGINES:
        raise ValueError(f"unknown engine kind {kind!r}")
    if isinstance(target, type):
        AVAILABLE_ENGINES[kind][name] = f"{target.__module__}:{target.__qualname__}"
    else:
        AVAILABLE_ENGINES[kind][name] = target
    _instances.pop((kind, name), None)


def names(kind: str) -> list[str]:
    return list(AVAILABLE_ENGINES[kind])


def get(kind: str, name: str) -> Any:
    """Return the (cached) engine instance, importing its module on first use."""
    key = (kind, name)
    if key in _instances:
        return _instances[key]
    try:
        target = AVAILABLE_ENGINES[kind][name]
    except KeyError:
        known = ", ".join(AVAILABLE_ENGINES.get(kind, {})) or "none"
        raise EngineUnavailable(
            f"unknown {kind} engine {name!r}", hint=f"known {kind} engines: {known}"
        ) from None
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EngineUnavailable(
            f"{kind} engine {name!r} cannot be imported: {exc}",
            hint="install the optional extras: pip install 'reelforge[default]'",
        ) from exc
    instance = getattr(module, class_name)()
    _instances[key] = instance
    return instance


def reset() -> None:
    """Forget cached instances (tests)."""
    _instances.clear()
