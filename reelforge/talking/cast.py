"""The built-in cast: illustrated characters drawn by code, so a talking video needs no image.

Every part is a vector shape in *face units* (the face is one unit wide, its centre the origin,
y down), transformed per frame (head tilt, bob, nod, breathing, jaw) and filled with OpenCV's
anti-aliased polygons at sub-pixel precision straight into the frame: no sprites to warp, no
seams, and the same drawing at 320x180 and at 1080x1920.

A character is plain data (:class:`Character`): age group and gender (matching the voice
catalogue), skin, hair style and colour, eyes, outfit. :func:`draw_character` draws it in a
:class:`Pose` (mouth shape from a viseme track, blink, gaze, head motion, brows, breath).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources

import cv2
import numpy as np
from numpy.typing import NDArray

from reelforge.errors import SpecError
from reelforge.talking.visemes import MouthShape

Points = NDArray[np.float64]  # (n, 2) in face units
Point = tuple[float, float]  # (x, y) in face units
BGR = tuple[int, int, int]
Frame = NDArray[np.uint8]

OPEN_SCALE = 0.25  # the widest mouth opening, in face widths
CAVITY: BGR = (48, 30, 72)  # the inside of the mouth
_SHIFT = 4  # sub-pixel bits for cv2 polygons
_SCALE = 1 << _SHIFT


def hex_bgr(value: str) -> BGR:
    value = value.lstrip("#")
    return int(value[4:6], 16), int(value[2:4], 16), int(value[0:2], 16)


def shade(color: BGR, factor: float) -> BGR:
    """Darker (< 1) or lighter (> 1, towards white) version of a colour."""
    if factor <= 1:
        return (
            int(color[0] * factor),
            int(color[1] * factor),
            int(color[2] * factor),
        )
    t = min(1.0, factor - 1)
    return (
        int(color[0] + (255 - color[0]) * t),
        int(color[1] + (255 - color[1]) * t),
        int(color[2] + (255 - color[2]) * t),
    )


def mix(a: BGR, b: BGR, t: float) -> BGR:
    return (
        int(a[0] + (b[0] - a[0]) * t),
        int(a[1] + (b[1] - a[1]) * t),
        int(a[2] + (b[2] - a[2]) * t),
    )


SKIN_TONES: dict[str, str] = {
    "light": "#f6d3bd",
    "fair": "#eec1a0",
    "medium": "#d9a27c",
    "tan": "#b97c55",
    "brown": "#8d5a3b",
    "deep": "#5e3a26",
}
HAIR_STYLES = ("short", "long", "bob", "bun", "curly", "bald", "ponytail", "buzz")
OUTFITS = ("tshirt", "blazer", "hoodie", "sweater")


@dataclass(frozen=True)
class Character:
    """One member of the cast. Colours are hex; ``voice`` is the catalogue id it speaks with."""

    name: str
    display_name: str
    age: str  # "child" | "young" | "adult" | "senior"
    gender: str  # "female" | "male"
    skin: str = "medium"  # a SKIN_TONES name
    hair_style: str = "short"
    hair_color: str = "#2b1d16"
    eye_color: str = "#4a3020"
    outfit: str = "tshirt"
    outfit_color: str = "#2f6fde"
    accent_color: str = "#f5b642"
    glasses: bool = False
    beard: bool = False
    lipstick: str = ""  # hex, or "" for natural lips
    voice: str = "en-adult-female"
    description: str = ""


def _cast() -> dict[str, Character]:
    """The built-in characters (``cast.json``: a name, a look, a voice), by name."""
    text = resources.files("reelforge.talking").joinpath("cast.json").read_text(encoding="utf-8")
    return {row["name"]: Character(**row) for row in json.loads(text)}


CAST: dict[str, Character] = _cast()


def cast_list() -> list[dict[str, str]]:
    """The cast as ``reelforge characters --json`` and ``GET /api/characters`` list it."""
    keys = ("name", "display_name", "age", "gender", "voice", "description")
    return [{key: getattr(c, key) for key in keys} for c in CAST.values()]


def character(name: str) -> Character:
    """The built-in character called ``name``."""
    try:
        return CAST[name.strip().lower()]
    except KeyError:
        raise SpecError(
            f"unknown character {name!r}", hint="built-in characters: " + ", ".join(CAST)
        ) from None


def for_voice(voice: str, taken: tuple[str, ...] = ()) -> Character:
    """A cast member whose age and gender match a voice id ("en-adult-female")."""
    parts = voice.lower().split("-")
    age, gender = (parts[-2], parts[-1]) if len(parts) >= 3 else ("adult", "female")
    candidates = [c for c in CAST.values() if c.name not in taken]
    for test in (
        lambda c: c.age == age and c.gender == gender,
        lambda c: c.gender == gender,
        lambda c: True,
    ):
        for c in candidates:
            if test(c):
                return c
    return next(iter(CAST.values()))


@dataclass(frozen=True)
class Pose:
    """What a character does in one frame."""

    mouth: MouthShape = MouthShape(0.0, 0.0, 0.0, 0.0)
    blink: float = 0.0  # 0 open, 1 closed
    gaze_x: float = 0.0  # -1 (their right, our left) .. 1
    gaze_y: float = 0.0
    tilt_deg: float = 0.0  # head roll
    head_dx: float = 0.0  # face units
    head_dy: float = 0.0
    nod: float = 0.0  # features move down (head pitched forward), face units
    brow: float = 0.0  # 0 rest .. 1 raised
    breath: float = 0.0  # -1 .. 1
    smile: float = 0.3  # mouth corners up at rest, 0 .. 1


# --------------------------------------------------------------------------- geometry


@lru_cache(maxsize=16)
def _bernstein(n: int) -> tuple[Points, Points, Points, Points]:
    """The cubic Bézier weights of ``n`` points evenly spaced in t (computed once per n)."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3


