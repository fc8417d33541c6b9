"""The storyboard: what users write (YAML/JSON), lenient and documented.

Every field has a default or is resolved by planning (template, language detection, narration
timing). Shorthands are accepted: ``visual: photo.jpg``, ``music: calm``, ``transition: fade``.
Paths are relative to the storyboard file; :func:`reelforge.spec.load_spec` makes them absolute.

Every number and string is bounded to what a real video needs (a caption at most 200 pixels
tall, an outline at most 20, scenes at most 10 minutes, ...): a storyboard is untrusted input
on the service, and one unbounded field (``captions.size: 20000``) made libass grow by
180 MB/s. ``reelforge schema`` shows each bound; a value outside one is a ``SpecError`` naming
the field and its range.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from reelforge.errors import SpecError
from reelforge.text.languages import TRANSLATION_LANGUAGES, translation_language

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")
VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")
FORMATS = ("16:9", "9:16", "1:1")

# --- bounds: what a real video needs, no more ------------------------------------------------

MAX_SCENES = 1000
MAX_NARRATION_CHARS = 10_000  # one scene: about ten minutes of speech
MAX_TOTAL_NARRATION_CHARS = 200_000  # the whole video: about three hours of speech
MAX_SCENE_SECONDS = 600.0
MAX_VIDEO_SECONDS = 4 * 3600.0
MAX_TITLE_CHARS = 300
MAX_NAME_CHARS = 64  # template, voice, style, mood, grade, font... names
MAX_PATH_CHARS = 4096
MAX_PROMPT_CHARS = 2000
MAX_SEED = 2**32 - 1
MAX_TRANSLATIONS = 8  # caption translations of one video
# x264's presets, fastest first; "placebo" is left out: many times "veryslow" for no visible gain
X264Preset = Literal[
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
]  # fmt: skip
AudioBitrate = Literal["32k", "48k", "64k", "96k", "128k", "160k", "192k", "256k", "320k"]
HEX_COLOUR = r"^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$"  # '#rrggbb', or '#rrggbbaa' (aa = opacity)

# C0 controls but tab, line feed and carriage return; DEL; C1 controls. A null byte breaks
# every file API, and the others have no place in narration, titles or names.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"[\n\r\t]")


def _no_control(value: str) -> str:
    found = _CONTROL.search(value)
    if found is not None:
        raise ValueError(
            f"contains the control character U+{ord(found.group()):04X} at position "
            f"{found.start()}; remove it"
        )
    return value


def _one_line(value: str) -> str:
    _no_control(value)
    if _LINE_BREAK.search(value):
        raise ValueError("must be on one line (no tab or line break)")
    return value


# The same rules as JSON Schema patterns, so `reelforge schema` shows them.
_TEXT = {"pattern": "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"}
_LINE = {"pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"}
_NoControl = AfterValidator(_no_control)
_OneLine = AfterValidator(_one_line)

# Free text (line breaks allowed) and one-line strings (names, paths), each with its bound.
Narration = Annotated[
    str, Field(max_length=MAX_NARRATION_CHARS, json_schema_extra=_TEXT), _NoControl
]
Title = Annotated[str, Field(max_length=MAX_TITLE_CHARS, json_schema_extra=_TEXT), _NoControl]
Prompt = Annotated[str, Field(max_length=MAX_PROMPT_CHARS, json_schema_extra=_TEXT), _NoControl]
Name = Annotated[str, Field(max_length=MAX_NAME_CHARS, json_schema_extra=_LINE), _OneLine]
FontName = Annotated[str, Field(max_length=128, json_schema_extra=_LINE), _OneLine]
LanguageTag = Annotated[str, Field(max_length=16, json_schema_extra=_LINE), _OneLine]
FilePath = Annotated[str, Field(max_length=MAX_PATH_CHARS, json_schema_extra=_LINE), _OneLine]
Colour = Annotated[str, Field(pattern=HEX_COLOUR, examples=["#ffd400", "#00000099"])]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
# The compositor prepares each still at the largest zoom: 2x a 4K frame is already 100 MB.
Zoom = Annotated[float, Field(ge=1.0, le=2.0)]
Anchor = Annotated[float, Field(ge=0.0, le=1.0)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _string_for(field: str) -> Any:
    """A validator that takes a plain string for ``{field: string}`` (``stock: pexels``, a
    scene written as its narration)."""

    def expand(data: Any) -> Any:
        return {field: data} if isinstance(data, str) else data

    return model_validator(mode="before")(expand)


class MotionSpec(_Model):
    """Explicit Ken Burns motion (zoom factors; x/y anchors 0..1 sweep the slack)."""

    zoom: tuple[Zoom, Zoom] = (1.0, 1.15)
    x: tuple[Anchor, Anchor] = (0.5, 0.5)
    y: tuple[Anchor, Anchor] = (0.5, 0.5)
    easing: Literal["linear", "ease-in-out"] = "ease-in-out"


class VisualSpec(_Model):
    """What a scene shows. ``type`` is inferred from ``path``/``prompt`` when omitted."""

    type: Literal["procedural", "image", "video", "prompt"] = "procedural"
    style: Name | None = None  # procedural style; None = the template's
    path: FilePath | None = None  # image or video file
    # the picture's words for generative engines; procedural uses it as a seed
    prompt: Prompt | None = None
    fit: Literal["cover", "contain", "blur"] = "cover"
    motion: Name | MotionSpec | None = None  # preset name ("zoom-in", "pan-left"...) or explicit
    start: float = Field(0.0, ge=0.0, le=MAX_VIDEO_SECONDS)  # video: seconds into the file
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
    kind: Name = "crossfade"  # see reelforge.timeline.TRANSITIONS
    duration: float = Field(0.5, ge=0.0, le=3.0)  # seconds

    _shorthand = _string_for("kind")


class MusicSpec(_Model):
    engine: Name = "procedural"  # the music engine that composes (`reelforge engines`)
    mood: Name | None = None  # None = the template's mood (one of the engine's moods)
    path: FilePath | None = None  # a user music file instead of the composer
    volume_db: float = Field(-18.0, ge=-60.0, le=6.0)  # level under the narration, before ducking
    duck: bool = True
    seed: Seed | None = None
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
    style: Name | None = None  # "plain" | "bold" | "karaoke" | "highlight" | "boxed"
    position: Literal["bottom", "center", "top"] | None = None
    font: FontName | None = None
    size: int | None = Field(None, ge=8, le=200)  # pixels at the output resolution
    color: Colour | None = None
    highlight_color: Colour | None = None
    outline: int | None = Field(None, ge=0, le=20)  # outline width in pixels
    margin: int | None = Field(None, ge=0, le=1000)  # pixels from the bottom (or top) edge
    uppercase: bool | None = None
    max_words: int = Field(7, ge=1, le=20)
    max_chars: int = Field(40, ge=8, le=120)
    file: FilePath | None = None  # given timings: .srt, .vtt, .ass or captions JSON

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

    path: FilePath
    words: FilePath | None = None  # optional word timings JSON [{text,start,end}] for captions


class WatermarkSpec(_Model):
    path: FilePath | None = None  # logo image
    text: Title | None = None  # or a text watermark
    position: Literal["top-left", "top-right", "bottom-left", "bottom-right", "center"] = (
        "top-right"
    )
    opacity: float = Field(0.8, ge=0.0, le=1.0)
    width: float = Field(0.14, ge=0.01, le=1.0)  # fraction of the frame width

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            low = data.lower()
            return {"path": data} if low.endswith(IMAGE_EXTENSIONS) else {"text": data}
        return data


class CharacterSpec(_Model):
    """Who or what recurs in every scene, for generative visual engines: its words join each
    scene's prompt and its picture is kept by image-to-image (sd-image) or animated (svd-video).
    Every scene also shares the storyboard's seed, so the same character and look carry over."""

    description: Prompt | None = None  # e.g. "a little girl with a red scarf"
    image: FilePath | None = None  # a reference picture of the character (a character sheet)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return (
                {"image": data}
                if data.lower().endswith(IMAGE_EXTENSIONS)
                else {"description": data}
            )
        return data


