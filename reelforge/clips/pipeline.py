"""The clips job: a talk in, the best moments out as captioned vertical clips + a manifest.

Stages (progress names): ``transcribing``, ``finding moments``, ``tracking faces``,
``rendering clip K of N``. Each clip is written as ``clip-K.mp4`` with ``clip-K.srt``,
``.vtt``, ``.ass``, ``.words.json`` (captions re-timed to the clip) and ``clip-K.jpg``;
``clips.json`` (the manifest: rank, score, components, reasons, times in the source, title,
files) and ``transcript.json`` sit beside them. Files appear under their final names only
when complete; the manifest is written last.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from reelforge.clips import rating
from reelforge.clips.detectors import face_detector
from reelforge.clips.faces import ANALYSIS_WIDTH, SAMPLE_FPS, Analysis, analyse
from reelforge.clips.moments import Moment, find_moments, span_moment
from reelforge.clips.reframe import FORMATS, CropPath, crop_path, window_size
from reelforge.clips.render import Span, render_clip
from reelforge.engines.base import Transcript, Word
from reelforge.errors import MediaError, SpecError

if TYPE_CHECKING:
    from reelforge.media.probe import MediaInfo

MAX_CLIPS = 10
MAX_SOURCE_S = 4 * 3600.0  # longer talks are refused (ASR streams, but hours of it is a day)
MAX_SPAN_S = 600.0  # a --from/--to span may be long, but not a whole film
LEAD_MS = 300  # a clip starts up to this long before its first word's sound
TAIL_MS = 400  # ... and ends up to this long after its last one
CAPTION_STYLE_NAMES = ("plain", "bold", "karaoke", "highlight", "boxed", "none")

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class ClipOptions:
    """How to cut a talk into clips: :func:`reelforge.extract_clips` takes one, or its fields
    as keywords."""

    count: int = 5  # how many clips, best first
    format: str = "9:16"  # "9:16", "1:1" or "4:5"
    min_s: float = 20.0
    max_s: float = 60.0
    query: str | None = None
    start_s: float | None = None
    end_s: float | None = None
    captions: str = "bold"
    resolution: int = 720  # the output's short side
    language: str | None = None
    model: str = ""
    llm: bool = True  # ask the configured language model (if any) to rate the moments


@dataclass(frozen=True)
class Clip:
    rank: int
    moment: Moment
    start_ms: int  # in the source, padding included
    end_ms: int
    video: Path
    captions: dict[str, Path]
    thumbnail: Path
    fit: str  # "crop" (following faces) or "blur" (nobody visible)
    path: CropPath = field(repr=False)


@dataclass(frozen=True)
class ClipsResult:
    clips: tuple[Clip, ...]
    manifest: Path
    transcript: Path
    notes: tuple[str, ...]
    timings: dict[str, float]


def _quiet(stage: str, fraction: float) -> None:
    pass


def check_options(options: ClipOptions, duration_s: float | None = None) -> None:
    """Fail fast, with a hint, on options no talk can satisfy."""
    if not 1 <= options.count <= MAX_CLIPS:
        raise SpecError(
            f"{options.count} clips asked for; between 1 and {MAX_CLIPS} can be made at once",
            hint=f"use --count 1..{MAX_CLIPS}",
        )
    if options.format not in FORMATS:
        raise SpecError(f"unknown format {options.format!r}", hint="use 9:16, 1:1 or 4:5")
    if not 1 <= options.min_s <= options.max_s:
        raise SpecError(
            f"clip lengths must satisfy 1 <= min <= max (min={options.min_s:g}, "
            f"max={options.max_s:g})",
            hint="e.g. --min 20 --max 60",
        )
    if options.captions not in CAPTION_STYLE_NAMES:
        raise SpecError(
            f"unknown caption style {options.captions!r}",
            hint="use one of: " + ", ".join(CAPTION_STYLE_NAMES),
        )
    if not 144 <= options.resolution <= 2160:
        raise SpecError(f"resolution {options.resolution} is out of range", hint="use 144..2160")
    start, end = options.start_s, options.end_s
    if start is not None and start < 0:
        raise SpecError(f"--from {start:g} s is before the start", hint="use a time >= 0")
    if start is not None and end is not None and end <= start:
        raise SpecError(f"--to ({end:g} s) must come after --from ({start:g} s)", hint="swap them?")
    if duration_s is not None:
        if start is not None and start >= duration_s:
            raise SpecError(
                f"--from {start:g} s is past the end of the video ({duration_s:.1f} s)",
                hint=f"use a time below {duration_s:.1f}",
            )
        if end is not None and end > duration_s + 0.5:
            raise SpecError(
                f"--to {end:g} s is past the end of the video ({duration_s:.1f} s)",
                hint=f"use a time up to {duration_s:.1f}, or leave --to out",
            )
        if start is not None or end is not None:
            span = (end or duration_s) - (start or 0.0)
            if span > MAX_SPAN_S:
                raise SpecError(
                    f"the --from/--to span lasts {span:.0f} s; one clip lasts at most "
                    f"{MAX_SPAN_S:.0f} s",
                    hint="choose a shorter span",
                )


def clip_rate(info: MediaInfo) -> int:
    """The clips' frame rate: the source's nominal rate (a phone video that dropped frames in
    low light, variable in rate, is still a 30 fps video), at most 30 frames a second."""
    rate = info.fps or Fraction(25)
    if info.nominal_fps is not None and rate < info.nominal_fps <= 60:
        rate = info.nominal_fps
    return max(1, min(30, round(float(rate))))


def output_size(format_name: str, short_side: int) -> tuple[int, int]:
    across, down = FORMATS[format_name]
    if across <= down:
        width, height = short_side, round(short_side * down / across)
    else:
        width, height = round(short_side * across / down), short_side
    return width - width % 2, height - height % 2


def _quiet_run(fine: NDArray[np.float32], lo_ms: int, hi_ms: int) -> tuple[int, int] | None:
    """The first and last 10 ms frame (as ms) of the quietest stretch in ``lo_ms..hi_ms``."""
    lo, hi = max(0, lo_ms // 10), min(fine.size, hi_ms // 10 + 1)
    if hi - lo < 1:
        return None
    window = fine[lo:hi]
    floor = float(window.min())
    quiet = np.flatnonzero(window <= floor + max(1e-3, floor * 0.5))
    return int((lo + quiet[0]) * 10), int((lo + quiet[-1]) * 10)


def _padded(
    moment: Moment, words: list[Word], duration_ms: int, fine: NDArray[np.float32]
) -> tuple[int, int]:
    """The clip's span: cut in the quiet between words, a little before the first word and
    after the last (Whisper hears onsets late, so the edges come from the audio itself), and
    never reaching a neighbouring word (so clips never share one)."""
    before = [w.end_ms for w in words if w.end_ms <= moment.start_ms]
    after = [w.start_ms for w in words if w.start_ms >= moment.end_ms]
    lo = max(before) if before else max(0, moment.start_ms - 2 * LEAD_MS)
    hi = min(after) if after else min(duration_ms, moment.end_ms + 2 * TAIL_MS)
    start, end = max(0, moment.start_ms - LEAD_MS), min(duration_ms, moment.end_ms + TAIL_MS)
    run = _quiet_run(fine, lo, moment.start_ms)
    if run is not None:  # the quiet's second half (its first half may close the clip before)
        start = max((run[0] + run[1]) // 2 if before else run[0], run[1] - LEAD_MS)
    run = _quiet_run(fine, moment.end_ms, hi)
    if run is not None:
        end = min((run[0] + run[1]) // 2 if after else run[1], run[0] + TAIL_MS)
    return start, max(end, start + 1)


def _analysis_frames(
    source: Path, start_s: float, duration_s: float, size: tuple[int, int]
) -> tuple[list[NDArray[np.uint8]], list[float]]:
    from reelforge.media.decode import VideoReader

    width = min(ANALYSIS_WIDTH, size[0])
    height = round(width * size[1] / size[0])
    height -= height % 2
    count = max(1, int(duration_s * SAMPLE_FPS))
    frames, times = [], []
    with VideoReader(source, width, height, SAMPLE_FPS, start_s=start_s, loop=False) as reader:
        for index in range(count):
            frames.append(reader.read().copy())
            times.append(index / SAMPLE_FPS)
    return frames, times


def _loudness_at(
    envelope: NDArray[np.float32], start_s: float, times: list[float]
) -> NDArray[np.float32]:
    """The audio's loudness (0..1 of its peak) at each sample time (envelope: 100 ms frames)."""
    peak = float(envelope.max()) if envelope.size else 0.0
    out = np.zeros(len(times), np.float32)
    for k, t in enumerate(times):
        index = int((start_s + t) * 10)
        window = envelope[max(0, index - 1) : index + 2]
        out[k] = float(window.mean()) / peak if window.size and peak > 0 else 0.0
    return out


