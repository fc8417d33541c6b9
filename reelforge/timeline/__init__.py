"""The strict timeline every renderer reads.

Planning resolves a lenient storyboard into a :class:`Timeline` where nothing is optional and
every duration is known. Exact time: video positions are integer frames (timebase ``1/fps``),
audio and word positions integer milliseconds. Float seconds appear only at the edges.

Clip layout: clip ``i`` starts at ``clips[i].start`` and lasts ``clips[i].frames``. A transition
into clip ``i`` occupies its first ``transition.frames`` frames, which overlap the last frames of
clip ``i-1``; so with slot lengths S0, S1... and transition T, clip i>=1 starts at its slot start
minus T and the total length is the sum of the slots (the W60 layout).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

_Record = TypeVar("_Record")

TRANSITIONS = (
    "cut",
    "fade",
    "crossfade",
    "slide-left",
    "slide-right",
    "slide-up",
    "slide-down",
    "wipe-left",
    "wipe-right",
    "wipe-up",
    "wipe-down",
)
FITS = ("cover", "contain", "blur")
GRADES = ("none", "cinematic", "bright", "vintage", "warm", "cool", "mono")


@dataclass(frozen=True)
class Motion:
    """Ken Burns: zoom and a window anchor interpolated over the clip.

    The window is ``W/zoom x H/zoom`` placed at ``((W - W/zoom) * x, (H - H/zoom) * y)`` of the
    fitted picture, so ``x``/``y`` in [0, 1] sweep the slack left-right / top-bottom.
    """

    zoom_start: float = 1.0
    zoom_end: float = 1.0
    x_start: float = 0.5
    x_end: float = 0.5
    y_start: float = 0.5
    y_end: float = 0.5
    easing: str = "linear"  # "linear" | "ease-in-out"

    def at(self, p: float) -> tuple[float, float, float]:
        """(zoom, x anchor, y anchor) at progress ``p`` in [0, 1]."""
        if self.easing == "ease-in-out":
            p = p * p * (3 - 2 * p)
        z = self.zoom_start + (self.zoom_end - self.zoom_start) * p
        x = self.x_start + (self.x_end - self.x_start) * p
        y = self.y_start + (self.y_end - self.y_start) * p
        return z, x, y


MOTION_PRESETS: dict[str, Motion] = {
    "none": Motion(),
    "zoom-in": Motion(1.0, 1.15, 0.5, 0.5, 0.5, 0.5, "ease-in-out"),
    "zoom-out": Motion(1.15, 1.0, 0.5, 0.5, 0.5, 0.5, "ease-in-out"),
    "pan-right": Motion(1.12, 1.12, 0.0, 1.0, 0.5, 0.5, "ease-in-out"),
    "pan-left": Motion(1.12, 1.12, 1.0, 0.0, 0.5, 0.5, "ease-in-out"),
    "pan-up": Motion(1.12, 1.12, 0.5, 0.5, 1.0, 0.0, "ease-in-out"),
    "pan-down": Motion(1.12, 1.12, 0.5, 0.5, 0.0, 1.0, "ease-in-out"),
    "zoom-in-right": Motion(1.0, 1.2, 0.0, 1.0, 0.5, 0.5),
    "zoom-out-left": Motion(1.2, 1.0, 1.0, 0.0, 0.5, 0.5),
    "drift": Motion(1.08, 1.1, 0.3, 0.7, 0.4, 0.6),
    "drift-reverse": Motion(1.1, 1.08, 0.7, 0.3, 0.6, 0.4),
}


# Where a title's centre sits, as a fraction of the frame height, by TextOverlay.position (the
# compositor draws titles there; planning keeps illustrations clear of them).
TEXT_ANCHORS = {
    "top": 0.14,
    "upper-third": 0.30,
    "center": 0.5,
    "lower-third": 0.66,
    "bottom": 0.84,
}
# How far a title's entrance carries it, as a fraction of the frame: up from below for
# "fade-up", in from the right for "slide-left".
ENTRANCE_RISE = 0.04
ENTRANCE_SLIDE = 0.08

SPRITE_ANIMATIONS = ("still", "float", "bounce", "orbit", "pulse", "sway", "twinkle", "rise")
SPRITE_ENTRANCES = ("none", "pop", "fade", "rise", "slide")


@dataclass(frozen=True)
class SpriteMotion:
    """A small picture placed on the frame and animated, instead of filling it.

    Centre ``x``, ``y`` and ``width`` are fractions of the frame (the height follows the
    picture). It appears ``delay`` seconds into its clip by ``entrance``, then moves by
    ``animation`` (periodic; ``phase`` in [0, 1) shifts it so neighbours do not move in step).
    """

    x: float = 0.5
    y: float = 0.5
    width: float = 0.2
    animation: str = "still"  # one of SPRITE_ANIMATIONS
    entrance: str = "none"  # one of SPRITE_ENTRANCES
    delay: float = 0.0
    phase: float = 0.0


@dataclass(frozen=True)
class Layer:
    """A picture source of a clip: a still image or a video file, fitted to the frame."""

    path: str
    kind: str = "image"  # "image" | "video"
    fit: str = "cover"  # "cover" | "contain" | "blur"
    motion: Motion = Motion()
    opacity: float = 1.0
    video_start_ms: int = 0  # trim: where in the video file the clip starts
    loop: bool = True  # loop a video shorter than the clip (else hold its last frame)
    # The finest detail the picture holds, as a fraction of the output resolution: soft
    # procedural art says 0.5 and the renderer composes its clip at half size, then upscales
    # once (4x fewer pixels to warp and blend); photos and video keep 1.0.
    detail: float = 1.0
    # set for a sprite (an illustration's subject): drawn at full size over the composed
    # picture, on its own box only, instead of filling the frame
    sprite: SpriteMotion | None = None


@dataclass(frozen=True)
class TextOverlay:
    """Title text drawn over a clip, with an entrance animation (kinetic text)."""

    text: str
    font: str  # a font family name or a file path
    size_px: int
    color: str = "#ffffff"
    stroke_color: str = "#000000"
    stroke_px: int = 0
    box_color: str = ""  # "" = no box; "#00000080" = translucent panel behind the text
    position: str = "center"  # "center" | "top" | "bottom" | "upper-third" | "lower-third"
    start: int = 0  # frames from the clip start
    end: int = 0  # frames from the clip start (exclusive)
    animation: str = "fade-up"  # "none" | "fade" | "fade-up" | "slide-left" | "pop"
    max_width_frac: float = 0.84
    language: str = "en"

    def box(self, width: int, height: int, sprite: tuple[int, int]) -> tuple[int, int, int, int]:
        """The pixels (x0, y0, x1, y1) this title covers on a ``width`` x ``height`` frame when its
        text sprite measures ``sprite`` (width, height), its entrance included: centred across,
        its centre at ``TEXT_ANCHORS[position]`` down; (x0, y0) is where the sprite rests."""
        sprite_w, sprite_h = sprite
        x0 = (width - sprite_w) // 2
        y0 = int(round(height * TEXT_ANCHORS.get(self.position, 0.5) - sprite_h / 2))
        dy = round(height * ENTRANCE_RISE) + 1 if self.animation == "fade-up" else 0
        dx = round(width * ENTRANCE_SLIDE) + 1 if self.animation == "slide-left" else 0
        return x0, y0, x0 + sprite_w + dx, y0 + sprite_h + dy


@dataclass(frozen=True)
class ImageOverlay:
    """A watermark or logo over the whole video."""

    path: str
    position: str = "top-right"  # corners or "center"
    width_frac: float = 0.14  # of the frame width
    opacity: float = 0.8
    margin_frac: float = 0.03


@dataclass(frozen=True)
class Transition:
    kind: str = "cut"
    frames: int = 0


@dataclass(frozen=True)
class Clip:
    start: int  # first frame in the output
    frames: int
    layers: tuple[Layer, ...]
    transition: Transition = Transition()  # into this clip, over its first transition.frames
    texts: tuple[TextOverlay, ...] = ()
    background: str = "#000000"  # shown where a contain fit leaves bars
    scene: int = 0  # index of the scene this clip shows


@dataclass(frozen=True)
class AudioTrack:
    path: str
    role: str  # "narration" | "music" | "effect"
    start_ms: int = 0
    gain_db: float = 0.0
    loop: bool = False  # loop to the timeline length (music)
    fade_in_ms: int = 0
    fade_out_ms: int = 0


@dataclass(frozen=True)
class TimedWord:
    """One word and when it is heard, in ms: from the start of the timeline in a caption line,
    from the start of its audio in a voice engine's speech (``engines.base.Word``)."""

    text: str
    start_ms: int
    end_ms: int

    def shifted(self, by_ms: int) -> TimedWord:
        """This word ``by_ms`` later (earlier where negative)."""
        return TimedWord(self.text, self.start_ms + by_ms, self.end_ms + by_ms)


