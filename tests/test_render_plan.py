"""Golden tests of the compiled render plan (ffmpeg argv and filtergraphs, as text) and of a
planned timeline (JSON).

Each render case is a small hand-built timeline (no engine runs) compiled by
``reelforge.render.plan.compile_plan``; the plan is written out one option a line with each
filtergraph split at ``;`` and temporary paths replaced by ``<tmp>``, then compared with
``tests/golden/<case>.txt``. The timeline golden is a storyboard planned with the fake voice and
music (tests/fakes.py), compared with ``tests/golden/planned_timeline.json``. A change shows as a
readable diff. When the change is intended, regenerate the goldens and review the diff before
committing:

    .venv/bin/python scripts/update_goldens.py
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

import pytest
from fakes import fake_music_registered, fake_voice_registered

from reelforge.plan import plan
from reelforge.render.plan import RenderPlan, compile_plan
from reelforge.spec.parse import build_storyboard
from reelforge.timeline import (
    MOTION_PRESETS,
    AudioTrack,
    CaptionLine,
    CaptionStyle,
    Clip,
    Encoder,
    ImageOverlay,
    Layer,
    Mix,
    TextOverlay,
    TimedWord,
    Timeline,
    Transition,
)

GOLDEN_DIR = Path(__file__).parent / "golden"
REGENERATE = ".venv/bin/python scripts/update_goldens.py"


# --------------------------------------------------------------------------- the cases


def _words(text: str, start_ms: int, step_ms: int = 300) -> tuple[TimedWord, ...]:
    return tuple(
        TimedWord(w, start_ms + k * step_ms, start_ms + k * step_ms + step_ms - 60)
        for k, w in enumerate(text.split())
    )


def _line(text: str, start_ms: int) -> CaptionLine:
    words = _words(text, start_ms)
    return CaptionLine(start_ms, words[-1].end_ms + 200, text, words)


def _clip(media: Path, index: int, start: int, frames: int, transition: Transition) -> Clip:
    motion = MOTION_PRESETS[("zoom-in", "pan-left", "drift")[index % 3]]
    return Clip(
        start,
        frames,
        (Layer(str(media / f"scene{index}.png"), "image", "cover", motion),),
        transition,
        scene=index,
    )


def landscape_music_captions(media: Path) -> Timeline:
    """16:9, three scenes with crossfades, two narrations, ducked music, burned captions."""
    fade = Transition("crossfade", 15)
    clips = (
        _clip(media, 0, 0, 90, Transition()),
        _clip(media, 1, 75, 105, fade),
        _clip(media, 2, 165, 75, fade),
    )
    audio = (
        AudioTrack(str(media / "voice0.wav"), "narration", 400),
        AudioTrack(str(media / "voice1.wav"), "narration", 3250),
        AudioTrack(str(media / "music.wav"), "music", 0, -18.0, fade_out_ms=1500),
    )
    captions = (_line("Fresh bread every morning", 400), _line("baked before dawn.", 3250))
    timeline = Timeline(
        width=640,
        height=360,
        fps=30,
        frames=240,
        clips=clips,
        audio=audio,
        captions=captions,
        caption_style=CaptionStyle(size_px=22, margin_v_px=32, margin_h_px=38),
        grade="cinematic",
        watermark=ImageOverlay(str(media / "logo.png")),
        language="en",
        title="Golden",
    )
    return timeline


def portrait_no_music(media: Path) -> Timeline:
    """9:16 preview size, narration only, captions as sidecars only (nothing burned)."""
    clips = (
        _clip(media, 0, 0, 45, Transition()),
        Clip(
            38,
            52,
            (
                Layer(
                    str(media / "clip.mp4"),
                    "video",
                    "blur",
                    MOTION_PRESETS["none"],
                    video_start_ms=1500,
                ),
            ),
            Transition("slide-up", 7),
            (TextOverlay("Tonight", "DejaVu Sans", 30, start=7, end=52),),
            "#101820",
            1,
        ),
    )
    audio = (AudioTrack(str(media / "voice0.wav"), "narration", 400),)
    timeline = Timeline(
        width=360,
        height=640,
        fps=15,
        frames=90,
        clips=clips,
        audio=audio,
        captions=(_line("Doors open at eight", 400),),
        burn_captions=False,
        mix=Mix(loudness_lufs=None),
        encoder=Encoder(preset="ultrafast", crf=30, audio_bitrate="96k"),
    )
    return timeline


def square_silent(media: Path) -> Timeline:
    """1:1, no audio track at all (a silent stereo track is synthesised), no captions."""
    clips = (_clip(media, 0, 0, 60, Transition()),)
    return Timeline(width=480, height=480, fps=24, frames=60, clips=clips)


def segmented_long_edit(media: Path) -> Timeline:
    """16:9 split into 2-second segments joined by stream copy; looped music file, captions."""
    fade = Transition("fade", 12)
    clips = (
        _clip(media, 0, 0, 75, Transition()),
        _clip(media, 1, 63, 87, fade),
    )
    audio = (
        AudioTrack(str(media / "narration.wav"), "narration"),
        AudioTrack(
            str(media / "song.mp3"), "music", 0, -20.0, loop=True, fade_in_ms=500, fade_out_ms=2000
        ),
    )
    timeline = Timeline(
        width=640,
        height=360,
        fps=30,
        frames=150,
        clips=clips,
        audio=audio,
        captions=(_line("One long edit", 300), _line("in two second parts", 2600)),
        caption_style=CaptionStyle(name="karaoke", size_px=22, margin_v_px=32),
        mix=Mix(duck=False),
        encoder=Encoder(segment_frames=60),  # 2 seconds
    )
    return timeline


CASES: dict[str, Callable[[Path], Timeline]] = {
    "landscape_music_captions": landscape_music_captions,
    "portrait_no_music": portrait_no_music,
    "square_silent": square_silent,
    "segmented_long_edit": segmented_long_edit,
}


# --------------------------------------------------------------------------- plan as text


_FLAGS = frozenset({"-an", "-vn", "-sn", "-y", "-n", "-nostdin", "-hide_banner"})


def _args(args: tuple[str, ...] | list[str], replace: Callable[[str], str]) -> list[str]:
    """One option and its value a line, filtergraphs one chain a line, the output last."""
    lines: list[str] = []
    args = [replace(a) for a in args]
    k = 0
    while k < len(args) - 1:
        option = args[k]
        if option in _FLAGS or not option.startswith("-"):
            lines.append(option)
            k += 1
            continue
        value = args[k + 1]
        if option in ("-filter_complex", "-vf", "-af"):
            lines.append(option)
            lines += ["  " + chain for chain in value.split(";")]
        else:
            lines.append(f"{option} {value}")
        k += 2
    lines += args[k:]
    return ["  " + line for line in lines]


def plan_text(plan: RenderPlan, tmp: Path, note: str = "") -> str:
    """The whole plan, one ffmpeg argument per line, with ``tmp`` written as ``<tmp>``."""

    def replace(text: str) -> str:
        return text.replace(str(tmp), "<tmp>")

    lines = [
        f"# {note}" if note else "# render plan",
        f"# regenerate with: {REGENERATE}",
        replace(plan.to_text().splitlines()[0]),
        f"output {replace(plan.output)}",
        f"loudness target {plan.loudness_target} LUFS, true peak {plan.true_peak_db} dBFS",
    ]
    for path in sorted(plan.files):
        text = plan.files[path]
        if path.endswith(".ass"):  # the captions module's output: its size is enough here
            lines.append(f"file {replace(path)}: {len(text.splitlines())} lines")
        else:
            lines.append(f"file {replace(path)}:")
            lines += ["  | " + replace(line) for line in text.splitlines()]
    lines.append("audio pre-mix: ffmpeg")
    lines += _args(plan.audio_args, replace)
    for segment in plan.segments:
        lines.append(
            f"segment frames [{segment.start}, {segment.end}) -> {replace(segment.output)}: ffmpeg"
        )
        lines += _args(segment.args, replace)
    if plan.join_args:
        lines.append("join: ffmpeg")
        lines += _args(plan.join_args, replace)
    return "\n".join(lines) + "\n"


def compiled_text(name: str, tmp: Path) -> str:
    """Compile case ``name`` with its media under ``tmp/media`` and work folder ``tmp/work``."""
    timeline = CASES[name](tmp / "media")
    plan = compile_plan(timeline, tmp / "out" / "video.mp4", tmp / "work")
    return plan_text(plan, tmp, (CASES[name].__doc__ or name).strip())


PLANNED_STORYBOARD = {
    "title": "Golden table",
    "template": "restaurant",
    "format": "9:16",
    "resolution": 180,
    "voice": "fake-adult-male",
    "watermark": "El Bahia",
    "scenes": [
        {"title": "A table", "narration": "Step through our door and leave the city behind."},
        {"narration": "Every Friday, couscous rolled by hand.", "transition": "wipe-up"},
        {
            "title": "Book now",
            "narration": "Open every day. Call us!",
            "visual": "bokeh",
            "duration": 4,
        },
    ],
}


def planned_timeline_text(tmp: Path) -> str:
    """A 9:16 restaurant storyboard planned with the fake voice and music, as timeline JSON."""
    with fake_voice_registered(), fake_music_registered():
        board = build_storyboard(PLANNED_STORYBOARD)
        timeline = plan(board, tmp / "work", cache_dir=tmp / "cache").timeline
    return timeline.to_json(indent=1).replace(str(tmp), "<tmp>") + "\n"


# Every golden file and what writes it (scripts/update_goldens.py uses this too).
GOLDENS: dict[str, Callable[[Path], str]] = {
    **{f"{name}.txt": (lambda tmp, name=name: compiled_text(name, tmp)) for name in CASES},
    "planned_timeline.json": planned_timeline_text,
}


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", list(GOLDENS))
def test_matches_golden(name: str, tmp_path: Path) -> None:
    golden = GOLDEN_DIR / name
    got = GOLDENS[name](tmp_path)
    assert golden.is_file(), f"no golden file {golden}: create it with `{REGENERATE}`"
    expected = golden.read_text(encoding="utf-8")
    if got != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                got.splitlines(keepends=True),
                f"{golden.name} (golden)",
                f"{golden.name} (compiled now)",
            )
        )
        pytest.fail(
            f"{name!r} differs from the golden file {golden}:\n{diff}\n"
            f"If this change is intended, regenerate the goldens with `{REGENERATE}` and "
            "review `git diff tests/golden` before committing.",
            pytrace=False,
        )


@pytest.mark.parametrize("name", list(CASES))
def test_plan_text_does_not_depend_on_the_temporary_folder(name: str, tmp_path: Path) -> None:
    assert compiled_text(name, tmp_path / "a") == compiled_text(name, tmp_path / "b b")


def test_compiling_is_pure(tmp_path: Path) -> None:
    """Compiling writes nothing: files to write are data in the plan."""
    compiled_text("segmented_long_edit", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_plan_facts(tmp_path: Path) -> None:
    """Facts the goldens hold, stated once in words so a regenerated golden cannot hide them."""
    timeline = landscape_music_captions(tmp_path / "media")
    plan = compile_plan(timeline, tmp_path / "v.mp4", tmp_path / "w")
    (segment,) = plan.segments
    args = list(segment.args)
    # no -frames:v: the compositor writes exactly the timeline's frames, and -frames:v would
    # end the mux before the audio encoder flushes (the audio would end ~0.1 s early)
    assert "-frames:v" not in args
    assert args[args.index("-movflags") + 1] == "+faststart"
    assert args[args.index("-c:v") + 1] == "libx264" and args[args.index("-c:a") + 1] == "aac"
    assert args[args.index("-s") + 1] == "640x360" and args[args.index("-r") + 1] == "30"
    graph = args[args.index("-filter_complex") + 1]
    assert "ass=filename=" in graph and "shaping=complex" in graph
    audio_graph = plan.audio_args[plan.audio_args.index("-filter_complex") + 1]
    assert "sidechaincompress" in audio_graph  # music ducked under the narration
    assert "adelay=400:all=1" in audio_graph and "adelay=3250:all=1" in audio_graph
    assert f"atrim=end={timeline.frames / timeline.fps:.6f}" in audio_graph

    timeline = segmented_long_edit(tmp_path / "media")
    plan = compile_plan(timeline, tmp_path / "v.mp4", tmp_path / "w")
    assert [(s.start, s.end) for s in plan.segments] == [(0, 60), (60, 120), (120, 150)]
    assert plan.join_args[plan.join_args.index("-c:v") + 1] == "copy"
