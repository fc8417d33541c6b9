"""Run a render plan: write its files, pre-mix the audio, stream frames into the encoder.

The compositor runs on this thread while a writer thread hands finished frames to ffmpeg, so
Python composition and x264 encoding overlap (OpenCV releases the GIL).
"""

from __future__ import annotations

import contextvars
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import cv2

from reelforge.errors import RenderError
from reelforge.media.ffmpeg import FfmpegProcess, atomic_output, check_disk_space, start_ffmpeg
from reelforge.render.compositor import Compositor, Frame
from reelforge.render.plan import RenderPlan, Segment
from reelforge.timeline import Timeline

Progress = Callable[[str, float], None]  # (stage, fraction 0..1)
# Frames [start, end) as raw I420 arrays, for renders drawn by something other than the
# compositor (talking characters, podcasts); the plan's audio, captions and encode stay the same.
FrameSource = Callable[[int, int], Iterator[Frame]]


@dataclass(frozen=True)
class AudioLevel:
    measured_lufs: float | None
    measured_peak_db: float | None
    gain_db: float


def _parse_loudness(stderr: str) -> tuple[float | None, float | None]:
    summary = stderr[stderr.rfind("Summary:") :] if "Summary:" in stderr else stderr
    lufs = re.search(r"I:\s+(-?[\d.]+|-inf)\s+LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf)\s+dBFS", summary)

    def number(match: re.Match[str] | None) -> float | None:
        if not match or match.group(1) == "-inf":
            return None
        return float(match.group(1))

    return number(lufs), number(peak)


def premix_audio(plan: RenderPlan, progress: Progress | None = None) -> AudioLevel:
    """Mix narration and ducked music into one file and measure its loudness."""
    process = FfmpegProcess(
        plan.audio_args,
        stdin=None,
        loglevel="info",
        total_ms=plan.frames * 1000 // plan.fps,
        progress=(lambda f: progress("audio", f)) if progress else None,
    )
    process.close_and_wait()
    lufs, peak = _parse_loudness(process.stderr)
    gain = 0.0
    if plan.loudness_target is not None and lufs is not None and lufs > -70:
        gain = plan.loudness_target - lufs
        gain = max(-30.0, min(30.0, gain))  # never boost near-silence into noise
    return AudioLevel(lufs, peak, gain)


# The limiter sits this far under the true-peak ceiling: it limits samples, and AAC encoding
# overshoots sample peaks by up to ~1 dB (measured -0.4..-1.0 dBTP against a -1.5 ceiling).
LIMITER_MARGIN_DB = 1.0


def level_filter(level: AudioLevel, ceiling_db: float) -> str:
    """The gain, and a limiter only when the gain would push peaks over the ceiling."""
    chain = f"volume={level.gain_db:.2f}dB"
    if limiter_needed(level, ceiling_db):
        limit = 10 ** ((ceiling_db - LIMITER_MARGIN_DB) / 20)
        chain += f",alimiter=limit={limit:.4f}:level=false:attack=2:release=50"
    return chain


def limiter_needed(level: AudioLevel, ceiling_db: float) -> bool:
    return (level.measured_peak_db or 0.0) + level.gain_db > ceiling_db - LIMITER_MARGIN_DB


def refine_gain(plan: RenderPlan, level: AudioLevel) -> AudioLevel:
    """Correct the gain for what the limiter takes away, measuring the limited mix again.

    Narration peaks sit ~17 dB over its loudness, so reaching -14 LUFS engages the limiter,
    which costs up to ~1 LU: each pass (under a second for a minute of audio) measures the
    limited result and moves the gain by the difference, until within 0.3 LU of the target.
    """
    target = plan.loudness_target
    if target is None or level.measured_lufs is None:
        return level
    mix = plan.audio_args[-1]
    for _ in range(plan.loudness_passes):
        if not limiter_needed(level, plan.true_peak_db):
            break
        chain = level_filter(level, plan.true_peak_db)
        process = FfmpegProcess(
            ["-f", "wav", "-i", mix, "-af", f"{chain},ebur128=peak=true", "-f", "null", "-"],
            stdin=None,
            loglevel="info",
        )
        process.close_and_wait()
        measured, _ = _parse_loudness(process.stderr)
        if measured is None or abs(target - measured) < 0.3:
            break
        gain = max(-30.0, min(30.0, level.gain_db + (target - measured)))
        level = AudioLevel(level.measured_lufs, level.measured_peak_db, gain)
    return level