@dataclass(frozen=True)
class CaptionLine:
    start_ms: int
    end_ms: int
    text: str
    words: tuple[TimedWord, ...] = ()
    rtl: bool = False


@dataclass(frozen=True)
class SubtitleTrack:
    """A soft subtitle track of the MP4 (``mov_text``), one per caption translation: the
    narration's caption cues, same times, in another language. Players show or hide it."""

    language: str  # ISO 639-1 ("fr"): the sidecars' name (video.fr.srt)
    iso639_2: str  # ISO 639-2/T ("fra"): the track's language tag
    title: str  # the track's name in players ("French")
    captions: tuple[CaptionLine, ...]


@dataclass(frozen=True)
class CaptionStyle:
    name: str = "bold"  # "plain" | "bold" | "karaoke" | "highlight" | "boxed"
    font: str = "DejaVu Sans"
    size_px: int = 64
    bold: bool = True
    color: str = "#ffffff"
    highlight_color: str = "#ffd400"
    outline_color: str = "#000000"
    outline_px: int = 4
    shadow_px: int = 0
    box_color: str = "#00000099"  # used by "boxed"
    position: str = "bottom"  # "bottom" | "center" | "top"
    margin_v_px: int = 200  # distance from the bottom (or top) edge
    margin_h_px: int = 60
    uppercase: bool = False
    max_words: int = 7
    max_chars: int = 40