def _bezier(p0: Point, p1: Point, p2: Point, p3: Point, n: int = 12) -> Points:
    w0, w1, w2, w3 = _bernstein(n)
    a, b, c, d = (np.array(p, np.float64) for p in (p0, p1, p2, p3))
    out: Points = w0 * a + w1 * b + w2 * c + w3 * d
    return out


@lru_cache(maxsize=64)
def _circle(n: int, a0: float, a1: float) -> tuple[Points, Points]:
    """Cosines and sines of ``n`` angles from ``a0`` to ``a1`` (computed once per arc)."""
    t = np.linspace(a0, a1, n, endpoint=(a1 - a0) < 2 * math.pi - 1e-6)
    return np.cos(t), np.sin(t)


def _ellipse(
    cx: float,
    cy: float,
    rx: float,
    ry: float,
    n: int = 32,
    a0: float = 0.0,
    a1: float = 2 * math.pi,
) -> Points:
    cos, sin = _circle(n, a0, a1)
    return _pair(cx + rx * cos, cy + ry * sin)


def _pair(x: Points, y: Points) -> Points:
    """Points from their x and y (np.stack's result, without its checks)."""
    out = np.empty((len(x), 2))
    out[:, 0], out[:, 1] = x, y
    return out


def _path(*parts: Points) -> Points:
    return np.concatenate(parts, axis=0)


def _clip(subject: Points, clip: Points) -> Points:
    """``subject`` (convex) clipped to the convex polygon ``clip`` (any winding): OpenCV's
    convex intersection, ~70x faster than clipping in Python (3 us a call)."""
    if len(subject) < 3 or len(clip) < 3:
        return subject[:0]
    _, inside = cv2.intersectConvexConvex(
        np.asarray(subject, np.float32), np.asarray(clip, np.float32), handleNested=True
    )
    if inside is None:
        return subject[:0]
    return np.asarray(inside, np.float64).reshape(-1, 2)


@dataclass(frozen=True)
class _Transform:
    """Face units -> pixels: scale, rotation about the neck, translation."""

    unit: float
    cx: float
    cy: float
    angle: float = 0.0  # radians
    pivot_y: float = 0.55  # rotation centre (the neck) in face units

    def apply(self, pts: Points) -> Points:
        c, s = math.cos(self.angle), math.sin(self.angle)
        x = pts[:, 0]
        y = pts[:, 1] - self.pivot_y
        rx = c * x - s * y
        ry = s * x + c * y + self.pivot_y
        return _pair(self.cx + rx * self.unit, self.cy + ry * self.unit)


class _Canvas:
    """Fills polygons into a frame with anti-aliasing, clipped to a panel rectangle."""

    def __init__(self, frame: Frame, box: tuple[int, int, int, int]) -> None:
        x, y, w, h = box
        self.view = frame[y : y + h, x : x + w]
        self.offset = np.array([x, y], np.float64)

    def fill(self, pts: Points, color: BGR) -> None:
        if len(pts) < 3:
            return
        scaled = np.round((pts - self.offset) * _SCALE).astype(np.int32)
        cv2.fillPoly(self.view, [scaled], color, cv2.LINE_AA, _SHIFT)

    def line(self, pts: Points, color: BGR, width: float, closed: bool = False) -> None:
        if len(pts) < 2:
            return
        scaled = np.round((pts - self.offset) * _SCALE).astype(np.int32)
        cv2.polylines(self.view, [scaled], closed, color, max(1, round(width)), cv2.LINE_AA, _SHIFT)

    def circle(self, centre: Points, radius: float, color: BGR) -> None:
        c = np.round((centre - self.offset) * _SCALE).astype(np.int32)
        cv2.circle(
            self.view,
            (int(c[0]), int(c[1])),
            max(1, round(radius * _SCALE)),
            color,
            -1,
            cv2.LINE_AA,
            _SHIFT,
        )


# --------------------------------------------------------------------------- the look


