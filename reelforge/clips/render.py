"""One clip's encode: the source span decoded once, cropped along its path (or fitted over a
blurred copy of itself), captions burned in, loudness normalised, in one ffmpeg process.

Python receives the decoded source frames (one ffmpeg decoder), cuts the window out and
scales it to the output size; the encoder (a second ffmpeg, fed through a pipe) takes the
audio straight from the source span, burns the ASS captions with libass and normalises the
loudness (single-pass ``loudnorm`` to -14 LUFS, the level short-video platforms play at).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from reelforge.clips.reframe import CropPath
from reelforge.media.decode import VideoReader
from reelforge.media.ffmpeg import atomic_output, start_ffmpeg

LOUDNESS = "loudnorm=I=-14:TP=-1.5:LRA=11,aresample=48000"


@dataclass(frozen=True)
class Span:
    source: Path
    start_s: float
    duration_s: float
    source_size: tuple[int, int]  # display size (rotation applied)
    fps: int


def compose(
    frame: NDArray[np.uint8], path: CropPath, seconds: float, size: tuple[int, int]
) -> NDArray[np.uint8]:
    """The output picture of source ``frame`` at ``seconds`` into the clip."""
    import cv2

    width, height = size
    if path.fit == "blur":
        src_h, src_w = frame.shape[:2]
        cover = max(width / src_w, height / src_h)
        small = cv2.resize(
            frame, (max(1, round(src_w * cover / 8)), max(1, round(src_h * cover / 8)))
        )
        blurred = cv2.GaussianBlur(small, (0, 0), 4)
        bg = cv2.resize(blurred, (round(src_w * cover), round(src_h * cover)))
        top, left = (bg.shape[0] - height) // 2, (bg.shape[1] - width) // 2
        out = np.ascontiguousarray(bg[top : top + height, left : left + width])
        contain = min(width / src_w, height / src_h)
        fg_w, fg_h = round(src_w * contain), round(src_h * contain)
        fg = cv2.resize(frame, (fg_w, fg_h), interpolation=cv2.INTER_AREA)
        y, x = (height - fg_h) // 2, (width - fg_w) // 2
        out[y : y + fg_h, x : x + fg_w] = fg
        return out
    x, y = path.at(seconds)
    window = frame[y : y + path.height, x : x + path.width]
    shrink = path.width > width
    scaled = cv2.resize(window, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return np.asarray(scaled, np.uint8)


def render_clip(
    span: Span,
    path: CropPath,
    output: Path,
    size: tuple[int, int],
    *,
    ass: Path | None = None,
    thumbnail: Path | None = None,
    thumbnail_s: float = 1.0,
    progress: Callable[[float], None] | None = None,
) -> Path:
    """Encode ``span`` of the source to ``output`` (H.264/AAC MP4 at ``size``)."""
    from PIL import Image

    from reelforge.render.plan import escape_filter_path

    width, height = size
    frames = max(1, round(span.duration_s * span.fps))
    src_w, src_h = span.source_size
    reader = VideoReader(
        span.source, src_w, src_h, span.fps, start_s=span.start_s, loop=False, fit="cover"
    )
    with atomic_output(output) as partial:
        args = ["-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}"]
        args += ["-r", str(span.fps), "-i", "pipe:0"]
        args += [
            "-ss",
            f"{span.start_s:.3f}",
            "-t",
            f"{span.duration_s:.3f}",
            "-i",
            str(span.source),
        ]
        args += ["-map", "0:v", "-map", "1:a:0"]
        if ass is not None:
            args += ["-vf", f"ass=filename={escape_filter_path(str(ass))}:shaping=complex"]
        args += ["-af", LOUDNESS, "-c:v", "libx264", "-preset", "veryfast", "-crf", "21"]
        args += ["-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "160k", "-ac", "2"]
        args += ["-t", f"{frames / span.fps:.3f}", "-movflags", "+faststart", str(partial)]
        wanted_thumb = min(frames - 1, round(thumbnail_s * span.fps))
        try:
            with start_ffmpeg(args) as encoder:
                for index in range(frames):
                    picture = compose(reader.read(), path, index / span.fps, size)
                    if thumbnail is not None and index == wanted_thumb:
                        Image.fromarray(picture[:, :, ::-1]).save(thumbnail, quality=88)
                    encoder.write(picture.tobytes())
                    if progress is not None and index % span.fps == 0:
                        progress(index / frames)
                encoder.close_and_wait()
        finally:
            reader.close()
    if progress is not None:
        progress(1.0)
    return output
