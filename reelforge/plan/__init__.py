"""Planning: a lenient storyboard in, a strict timeline out.

Planning runs the engines that decide timing (voice) and supply material (music, procedural
visuals), then lays everything out in exact frames and milliseconds:

* each scene has a *slot*: lead-in + its narration + padding (or its duration hint, whichever is
  longer), snapped to frames from cumulative time so rounding never drifts;
* a transition into scene ``i`` occupies the last frames of slot ``i-1``, so narration (which
  starts at its slot) never plays under a transition and the total is the sum of the slots;
* captions come from the voice's own word timings, grouped per scene, so they never outrun it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reelforge.engines import registry
from reelforge.errors import SpecError
from reelforge.spec.model import SceneSpec, Storyboard, VisualSpec
from reelforge.timeline import (
    MOTION_PRESETS,
    TRANSITIONS,
    AudioTrack,
    CaptionLine,
    CaptionStyle,
    Clip,
    Encoder,
    ImageOverlay,
    Layer,
    Mix,
    Motion,
    TextOverlay,
    TimedWord,
    Timeline,
    Transition,
)

Progress = Callable[[str, float], None]

LEAD_MS = 250  # narration starts this long after its scene starts
FIRST_LEAD_MS = 400
MIN_SLOT_MS = 1500
SILENT_SCENE_MS = 3000
PREVIEW_RESOLUTION = 360
PREVIEW_FPS = 15


@dataclass(frozen=True)
class Speech:
    audio: Path
    duration_ms: int
    words: tuple[TimedWord, ...]
    language: str
    voice: str
    engine: str


@dataclass
class Planned:
    """What planning produced: the timeline plus facts for the manifest."""

    timeline: Timeline
    engines: dict[str, dict[str, str]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # per scene: its language and, when it speaks, the voice and engine that said it
    scenes: list[dict[str, str | None]] = field(default_factory=list)


VOICE_WORKERS = 4  # scenes synthesised at once (bounded by the CPU count)
SOFT_ART_DETAIL = 0.5
SOFT_ART_MIN_SIDE = 360  # previews too: their soft art composes at 320x180


def default_cache_dir() -> Path:
    from reelforge.settings import get_settings

    return get_settings().cache_dir


# --------------------------------------------------------------------------- voice


def _synthesize_all(
    scenes: list[SceneSpec],
    languages: list[str],
    sb: Storyboard,
    cache: Path,
    progress: Progress | None,
) -> list[Speech | None]:
    """Each scene's narration, synthesised on up to VOICE_WORKERS threads at once.

    Engines that declare ``concurrent = True`` (Piper: one single-threaded ONNX session shared
    by the threads) run scenes side by side; others run one scene at a time behind a lock.
    """
    todo = [i for i, scene in enumerate(scenes) if scene.narration.strip()]
    out: list[Speech | None] = [None] * len(scenes)
    if not todo:
        return out
    workers = max(1, min(VOICE_WORKERS, os.cpu_count() or 1, len(todo)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="voice") as pool:
        futures = {
            pool.submit(
                _speech_for, scenes[i], languages[i], scenes[i].voice or sb.voice, sb.speed, cache
            ): i
            for i in todo
        }
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                out[futures[future]] = future.result()
                if progress:
                    progress("voice", done / len(todo))
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return out


_engine_locks: dict[str, threading.Lock] = {}
_engine_locks_guard = threading.Lock()


def _engine_lock(name: str) -> threading.Lock:
    with _engine_locks_guard:
        return _engine_locks.setdefault(name, threading.Lock())


def _speech_for(
    scene: SceneSpec, language: str, voice_id: str | None, speed: float, cache: Path
) -> Speech:
    from reelforge.voices import resolve_voice

    voice = resolve_voice(voice_id, language)
    engine = registry.get("voice", voice.engine)
    version = engine.info().version
    key = hashlib.sha256(
        json.dumps(
            [voice.engine, version, voice.engine_voice, scene.narration, speed, language]
        ).encode()
    ).hexdigest()[:32]
    folder = cache / "voice" / key
    meta = folder / "speech.json"
    if meta.is_file():  # the same words in the same voice: reuse (edits re-render only changes)
        data = json.loads(meta.read_text())
        return Speech(
            folder / data["audio"],
            data["duration_ms"],
            tuple(TimedWord(w[0], w[1], w[2]) for w in data["words"]),
            language,
            voice.id,
            voice.engine,
        )
    from reelforge.engines.base import SpeechRequest

    tmp = folder.with_name(f"{key}.{uuid.uuid4().hex[:8]}.tmp")  # unique: threads may race
    tmp.mkdir(parents=True)
    request = SpeechRequest(scene.narration, language, voice.engine_voice, speed)
    if engine.concurrent:
        result = engine.synthesize(request, tmp)
    else:
        with _engine_lock(voice.engine):
            result = engine.synthesize(request, tmp)
    audio = Path(result.audio)
    if audio.parent != tmp:
        shutil.copy(audio, tmp / audio.name)
    words = [[w.text, w.start_ms, w.end_ms] for w in result.words]
    (tmp / "speech.json").write_text(
        json.dumps({"audio": audio.name, "duration_ms": result.duration_ms, "words": words})
    )
    shutil.rmtree(folder, ignore_errors=True)
    try:
        tmp.rename(folder)
    except OSError:  # the same narration finished on another thread first: use that one
        shutil.rmtree(tmp, ignore_errors=True)
        if not (folder / "speech.json").is_file():
            raise
    return Speech(
        folder / audio.name,
        result.duration_ms,
        tuple(TimedWord(w.text, w.start_ms, w.end_ms) for w in result.words),
        language,
        voice.id,
        voice.engine,
    )


# --------------------------------------------------------------------------- helpers


def _motion(spec: Any, fallback: str) -> Motion:
    if spec is None:
        return MOTION_PRESETS[fallback]
    if isinstance(spec, str):
        if spec not in MOTION_PRESETS:
            raise SpecError(
                f"unknown motion {spec!r}", hint=f"use one of: {', '.join(MOTION_PRESETS)}"
            )
        return MOTION_PRESETS[spec]
    return Motion(
        spec.zoom[0], spec.zoom[1], spec.x[0], spec.x[1], spec.y[0], spec.y[1], spec.easing
    )


def _scene_language(sb: Storyboard, scene: SceneSpec) -> str:
    from reelforge.text.language import detect_language

    if scene.language:
        return scene.language
    if sb.language:
        return sb.language
    return detect_language(scene.narration or scene.title or sb.title or "")


def _transition(sb: Storyboard, scene: SceneSpec, template: Any) -> tuple[str, float]:
    spec = scene.transition or sb.transition
    kind = spec.kind if spec else template.transition
    duration = spec.duration if spec else template.transition_duration
    if kind not in TRANSITIONS:
        raise SpecError(
            f"unknown transition {kind!r}", hint=f"use one of: {', '.join(TRANSITIONS)}"
        )
    return kind, (0.0 if kind == "cut" else duration)


def _caption_style(
    sb: Storyboard, template: Any, width: int, height: int, lang: str
) -> CaptionStyle:
    from reelforge.captions.formats import caption_font_for

    cap = sb.captions
    short = min(width, height)
    vertical = height > width
    size = cap.size or round(short * (0.074 if vertical else 0.06))
    margin_frac = {"bottom": 0.2 if vertical else 0.09, "top": 0.12, "center": 0.0}
    position = cap.position or "bottom"
    font = cap.font or "DejaVu Sans"
    return CaptionStyle(
        name=cap.style or template.caption_style,
        font=caption_font_for(lang, font),
        size_px=size,
        bold=True,
        color=cap.color or template.caption_color,
        highlight_color=cap.highlight_color or template.caption_highlight,
        outline_px=cap.outline if cap.outline is not None else max(2, round(size / 16)),
        position=position,
        margin_v_px=cap.margin if cap.margin is not None else round(height * margin_frac[position]),
        margin_h_px=round(width * 0.06),
        uppercase=cap.uppercase if cap.uppercase is not None else template.caption_uppercase,
        max_words=cap.max_words,
        max_chars=cap.max_chars,
    )


def _visual_layers(
    visual: VisualSpec,
    index: int,
    sb: Storyboard,
    template: Any,
    width: int,
    height: int,
    duration_ms: int,
    workdir: Path,
    scene_text: str,
    engines: dict[str, dict[str, str]],
    notes: list[str],
) -> tuple[Layer, ...]:
    motion = _motion(visual.motion, template.motion_for(index))
    if visual.type == "image":  # checked by _check_media
        assert visual.path
        return (Layer(visual.path, "image", visual.fit, motion),)
    if visual.type == "video":
        assert visual.path
        still = MOTION_PRESETS["none"] if visual.motion is None else motion
        return (
            Layer(
                visual.path,
                "video",
                visual.fit,
                still,
                1.0,
                round(visual.start * 1000),
                visual.loop,
            ),
        )
    # procedural (and prompt, until a generative engine is configured)
    from reelforge.engines.base import VisualRequest

    if visual.type == "prompt" and "prompt-fallback" not in notes:
        notes.append(
            "prompt-fallback: prompt visuals were drawn by the procedural engine (no generative "
            "visual engine is configured); the prompt seeds the design"
        )
    engine = registry.get("visuals", "procedural")
    info = engine.info()
    engines["visuals"] = {"name": info.name, "version": info.version}
    folder = workdir / f"scene{index:03d}"
    folder.mkdir(parents=True, exist_ok=True)
    # Procedural art is soft (gradients, glows, blurred shapes): from 360p up it is drawn and
    # composed at half size and upscaled once with the finished clip (4x fewer pixels per frame).
    detail = SOFT_ART_DETAIL if min(width, height) >= SOFT_ART_MIN_SIDE else 1.0
    result = engine.generate(
        VisualRequest(
            width=_even(width * detail),
            height=_even(height * detail),
            duration_ms=duration_ms,
            style=visual.style or template.style_for(index),
            palette=tuple(template.palette),
            seed=sb.seed * 1009 + index,
            prompt=visual.prompt or scene_text,
        ),
        folder,
    )
    layers = []
    for k, layer in enumerate(result.layers):
        m = (
            motion
            if k == 0
            else _motion(layer.motion if layer.motion != "auto" else None, "drift-reverse")
        )
        layers.append(Layer(str(layer.path), "image", "cover", m, layer.opacity, detail=detail))
    return tuple(layers)


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def _check_languages(sb: Storyboard) -> None:
    """A language the user names must be one some voice speaks, even when a voice is given
    (detected languages need no check: detection only answers languages it knows)."""
    given = sorted({lang for lang in (sb.language, *(s.language for s in sb.scenes)) if lang})
    if not given:
        return
    from reelforge.text.language import primary_language
    from reelforge.voices import catalog

    known = {voice.language for voice in catalog()}
    for language in given:
        if primary_language(language) not in known:
            raise SpecError(
                f"unknown language {language!r}",
                hint=f"use a language code such as {', '.join(sorted(known))}, or leave it "
                "out to detect it from the text; `reelforge voices` lists every voice",
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
    if sb.music.enabled and sb.music.path:
        check_audio(Path(sb.music.path))


def _slots(
    durations_ms: list[int], fps: int, content_ms: list[int] | None = None, until_ms: int = 0
) -> list[tuple[int, int]]:
    """(start frame, frames) per slot, snapped from cumulative time so nothing drifts.

    ``content_ms[i]`` is what slot ``i`` must hold from its snapped start (lead-in and
    narration) and ``until_ms`` what the whole must last: rounding may move a boundary by half a
    frame, and a boundary that would cut narration moves one frame later instead.
    """
    out = []
    elapsed = 0
    a = 0
    for k, d in enumerate(durations_ms):
        elapsed += d
        b = round(elapsed * fps / 1000)
        if content_ms:  # narration is placed at a * 1000 // fps (whole ms) + its lead
            b = max(b, _ceil_frames(a * 1000 // fps + content_ms[k], fps))
        if k == len(durations_ms) - 1:
            b = max(b, _ceil_frames(until_ms, fps))
        out.append((a, b - a))
        a = b
    return out


def _ceil_frames(ms: int, fps: int) -> int:
    """The fewest frames lasting at least ``ms`` milliseconds."""
    return -(-ms * fps // 1000)


def _stretched(slot_ms: list[int], target_ms: int) -> list[int]:
    """Slots lengthened in proportion to fill ``target_ms`` (unchanged if already as long)."""
    total_ms = sum(slot_ms)
    if total_ms >= target_ms:
        return slot_ms
    extra = target_ms - total_ms
    out = [s + extra * s // total_ms for s in slot_ms]
    out[-1] += target_ms - sum(out)
    return out


def segment_frames(frames: int, fps: int, segment_seconds: float | None = None) -> int:
    """The length of the pieces a video of ``frames`` encodes in (0 = one piece): the given
    seconds, else the settings', else half the threshold for outputs longer than it."""
    from reelforge.settings import get_settings

    settings = get_settings()
    seconds = segment_seconds if segment_seconds is not None else settings.segment_seconds
    if seconds is None and frames / fps > settings.segment_threshold_s:
        seconds = settings.segment_threshold_s / 2
    if not seconds or seconds * fps >= frames:
        return 0
    return max(1, int(seconds * fps))