class StockSpec(_Model):
    """Stock pictures or clips for the scenes nothing else shows, from a provider the user has
    a key for (``stock: pexels``, ``stock: {provider: pixabay, kind: video}``); each is
    credited in the manifest."""

    provider: Literal["pexels", "pixabay"]
    kind: Literal["image", "video"] = "image"

    _shorthand = _string_for("provider")


class EncoderSpec(_Model):
    preset: X264Preset = "veryfast"
    crf: int = Field(23, ge=0, le=51)
    audio_bitrate: AudioBitrate = "128k"
    # ffmpeg's AAC search: "fast" takes a seventh of the CPU of "twoloop" (0.7 s instead of
    # 4.9 s for a minute of stereo, measured: 4-5 s off a 60 s render on 2 cores); "twoloop"
    # is ffmpeg's best quality, a little cleaner at 128 kb/s
    aac_coder: Literal["twoloop", "fast"] = "fast"


class SceneSpec(_Model):
    narration: Narration = ""
    title: Title | None = None  # on-screen title text (kinetic)
    # seconds; with narration, a minimum
    duration: float | None = Field(None, gt=0.0, le=MAX_SCENE_SECONDS)
    visual: VisualSpec | None = None
    transition: TransitionSpec | None = None  # into this scene
    language: LanguageTag | None = None
    voice: Name | None = None

    _shorthand = _string_for("narration")