def _mixed(plan: RenderPlan, progress: Progress | None, timings: dict[str, float]) -> AudioLevel:
    """The plan's sound pre-mixed, measured and its gain refined (none: no gain), timed into
    ``timings["audio_mix_s"]``."""
    started = time.perf_counter()
    level = AudioLevel(None, None, 0.0)
    if plan.audio_args:
        Path(plan.audio_args[-1]).parent.mkdir(parents=True, exist_ok=True)  # the work folder
        level = refine_gain(plan, premix_audio(plan, progress))
    timings["audio_mix_s"] = time.perf_counter() - started
    return level


def _fill(args: tuple[str, ...], level: str) -> list[str]:
    return [a.replace("@LEVEL@", level) for a in args]


class _single_threaded_opencv:
    """OpenCV on one thread while x264 encodes: x264 already keeps every core busy, and
    OpenCV's own worker threads would only add scheduling overhead (about 1.5x the CPU time
    per frame, measured on 2 cores)."""

    def __enter__(self) -> None:
        self.before = cv2.getNumThreads()
        cv2.setNumThreads(1)

    def __exit__(self, *exc: object) -> None:
        cv2.setNumThreads(self.before)


def _encode(
    timeline: Timeline,
    args: list[str],
    start: int,
    end: int,
    progress: Progress | None,
    done_before: int,
    keep: frozenset[int] = frozenset(),
    kept: dict[int, Frame] | None = None,
    source: FrameSource | None = None,
) -> None:
    """Encode frames [start, end); copies of the frames numbered in ``keep`` go to ``kept``."""
    produce = source if source is not None else Compositor(timeline).frames_i420
    frames: queue.Queue[Frame | None] = queue.Queue(maxsize=6)
    failure: list[BaseException] = []

    with start_ffmpeg(args) as process, _single_threaded_opencv():

        def writer() -> None:
            try:
                while (frame := frames.get()) is not None:
                    process.write(frame.data)
            except BaseException as exc:  # ffmpeg died: surface it on the main thread
                failure.append(exc)
                while frames.get() is not None:
                    pass

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        total = timeline.frames
        step = max(1, (end - start) // 100)
        try:
            for number, frame in enumerate(produce(start, end), start):
                if failure:
                    break
                frames.put(frame)
                if number in keep and kept is not None:
                    kept[number] = cast(Frame, cv2.cvtColor(frame, cv2.COLOR_YUV2BGR_I420))
                if progress and (number - start) % step == 0:
                    progress("video", (done_before + number - start) / total)
        finally:
            frames.put(None)
            thread.join()
        if failure:
            process.close_and_wait()  # raises RenderError with ffmpeg's own message
            raise failure[0]
        process.close_and_wait()


def run_plan(
    timeline: Timeline,
    plan: RenderPlan,
    progress: Progress | None = None,
    thumbnail: Path | None = None,
    source: FrameSource | None = None,
    encoded: int = 0,
) -> dict[str, float]:
    """Execute ``plan`` (compiled from ``timeline``); returns stage timings in seconds.

    With ``thumbnail``, the thumbnail JPEG is chosen from frames kept while encoding (no
    second rendering pass). ``source`` draws the frames instead of the compositor; the first
    ``encoded`` segments of a segmented plan were encoded already (:func:`encode_segment`)."""
    keep = frozenset(thumbnail_frames(timeline)) if thumbnail else frozenset()
    kept: dict[int, Frame] = {}
    timings: dict[str, float] = {}
    output = Path(plan.output)
    # ~ bitrate-based guess plus room for the audio mix; fail before minutes of work
    seconds = plan.frames / plan.fps
    check_disk_space(output.parent, int(seconds * (plan.width * plan.height * 0.6 + 400_000)))
    for path, text in plan.files.items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")

    t0 = time.perf_counter()
    with atomic_output(output) as partial:
        if not plan.join_args:
            level = _mixed(plan, progress, timings)
            t0 = time.perf_counter()
            segment = plan.segments[0]
            args = _fill(segment.args, level_filter(level, plan.true_peak_db))
            args[-1] = str(partial)
            _encode(timeline, args, segment.start, segment.end, progress, 0, keep, kept, source)
        else:  # the segments are video only: the sound is mixed while they encode
            with ThreadPoolExecutor(1, thread_name_prefix="mix") as pool:
                # a copy of this context: a job's Cancellation reaches the mix's ffmpeg
                mix = contextvars.copy_context().run
                mixing = pool.submit(mix, _mixed, plan, None, timings)
                for segment in plan.segments[encoded:]:
                    if mixing.done():
                        mixing.result()  # a failed mix stops the render before the next segment
                    _encode(
                        timeline,
                        list(segment.args),
                        segment.start,
                        segment.end,
                        progress,
                        segment.start,
                        keep,
                        kept,
                        source,
                    )
                level = mixing.result()
            join = _fill(plan.join_args, level_filter(level, plan.true_peak_db))
            join[-1] = str(partial)
            process = FfmpegProcess(join, stdin=None)
            process.close_and_wait()
            for segment in plan.segments:
                Path(segment.output).unlink(missing_ok=True)
    timings["encode_s"] = time.perf_counter() - t0
    if thumbnail:
        t0 = time.perf_counter()
        save_thumbnail(timeline, kept, thumbnail)
        timings["thumbnail_s"] = time.perf_counter() - t0
    timings["loudness_measured_lufs"] = level.measured_lufs if level.measured_lufs else float("nan")
    timings["loudness_gain_db"] = level.gain_db
    if progress:
        progress("video", 1.0)
    return timings


def encode_segment(
    timeline: Timeline, segment: Segment, source: FrameSource, progress: Progress | None = None
) -> None:
    """Encode one segment of a plan from ``source`` ahead of :func:`run_plan` (which is then
    told how many were ``encoded``): a render that draws while its sound is still being made."""
    Path(segment.output).parent.mkdir(parents=True, exist_ok=True)
    _encode(timeline, list(segment.args), segment.start, segment.end, progress, 0, source=source)


def thumbnail_frames(timeline: Timeline) -> list[int]:
    """Candidate thumbnail frames: two thirds into each of the first clips, never mid-transition."""
    numbers = []
    for index, clip in enumerate(timeline.clips[:6]):
        nxt = timeline.clips[index + 1] if index + 1 < len(timeline.clips) else None
        end = clip.start + clip.frames - (nxt.transition.frames if nxt else 0)
        start = clip.start + clip.transition.frames
        numbers.append(max(start, min(end - 1, start + (end - start) * 2 // 3)))
    return numbers


def save_thumbnail(
    timeline: Timeline, frames: dict[int, Frame], output: Path, width: int = 640
) -> Path:
    """Save the most representative of ``frames`` (lively, not dark, titled) as a JPEG."""
    # a titled frame says what the video is; the first titled scene says it best
    titled = [
        number
        for number in sorted(frames)
        for clip in timeline.clips
        if clip.start <= number < clip.start + clip.frames
        and any(clip.start + t.start <= number < clip.start + t.end for t in clip.texts)
    ]
    best: tuple[float, Frame] | None = None
    for number in sorted(frames):
        gray = cv2.cvtColor(frames[number], cv2.COLOR_BGR2GRAY)
        mean, std = float(gray.mean()), float(gray.std())
        bonus = 0 if number not in titled else 30 if number == titled[0] else 8
        score = std + (0 if 40 < mean < 220 else -100) + bonus
        if best is None or score > best[0]:
            best = (score, frames[number])
    if best is None:
        raise RenderError("the timeline has no clips to take a thumbnail from")
    frame = best[1]
    height = round(frame.shape[0] * width / frame.shape[1])
    small = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    output.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(output), small, [cv2.IMWRITE_JPEG_QUALITY, 88]):
        raise RenderError(f"could not write the thumbnail {output}", hint="check disk space")
    return output
