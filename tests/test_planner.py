"""Planning: a lenient storyboard resolved into a strict timeline, checked in exact units.

The fake voice (tests/fakes.py) speaks with a known model (word length from letters, fixed gaps
and pauses), so every expected time here is computed from that model, independently of the
planner. Pictures are the procedural engine's, at the smallest resolution (256x144).
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from fakes import (  # noqa: F401  (fixtures)
    FakeMusic,
    FakeVoice,
    fake_music,
    fake_voice,
    fake_words,
    pause_after_ms,
    word_ms,
)

from reelforge.errors import SpecError
from reelforge.plan import FIRST_LEAD_MS, LEAD_MS, MIN_SLOT_MS, SILENT_SCENE_MS, Planned, plan
from reelforge.spec.model import Storyboard
from reelforge.spec.parse import build_storyboard, storyboard_from_text
from reelforge.spec.templates import get_template
from reelforge.timeline import Timeline

FAKE = "fake-adult-male"
pytestmark = pytest.mark.usefixtures("fake_voice")


def _board(scenes: list[Any], **fields: Any) -> Storyboard:
    data: dict[str, Any] = {"voice": FAKE, "resolution": 144, "music": "none", **fields}
    return build_storyboard({**data, "scenes": scenes})


def _plan(board: Storyboard, tmp_path: Path, **kwargs: Any) -> Planned:
    return plan(board, tmp_path / "work", cache_dir=tmp_path / "cache", **kwargs)


def spoken_ms(text: str, speed: float = 1.0) -> int:
    """How long the fake voice speaks ``text`` (its audio is trimmed: no pause after the end)."""
    words = fake_words(text)
    return sum(word_ms(w, speed) for w in words) + sum(pause_after_ms(w, speed) for w in words[:-1])


def slot_starts(timeline: Timeline) -> list[int]:
    """First frame of each scene's slot: after the transition into it."""
    return [clip.start + clip.transition.frames for clip in timeline.clips]


def snapped(durations_ms: list[int], fps: int) -> list[int]:
    """Slot start frames from cumulative milliseconds, plus the end: the no-drift rule."""
    out, elapsed = [0], 0
    for d in durations_ms:
        elapsed += d
        out.append(round(elapsed * fps / 1000))
    return out


SCENES = [
    "Fresh bread every morning, baked before the city wakes.",
    "Our coffee comes from one farm in the hills.",
    "Come early. The best tables go fast!",
]


# --------------------------------------------------------------------------- slots and frames


def test_scene_slots_follow_narration_plus_padding(tmp_path: Path) -> None:
    board = _board(SCENES, padding=0.5, transition="cut")
    timeline = _plan(board, tmp_path).timeline
    leads = [FIRST_LEAD_MS, LEAD_MS, LEAD_MS]
    expected_ms = [lead + spoken_ms(text) + 500 for lead, text in zip(leads, SCENES, strict=True)]
    bounds = snapped(expected_ms, timeline.fps)
    assert slot_starts(timeline) == bounds[:-1]
    assert timeline.frames == bounds[-1]
    lengths = [b - a for a, b in zip(bounds, bounds[1:], strict=False)]
    assert [c.frames for c in timeline.clips] == lengths
    # Each narration starts its lead after its slot's (frame-snapped) start.
    narration = [t for t in timeline.audio if t.role == "narration"]
    assert [t.start_ms for t in narration] == [
        bounds[i] * 1000 // timeline.fps + leads[i] for i in range(3)
    ]


def test_duration_hints_silent_scenes_and_minimum_slot(tmp_path: Path) -> None:
    board = _board(
        [
            {"narration": "Hello.", "duration": 4.0},  # the hint is longer than the speech
            {"narration": "Hi."},  # shorter than the minimum slot
            {"title": "Silence"},  # no narration, no hint: the default silent length
            {"title": "Held", "duration": 2.2},
        ],
        transition="cut",
    )
    timeline = _plan(board, tmp_path).timeline
    assert LEAD_MS + spoken_ms("Hi.") + 500 < MIN_SLOT_MS
    bounds = snapped([4000, MIN_SLOT_MS, SILENT_SCENE_MS, 2200], timeline.fps)
    assert slot_starts(timeline) == bounds[:-1]
    assert timeline.frames == bounds[-1]
    assert len(FakeVoice.calls) == 2  # silent scenes are not spoken


