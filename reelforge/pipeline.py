"""The main job: storyboard -> MP4 plus captions, thumbnail and manifest beside it."""

from __future__ import annotations

import json
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reelforge import __version__
from reelforge.errors import MediaError, SpecError
from reelforge.kinds import VideoFiles
from reelforge.kinds.video import (
    CAPTION_OUTPUTS,
    OUTPUTS,
    TRANSLATION_FORMATS,
    TRANSLATION_OUTPUTS,
)
from reelforge.plan import Planned, cpu_seconds
from reelforge.plan import plan as plan_storyboard
from reelforge.render.plan import compile_plan
from reelforge.spec.model import Storyboard
from reelforge.timeline import Timeline

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class MakeResult(VideoFiles):
    timeline: Timeline
    timings: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # what planning could not do as asked (also in the manifest)
    # with voice_like: per language, the matched voice and its distances (also in the manifest)
    voice_match: tuple[dict[str, object], ...] = ()


def load_timeline(path: str | Path) -> Timeline:
    """A timeline JSON written by ``plan``, or the timeline inside a ``make`` manifest."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SpecError(
            f"cannot read the timeline {path}: {exc}",
            hint="give a timeline JSON written by `reelforge plan`",
        ) from None
    try:
        return Timeline.from_dict(data.get("timeline", data))
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise SpecError(
            f"{path} is not a reelforge timeline (no field {exc})"
            if isinstance(exc, KeyError)
            else f"{path} is not a reelforge timeline",
            hint="give a timeline JSON written by `reelforge plan -o`, or a manifest written "
            "by `reelforge make`",
        ) from None


def check_timeline_files(timeline: Timeline) -> None:
    """Every picture and sound the timeline uses is still there (a manifest's timeline points
    into its render's work folder, removed afterwards)."""
    paths = [layer.path for clip in timeline.clips for layer in clip.layers]
    paths += [track.path for track in timeline.audio]
    if timeline.watermark is not None:
        paths.append(timeline.watermark.path)
    missing = sorted({p for p in paths if not Path(p).is_file()})
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise MediaError(
            f"the timeline uses a file that is gone: {missing[0]}{more}",
            hint="a manifest's timeline uses pictures and sounds from its render's work "
            "folder, removed afterwards: run `reelforge make` again with --keep-work, or render "
            "a timeline written by `reelforge plan -o timeline.json`",
        )


def render(
    timeline: Timeline,
    output: str | Path,
    *,
    workdir: str | Path | None = None,
    progress: Progress | None = None,
) -> dict[str, float]:
    """Render ``timeline`` to ``output`` (MP4) as planned: the timeline carries every render
    decision (burned captions, loudness passes, segments). Returns stage timings in seconds."""
    from reelforge.render.runner import run_plan

    check_timeline_files(timeline)
    out = Path(output)
    with _workdir(workdir, out) as work:
        return run_plan(timeline, compile_plan(timeline, out, work), progress)


class _workdir:
    """A given work folder, or a temporary one removed afterwards."""

    def __init__(self, given: str | Path | None, output: Path) -> None:
        self.given = Path(given) if given else None
        self.output = output
        self.tmp: str | None = None

    def __enter__(self) -> Path:
        if self.given:
            self.given.mkdir(parents=True, exist_ok=True)
            return self.given
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix=f".{self.output.stem}.work-", dir=self.output.parent)
        return Path(self.tmp)

    def __exit__(self, *exc: object) -> None:
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


# What lands beside the video, from the video kind's one output table (the service stores and
# serves the same names).
CAPTION_SIDECARS = tuple(OUTPUTS[name].suffix for name in CAPTION_OUTPUTS)
TRANSLATION_SIDECARS = tuple(
    output.suffix for name, output in OUTPUTS.items() if name in TRANSLATION_OUTPUTS
)
OUTPUT_SIDECARS = tuple(output.suffix for name, output in OUTPUTS.items() if name != "video")


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def _remove_outputs(output: Path) -> None:
    """Remove a failed run's video and sidecars: nothing may be left claiming success."""
    output.unlink(missing_ok=True)
    for ext in OUTPUT_SIDECARS:
        output.with_suffix("." + ext).unlink(missing_ok=True)


def write_sidecars(timeline: Timeline, output: Path) -> dict[str, Path]:
    """SRT, WebVTT, ASS and word-timing JSON beside ``output`` (same folder and stem), and
    SRT and WebVTT of each caption translation (``video.fr.srt``)."""
    from reelforge.captions.formats import to_ass, to_srt, to_vtt, to_words_json

    # captions of an earlier render must not pass for this one's
    for ext in CAPTION_SIDECARS + TRANSLATION_SIDECARS:
        output.with_suffix("." + ext).unlink(missing_ok=True)
    files: dict[str, str] = {}
    if timeline.captions:
        files = {
            "srt": to_srt(timeline.captions),
            "vtt": to_vtt(timeline.captions),
            "ass": to_ass(
                timeline.captions,
                timeline.caption_style,
                timeline.width,
                timeline.height,
                fonts_hint=timeline.language,
            ),
            "words.json": to_words_json(timeline.captions),
        }
    for track in timeline.subtitles:
        files[f"srt.{track.language}"] = to_srt(track.captions)
        files[f"vtt.{track.language}"] = to_vtt(track.captions)
    out: dict[str, Path] = {}
    for name, text in files.items():
        path = output.with_suffix("." + OUTPUTS[name].suffix)
        path.write_text(text, encoding="utf-8")
        out[name] = path
    return out