@dataclass(frozen=True)
class _Look:
    """Proportions and colours derived from a character, computed once."""

    skin: BGR
    skin_shadow: BGR
    blush: BGR
    hair: BGR
    hair_dark: BGR
    hair_light: BGR
    eye: BGR
    lip: BGR
    outfit: BGR
    outfit_dark: BGR
    accent: BGR
    jaw: float  # chin narrowing
    face_h: float  # half-height of the face
    eye_size: float
    eye_y: float
    eye_x: float
    mouth_y: float
    mouth_w: float
    shoulders: float  # half-width of the shoulders
    neck_w: float
    brow_thick: float
    face: Points = field(repr=False, default_factory=lambda: np.zeros((0, 2)))


@lru_cache(maxsize=64)
def _look(ch: Character) -> _Look:
    skin = hex_bgr(SKIN_TONES.get(ch.skin, ch.skin if ch.skin.startswith("#") else "#d9a27c"))
    hair = hex_bgr(ch.hair_color)
    outfit = hex_bgr(ch.outfit_color)
    child, senior = ch.age == "child", ch.age == "senior"
    female = ch.gender == "female"
    jaw = 0.42 if child else (0.5 if female else 0.36)
    face_h = 0.56 if child else 0.62
    lip = hex_bgr(ch.lipstick) if ch.lipstick else mix(skin, (90, 80, 190), 0.35)
    look = _Look(
        skin=skin,
        skin_shadow=shade(skin, 0.86),
        blush=mix(skin, (120, 110, 235), 0.18),
        hair=hair,
        hair_dark=shade(hair, 0.72),
        hair_light=shade(hair, 1.18) if sum(hair) < 300 else shade(hair, 0.9),
        eye=hex_bgr(ch.eye_color),
        lip=lip,
        outfit=outfit,
        outfit_dark=shade(outfit, 0.78),
        accent=hex_bgr(ch.accent_color),
        jaw=jaw,
        face_h=face_h,
        eye_size=0.105 if child else (0.085 if female else 0.078),
        eye_y=0.04 if child else -0.01,
        eye_x=0.2,
        mouth_y=0.34 if child else 0.36,
        mouth_w=0.2 if child else (0.23 if female else 0.25),
        shoulders=0.95 if child else (1.15 if female else 1.35),
        neck_w=0.17 if child else (0.18 if female else 0.22),
        brow_thick=0.028 if female else 0.042,
    )
    if senior:
        look = replace(look, eye_size=look.eye_size * 0.9, skin_shadow=shade(skin, 0.82))
    return replace(look, face=_face_outline(look.jaw, look.face_h))


def _face_outline(jaw: float, face_h: float, n: int = 72) -> Points:
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    c, s = np.cos(t), np.sin(t)
    lower = s > 0
    width = np.where(lower, 0.5 * (1 - jaw * np.abs(s) ** 2.2), 0.5 * (1 - 0.06 * s**2))
    x = np.sign(c) * np.abs(c) ** np.where(lower, 0.85, 0.95) * width
    y = np.where(lower, s * face_h, s * (face_h + 0.04))
    return np.stack([x, y], axis=1)


def _jawed(pts: Points, look: _Look, jaw_drop: float) -> Points:
    """Points under the mouth move down with the jaw (the chin follows the mouth)."""
    if jaw_drop <= 0:
        return pts
    weight = np.clip((pts[:, 1] - (look.mouth_y - 0.08)) / 0.2, 0, 1)
    out = pts.copy()
    out[:, 1] += jaw_drop * weight
    return out


# --------------------------------------------------------------------------- hair


def _flip(point: Point) -> Point:
    """The point mirrored across the face's centre line."""
    return -point[0], point[1]


def _arch(p0: Point, p1: Point, p2: Point, p3: Point) -> Points:
    """A curve symmetric about the face's centre line, from its right half (bezier control
    points from the side to the middle) and that half mirrored."""
    return _path(_bezier(p0, p1, p2, p3), _bezier(_flip(p3), _flip(p2), _flip(p1), _flip(p0)))


def _drape(crown_y: float, width: float, side: tuple[Point, Point, Point], hem_y: float) -> Points:
    """Hair falling behind the head: the crown's arc ``width`` wide, the right side down
    through ``side`` to the hem, the hem curving down to ``hem_y`` between them, and the left
    side (the right one mirrored) back up."""
    p1, p2, end = side
    return _path(
        _ellipse(0, crown_y, width, 0.5, 30, math.pi, 2 * math.pi),
        _bezier((width, crown_y), p1, p2, end),
        _bezier(end, (0.3, hem_y), (-0.3, hem_y), _flip(end)),
        _bezier(_flip(end), _flip(p2), _flip(p1), (-width, crown_y)),
    )


