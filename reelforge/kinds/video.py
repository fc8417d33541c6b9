"""The narrated video: a storyboard in, an MP4 with captions, thumbnail and manifest out.

It wraps :func:`reelforge.make`; the storyboard travels whole in the request, so the
request a worker reads back is the one that was priced, checked and hashed at submit time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import reelforge
from reelforge.kinds import (
    JobKind,
    JobRequest,
    KindResult,
    MediaField,
    Output,
    Progress,
    Rename,
    Stage,
    Workload,
    video_result,
)
from reelforge.spec.model import Storyboard
from reelforge.text.languages import TRANSLATION_LANGUAGES

OUTPUTS: Mapping[str, Output] = {
    "video": Output("video.mp4", "video/mp4", "video"),
    "srt": Output("video.srt", "application/x-subrip", "captions.srt", required=False),
    "vtt": Output("video.vtt", "text/vtt", "captions.vtt", required=False),
    "ass": Output("video.ass", "text/x-ssa", "captions.ass", required=False),
    "words.json": Output("video.words.json", "application/json", "captions.json", required=False),
    "thumbnail": Output("video.jpg", "image/jpeg", "thumbnail"),
    "manifest": Output("video.json", "application/json", "manifest", names_paths=True),
    # caption translations (a storyboard's `translate`): SubRip and WebVTT per language
    **{
        f"{fmt}.{code}": Output(
            f"video.{code}.{fmt}", content_type, f"captions.{code}.{fmt}", required=False
        )
        for code in TRANSLATION_LANGUAGES
        for fmt, content_type in (("srt", "application/x-subrip"), ("vtt", "text/vtt"))
    },
}
"""Result name -> output: the one table of what a video job writes (the CLI's sidecars, the
service's stored files and downloads, the manifest's names)."""

CAPTION_OUTPUTS = ("srt", "vtt", "ass", "words.json")
TRANSLATION_FORMATS = ("srt", "vtt")  # each translation's sidecars: "srt.fr", "vtt.fr"
TRANSLATION_OUTPUTS = frozenset(
    name
    for name in OUTPUTS
    if name not in CAPTION_OUTPUTS and name.split(".")[0] in TRANSLATION_FORMATS
)
"""The rows of the table only a video with caption translations writes."""

# pipeline.make's progress stages: voices, pictures and music plan the video (the job is
# "processing"); audio and video are the encode ("rendering").
STAGES: Mapping[str, Stage] = {
    "voice": Stage("processing", 0.0, 0.6),
    "visuals": Stage("processing", 0.6, 0.9),
    "music": Stage("processing", 0.9, 1.0),
    "translation": Stage("processing", 0.9, 1.0),
    "plan": Stage("processing"),
    "audio": Stage("rendering", 0.0, 0.15),
    "video": Stage("rendering", 0.15, 1.0),
}

WORDS_PER_SECOND = 2.5  # narration speed assumed before any voice has spoken


class VideoRequest(JobRequest):
    """A resolved storyboard and the preview choice (small and fast)."""

    storyboard: Storyboard


def storyboard(
    script: str | None = None,
    fields: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> Storyboard:
    """A storyboard from a script (plain text or Markdown) or from storyboard ``fields``;
    ``overrides`` (storyboard fields) win. Exactly one of ``script`` and ``fields``."""
    if script is not None:
        return reelforge.parse_script(script, **overrides)
    return reelforge.parse_storyboard(fields or {}, **overrides)


def media_fields(request: VideoRequest) -> Iterator[MediaField]:
    """Every file path the storyboard names, with the media kinds each may be."""
    board = request.storyboard
    for number, scene in enumerate(board.scenes):
        if scene.visual is not None and scene.visual.path:
            yield MediaField(f"scenes.{number}.visual.path", scene.visual.path, ("image", "video"))
    if board.music.path:
        yield MediaField("music.path", board.music.path, ("audio",))
    if board.captions.file:
        yield MediaField("captions.file", board.captions.file, ())
    if board.narration is not None:
        yield MediaField("narration.path", board.narration.path, ("audio",))
        if board.narration.words:
            yield MediaField("narration.words", board.narration.words, ())
    if board.voice_like:
        yield MediaField("voice_like", board.voice_like, ("audio",))
    if board.watermark is not None and board.watermark.path:
        yield MediaField("watermark.path", board.watermark.path, ("image",))
    if board.character is not None and board.character.image:
        yield MediaField("character.image", board.character.image, ("image",))
    if board.library:  # a folder on the server's disk: never (users name uploads)
        yield MediaField("library", board.library, ())


def with_media(request: VideoRequest, rename: Rename) -> VideoRequest:
    """``request`` with every media path of its storyboard replaced by ``rename(path)``."""
    board = request.storyboard
    scenes = []
    for scene in board.scenes:
        if scene.visual is not None and scene.visual.path:
            visual = scene.visual.model_copy(update={"path": rename(scene.visual.path)})
            scene = scene.model_copy(update={"visual": visual})
        scenes.append(scene)
    update: dict[str, Any] = {"scenes": tuple(scenes)}
    if board.music.path:
        update["music"] = board.music.model_copy(update={"path": rename(board.music.path)})
    if board.narration is not None:
        update["narration"] = board.narration.model_copy(
            update={"path": rename(board.narration.path)}
        )
    if board.voice_like:
        update["voice_like"] = rename(board.voice_like)
    if board.watermark is not None and board.watermark.path:
        update["watermark"] = board.watermark.model_copy(
            update={"path": rename(board.watermark.path)}
        )
    if board.character is not None and board.character.image:
        update["character"] = board.character.model_copy(
            update={"image": rename(board.character.image)}
        )
    return request.model_copy(update={"storyboard": board.model_copy(update=update)})


def spoken_seconds(board: Storyboard) -> float:
    """Seconds the narration lasts, estimated from its words before any voice speaks."""
    duration = 0.0
    for scene in board.scenes:
        spoken = len(scene.narration.split()) / WORDS_PER_SECOND / board.speed
        duration += max(spoken + board.padding, scene.duration or 0.0, 1.0)
    return duration


def expected_seconds(board: Storyboard) -> float:
    """Seconds the video will last, estimated before planning: its narration's own length,
    or the target when that is longer (planning stretches to a target, never squeezes the
    narration into one, so a short target must not make a long script look cheap)."""
    return max(float(board.target_duration or 0.0), spoken_seconds(board))


def workload(request: VideoRequest) -> Workload:
    board = request.storyboard
    width, height = board.size()
    # A preview renders small whatever the format: its cost does not scale with the frame.
    pixels = 1.0 if request.preview else max(width * height / (1920 * 1080), 0.1)
    return Workload(seconds=expected_seconds(board), pixels=pixels, parts=len(board.scenes))


def run(
    request: VideoRequest, workdir: Path, progress: Progress, *, cache_dir: Path | None = None
) -> KindResult:
    """Plan and render the storyboard into ``workdir/video.mp4`` and its sidecars."""
    made = reelforge.make(
        request.storyboard,
        workdir / OUTPUTS["video"].file,
        preview=request.preview,
        progress=progress,
        cache_dir=cache_dir,
    )
    return video_result(made, OUTPUTS)


VIDEO = JobKind("video", VideoRequest, run, OUTPUTS, workload, media_fields, with_media, STAGES)