def _caption_files(
    words: list[Word], start_ms: int, end_ms: int, stem: Path, options: ClipOptions,
    size: tuple[int, int], language: str,
) -> tuple[dict[str, Path], Path | None]:  # fmt: skip
    from reelforge.captions import group_words, to_ass, to_srt, to_vtt, to_words_json
    from reelforge.timeline import CaptionStyle

    inside = [w.shifted(-start_ms) for w in words if w.start_ms >= start_ms and w.end_ms <= end_ms]
    lines = group_words(inside, language)
    width, height = size
    vertical = height > width
    font_px = round(min(size) * (0.074 if vertical else 0.06))
    style = CaptionStyle(
        name=options.captions if options.captions != "none" else "bold",
        size_px=font_px,
        outline_px=max(2, round(font_px / 16)),
        margin_v_px=round(height * (0.2 if vertical else 0.09)),
        margin_h_px=round(width * 0.06),
    )
    texts = {
        "srt": to_srt(lines),
        "vtt": to_vtt(lines),
        "ass": to_ass(lines, style, width, height, fonts_hint=language),
        "words.json": to_words_json(lines),
    }
    files = {}
    for suffix, text in texts.items():
        target = stem.with_name(f"{stem.name}.{suffix}")
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
        files[suffix] = target
    return files, (files["ass"] if options.captions != "none" else None)


