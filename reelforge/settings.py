"""Settings: the only reader of the environment (prefix ``REELFORGE_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
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

    # Story writing (`reelforge write`, `make --idea`, POST /api/scripts). The engine that
    # writes: "" = "openai-compatible" when llm_endpoint is set, else "rule-based" (offline).
    writer_engine: str = ""
    # An OpenAI-compatible chat-completions server, its base URL up to /v1:
    # https://api.openai.com/v1, a llama.cpp server http://127.0.0.1:8080/v1, vLLM
    # http://127.0.0.1:8000/v1, Ollama http://127.0.0.1:11434/v1. Only this endpoint is ever
    # called: the API never takes an endpoint from a request.
    llm_endpoint: str = ""
    llm_model: str = ""  # the model name the server knows ("gpt-4o-mini", "qwen2.5:7b"...)
    llm_api_key: SecretStr | None = None  # sent as "Authorization: Bearer ..." when set
    llm_timeout_s: float = Field(120.0, gt=0, le=3600)  # one answer, connection included
    llm_attempts: int = Field(3, ge=1, le=10)  # answers asked for until one validates
    llm_temperature: float = Field(0.7, ge=0.0, le=2.0)
    # How the answer is constrained to JSON: "json_schema" (OpenAI, vLLM, llama.cpp, recent
    # Ollama), "json_object" (older servers), "none" (the prompt alone asks for JSON).
    llm_response_format: Literal["json_schema", "json_object", "none"] = "json_schema"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