@dataclass(frozen=True)
class Encoder:
    video_codec: str = "libx264"
    preset: str = "veryfast"
    crf: int = 23
    pix_fmt: str = "yuv420p"
    audio_codec: str = "aac"
    audio_bitrate: str = "128k"
    aac_coder: str = "fast"  # ffmpeg's AAC search: "fast" or "twoloop" (slower, a little cleaner)
    sample_rate: int = 44100
    channels: int = 2
    # Long edits encode in pieces of this many frames, joined by stream copy (0 = one piece).
    segment_frames: int = 0


@dataclass(frozen=True)
class Mix:
    """How the audio tracks are mixed: music ducked under narration, then normalised."""

    duck: bool = True
    duck_threshold: float = 0.02
    duck_ratio: float = 8.0
    duck_attack_ms: int = 20
    duck_release_ms: int = 400
    loudness_lufs: float | None = -14.0  # None = no normalisation
    true_peak_db: float = -1.5
    # Measurements of the loudness before the gain is set: the second corrects the gain for
    # the limiter; a preview takes one (a proof may be a little further off).
    loudness_passes: int = 2


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    fps: int
    frames: int
    clips: tuple[Clip, ...]
    audio: tuple[AudioTrack, ...] = ()
    captions: tuple[CaptionLine, ...] = ()
    caption_style: CaptionStyle = CaptionStyle()
    burn_captions: bool = True
    subtitles: tuple[SubtitleTrack, ...] = ()  # translated caption tracks, never burned
    grade: str = "none"
    watermark: ImageOverlay | None = None
    mix: Mix = Mix()
    encoder: Encoder = Encoder()
    language: str = "en"
    title: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def timebase(self) -> Fraction:
        return Fraction(1, self.fps)

    @property
    def duration_ms(self) -> int:
        return self.frames * 1000 // self.fps

    def frame_to_ms(self, frame: int) -> int:
        return frame * 1000 // self.fps

    def ms_to_frame(self, ms: int) -> int:
        return int(Fraction(ms * self.fps, 1000).__round__())

    def to_dict(self) -> dict[str, Any]:
        return _to_plain(self)  # type: ignore[no-any-return]

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Timeline:
        return _timeline(data)

    @classmethod
    def from_json(cls, text: str) -> Timeline:
        from reelforge.spec.nesting import check_json_nesting

        check_json_nesting(text, "the timeline")  # json.loads recurses once per level
        return cls.from_dict(json.loads(text))

    def replace(self, **changes: Any) -> Timeline:
        return dataclasses.replace(self, **changes)


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


# Reading JSON back: one loader per record, naming the records nested in it (no annotations
# are evaluated). Unknown keys are ignored and missing ones take their defaults, so a timeline
# written by an older reelforge still loads.


def _record(cls: type[_Record], data: Any, **nested: Callable[[Any], Any]) -> _Record:
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__} must be a JSON object, not {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values = {k: nested[k](v) if k in nested else v for k, v in data.items() if k in names}
    return cls(**values)


def _many(load: Callable[[Any], _Record]) -> Callable[[Any], tuple[_Record, ...]]:
    return lambda items: tuple(load(item) for item in items)


def _layer(data: Any) -> Layer:
    return _record(
        Layer,
        data,
        motion=lambda value: _record(Motion, value),
        sprite=lambda value: None if value is None else _record(SpriteMotion, value),
    )


def _clip(data: Any) -> Clip:
    return _record(
        Clip,
        data,
        layers=_many(_layer),
        transition=lambda value: _record(Transition, value),
        texts=_many(lambda value: _record(TextOverlay, value)),
    )


def _caption(data: Any) -> CaptionLine:
    return _record(CaptionLine, data, words=_many(lambda value: _record(TimedWord, value)))


def _timeline(data: Any) -> Timeline:
    return _record(
        Timeline,
        data,
        clips=_many(_clip),
        audio=_many(lambda value: _record(AudioTrack, value)),
        captions=_many(_caption),
        subtitles=_many(lambda value: _record(SubtitleTrack, value, captions=_many(_caption))),
        caption_style=lambda value: _record(CaptionStyle, value),
        watermark=lambda value: None if value is None else _record(ImageOverlay, value),
        mix=lambda value: _record(Mix, value),
        encoder=lambda value: _record(Encoder, value),
        metadata=dict,
    )


__all__ = [
    "AudioTrack",
    "CaptionLine",
    "CaptionStyle",
    "Clip",
    "Encoder",
    "FITS",
    "GRADES",
    "ImageOverlay",
    "Layer",
    "SpriteMotion",
    "SubtitleTrack",
    "MOTION_PRESETS",
    "Mix",
    "Motion",
    "TextOverlay",
    "TimedWord",
    "Timeline",
    "Transition",
    "TRANSITIONS",
]