@lru_cache(maxsize=64)
def _hair_shapes(ch: Character) -> tuple[list[Points], list[Points]]:
    """(behind the head, over the head) hair polygons in face units."""
    look = _look(ch)
    top = -(look.face_h + 0.04)
    style = ch.hair_style
    back: list[Points] = []
    front: list[Points] = []
    cap_outer = _ellipse(0, top + 0.36, 0.575, 0.45, 40, math.pi, 2 * math.pi)

    def cap(side_y: float, fringe: Points) -> Points:
        left = np.array([[-0.575, side_y]])
        right = np.array([[0.575, side_y]])
        return _path(left, cap_outer, right, fringe)

    if style in ("long", "ponytail", "bob", "bun", "short"):
        if style == "long":
            back.append(_drape(top + 0.42, 0.64, ((0.72, 0.5), (0.78, 1.1), (0.7, 1.55)), 1.62))
        elif style == "bob":
            back.append(_drape(top + 0.42, 0.66, ((0.7, 0.2), (0.7, 0.45), (0.6, 0.58)), 0.62))
        elif style == "bun":
            back.append(_ellipse(0, top - 0.08, 0.22, 0.19, 28))
        elif style == "ponytail":
            back.append(
                _path(
                    _bezier((0.3, top + 0.15), (0.75, top + 0.1), (0.8, 0.3), (0.62, 0.75)),
                    _bezier((0.62, 0.75), (0.55, 0.5), (0.5, 0.2), (0.35, top + 0.3)),
                )
            )
        if style == "long":
            fringe = _path(
                _bezier((0.575, 0.55), (0.5, 0.1), (0.42, -0.3), (0.05, top + 0.2)),
                _bezier((0.05, top + 0.2), (-0.2, -0.28), (-0.45, -0.15), (-0.575, 0.55)),
            )
            front.append(cap(0.55, fringe))
        elif style == "bob":
            fringe = _path(
                _bezier((0.575, 0.35), (0.5, 0.0), (0.45, -0.22), (0.2, -0.25)),
                _bezier((0.2, -0.25), (0.0, -0.2), (-0.25, -0.24), (-0.45, -0.18)),
                _bezier((-0.45, -0.18), (-0.5, 0.0), (-0.55, 0.2), (-0.575, 0.35)),
            )
            front.append(cap(0.35, fringe))
        elif style in ("bun", "ponytail"):
            fringe = _arch((0.575, -0.02), (0.5, -0.2), (0.3, -0.38), (0.0, top + 0.2))
            front.append(cap(-0.02, fringe))
        else:  # short: side-swept fringe
            fringe = _path(
                _bezier((0.575, -0.08), (0.52, -0.2), (0.45, -0.3), (0.3, -0.3)),
                _bezier((0.3, -0.3), (0.0, -0.26), (-0.35, -0.42), (-0.48, -0.2)),
                _bezier((-0.48, -0.2), (-0.52, -0.15), (-0.56, -0.1), (-0.575, -0.08)),
            )
            front.append(cap(-0.08, fringe))
    elif style == "curly":
        t = np.linspace(math.pi * 0.92, math.pi * 2.08, 90)
        radius = 0.7 + 0.045 * np.cos(t * 14)
        outer = np.stack([radius * np.cos(t), top + 0.46 + 0.62 * radius * np.sin(t)], axis=1)
        back.append(
            _path(
                outer,
                _bezier((0.66, 0.2), (0.68, 0.5), (0.4, 0.62), (0.0, 0.6)),
                _bezier((0.0, 0.6), (-0.4, 0.62), (-0.68, 0.5), (-0.66, 0.2)),
            )
        )
        # the hairline: a row of curls across the forehead
        ft = np.linspace(0, 1, 60)
        fx = 0.6 - 1.2 * ft
        fy = -0.24 - 0.08 * np.sin(ft * math.pi) + 0.04 * np.abs(np.sin(ft * math.pi * 9))
        crown = np.stack([0.66 * np.cos(t), top + 0.46 + 0.45 * np.sin(t)], axis=1)
        front.append(
            _path(
                np.array([[-0.6, -0.05]]),
                crown[::-1][::-1],
                np.array([[0.6, -0.05]]),
                np.stack([fx, fy], axis=1),
            )
        )
    elif style == "buzz":
        crown = _ellipse(0, top + 0.4, 0.535, 0.43, 36, math.pi, 2 * math.pi)
        hairline = _arch((0.535, 0.0), (0.5, -0.2), (0.35, -0.33), (0.0, -0.34))
        front.append(_path(np.array([[-0.535, 0.0]]), crown, hairline))
    elif style == "bald":
        for side in (-1, 1):
            front.append(
                _path(
                    _bezier(
                        (side * 0.49, -0.3),
                        (side * 0.58, -0.25),
                        (side * 0.6, 0.0),
                        (side * 0.52, 0.1),
                    ),
                    _bezier(
                        (side * 0.52, 0.1),
                        (side * 0.5, 0.0),
                        (side * 0.46, -0.15),
                        (side * 0.49, -0.3),
                    ),
                )
            )
    return back, front


# --------------------------------------------------------------------------- drawing


