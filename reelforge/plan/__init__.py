"""Planning: a lenient storyboard in, a strict timeline out.

Planning runs the engines that decide timing (voice) and supply material (music, visuals),
then lays everything out in exact frames and milliseconds, and decides how it renders (a
preview's size and loudness pass, the segments of a long encode), so render reads the timeline
alone. The steps live in their own modules:

* :mod:`reelforge.plan.narration`: languages, speech (cached) or a given recording, captions;
* :mod:`reelforge.plan.timing`: the output size, each scene's slot, transitions, segments;
* :mod:`reelforge.plan.layout`: pictures, camera motion, titles, caption look, watermark;
* :mod:`reelforge.plan.music`: a given file, or composed while the voices speak.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reelforge import translation
from reelforge.errors import SpecError
from reelforge.plan import layout, library, narration, stock, timing
from reelforge.plan.layout import Canvas
from reelforge.plan.music import Composer
from reelforge.plan.narration import Narration
from reelforge.plan.timing import FIRST_LEAD_MS, LEAD_MS, MIN_SLOT_MS, SILENT_SCENE_MS, Slot
from reelforge.spec.model import Storyboard
from reelforge.spec.templates import Template, get_template
from reelforge.timeline import (
    CaptionLine,
    CaptionStyle,
    Clip,
    Encoder,
    Mix,
    SubtitleTrack,
    Timeline,
)

Progress = Callable[[str, float], None]

__all__ = [
    "FIRST_LEAD_MS",
    "LEAD_MS",
    "MIN_SLOT_MS",
    "SILENT_SCENE_MS",
    "Planned",
    "plan",
]


@dataclass
class Planned:
    """What planning produced: the timeline plus facts for the manifest."""

    timeline: Timeline
    engines: dict[str, dict[str, str]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # per scene: its language and, when it speaks, the voice and engine that said it
    scenes: list[dict[str, str | None]] = field(default_factory=list)
    # per scene: what its picture shows and why (engine, matched subjects, the words)
    pictures: list[dict[str, str]] = field(default_factory=list)
    # with voice_like: per language, the matched voice and its distances before and after
    voice_match: list[dict[str, object]] = field(default_factory=list)


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and the child processes it waited for (ffmpeg,
    espeak-ng): a stage's CPU cost, which a loaded machine does not inflate as it does wall
    time."""
    used = os.times()
    return used.user + used.system + used.children_user + used.children_system


def plan(
    storyboard: Storyboard,
    workdir: str | Path,
    *,
    preview: bool = False,
    progress: Progress | None = None,
    cache_dir: str | Path | None = None,
    segment_seconds: float | None = None,
) -> Planned:
    """Resolve ``storyboard`` into a :class:`Planned` timeline, running voice, music and
    visuals; its pictures and sounds are written under ``workdir``.

    Every render decision is made here and kept in the timeline: a preview's size and single
    loudness pass, burned captions, and the segments a long edit encodes in
    (``segment_seconds``, default from the settings).
    """
    from reelforge.settings import get_settings

    sb, workdir = storyboard, Path(workdir)
    template = get_template(sb.template)
    workdir.mkdir(parents=True, exist_ok=True)
    _check_something_to_show(sb)
    width, height, fps = timing.output_size(sb, preview)
    canvas = Canvas(width, height, fps, workdir)
    narration.check_languages(sb)
    cache = Path(cache_dir) if cache_dir is not None else get_settings().cache_dir
    sb, from_library, library_note = library.match_library(sb, cache)
    taken = {found.scene for found in from_library}
    sb, from_stock, stock_note = stock.match_stock(sb, cache, taken)
    languages = [narration.scene_language(sb, s) for s in sb.scenes]
    _check_media(sb)
    layout.check_generative_engine(sb)
    main_language = languages[0] if languages else "en"
    if sb.translate:  # before any voice speaks: a missing engine fails now
        translation.check(sb.translate, main_language)
    planned = Planned(Timeline(width, height, fps, 0, ()))

    composer = Composer(sb, template, timing.estimate_ms(sb.scenes, languages, sb), workdir)
    started, cpu = time.perf_counter(), cpu_seconds()
    said = narration.narrate(sb, languages, cache, progress)
    if said.engine:
        planned.engines["voice"] = said.engine
    planned.voice_match = [match.to_dict() for match in said.matches]
    planned.timings["voice_s"] = time.perf_counter() - started
    planned.timings["voice_cpu_s"] = cpu_seconds() - cpu  # music composes meanwhile

    slots = _slots(sb, template, said, fps, planned.notes)
    style = layout.caption_style(sb, template, canvas, main_language)
    burned = style if sb.captions.enabled and sb.captions.burn else None
    started, cpu = time.perf_counter(), cpu_seconds()
    clips = _clips(sb, template, canvas, slots, said, languages, planned, progress, burned)
    planned.timings["visuals_s"] = time.perf_counter() - started
    planned.timings["visuals_cpu_s"] = cpu_seconds() - cpu
    for found in from_library:  # the user's own media: which asset, which words, the score
        planned.pictures[found.scene] = found.picture()
    if library_note:
        planned.notes.append(library_note)
    for credited in from_stock:  # stock media, credited to its author and provider
        planned.pictures[credited.scene] = credited.picture()
    if stock_note:
        planned.notes.append(stock_note)

    frames = sum(n for _, n in slots)
    tracks, spoken = narration.placed(said, slots, fps, style)
    end_ms = frames * 1000 // fps
    lines = narration.caption_lines(sb, said, spoken, style, main_language, end_ms)
    subtitles = _subtitles(sb, lines, main_language, planned, progress)

    music_tracks, music_engine = composer.result(end_ms)
    if music_engine:
        planned.engines["music"] = music_engine
    planned.timings["music_s"] = composer.seconds
    if progress:
        progress("music", 1.0)

    timeline = Timeline(
        width=width,
        height=height,
        fps=fps,
        frames=frames,
        clips=tuple(clips),
        audio=tuple(tracks + music_tracks),
        captions=tuple(lines),
        caption_style=style,
        burn_captions=sb.captions.enabled and sb.captions.burn,
        subtitles=subtitles,
        grade=sb.grade or template.grade,
        watermark=layout.watermark(sb, canvas, main_language),
        mix=Mix(duck=sb.music.duck, loudness_lufs=sb.loudness, loudness_passes=1 if preview else 2),
        encoder=_encoder(sb, preview, timing.segment_frames(frames, fps, segment_seconds)),
        language=main_language,
        title=sb.title,
        metadata={
            "template": template.name,
            "languages": sorted(set(languages)),
            "preview": preview,
        },
    )
    if not sb.captions.enabled:
        timeline = timeline.replace(captions=(), burn_captions=False)
    planned.timeline = timeline
    planned.scenes = [
        {
            "language": lang,
            "voice": s.voice if s else None,
            "engine": s.engine if s else None,
            "picture": _picture_summary(picture),
        }
        for lang, s, picture in zip(languages, said.speech, planned.pictures, strict=True)
    ]
    return planned