@pytest.mark.parametrize("fps", [24, 25, 30])
def test_frames_snap_cumulatively_without_drift(tmp_path: Path, fps: int) -> None:
    # 1.01 s is 24.24 / 25.25 / 30.3 frames: rounding each slot alone would drift by 5 frames
    # at 24 fps over 20 scenes; cumulative snapping stays within half a frame of exact time.
    scenes = [{"title": f"{i}", "duration": 1.01} for i in range(20)]
    timeline = _plan(_board(scenes, transition="cut", fps=fps), tmp_path).timeline
    starts = slot_starts(timeline)
    for i, start in enumerate(starts):
        assert abs(start - Fraction(i * 101 * fps, 100)) <= Fraction(1, 2)
    assert timeline.frames == round(20 * 1.01 * fps)
    assert sum(c.frames for c in timeline.clips) == timeline.frames


def test_transitions_overlap_the_previous_slot_by_their_duration(tmp_path: Path) -> None:
    scenes = [
        SCENES[0],
        {"narration": SCENES[1], "transition": {"kind": "wipe-left", "duration": 0.4}},
        {"narration": SCENES[2], "transition": "fade"},  # kind only: the default duration
    ]
    board = _board(scenes, transition={"kind": "crossfade", "duration": 0.8}, fps=25)
    timeline = _plan(board, tmp_path).timeline
    clips = timeline.clips
    assert [(c.transition.kind, c.transition.frames) for c in clips] == [
        ("cut", 0),
        ("wipe-left", 10),
        ("fade", 12),  # 0.4 s and 0.5 s at 25 fps
    ]
    assert clips[0].start == 0
    for previous, clip in zip(clips, clips[1:], strict=False):
        # The incoming clip starts `frames` before the previous one ends: they overlap by
        # exactly the transition, and the previous clip is not cut short.
        assert previous.start + previous.frames - clip.start == clip.transition.frames
    last = clips[-1]
    assert last.start + last.frames == timeline.frames  # the total is the sum of the slots
    # Narration of a scene starts after the transition into it is over.
    narration = [t for t in timeline.audio if t.role == "narration"]
    for clip, track in zip(clips, narration, strict=True):
        assert track.start_ms >= (clip.start + clip.transition.frames) * 1000 // timeline.fps


def test_narration_ends_before_the_transition_out_of_its_scene(tmp_path: Path) -> None:
    # a 1.2 s crossfade is longer than the 0.3 s padding: the slot grows so the voice is done
    # before the next scene starts to show
    board = _board(SCENES[:3], padding=0.3, transition={"kind": "crossfade", "duration": 1.2})
    timeline = _plan(board, tmp_path).timeline
    narration = [t for t in timeline.audio if t.role == "narration"]
    for i, (track, text) in enumerate(zip(narration, SCENES[:3], strict=True)):
        if i + 1 == len(timeline.clips):
            break
        leaving = timeline.clips[i + 1].start * 1000 / timeline.fps
        assert track.start_ms + spoken_ms(text) <= leaving


def test_long_transition_is_clamped_to_half_the_shorter_slot(tmp_path: Path) -> None:
    scenes = [{"title": "A", "duration": 1.0}, {"title": "B", "duration": 4.0}]
    board = _board(scenes, transition={"kind": "crossfade", "duration": 3.0}, fps=30)
    clips = _plan(board, tmp_path).timeline.clips
    assert clips[1].transition.frames == 15  # half of the 30-frame first slot
    assert clips[1].start == 15


# --------------------------------------------------------------------------- captions