def _eye(canvas: _Canvas, tf: _Transform, look: _Look, side: int, pose: Pose) -> None:
    cx = side * look.eye_x
    cy = look.eye_y + pose.nod
    size = look.eye_size
    openness = max(0.0, 1.0 - pose.blink)
    rx, up, down = size * 1.05, size * 0.95 * openness, size * 0.75 * max(openness, 0.15)
    upper = _ellipse(cx, cy, rx, up + 1e-4, 16, math.pi, 2 * math.pi)
    lower = _ellipse(cx, cy, rx, down, 16, 0, math.pi)
    lash_width = max(1.5, tf.unit * 0.014)
    if openness < 0.12:  # closed: a lid line
        canvas.line(
            tf.apply(_ellipse(cx, cy, rx, size * 0.2, 12, 0.1, math.pi - 0.1)),
            (40, 30, 30),
            lash_width,
        )
        return
    shape = _path(upper, lower)
    canvas.fill(tf.apply(shape), (250, 250, 252))
    gx = cx + pose.gaze_x * size * 0.35
    gy = cy + pose.gaze_y * size * 0.25 + size * 0.05
    iris = _clip(_ellipse(gx, gy, size * 0.58, size * 0.62, 24), shape)
    canvas.fill(tf.apply(iris), look.eye)
    pupil = _clip(_ellipse(gx, gy, size * 0.3, size * 0.32, 18), shape)
    canvas.fill(tf.apply(pupil), (25, 20, 20))
    glint = np.array([[gx + size * 0.2, gy - size * 0.22]])
    if openness > 0.5:
        canvas.circle(tf.apply(glint)[0], size * 0.13 * tf.unit, (255, 255, 255))
    canvas.line(tf.apply(upper), (40, 30, 30), lash_width)
    if look.eye_size < 0.1:  # adults: a soft crease line above the lid
        crease = _ellipse(
            cx,
            cy - size * 0.15,
            rx * 0.95,
            size * 1.05 * max(openness, 0.3),
            12,
            math.pi * 1.15,
            math.pi * 1.85,
        )
        canvas.line(tf.apply(crease), look.skin_shadow, max(1.0, tf.unit * 0.008))


def _mouth(canvas: _Canvas, tf: _Transform, look: _Look, pose: Pose) -> float:
    """Draw the mouth; returns the jaw drop (face units) it implies."""
    m = pose.mouth
    cy = look.mouth_y + pose.nod * 0.7
    half_w = look.mouth_w * (1 + 0.22 * m.width - 0.38 * m.round) / 2
    opening = m.open * OPEN_SCALE * (1 - 0.2 * m.round) + 0.04 * m.round * (m.open > 0.05)
    lip_w = max(1.5, tf.unit * (0.016 if not look.lip else 0.018))
    corner_lift = (pose.smile * 0.035) * (1 - m.round) * (1 - min(1.0, m.open * 1.5))
    if opening < 0.012:
        # closed: a smile line with a hint of lower lip
        line = _bezier(
            (-half_w, cy - corner_lift),
            (-half_w * 0.4, cy + 0.022 + corner_lift),
            (half_w * 0.4, cy + 0.022 + corner_lift),
            (half_w, cy - corner_lift),
            16,
        )
        lower = _bezier(
            (-half_w * 0.45, cy + 0.045),
            (-half_w * 0.2, cy + 0.065),
            (half_w * 0.2, cy + 0.065),
            (half_w * 0.45, cy + 0.045),
            10,
        )
        canvas.line(tf.apply(line), shade(look.lip, 0.7), lip_w * 1.1)
        canvas.line(tf.apply(lower), look.skin_shadow, lip_w * 0.8)
        return 0.0
    top = cy - opening * 0.35
    bottom = cy + opening * 0.65
    roundness = 0.55 + 0.4 * m.round
    upper = _bezier(
        (-half_w, cy - corner_lift),
        (-half_w * roundness, top - 0.004),
        (half_w * roundness, top - 0.004),
        (half_w, cy - corner_lift),
        16,
    )
    lower = _bezier(
        (half_w, cy - corner_lift),
        (half_w * roundness, bottom),
        (-half_w * roundness, bottom),
        (-half_w, cy - corner_lift),
        16,
    )
    cavity = _path(upper, lower[1:-1])
    canvas.fill(tf.apply(cavity), CAVITY)
    if m.teeth > 0.05:
        depth = min(opening * 0.55, 0.03 + 0.02 * m.teeth)
        teeth = np.array(
            [
                [-half_w, top - 0.02],
                [half_w, top - 0.02],
                [half_w, top + depth],
                [-half_w, top + depth],
            ]
        )
        canvas.fill(tf.apply(_clip(teeth, cavity)), (240, 244, 248))
    if m.tongue > 0.1 or m.open > 0.35:
        tongue = _ellipse(
            0,
            bottom - opening * 0.12 * (1 - m.tongue * 0.8),
            half_w * 0.6,
            opening * (0.28 + 0.3 * m.tongue),
            20,
        )
        canvas.fill(tf.apply(_clip(tongue, cavity)), (110, 95, 215))
    canvas.line(tf.apply(upper), look.lip, lip_w)
    canvas.line(tf.apply(lower), look.lip, lip_w * 1.5)
    return opening * 0.55


