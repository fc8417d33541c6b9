"""Podcasts: dialogue parsing with clear errors, layouts, and on every turn the speaker's mouth
moves while the listener's stays closed (measured on the decoded video)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from talking_measure import decode_frames, mouth_interior

import reelforge
from reelforge.errors import SpecError
from reelforge.talking.cast import _look, character
from reelforge.talking.podcast import (
    BARS,
    PodcastStage,
    dialogue_from_fields,
    panels,
    parse_dialogue,
)

EPISODE = """# Pilot
HOST: Welcome back to the show.
GUEST: Thanks for having me here.
HOST: So, where do we start?
GUEST: With a short script
and a good voice.
"""


def test_dialogue_lines_turns_and_errors() -> None:
    board = parse_dialogue(EPISODE)
    assert board.title == "Pilot"
    assert [s.label for s in board.speakers] == ["HOST", "GUEST"]
    assert [t.speaker for t in board.turns] == [0, 1, 0, 1]
    assert board.turns[3].text == "With a short script and a good voice."
    with pytest.raises(SpecError, match="no speaker"):
        parse_dialogue("Hello there.\nHOST: hi")
    with pytest.raises(SpecError, match="empty"):
        parse_dialogue("HOST: hi\nGUEST:   ")
    with pytest.raises(SpecError, match="unknown speaker 'GUEST'"):
        dialogue_from_fields(
            {"dialogue": "HOST: hi\nGUEST: hello", "speakers": [{"label": "HOST"}]}
        )
    described = dialogue_from_fields(
        {
            "turns": [{"speaker": "ana", "text": "Hi."}, {"speaker": "Ben", "text": "Hey."}],
            "speakers": [
                {"label": "ANA", "name": "Ana Ruiz", "role": "Host", "character": "nadia"},
                {"label": "BEN", "name": "Ben Ode", "role": "Chef", "character": "omar"},
            ],
        }
    )
    assert [(s.name, s.role, s.character) for s in described.speakers] == [
        ("Ana Ruiz", "Host", "nadia"),
        ("Ben Ode", "Chef", "omar"),
    ]


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920), (1080, 1080)])
@pytest.mark.parametrize(
    "layout", ["split", "60-40", "host-guest", "pip", "interview", "round-table"]
)
def test_layouts_fill_the_frame(layout: str, size: tuple[int, int]) -> None:
    for active in (0, 1):
        boxes = panels(layout, size, 2, active)
        shown = [b for b in boxes if b is not None]
        assert shown, layout
        for x, y, w, h in shown:
            assert x >= 0 and y >= 0 and x + w <= size[0] and y + h <= size[1]
        if layout in ("split", "60-40", "host-guest", "round-table"):
            assert sum(w * h for _, _, w, h in shown) == size[0] * size[1]
        if layout in ("pip", "interview"):
            assert boxes[active] == (0, 0, *size)  # the speaker fills the frame
        if layout == "interview":
            assert boxes[1 - active] is None
        if layout == "60-40":  # the speaker's panel is 60 % of the frame, swapping with turns
            x, y, w, h = cast_box(boxes[active])
            assert abs(w * h / (size[0] * size[1]) - 0.6) < 0.01


def cast_box(box: tuple[int, int, int, int] | None) -> tuple[int, int, int, int]:
    assert box is not None
    return box


def test_speaker_moves_and_listener_stays_closed_on_every_turn(tmp_path: Path) -> None:
    out = tmp_path / "ep.mp4"
    speakers = [
        {"label": "HOST", "character": "maya", "name": "Maya", "role": "Host"},
        {"label": "GUEST", "character": "leo", "name": "Leo", "role": "Guest"},
    ]
    result = reelforge.make_podcast(EPISODE, out, speakers=speakers, preview=True, fps=30)
    manifest = json.loads(result.manifest.read_text())
    assert [s["character"] for s in manifest["speakers"]] == ["maya", "leo"]
    assert "Maya: " in result.captions["srt"].read_text()  # captions say who speaks
    frames = decode_frames(out)
    width, height = frames.shape[2], frames.shape[1]
    boxes = panels("split", (width, height), 2, 0)
    areas = []
    for k, name in enumerate(("maya", "leo")):
        x, y, w, h = boxes[k]  # type: ignore[misc]
        unit = min(w * 0.42, h * 0.34)
        cx, cy = x + w / 2, y + h * 0.42
        my = cy + _look(character(name)).mouth_y * unit
        box = (int(cx - 0.16 * unit), int(my - 0.05 * unit), int(0.32 * unit), int(0.28 * unit))
        areas.append(mouth_interior(frames, box))
    for turn in manifest["turns"]:
        speaker = 0 if turn["speaker"] == "HOST" else 1
        # inside the turn (its first frames still show the dimming change of the panels)
        a, b = turn["start_ms"] * 30 // 1000 + 2, turn["end_ms"] * 30 // 1000
        talking, listening = areas[speaker][a:b], areas[1 - speaker][a:b]
        # (Piper's voices vary a little from run to run: a short turn opened 22-40 px)
        assert talking.max() - talking.min() > 15 and talking.std() > 4, (turn, talking)
        # the listener's closed lips: the same few pixels on every frame
        assert listening.max() - listening.min() <= 0.1 * talking.max(), (turn, listening)
    print("turns:", [(t["speaker"], t["start_ms"], t["end_ms"]) for t in manifest["turns"]])


def test_round_table_is_a_grid_of_four() -> None:
    boxes = panels("round-table", (1920, 1080), 4, 2)
    assert boxes == [(0, 0, 960, 540), (960, 0, 960, 540), (0, 540, 960, 540), (960, 540, 960, 540)]
    assert len(panels("round-table", (1080, 1920), 3, 0)) == 3


def test_unknown_layout_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="unknown layout"):
        reelforge.make_podcast(EPISODE, tmp_path / "x.mp4", layout="round-table-9")


def test_podcast_layouts_render(tmp_path: Path) -> None:
    dialogue = "HOST: Hi there.\nGUEST: Hello."
    for layout, fmt, text in (
        ("pip", "9:16", dialogue),
        ("interview", "1:1", dialogue),
        ("round-table", "16:9", dialogue + "\nTHIRD: Hey.\nFOURTH: Hi all."),
    ):
        out = tmp_path / f"{layout}.mp4"
        reelforge.make_podcast(text, out, layout=layout, format=fmt, preview=True)
        frames = decode_frames(out)
        assert frames.shape[0] > 20 and float(np.std(frames[frames.shape[0] // 2])) > 10


def _stage(layout: str, size: tuple[int, int], frames: int, **options: object) -> PodcastStage:
    """Maya (speaking first) and Leo (second half) on a stage, without voices."""
    from reelforge.talking import animate
    from reelforge.talking.podcast import SPEAKER_COLOURS, Speaker, _Actor, _LowerThird
    from reelforge.talking.visemes import silent_track

    people = [Speaker("HOST", "Maya", "Host"), Speaker("GUEST", "Leo", "Guest")]
    speaking = np.zeros((2, frames), np.float32)
    speaking[0, : frames // 2] = 1
    speaking[1, frames // 2 :] = 1
    actors = []
    for k, (who, name) in enumerate(zip(people, ("maya", "leo"), strict=True)):
        actor = _Actor(who, character(name), None, SPEAKER_COLOURS[k], k, 30, **options)  # type: ignore[arg-type]
        mouth = silent_track(frames, 30)
        mouth.open[:] = speaking[k] * 0.6
        other = speaking[1 - k] * (1 if k == 0 else -1)
        moves = animate.motion(frames, 30, k, mouth.open, look_at=other, listening=speaking[1 - k])
        actor.perform(mouth, moves, np.repeat(speaking[k][:, None], BARS, axis=1) * 0.8)
        actors.append(actor)
    thirds = [_LowerThird(p, SPEAKER_COLOURS[k], size[1], "en") for k, p in enumerate(people)]
    stage = PodcastStage(actors, thirds, layout, size)
    stage.perform(np.argmax(speaking, axis=0).astype(np.int32))
    return stage


def test_animated_background_drifts_and_the_studio_stays() -> None:
    from reelforge.talking.cast import Backdrop

    still = Backdrop(640, 360, ("#f4efe6", "#cdd8e8", "#e4572e"), 1)
    moving = Backdrop(640, 360, ("#f4efe6", "#cdd8e8", "#e4572e"), 1, animated=True)
    assert np.array_equal(still.at(0), still.at(200))
    offsets = [moving.offset(n) for n in range(0, 24 * 30)]
    assert max(offsets) - min(offsets) > 100  # drifts across the quarter it is wider
    assert max(abs(a - b) for a, b in zip(offsets, offsets[1:], strict=False)) <= 2  # slowly
    assert moving.at(0).shape == still.at(0).shape
    assert np.abs(moving.at(0).astype(int) - moving.at(300).astype(int)).mean() > 0.5
    with pytest.raises(SpecError, match="unknown background"):
        reelforge.make_podcast(EPISODE, "x.mp4", background="stars")


def test_waveform_bars_follow_the_voice() -> None:
    from reelforge.talking.podcast import waveform_bars

    rate, fps = 24000, 30
    t = np.arange(rate * 2) / rate
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    tone[:rate] = 0  # a second of silence, then a 1 kHz tone
    bars = waveform_bars(tone, rate, fps)
    assert bars.shape == (2 * fps, BARS)
    assert bars[: fps - 2].max() < 0.05  # silence: flat
    loud = bars[fps + 5 :].mean(axis=0)
    peak = int(np.argmax(loud))
    edges = np.geomspace(120, 5000, BARS + 1)
    assert edges[peak] <= 1000 * 1.2 and edges[peak + 1] >= 1000 / 1.2, (peak, edges)
    # drawn: the speaker's panel shows their colour in the bars, the listener's only a line
    stage = _stage("split", (1920, 1080), 60, animated=True)
    frame = stage.draw(10)  # Maya speaks
    colour = np.array([102, 209, 255])  # SPEAKER_COLOURS[0] #ffd166 in BGR

    def bar_pixels(x0: int) -> int:
        region = frame[int(1080 * 0.7) : int(1080 * 0.82), x0 + int(960 * 0.56) : x0 + 900]
        return int((np.abs(region.astype(int) - colour).sum(axis=2) < 40).sum())

    assert bar_pixels(0) > 2000 and bar_pixels(960) < 200, (bar_pixels(0), bar_pixels(960))


def test_listeners_blink_nod_and_look_at_the_speaker() -> None:
    """While Maya (left) speaks, Leo (right) looks left at her, nods now and then and blinks;
    then the other way round. Split 16:9: the speaker's panel is left of the listener's."""
    frames = 600
    stage = _stage("split", (1920, 1080), frames)
    maya, leo = stage.actors
    first, second = slice(60, frames // 2), slice(frames // 2 + 60, frames)
    assert leo.motion.gaze_x[first].mean() < -0.4 < 0.4 < maya.motion.gaze_x[second].mean()
    assert leo.motion.nod[first].max() > 0.02 and maya.motion.nod[second].max() > 0.02
    for actor in (maya, leo):
        assert (actor.motion.blink > 0.9).sum() >= 4  # a blink every few seconds

    # drawn: Leo's irises sit further left while he listens than while he speaks
    def iris_x(number: int) -> float:
        panel = stage.draw(number)[300:560, 960:1920].astype(int)
        dark = panel.sum(axis=2) < 200  # irises and pupils
        return float(np.nonzero(dark)[1].mean())

    listening = np.mean([iris_x(n) for n in (100, 140, 180) if leo.motion.blink[n] < 0.1])
    speaking = np.mean([iris_x(n) for n in (400, 440, 480) if leo.motion.blink[n] < 0.1])
    assert listening < speaking - 2, (listening, speaking)


def test_overlaps_and_reactions_when_asked(tmp_path: Path) -> None:
    """Asked for, the guest answers 300 ms before the host ends and says "right" in the host's
    long turn: heard (a quieter track), the guest's mouth moves for it, not captioned, and the
    host keeps the floor."""
    dialogue = (
        "HOST: Today we talk about videos made offline, on a laptop, with voices, "
        "characters and captions, and I have a lot of questions for you.\n"
        "GUEST: Great, let us begin."
    )
    out = tmp_path / "talk.mp4"
    # both Piper's voice (fast); the guest without a beard, so the mouth box shows the lips
    speakers = [{"label": "HOST", "character": "omar"}, {"label": "GUEST", "character": "leo"}]
    result = reelforge.make_podcast(
        dialogue, out, speakers=speakers, preview=True, overlap_ms=300, reactions=True
    )
    turns = json.loads(result.manifest.read_text())["turns"]
    host, guest = (t for t in turns if "reaction" not in t)
    (reaction,) = (t for t in turns if "reaction" in t)
    assert guest["start_ms"] < host["end_ms"] <= guest["start_ms"] + 300  # overlapped
    assert reaction["speaker"] == "GUEST" and reaction["reaction"] == "Right."
    assert host["start_ms"] < reaction["start_ms"] < reaction["end_ms"] < host["end_ms"]
    srt = result.captions["srt"].read_text()
    assert "Right" not in srt and "Great" in srt
    # the guest's mouth opens during the reaction and is closed just before it
    frames = decode_frames(out)
    width, height = frames.shape[2], frames.shape[1]
    x, y, w, h = panels("split", (width, height), 2, 0)[1]  # type: ignore[misc]
    unit = min(w * 0.42, h * 0.34)
    my = y + h * 0.42 + _look(character("leo")).mouth_y * unit
    box = (int(x + w / 2 - 0.16 * unit), int(my - 0.05 * unit), int(0.32 * unit), int(0.28 * unit))
    area = mouth_interior(frames, box)
    a, b = reaction["start_ms"] * 30 // 1000, reaction["end_ms"] * 30 // 1000
    before = area[max(0, a - 20) : a - 3]
    assert area[a:b].max() - before.max() > 15, (area[a:b], before)


def test_a_speaker_with_several_pictures_takes_them_turn_by_turn(
    tmp_path: Path, astronaut: Path
) -> None:
    """The host's second picture (mirrored, warmer: another pose and outfit) shows from the
    host's second turn on, while the guest (a built-in character) is unchanged."""
    import cv2

    photo = cv2.imread(str(astronaut))
    other = cv2.flip(photo, 1)
    other[..., 2] = np.clip(other[..., 2].astype(int) + 60, 0, 255).astype(np.uint8)
    second = tmp_path / "pose2.png"
    cv2.imwrite(str(second), other)
    speakers = [
        {"label": "HOST", "portrait": [str(astronaut), str(second)]},
        {"label": "GUEST", "character": "leo"},
    ]
    out = tmp_path / "ep.mp4"
    dialogue = "HOST: Hello and welcome.\nGUEST: Thank you.\nHOST: Goodbye then."
    result = reelforge.make_podcast(dialogue, out, speakers=speakers, preview=True)
    manifest = json.loads(result.manifest.read_text())
    assert [s["portraits"] for s in manifest["speakers"]] == [2, 0] and not result.notes
    frames = decode_frames(out).astype(np.float64)
    x, y, w, h = panels("split", (frames.shape[2], frames.shape[1]), 2, 0)[0]  # type: ignore[misc]
    host = frames[:, y : y + h, x : x + w]
    red = host[..., 2].mean(axis=(1, 2)) - host[..., 0].mean(axis=(1, 2))
    first, _, third = manifest["turns"]
    early = red[first["start_ms"] * 30 // 1000 + 2 : first["end_ms"] * 30 // 1000]
    late = red[third["start_ms"] * 30 // 1000 + 2 : third["end_ms"] * 30 // 1000]
    assert late.mean() > early.mean() + 20, (early.mean(), late.mean())
    with pytest.raises(SpecError, match="HOST has 7 pictures; at most 6"):
        reelforge.make_podcast(
            dialogue,
            tmp_path / "x.mp4",
            speakers=[{**speakers[0], "portrait": ["a.png"] * 7}, speakers[1]],
        )


def test_a_storyboards_pictures_are_found_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``reelforge podcast board.yaml``: a speaker's pictures, one or a list, are paths relative
    to the storyboard."""
    from reelforge import cli

    board = tmp_path / "show" / "board.yaml"
    board.parent.mkdir()
    board.write_text(
        "speakers:\n"
        "  - {label: HOST, portrait: [poses/a.png, poses/b.png]}\n"
        "  - {label: GUEST, portrait: guest.png}\n"
        "turns:\n  - {speaker: HOST, text: Hi.}\n  - {speaker: GUEST, text: Hello.}\n",
        encoding="utf-8",
    )
    seen: list[object] = []

    def capture(dialogue: object, *args: object, **options: object) -> None:
        seen.append(dialogue)
        raise SpecError("captured", hint="")

    monkeypatch.setattr(reelforge, "make_podcast", capture)
    assert cli.main(["podcast", str(board), "-o", str(tmp_path / "ep.mp4")]) != 0
    speakers = seen[0]["speakers"]  # type: ignore[index]
    folder = str(board.parent)
    assert speakers[0]["portrait"] == [f"{folder}/poses/a.png", f"{folder}/poses/b.png"]
    assert speakers[1]["portrait"] == f"{folder}/guest.png"