@pytest.mark.parametrize("padding", [0.5, 0.0])
def test_captions_never_outrun_the_voice(tmp_path: Path, padding: float) -> None:
    board = _board(SCENES, padding=padding)
    timeline = _plan(board, tmp_path).timeline
    narration = [t for t in timeline.audio if t.role == "narration"]
    spoken = []  # (text, start, end, narration end) as the listener hears them
    for text, track in zip(SCENES, narration, strict=True):
        t = track.start_ms
        for word in fake_words(text):
            spoken.append((word, t, t + word_ms(word), track.start_ms + spoken_ms(text)))
            t += word_ms(word) + pause_after_ms(word)
    words = [w for line in timeline.captions for w in line.words]
    assert [w.text for w in words] == [s[0] for s in spoken]
    for word, (_, start, _end, narration_end) in zip(words, spoken, strict=True):
        assert word.start_ms >= start
        assert word.end_ms <= narration_end
    # The voice itself is never cut by frame snapping, even with no padding.
    ends = [*slot_starts(timeline)[1:], timeline.frames]
    for text, track, end in zip(SCENES, narration, ends, strict=True):
        assert track.start_ms + spoken_ms(text) <= end * 1000 / timeline.fps
    lines = timeline.captions
    for line in lines:
        assert line.start_ms == line.words[0].start_ms
        assert line.end_ms >= line.words[-1].end_ms
    for line, following in zip(lines, lines[1:], strict=False):
        assert line.end_ms <= following.start_ms, "two caption lines on screen at once"
    assert lines[-1].end_ms <= timeline.duration_ms


def test_caption_lines_are_short(tmp_path: Path) -> None:
    text = (
        "This is a rather long narration that keeps going, so the planner must break it into "
        "several short caption lines that a viewer can read at a glance while it plays."
    )
    timeline = _plan(_board([text], captions={"max_words": 5}), tmp_path).timeline
    assert len(timeline.captions) >= 5
    for line in timeline.captions:
        assert 1 <= len(line.words) <= 5
        assert len(line.text) <= 40


def test_captions_disabled_leaves_none(tmp_path: Path) -> None:
    timeline = _plan(_board(SCENES[:1], captions=False), tmp_path).timeline
    assert timeline.captions == () and not timeline.burn_captions


# --------------------------------------------------------------------------- language


def test_language_detected_per_scene(tmp_path: Path) -> None:
    scenes = [
        "The market opens at dawn and the whole street smells of fresh bread.",
        "Le marché ouvre à l'aube et toute la rue sent le pain frais du matin.",
        "يفتح السوق عند الفجر وتفوح من الشارع كله رائحة الخبز الطازج.",
        "बाज़ार सुबह खुलता है और पूरी गली में ताज़ी रोटी की ख़ुशबू फैल जाती है।",
        "市場は夜明けに開き、通り全体が焼きたてのパンの香りに包まれます。",
    ]
    timeline = _plan(_board(scenes), tmp_path).timeline
    # Scenes may be spoken in parallel: match each request to its scene by text.
    asked = {call.text: call.language for call in FakeVoice.calls}
    assert [asked[text] for text in scenes] == ["en", "fr", "ar", "hi", "ja"]
    assert timeline.metadata["languages"] == ["ar", "en", "fr", "hi", "ja"]
    assert timeline.language == "en"  # the first scene's
    rtl = {
        line.rtl for line in timeline.captions if any("\u0600" <= c <= "\u06ff" for c in line.text)
    }
    assert rtl == {True}


@pytest.mark.parametrize("where", ["storyboard", "scene"])
def test_unknown_language_is_a_spec_error_even_with_a_voice(tmp_path: Path, where: str) -> None:
    fields = {"language": "klingon"} if where == "storyboard" else {}
    scenes = [SCENES[0], {"narration": SCENES[1], "language": "xx" if where == "scene" else None}]
    with pytest.raises(SpecError, match="unknown language") as info:
        _plan(_board(scenes, **fields), tmp_path)
    assert "en" in info.value.hint and "detect" in info.value.hint
    assert FakeVoice.calls == []


