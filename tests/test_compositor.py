"""The frame compositor on hand-built timelines, without ffmpeg: fast checks of what a viewer
sees in each transition, of smooth (sub-pixel) Ken Burns motion, grades and overlays.

Scenes are solid red and solid blue pictures, so which scene shows where is a colour test.
Frames are BGR, as the compositor makes them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reelforge.render.compositor import Compositor
from reelforge.timeline import (
    MOTION_PRESETS,
    TRANSITIONS,
    Clip,
    ImageOverlay,
    Layer,
    Motion,
    TextOverlay,
    Timeline,
    Transition,
)

W, H, FPS = 160, 90, 10
SLOT = 20  # frames per scene
T = 10  # transition frames
STILL = MOTION_PRESETS["none"]


def solid(path: Path, rgb: tuple[int, int, int]) -> str:
    Image.new("RGB", (W, H), rgb).save(path)
    return str(path)


def two_scenes(tmp_path: Path, kind: str, frames: int = T, **timeline: object) -> Timeline:
    red = solid(tmp_path / "red.png", (255, 0, 0))
    blue = solid(tmp_path / "blue.png", (0, 0, 255))
    t = frames if kind != "cut" else 0
    clips = (
        Clip(0, SLOT, (Layer(red, "image", "cover", STILL),)),
        Clip(
            SLOT - t,
            SLOT + t,
            (Layer(blue, "image", "cover", STILL),),
            Transition(kind, t),
            scene=1,
        ),
    )
    return Timeline(width=W, height=H, fps=FPS, frames=2 * SLOT, clips=clips, **timeline)


def frames_of(timeline: Timeline) -> list[np.ndarray]:
    return list(Compositor(timeline).frames())


def blue_share(frame: np.ndarray) -> float:
    """How much of the picture is the incoming (blue) scene, 0..1."""
    b, r = frame[..., 0].astype(float), frame[..., 2].astype(float)
    return float(np.mean(b / np.maximum(1.0, b + r)))


def is_red(pixels: np.ndarray) -> bool:
    mean = pixels.reshape(-1, 3).mean(axis=0)
    return bool(mean[2] > 240 and mean[0] < 15 and mean[1] < 15)


RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR


def is_plain(frame: np.ndarray, bgr: tuple[int, int, int]) -> bool:
    """Every pixel is that colour (within 8-bit YUV round-trip error): nothing else shows."""
    return bool(np.abs(frame.astype(int) - np.array(bgr)).max() < 24)


def is_blue(pixels: np.ndarray) -> bool:
    mean = pixels.reshape(-1, 3).mean(axis=0)
    return bool(mean[0] > 240 and mean[2] < 15 and mean[1] < 15)


# --------------------------------------------------------------------------- transitions


@pytest.mark.parametrize("kind", [k for k in TRANSITIONS if k != "cut"])
def test_transition_goes_from_the_outgoing_to_the_incoming_scene(tmp_path: Path, kind: str) -> None:
    frames = frames_of(two_scenes(tmp_path, kind))
    assert len(frames) == 2 * SLOT
    assert all(f.shape == (H, W, 3) and f.dtype == np.uint8 for f in frames)
    start = SLOT - T
    assert all(is_red(f) for f in frames[:start]), "the first scene is touched too early"
    assert all(is_blue(f) for f in frames[SLOT:]), "the second scene is not clean after it"
    during = frames[start:SLOT]
    assert not any(is_plain(f, RED) or is_plain(f, BLUE) for f in during[1:-1]), (
        "a transition frame is plain"
    )
    shares = [blue_share(f) for f in during]
    if kind == "fade":  # dips through black: dark in the middle
        brightness = [float(f.max(axis=2).mean()) for f in during]
        assert min(brightness) < 60
        assert brightness.index(min(brightness)) in range(T // 2 - 2, T // 2 + 2)
    else:
        assert all(b >= a - 1e-6 for a, b in zip(shares, shares[1:], strict=False)), shares
        assert shares[0] < 0.35 and shares[-1] > 0.65


SIDES = {  # where the incoming (blue) scene enters, by transition
    "slide-left": "right",
    "wipe-left": "right",
    "slide-right": "left",
    "wipe-right": "left",
    "slide-up": "bottom",
    "wipe-up": "bottom",
    "slide-down": "top",
    "wipe-down": "top",
}


@pytest.mark.parametrize("kind", sorted(SIDES))
def test_directional_transitions_bring_the_new_scene_from_their_side(
    tmp_path: Path, kind: str
) -> None:
    frames = frames_of(two_scenes(tmp_path, kind))
    middle = frames[SLOT - T + T // 2]
    edges = {
        "left": middle[:, :8],
        "right": middle[:, -8:],
        "top": middle[:8],
        "bottom": middle[-8:],
    }
    opposite = {"left": "right", "right": "left", "top": "bottom", "bottom": "top"}
    side = SIDES[kind]
    assert is_blue(edges[side]), f"{kind}: the new scene is not on the {side}"
    assert is_red(edges[opposite[side]]), f"{kind}: the old scene is not on the other side"


def test_crossfade_mixes_every_pixel_evenly(tmp_path: Path) -> None:
    frames = frames_of(two_scenes(tmp_path, "crossfade"))
    middle = frames[SLOT - T + T // 2].reshape(-1, 3).astype(float)
    assert middle.std(axis=0).max() < 2  # the same mix everywhere
    b, _, r = middle.mean(axis=0)
    assert 90 < r < 165 and 90 < b < 165 and abs(r + b - 255) < 12


def test_cut_has_no_mixed_frame(tmp_path: Path) -> None:
    frames = frames_of(two_scenes(tmp_path, "cut"))
    assert all(is_red(f) for f in frames[:SLOT])
    assert all(is_blue(f) for f in frames[SLOT:])


# --------------------------------------------------------------------------- motion


def test_ken_burns_moves_every_frame_by_about_the_same_amount(tmp_path: Path) -> None:
    """Sub-pixel motion: a slow linear zoom changes every frame a little and evenly; whole-pixel
    stepping would repeat frames and then jump."""
    y, x = np.mgrid[0 : H * 2, 0 : W * 2].astype(float)
    picture = 127 + 60 * np.sin(x / 7.0) * np.cos(y / 9.0) + 30 * np.sin((x + y) / 13.0)
    rgb = np.repeat(picture[..., None], 3, axis=2).clip(0, 255).astype(np.uint8)
    Image.fromarray(rgb, "RGB").save(tmp_path / "texture.png")
    motion = Motion(1.0, 1.06, 0.5, 0.5, 0.5, 0.5, "linear")  # 3 px of zoom over 60 frames
    clip = Clip(0, 60, (Layer(str(tmp_path / "texture.png"), "image", "cover", motion),))
    timeline = Timeline(width=W, height=H, fps=30, frames=60, clips=(clip,))
    frames = [f.astype(float) for f in Compositor(timeline).frames()]
    steps = np.array([np.abs(b - a).mean() for a, b in zip(frames, frames[1:], strict=False)])
    assert steps.min() > 0.05, f"a frame repeats the one before: {steps.round(3)}"
    assert steps.max() < 3 * np.median(steps), f"the motion jumps: {steps.round(3)}"


# --------------------------------------------------------------------------- grade and overlays


def test_mono_grade_makes_grey(tmp_path: Path) -> None:
    timeline = two_scenes(tmp_path, "cut", grade="mono")
    frame = Compositor(timeline).frame(0).astype(int)
    assert np.abs(frame[..., 0] - frame[..., 2]).max() <= 2
    assert frame.mean() > 20


def test_watermark_and_title_are_drawn_where_they_belong(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (40, 20), (255, 255, 255, 255)).save(logo)
    plain = two_scenes(tmp_path, "cut")
    title = TextOverlay(
        "Hello", "DejaVu Sans", 20, position="center", start=0, end=SLOT, animation="none"
    )
    clips = (
        plain.clips[0].__class__(**{**plain.clips[0].__dict__, "texts": (title,)}),
        plain.clips[1],
    )
    marked = plain.replace(
        clips=clips, watermark=ImageOverlay(str(logo), "top-right", 0.2, 1.0, 0.05)
    )
    before, after = Compositor(plain).frame(5), Compositor(marked).frame(5)
    changed = np.abs(after.astype(int) - before.astype(int)).max(axis=2) > 40
    assert changed[: H // 3, -W // 3 :].any(), "no watermark in the top-right corner"
    assert not changed[-H // 4 :, : W // 3].any(), "something drawn in the bottom-left corner"
    assert changed[H // 3 : 2 * H // 3, W // 4 : 3 * W // 4].any(), "no title in the middle"


def test_photo_with_exif_orientation_is_shown_upright(tmp_path: Path) -> None:
    stored = np.zeros((90, 160, 3), np.uint8)
    stored[:, :80] = 255  # left half white; orientation 6 turns it to the top half
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    image.save(tmp_path / "phone.jpg", exif=exif)
    clip = Clip(0, 1, (Layer(str(tmp_path / "phone.jpg"), "image", "cover", STILL),))
    frame = Compositor(Timeline(width=90, height=160, fps=10, frames=1, clips=(clip,))).frame(0)
    assert frame[:60].mean() > 200 and frame[-60:].mean() < 50


@pytest.mark.parametrize("fit", ["cover", "contain", "blur"])
def test_fit_modes_fill_a_portrait_frame_with_a_landscape_picture(tmp_path: Path, fit: str) -> None:
    red = solid(tmp_path / "red.png", (255, 0, 0))  # 160x90 into 90x160
    clip = Clip(0, 1, (Layer(red, "image", fit, STILL),), background="#203040")
    frame = Compositor(Timeline(width=90, height=160, fps=10, frames=1, clips=(clip,))).frame(0)
    assert is_red(frame[75:85]), "the picture is not in the middle"
    bars = np.concatenate([frame[:20], frame[-20:]])
    if fit == "cover":  # cropped to fill: no bars
        assert is_red(bars)
    elif fit == "contain":  # whole picture, bars in the clip's background colour
        assert np.abs(bars.reshape(-1, 3).mean(axis=0) - (0x40, 0x30, 0x20)).max() < 3
    else:  # bars filled with a blurred, darkened copy of the picture: reddish, not red
        b, g, r = bars.reshape(-1, 3).mean(axis=0)
        assert r > b + 20 and r > g + 20 and not is_red(bars)
