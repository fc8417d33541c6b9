"""Timing: the output's frame rate and size, each scene's slot, transitions and segments.

Each scene has a *slot*: lead-in + its narration + padding (or its duration hint, whichever is
longer), snapped to frames from cumulative time so rounding never drifts. A transition into
scene ``i`` occupies the last frames of slot ``i-1``, so narration (which starts at its slot)
never plays under a transition and the total is the sum of the slots.
"""

from __future__ import annotations

from collections.abc import Sequence

from reelforge.errors import SpecError
from reelforge.spec.model import SceneSpec, Storyboard
from reelforge.spec.templates import Template
from reelforge.text.language import primary_language
from reelforge.timeline import TRANSITIONS

LEAD_MS = 250  # narration starts this long after its scene starts
FIRST_LEAD_MS = 400
MIN_SLOT_MS = 1500
SILENT_SCENE_MS = 3000
PREVIEW_RESOLUTION = 360
PREVIEW_FPS = 15

Slot = tuple[int, int]  # (first frame, frames)


def output_size(sb: Storyboard, preview: bool) -> tuple[int, int, int]:
    """(width, height, fps): a preview is small and fast, but never larger than the full
    render."""
    resolution, fps = sb.resolution, sb.fps
    if sb.resolution and preview:
        resolution, fps = min(sb.resolution, PREVIEW_RESOLUTION), min(sb.fps, PREVIEW_FPS)
    width, height = sb.model_copy(update={"resolution": resolution}).size()
    return width, height, fps


def lead_ms(index: int) -> int:
    """How long after its slot starts scene ``index``'s narration starts."""
    return FIRST_LEAD_MS if index == 0 else LEAD_MS


def transition(sb: Storyboard, scene: SceneSpec, template: Template) -> tuple[str, float]:
    """(kind, seconds) of the transition into ``scene``."""
    spec = scene.transition or sb.transition
    kind = spec.kind if spec else template.transition
    duration = spec.duration if spec else template.transition_duration
    if kind not in TRANSITIONS:
        raise SpecError(
            f"unknown transition {kind!r}", hint=f"use one of: {', '.join(TRANSITIONS)}"
        )
    return kind, (0.0 if kind == "cut" else duration)


def estimate_ms(scenes: Sequence[SceneSpec], languages: Sequence[str], sb: Storyboard) -> int:
    """A generous guess of the video's length before any voice has spoken (for the music).

    Speech runs ~20 characters a second in alphabetic scripts and ~8 in Chinese and Japanese;
    this assumes 15 and 6, plus each scene's lead-in, padding and transition.
    """
    total = 0.0
    for scene, language in zip(scenes, languages, strict=True):
        rate = 6.0 if primary_language(language) in ("ja", "zh", "yue") else 15.0
        speech = len(scene.narration.strip()) / rate / max(0.25, sb.speed)
        hint = scene.duration or (SILENT_SCENE_MS / 1000 if not scene.narration.strip() else 0)
        total += max(speech + 1.0 + sb.padding, hint)
    if sb.target_duration:
        total = max(total, sb.target_duration)
    return round(total * 1000)


def slot_lengths(
    sb: Storyboard, template: Template, spoken_ms: Sequence[int | None]
) -> tuple[list[int], list[int]]:
    """(slot, content) milliseconds per scene, from the length of its narration (None when
    silent): the slot holds lead-in, voice and padding or the duration hint; the content is
    what must fit from the slot's start (the voice and the transition after it)."""
    scenes = sb.scenes
    pad = round(sb.padding * 1000)
    slot_ms: list[int] = []
    content_ms: list[int] = []
    for i, (scene, spoken) in enumerate(zip(scenes, spoken_ms, strict=True)):
        # the transition into the next scene covers this slot's end: the voice ends before it
        leaving = 0
        if i + 1 < len(scenes):
            leaving = round(transition(sb, scenes[i + 1], template)[1] * 1000)
        hint = round(scene.duration * 1000) if scene.duration else 0
        if spoken is None:
            slot_ms.append(max(hint or SILENT_SCENE_MS, 1))
            content_ms.append(0)
            continue
        need = lead_ms(i) + spoken + max(pad, leaving)
        slot_ms.append(max(need, hint, MIN_SLOT_MS))
        # padding may round away; the voice and the transition after it may not
        content_ms.append(lead_ms(i) + spoken + leaving)
    return slot_ms, content_ms


def fitted(sb: Storyboard, slot_ms: list[int], given_ms: int, notes: list[str]) -> list[int]:
    """Slots stretched to hold a given recording (never cut) and to reach the target duration;
    a narration longer than the target gets a note."""
    if given_ms:
        slot_ms = stretched(slot_ms, given_ms + round(sb.padding * 1000))
    if not sb.target_duration:
        return slot_ms
    target = round(sb.target_duration * 1000)
    total_ms = sum(slot_ms)
    if total_ms < target:
        return stretched(slot_ms, target)
    if total_ms > target * 1.05:
        notes.append(
            f"target_duration: the narration needs {total_ms / 1000:.1f} s, more than the "
            f"{sb.target_duration:g} s asked; shorten the script or raise 'speed'"
        )
    return slot_ms


def slots(
    durations_ms: Sequence[int],
    fps: int,
    content_ms: Sequence[int] | None = None,
    until_ms: int = 0,
) -> list[Slot]:
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
            b = max(b, ceil_frames(a * 1000 // fps + content_ms[k], fps))
        if k == len(durations_ms) - 1:
            b = max(b, ceil_frames(until_ms, fps))
        out.append((a, b - a))
        a = b
    return out


def ceil_frames(ms: int, fps: int) -> int:
    """The fewest frames lasting at least ``ms`` milliseconds."""
    return -(-ms * fps // 1000)


def stretched(slot_ms: list[int], target_ms: int) -> list[int]:
    """Slots lengthened in proportion to fill ``target_ms`` (unchanged if already as long)."""
    total_ms = sum(slot_ms)
    if total_ms >= target_ms:
        return slot_ms
    extra = target_ms - total_ms
    out = [s + extra * s // total_ms for s in slot_ms]
    out[-1] += target_ms - sum(out)
    return out


def transition_frames(
    sb: Storyboard, template: Template, all_slots: Sequence[Slot], index: int, fps: int
) -> tuple[str, int]:
    """(kind, frames) of the transition into scene ``index``: at most half of either slot."""
    kind, seconds = transition(sb, sb.scenes[index], template)
    if index == 0:
        return kind, 0
    frames = round(seconds * fps)
    return kind, min(frames, all_slots[index - 1][1] // 2, all_slots[index][1] // 2)


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