def draw_character(
    frame: Frame,
    ch: Character,
    pose: Pose,
    centre: tuple[float, float],
    unit: float,
    box: tuple[int, int, int, int] | None = None,
) -> None:
    """Draw ``ch`` into ``frame`` with its face centre at ``centre`` (pixels) and ``unit``
    pixels per face width, clipped to ``box`` (x, y, w, h; default the whole frame)."""
    look = _look(ch)
    canvas = _Canvas(frame, box or (0, 0, frame.shape[1], frame.shape[0]))
    breath = pose.breath * 0.012
    body_tf = _Transform(unit, centre[0], centre[1] + breath * unit * 0.3)
    head_tf = _Transform(
        unit,
        centre[0] + pose.head_dx * unit,
        centre[1] + (pose.head_dy - breath) * unit,
        math.radians(pose.tilt_deg),
    )
    back_hair, front_hair = _hair_shapes(ch)
    for shape in back_hair:
        canvas.fill(head_tf.apply(shape), look.hair_dark if ch.hair_style == "long" else look.hair)
    _body(canvas, body_tf, look, ch, breath)
    jaw = 0.0
    # jaw first: the face outline needs it, the mouth is drawn after the face
    m = pose.mouth
    opening = m.open * OPEN_SCALE * (1 - 0.2 * m.round)
    jaw = opening * 0.55 if opening >= 0.012 else 0.0
    # ears
    for side in (-1, 1):
        ear = _ellipse(side * 0.5, 0.04, 0.075, 0.11, 18)
        canvas.fill(head_tf.apply(ear), look.skin_shadow)
        canvas.fill(
            head_tf.apply(_ellipse(side * 0.505, 0.04, 0.04, 0.065, 12)),
            shade(look.skin_shadow, 0.9),
        )
    face = _jawed(look.face, look, jaw)
    canvas.fill(head_tf.apply(face), look.skin)
    # a soft shade under the hairline and on the cheeks
    for side in (-1, 1):
        canvas.fill(
            head_tf.apply(_ellipse(side * 0.27, 0.2 + pose.nod, 0.075, 0.045, 16)), look.blush
        )
    if ch.beard:
        beard = _jawed(
            _path(
                _bezier(
                    (-0.46, 0.05), (-0.46, 0.5), (-0.2, look.face_h + 0.06), (0, look.face_h + 0.07)
                ),
                _bezier(
                    (0, look.face_h + 0.07), (0.2, look.face_h + 0.06), (0.46, 0.5), (0.46, 0.05)
                ),
                _bezier(
                    (0.46, 0.05), (0.4, 0.3), (0.3, look.mouth_y - 0.07), (0, look.mouth_y - 0.08)
                ),
                _bezier(
                    (0, look.mouth_y - 0.08),
                    (-0.3, look.mouth_y - 0.07),
                    (-0.4, 0.3),
                    (-0.46, 0.05),
                ),
            ),
            look,
            jaw,
        )
        canvas.fill(head_tf.apply(beard), look.hair)
    for side in (-1, 1):
        _eye(canvas, head_tf, look, side, pose)
    # brows
    brow_y = look.eye_y - look.eye_size * 1.9 - 0.04 * pose.brow + pose.nod
    for side in (-1, 1):
        x0, x1 = side * (look.eye_x - 0.1), side * (look.eye_x + 0.11)
        arch = _bezier(
            (x0, brow_y + 0.01),
            (side * look.eye_x - side * 0.02, brow_y - 0.04),
            (side * look.eye_x + side * 0.06, brow_y - 0.035),
            (x1, brow_y + 0.02),
            10,
        )
        lower = arch[::-1] + np.array([0, look.brow_thick])
        lower[:, 1] -= (
            np.linspace(0, look.brow_thick * 0.7, len(lower))[:: 1 if side > 0 else -1] * 0
        )
        canvas.fill(
            head_tf.apply(_path(arch, lower)),
            look.hair_dark if ch.hair_style != "bald" else shade(look.hair, 0.7),
        )
    # nose: a soft shadow curve
    ny = 0.2 + pose.nod
    nose = _bezier((0.02, ny - 0.14), (0.05, ny - 0.04), (0.07, ny), (0.0, ny + 0.02), 10)
    canvas.line(head_tf.apply(nose), look.skin_shadow, max(1.5, unit * 0.014))
    canvas.fill(head_tf.apply(_ellipse(-0.045, ny + 0.01, 0.03, 0.016, 10)), look.skin_shadow)
    canvas.fill(head_tf.apply(_ellipse(0.045, ny + 0.01, 0.03, 0.016, 10)), look.skin_shadow)
    # mouth
    _mouth(canvas, head_tf, look, replace(pose, nod=pose.nod))
    if ch.beard:  # moustache over the upper lip
        my = look.mouth_y + pose.nod * 0.7
        moustache = _path(
            _bezier((-0.17, my + 0.02), (-0.12, my - 0.07), (0.12, my - 0.07), (0.17, my + 0.02)),
            _bezier((0.17, my + 0.02), (0.1, my - 0.025), (-0.1, my - 0.025), (-0.17, my + 0.02)),
        )
        canvas.fill(head_tf.apply(moustache), look.hair)
    front_colour = mix(look.hair, look.skin, 0.3) if ch.hair_style == "buzz" else look.hair
    for shape in front_hair:
        canvas.fill(head_tf.apply(shape), front_colour)
    if ch.hair_style in ("long", "short", "bob", "ponytail", "bun"):
        # one highlight stroke for volume
        highlight = _ellipse(
            -0.1, -(look.face_h - 0.12), 0.3, 0.14, 12, math.pi * 1.2, math.pi * 1.55
        )
        canvas.line(head_tf.apply(highlight), look.hair_light, max(2.0, unit * 0.025))
    if ch.age == "senior":  # smile lines
        for side in (-1, 1):
            fold = _bezier(
                (side * 0.19, 0.2 + pose.nod),
                (side * 0.23, 0.27),
                (side * 0.23, 0.33),
                (side * 0.2, 0.4 + jaw * 0.5),
                8,
            )
            canvas.line(head_tf.apply(fold), look.skin_shadow, max(1.0, unit * 0.01))
    if ch.glasses:
        frame_color = (40, 35, 35)
        for side in (-1, 1):
            rim = _ellipse(side * look.eye_x, look.eye_y + pose.nod * 0.8, 0.14, 0.11, 28)
            canvas.line(head_tf.apply(rim), frame_color, max(2.0, unit * 0.018), closed=True)
        bridge = _bezier(
            (-0.06, look.eye_y - 0.02),
            (-0.02, look.eye_y - 0.05),
            (0.02, look.eye_y - 0.05),
            (0.06, look.eye_y - 0.02),
            8,
        )
        canvas.line(head_tf.apply(bridge), frame_color, max(2.0, unit * 0.016))


