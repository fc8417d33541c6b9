"""Procedural scene visuals: designed gradients and shapes in the palette, as parallax layers.

Each scene is an opaque background PNG plus 0-2 RGBA overlays of shapes (bokeh, waves, confetti,
outlines...) that the renderer moves with a different Ken Burns motion, so the picture has depth.
Everything is seeded, so a scene re-renders identically.

Speed comes from the smoothness of the content: gradients, glows and soft shapes are computed
at a reduced size and upscaled with a cubic filter; only thin lines are drawn at full size
(OpenCV, antialiased). Colours are mixed in OKLab, so a ramp from navy to amber passes through
a clean tone instead of grey mud, and a faint fixed dither hides 8-bit banding.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, TypeVar, cast

import cv2
import numpy as np
from cv2.typing import MatLike
from numpy.typing import NDArray

from reelforge.colours import parse_hex
from reelforge.engines.base import EngineInfo, VisualLayer, VisualRequest, VisualResult
from reelforge.engines.visuals.procedural_styles import STYLES
from reelforge.errors import EngineFailed, SpecError

VERSION = "1.0"
Color = NDArray[np.float32]  # (3,) sRGB in [0, 1]
Float = NDArray[np.float32]  # images, masks and coordinates in [0, 1], at work scale
Lab = NDArray[np.float64]  # OKLab colours
U8 = NDArray[np.uint8]  # 8-bit masks and BGR(A) images
Rng = np.random.Generator
_Image = TypeVar("_Image", Float, U8)


def _float(image: MatLike) -> Float:
    """cv2 is typed to return any matrix; the calls given float32 here return float32."""
    return cast(Float, image)


def _u8(image: MatLike) -> U8:
    """cv2 is typed to return any matrix; the calls given uint8 here return uint8."""
    return cast(U8, image)


# ----------------------------------------------------------------------------- colour


def _hex(value: str) -> Color:
    red, green, blue, _ = parse_hex(value, "palette colour")
    return np.array([red, green, blue], np.float32) / 255.0


_M1 = np.array(
    [
        [0.4122214708, 0.5363325363, 0.0514459929],
        [0.2119034982, 0.6806995451, 0.1073969566],
        [0.0883024619, 0.2817188376, 0.6299787005],
    ],
    np.float64,
)
_M2 = np.array(
    [
        [0.2104542553, 0.7936177850, -0.0040720468],
        [1.9779984951, -2.4285922050, 0.4505937099],
        [0.0259040371, 0.7827717662, -0.8086757660],
    ],
    np.float64,
)
_M1_INV = np.linalg.inv(_M1)
_M2_INV = np.linalg.inv(_M2)


def _oklab(rgb: Color) -> Lab:
    c = np.asarray(rgb, np.float64)
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    lab: Lab = np.cbrt(linear @ _M1.T) @ _M2.T
    return lab


def _srgb(lab: Lab) -> Float:
    linear = np.clip((lab @ _M2_INV.T) ** 3 @ _M1_INV.T, 0.0, 1.0)
    c = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
    return c.astype(np.float32)


def _mix(a: Color, b: Color, t: float) -> Color:
    return _srgb(_oklab(a) * (1 - t) + _oklab(b) * t)


def _tone(
    color: Color, lightness: float | None = None, chroma: float = 1.0, hue_deg: float = 0.0
) -> Color:
    """The same colour with another OKLab lightness, scaled chroma and/or rotated hue."""
    lab = _oklab(color)
    angle = math.atan2(lab[2], lab[1]) + math.radians(hue_deg)
    c = math.hypot(lab[1], lab[2]) * chroma
    light = lab[0] if lightness is None else lightness
    return _srgb(np.array([light, c * math.cos(angle), c * math.sin(angle)]))


def _lightness(color: Color) -> float:
    return float(_oklab(color)[0])


def _ramp(stops: list[tuple[float, Color]], size: int = 1024) -> Float:
    """A colour lookup table (size, 3) through ``(position, colour)`` stops, mixed in OKLab."""
    positions = np.array([p for p, _ in stops])
    labs = np.array([_oklab(c) for _, c in stops])
    t = np.linspace(0.0, 1.0, size)
    lab = np.stack([np.interp(t, positions, labs[:, k]) for k in range(3)], axis=1)
    return _srgb(lab)


def _apply_ramp(lut: Float, t: Float) -> Float:
    index = np.clip(t * (len(lut) - 1) + 0.5, 0, len(lut) - 1).astype(np.int32)
    return lut[index]


@dataclass(frozen=True)
class _Palette:
    """Colour roles derived from the request's palette (dark to accent)."""

    dark: Color
    mid: Color
    accent: Color
    extras: tuple[Color, ...] = ()
    deep: Color = field(default_factory=lambda: np.zeros(3, np.float32))
    light: Color = field(default_factory=lambda: np.ones(3, np.float32))

    @classmethod
    def of(cls, colours: tuple[str, ...]) -> _Palette:
        if not colours:
            raise SpecError("the palette is empty", hint='give hex colours, e.g. ("#0f172a",)')
        parsed = [_hex(c) for c in colours]
        if len(parsed) == 1:
            base = parsed[0]
            dark, mid, accent = _tone(base, 0.24), _tone(base, 0.45), _tone(base, 0.78)
        else:
            dark, accent = parsed[0], parsed[-1]
            mid = parsed[1] if len(parsed) > 2 else _mix(dark, accent, 0.45)
        # White captions need a dark base: keep the hue of the darkest colour, cap its lightness.
        if _lightness(dark) > 0.32:
            dark = _tone(dark, 0.32)
        return cls(
            dark=dark,
            mid=mid,
            accent=accent,
            extras=tuple(parsed[2:-1]),
            deep=_tone(dark, _lightness(dark) * 0.62),
            light=_tone(accent, min(0.97, _lightness(accent) + 0.16), 0.7),
        )

    def colours(self) -> list[Color]:
        return [self.mid, self.accent, *self.extras]


# ----------------------------------------------------------------------------- fields


class _Grid:
    """Normalised pixel coordinates of a (possibly reduced) canvas, and its scale."""

    def __init__(self, width: int, height: int, scale: float) -> None:
        self.w = max(2, round(width * scale))
        self.h = max(2, round(height * scale))
        self.scale = self.w / width
        self.x = ((np.arange(self.w, dtype=np.float32) + 0.5) / self.w)[None, :]
        self.y = ((np.arange(self.h, dtype=np.float32) + 0.5) / self.h)[:, None]
        self.aspect = width / height  # x units per y unit, for round shapes
        self.unit = min(self.w, self.h)  # pixels of min(width, height) at this scale