def make(
    storyboard: Storyboard,
    output: str | Path,
    *,
    preview: bool = False,
    progress: Progress | None = None,
    keep_workdir: bool = False,
    cache_dir: str | Path | None = None,
    segment_seconds: float | None = None,
) -> MakeResult:
    """Plan and render ``storyboard`` into ``output`` (MP4) with captions (SRT, VTT, ASS,
    word timings), a thumbnail and a JSON manifest beside it."""
    from reelforge.media.ffmpeg import ffmpeg_binary, ffprobe_binary
    from reelforge.render.runner import run_plan

    out = Path(output)
    if out.suffix.lower() != ".mp4":
        raise SpecError(f"the output {out} is not an .mp4 file", hint="use -o NAME.mp4")
    ffmpeg_binary(), ffprobe_binary()  # a missing ffmpeg fails now, not after the voice work
    started = time.perf_counter()
    with _workdir(out.parent / f".{out.stem}.work" if keep_workdir else None, out) as work:
        planned: Planned = plan_storyboard(
            storyboard,
            work,
            preview=preview,
            progress=progress,
            cache_dir=cache_dir,
            segment_seconds=segment_seconds,
        )
        timeline = planned.timeline
        # Kokoro's session (~900 MB) and the freed heap of the voice and visual stages go
        # back before the encode, so its peak does not stack on theirs
        from reelforge.voices import release_models

        release_models()
        t0, cpu = time.perf_counter(), cpu_seconds()
        plan = compile_plan(timeline, out, work)
        thumbnail = out.with_suffix("." + OUTPUTS["thumbnail"].suffix)
        earlier = _identity(out)
        try:
            render_timings = run_plan(timeline, plan, progress, thumbnail=thumbnail)
            timings = dict(planned.timings)
            timings["render_s"] = time.perf_counter() - t0
            timings["render_cpu_s"] = cpu_seconds() - cpu
            timings.update({k: v for k, v in render_timings.items() if k.endswith("_s")})
            captions = write_sidecars(timeline, out)
            timings["total_s"] = time.perf_counter() - started
            manifest = out.with_suffix("." + OUTPUTS["manifest"].suffix)
            manifest.write_text(
                json.dumps(
                    {
                        "reelforge": __version__,
                        "video": out.name,
                        "duration_s": timeline.frames / timeline.fps,
                        "size": [timeline.width, timeline.height],
                        "fps": timeline.fps,
                        "captions": {k: p.name for k, p in captions.items()},
                        "subtitles": _subtitles(timeline, captions),
                        "thumbnail": thumbnail.name,
                        "engines": planned.engines,
                        "scenes": planned.scenes,
                        "voice_match": planned.voice_match,
                        "loudness": {
                            "target_lufs": timeline.mix.loudness_lufs,
                            "measured_lufs": _finite(render_timings.get("loudness_measured_lufs")),
                            "gain_db": render_timings.get("loudness_gain_db"),
                        },
                        "timings_s": {k: round(v, 3) for k, v in timings.items()},
                        "notes": planned.notes,
                        "platform": {
                            "python": platform.python_version(),
                            "machine": platform.machine(),
                        },
                        "timeline": timeline.to_dict(),
                    },
                    indent=1,
                    ensure_ascii=False,
                    default=_json_default,
                ),
                encoding="utf-8",
            )
        except BaseException:  # Ctrl-C included
            if _identity(out) != earlier:  # this run's video is in place, without its sidecars
                _remove_outputs(out)
            raise
    return MakeResult(
        out,
        captions,
        thumbnail,
        manifest,
        timeline,
        timings,
        tuple(planned.notes),
        tuple(planned.voice_match),
    )


def _subtitles(timeline: Timeline, captions: dict[str, Path]) -> list[dict[str, Any]]:
    """The manifest's soft subtitle tracks: the MP4's subtitle streams in order, each with
    its language tags and sidecar files."""
    return [
        {
            "stream": number,
            "language": track.language,
            "iso639_2": track.iso639_2,
            "title": track.title,
            "cues": len(track.captions),
            "files": {fmt: captions[f"{fmt}.{track.language}"].name for fmt in TRANSLATION_FORMATS},
        }
        for number, track in enumerate(timeline.subtitles)
    ]


def _finite(value: float | None) -> float | None:
    return None if value is None or value != value else value


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    return str(value)
