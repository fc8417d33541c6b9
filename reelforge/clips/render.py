"""One clip's encode: one ffmpeg process decodes the source span once, crops it along the
crop path (or fits it over a blurred copy of itself), scales it, burns the captions and
normalises the loudness (single-pass ``loudnorm`` to -14 LUFS, the level short-video
platforms play at).

The crop path becomes the ``crop`` filter's ``x``/``y`` expressions of time: a piecewise-linear
function (its straight runs merged, so a steady shot is one piece), with steps at the cuts.
The plan is plain data (:func:`clip_args`), testable as text; no frame passes through Python.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reelforge.clips.reframe import CropPath
from reelforge.media.decode import fit_filter
from reelforge.media.ffmpeg import atomic_output, run_ffmpeg

LOUDNESS = "loudnorm=I=-14:TP=-1.5:LRA=11,aresample=48000"
TOLERANCE_PX = 0.5  # a straight run of the path may bend this much and stay one piece


@dataclass(frozen=True)
class Span:
    source: Path
    start_s: float
    duration_s: float
    source_size: tuple[int, int]  # display size (rotation applied)
    fps: int


def _pieces(
    times: Sequence[float], values: Sequence[float], cuts: set[int]
) -> list[tuple[float, float, float, float]]:
    """(t0, t1, v0, v1) linear pieces of the path; a cut at sample k holds the value before
    it until ``times[k]`` and jumps there."""
    pieces: list[tuple[float, float, float, float]] = []
    for k in range(1, len(times)):
        t0, t1 = times[k - 1], times[k]
        v0, v1 = values[k - 1], values[k]
        if k in cuts:
            v1 = v0  # hold, the jump happens at t1
        if pieces:
            p0, p1, w0, w1 = pieces[-1]
            joined = p0 != p1 and (k - 1) not in cuts
            if joined:
                # extend the previous piece if this sample lies on its line
                slope = (w1 - w0) / (p1 - p0)
                predicted = w0 + slope * (t1 - p0)
                if abs(predicted - v1) <= TOLERANCE_PX and abs(w1 - v0) <= TOLERANCE_PX:
                    pieces[-1] = (p0, t1, w0, predicted)
                    continue
        pieces.append((t0, t1, v0, v1))
    return pieces


def path_expression(times: Sequence[float], values: Sequence[float], cuts: Sequence[int]) -> str:
    """An ffmpeg expression of ``t`` following ``values`` (linear between samples, steps at
    ``cuts``); quoted in the graph (``x='...'``), so its commas need no escaping."""
    if not values:
        return "0"
    pieces = _pieces(times, values, set(cuts))
    if not pieces:
        return f"{values[0]:.1f}"
    last = values[-1]
    expression = f"{last:.1f}"
    for t0, t1, v0, v1 in reversed(pieces):
        if abs(v1 - v0) < 0.05:
            inner = f"{v0:.1f}"
        else:
            inner = f"{v0:.1f}+({v1 - v0:.2f})*(t-{t0:.3f})/{t1 - t0:.3f}"
        expression = f"if(lt(t,{t1:.3f}),{inner},{expression})"
    if pieces[0][0] > 0:
        expression = f"if(lt(t,{pieces[0][0]:.3f}),{values[0]:.1f},{expression})"
    return expression


def video_filter(path: CropPath, span: Span, size: tuple[int, int], ass: Path | None) -> str:
    """The clip's filter chain: constant frame rate, crop (or blurred fit), scale, captions."""
    from reelforge.render.plan import escape_filter_path

    width, height = size
    chain = [f"fps={span.fps}"]
    if path.fit == "blur":
        chain.append(fit_filter(width, height, "blur"))
    else:
        x = path_expression(path.times, path.x, path.cuts)
        y = path_expression(path.times, path.y, path.cuts)
        chain.append(f"crop=w={path.width}:h={path.height}:x='{x}':y='{y}'")
        chain.append(f"scale={width}:{height}:flags=bicubic,setsar=1")
    graph = "[0:v]" + ",".join(chain)
    if ass is not None:
        graph += f",ass=filename={escape_filter_path(str(ass))}:shaping=complex"
    return graph + "[v];[0:a:0]" + LOUDNESS + "[a]"


def clip_args(
    span: Span, path: CropPath, output: Path, size: tuple[int, int], ass: Path | None
) -> list[str]:
    """The ffmpeg arguments that encode the clip (inputs are guarded by the runner)."""
    args = ["-y", "-ss", f"{span.start_s:.3f}", "-t", f"{span.duration_s:.3f}"]
    args += ["-i", str(span.source), "-filter_complex", video_filter(path, span, size, ass)]
    args += ["-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "veryfast"]
    args += ["-crf", "21", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "160k", "-ac", "2"]
    return [*args, "-movflags", "+faststart", str(output)]


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
    """Encode ``span`` of the source to ``output`` (H.264/AAC MP4 at ``size``) and its
    thumbnail (the frame at ``thumbnail_s``, captions included) as JPEG."""
    with atomic_output(output) as partial:
        run_ffmpeg(
            clip_args(span, path, partial, size, ass),
            total_ms=round(span.duration_s * 1000),
            progress=progress,
        )
    if thumbnail is not None:
        from PIL import Image

        from reelforge.media.probe import decode_frame

        picture = decode_frame(output, min(thumbnail_s, max(0.0, span.duration_s - 0.1)))
        partial_jpg = thumbnail.with_name(f".{thumbnail.stem}.partial.jpg")
        Image.fromarray(picture).save(partial_jpg, quality=88)
        partial_jpg.replace(thumbnail)
    return output