def _work_scale(width: int, height: int, longest: int) -> float:
    return min(1.0, longest / max(width, height))


def _noise(rng: Rng, grid: _Grid, cells: int) -> Float:
    """Smooth value noise in [0, 1]: a small random lattice upscaled bilinearly."""
    cy = max(2, round(cells * grid.h / max(grid.w, grid.h))) + 3
    cx = max(2, round(cells * grid.w / max(grid.w, grid.h))) + 3
    lattice = rng.random((cy, cx), dtype=np.float32)
    # Crop the borders, where an upscale of a lattice clamps and looks stretched. Bilinear: the
    # cubic flag was once passed where cv2 expects `dst` and ignored; scenes keep that look.
    size = (grid.w * cx // (cx - 2), grid.h * cy // (cy - 2))
    big = _float(cv2.resize(lattice, size, interpolation=cv2.INTER_LINEAR))
    oy = (big.shape[0] - grid.h) // 2
    ox = (big.shape[1] - grid.w) // 2
    return np.clip(big[oy : oy + grid.h, ox : ox + grid.w], 0.0, 1.0)


def _glow(grid: _Grid, cx: float, cy: float, radius: float) -> Float:
    """A Gaussian light blob; centre in normalised coords, radius in units of min(W, H)."""
    sx = radius * grid.unit / grid.w
    sy = radius * grid.unit / grid.h
    blob: Float = np.exp(-(((grid.x - cx) / sx) ** 2 + ((grid.y - cy) / sy) ** 2) * 0.5)
    return blob


def _screen(base: Float, color: Color, amount: Float) -> Float:
    """Screen blend a light colour in by ``amount`` (H, W): brightens without clipping."""
    return 1.0 - (1.0 - base) * (1.0 - amount[..., None] * color)


def _smoothstep(e0: float, e1: float, x: Float) -> Float:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _caption_guard(grid: _Grid, strength: float = 0.42) -> Float:
    """Darkening for the lower third (white captions) and a gentle vignette, as a multiplier."""
    lower = 1.0 - strength * _smoothstep(0.52, 1.0, grid.y)
    dx = (grid.x - 0.5) * 2.0
    dy = (grid.y - 0.45) * 2.0
    vignette = 1.0 - 0.28 * np.clip(dx * dx * 0.7 + dy * dy * 0.5, 0.0, 1.6) ** 1.4
    return lower * vignette


# An 8x8 Bayer matrix: an ordered dither of +-0.5 LSB hides 8-bit banding in slow gradients like
# random dither does, yet compresses ~10x better in PNG (random dither made the write 4x slower).
_BAYER = (
    np.array(
        [
            [0, 32, 8, 40, 2, 34, 10, 42],
            [48, 16, 56, 24, 50, 18, 58, 26],
            [12, 44, 4, 36, 14, 46, 6, 38],
            [60, 28, 52, 20, 62, 30, 54, 22],
            [3, 35, 11, 43, 1, 33, 9, 41],
            [51, 19, 59, 27, 49, 17, 57, 25],
            [15, 47, 7, 39, 13, 45, 5, 37],
            [63, 31, 55, 23, 61, 29, 53, 21],
        ],
        np.float32,
    )
    + 0.5
) / 64.0 - 0.5


@functools.lru_cache(maxsize=4)
def _dither(height: int, width: int) -> Float:
    tile = np.tile(_BAYER, (height // 8 + 1, width // 8 + 1))[:height, :width]
    out = np.ascontiguousarray(np.repeat(tile[..., None], 3, axis=2))
    out.flags.writeable = False
    return out


def _quantise(image: Float) -> U8:
    """Float RGB [0, 1] -> uint8 with an ordered dither (cv2: one pass each, multi-threaded)."""
    h, w = image.shape[:2]
    scaled = cv2.scaleAdd(np.ascontiguousarray(image, np.float32), 255.0, _dither(h, w))
    return _u8(cv2.convertScaleAbs(scaled))  # rounds and saturates; the dither keeps it >= -0.5


def _to_u8(image: Float) -> U8:
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _upscale(image: _Image, width: int, height: int) -> _Image:
    if image.shape[1] == width and image.shape[0] == height:
        return image
    return cast(_Image, cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC))


def _straight(rgb: Float, alpha: Float) -> Float:
    """Premultiplied colour -> straight colour, spread into the transparent pixels around it.

    Overlays are upscaled and later scaled again by the renderer without premultiplying; a
    transparent pixel must carry its neighbour's colour, or soft edges pick up dark fringes.
    The spread is a blurred average at 1/8 size: only its value next to the ink matters.
    """
    h, w = alpha.shape
    sw, sh = max(1, w // 8), max(1, h // 8)
    small_rgb = cv2.GaussianBlur(
        cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA), (0, 0), 1.5
    ).reshape(sh, sw, 3)
    small_a = cv2.GaussianBlur(
        cv2.resize(alpha, (sw, sh), interpolation=cv2.INTER_AREA), (0, 0), 1.5
    ).reshape(sh, sw, 1)
    fallback = rgb.reshape(-1, 3).sum(0) / max(float(alpha.sum()), 1e-6)
    spread = np.where(small_a > 1e-4, small_rgb / np.maximum(small_a, 1e-4), fallback)
    out = cv2.resize(spread.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    out = _float(out.reshape(h, w, 3))
    solid = (alpha > 1e-3)[..., None]
    np.divide(rgb, np.maximum(alpha, 1e-3)[..., None], out=out, where=solid)
    return np.clip(out, 0.0, 1.0, out=out)


def _lower_fade(y: Float, amount: float) -> Float:
    return 1.0 - amount * _smoothstep(0.55, 1.0, y)


class _Canvas:
    """A premultiplied RGBA float canvas for an overlay of soft shapes, at a work scale."""

    def __init__(self, grid: _Grid) -> None:
        self.grid = grid
        self.rgb = np.zeros((grid.h, grid.w, 3), np.float32)
        self.alpha = np.zeros((grid.h, grid.w), np.float32)

    def paint(
        self,
        color: Color | Float,
        mask: Float,
        region: tuple[slice, slice] | None = None,
    ) -> None:
        """Composite ``color`` (a colour or an (h, w, 3) image) through ``mask``, over."""
        region = region or (slice(None), slice(None))
        rgb, alpha = self.rgb[region], self.alpha[region]
        keep = 1.0 - mask
        rgb *= keep[..., None]
        rgb += mask[..., None] * color
        alpha *= keep
        alpha += mask

    def to_bgra(self, width: int, height: int, fade_lower: float = 0.0) -> U8:
        """Full-size straight-alpha BGRA uint8; ``fade_lower`` thins shapes over the captions."""
        alpha = np.clip(self.alpha, 0.0, 1.0)
        straight = _straight(self.rgb, alpha)
        if fade_lower:
            alpha = alpha * _lower_fade(self.grid.y, fade_lower)
        small = _to_u8(np.dstack([straight[..., ::-1], alpha]))
        return _upscale(small, width, height)


def _region(grid: _Grid, cx: float, cy: float, rx: float, ry: float) -> tuple[slice, slice]:
    """The pixel window of a shape's bounding box (pixel coords), clipped to the canvas."""
    x0 = max(0, int(cx - rx) - 1)
    x1 = min(grid.w, int(cx + rx) + 2)
    y0 = max(0, int(cy - ry) - 1)
    y1 = min(grid.h, int(cy + ry) + 2)
    return slice(y0, max(y0, y1)), slice(x0, max(x0, x1))


def _disc(
    canvas: _Canvas,
    cx: float,
    cy: float,
    radius: float,
    color: Color,
    opacity: float,
    softness: float = 0.15,
    rim: float = 0.0,
) -> None:
    """A soft disc (a bokeh highlight): centre in normalised coords, radius in unit pixels."""
    grid = canvas.grid
    px, py, r = cx * grid.w, cy * grid.h, radius * grid.unit
    edge = max(0.8, r * softness)
    region = _region(grid, px, py, r + 2 * edge, r + 2 * edge)
    ys = np.arange(region[0].start, region[0].stop, dtype=np.float32)[:, None] + 0.5
    xs = np.arange(region[1].start, region[1].stop, dtype=np.float32)[None, :] + 0.5
    if ys.size == 0 or xs.size == 0:
        return
    d = np.sqrt((xs - px) ** 2 + (ys - py) ** 2)
    inside = np.clip((r - d) / edge * 0.5 + 0.5, 0.0, 1.0)
    inside = inside * inside * (3 - 2 * inside)
    body = 0.75 + 0.25 * (d / max(r, 1e-3)) ** 2  # real bokeh brightens towards its rim
    if rim:
        body = body + rim * np.exp(-(((d - r + edge) / edge) ** 2))
    canvas.paint(color, np.clip(inside * body * opacity, 0.0, 1.0), region)


def _near_lights(
    rng: Rng,
    width: int,
    height: int,
    count: int,
    colors: list[Color],
    lowest: float,
    radius: tuple[float, float],
    opacity: tuple[float, float],
    softness: float,
) -> _Canvas:
    """``count`` soft lights in front of the scene, above ``lowest``, at a 320 px work scale."""
    near = _Canvas(_Grid(width, height, _work_scale(width, height, 320)))
    for _ in range(count):
        _disc(
            near,
            rng.uniform(0.0, 1.0),
            rng.uniform(0.0, lowest),
            rng.uniform(*radius),
            colors[int(rng.integers(len(colors)))],
            rng.uniform(*opacity),
            softness=softness,
        )
    return near


# ----------------------------------------------------------------------------- full-size lines


class _Ink:
    """Antialiased full-size line art in a few colours, composited as one RGBA layer.

    Alpha is kept at full size (thin lines need it); colour is flat per mask, so it is resolved
    at quarter size and upscaled, which keeps the float work off the full-size arrays.
    """

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.masks: list[tuple[Color, float, U8]] = []

    def mask(self, color: Color, opacity: float) -> U8:
        m = np.zeros((self.height, self.width), np.uint8)
        self.masks.append((color, opacity, m))
        return m

    def to_bgra(self, glow: float = 0.0, fade_lower: float = 0.0) -> U8:
        """Straight-alpha BGRA uint8; ``glow`` adds a soft halo, ``fade_lower`` as for canvases."""
        w, h = self.width, self.height
        sw, sh = max(2, w // 4), max(2, h // 4)
        alpha8 = np.zeros((h, w), np.uint8)
        rgb = np.zeros((sh, sw, 3), np.float32)
        a_small = np.zeros((sh, sw), np.float32)
        for color, opacity, m in self.masks:
            alpha8 = _u8(cv2.addWeighted(alpha8, 1.0, m, opacity, 0.0))  # saturating sum of inks
            small = cv2.resize(m, (sw, sh), interpolation=cv2.INTER_AREA)
            small = small.astype(np.float32) * (opacity / 255.0)
            rgb += small[..., None] * color
            a_small += small
        if glow:
            halo = _float(
                cv2.GaussianBlur(np.clip(a_small, 0, 1), (0, 0), max(1.0, min(w, h) / 1000))
            )
            halo8 = cv2.resize(_to_u8(np.clip(halo * glow, 0, 1)), (w, h))
            alpha8 = _u8(cv2.max(alpha8, halo8))
        if fade_lower:
            y = ((np.arange(h, dtype=np.float32) + 0.5) / h)[:, None]
            column = _to_u8(_lower_fade(y, fade_lower))
            alpha8 = _u8(cv2.multiply(alpha8, cv2.repeat(column, 1, w), scale=1 / 255))
        colour = _to_u8(_straight(rgb, a_small)[..., ::-1])
        out = _u8(cv2.cvtColor(cv2.resize(colour, (w, h), interpolation=cv2.INTER_LINEAR),
                               cv2.COLOR_BGR2BGRA))  # fmt: skip
        out[..., 3] = alpha8
        return out


def _points(xy: NDArray[np.float64]) -> NDArray[np.int32]:
    """Float pixel points -> the int32 fixed-point form cv2 draws with ``shift=4`` (subpixel)."""
    fixed: NDArray[np.int32] = np.round(xy * 16).astype(np.int32)
    return fixed.reshape(-1, 1, 2)


# ----------------------------------------------------------------------------- scenes


@dataclass
class _Scene:
    background: Float  # RGB (h, w, 3) at work scale
    overlays: list[tuple[U8, str, float]]  # (full-size BGRA uint8, motion, opacity)
    motion: str = "drift"


def _background(
    pal: _Palette, rng: Rng, grid: _Grid, stops: list[tuple[float, Color]], angle_deg: float
) -> Float:
    """A multi-stop linear gradient along ``angle_deg`` (0 = top to bottom), gently warped."""
    a = math.radians(angle_deg)
    t = (grid.x - 0.5) * math.sin(a) * grid.aspect + (grid.y - 0.5) * math.cos(a)
    span = abs(math.sin(a)) * grid.aspect + abs(math.cos(a))
    t = t / span + 0.5 + (_noise(rng, grid, 3) - 0.5) * 0.16
    return _apply_ramp(_ramp(stops), t)


def _finish(image: Float, grid: _Grid, guard: float = 0.42) -> Float:
    return np.clip(image * _caption_guard(grid, guard)[..., None], 0.0, 1.0)


def _style_gradient(pal: _Palette, rng: Rng, width: int, height: int) -> _Scene:
    grid = _Grid(width, height, _work_scale(width, height, 320))
    stops = [
        (0.0, _tone(pal.mid, min(0.8, _lightness(pal.mid) + 0.14), 1.1)),
        (0.35, pal.mid),
        (0.72, _mix(pal.dark, pal.mid, 0.35)),
        (1.0, pal.deep),
    ]
    bg = _background(pal, rng, grid, stops, rng.uniform(-35, 35))
    for _ in range(3):
        color = pal.light if rng.random() < 0.5 else pal.accent
        blob = _glow(grid, rng.uniform(0.1, 0.9), rng.uniform(0.05, 0.55), rng.uniform(0.25, 0.5))
        bg = _screen(bg, color, blob * rng.uniform(0.18, 0.32))
    # Glass orbs drifting in front: large, soft, faint.
    canvas = _Canvas(_Grid(width, height, _work_scale(width, height, 480)))
    for _ in range(int(rng.integers(3, 6))):
        _disc(
            canvas,
            rng.uniform(0.05, 0.95),
            rng.uniform(0.05, 0.7),
            rng.uniform(0.12, 0.32),
            _mix(pal.light, pal.accent, rng.uniform(0, 0.5)),
            rng.uniform(0.05, 0.11),
            softness=0.05,
            rim=0.9,
        )
    overlay = canvas.to_bgra(width, height, fade_lower=0.6)
    return _Scene(_finish(bg, grid), [(overlay, "drift-reverse", 0.85)], "drift")


def _style_bokeh(pal: _Palette, rng: Rng, width: int, height: int) -> _Scene:
    grid = _Grid(width, height, _work_scale(width, height, 320))
    cx, cy = rng.uniform(0.3, 0.7), rng.uniform(0.25, 0.45)
    d = np.sqrt(((grid.x - cx) * grid.aspect) ** 2 + (grid.y - cy) ** 2)
    d = d / float(d.max()) + (_noise(rng, grid, 4) - 0.5) * 0.1
    lut = _ramp([(0.0, pal.mid), (0.45, _mix(pal.dark, pal.mid, 0.4)), (1.0, pal.deep)])
    bg = _apply_ramp(lut, d)
    bg = _screen(bg, pal.accent, _glow(grid, cx, cy, 0.3) * 0.22)
    colors = [pal.light, pal.accent, _mix(pal.mid, pal.light, 0.6), *pal.extras]
    far = _Canvas(_Grid(width, height, _work_scale(width, height, 640)))
    for _ in range(int(rng.integers(40, 60))):
        y = rng.beta(1.6, 2.4)  # more lights in the upper half, where the eye rests
        _disc(
            far,
            rng.uniform(-0.02, 1.02),
            y,
            rng.uniform(0.012, 0.05),
            colors[int(rng.integers(len(colors)))],
            rng.uniform(0.18, 0.55),
            softness=0.12,
            rim=0.35,
        )
    count = int(rng.integers(6, 10))
    near = _near_lights(rng, width, height, count, colors, 0.8, (0.07, 0.16), (0.1, 0.22), 0.45)
    return _Scene(
        _finish(bg, grid),
        [
            (far.to_bgra(width, height, fade_lower=0.55), "drift-reverse", 0.9),
            (near.to_bgra(width, height, fade_lower=0.5), "pan-up", 0.8),
        ],
        "zoom-in",
    )


def _wave_curve(rng: Rng, x: Float, base: float, amplitude: float) -> Float:
    curve = np.full_like(x, base)
    for k in range(3):
        wavelength = rng.uniform(0.5, 1.4) / (k + 1)
        curve += (amplitude / (k + 1) ** 1.3) * np.sin(
            2 * math.pi * x / wavelength + rng.uniform(0, 2 * math.pi)
        )
    return curve


def _style_waves(pal: _Palette, rng: Rng, width: int, height: int) -> _Scene:
    grid = _Grid(width, height, _work_scale(width, height, 320))
    stops = [
        (0.0, _mix(pal.mid, pal.accent, 0.15)),
        (0.45, pal.mid),
        (1.0, pal.dark),
    ]
    bg = _background(pal, rng, grid, stops, rng.uniform(-20, 20))
    bg = _screen(bg, pal.light, _glow(grid, rng.uniform(0.2, 0.8), 0.15, 0.45) * 0.25)

    fill_grid = _Grid(width, height, _work_scale(width, height, 800))
    canvas = _Canvas(fill_grid)
    count = int(rng.integers(3, 5))
    x = fill_grid.x[0]
    for i in range(count):
        depth = i / max(1, count - 1)  # 0 = back, 1 = front
        base = 0.56 + 0.3 * depth + rng.uniform(-0.02, 0.02)
        curve = _wave_curve(rng, x, base, rng.uniform(0.018, 0.035))[None, :]
        # Work only on the rows the wave can touch: the fill lies below its highest crest.
        first = max(0, int(float(curve.min()) * fill_grid.h) - 8)
        rows = (slice(first, fill_grid.h), slice(None))
        y = fill_grid.y[first:]
        below = (y - curve) * fill_grid.h
        body = np.clip(below / 1.5 + 0.5, 0.0, 1.0)
        shade = np.clip((y - curve) / 0.25, 0.0, 1.0)[..., None]  # darker away from the crest
        top = _mix(pal.mid, pal.accent, 0.35 * (1 - depth))
        bottom = _mix(pal.dark, pal.deep, depth)
        canvas.paint(top + (bottom - top) * shade, body * (0.55 + 0.4 * depth), rows)
        crest = np.exp(-((below / (1.2 + 1.5 * (1 - depth))) ** 2)) * 0.55
        canvas.paint(pal.light, crest, rows)
    fills = canvas.to_bgra(width, height)

    # Silk: many thin lines sharing one flowing shape, slowly shifting phase.
    ink = _Ink(width, height)
    unit = min(width, height)
    mask = ink.mask(_mix(pal.light, pal.accent, 0.3), 0.45)
    xs = np.linspace(-0.05, 1.05, 160)
    base = rng.uniform(0.28, 0.4)
    phase, wavelength = rng.uniform(0, 2 * math.pi), rng.uniform(0.8, 1.3)
    thickness = max(1, round(unit / 900))
    lines = int(rng.integers(18, 28))
    for k in range(lines):
        shift = k / lines
        ys = (
            base
            + 0.08 * np.sin(2 * math.pi * xs / wavelength + phase + shift * 1.8)
            + 0.03 * np.sin(2 * math.pi * xs * 2.3 + phase * 0.7 + shift * 3.0)
            + 0.05 * shift
        )
        pts = np.stack([xs * width, ys * height], axis=1)
        cv2.polylines(mask, [_points(pts)], False, (255,), thickness, cv2.LINE_AA, shift=4)
    # Fade the silk out towards the sides so it does not end abruptly at the frame edge.
    across = np.clip(np.sin(np.linspace(0, math.pi, width, dtype=np.float32)), 0, 1) ** 0.6
    mask[:] = cv2.multiply(mask, cv2.repeat(_to_u8(across)[None, :], height, 1), scale=1 / 255)
    silk = ink.to_bgra(glow=0.6)
    return _Scene(_finish(bg, grid), [(fills, "pan-right", 0.95), (silk, "drift", 0.7)], "drift")


def _polygon(cx: float, cy: float, radius: float, sides: int, angle: float) -> NDArray[np.float64]:
    t = angle + np.arange(sides) * 2 * math.pi / sides
    return np.stack([cx + radius * np.cos(t), cy + radius * np.sin(t)], axis=1)


def _spread(
    rng: Rng, count: int, keep_out: tuple[float, float, float, float], tries: int = 20
) -> list[tuple[float, float]]:
    """Random positions avoiding a central box (x0, y0, x1, y1) where titles sit."""
    points: list[tuple[float, float]] = []
    x0, y0, x1, y1 = keep_out
    for _ in range(count):
        for _ in range(tries):
            x, y = rng.uniform(0.02, 0.98), rng.uniform(0.02, 0.9)
            if not (x0 < x < x1 and y0 < y < y1):
                break
        points.append((x, y))
    return points


def _style_geometric(pal: _Palette, rng: Rng, width: int, height: int) -> _Scene:
    grid = _Grid(width, height, _work_scale(width, height, 320))
    stops = [
        (0.0, _mix(pal.mid, pal.accent, 0.18)),
        (0.5, _mix(pal.dark, pal.mid, 0.6)),
        (1.0, pal.deep),
    ]
    bg = _background(pal, rng, grid, stops, rng.choice([-40.0, 40.0]) + rng.uniform(-10, 10))
    bg = _screen(bg, pal.accent, _glow(grid, rng.uniform(0.6, 0.95), 0.12, 0.4) * 0.2)
    bg = _screen(bg, pal.light, _glow(grid, rng.uniform(0.05, 0.4), 0.5, 0.35) * 0.12)

    ink = _Ink(width, height)
    unit = min(width, height)
    inks = [ink.mask(pal.accent, 0.85), ink.mask(pal.light, 0.6), ink.mask(pal.mid, 0.7)]
    thickness = max(1, round(unit / 300))
    for x, y in _spread(rng, int(rng.integers(9, 14)), (0.18, 0.3, 0.82, 0.62)):
        target = inks[int(rng.integers(len(inks)))]
        size = rng.uniform(0.03, 0.1) * unit
        kind = rng.choice(["ring", "triangle", "square", "hexagon", "plus", "dots"])
        px, py, angle = x * width, y * height, rng.uniform(0, math.pi)
        if kind == "ring":
            cv2.circle(target, _points(np.array([px, py]))[0, 0], round(size * 16), (255,),
                       thickness, cv2.LINE_AA, shift=4)  # fmt: skip
        elif kind == "plus":
            arm = size * 0.5
            for dx, dy in ((arm, 0.0), (0.0, arm)):
                seg = np.array([[px - dx, py - dy], [px + dx, py + dy]])
                cv2.polylines(target, [_points(seg)], False, (255,), thickness + 1, cv2.LINE_AA, 4)
        elif kind == "dots":
            # A 3x3 dot grid, the small detail designers scatter between big shapes.
            step = size * 0.45
            for gx in range(3):
                for gy in range(3):
                    centre = _points(np.array([px + gx * step, py + gy * step]))[0, 0]
                    cv2.circle(target, centre, round(thickness * 1.2 * 16), (255,), -1,
                               cv2.LINE_AA, shift=4)  # fmt: skip
        else:
            sides = {"triangle": 3, "square": 4, "hexagon": 6}[str(kind)]
            pts = _polygon(px, py, size, sides, angle)
            cv2.polylines(target, [_points(pts)], True, (255,), thickness, cv2.LINE_AA, shift=4)
    outlines = ink.to_bgra(glow=0.5, fade_lower=0.5)

    canvas = _Canvas(_Grid(width, height, _work_scale(width, height, 480)))
    g = canvas.grid
    for _ in range(int(rng.integers(2, 4))):
        corner_x = rng.choice([rng.uniform(-0.1, 0.2), rng.uniform(0.8, 1.1)])
        corner_y = rng.uniform(-0.05, 0.75)
        pts = _polygon(corner_x * g.w, corner_y * g.h, rng.uniform(0.25, 0.5) * g.unit,
                       int(rng.choice([3, 4, 6])), rng.uniform(0, math.pi))  # fmt: skip
        shape = np.zeros((g.h, g.w), np.uint8)
        cv2.fillPoly(shape, [_points(pts)], (255,), cv2.LINE_AA, shift=4)
        soft = cv2.GaussianBlur(shape.astype(np.float32) / 255.0, (0, 0), g.unit / 300)
        canvas.paint(
            _mix(pal.mid, pal.light, rng.uniform(0.2, 0.6)), soft * rng.uniform(0.06, 0.12)
        )
    planes = canvas.to_bgra(width, height, fade_lower=0.4)
    return _Scene(
        _finish(bg, grid), [(planes, "zoom-out", 0.9), (outlines, "drift-reverse", 0.9)], "drift"
    )


def _style_aurora(pal: _Palette, rng: Rng, width: int, height: int) -> _Scene:
    grid = _Grid(width, height, _work_scale(width, height, 320))
    night = _tone(pal.dark, min(0.2, _lightness(pal.dark)))
    stops = [(0.0, _mix(night, pal.mid, 0.25)), (0.55, night), (1.0, _tone(night, 0.1))]
    bg = _background(pal, rng, grid, stops, rng.uniform(-10, 10))
    bg = _finish(bg, grid, 0.3)
    # Stars: an overlay moving with the sky, drawn at full size as 2-3 px antialiased dots so the
    # renderer's zoom keeps them round and soft.
    unit = min(width, height)
    sky = _Ink(width, height)
    dim, bright = sky.mask(_tone(pal.light, 0.95, 0.2), 0.45), sky.mask(np.ones(3, np.float32), 0.9)
    for _ in range(int(rng.integers(90, 150))):
        x, y = rng.uniform(0, width), rng.beta(1.2, 2.8) * height * 0.8
        r = rng.uniform(0.8, 1.8) * unit / 1080
        target = bright if rng.random() < 0.25 else dim
        cv2.circle(target, (round(x * 16), round(y * 16)), max(8, round(r * 16)), (255,), -1,
                   cv2.LINE_AA, shift=4)  # fmt: skip
    stars = sky.to_bgra()

    ag = _Grid(width, height, _work_scale(width, height, 480))
    canvas = _Canvas(ag)
    x = ag.x[0]
    # Vivid: the glowing lower edge in the accent, the fading top in the mid colour. Mixing the
    # two in between would pass through grey for complementary palettes (navy and amber).
    bottom_color = _tone(pal.accent, 0.84, 1.25)
    top_color = _tone(pal.mid, 0.62, 1.6, hue_deg=-20)
    for band in range(int(rng.integers(2, 4))):
        base = rng.uniform(0.34, 0.5) + band * 0.05
        curve = _wave_curve(rng, x, base, rng.uniform(0.03, 0.06))[None, :]
        length = rng.uniform(0.18, 0.3)
        above = curve - ag.y  # > 0 above the lower edge of the curtain
        profile = _smoothstep(-0.01, 0.015, above) * np.exp(-np.maximum(above, 0) / length)
        # Rays: fine vertical streaks, leaning slightly, from 1-D noise stretched upwards.
        ray_noise = rng.random(int(rng.integers(50, 90))).astype(np.float32)
        lean = (x[None, :] + above * rng.uniform(-0.25, 0.25)) % 1.0
        rays = np.interp(lean.ravel(), np.linspace(0, 1, len(ray_noise)), ray_noise)
        rays = 0.45 + 0.55 * rays.reshape(lean.shape) ** 1.5
        sway = 0.5 + 0.5 * np.sin(2 * math.pi * (x * rng.uniform(0.8, 1.6) + rng.random()))
        strength = profile * rays * (0.35 + 0.65 * sway[None, :]) * rng.uniform(0.55, 0.85)
        t = np.clip(above / length, 0.0, 1.0)[..., None]
        color = bottom_color * (1 - t) + top_color * t
        canvas.paint(color, np.clip(strength, 0.0, 1.0).astype(np.float32))
    curtains = canvas.to_bgra(width, height, fade_lower=0.3)
    return _Scene(bg, [(stars, "drift", 0.9), (curtains, "pan-left", 0.9)], "drift")


def _style_confetti(pal: _Palette, rng: Rng, width: int, height: int) -> _Scene:
    grid = _Grid(width, height, _work_scale(width, height, 320))
    bright = _tone(pal.mid, max(0.55, _lightness(pal.mid)), 1.1)
    stops = [(0.0, _mix(bright, pal.light, 0.35)), (0.5, bright), (1.0, pal.dark)]
    bg = _background(pal, rng, grid, stops, rng.uniform(-15, 15))
    # A soft sunburst from above: the cheerful backdrop of a picture book.
    cx, cy = rng.uniform(0.35, 0.65), rng.uniform(-0.1, 0.15)
    theta = np.arctan2((grid.y - cy), (grid.x - cx) * grid.aspect)
    rays = _smoothstep(0.2, 0.6, np.sin(theta * int(rng.integers(8, 13)) + rng.uniform(0, 6)))
    bg = _screen(bg, pal.light, rays * 0.08 * _glow(grid, cx, cy, 1.2))
    bg = _screen(bg, pal.accent, _glow(grid, rng.uniform(0.1, 0.9), 0.3, 0.35) * 0.25)
    bg = _finish(bg, grid, 0.5)

    hues = [pal.accent, *pal.extras, pal.light]
    for turn in (60.0, 140.0, 220.0, 300.0):  # playful companions of the accent
        hues.append(_tone(pal.accent, max(0.68, _lightness(pal.accent)), 1.1, hue_deg=turn))
    ink = _Ink(width, height)
    masks = [ink.mask(c, 0.95) for c in hues]
    unit = min(width, height)
    for _ in range(int(rng.integers(60, 100))):
        target = masks[int(rng.integers(len(masks)))]
        px, py = rng.uniform(0, width), rng.beta(1.3, 2.0) * height
        size = rng.uniform(0.008, 0.02) * unit
        angle = rng.uniform(0, math.pi)
        kind = rng.choice(["strip", "strip", "dot", "triangle", "squiggle"])
        if kind == "dot":
            cv2.circle(target, (round(px * 16), round(py * 16)), round(size * 0.8 * 16), (255,),
                       -1, cv2.LINE_AA, shift=4)  # fmt: skip
        elif kind == "squiggle":
            t = np.linspace(-1, 1, 24)
            local = np.stack([t * size * 1.6, np.sin(t * 3 * math.pi) * size * 0.35], axis=1)
            rot = np.array(
                [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]
            )
            pts = local @ rot.T + [px, py]
            thickness = max(2, round(size * 0.35))
            cv2.polylines(target, [_points(pts)], False, (255,), thickness, cv2.LINE_AA, shift=4)
        else:
            if kind == "strip":
                half = np.array([[-1, -0.45], [1, -0.45], [1, 0.45], [-1, 0.45]]) * size
            else:
                half = _polygon(0, 0, size, 3, 0)
            rot = np.array(
                [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]
            )
            pts = half @ rot.T + [px, py]
            cv2.fillPoly(target, [_points(pts)], (255,), cv2.LINE_AA, shift=4)
    pieces = ink.to_bgra(fade_lower=0.55)

    count = int(rng.integers(6, 11))
    near = _near_lights(rng, width, height, count, hues, 0.75, (0.025, 0.06), (0.35, 0.6), 0.5)
    return _Scene(
        bg,
        [(pieces, "pan-down", 0.95), (near.to_bgra(width, height, fade_lower=0.5), "zoom-in", 0.7)],
        "zoom-out",
    )


def _style_grid(pal: _Palette, rng: Rng, width: int, height: int) -> _Scene:
    grid = _Grid(width, height, _work_scale(width, height, 320))
    stops = [(0.0, _mix(pal.dark, pal.mid, 0.5)), (0.6, pal.dark), (1.0, pal.deep)]
    bg = _background(pal, rng, grid, stops, rng.uniform(-10, 10))
    cx, cy = rng.uniform(0.35, 0.65), rng.uniform(0.3, 0.45)
    bg = _screen(bg, pal.mid, _glow(grid, cx, cy, 0.45) * 0.45)
    bg = _screen(bg, pal.accent, _glow(grid, rng.choice([0.05, 0.95]), 0.1, 0.3) * 0.18)

    unit = min(width, height)
    step = unit / rng.uniform(7.0, 9.0)
    ox, oy = rng.uniform(0, step), rng.uniform(0, step)
    ink = _Ink(width, height)
    lines = ink.mask(_mix(pal.mid, pal.light, 0.55), 0.32)
    thickness = max(1, round(unit / 1000))
    for gx in np.arange(ox, width, step):
        seg = np.array([[gx, 0], [gx, height]])
        cv2.polylines(lines, [_points(seg)], False, (255,), thickness, cv2.LINE_AA, shift=4)
    for gy in np.arange(oy, height, step):
        seg = np.array([[0, gy], [width, gy]])
        cv2.polylines(lines, [_points(seg)], False, (255,), thickness, cv2.LINE_AA, shift=4)
    cells = ink.mask(pal.accent, 0.1)
    nodes = ink.mask(pal.accent, 0.95)
    columns, rows = int(width / step) + 1, int(height / step) + 1
    for col, row in zip(
        rng.integers(columns, size=5), rng.integers(int(rows * 0.7), size=5), strict=True
    ):
        x0, y0 = ox + (col - 1) * step, oy + (row - 1) * step
        cv2.rectangle(
            cells, (round(x0), round(y0)), (round(x0 + step), round(y0 + step)), (255,), -1
        )
    # Nodes joined by traces along the lattice, like a circuit: a random walk on the grid.
    radius = max(2.0, unit / 260)
    for _ in range(2):
        # Start at a side, in the upper half: traces frame the title instead of crossing it.
        col = int(rng.integers(0, max(1, columns // 4)))
        if rng.random() < 0.5:
            col = columns - 1 - col
        row = int(rng.integers(max(1, rows // 2)))
        here = np.array([ox + col * step, oy + row * step])
        cv2.circle(nodes, _points(here)[0, 0], round(radius * 16), (255,), -1, cv2.LINE_AA, 4)
        for _ in range(int(rng.integers(3, 6))):
            move = np.array([1.0, 0.0]) if rng.random() < 0.5 else np.array([0.0, 1.0])
            there = here + move * step * int(rng.choice([-3, -2, -1, 1, 2, 3]))
            there = np.clip(there, [ox, oy], [ox + (columns - 1) * step, oy + (rows - 1) * step])
            if abs(there[0] / width - 0.5) < 0.3 and abs(there[1] / height - 0.45) < 0.2:
                continue  # keep the title area clear
            cv2.polylines(nodes, [_points(np.stack([here, there]))], False, (160,),
                          thickness + 1, cv2.LINE_AA, shift=4)  # fmt: skip
            cv2.circle(nodes, _points(there)[0, 0], round(radius * 16), (255,), -1, cv2.LINE_AA, 4)
            here = there
    # Fade the lattice out towards the edges: a lit surface, not graph paper.
    fade = _to_u8(_glow(_Grid(width, height, 0.125), cx, cy, 0.75))
    fade = _u8(cv2.resize(fade, (width, height), interpolation=cv2.INTER_LINEAR))
    lines[:] = cv2.multiply(lines, fade, scale=1 / 255)
    cells[:] = cv2.multiply(cells, fade, scale=1 / 255)
    lattice = ink.to_bgra(glow=0.7, fade_lower=0.45)

    sg = _Grid(width, height, _work_scale(width, height, 480))
    canvas = _Canvas(sg)
    angle = math.radians(rng.uniform(-35, -20))
    along = (sg.x * sg.aspect) * math.cos(angle) + sg.y * math.sin(angle)
    across = -(sg.x * sg.aspect) * math.sin(angle) + sg.y * math.cos(angle)
    for _ in range(int(rng.integers(3, 6))):
        offset = rng.uniform(float(across.min()), float(across.max()) * 0.8)
        thin = rng.uniform(0.002, 0.012)
        streak = np.exp(-(((across - offset) / thin) ** 2))
        start = rng.uniform(float(along.min()), float(along.max()) * 0.5)
        length = rng.uniform(0.3, 0.9)
        envelope = np.clip(np.sin(np.clip((along - start) / length, 0, 1) * math.pi), 0, 1)
        canvas.paint(pal.light, (streak * envelope * rng.uniform(0.25, 0.5)).astype(np.float32))
    streaks = canvas.to_bgra(width, height, fade_lower=0.5)
    return _Scene(
        _finish(bg, grid), [(lattice, "zoom-in", 0.9), (streaks, "pan-left", 0.75)], "drift"
    )


def _style_sunset(pal: _Palette, rng: Rng, width: int, height: int) -> _Scene:
    grid = _Grid(width, height, _work_scale(width, height, 320))
    horizon = rng.uniform(0.56, 0.64)
    # The glow leans a little towards orange: a sunset is warm whatever the palette.
    glow = _tone(_mix(pal.accent, np.array([1.0, 0.6, 0.25], np.float32), 0.2), 0.86)
    stops = [
        (0.0, pal.deep),
        (horizon * 0.35, _mix(pal.dark, pal.mid, 0.7)),
        (horizon * 0.75, _mix(pal.mid, pal.accent, 0.55)),
        (horizon, glow),
        (min(0.99, horizon + 0.08), _mix(pal.accent, pal.dark, 0.55)),
        (1.0, pal.deep),
    ]
    bg = _background(pal, rng, grid, stops, rng.uniform(-4, 4))
    sun_x, sun_y = rng.uniform(0.3, 0.7), horizon - rng.uniform(0.04, 0.09)
    bg = _screen(bg, glow, _glow(grid, sun_x, sun_y, 0.42) * 0.55)
    sun = _Canvas(grid)
    _disc(sun, sun_x, sun_y, 0.075, _tone(glow, 0.96, 0.5), 0.95, softness=0.25)
    bg = bg * (1 - sun.alpha[..., None]) + sun.rgb
    bg = _finish(bg, grid, 0.3)

    cg = _Grid(width, height, _work_scale(width, height, 400))
    clouds = _Canvas(cg)
    for _ in range(int(rng.integers(5, 9))):
        cy = rng.uniform(0.08, horizon - 0.08)
        cx = rng.uniform(-0.1, 1.1)
        rx, ry = rng.uniform(0.18, 0.4) * cg.w, rng.uniform(0.008, 0.02) * cg.h
        shape = np.zeros((cg.h, cg.w), np.float32)
        cv2.ellipse(shape, (round(cx * cg.w), round(cy * cg.h)), (round(rx), round(ry)), 0, 0, 360,
                    (1.0,), -1, cv2.LINE_AA)  # fmt: skip
        shape = _float(cv2.GaussianBlur(shape, (0, 0), ry * 0.8 + 1))
        lit = cy / horizon  # clouds near the sun catch its colour
        color = _mix(_mix(pal.mid, pal.dark, 0.3), glow, 0.25 + 0.6 * lit)
        clouds.paint(color, shape * rng.uniform(0.45, 0.75))
    cloud_layer = clouds.to_bgra(width, height)

    hg = _Grid(width, height, _work_scale(width, height, 480))
    hills = _Canvas(hg)
    x = hg.x[0]
    for i in range(3):
        depth = i / 2  # 0 = far (hazy), 1 = near (dark)
        ridge = (
            horizon
            + 0.02
            + 0.09 * depth
            + (_noise(rng, _Grid(hg.w, 8, 1.0), 4)[4] - 0.5) * (0.07 + 0.03 * depth)
        )
        ridge = ridge + 0.012 * np.sin(2 * math.pi * x * rng.uniform(2, 5) + rng.uniform(0, 6))
        inside = np.clip((hg.y - ridge[None, :]) * hg.h + 0.5, 0.0, 1.0)
        color = _mix(_mix(pal.accent, pal.dark, 0.7), pal.deep, 0.35 + 0.65 * depth)
        hills.paint(color, inside.astype(np.float32))
    hill_layer = hills.to_bgra(width, height)
    return _Scene(bg, [(cloud_layer, "pan-left", 0.85), (hill_layer, "pan-right", 0.97)], "zoom-in")


_STYLES: dict[str, Callable[[_Palette, Rng, int, int], _Scene]] = {
    "gradient": _style_gradient,
    "bokeh": _style_bokeh,
    "waves": _style_waves,
    "geometric": _style_geometric,
    "aurora": _style_aurora,
    "confetti": _style_confetti,
    "grid": _style_grid,
    "sunset": _style_sunset,
}
if list(_STYLES) != list(STYLES):  # the light list the spec checks styles against
    raise RuntimeError("_STYLES and procedural_styles.STYLES name different styles")


def scene_seed(request: VisualRequest) -> int:
    """The seed a scene is drawn with: the request's seed, varied by its prompt text if any."""
    if not request.prompt.strip():
        return int(request.seed)
    digest = hashlib.sha256(f"{request.seed}\x00{request.prompt.strip()}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _write_png(path: Path, bgr_or_bgra: U8) -> None:
    # Level 1: these PNGs are intermediates, and level 1 writes 3-5x faster than the default.
    if not cv2.imwrite(str(path), bgr_or_bgra, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
        raise EngineFailed(f"could not write {path}", hint="check the work folder is writable")


class ProceduralVisuals:
    """Designed procedural backgrounds with parallax overlays, in the request's palette."""

    name: ClassVar[str] = "procedural"

    def info(self) -> EngineInfo:
        return EngineInfo(name=self.name, kind="visuals", version=VERSION)

    def styles(self) -> list[str]:
        return list(_STYLES)

    def check_inputs(self, request: VisualRequest) -> None:
        if request.style not in _STYLES:
            raise SpecError(
                f"unknown procedural visual style {request.style!r}",
                hint=f"use one of: {', '.join(_STYLES)}",
            )
        request.check_size()

    def generate(self, request: VisualRequest, workdir: Path) -> VisualResult:
        self.check_inputs(request)
        palette = _Palette.of(request.palette)
        seed = scene_seed(request)
        rng = np.random.default_rng(seed)
        width, height = request.width, request.height
        scene = _STYLES[request.style](palette, rng, width, height)

        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        key = hashlib.sha256(
            f"{request.style}|{seed}|{width}x{height}|{','.join(request.palette)}".encode()
        ).hexdigest()[:10]
        layers = [VisualLayer(workdir / f"{request.style}-{key}-0.png", scene.motion, 1.0)]
        background = np.ascontiguousarray(scene.background[..., ::-1])  # RGB -> BGR for cv2
        images = [_quantise(_upscale(background, width, height))]
        for i, (bgra, motion, opacity) in enumerate(scene.overlays, start=1):
            layers.append(VisualLayer(workdir / f"{request.style}-{key}-{i}.png", motion, opacity))
            images.append(bgra)
        # PNG encoding is single-threaded and a third of the time: write the layers in parallel.
        with ThreadPoolExecutor(max_workers=len(images)) as pool:
            list(pool.map(_write_png, [layer.path for layer in layers], images))
        return VisualResult(
            layers=tuple(layers),
            engine=self.name,
            version=VERSION,
            extras={"style": request.style, "seed": str(seed)},
        )
