"""The storyboard: what users write (YAML/JSON), lenient and documented.

Every field has a default or is resolved by planning (template, language detection, narration
timing). Shorthands are accepted: ``visual: photo.jpg``, ``music: calm``, ``transition: fade``.
Paths are relative to the storyboard file; :func:`reelforge.spec.load_spec` makes them absolute.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")
VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")
FORMATS = ("16:9", "9:16", "1:1")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class MotionSpec(_Model):
    """Explicit Ken Burns motion (zoom factors; x/y anchors 0..1 sweep the slack)."""

    zoom: tuple[float, float] = (1.0, 1.15)
    x: tuple[float, float] = (0.5, 0.5)
    y: tuple[float, float] = (0.5, 0.5)
    easing: Literal["linear", "ease-in-out"] = "ease-in-out"


class VisualSpec(_Model):
    """What a scene shows. ``type`` is inferred from ``path``/``prompt`` when omitted."""

    type: Literal["procedural", "image", "video", "prompt"] = "procedural"
    style: str | None = None  # procedural style; None = the template's
    path: str | None = None  # image or video file
    prompt: str | None = None  # for generative engines (later); procedural uses it as a seed
    fit: Literal["cover", "contain", "blur"] = "cover"
    motion: str | MotionSpec | None = None  # preset name ("zoom-in", "pan-left"...) or explicit
    start: float = 0.0  # video: seconds into the file where the scene starts
    loop: bool = True  # video: loop when shorter than the scene

    @model_validator(mode="before")
    @classmethod
    def _infer_type(cls, data: Any) -> Any:
        if isinstance(data, str):
            data = _visual_from_string(data)
        if isinstance(data, dict) and "type" not in data:
            data = dict(data)
            if data.get("path"):
                ext = "." + str(data["path"]).rsplit(".", 1)[-1].lower()
                data["type"] = "video" if ext in VIDEO_EXTENSIONS else "image"
            elif data.get("prompt"):
                data["type"] = "prompt"
        return data

    @model_validator(mode="after")
    def _check(self) -> VisualSpec:
        if self.type in ("image", "video") and not self.path:
            raise ValueError(f"a visual of type {self.type!r} needs a 'path'")
        return self


def _visual_from_string(value: str) -> dict[str, Any]:
    low = value.lower()
    if low.endswith(IMAGE_EXTENSIONS):
        return {"type": "image", "path": value}
    if low.endswith(VIDEO_EXTENSIONS):
        return {"type": "video", "path": value}
    if low.startswith("prompt:"):
        return {"type": "prompt", "prompt": value[7:].strip()}
    return {"type": "procedural", "style": value}


class TransitionSpec(_Model):
    kind: str = "crossfade"  # see reelforge.timeline.TRANSITIONS
    duration: float = Field(0.5, ge=0.0, le=3.0)  # seconds

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"kind": data} if isinstance(data, str) else data


class MusicSpec(_Model):
    mood: str | None = None  # None = the template's mood
    path: str | None = None  # a user music file instead of the composer
    volume_db: float = -18.0  # music level under the narration, before ducking
    duck: bool = True
    seed: int | None = None
    enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if data is None or data is False or data == "none":
            return {"enabled": False}
        if isinstance(data, str):
            low = data.lower()
            is_file = low.endswith((".wav", ".mp3", ".ogg", ".flac", ".m4a", ".aac", ".opus"))
            return {"path": data} if is_file else {"mood": data}
        return data


class CaptionSpec(_Model):
    enabled: bool = True
    burn: bool = True  # burn into the video (sidecar files are always written)
    style: str | None = None  # "plain" | "bold" | "karaoke" | "highlight" | "boxed"
    position: Literal["bottom", "center", "top"] | None = None
    font: str | None = None
    size: int | None = None  # pixels at the output resolution
    color: str | None = None
    highlight_color: str | None = None
    outline: int | None = None  # outline width in pixels
    margin: int | None = None  # pixels from the bottom (or top) edge
    uppercase: bool | None = None
    max_words: int = Field(7, ge=1, le=20)
    max_chars: int = Field(40, ge=8, le=120)
    file: str | None = None  # given timings: .srt, .vtt, .ass or captions JSON

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if data is None or data is False:
            return {"enabled": False}
        if data is True:
            return {}
        if isinstance(data, str):
            return {"style": data}
        return data


class NarrationSpec(_Model):
    """A recorded narration for the whole video, used as given instead of a synthetic voice."""

    path: str
    words: str | None = None  # optional word timings JSON [{text,start,end}] for captions


class WatermarkSpec(_Model):
    path: str | None = None  # logo image
    text: str | None = None  # or a text watermark
    position: Literal["top-left", "top-right", "bottom-left", "bottom-right", "center"] = (
        "top-right"
    )
    opacity: float = Field(0.8, ge=0.0, le=1.0)
    width: float = Field(0.14, gt=0.0, le=1.0)  # fraction of the frame width

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            low = data.lower()
            return {"path": data} if low.endswith(IMAGE_EXTENSIONS) else {"text": data}
        return data


class EncoderSpec(_Model):
    preset: str = "veryfast"
    crf: int = Field(23, ge=0, le=51)
    audio_bitrate: str = "128k"
    # ffmpeg's AAC search: "fast" takes a seventh of the CPU of "twoloop" (0.7 s instead of
    # 4.9 s for a minute of stereo, measured: 4-5 s off a 60 s render on 2 cores); "twoloop"
    # is ffmpeg's best quality, a little cleaner at 128 kb/s
    aac_coder: Literal["twoloop", "fast"] = "fast"


class SceneSpec(_Model):
    narration: str = ""
    title: str | None = None  # on-screen title text (kinetic)
    duration: float | None = Field(None, gt=0.0)  # seconds; with narration, a minimum
    visual: VisualSpec | None = None
    transition: TransitionSpec | None = None  # into this scene
    language: str | None = None
    voice: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"narration": data} if isinstance(data, str) else data


class Storyboard(_Model):
    """A whole video. See ``reelforge schema`` for the JSON Schema."""

    title: str = ""
    template: str | None = None  # "restaurant", "real-estate", "product-promo", ...
    language: str | None = None  # None = detected per scene from the text
    voice: str | None = None  # a catalogue id ("en-adult-male") or None = the language default
    speed: float = Field(1.0, ge=0.5, le=2.0)
    format: Literal["16:9", "9:16", "1:1"] = "16:9"
    resolution: int = Field(1080, ge=144, le=2160)  # the short side in pixels
    fps: int = Field(30, ge=10, le=60)
    target_duration: float | None = Field(None, gt=0.0)  # seconds; spreads scenes to fit
    max_scenes: int | None = Field(None, ge=1)
    padding: float = Field(0.5, ge=0.0, le=5.0)  # seconds of silence after each narration
    transition: TransitionSpec | None = None  # default for every scene
    grade: str | None = None  # "none", "cinematic", "bright", "vintage", ...
    music: MusicSpec = MusicSpec()
    captions: CaptionSpec = CaptionSpec()
    narration: NarrationSpec | None = None
    watermark: WatermarkSpec | None = None
    loudness: float | None = Field(-14.0, ge=-40.0, le=-5.0)  # LUFS; null = no normalisation
    encoder: EncoderSpec = EncoderSpec()
    seed: int = 0
    scenes: tuple[SceneSpec, ...] = Field(..., min_length=1)

    @field_validator("format", mode="before")
    @classmethod
    def _format_aliases(cls, value: Any) -> Any:
        aliases = {"landscape": "16:9", "portrait": "9:16", "vertical": "9:16", "square": "1:1"}
        return aliases.get(str(value).lower(), value) if isinstance(value, str) else value

    def size(self) -> tuple[int, int]:
        """(width, height), both even."""
        short = self.resolution - self.resolution % 2
        if self.format == "1:1":
            return short, short
        long = int(round(short * 16 / 9))
        long -= long % 2
        return (long, short) if self.format == "16:9" else (short, long)
