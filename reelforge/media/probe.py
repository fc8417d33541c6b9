"""Facts about media files: streams, sizes, frames, levels, loudness.

Every process is spawned through ``reelforge.media.ffmpeg``; this module only shapes the
questions and parses the answers. Input problems (missing, corrupt, no audio) surface as
``MediaError`` with a hint, checked before a render starts rather than halfway through it.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reelforge.errors import MediaError, RenderError
from reelforge.media.ffmpeg import FILE_DEMUXERS, capture_ffmpeg, ffprobe_binary, run_ffprobe
from reelforge.media.images import MAX_IMAGE_PIXELS, read_image_header, reduction

__all__ = [
    "MediaInfo",
    "audio_levels",
    "check_audio",
    "check_image",
    "check_video",
    "count_frames",
    "decode_frame",
    "ffprobe_binary",
    "input_demuxer",
    "loudness",
    "probe",
]

_CORRUPT_HINT = (
    "re-export or re-download it, and check that it opens in a media player or image viewer"
)


@dataclass(frozen=True)
class MediaInfo:
    """What ffprobe knows about a file. Video fields are ``None`` when there is no video."""

    path: Path
    format_name: str  # ffprobe's demuxer names, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "wav", "png_pipe"
    duration_ms: int  # 0 for a still image
    has_video: bool
    has_audio: bool
    width: int | None = None  # coded size, before any rotation metadata is applied
    height: int | None = None
    fps: Fraction | None = None  # average frame rate
    nominal_fps: Fraction | None = None  # the base rate (r_frame_rate); above fps when variable
    video_codec: str | None = None
    pix_fmt: str | None = None
    nb_frames: int | None = None  # from the container header when it has one (cheap); else None
    rotation: int = 0  # degrees from the display matrix; players turn the picture by this
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    audio_duration_ms: int | None = None  # the audio track's own length, when the file says

    @property
    def demuxer(self) -> str:
        """The demuxer to force (``-f``) when ffmpeg opens this file, or ``""`` when reelforge
        does not open files of this format. A JPEG that ffprobe read as ``image2`` (by its
        name) is opened as a single picture (``jpeg_pipe``), never as a file-name pattern."""
        name = self.format_name.split(",")[0]
        if name == "image2":
            name = _IMAGE_PIPES.get(self.video_codec or "", "")
        return name if name in FILE_DEMUXERS else ""

    @property
    def display_size(self) -> tuple[int, int] | None:
        """``(width, height)`` as a player shows it, after rotation."""
        if self.width is None or self.height is None:
            return None
        if self.rotation % 180:
            return self.height, self.width
        return self.width, self.height


def _require_file(path: str | Path) -> Path:
    """Turn a missing or unusable path into a ``MediaError`` that teaches, before any ffmpeg."""
    path = Path(path)
    if not path.exists():
        raise MediaError(
            f"{path} not found",
            hint=f"check the path and its spelling (relative paths start from {Path.cwd()})",
        )
    if path.is_dir():
        raise MediaError(f"{path} is a folder, not a media file", hint="give the path of a file")
    if not os.access(path, os.R_OK):
        raise MediaError(f"{path} cannot be read", hint="check the file's permissions")
    if path.stat().st_size == 0:
        raise MediaError(f"{path} is empty (0 bytes)", hint=_CORRUPT_HINT)
    return path


_IMAGE_PIPES = {
    "mjpeg": "jpeg_pipe",
    "png": "png_pipe",
    "webp": "webp_pipe",
    "bmp": "bmp_pipe",
    "gif": "gif",
}
_REFUSED_FORMAT = re.compile(r"\[(\S+) @ [^\]]*\] Format not on whitelist")


def _as_media_error(path: Path, error: RenderError) -> MediaError:
    refused = _REFUSED_FORMAT.search(error.message)
    if refused:
        return MediaError(
            f"{path} is a {refused.group(1)} file, a format reelforge does not open "
            "(playlists, concat lists and raw data are refused)",
            hint="give an image (PNG, JPEG, WebP, GIF, BMP), a sound (WAV, MP3, FLAC, Ogg, "
            "M4A) or a video (MP4, MOV, MKV/WebM, AVI)",
        )
    # ffmpeg's last line is usually "<path>: <reason>": keep the reason, the path is said already.
    reason = error.message.splitlines()[-1].split(": ")[-1]
    return MediaError(f"{path} is corrupt or not a media file ({reason})", hint=_CORRUPT_HINT)


def _fraction(text: Any) -> Fraction | None:
    try:
        value = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return None  # ffprobe writes "0/0" when it does not know
    return value if value > 0 else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _rotation(stream: dict[str, Any]) -> int:
    for side_data in stream.get("side_data_list", []):
        if "rotation" in side_data:
            return int(side_data["rotation"]) % 360
    return (_int(stream.get("tags", {}).get("rotate")) or 0) % 360


def probe(path: str | Path) -> MediaInfo:
    """Streams, size, frame rate, codecs and duration of a media file or image."""
    path = _require_file(path)
    ffprobe_binary()  # a missing ffprobe is a set-up problem (RenderError), not a bad file
    try:
        text = run_ffprobe(["-show_format", "-show_streams", "-of", "json", str(path)])
    except RenderError as error:
        raise _as_media_error(path, error) from error
    data = json.loads(text or "{}")
    streams: list[dict[str, Any]] = data.get("streams", [])
    container: dict[str, Any] = data.get("format", {})
    # Cover art inside an mp3/m4a is a video stream flagged attached_pic: not a picture track.
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
    ]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    if not videos and not audios:
        raise MediaError(f"{path} has no audio or video stream", hint=_CORRUPT_HINT)

    duration_s = _seconds(container.get("duration"))
    if duration_s is None:
        durations = [_seconds(s.get("duration")) for s in videos + audios]
        duration_s = max((d for d in durations if d is not None), default=0.0)
    video = videos[0] if videos else {}
    audio = audios[0] if audios else {}
    nominal = _fraction(video.get("r_frame_rate"))
    fps = _fraction(video.get("avg_frame_rate")) or nominal
    audio_s = _seconds(audio.get("duration"))
    return MediaInfo(
        path=path,
        format_name=str(container.get("format_name", "")),
        duration_ms=round(duration_s * 1000),
        has_video=bool(videos),
        has_audio=bool(audios),
        width=_int(video.get("width")),
        height=_int(video.get("height")),
        fps=fps if videos else None,
        nominal_fps=nominal if videos else None,
        video_codec=video.get("codec_name"),
        pix_fmt=video.get("pix_fmt"),
        nb_frames=_int(video.get("nb_frames")),
        rotation=_rotation(video) if videos else 0,
        audio_codec=audio.get("codec_name"),
        sample_rate=_int(audio.get("sample_rate")),
        channels=_int(audio.get("channels")),
        audio_duration_ms=round(audio_s * 1000) if audio_s is not None else None,
    )


def input_demuxer(path: Path) -> str:
    """The demuxer ffmpeg must be forced to when it opens ``path`` (from ffprobe), or
    ``MediaError`` when the file is not a format reelforge opens."""
    path = _require_file(path)
    stat = path.stat()
    return _cached_demuxer(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=256)
def _cached_demuxer(path: str, size: int, mtime_ns: int) -> str:
    # size and mtime are part of the key: a file replaced in place is probed again
    info = probe(Path(path))
    if not info.demuxer:
        raise MediaError(
            f"{path} is a {info.format_name} file, a format reelforge does not open",
            hint="convert it to PNG/JPEG, WAV/MP3/FLAC/M4A or MP4/MKV",
        )
    return info.demuxer


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def count_frames(path: Path) -> int:
    """Exact number of video frames, by decoding the whole stream (slow on long files)."""
    path = _require_file(path)
    demuxer = input_demuxer(path)
    try:
        text = run_ffprobe(
            [
                "-f", demuxer, "-select_streams", "v:0", "-count_frames",
                "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(path),
            ],
            timeout=600,
        )  # fmt: skip
    except RenderError as error:
        raise _as_media_error(path, error) from error
    count = _int(text.strip().split(",")[0]) if text.strip() else None
    if count is None:
        raise MediaError(f"{path} has no video stream to count frames in", hint=_CORRUPT_HINT)
    return count


def _parse_ppm(data: bytes) -> NDArray[np.uint8]:
    """Decode one binary PPM (P6): its header carries the size ffmpeg actually produced."""
    match = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    if match is None:
        raise RenderError("ffmpeg returned no decodable frame", hint="this is a reelforge bug")
    width, height = int(match.group(1)), int(match.group(2))
    body = data[match.end() : match.end() + width * height * 3]
    return np.frombuffer(body, dtype=np.uint8).reshape(height, width, 3).copy()


def decode_frame(
    path: Path, time_s: float, size: tuple[int, int] | None = None
) -> NDArray[np.uint8]:
    """The picture shown at ``time_s`` as an RGB ``uint8`` array of shape ``(height, width, 3)``.

    ``size`` is ``(width, height)`` to scale to; by default the displayed size.
    """
    path = _require_file(path)
    # PPM rather than raw RGB: its header gives the size after autorotation, with no extra probe.
    args = ["-ss", f"{max(0.0, time_s):.6f}", "-i", str(path), "-frames:v", "1", "-an"]
    if size is not None:
        args += ["-vf", f"scale={size[0]}:{size[1]}"]
    args += ["-pix_fmt", "rgb24", "-c:v", "ppm", "-f", "image2pipe", "pipe:1"]
    try:
        data, _ = capture_ffmpeg(args)
    except RenderError as error:
        raise _as_media_error(path, error) from error
    if not data:
        raise MediaError(
            f"{path} has no video frame at {time_s:g} s",
            hint="pick a time inside the clip (see `probe(path).duration_ms`)",
        )
    return _parse_ppm(data)


def _decode_samples(path: Path, start_s: float, duration_s: float | None) -> NDArray[np.float32]:
    args = ["-ss", f"{max(0.0, start_s):.6f}"]
    if duration_s is not None:
        args += ["-t", f"{duration_s:.6f}"]
    args += ["-i", str(path), "-vn", "-map", "0:a:0", "-c:a", "pcm_f32le", "-f", "f32le", "pipe:1"]
    try:
        data, _ = capture_ffmpeg(args)
    except RenderError as error:
        if "matches no streams" in error.message or "does not contain any stream" in error.message:
            raise MediaError(f"{path} has no audio track", hint="give a file with sound") from error
        raise _as_media_error(path, error) from error
    return np.frombuffer(data, dtype="<f4")


def audio_levels(path: Path, start_s: float = 0.0, duration_s: float | None = None) -> float:
    """RMS level in dBFS of a window of the first audio track (all channels together).

    0 dBFS is a full-scale square wave, so a full-scale sine reads -3.01; silence is ``-inf``.
    """
    path = _require_file(path)
    samples = _decode_samples(path, start_s, duration_s).astype(np.float64)
    if samples.size == 0:
        raise MediaError(
            f"{path} has no audio between {start_s:g} s and {start_s + (duration_s or 0):g} s",
            hint="pick a window inside the audio (see `probe(path).duration_ms`)",
        )
    rms = float(np.sqrt(np.mean(np.square(samples))))
    return 20 * math.log10(rms) if rms > 0 else float("-inf")


_INTEGRATED = re.compile(r"\bI:\s+(-?(?:\d+(?:\.\d+)?|inf))\s+LUFS")


def loudness(path: Path) -> float:
    """Integrated loudness in LUFS (EBU R128) of the first audio track."""
    path = _require_file(path)
    args = ["-i", str(path), "-map", "0:a:0", "-af", "ebur128", "-f", "null", "-"]
    try:
        # ebur128 prints its summary at info level, so this one run is not silenced.
        _, stderr = capture_ffmpeg(args, loglevel="info")
    except RenderError as error:
        if "matches no streams" in error.message:
            raise MediaError(f"{path} has no audio track", hint="give a file with sound") from error
        raise _as_media_error(path, error) from error
    found = _INTEGRATED.findall(stderr)
    if not found:
        raise RenderError("ffmpeg's ebur128 filter printed no summary", hint="upgrade ffmpeg")
    return float(found[-1])  # the last one is the summary; earlier ones are per-frame logs


def check_image(path: Path, max_pixels: int = MAX_IMAGE_PIXELS) -> tuple[int, int]:
    """Check an image's header (format, at most ``max_pixels``: nothing is decoded before),
    then decode it with Pillow (a big JPEG at a reduced scale); return ``(width, height)`` or
    raise ``MediaError``."""
    from PIL import Image

    path = _require_file(path)
    header = read_image_header(path, max_pixels)
    factor = reduction(header)
    try:
        with Image.open(path) as image:
            if factor > 1:
                image.draft(image.mode, (header.width // factor, header.height // factor))
            image.load()  # open() reads only the header: a truncated body fails here
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise MediaError(f"the image {path} is corrupt or not an image", hint=_CORRUPT_HINT) from (
            error
        )
    return header.width, header.height


def check_audio(path: Path) -> MediaInfo:
    """Probe ``path`` and require an audio track with a duration; return its facts."""
    info = probe(path)
    if not info.has_audio:
        raise MediaError(f"{path} has no audio track", hint="give a file with sound")
    if info.duration_ms <= 0:
        raise MediaError(f"{path} has an audio track of zero length", hint=_CORRUPT_HINT)
    return info


def check_video(path: Path) -> MediaInfo:
    """Probe ``path`` and require a video track; return its facts."""
    info = probe(path)
    if not info.has_video:
        raise MediaError(f"{path} has no video track", hint="give a video or image file")
    return info
