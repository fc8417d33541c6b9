"""Clips: a long talk in (an uploaded video), its best moments out as ranked, captioned
vertical clips that follow the speaker (:mod:`reelforge.clips`).

The output table lists up to :data:`MAX_CLIPS` clips, each with its MP4, captions (SRT, VTT,
ASS, words JSON) and thumbnail, plus ``clips.json`` (the manifest: rank, score, reasons,
times in the source, title per clip) and the whole transcript.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from reelforge.kinds import (
    JobKind,
    JobRequest,
    KindResult,
    Output,
    Progress,
    Stage,
    Workload,
    field_media,
    verb_options,
)

MAX_CLIPS = 10  # reelforge.clips.pipeline.MAX_CLIPS (not imported: listing kinds stays light)
# Downloads are named clip_1, clip_1_captions.srt, clip_1_thumbnail... (the service's
# download names are lower-case words, digits and underscores)


def _outputs() -> dict[str, Output]:
    table: dict[str, Output] = {}
    for k in range(1, MAX_CLIPS + 1):
        first = k == 1  # a finished job has at least one clip
        table[f"clip-{k}"] = Output(f"clip-{k}.mp4", "video/mp4", f"clip_{k}", required=first)
        for suffix, kind, name in (
            ("srt", "application/x-subrip", "captions.srt"),
            ("vtt", "text/vtt", "captions.vtt"),
            ("ass", "text/x-ssa", "captions.ass"),
            ("words.json", "application/json", "captions.json"),
        ):
            table[f"clip-{k}.{suffix}"] = Output(
                f"clip-{k}.{suffix}", kind, f"clip_{k}_{name}", required=first
            )
        table[f"clip-{k}.jpg"] = Output(
            f"clip-{k}.jpg", "image/jpeg", f"clip_{k}_thumbnail", required=first
        )
    table["manifest"] = Output("clips.json", "application/json", "manifest")
    table["transcript"] = Output("transcript.json", "application/json", "transcript")
    return table


OUTPUTS: Mapping[str, Output] = _outputs()

STAGES: Mapping[str, Stage] = {
    "transcribing": Stage("processing", 0.0, 0.6),
    "finding moments": Stage("processing", 0.6, 0.65),
    "tracking faces": Stage("processing", 0.65, 1.0),
    # "rendering clip K of N" reports the share of all the clips' rendering: unknown stage
    # names count as rendering [0, 1) (JobKind.stage)
}


class ClipsRequest(JobRequest):
    """A talk and how to cut it (the CLI's and the API's options, bounded)."""

    video: str = Field(min_length=1, max_length=1000, description="media:<id> of a video")
    count: int = Field(5, ge=1, le=MAX_CLIPS, description="how many clips, best first")
    format: Literal["9:16", "1:1", "4:5"] = "9:16"
    min_s: float = Field(20.0, ge=1, le=600, description="shortest clip, seconds")
    max_s: float = Field(60.0, ge=1, le=600, description="longest clip, seconds")
    query: str | None = Field(None, min_length=1, max_length=200, description="a topic")
    start_s: float | None = Field(None, ge=0, le=86_400, description="one clip of a span: start")
    end_s: float | None = Field(None, gt=0, le=86_400, description="... and end, seconds")
    captions: Literal["plain", "bold", "karaoke", "highlight", "boxed", "none"] = "bold"
    resolution: int = Field(720, ge=240, le=1080, description="the clips' short side, pixels")
    language: str | None = Field(None, min_length=2, max_length=16, pattern=r"^[A-Za-z-]+$")
    model: Literal["", "tiny.en", "base"] = ""
    preview: bool = Field(False, description="small clips (360 px), to check the choice")

    @model_validator(mode="after")
    def _consistent(self) -> ClipsRequest:
        if self.max_s < self.min_s:
            raise ValueError("max_s must be at least min_s")
        if self.start_s is not None and self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError("end_s must come after start_s")
        return self


media_fields, with_media = field_media("video", ("video",))


def workload(request: ClipsRequest) -> Workload:
    """Seconds of clips rendered (the talk's own length is unknown before it is probed: the
    transcription's cost is not counted here)."""
    if request.start_s is not None and request.end_s is not None:
        seconds = request.end_s - request.start_s
        count = 1
    else:
        seconds, count = request.count * request.max_s, request.count
    width = request.resolution
    pixels = max(0.1, width * width * 16 / 9 / (1920 * 1080))
    return Workload(seconds=seconds, pixels=pixels, parts=count)


def run(
    request: ClipsRequest, workdir: Path, progress: Progress, *, cache_dir: Path | None = None
) -> KindResult:
    """Find and render the clips into ``workdir``."""
    import reelforge

    options = verb_options(request, "video", "preview")
    if request.preview:
        options["resolution"] = 360
    made = reelforge.extract_clips(request.video, workdir, **options, progress=progress)
    files: dict[str, Path] = {"manifest": made.manifest, "transcript": made.transcript}
    listed: list[dict[str, Any]] = []
    for clip in made.clips:
        outputs = {"video": f"clip-{clip.rank}", "thumbnail": f"clip-{clip.rank}.jpg"}
        files[f"clip-{clip.rank}"] = clip.video
        files[f"clip-{clip.rank}.jpg"] = clip.thumbnail
        for suffix, path in clip.captions.items():
            files[f"clip-{clip.rank}.{suffix}"] = path
            outputs[f"captions.{suffix}"] = f"clip-{clip.rank}.{suffix}"
        listed.append(
            {
                "rank": clip.rank,
                "score": round(clip.moment.score, 1),
                "reasons": list(clip.moment.reasons),
                "start": round(clip.start_ms / 1000, 3),
                "end": round(clip.end_ms / 1000, 3),
                "duration": round((clip.end_ms - clip.start_ms) / 1000, 3),
                "title": clip.moment.title[:200],
                "fit": clip.fit,
                "outputs": outputs,
            }
        )
    return KindResult(files, made.notes, summary={"clips": listed})


CLIPS = JobKind("clips", ClipsRequest, run, OUTPUTS, workload, media_fields, with_media, STAGES)
