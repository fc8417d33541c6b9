"""Settings: the only reader of the environment (prefix ``REELFORGE_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_cache() -> Path:
    return Path.home() / ".cache" / "reelforge"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REELFORGE_", extra="ignore")

    cache_dir: Path = Field(default_factory=_default_cache)  # voice and step caches
    debug: bool = False  # tracebacks on errors in the CLI
    segment_seconds: float | None = None  # render long edits in segments of this length
    segment_threshold_s: float = 600.0  # outputs longer than this render in segments
    asr_model: str = ""  # Whisper model for transcription: tiny.en, base, or a folder
    asr_model_dir: Path | None = None  # a local CTranslate2 Whisper model folder (when no model)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