def _subtitles(
    sb: Storyboard,
    lines: list[CaptionLine],
    language: str,
    planned: Planned,
    progress: Progress | None,
) -> tuple[SubtitleTrack, ...]:
    """The caption translations the storyboard asks for (none: no engine is called)."""
    if not sb.translate:
        return ()
    if not lines:
        raise SpecError(
            "translate: the video has no captions to translate (no narration)",
            hint="give the scenes narration, or leave out translate / --translate",
        )
    started = time.perf_counter()
    done = translation.translate_captions(lines, language, sb.translate, progress=progress)
    planned.engines["translation"] = done.engine
    planned.timings["translation_s"] = time.perf_counter() - started
    return done.tracks


def _picture_summary(picture: dict[str, str]) -> str:
    """One line for the manifest: the engine, and what it drew and why."""
    summary = picture.get("engine", "")
    if picture.get("matched"):
        summary += f": {picture['matched']} ({picture.get('why', '')})"
    elif picture.get("prompt"):  # a generative engine: the prompt it was given
        summary += f": {picture['prompt']}"
    if picture.get("credit"):
        summary += f"; {picture['credit']}, {picture.get('licence', '')}"
    return summary


def _check_something_to_show(sb: Storyboard) -> None:
    if not any(s.narration.strip() or s.title or s.duration for s in sb.scenes):
        raise SpecError(
            "the storyboard has no narration, titles or durations: nothing to show",
            hint="give each scene a 'narration' text (or a 'duration' and a 'visual')",
        )


def _check_media(sb: Storyboard) -> None:
    """Fail fast on a missing, corrupt or unusable picture, clip or music file: before the
    voice and visual engines spend minutes on a video that cannot be made."""
    from reelforge.media.probe import check_audio, check_image, probe

    for index, scene in enumerate(sb.scenes):
        visual = scene.visual
        if visual is None or not visual.path:
            continue
        if visual.type == "image":
            check_image(Path(visual.path))
        elif visual.type == "video" and not probe(Path(visual.path)).has_video:
            raise SpecError(
                f"scene {index + 1}: {visual.path} has no video stream",
                hint="use an image path for a still, or a real video file",
            )
    if sb.character is not None and sb.character.image:
        check_image(Path(sb.character.image))
    if sb.music.enabled and sb.music.path:
        check_audio(Path(sb.music.path))


def _slots(
    sb: Storyboard, template: Template, said: Narration, fps: int, notes: list[str]
) -> list[Slot]:
    """Each scene's slot in frames: narration decides the timing."""
    spoken_ms = [speech.duration_ms if speech else None for speech in said.speech]
    slot_ms, content_ms = timing.slot_lengths(sb, template, spoken_ms)
    slot_ms = timing.fitted(sb, slot_ms, said.recording_ms, notes)
    until_ms = said.recording_ms + round(sb.padding * 1000)
    return timing.slots(slot_ms, fps, content_ms, until_ms)


def _clips(
    sb: Storyboard,
    template: Template,
    canvas: Canvas,
    slots: list[Slot],
    said: Narration,
    languages: list[str],
    planned: Planned,
    progress: Progress | None,
    captions: CaptionStyle | None = None,
) -> list[Clip]:
    layout.prepare_generated(sb, template, canvas, languages)
    clips = []
    for i in range(len(slots)):
        spoken = said.speech[i] is not None
        engines, notes = planned.engines, planned.notes
        picture: dict[str, str] = {}
        clip = layout.clip(
            sb, template, canvas, slots, i, spoken, languages[i], engines, notes, picture,
            captions,
        )  # fmt: skip
        clips.append(clip)
        planned.pictures.append(picture)
        if progress:
            progress("visuals", (i + 1) / len(slots))
    return clips


def _encoder(sb: Storyboard, preview: bool, segment_frames: int) -> Encoder:
    """A preview encodes fast and small; a long edit in pieces of ``segment_frames``."""
    if preview:
        return Encoder(
            preset="ultrafast",
            crf=30,
            audio_bitrate="96k",
            aac_coder="fast",
            segment_frames=segment_frames,
        )
    enc = sb.encoder
    return Encoder(
        preset=enc.preset,
        crf=enc.crf,
        audio_bitrate=enc.audio_bitrate,
        aac_coder=enc.aac_coder,
        segment_frames=segment_frames,
    )