def test_language_given_wins_over_detection(tmp_path: Path) -> None:
    scenes = [SCENES[0], {"narration": SCENES[1], "language": "de"}]
    _plan(_board(scenes, language="fr"), tmp_path)
    asked = {call.text: call.language for call in FakeVoice.calls}
    assert (asked[SCENES[0]], asked[SCENES[1]]) == ("fr", "de")


# --------------------------------------------------------------------------- length limits


def test_target_duration_spreads_the_extra_time(tmp_path: Path) -> None:
    board = _board(SCENES, target_duration=20, transition="cut")
    timeline = _plan(board, tmp_path).timeline
    assert timeline.frames == 20 * timeline.fps
    natural = [
        lead + spoken_ms(t) + 500
        for lead, t in zip([FIRST_LEAD_MS, LEAD_MS, LEAD_MS], SCENES, strict=True)
    ]
    starts = [*slot_starts(timeline), timeline.frames]
    slots = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    stretch = 20_000 / sum(natural)
    for frames, ms in zip(slots, natural, strict=True):
        assert abs(frames - ms * stretch * timeline.fps / 1000) <= 1.5  # in proportion


def test_target_duration_never_cuts_narration(tmp_path: Path) -> None:
    planned = _plan(_board(SCENES, target_duration=2), tmp_path)
    timeline = planned.timeline
    last = [t for t in timeline.audio if t.role == "narration"][-1]
    assert timeline.duration_ms >= last.start_ms + spoken_ms(SCENES[-1])
    assert any(note.startswith("target_duration") for note in planned.notes)


def test_max_scenes_merges_script_paragraphs(tmp_path: Path) -> None:
    text = "\n\n".join(SCENES + ["A fourth paragraph.", "And a fifth one, to close."])
    board = storyboard_from_text(text, max_scenes=2, voice=FAKE, resolution=144, music="none")
    timeline = _plan(board, tmp_path).timeline
    assert len(timeline.clips) == 2
    assert len(FakeVoice.calls) == 2
    heard = [w.text for line in timeline.captions for w in line.words]  # in scene order
    assert heard == fake_words(" ".join(SCENES) + " A fourth paragraph. And a fifth one, to close.")


def test_max_scenes_merges_storyboard_scenes(tmp_path: Path) -> None:
    scenes = [
        {"narration": SCENES[0], "title": "Bread", "visual": "bokeh"},
        {"narration": SCENES[1], "duration": 6},
        {"narration": SCENES[2], "visual": "waves"},
    ]
    board = _board(scenes, max_scenes=2)
    assert len(board.scenes) == 2
    assert board.scenes[0].title == "Bread"
    timeline = _plan(board, tmp_path).timeline
    assert len(timeline.clips) == 2
    assert len(FakeVoice.calls) == 2
    heard = [w.text for line in timeline.captions for w in line.words]  # in scene order
    assert heard == fake_words(" ".join(SCENES))


# --------------------------------------------------------------------------- given material


def test_explicit_caption_file_is_used_as_given(tmp_path: Path) -> None:
    srt = tmp_path / "given.srt"
    srt.write_text(
        "1\n00:00:00,500 --> 00:00:01,750\nWritten by hand\n\n"
        "2\n00:00:02,000 --> 00:00:03,250\nwith exact times\n",
        encoding="utf-8",
    )
    timeline = _plan(_board(SCENES[:2], captions={"file": str(srt)}), tmp_path).timeline
    got = [(line.start_ms, line.end_ms, line.text) for line in timeline.captions]
    assert got == [(500, 1750, "Written by hand"), (2000, 3250, "with exact times")]