class Storyboard(_Model):
    """A whole video. See ``reelforge schema`` for the JSON Schema."""

    title: Title = ""
    template: Name | None = None  # "restaurant", "real-estate", "product-promo", ...
    language: LanguageTag | None = None  # None = detected per scene from the text
    voice: Name | None = None  # a catalogue id ("en-adult-male") or None = the language default
    # 5-30 s of a person speaking: the voice (the one named, or the nearest of the language)
    # is moved toward it by WORLD: F0, intonation range and spectral envelope
    # (reelforge.voice_match); scenes that name their own voice keep it
    voice_like: FilePath | None = None
    speed: float = Field(1.0, ge=0.5, le=2.0)
    # semitones for every scene's voice (WORLD moves it for engines that cannot); word times kept
    pitch: float = Field(0.0, ge=-12.0, le=12.0)
    format: Literal["16:9", "9:16", "1:1"] = "16:9"
    resolution: int = Field(1080, ge=144, le=2160)  # the short side in pixels
    fps: int = Field(30, ge=10, le=60)
    # seconds; spreads scenes to fit
    target_duration: float | None = Field(None, gt=0.0, le=MAX_VIDEO_SECONDS)
    max_scenes: int | None = Field(None, ge=1, le=MAX_SCENES)
    padding: float = Field(0.5, ge=0.0, le=5.0)  # seconds of silence after each narration
    transition: TransitionSpec | None = None  # default for every scene
    grade: Name | None = None  # "none", "cinematic", "bright", "vintage", ...
    # the visuals engine that draws scenes without a given picture (`reelforge engines`):
    # "illustrated" draws the narration's subjects over the procedural backdrop of the scene's
    # style (the backdrop alone when nothing matches); "procedural" the backdrop only;
    # "sd-image", "svd-video", "t2v-video" generate pictures or clips (the `gen` extra)
    visual_engine: Name = "illustrated"
    # generative engines: a character or subject shared by every scene (words and/or picture)
    character: CharacterSpec | None = None
    # a folder of your own pictures and clips matched to scenes without a picture (CLI only)
    library: FilePath | None = None
    # stock pictures or clips for the scenes still without one (the user's provider key)
    stock: StockSpec | None = None
    music: MusicSpec = MusicSpec()
    captions: CaptionSpec = CaptionSpec()
    # caption translations: ISO 639-1 codes ("fr", "ar"), or one comma-separated string; each
    # becomes video.<code>.srt/.vtt and a soft subtitle track in the MP4 (the burned captions
    # stay in the narration's language). Needs a translation engine (README "Translation").
    translate: tuple[LanguageTag, ...] = Field((), max_length=MAX_TRANSLATIONS)
    narration: NarrationSpec | None = None
    watermark: WatermarkSpec | None = None
    loudness: float | None = Field(-14.0, ge=-40.0, le=-5.0)  # LUFS; null = no normalisation
    encoder: EncoderSpec = EncoderSpec()
    seed: Seed = 0
    scenes: tuple[SceneSpec, ...] = Field(..., min_length=1, max_length=MAX_SCENES)

    @model_validator(mode="after")
    def _total_narration(self) -> Storyboard:
        total = sum(len(scene.narration) for scene in self.scenes)
        if total > MAX_TOTAL_NARRATION_CHARS:
            raise ValueError(
                f"the narration has {total} characters; at most {MAX_TOTAL_NARRATION_CHARS} "
                "(about three hours of speech) fit in one video"
            )
        return self

    @field_validator("translate", mode="before")
    @classmethod
    def _translate_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [code for code in value.split(",") if code.strip()]
        return value

    @field_validator("translate")
    @classmethod
    def _translate_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        codes: list[str] = []
        for code in value:
            try:
                found = translation_language(code).code
            except SpecError as exc:
                known = ", ".join(TRANSLATION_LANGUAGES)
                raise ValueError(f"{exc.message} (known: {known})") from None
            if found not in codes:
                codes.append(found)
        return tuple(codes)

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