def _one_line_at_a_time(lines: list[CaptionLine], end_ms: int) -> list[CaptionLine]:
    """A line's hold after its last word ends where the next line starts, across scenes too
    (lines are grouped per scene, and the next scene may start speaking within the hold), and
    where the video ends."""
    out = list(lines)
    for k, line in enumerate(out):
        limit = out[k + 1].start_ms if k + 1 < len(out) else end_ms
        if line.end_ms > limit:
            last_word = line.words[-1].end_ms if line.words else line.start_ms
            out[k] = dataclasses.replace(line, end_ms=max(limit, last_word))
    return out


# --------------------------------------------------------------------------- plan


def _estimate_ms(scenes: list[SceneSpec], languages: list[str], sb: Storyboard) -> int:
    """A generous guess of the video's length before any voice has spoken (for the music).

    Speech runs ~20 characters a second in alphabetic scripts and ~8 in Chinese and Japanese;
    this assumes 15 and 6, plus each scene's lead-in, padding and transition.
    """
    total = 0.0
    for scene, language in zip(scenes, languages, strict=True):
        rate = 6.0 if language.split("-")[0] in ("ja", "zh", "yue") else 15.0
        speech = len(scene.narration.strip()) / rate / max(0.25, sb.speed)
        hint = scene.duration or (SILENT_SCENE_MS / 1000 if not scene.narration.strip() else 0)
        total += max(speech + 1.0 + sb.padding, hint)
    if sb.target_duration:
        total = max(total, sb.target_duration)
    return round(total * 1000)