def test_narration_file_and_word_timings_are_used_as_given(tmp_path: Path, tmp_media: Any) -> None:
    recording = tmp_media.make_tone("voice.wav", seconds=3)
    words = tmp_path / "words.json"
    given = [("Hand", 0.2, 0.6), ("made", 0.7, 1.1), ("narration", 1.3, 2.0), ("here.", 2.1, 2.6)]
    words.write_text(json.dumps([{"word": w, "start": a, "end": b} for w, a, b in given]))
    board = _board(
        [{"title": "One", "duration": 2}, {"title": "Two", "duration": 2}],
        narration={"path": str(recording), "words": str(words)},
        transition="cut",
    )
    planned = _plan(board, tmp_path)
    timeline = planned.timeline
    assert FakeVoice.calls == []  # nothing synthesised
    narration = [t for t in timeline.audio if t.role == "narration"]
    assert [(t.path, t.start_ms) for t in narration] == [(str(recording), 0)]
    got = [(w.text, w.start_ms, w.end_ms) for line in timeline.captions for w in line.words]
    assert got == [(w, round(a * 1000), round(b * 1000)) for w, a, b in given]
    assert timeline.frames == 4 * timeline.fps
    assert planned.engines["voice"]["name"] == "given"


def test_a_given_narration_longer_than_the_scenes_is_not_cut(
    tmp_path: Path, tmp_media: Any
) -> None:
    recording = tmp_media.make_tone("voice.wav", seconds=5)
    board = _board(
        [{"title": "One", "duration": 1}, {"title": "Two", "duration": 1}],
        narration={"path": str(recording)},
        transition="cut",
    )
    timeline = _plan(board, tmp_path).timeline
    assert timeline.duration_ms >= 5000


# --------------------------------------------------------------------------- resolution


@pytest.mark.parametrize(
    ("fmt", "size"), [("16:9", (256, 144)), ("9:16", (144, 256)), ("1:1", (144, 144))]
)
def test_format_sets_the_frame_size(tmp_path: Path, fmt: str, size: tuple[int, int]) -> None:
    timeline = _plan(_board(SCENES[:1], format=fmt), tmp_path).timeline
    assert (timeline.width, timeline.height) == size


def test_preview_is_small_and_fast_but_never_larger_than_asked(tmp_path: Path) -> None:
    timeline = _plan(_board(SCENES[:1], resolution=1080, fps=30), tmp_path, preview=True).timeline
    assert (timeline.width, timeline.height, timeline.fps) == (640, 360, 15)
    assert timeline.encoder.preset == "ultrafast"
    small = _plan(_board(SCENES[:1], resolution=180), tmp_path, preview=True).timeline
    assert (small.width, small.height) == (320, 180)


@pytest.mark.usefixtures("fake_music")
def test_template_sets_defaults_and_the_storyboard_wins(tmp_path: Path) -> None:
    template = get_template("restaurant")
    board = _board(SCENES[:2], template="restaurant", music={"enabled": True})
    planned = _plan(board, tmp_path)
    timeline = planned.timeline
    assert timeline.clips[1].transition.kind == template.transition
    assert timeline.grade == template.grade
    assert timeline.caption_style.name == template.caption_style
    assert [call.mood for call in FakeMusic.calls] == [template.music_mood]
    assert FakeMusic.calls[0].duration_ms >= timeline.duration_ms
    assert [t.role for t in timeline.audio] == ["narration", "narration", "music"]

    FakeMusic.calls.clear()
    board = _board(
        SCENES[:2],
        template="restaurant",
        music="calm",
        transition="wipe-up",
        grade="mono",
        captions="plain",
    )
    timeline = _plan(board, tmp_path).timeline
    assert timeline.clips[1].transition.kind == "wipe-up"
    assert (timeline.grade, timeline.caption_style.name) == ("mono", "plain")
    assert [call.mood for call in FakeMusic.calls] == ["calm"]


def test_speech_is_cached_by_text_voice_and_speed(tmp_path: Path) -> None:
    first = _plan(_board(SCENES[:2]), tmp_path).timeline
    assert len(FakeVoice.calls) == 2
    again = _plan(_board(SCENES[:2]), tmp_path).timeline
    assert len(FakeVoice.calls) == 2  # served from the cache
    assert again.audio == first.audio
    _plan(_board(SCENES[:2], speed=1.25), tmp_path)
    assert len(FakeVoice.calls) == 4
    assert {call.speed for call in FakeVoice.calls[2:]} == {1.25}