def extract_clips(
    source: Path,
    output_dir: Path,
    options: ClipOptions | None = None,
    *,
    progress: Progress | None = None,
) -> ClipsResult:
    """The best moments of ``source`` as clips in ``output_dir`` (see the module doc)."""
    import tempfile

    from reelforge.media.probe import check_audio, check_video
    from reelforge.media.speech import envelope
    from reelforge.transcription import require_speech, transcribe_file, write_transcript

    options = options or ClipOptions()
    report = progress or _quiet
    check_options(options)
    source = Path(source)
    info = check_video(source)
    if not info.has_audio:
        raise MediaError(
            f"{source.name} has no audio track", hint="clips are found in speech: give a talk"
        )
    check_audio(source)
    duration_s = info.duration_ms / 1000
    check_options(options, duration_s)
    spanned = options.start_s is not None or options.end_s is not None
    if duration_s > MAX_SOURCE_S and not spanned:  # a span is at most MAX_SPAN_S
        raise MediaError(
            f"{source.name} lasts {duration_s / 3600:.1f} h; reelforge finds clips in up to "
            f"{MAX_SOURCE_S / 3600:.0f} h",
            hint="cut it into parts, or choose a span with --from/--to",
        )
    size = info.display_size
    if size is None or info.fps is None:
        raise MediaError(f"{source.name} has no readable video frames", hint="re-export it")
    fps = clip_rate(info)
    out_size = output_size(options.format, options.resolution)
    window_size(size, options.format)  # a bad format fails before transcription
    output_dir.mkdir(parents=True, exist_ok=True)
    # a manifest of an earlier run would describe clips this run overwrites: until this run's
    # own is written, the folder holds none (a failed run leaves nothing that reads as done)
    (output_dir / "clips.json").unlink(missing_ok=True)
    timings: dict[str, float] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="reelforge-clips-") as scratch:
        work = Path(scratch)
        began = time.perf_counter()
        report("transcribing", 0.0)
        span_start = options.start_s or 0.0
        transcript: Transcript = transcribe_file(
            source,
            work,
            language=options.language,
            model=options.model,
            start_s=span_start,
            end_s=options.end_s,
        )
        require_speech(transcript, source)
        levels = envelope(work / "speech.wav")  # 100 ms frames, for scores and speakers
        fine = envelope(work / "speech.wav", 0.01)  # 10 ms frames, for the clips' edges
        if span_start > 0:  # the envelopes of a span start at the span: pad to source time
            levels = np.concatenate([np.zeros(int(span_start * 10), np.float32), levels])
            fine = np.concatenate([np.zeros(int(span_start * 100), np.float32), fine])
        transcript_path = write_transcript(transcript, output_dir / "transcript.json")
        report("transcribing", 1.0)
        timings["transcribe_s"] = time.perf_counter() - began

        began = time.perf_counter()
        report("finding moments", 0.0)
        words = list(transcript.words)
        moments, rater = _moments(options, words, levels, duration_s, notes)
        timings["moments_s"] = time.perf_counter() - began
        report("finding moments", 1.0)

        began = time.perf_counter()
        paths: list[tuple[Moment, int, int, CropPath]] = []
        for number, moment in enumerate(moments):
            report("tracking faces", number / len(moments))
            start_ms, end_ms = _padded(moment, words, info.duration_ms, fine)
            if options.start_s is not None:  # a chosen span is not padded past its edges
                start_ms = max(start_ms, round(options.start_s * 1000))
            if options.end_s is not None:
                end_ms = min(end_ms, round(options.end_s * 1000))
            seconds = (end_ms - start_ms) / 1000
            frames, times = _analysis_frames(source, start_ms / 1000, seconds, size)
            found: Analysis = analyse(
                frames, times, _loudness_at(levels, start_ms / 1000, times), size
            )
            del frames
            paths.append((moment, start_ms, end_ms, crop_path(found, options.format)))
        report("tracking faces", 1.0)
        timings["faces_s"] = time.perf_counter() - began

        began = time.perf_counter()
        clips: list[Clip] = []
        for number, (moment, start_ms, end_ms, path) in enumerate(paths, 1):
            stage = f"rendering clip {number} of {len(paths)}"
            stem = output_dir / f"clip-{number}"
            captions, ass = _caption_files(
                words, start_ms, end_ms, stem, options, out_size, transcript.language
            )
            video = stem.with_suffix(".mp4")
            thumbnail = stem.with_suffix(".jpg")
            span = Span(source, start_ms / 1000, (end_ms - start_ms) / 1000, size, fps)

            def on_progress(fraction: float, done: int = number - 1, stage: str = stage) -> None:
                report(stage, (done + fraction) / len(paths))

            hook_s = min(1.0, span.duration_s / 2)
            render_clip(span, path, video, out_size, ass=ass, thumbnail=thumbnail,
                        thumbnail_s=hook_s, progress=on_progress)  # fmt: skip
            clips.append(
                Clip(number, moment, start_ms, end_ms, video, captions, thumbnail, path.fit, path)
            )
        timings["render_s"] = time.perf_counter() - began
    manifest = _write_manifest(output_dir, source, info.duration_ms, transcript, options, clips,
                               notes, timings, rater)  # fmt: skip
    return ClipsResult(tuple(clips), manifest, transcript_path, tuple(notes), timings)


