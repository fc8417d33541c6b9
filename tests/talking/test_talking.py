"""Talking videos, measured on the decoded output: the mouth opens with the narration's
loudness (peak correlation within one frame of zero lag), for a built-in character and for a
photo; bad portraits get a clear error or the stated whole-image fallback."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from talking_measure import (
    dark_area,
    decode_envelope,
    decode_frames,
    lagged_correlation,
    mouth_interior,
)

import reelforge
from reelforge.errors import SpecError
from reelforge.media.probe import probe
from reelforge.talking import animate, cast
from reelforge.talking.make import CharacterStage
from reelforge.talking.portrait import PortraitStage, locate_face
from reelforge.talking.visemes import silent_track

SCRIPT = "Hello, I am Maya. Today I show you how to make a video on your own laptop."
FPS = 30


def _piper() -> bool:
    from reelforge.voices import resolve_voice

    return resolve_voice("en-adult-male", "en").engine == "piper"


def test_character_mouth_follows_the_narration(tmp_path: Path) -> None:
    """Three paragraphs in Piper's voice: drawn and encoded turn by turn while the next turns
    are voiced (segments joined with the sound), and still in sync."""
    out = tmp_path / "leo.mp4"
    script = SCRIPT + "\n\nIt starts with a script.\n\nThen a character says it, frame by frame."
    result = reelforge.make_talking(script, out, character="leo", preview=True, fps=FPS)
    assert result.timings["segments"] >= 2 or not _piper(), result.timings
    info = probe(out)
    assert (info.width, info.height) == (360, 640)
    assert info.has_audio and abs(info.duration_ms / 1000 - result.duration_s) < 0.15
    assert result.captions["srt"].read_text().count("-->") >= 2
    frames = decode_frames(out)
    # where the mouth is drawn: the stage's own geometry
    stage = CharacterStage(
        cast.character("leo"),
        silent_track(1, FPS),
        animate.motion(1, FPS, 0, np.zeros(1, np.float32)),
        (360, 640),
        None,
    )
    cx, cy = stage.centre
    unit = stage.unit
    look_y = cy + 0.36 * unit
    box = (int(cx - 0.2 * unit), int(look_y - 0.05 * unit), int(0.4 * unit), int(0.32 * unit))
    area = mouth_interior(frames, box)
    envelope = decode_envelope(out, FPS)
    corr = lagged_correlation(area, envelope)
    best = max(corr, key=lambda lag: corr[lag])
    print(f"built-in character: mouth area vs loudness, correlation by lag {corr}")
    # Piper's voice (it samples noise, so each run differs) measured 0.486-0.519 at lag 0 in
    # fresh runs: the bound sat on the measured value and failed one CI run in three
    assert abs(best) <= 1 and corr[best] > 0.45, corr
    assert area[: int(0.2 * FPS)].max() < 0.05 * area.max()  # closed before the first word


def test_photo_mouth_follows_the_narration(tmp_path: Path, astronaut: Path) -> None:
    out = tmp_path / "photo.mp4"
    result = reelforge.make_talking(SCRIPT, out, portrait=astronaut, preview=True, fps=FPS)
    assert result.notes == ()
    frames = decode_frames(out)
    image = cv2.imread(str(astronaut))
    stage = PortraitStage.from_image(
        image,
        silent_track(1, FPS),
        animate.motion(1, FPS, 0, np.zeros(1, np.float32)),
        (360, 640),
    )
    box = stage.mouth_box()
    assert box is not None
    area = dark_area(frames, box, level=70)
    envelope = decode_envelope(out, FPS)
    corr = lagged_correlation(area, envelope)
    best = max(corr, key=lambda lag: corr[lag])
    print(f"photo: mouth area vs loudness, correlation by lag {corr}")
    assert abs(best) <= 1 and corr[best] > 0.5, corr
    # the warp stays on the face: far from the mouth, frames match the photo's first frame
    corner = frames[:, : box[1] - 40, :]
    assert np.abs(corner.astype(int) - corner[0].astype(int)).mean() < 6


def test_portrait_problems_are_clear(tmp_path: Path, astronaut: Path) -> None:
    photo = cv2.imread(str(astronaut))
    assert locate_face(photo) is not None
    with pytest.raises(SpecError, match="[23] faces"):
        locate_face(np.hstack([photo, photo]))
    small = cv2.resize(photo, (256, 256), interpolation=cv2.INTER_AREA)  # a 53 px face
    with pytest.raises(SpecError, match="too small"):
        locate_face(small)
    with pytest.raises(SpecError, match="cut by the edge"):
        locate_face(photo[:170])  # the chin cut off
    with pytest.raises(SpecError, match="cut by the edge"):
        locate_face(photo[:, 185:])  # the left cheek cut off
    # no face at all: the whole-image mode
    gradient = np.tile(np.linspace(0, 255, 320, dtype=np.uint8), (240, 1))
    assert locate_face(cv2.merge([gradient, gradient[::-1], gradient])) is None
    # a cartoon the detector misses: the whole-image mode too, said in the result
    toon = np.full((800, 600, 3), (235, 220, 200), np.uint8)
    cv2.circle(toon, (300, 380), 190, (120, 200, 255), -1, cv2.LINE_AA)
    for x in (230, 370):
        cv2.circle(toon, (x, 340), 22, (30, 30, 30), -1, cv2.LINE_AA)
    cv2.ellipse(toon, (300, 450), (80, 40), 0, 10, 170, (40, 40, 160), 8, cv2.LINE_AA)
    cartoon = tmp_path / "cartoon.png"
    cv2.imwrite(str(cartoon), toon)
    result = reelforge.make_talking("Hi there.", tmp_path / "none.mp4", portrait=cartoon,
                                    preview=True)  # fmt: skip
    assert any("whole-image mode" in note for note in result.notes)
    manifest = json.loads(result.manifest.read_text())
    assert any("whole-image mode" in note for note in manifest["notes"])
    # a script or a turn with nothing to say: refused before any voice speaks
    with pytest.raises(SpecError, match="nothing to say|script is empty"):
        reelforge.make_talking("# Title only\n\n   ", tmp_path / "empty.mp4", character="leo")
    with pytest.raises(SpecError, match="turn 2 .* is empty"):
        reelforge.make_podcast("HOST: Hello.\nGUEST:   \n", tmp_path / "e.mp4")
    with pytest.raises(SpecError, match="unknown speaker"):
        reelforge.make_podcast(
            "HOST: Hello.\nGUEST: Hi.", tmp_path / "u.mp4", speakers=[{"label": "HOST"}]
        )


def test_character_and_portrait_are_exclusive(tmp_path: Path, astronaut: Path) -> None:
    with pytest.raises(SpecError, match="not both"):
        reelforge.make_talking("Hi.", tmp_path / "x.mp4", character="maya", portrait=astronaut)
    with pytest.raises(SpecError, match="unknown character"):
        reelforge.make_talking("Hi.", tmp_path / "x.mp4", character="nobody")


def test_voices_release_their_model_before_the_encode(tmp_path: Path) -> None:
    """After the turns are voiced the Kokoro session is dropped (its memory must not stack on
    the encode's); the next voice loads it again and still speaks."""
    from reelforge.engines.tts import kokoro, kokoro_model
    from reelforge.talking import produce

    if kokoro._import_problem():
        pytest.skip("the Kokoro voices are not installed")
    turns = [produce.Turn(0, "Hello there.")]
    first = produce.Voicing(turns, ["en-adult-female"], "en", tmp_path / "a").all()
    assert kokoro_model._loaded is not None
    produce.release_voices()
    assert kokoro_model._loaded is None
    again = produce.Voicing(turns, ["en-adult-female"], "en", tmp_path / "b").all()
    assert kokoro_model._loaded is not None
    assert again[0].speech.duration_ms == first[0].speech.duration_ms > 300


def test_motion_drawn_turn_by_turn_matches_the_whole() -> None:
    """A render draws each turn while the next is voiced: the motion of the first frames must
    not change when later turns add frames, speech, listening and gaze (up to SETTLE frames
    before the change)."""
    rng = np.random.default_rng(3)
    whole = 900
    speaking = np.zeros(whole, np.float32)
    speaking[100:300] = rng.uniform(0.2, 1, 200)
    speaking[520:800] = rng.uniform(0.2, 1, 280)  # the later turn
    look = np.zeros(whole, np.float32)
    look[520:800] = 1.0
    full = animate.motion(whole, FPS, 7, speaking, look_at=look, listening=look)
    early = 520  # the later turn starts here; the first render knows only this much
    part = animate.motion(
        early, FPS, 7, speaking[:early], look_at=look[:early], listening=look[:early]
    )
    ready = early - animate.SETTLE
    for name in ("blink", "tilt", "dx", "dy", "nod", "brow", "breath", "gaze_x", "gaze_y"):
        np.testing.assert_allclose(
            getattr(part, name)[:ready], getattr(full, name)[:ready], atol=1e-5, err_msg=name
        )
    assert full.nod[560:800].max() > 0.02  # the listener nods in the later turn


def test_one_character_many_scenes(tmp_path: Path, astronaut: Path) -> None:
    """Two pictures of one character take the script's paragraphs in turn: the first
    paragraph shows the first picture, the second the other (here the same photo mirrored and
    warmer, as a second pose and outfit would be)."""
    photo = cv2.imread(str(astronaut))
    other = cv2.flip(photo, 1)
    other[..., 2] = np.clip(other[..., 2].astype(int) + 60, 0, 255).astype(np.uint8)
    second = tmp_path / "pose2.png"
    cv2.imwrite(str(second), other)
    script = "Hello, this is the first scene.\n\nAnd this is the second one, in another pose."
    out = tmp_path / "scenes.mp4"
    result = reelforge.make_talking(script, out, portrait=[astronaut, second], preview=True)
    manifest = json.loads(result.manifest.read_text())
    assert manifest["portraits"] == 2 and not result.notes
    twins = tmp_path / "twins.png"  # a bad picture among several is named
    cv2.imwrite(str(twins), np.hstack([photo, photo]))
    with pytest.raises(SpecError, match="^portrait 2: the portrait shows [23] faces"):
        reelforge.make_talking(script, tmp_path / "x.mp4", portrait=[astronaut, twins])
    with pytest.raises(SpecError, match="has 7 pictures; at most 6"):
        reelforge.make_talking(script, tmp_path / "x.mp4", portrait=[astronaut] * 7)
    frames = decode_frames(out).astype(np.float64)
    red = frames[..., 2].mean(axis=(1, 2)) - frames[..., 0].mean(axis=(1, 2))
    srt = result.captions["srt"].read_text()
    first_end = int(srt.split(" --> ")[1].split(",")[0].split(":")[-1])  # s, first caption
    early, late = red[5 : first_end * 30 // 2], red[-20:-5]
    assert late.mean() > early.mean() + 20, (early.mean(), late.mean())


def test_talking_and_podcast_take_an_options_object_or_its_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reelforge.talking import produce

    looks: list[tuple[produce.Look, bool]] = []

    class Filmed(Exception):
        pass

    def film(perform: object, voicing: object, look: produce.Look, *rest: object) -> None:
        looks.append((look, bool(rest[3])))  # the look and the preview choice
        raise Filmed

    monkeypatch.setattr(produce, "film", film)
    wide = reelforge.TalkingOptions(format="16:9", language="fr", fps=24)
    with pytest.raises(Filmed):
        reelforge.make_talking("Salut.", tmp_path / "a.mp4", wide, character="leo", fps=25)
    with pytest.raises(Filmed):  # a podcast is wide unless told otherwise
        reelforge.make_podcast("HOST: Hi.\nGUEST: Hello.", tmp_path / "b.mp4", preview=True)
    assert [(look.size, look.fps, look.language, preview) for look, preview in looks] == [
        ((1920, 1080), 25, "fr", False),  # the keyword wins over the options object
        ((640, 360), 30, "en", True),
    ]
    with pytest.raises(TypeError, match="fomat"):
        reelforge.make_talking("Hi.", tmp_path / "c.mp4", fomat="1:1")