def _body(canvas: _Canvas, tf: _Transform, look: _Look, ch: Character, breath: float) -> None:
    sw = look.shoulders * (1 + breath * 0.5)
    neck_w = look.neck_w
    top = 0.86
    neck = np.array(
        [[-neck_w, 0.3], [neck_w, 0.3], [neck_w * 1.05, top + 0.12], [-neck_w * 1.05, top + 0.12]]
    )
    canvas.fill(tf.apply(neck), look.skin_shadow)
    canvas.fill(
        tf.apply(
            _path(
                _bezier(
                    (-neck_w, 0.62), (-neck_w * 0.4, 0.75), (neck_w * 0.4, 0.75), (neck_w, 0.62), 10
                ),
                np.array([[neck_w, top + 0.12], [-neck_w, top + 0.12]]),
            )
        ),
        shade(look.skin_shadow, 0.92),
    )
    torso = _path(
        _bezier(
            (-neck_w * 1.3, top),
            (-sw * 0.6, top + 0.02),
            (-sw, top + 0.08),
            (-sw * 1.02, top + 0.5),
        ),
        np.array([[-sw * 1.08, 4.0], [sw * 1.08, 4.0]]),
        _bezier(
            (sw * 1.02, top + 0.5), (sw, top + 0.08), (sw * 0.6, top + 0.02), (neck_w * 1.3, top)
        ),
    )
    canvas.fill(tf.apply(torso), look.outfit)
    outfit = ch.outfit
    if outfit == "tshirt":
        collar = _ellipse(0, top, neck_w * 1.35, 0.14, 20, 0, math.pi)
        canvas.fill(tf.apply(collar), look.skin_shadow)
        canvas.line(tf.apply(collar), look.outfit_dark, max(2.0, tf.unit * 0.03))
    elif outfit == "hoodie":
        hood = _path(
            _bezier(
                (-sw * 0.75, top + 0.05),
                (-sw * 0.6, top - 0.12),
                (-neck_w * 1.2, top - 0.12),
                (0, top + 0.04),
            ),
            _bezier(
                (0, top + 0.04),
                (neck_w * 1.2, top - 0.12),
                (sw * 0.6, top - 0.12),
                (sw * 0.75, top + 0.05),
            ),
            _bezier(
                (sw * 0.75, top + 0.05),
                (sw * 0.5, top + 0.3),
                (-sw * 0.5, top + 0.3),
                (-sw * 0.75, top + 0.05),
            ),
        )
        canvas.fill(tf.apply(hood), look.outfit_dark)
        canvas.fill(
            tf.apply(_ellipse(0, top + 0.02, neck_w * 1.1, 0.1, 20, 0, math.pi)), look.skin_shadow
        )
        for side in (-1, 1):
            string = np.array([[side * 0.09, top + 0.12], [side * 0.1, top + 0.55]])
            canvas.line(tf.apply(string), look.accent, max(2.0, tf.unit * 0.02))
    elif outfit == "sweater":
        collar = _path(
            _bezier(
                (-neck_w * 1.4, top - 0.01),
                (-neck_w, top + 0.16),
                (neck_w, top + 0.16),
                (neck_w * 1.4, top - 0.01),
            ),
            _bezier(
                (neck_w * 1.4, top - 0.01),
                (neck_w, top + 0.06),
                (-neck_w, top + 0.06),
                (-neck_w * 1.4, top - 0.01),
            ),
        )
        canvas.fill(tf.apply(collar), look.outfit_dark)
        for k in range(3):  # a knit band
            y = top + 0.55 + k * 0.05
            canvas.line(
                tf.apply(np.array([[-sw * 0.9, y], [sw * 0.9, y]])),
                look.outfit_dark,
                max(1.0, tf.unit * 0.01),
            )
    elif outfit == "blazer":
        shirt = _path(
            np.array([[-neck_w * 1.5, top - 0.01], [neck_w * 1.5, top - 0.01]]),
            np.array([[0.0, top + 0.75]]),
        )
        canvas.fill(tf.apply(shirt), (245, 245, 245) if sum(look.outfit) < 500 else look.accent)
        canvas.fill(
            tf.apply(_ellipse(0, top - 0.01, neck_w * 1.05, 0.1, 16, 0, math.pi)), look.skin_shadow
        )
        for side in (-1, 1):
            lapel = np.array(
                [
                    [side * neck_w * 1.5, top - 0.02],
                    [side * neck_w * 1.9, top + 0.25],
                    [side * neck_w * 1.45, top + 0.32],
                    [0.0, top + 0.8],
                    [side * neck_w * 0.2, top + 0.78],
                ]
            )
            canvas.fill(tf.apply(lapel), look.outfit_dark)
        canvas.circle(tf.apply(np.array([[0.35, top + 0.62]]))[0], tf.unit * 0.03, look.accent)