def _moments(
    options: ClipOptions,
    words: list[Word],
    levels: NDArray[np.float32],
    duration_s: float,
    notes: list[str],
) -> tuple[list[Moment], str]:
    """The moments to clip, best first, and the language model that helped rate them ("")."""
    if options.start_s is not None or options.end_s is not None:
        start = round((options.start_s or 0.0) * 1000)
        end = round((options.end_s if options.end_s is not None else duration_s) * 1000)
        chosen = span_moment(words, start, end, levels)
        if chosen is None:
            raise MediaError(
                f"nobody speaks between {start / 1000:g} s and {end / 1000:g} s",
                hint="choose a span with speech",
            )
        if options.count > 1:
            notes.append("--from/--to makes one clip of the chosen span")
        return [chosen], ""
    asking = options.llm and rating.enabled()
    moments = find_moments(
        words,
        count=max(options.count, rating.MAX_CANDIDATES) if asking else options.count,
        min_s=options.min_s,
        max_s=options.max_s,
        query=options.query,
        envelope=levels,
    )
    if not moments:
        spoken = (words[-1].end_ms - words[0].start_ms) / 1000 if words else 0.0
        if options.query:
            raise SpecError(
                f"no moment of {options.min_s:g}-{options.max_s:g} s talks about {options.query!r}",
                hint="try other words for the topic, or a wider --min/--max",
            )
        raise SpecError(
            f"no moment of {options.min_s:g}-{options.max_s:g} s fits in this talk "
            f"({spoken:.0f} s of speech)",
            hint="lower --min (and --max), or give a longer video",
        )
    if len(moments) < options.count:
        notes.append(
            f"{options.count} clips asked for, the talk has {len(moments)} non-overlapping "
            f"moment(s) of {options.min_s:g}-{options.max_s:g} s"
        )
    if not asking:
        return moments, ""
    rated = rating.rate(moments, options.query)
    if rated.note:
        notes.append(rated.note)
    return list(rated.moments[: options.count]), rated.model