def _music(
    sb: Storyboard, template: Any, duration_ms: int, workdir: Path
) -> tuple[list[AudioTrack], dict[str, str] | None]:
    """The music track (a given file, or composed by the procedural engine) and its engine."""
    if not sb.music.enabled:
        return [], None
    if sb.music.path:  # checked by _check_media
        track = AudioTrack(
            sb.music.path,
            "music",
            0,
            sb.music.volume_db,
            loop=True,
            fade_in_ms=500,
            fade_out_ms=2000,
        )
        return [track], {"name": "given", "version": Path(sb.music.path).name}
    from reelforge.engines.base import MusicRequest

    engine = registry.get("music", "procedural")
    mood = sb.music.mood or template.music_mood
    seed = sb.music.seed if sb.music.seed is not None else sb.seed
    result = engine.compose(MusicRequest(mood, duration_ms + 500, seed), workdir)
    info = engine.info()
    track = AudioTrack(str(result.audio), "music", 0, sb.music.volume_db, fade_out_ms=1500)
    return [track], {"name": info.name, "version": info.version, "mood": mood}


def plan(
    sb: Storyboard,
    workdir: Path,
    *,
    preview: bool = False,
    progress: Progress | None = None,
    cache_dir: Path | None = None,
    segment_seconds: float | None = None,
) -> Planned:
    """Resolve ``sb`` into a :class:`Planned` timeline, running voice, music and visuals.

    A preview is small, fast and measured once for loudness; ``segment_seconds`` (default: the
    settings) splits the encode of a long edit into pieces. Render reads both from the timeline.
    """
    from reelforge.spec.templates import get_template

    template = get_template(sb.template)
    workdir.mkdir(parents=True, exist_ok=True)
    cache = cache_dir or default_cache_dir()
    engines: dict[str, dict[str, str]] = {}
    timings: dict[str, float] = {}
    notes: list[str] = []

    scenes = list(sb.scenes)
    if not any(s.narration.strip() or s.title or s.duration for s in scenes):
        raise SpecError(
            "the storyboard has no narration, titles or durations: nothing to show",
            hint="give each scene a 'narration' text (or a 'duration' and a 'visual')",
        )
    if sb.resolution and preview:  # small and fast, but never larger than the full render
        resolution, fps = min(sb.resolution, PREVIEW_RESOLUTION), min(sb.fps, PREVIEW_FPS)
    else:
        resolution, fps = sb.resolution, sb.fps
    width, height = sb.model_copy(update={"resolution": resolution}).size()
    _check_languages(sb)
    languages = [_scene_language(sb, s) for s in scenes]
    main_language = languages[0] if languages else "en"

    _check_media(sb)

    # ---- music starts first, on its own thread, for a generous estimate of the length: it
    # then composes while the voices are synthesised (composed again only if too short)
    music_seconds = [0.0]
    music_ms = _estimate_ms(scenes, languages, sb)

    def compose_music(duration_ms: int) -> tuple[list[AudioTrack], dict[str, str] | None]:
        started = time.perf_counter()
        try:
            return _music(sb, template, duration_ms, workdir)
        finally:
            music_seconds[0] += time.perf_counter() - started

    music_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="music")
    music_job = music_pool.submit(compose_music, music_ms)

    # ---- voice: narration decides the timing
    t0 = time.perf_counter()
    speech: list[Speech | None] = []
    given_words: tuple[TimedWord, ...] = ()
    narration_tracks: list[AudioTrack] = []
    given_ms = 0  # the length of a given narration recording
    if sb.narration is not None:
        from reelforge.media.probe import check_audio

        given_ms = check_audio(Path(sb.narration.path)).duration_ms
        speech = [None] * len(scenes)
        narration_tracks.append(AudioTrack(sb.narration.path, "narration"))
        if sb.narration.words:
            from reelforge.captions.formats import read_captions
            from reelforge.captions.lines import words_from_lines

            given_words = words_from_lines(read_captions(Path(sb.narration.words)))
        engines["voice"] = {"name": "given", "version": Path(sb.narration.path).name}
    else:
        speech = _synthesize_all(scenes, languages, sb, cache, progress)
        for result in speech:
            if result is None:
                continue
            engine = registry.get("voice", result.engine).info()
            engines.setdefault("voice", {"name": engine.name, "version": engine.version})
            if engine.name not in engines["voice"]["name"].split("+"):
                engines["voice"]["name"] += "+" + engine.name
    timings["voice_s"] = time.perf_counter() - t0

    # ---- slots
    pad = round(sb.padding * 1000)
    slot_ms: list[int] = []
    content_ms: list[int] = []
    for i, (scene, sp) in enumerate(zip(scenes, speech, strict=True)):
        lead = FIRST_LEAD_MS if i == 0 else LEAD_MS
        # the transition into the next scene covers this slot's end: the voice ends before it
        leaving = 0
        if i + 1 < len(scenes):
            leaving = round(_transition(sb, scenes[i + 1], template)[1] * 1000)
        need = lead + sp.duration_ms + max(pad, leaving) if sp else 0
        hint = round(scene.duration * 1000) if scene.duration else 0
        if sp is None and not hint:
            hint = SILENT_SCENE_MS
        slot_ms.append(max(need, hint, MIN_SLOT_MS if sp else 1))
        # the voice and the transition after it must fit; padding may round away
        content_ms.append(lead + sp.duration_ms + leaving if sp else 0)
    if given_ms:  # a recording is never cut: the scenes stretch to hold it
        slot_ms = _stretched(slot_ms, given_ms + pad)
    if sb.target_duration:
        target = round(sb.target_duration * 1000)
        total_ms = sum(slot_ms)
        if total_ms < target:
            slot_ms = _stretched(slot_ms, target)
        elif total_ms > target * 1.05:
            notes.append(
                f"target_duration: the narration needs {total_ms / 1000:.1f} s, more than the "
                f"{sb.target_duration:g} s asked; shorten the script or raise 'speed'"
            )
    slots = _slots(slot_ms, fps, content_ms, given_ms + pad)
    total_frames = sum(n for _, n in slots)

    # ---- visuals and clips
    t0 = time.perf_counter()
    clips: list[Clip] = []
    title_font = template.title_font
    for i, (scene, (start, frames)) in enumerate(zip(scenes, slots, strict=True)):
        kind, seconds = _transition(sb, scene, template)
        t_frames = 0 if i == 0 else round(seconds * fps)
        if i > 0:
            t_frames = min(t_frames, slots[i - 1][1] // 2, frames // 2)
        visual = scene.visual or VisualSpec(type="procedural")
        clip_frames = frames + t_frames
        layers = _visual_layers(
            visual,
            i,
            sb,
            template,
            width,
            height,
            clip_frames * 1000 // fps,
            workdir,
            scene.narration or scene.title or sb.title,
            engines,
            notes,
        )
        texts: list[TextOverlay] = []
        # the video's own title opens the first scene; that scene's title follows it
        titles = [t for t in (sb.title if i == 0 else None, scene.title) if t]
        if len(titles) == 2 and titles[0].strip() == titles[1].strip():
            titles = titles[:1]
        if titles:
            next_t = 0
            if i + 1 < len(scenes):
                _, nxt = _transition(sb, scenes[i + 1], template)
                next_t = round(nxt * fps)
            vertical = height > width
            size = round(min(width, height) * (0.085 if vertical else 0.075))
            end = max(t_frames + 2, clip_frames - next_t)
            spans = [(t_frames, end)]
            if len(titles) == 2:
                middle = t_frames + max(1, (end - t_frames) * 2 // 5)
                spans = [(t_frames, middle), (middle, end)]
            for title, (first, last) in zip(titles, spans, strict=True):
                texts.append(
                    TextOverlay(
                        text=title,
                        font=title_font,
                        size_px=size,
                        color="#ffffff",
                        stroke_px=0,
                        box_color="#00000066",
                        position="upper-third"
                        if vertical
                        else "center"
                        if not speech[i]
                        else "upper-third",
                        start=first,
                        end=last,
                        animation="pop" if template.name == "childrens-story" else "fade-up",
                        language=languages[i],
                    )
                )
        clips.append(
            Clip(
                start=start - t_frames,
                frames=clip_frames,
                layers=layers,
                transition=Transition(kind if t_frames else "cut", t_frames),
                texts=tuple(texts),
                background=template.background,
                scene=i,
            )
        )
        if progress:
            progress("visuals", (i + 1) / len(scenes))
    timings["visuals_s"] = time.perf_counter() - t0

    # ---- narration placement and captions
    words: list[TimedWord] = []
    lines: list[CaptionLine] = []
    from reelforge.captions.lines import group_words

    style = _caption_style(sb, template, width, height, main_language)
    for i, sp in enumerate(speech):
        if sp is None:
            continue
        start_ms = slots[i][0] * 1000 // fps + (FIRST_LEAD_MS if i == 0 else LEAD_MS)
        narration_tracks.append(AudioTrack(str(sp.audio), "narration", start_ms))
        shifted = [TimedWord(w.text, w.start_ms + start_ms, w.end_ms + start_ms) for w in sp.words]
        words.extend(shifted)
        lines.extend(group_words(shifted, sp.language, style.max_words, style.max_chars))
    if sb.captions.file:  # used as given
        from reelforge.captions.formats import read_captions

        lines = list(read_captions(Path(sb.captions.file)))
    else:
        if given_words:
            lines = list(group_words(given_words, main_language, style.max_words, style.max_chars))
        lines = _one_line_at_a_time(lines, total_frames * 1000 // fps)

    # ---- music (composed on its own thread during the voice and visuals stages)
    music_tracks, music_engine = music_job.result()
    music_pool.shutdown()
    if music_ms < total_frames * 1000 // fps and music_engine and music_engine["name"] != "given":
        music_tracks, music_engine = compose_music(total_frames * 1000 // fps)
    if music_engine:
        engines["music"] = music_engine
    timings["music_s"] = music_seconds[0]
    if progress:
        progress("music", 1.0)

    # ---- watermark
    watermark = None
    if sb.watermark is not None:
        path = sb.watermark.path
        if sb.watermark.text:
            import cv2

            from reelforge.text.fonts import font_file
            from reelforge.text.sprites import render_watermark

            sprite = render_watermark(
                sb.watermark.text,
                font_file(None, main_language, bold=True),
                max(12, round(min(width, height) * 0.035)),
                1.0,
                main_language,
            )
            path = str(workdir / "watermark.png")
            cv2.imwrite(path, cv2.cvtColor(sprite, cv2.COLOR_RGBA2BGRA))
        assert path
        watermark = ImageOverlay(
            path, sb.watermark.position, sb.watermark.width, sb.watermark.opacity
        )

    enc = sb.encoder
    encoder = Encoder(
        preset=enc.preset, crf=enc.crf, audio_bitrate=enc.audio_bitrate, aac_coder=enc.aac_coder
    )
    if preview:
        encoder = Encoder(preset="ultrafast", crf=30, audio_bitrate="96k", aac_coder="fast")
    encoder = dataclasses.replace(
        encoder, segment_frames=segment_frames(total_frames, fps, segment_seconds)
    )
    timeline = Timeline(
        width=width,
        height=height,
        fps=fps,
        frames=total_frames,
        clips=tuple(clips),
        audio=tuple(narration_tracks + music_tracks),
        captions=tuple(lines),
        caption_style=style,
        burn_captions=sb.captions.enabled and sb.captions.burn,
        grade=sb.grade or template.grade,
        watermark=watermark,
        mix=Mix(duck=sb.music.duck, loudness_lufs=sb.loudness, loudness_passes=1 if preview else 2),
        encoder=encoder,
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
    scene_facts: list[dict[str, str | None]] = [
        {"language": lang, "voice": sp.voice if sp else None, "engine": sp.engine if sp else None}
        for lang, sp in zip(languages, speech, strict=True)
    ]
    return Planned(timeline, engines, timings, notes, scene_facts)