# --------------------------------------------------------------------------- backgrounds


def studio_background(
    width: int, height: int, top: str, bottom: str, accent: str, seed: int = 0
) -> Frame:
    """A soft studio backdrop: a vertical gradient with two large blurred light shapes."""
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    a = np.array(hex_bgr(top), np.float32)[None, None, :]
    b = np.array(hex_bgr(bottom), np.float32)[None, None, :]
    column = a * (1 - t) + b * t
    image = np.repeat(column, width, axis=1)
    small = (max(8, width // 8), max(8, height // 8))
    glow: NDArray[np.float32] = np.zeros((small[1], small[0]), np.float32)
    rng = np.random.default_rng(seed)
    for _ in range(2):
        cx = rng.uniform(0.15, 0.85) * small[0]
        cy = rng.uniform(0.1, 0.5) * small[1]
        r = rng.uniform(0.25, 0.4) * max(small)
        cv2.circle(glow, (int(cx), int(cy)), int(r), (1.0,), -1)
    blurred = cv2.GaussianBlur(glow, (0, 0), max(small) * 0.08)
    glow = np.asarray(
        cv2.resize(blurred, (width, height), interpolation=cv2.INTER_LINEAR), np.float32
    )[:, :, None]
    light = np.array(hex_bgr(accent), np.float32)[None, None, :]
    image = image * (1 - 0.22 * glow) + light * 0.22 * glow
    out: Frame = np.clip(image, 0, 255).astype(np.uint8)
    return out


BACKGROUNDS = ("studio", "animated")
DRIFT_PERIOD_S = 24.0  # an animated backdrop drifts across and back in this time


def check_background(name: str) -> None:
    if name not in BACKGROUNDS:
        raise SpecError(f"unknown background {name!r}", hint="use one of " + ", ".join(BACKGROUNDS))


class Backdrop:
    """A studio backdrop (:func:`studio_background`); ``animated``: a quarter wider, drifting
    slowly across and back, so its soft lights move behind the characters (seeded phase).
    :meth:`at` is a view: copy it before drawing on it."""

    def __init__(
        self,
        width: int,
        height: int,
        colours: tuple[str, str, str],
        seed: int = 0,
        animated: bool = False,
        fps: int = 30,
    ) -> None:
        top, bottom, accent = colours
        self.width, self.fps = width, fps
        self.pad = width // 4 if animated else 0
        self.image = studio_background(width + self.pad, height, top, bottom, accent, seed)
        self.phase = (seed * 0.618) % 1.0 * 2 * math.pi

    def offset(self, number: int) -> int:
        """How far into the wide backdrop frame ``number`` looks (pixels)."""
        if not self.pad:
            return 0
        turn = 2 * math.pi * number / (self.fps * DRIFT_PERIOD_S) + self.phase
        return round(self.pad * 0.5 * (1 - math.cos(turn)))

    def at(self, number: int) -> Frame:
        x = self.offset(number)
        view: Frame = self.image[:, x : x + self.width]
        return view