def test_timeline_round_trips_through_json(tmp_path: Path) -> None:
    timeline = _plan(_board(SCENES, title="Round trip"), tmp_path).timeline
    assert Timeline.from_json(timeline.to_json()) == timeline


def test_nothing_to_show_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="nothing to show"):
        _plan(_board([{"narration": "  "}]), tmp_path)


def test_unknown_voice_is_a_spec_error_naming_close_ids(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="unknown voice 'fake-adult-mal'") as info:
        _plan(_board(SCENES[:1], voice="fake-adult-mal"), tmp_path)
    assert "fake-adult-male" in info.value.hint


def test_given_word_timings_never_hold_a_line_past_the_end(tmp_path: Path, tmp_media: Any) -> None:
    recording = tmp_media.make_tone("voice.wav", seconds=3)
    words = tmp_path / "words.json"
    given = [("Right", 2.3, 2.6), ("at the end.", 2.65, 2.95)]
    words.write_text(json.dumps([{"word": w, "start": a, "end": b} for w, a, b in given]))
    board = _board(
        [{"title": "One", "duration": 1}],
        narration={"path": str(recording), "words": str(words)},
        padding=0,
    )
    timeline = _plan(board, tmp_path).timeline
    assert timeline.captions[-1].words[-1].end_ms == 2950
    assert timeline.captions[-1].end_ms <= timeline.duration_ms


def test_template_styles_take_turns_over_the_scenes(tmp_path: Path) -> None:
    template = get_template("restaurant")
    timeline = _plan(_board(SCENES[:3], template="restaurant"), tmp_path).timeline
    styles = [Path(clip.layers[0].path).name.split("-")[0] for clip in timeline.clips]
    assert styles == [template.style_for(i) for i in range(3)]
    assert len(set(styles)) == 3  # the main style, then its accents
    # a scene that names its style keeps it
    board = _board([{"narration": SCENES[0], "visual": {"style": "waves"}}], template="restaurant")
    (clip,) = _plan(board, tmp_path / "named").timeline.clips
    assert Path(clip.layers[0].path).name.startswith("waves-")


def test_planned_says_which_voice_spoke_each_scene(tmp_path: Path) -> None:
    board = _board([SCENES[0], {"title": "Silent card", "duration": 2}])
    planned = _plan(board, tmp_path)
    spoken = [{k: s[k] for k in ("language", "voice", "engine")} for s in planned.scenes]
    assert spoken == [
        {"language": "en", "voice": FAKE, "engine": planned.scenes[0]["engine"]},
        {"language": "en", "voice": None, "engine": None},
    ]
    assert planned.scenes[0]["engine"]
    # and what each picture shows: the narration's bread is drawn; a bare title card is not
    assert "🍞" in str(planned.scenes[0]["picture"])
    assert str(planned.scenes[1]["picture"]).startswith("procedural")
    # each stage's wall time and CPU time (what a loaded machine does not inflate)
    for stage in ("voice", "visuals"):
        assert planned.timings[f"{stage}_cpu_s"] >= 0
        assert planned.timings[f"{stage}_s"] >= 0


def test_voice_threads_run_under_the_callers_cancellation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job's Cancellation (a context variable) must reach ffmpeg started from voice threads."""
    from reelforge.media.ffmpeg import Cancellation, current_cancellation
    from reelforge.plan import narration

    seen: list[object] = []

    def record(*args: object) -> None:
        seen.append(current_cancellation())

    monkeypatch.setattr(narration, "speech_for", record)
    board = _board(["One.", "Two.", "Three."])
    with Cancellation() as control:
        narration.synthesize_all(board, ["en"] * 3, tmp_path, None)
    assert seen == [control, control, control]