def _write_manifest(
    output_dir: Path,
    source: Path,
    duration_ms: int,
    transcript: Transcript,
    options: ClipOptions,
    clips: list[Clip],
    notes: list[str],
    timings: dict[str, float],
    rater: str,
) -> Path:
    document = {
        "source": source.name,
        "duration": duration_ms / 1000,
        "language": transcript.language,
        "asr": {"engine": transcript.engine, "model": transcript.model},
        "faces": face_detector().name,
        "options": {
            "count": options.count,
            "format": options.format,
            "min": options.min_s,
            "max": options.max_s,
            "query": options.query,
            "from": options.start_s,
            "to": options.end_s,
            "captions": options.captions,
            "resolution": options.resolution,
        },
        "scoring": "weighted mean of components in 0..1 (reelforge.clips.moments)"
        + (
            f", blended {1 - rating.LLM_WEIGHT:g}/{rating.LLM_WEIGHT:g} with the rating of "
            f"the language model {rater} (reelforge.clips.rating)"
            if rater
            else ""
        ),
        "llm": rater or None,
        "clips": [
            {
                "rank": clip.rank,
                "title": clip.moment.title,
                "score": clip.moment.score,
                "components": clip.moment.components,
                "reasons": list(clip.moment.reasons),
                "start": clip.start_ms / 1000,
                "end": clip.end_ms / 1000,
                "duration": (clip.end_ms - clip.start_ms) / 1000,
                "text": clip.moment.text,
                "fit": clip.fit,
                "crop": {
                    "width": clip.path.width,
                    "height": clip.path.height,
                    "cuts": [round(clip.path.times[k], 2) for k in clip.path.cuts],
                },
                "files": {
                    "video": clip.video.name,
                    "thumbnail": clip.thumbnail.name,
                    **{name: path.name for name, path in clip.captions.items()},
                },
            }
            for clip in clips
        ],
        "notes": notes,
        "timings": {name: round(value, 2) for name, value in timings.items()},
    }
    target = output_dir / "clips.json"
    partial = output_dir / ".clips.json.partial"
    partial.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    partial.replace(target)
    return target
