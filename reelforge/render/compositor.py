"""The frame compositor: timeline -> BGR frames, a few vectorised OpenCV calls per frame.

Each source is decoded and fitted once (stills are loaded once, videos stream through one ffmpeg
decoder at the output size). Ken Burns motion is one sub-pixel ``warpAffine`` per layer and
frame (smooth, unlike ``zoompan``'s whole-pixel steps); transitions blend only the overlapping
frames; text and logos blend on their bounding boxes only. Captions are not drawn here: libass
burns them in the encoder process.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import cv2
import numpy as np
from cv2.typing import MatLike
from numpy.typing import NDArray

from reelforge.colours import parse_hex
from reelforge.errors import MediaError
from reelforge.media.decode import VideoReader
from reelforge.media.images import read_image_header, reduction
from reelforge.timeline import (
    ENTRANCE_RISE,
    ENTRANCE_SLIDE,
    Clip,
    ImageOverlay,
    Layer,
    Motion,
    SpriteMotion,
    TextOverlay,
    Timeline,
)

Frame = NDArray[np.uint8]  # BGR(A) pictures, I420 buffers and lookup tables
Weights = NDArray[np.float32]  # per-pixel blend weights in [0, 1]

# --------------------------------------------------------------------------- helpers


def _u8(image: MatLike) -> Frame:
    """cv2 is typed to return any matrix; the calls given uint8 here return uint8."""
    return cast(Frame, image)


def _hex_bgr(color: str) -> tuple[int, int, int]:
    red, green, blue, _ = parse_hex(color, "background colour")
    return (blue, green, red)


def _smooth(p: float) -> float:
    p = min(1.0, max(0.0, p))
    return p * p * (3 - 2 * p)


# cv2.imread flags by JPEG reduction; EXIF orientation is applied by _upright, not twice
_READ_FLAGS = {
    1: cv2.IMREAD_UNCHANGED,
    2: cv2.IMREAD_REDUCED_COLOR_2 | cv2.IMREAD_IGNORE_ORIENTATION,
    4: cv2.IMREAD_REDUCED_COLOR_4 | cv2.IMREAD_IGNORE_ORIENTATION,
    8: cv2.IMREAD_REDUCED_COLOR_8 | cv2.IMREAD_IGNORE_ORIENTATION,
}


def load_image(path: str | Path) -> Frame:
    """Read an image as BGR or BGRA uint8, or raise MediaError with a hint."""
    p = Path(path)
    if not p.is_file():
        raise MediaError(
            f"the image {p} does not exist",
            hint="check the path in the storyboard (paths are relative to the storyboard file)",
        )
    # the header first: a pixel bomb is refused undecoded, a big JPEG decoded at 1/2..1/8
    image = cv2.imread(str(p), _READ_FLAGS[reduction(read_image_header(p))])
    if image is None:
        # formats OpenCV lacks (GIF, some WebP): let Pillow try before giving up
        try:
            from PIL import Image

            with Image.open(p) as im:
                rgba = np.asarray(im.convert("RGBA"))
            image = cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA)
        except Exception:
            raise MediaError(
                f"the image {p} is corrupt or not an image",
                hint="open it in an image viewer; re-export it as PNG or JPEG",
            ) from None
    image = _upright(image, p)
    if image.dtype != np.uint8:
        image = cv2.convertScaleAbs(image, alpha=255.0 / max(1, int(image.max())))
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4 and int(image[..., 3].min()) == 255:
        image = np.ascontiguousarray(image[..., :3])
    return _u8(image)


# EXIF orientation -> the OpenCV operations that show the picture upright
_ORIENT: dict[int, Callable[[MatLike], MatLike]] = {
    2: lambda im: cv2.flip(im, 1),
    3: lambda im: cv2.rotate(im, cv2.ROTATE_180),
    4: lambda im: cv2.flip(im, 0),
    5: lambda im: cv2.transpose(im),
    6: lambda im: cv2.rotate(im, cv2.ROTATE_90_CLOCKWISE),
    7: lambda im: cv2.flip(cv2.transpose(im), -1),
    8: lambda im: cv2.rotate(im, cv2.ROTATE_90_COUNTERCLOCKWISE),
}


def _upright(image: MatLike, path: Path) -> MatLike:
    """Apply the EXIF orientation (phone photos), which IMREAD_UNCHANGED ignores."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            orientation = im.getexif().get(0x0112, 1)
    except Exception:
        return image  # no EXIF to read (or not a format Pillow knows): as stored
    turn = _ORIENT.get(orientation)
    return turn(image) if turn else image


def _flatten_alpha(image: Frame, background: tuple[int, int, int]) -> Frame:
    if image.ndim == 3 and image.shape[2] == 4:
        alpha = image[..., 3:4].astype(np.float32) / 255.0
        bg = np.empty_like(image[..., :3])
        bg[:] = background
        out = image[..., :3].astype(np.float32) * alpha + bg.astype(np.float32) * (1 - alpha)
        return out.astype(np.uint8)
    return image


class Sprite:
    """A picture with straight alpha, split once into contiguous BGR and float weights."""

    def __init__(self, rgba: Frame, opacity: float = 1.0) -> None:
        self.bgr = np.ascontiguousarray(rgba[..., :3])
        self.alpha: Weights = rgba[..., 3].astype(np.float32) * (opacity / 255.0)
        self.height, self.width = rgba.shape[:2]

    def draw(self, frame: Frame, x: int, y: int, opacity: float = 1.0) -> None:
        blend(frame, self.bgr, self.alpha, x, y, opacity)


def blend(frame: Frame, bgr: Frame, alpha: Weights, x: int, y: int, opacity: float = 1.0) -> None:
    """Blend ``bgr`` with per-pixel weights ``alpha`` (0..1) onto ``frame`` at (x, y), in place."""
    h, w = bgr.shape[:2]
    fh, fw = frame.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(fw, x + w), min(fh, y + h)
    if x0 >= x1 or y0 >= y1 or opacity <= 0:
        return
    whole = (x0, y0, x1, y1) == (x, y, x + w, y + h)
    src = bgr if whole else np.ascontiguousarray(bgr[y0 - y : y1 - y, x0 - x : x1 - x])
    weight = alpha if whole else np.ascontiguousarray(alpha[y0 - y : y1 - y, x0 - x : x1 - x])
    if opacity < 1.0:
        weight = weight * np.float32(opacity)
    full = (x0, y0, x1, y1) == (0, 0, fw, fh)
    roi = frame if full else np.ascontiguousarray(frame[y0:y1, x0:x1])
    out = cv2.blendLinear(src, roi, weight, 1.0 - weight)
    if full:
        frame[:] = out
    else:
        frame[y0:y1, x0:x1] = out


def _frozen(array: Frame) -> Frame:
    array.flags.writeable = False
    return array


def writable(frame: Frame) -> Frame:
    """``frame`` itself when it may be drawn on, else a copy (cached stills are read-only)."""
    return frame if frame.flags.writeable else frame.copy()


def blend_rgba(frame: Frame, rgba: Frame, x: int, y: int, opacity: float = 1.0) -> None:
    """Alpha-blend an RGBA (BGR order + alpha) sprite onto ``frame`` in place, clipped."""
    Sprite(rgba).draw(frame, x, y, opacity)


# --------------------------------------------------------------------------- layers


class _LayerRenderer:
    """One picture layer of a clip: a still or a video, fitted, with Ken Burns motion."""

    def __init__(self, layer: Layer, width: int, height: int, fps: int, clip: Clip) -> None:
        self.layer = layer
        self.width, self.height, self.fps = width, height, fps
        self.motion: Motion = layer.motion
        self.frames = clip.frames
        self.background = _hex_bgr(clip.background)
        self._video: VideoReader | None = None
        self._video_next = 0
        self._static: Frame | None = None
        zmax = max(self.motion.zoom_start, self.motion.zoom_end, 1.0)
        self.moving = self.motion.at(0.0) != self.motion.at(1.0) or zmax != 1.0
        if layer.kind == "image":
            self._prepare_image(load_image(layer.path), zmax)

    # A still is fitted once: ``base`` is the picture pre-scaled near the largest size the
    # motion needs, and ``base_scale`` maps base pixels to fitted-output pixels.
    def _prepare_image(self, image: Frame, zmax: float) -> None:
        w, h = self.width, self.height
        ih, iw = image.shape[:2]
        has_alpha = image.ndim == 3 and image.shape[2] == 4
        if self.layer.fit == "cover" or has_alpha:
            scale = max(w / iw, h / ih)
            base = image
            need = scale * zmax
            if need < 1.0:  # the source is larger than needed: downsample once, area filter
                nw, nh = max(1, round(iw * need)), max(1, round(ih * need))
                base = _u8(cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA))
            self.base = base
            self.base_scale = scale * iw / base.shape[1]
            self.offset = ((iw * scale - w) / 2.0, (ih * scale - h) / 2.0)
        else:
            # contain / blur: compose a canvas once at zmax x the output size
            cw, ch = round(w * zmax), round(h * zmax)
            image = _flatten_alpha(image, self.background)
            canvas = np.empty((ch, cw, 3), np.uint8)
            if self.layer.fit == "blur":
                cover = max(cw / iw, ch / ih)
                small = cv2.resize(
                    image,
                    (max(1, round(iw * cover / 8)), max(1, round(ih * cover / 8))),
                    interpolation=cv2.INTER_AREA,
                )
                small = cv2.GaussianBlur(small, (0, 0), 6)
                big = cv2.resize(small, (round(iw * cover), round(ih * cover)))
                ox, oy = (big.shape[1] - cw) // 2, (big.shape[0] - ch) // 2
                canvas[:] = (big[oy : oy + ch, ox : ox + cw] * 0.7).astype(np.uint8)
            else:
                canvas[:] = self.background
            fit = min(cw / iw, ch / ih)
            fw, fh = max(1, round(iw * fit)), max(1, round(ih * fit))
            interp = cv2.INTER_AREA if fit < 1 else cv2.INTER_CUBIC
            fitted = cv2.resize(image, (fw, fh), interpolation=interp)
            x0, y0 = (cw - fw) // 2, (ch - fh) // 2
            canvas[y0 : y0 + fh, x0 : x0 + fw] = fitted
            self.base = canvas
            self.base_scale = 1.0 / zmax
            self.offset = (0.0, 0.0)
        # an overlay keeps its alpha as a 4th channel: one warp moves colour and weight together
        self.has_alpha = self.base.ndim == 3 and self.base.shape[2] == 4
        self._split: tuple[int, Frame, Weights] | None = None
        _frozen(self.base)  # a crop of it may be returned as a frame: never drawn on
        if not self.moving:
            # cached and returned for every frame: read-only, so nobody draws into it
            self._static = _frozen(self._warp(self.base, 0))

    def _matrix(
        self, index: int, base_scale: float, offset: tuple[float, float]
    ) -> NDArray[np.float64]:
        p = index / (self.frames - 1) if self.frames > 1 else 0.0
        z, ax, ay = self.motion.at(p)
        w, h = self.width, self.height
        ox = offset[0] + (w - w / z) * ax
        oy = offset[1] + (h - h / z) * ay
        return np.array([[z * base_scale, 0, -z * ox], [0, z * base_scale, -z * oy]], np.float64)

    def _warp(self, base: Frame, index: int) -> Frame:
        m = self._matrix(index, self.base_scale, self.offset)
        if abs(m[0, 0] - 1) < 1e-9 and abs(m[1, 1] - 1) < 1e-9:
            tx, ty = -m[0, 2], -m[1, 2]
            if tx == int(tx) and ty == int(ty) and base.shape[0] >= self.height + ty:
                x, y = int(tx), int(ty)
                crop = base[y : y + self.height, x : x + self.width]
                if crop.shape[:2] == (self.height, self.width):
                    return np.ascontiguousarray(crop)
        return self._affine(base, m)

    def _affine(self, picture: Frame, matrix: NDArray[np.float64]) -> Frame:
        """``picture`` moved by ``matrix`` onto the layer's size, edges mirrored."""
        size = (self.width, self.height)
        warped = cv2.warpAffine(
            picture, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        return _u8(warped)

    def render(self, index: int) -> Frame:
        """The layer's BGR picture at frame ``index``."""
        if self.layer.kind == "video":
            return self._video_frame(index)
        if self.has_alpha:
            return self._overlay(index)[0]
        if self._static is not None:
            return self._static
        return self._warp(self.base, index)

    def render_alpha(self, index: int) -> Weights | None:
        """The blend weights (0..1, opacity included) of an overlay layer, else None."""
        return self._overlay(index)[1] if self.has_alpha else None

    def _overlay(self, index: int) -> tuple[Frame, Weights]:
        """(BGR, weights) of the warped overlay, split once per frame (once in all if still)."""
        key = -1 if self._static is not None else index
        if self._split is None or self._split[0] != key:
            bgra = self._static if self._static is not None else self._warp(self.base, index)
            weight = bgra[..., 3].astype(np.float32)
            weight *= np.float32(self.layer.opacity / 255.0)
            self._split = (key, _u8(cv2.cvtColor(bgra, cv2.COLOR_BGRA2BGR)), weight)
        return self._split[1], self._split[2]

    def _video_frame(self, index: int) -> Frame:
        if self._video is None or index != self._video_next:
            self.close()
            start = self.layer.video_start_ms / 1000 + index / self.fps
            self._video = VideoReader(
                self.layer.path,
                self.width,
                self.height,
                self.fps,
                start_s=start,
                loop=self.layer.loop,
                fit=self.layer.fit,
                background=self.layer_background_hex(),
            )
        frame = self._video.read()
        self._video_next = index + 1
        if not self.moving:
            return frame
        return self._affine(frame, self._matrix(index, 1.0, (0.0, 0.0)))

    def layer_background_hex(self) -> str:
        b, g, r = self.background
        return f"#{r:02x}{g:02x}{b:02x}"

    def close(self) -> None:
        if self._video is not None:
            self._video.close()
            self._video = None


# --------------------------------------------------------------------------- sprites


def _ease_back(p: float) -> float:
    """0 -> 1 with a small overshoot: a pop that settles."""
    p = min(1.0, max(0.0, p))
    c = 1.70158
    return 1 + (c + 1) * (p - 1) ** 3 + c * (p - 1) ** 2


ENTRANCE_S = 0.55  # seconds an entrance takes


class _SpriteRenderer:
    """A small RGBA picture animated over the frame, blended straight into the I420 frame.

    The picture is loaded, scaled and graded once, and split once into its Y, U and V planes
    with blend weights at full and half resolution; a frame moves it (a translation: three
    small blends on its box, no colour conversion), and the sizes an entrance or a pulse
    needs are made once each and kept (scale in steps of 1%).
    """

    VARIANTS = 48  # scaled copies kept per sprite (a pop passes ~16, a pulse ~10)

    def __init__(
        self, layer: Layer, width: int, height: int, fps: int, grade: _Grade | None
    ) -> None:
        assert layer.sprite is not None
        self.spec: SpriteMotion = layer.sprite
        self.width, self.height, self.fps = width, height, fps
        image = load_image(layer.path)
        if image.shape[2] == 3:
            image = _u8(cv2.cvtColor(image, cv2.COLOR_BGR2BGRA))
        target_w = max(2, round(width * self.spec.width))
        target_h = max(2, round(image.shape[0] * target_w / image.shape[1]))
        if (target_w, target_h) == image.shape[1::-1]:
            rgba = image.copy()
        else:
            interp = cv2.INTER_AREA if target_w < image.shape[1] else cv2.INTER_CUBIC
            rgba = _u8(cv2.resize(image, (target_w, target_h), interpolation=interp))
        if grade is not None:  # the clip's grade, applied once: sprites are drawn after it
            rgba[..., :3] = grade.apply_colours(np.ascontiguousarray(rgba[..., :3]))
        self.unit = max(target_w, target_h)
        self.cx, self.cy = self.spec.x * width, self.spec.y * height
        # blend only the pixels that show: crop the transparent margin, keep the centre
        ys, xs = np.nonzero(rgba[..., 3] > 1)
        if len(xs):
            x0, x1, y0, y1 = int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1
            self.cx += (x0 + x1 - target_w) / 2
            self.cy += (y0 + y1 - target_h) / 2
            rgba = np.ascontiguousarray(rgba[y0:y1, x0:x1])
        self.rgba = rgba
        self.opacity = layer.opacity
        self._variants: dict[tuple[int, int], _I420Sprite] = {}

    def _variant(self, scale: float, angle: float) -> _I420Sprite:
        """The sprite scaled (and turned by ``angle`` degrees), made once per 1% of scale."""
        key = (round(scale * 100), round(angle * 2))
        found = self._variants.get(key)
        if found is not None:
            return found
        scale, angle = key[0] / 100, key[1] / 2
        h, w = self.rgba.shape[:2]
        if key == (100, 0):
            moved = self.rgba
        elif not angle:
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            moved = _u8(cv2.resize(self.rgba, size, interpolation=cv2.INTER_LINEAR))
        else:
            side = max(2, int(math.ceil(max(w, h) * scale * 1.42)) + 2)
            matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
            matrix[0, 2] += side / 2 - w / 2
            matrix[1, 2] += side / 2 - h / 2
            moved = _u8(cv2.warpAffine(self.rgba, matrix, (side, side), flags=cv2.INTER_LINEAR))
        variant = _I420Sprite(moved, self.opacity)
        if len(self._variants) >= self.VARIANTS:
            self._variants.pop(next(iter(self._variants)))
        self._variants[key] = variant
        return variant

    def _state(self, index: int) -> tuple[float, float, float, float, float] | None:
        """(dx, dy, scale, angle in degrees, opacity) at frame ``index``, None when hidden."""
        spec, t = self.spec, index / self.fps
        if t < spec.delay:
            return None
        p = (t - spec.delay) / ENTRANCE_S
        dx = dy = angle = 0.0
        scale = opacity = 1.0
        if p < 1.0:
            eased = _smooth(p)
            if spec.entrance == "pop":
                scale, opacity = max(0.05, _ease_back(p)), min(1.0, p * 3)
            elif spec.entrance == "fade":
                opacity = eased
            elif spec.entrance == "rise":
                dy, opacity = (1 - eased) * self.height * 0.12, eased
            elif spec.entrance == "slide":
                side = -1.0 if spec.x < 0.5 else 1.0
                dx, opacity = side * (1 - eased) * self.width * 0.25, eased
        u = self.unit
        tau = t + spec.phase * 7.0
        wave = math.tau
        if spec.animation == "float":
            dy += math.sin(wave * tau / 3.2) * u * 0.045
            dx += math.sin(wave * tau / 5.3) * u * 0.02
        elif spec.animation == "bounce":
            dy -= abs(math.sin(math.pi * tau / 0.9)) * u * 0.1
        elif spec.animation == "orbit":
            dx += math.cos(wave * tau / 6.0) * u * 0.35
            dy += math.sin(wave * tau / 6.0) * u * 0.22
        elif spec.animation == "pulse":
            scale *= 1 + 0.045 * math.sin(wave * tau / 1.6)
        elif spec.animation == "sway":
            angle = 7.0 * math.sin(wave * tau / 2.8)
        elif spec.animation == "twinkle":
            opacity *= 0.55 + 0.45 * math.sin(wave * tau / 2.2)
            dy += math.sin(wave * tau / 4.0) * u * 0.3
        elif spec.animation == "rise":  # steam: climbs, fading in and out, over and over
            cycle = (tau / 2.4) % 1.0
            dy -= cycle * u * 0.35
            opacity *= math.sin(math.pi * cycle)
        return dx, dy, scale, angle, opacity

    def box(self, index: int) -> tuple[int, int, int, int] | None:
        state = self._state(index)
        if state is None or state[4] <= 0.004:
            return None
        dx, dy, scale, angle, _ = state
        h, w = self.rgba.shape[:2]
        grow = scale * (1.42 if angle else 1.0)
        half_w, half_h = w * grow / 2 + 2, h * grow / 2 + 2
        x, y = self.cx + dx, self.cy + dy
        return (int(x - half_w), int(y - half_h), int(math.ceil(x + half_w)),
                int(math.ceil(y + half_h)))  # fmt: skip

    def draw_i420(self, frame: Frame, width: int, height: int, index: int) -> None:
        """Blend the sprite as it is at frame ``index`` into the I420 ``frame``, in place."""
        state = self._state(index)
        if state is None or state[4] <= 0.004:
            return
        dx, dy, scale, angle, opacity = state
        variant = self._variant(scale, angle)
        x = round(self.cx + dx - variant.width / 2)
        y = round(self.cy + dy - variant.height / 2)
        variant.draw(frame, width, height, x, y, min(1.0, opacity))

    def draw(self, frame: Frame, index: int, origin: tuple[int, int] = (0, 0)) -> None:
        """Draw onto a BGR ``frame`` whose top-left pixel is ``origin`` in the full picture."""
        state = self._state(index)
        if state is None:
            return
        dx, dy, scale, angle, opacity = state
        variant = self._variant(scale, angle)
        x = round(self.cx + dx - origin[0] - variant.width / 2)
        y = round(self.cy + dy - origin[1] - variant.height / 2)
        blend_rgba(frame, variant.rgba, x, y, min(1.0, opacity) * self.opacity)


class _I420Sprite:
    """An RGBA picture as I420 planes and blend weights (luma at full, chroma at half size),
    so that it blends into an I420 frame without converting the frame's pixels."""

    def __init__(self, rgba: Frame, opacity: float = 1.0) -> None:
        self.rgba = rgba
        h, w = rgba.shape[:2]
        self.height, self.width = h, w
        # even sides for the I420 conversion: a transparent row or column where needed
        eh, ew = h + h % 2, w + w % 2
        padded = np.zeros((eh, ew, 4), np.uint8)
        padded[:h, :w] = rgba
        yuv = _u8(cv2.cvtColor(np.ascontiguousarray(padded[..., :3]), cv2.COLOR_BGR2YUV_I420))
        luma, u, v = planes(yuv, ew, eh)
        alpha = padded[..., 3].astype(np.float32) * np.float32(opacity / 255.0)
        self.planes = (np.ascontiguousarray(luma), np.ascontiguousarray(u), np.ascontiguousarray(v))
        half = _u8(cv2.resize(padded[..., 3], (ew // 2, eh // 2), interpolation=cv2.INTER_AREA))
        chroma = half.astype(np.float32) * np.float32(opacity / 255.0)
        self.weights = (alpha, chroma, chroma)
        # the complements too, once: a frame at full opacity then allocates nothing to weigh
        self.rests = (1.0 - alpha, 1.0 - chroma, 1.0 - chroma)

    def draw(self, frame: Frame, width: int, height: int, x: int, y: int, opacity: float) -> None:
        """Blend into the I420 ``frame`` of ``width`` x ``height`` with the top-left at (x, y)
        (luma to the pixel; chroma to the 2x2 cell, half a chroma pixel at most away)."""
        if opacity <= 0.0:
            return
        targets = planes(frame, width, height)
        for k in range(3):
            src, weight, rest, dst = self.planes[k], self.weights[k], self.rests[k], targets[k]
            px, py = (x, y) if k == 0 else (x // 2, y // 2)
            dh, dw = dst.shape
            sh, sw = src.shape
            x0, y0, x1, y1 = max(0, px), max(0, py), min(dw, px + sw), min(dh, py + sh)
            if x0 >= x1 or y0 >= y1:
                return
            if (x0, y0, x1, y1) != (px, py, px + sw, py + sh):  # clipped by the frame's edge
                window = (slice(y0 - py, y1 - py), slice(x0 - px, x1 - px))
                src = np.ascontiguousarray(src[window])
                weight = np.ascontiguousarray(weight[window])
                rest = np.ascontiguousarray(rest[window])
            if opacity < 1.0:
                weight = weight * np.float32(opacity)
                rest = 1.0 - weight
            roi = np.ascontiguousarray(dst[y0:y1, x0:x1])
            dst[y0:y1, x0:x1] = cv2.blendLinear(src, roi, weight, rest)


# --------------------------------------------------------------------------- text


def _text_sprite(text: TextOverlay, width: int, height: int) -> Frame:
    from reelforge.text.sprites import render_title

    rgba = render_title(text, width)
    return _u8(cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))


class _TextRenderer:
    """A title with an entrance and exit animation, drawn on its bounding box only."""

    def __init__(self, text: TextOverlay, width: int, height: int, fps: int) -> None:
        self.text = text
        self.width, self.height = width, height
        self.rgba = _text_sprite(text, width, height)
        self.sprite = Sprite(self.rgba)
        h, w = self.rgba.shape[:2]
        self.bounds = text.box(width, height, (w, h))
        self.x, self.y = self.bounds[:2]
        self.enter = max(1, min(round(0.6 * fps), (text.end - text.start) // 3))
        self.leave = max(1, min(round(0.35 * fps), (text.end - text.start) // 4))

    def box(self, index: int) -> tuple[int, int, int, int] | None:
        """(x0, y0, x1, y1) that frame ``index`` may touch, or None when the title is off."""
        if not self.text.start <= index < self.text.end:
            return None
        return self.bounds

    def drawer(self, index: int) -> Callable[[Frame, tuple[int, int]], None]:
        """:meth:`draw` at frame ``index``, in the form :func:`draw_on_i420` calls."""
        return lambda frame, origin: self.draw(frame, index, origin)

    def draw(self, frame: Frame, index: int, origin: tuple[int, int] = (0, 0)) -> None:
        """Draw onto ``frame``, whose top-left pixel is ``origin`` in the full picture."""
        t = self.text
        if not t.start <= index < t.end:
            return
        p_in = _smooth((index - t.start + 1) / self.enter)
        p_out = _smooth((t.end - index) / self.leave)
        opacity = min(p_in, p_out)
        x, y, rgba = self.x - origin[0], self.y - origin[1], self.rgba
        if t.animation == "none":
            opacity = 1.0
        elif t.animation == "fade-up":
            y += int(round((1 - p_in) * self.height * ENTRANCE_RISE))
        elif t.animation == "slide-left":
            x += int(round((1 - p_in) * self.width * ENTRANCE_SLIDE))
        elif t.animation == "pop" and p_in < 1:
            scale = 0.85 + 0.15 * p_in
            h, w = rgba.shape[:2]
            nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
            rgba = _u8(cv2.resize(rgba, (nw, nh), interpolation=cv2.INTER_LINEAR))
            x += (w - nw) // 2
            y += (h - nh) // 2
            blend_rgba(frame, rgba, x, y, opacity)
            return
        self.sprite.draw(frame, x, y, opacity)


# --------------------------------------------------------------------------- I420 frames
#
# Frames travel as I420 (yuv420p, BT.601 limited range: what the encoder reads), so a frame is
# converted once, at the size its layers were composed at: soft clips convert at half size and
# upscale the planes (1.5 bytes a pixel instead of 3). Titles and the watermark are drawn in
# BGR on their bounding box only, converted there and back.


def planes(buf: Frame, width: int, height: int) -> tuple[Frame, Frame, Frame]:
    """Views of the Y, U and V planes of an I420 buffer of ``width`` x ``height``."""
    flat = buf.reshape(-1)
    area = width * height
    return (
        flat[:area].reshape(height, width),
        flat[area : area + area // 4].reshape(height // 2, width // 2),
        flat[area + area // 4 : area + area // 2].reshape(height // 2, width // 2),
    )


def upscale_i420(small: Frame, size: tuple[int, int], width: int, height: int) -> Frame:
    """An I420 frame of ``width`` x ``height`` from one of ``size``, plane by plane."""
    out = np.empty((height * 3 // 2, width), np.uint8)
    for src, dst in zip(planes(small, *size), planes(out, width, height), strict=True):
        cv2.resize(src, (dst.shape[1], dst.shape[0]), dst=dst, interpolation=cv2.INTER_LINEAR)
    return out


def _even_box(
    box: tuple[int, int, int, int], width: int, height: int
) -> tuple[int, int, int, int] | None:
    x0, y0, x1, y1 = box
    x0, y0 = max(0, x0 - x0 % 2), max(0, y0 - y0 % 2)
    x1, y1 = min(width, x1 + x1 % 2), min(height, y1 + y1 % 2)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return x0, y0, x1, y1


def draw_on_i420(
    buf: Frame,
    width: int,
    height: int,
    box: tuple[int, int, int, int],
    draw: Callable[[Frame, tuple[int, int]], None],
) -> None:
    """Run a BGR ``draw(region, origin)`` on the ``box`` of an I420 frame, in place."""
    even = _even_box(box, width, height)
    if even is None:
        return
    x0, y0, x1, y1 = even
    w, h = x1 - x0, y1 - y0
    region = np.empty((h * 3 // 2, w), np.uint8)
    for src, dst, k in zip(
        planes(buf, width, height), planes(region, w, h), (1, 2, 2), strict=True
    ):
        dst[:] = src[y0 // k : y1 // k, x0 // k : x1 // k]
    bgr = _u8(cv2.cvtColor(region, cv2.COLOR_YUV2BGR_I420))
    draw(bgr, (x0, y0))
    region = _u8(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420))
    for src, dst, k in zip(
        planes(region, w, h), planes(buf, width, height), (1, 2, 2), strict=True
    ):
        dst[y0 // k : y1 // k, x0 // k : x1 // k] = src


def i420_transition(
    kind: str,
    outgoing: Frame,
    incoming: Frame,
    progress: float,
    width: int,
    height: int,
) -> Frame:
    """:func:`transition_frame` on I420 frames (plane by plane where it is geometric)."""
    if kind == "crossfade":
        return _u8(cv2.addWeighted(outgoing, 1 - progress, incoming, progress, 0))
    if kind == "fade":  # dip to black: Y towards 16, chroma towards 128
        source, k = (outgoing, 1 - 2 * progress) if progress < 0.5 else (incoming, 2 * progress - 1)
        out = np.empty_like(source)
        for src, dst, black in zip(
            planes(source, width, height), planes(out, width, height), (16, 128, 128), strict=True
        ):
            cv2.addWeighted(src, k, src, 0, black * (1 - k), dst=dst)
        return out
    if kind == "cut":
        return incoming
    out = np.empty_like(outgoing)
    for a, b, dst in zip(
        planes(outgoing, width, height),
        planes(incoming, width, height),
        planes(out, width, height),
        strict=True,
    ):
        dst[:] = transition_frame(kind, a, b, progress)
    return out


# --------------------------------------------------------------------------- clips


class _ClipRenderer:
    """One clip: its layers composed at the scale their detail needs, graded, then titled.

    Soft layers (procedural art, ``detail`` 0.5) are warped, blended and graded at half size
    and upscaled once; titles are always drawn at full size, after the grade, so text stays
    crisp and keeps the template's colours.
    """

    def __init__(self, clip: Clip, timeline: Timeline, grades: _GradeCache) -> None:
        self.clip = clip
        w, h, fps = timeline.width, timeline.height, timeline.fps
        pictures = [layer for layer in clip.layers if layer.sprite is None]
        scale = max((layer.detail for layer in pictures), default=1.0)
        scale = min(1.0, max(0.25, scale))
        lw, lh = (w, h) if scale >= 1.0 else (max(2, round(w * scale)), max(2, round(h * scale)))
        self.size = (w, h)
        self.scaled = (lw, lh) != (w, h)
        self.layers = [_LayerRenderer(layer, lw, lh, fps, clip) for layer in pictures]
        self.texts = [_TextRenderer(t, w, h, fps) for t in clip.texts]
        self.grade = grades.get(timeline.grade, lw, lh)
        self.sprites = [
            _SpriteRenderer(layer, w, h, fps, self.grade)
            for layer in clip.layers
            if layer.sprite is not None
        ]
        self.background = _hex_bgr(clip.background)
        self.shape = (lh, lw, 3)

    def render(self, index: int) -> Frame:
        """Frame ``index`` of the clip at full size, as I420 (yuv420p)."""
        if not self.layers:
            frame = np.empty(self.shape, np.uint8)
            frame[:] = self.background
        for k, layer in enumerate(self.layers):
            picture = layer.render(index)
            if k == 0:
                frame = picture
            else:
                alpha = layer.render_alpha(index)
                frame = writable(frame)
                if alpha is not None:
                    blend(frame, picture, alpha, 0, 0)
                else:
                    frame = _u8(
                        cv2.addWeighted(
                            frame, 1 - layer.layer.opacity, picture, layer.layer.opacity, 0
                        )
                    )
        frame = self.grade.apply(frame)
        width, height = self.size
        out = _u8(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420))
        if self.scaled:
            out = upscale_i420(out, (frame.shape[1], frame.shape[0]), width, height)
        if self.sprites:
            out = writable(out)
            for sprite in self.sprites:
                sprite.draw_i420(out, width, height, index)
        for text in self.texts:
            box = text.box(index)
            if box is not None:
                draw_on_i420(out, width, height, box, text.drawer(index))
        return out

    def close(self) -> None:
        for layer in self.layers:
            layer.close()


# --------------------------------------------------------------------------- transitions


def transition_frame(kind: str, outgoing: Frame, incoming: Frame, progress: float) -> Frame:
    """Combine two frames at ``progress`` in (0, 1) of a transition."""
    h, w = outgoing.shape[:2]
    if kind == "crossfade":
        return _u8(cv2.addWeighted(outgoing, 1 - progress, incoming, progress, 0))
    if kind == "fade":  # dip to black
        if progress < 0.5:
            return _u8(cv2.convertScaleAbs(outgoing, alpha=1 - 2 * progress))
        return _u8(cv2.convertScaleAbs(incoming, alpha=2 * progress - 1))
    p = _smooth(progress)
    out = np.empty_like(outgoing)
    if kind.startswith("slide-"):
        direction = kind[6:]
        if direction in ("left", "right"):
            off = int(round(p * w))
            if direction == "left":  # the new scene pushes in from the right
                out[:, : w - off] = outgoing[:, off:]
                out[:, w - off :] = incoming[:, :off]
            else:
                out[:, off:] = outgoing[:, : w - off]
                out[:, :off] = incoming[:, w - off :]
        else:
            off = int(round(p * h))
            if direction == "up":
                out[: h - off] = outgoing[off:]
                out[h - off :] = incoming[:off]
            else:
                out[off:] = outgoing[: h - off]
                out[:off] = incoming[h - off :]
        return out
    if kind.startswith("wipe-"):
        direction = kind[5:]
        horizontal = direction in ("left", "right")
        size = w if horizontal else h
        band = max(2, size // 40)
        # the edge travels across the frame and a little beyond, so both ends are clean
        edge = int(round(-band + p * (size + 2 * band)))
        if direction in ("left", "up"):  # the edge moves from the far side towards 0
            edge = size - edge
        ramp = np.clip((np.arange(size, dtype=np.float32) - (edge - band)) / (2 * band), 0, 1)
        if direction in ("right", "down"):
            ramp = 1 - ramp  # incoming on the low side
        weight = ramp[None, :] if horizontal else ramp[:, None]
        weight = np.broadcast_to(weight, (h, w))
        lo = max(0, edge - band)
        hi = min(size, edge + band)
        np.copyto(out, outgoing)
        full = slice(min(size, hi), size) if direction in ("left", "up") else slice(0, max(0, lo))
        if horizontal:
            out[:, full] = incoming[:, full]
            if hi > lo:
                wb = np.ascontiguousarray(weight[:, lo:hi], np.float32)
                out[:, lo:hi] = cv2.blendLinear(
                    np.ascontiguousarray(incoming[:, lo:hi]),
                    np.ascontiguousarray(outgoing[:, lo:hi]),
                    wb,
                    1 - wb,
                )
        else:
            out[full] = incoming[full]
            if hi > lo:
                wb = np.ascontiguousarray(weight[lo:hi], np.float32)
                out[lo:hi] = cv2.blendLinear(
                    np.ascontiguousarray(incoming[lo:hi]),
                    np.ascontiguousarray(outgoing[lo:hi]),
                    wb,
                    1 - wb,
                )
        return out
    return incoming  # "cut"


# --------------------------------------------------------------------------- grades


def _curve(points: list[tuple[float, float]]) -> Frame:
    xs, ys = zip(*points, strict=True)
    return np.clip(np.interp(np.arange(256), xs, ys), 0, 255).astype(np.uint8)


def grade_lut(grade: str) -> Frame | None:
    """A (256, 1, 3) BGR lookup table for a colour-grade preset, or None."""
    ident: list[tuple[float, float]] = [(0, 0), (255, 255)]
    curves: dict[str, tuple[list[tuple[float, float]], ...]] = {
        # (blue, green, red) curves
        "cinematic": (  # teal shadows, warm highlights, gentle S-curve
            [(0, 18), (64, 70), (128, 126), (192, 178), (255, 235)],
            [(0, 8), (64, 58), (128, 126), (192, 190), (255, 248)],
            [(0, 0), (64, 52), (128, 130), (192, 204), (255, 255)],
        ),
        "bright": (
            [(0, 6), (128, 146), (255, 255)],
            [(0, 6), (128, 150), (255, 255)],
            [(0, 8), (128, 152), (255, 255)],
        ),
        "vintage": (  # lifted blacks, warm, compressed highlights
            [(0, 40), (128, 118), (255, 200)],
            [(0, 30), (128, 128), (255, 225)],
            [(0, 38), (128, 142), (255, 240)],
        ),
        "warm": (
            [(0, 0), (128, 118), (255, 240)],
            [(0, 0), (128, 128), (255, 252)],
            [(0, 6), (128, 140), (255, 255)],
        ),
        "cool": (
            [(0, 8), (128, 142), (255, 255)],
            [(0, 2), (128, 130), (255, 252)],
            [(0, 0), (128, 116), (255, 238)],
        ),
    }
    if grade not in curves:
        return None
    lut = np.stack([_curve(c or ident) for c in curves[grade]], axis=-1)
    return lut.reshape(256, 1, 3)


def _vignette(width: int, height: int, strength: float) -> Frame:
    ys = np.linspace(-1, 1, height, dtype=np.float32)[:, None]
    xs = np.linspace(-1, 1, width, dtype=np.float32)[None, :]
    r2 = (xs * xs + ys * ys) / 2
    mask = np.clip(1 - strength * r2 * r2 * 1.6, 0, 1) * 255
    return _u8(cv2.merge([mask.astype(np.uint8)] * 3))


class _Grade:
    def __init__(self, grade: str, width: int, height: int) -> None:
        self.grade = grade
        self.lut = grade_lut(grade)
        strength = {"cinematic": 0.35, "vintage": 0.55}.get(grade, 0.0)
        self.vignette = _vignette(width, height, strength) if strength else None

    def apply_colours(self, bgr: Frame) -> Frame:
        """The grade's colour change alone (no vignette), for pictures drawn after it."""
        if self.grade == "mono":
            gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
            return _u8(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))
        if self.lut is not None:
            return _u8(cv2.LUT(bgr, self.lut))
        return bgr

    def apply(self, frame: Frame) -> Frame:
        """The graded frame: a new array, or ``frame`` itself when there is no grade."""
        if self.grade == "mono":
            gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            return _u8(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))
        if self.lut is not None:
            frame = _u8(cv2.LUT(frame, self.lut))
        if self.vignette is not None:
            frame = _u8(cv2.multiply(frame, self.vignette, scale=1 / 255))
        return frame


class _GradeCache:
    """One grade (LUT and vignette) per frame size, shared by the clips."""

    def __init__(self) -> None:
        self._grades: dict[tuple[str, int, int], _Grade] = {}

    def get(self, grade: str, width: int, height: int) -> _Grade:
        key = (grade, width, height)
        if key not in self._grades:
            self._grades[key] = _Grade(grade, width, height)
        return self._grades[key]


# --------------------------------------------------------------------------- the compositor


class Compositor:
    """Produces the timeline's frames in order (or any one frame, for thumbnails)."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self._active: dict[int, _ClipRenderer] = {}
        self._grades = _GradeCache()
        self._watermark: tuple[Sprite, int, int] | None = None
        if timeline.watermark is not None:
            self._watermark = self._make_watermark(timeline.watermark)

    def _make_watermark(self, mark: ImageOverlay) -> tuple[Sprite, int, int]:
        w, h = self.timeline.width, self.timeline.height
        image = load_image(mark.path)
        if image.shape[2] == 3:
            image = _u8(cv2.cvtColor(image, cv2.COLOR_BGR2BGRA))
        target_w = max(8, round(w * mark.width_frac))
        target_h = max(1, round(image.shape[0] * target_w / image.shape[1]))
        rgba = _u8(cv2.resize(image, (target_w, target_h), interpolation=cv2.INTER_AREA))
        margin = round(min(w, h) * mark.margin_frac)
        x = margin if "left" in mark.position else w - target_w - margin
        y = margin if "top" in mark.position else h - target_h - margin
        if mark.position == "center":
            x, y = (w - target_w) // 2, (h - target_h) // 2
        return Sprite(rgba, mark.opacity), x, y

    def _clip(self, index: int) -> _ClipRenderer:
        if index not in self._active:
            self._active[index] = _ClipRenderer(
                self.timeline.clips[index], self.timeline, self._grades
            )
        return self._active[index]

    def _release_before(self, frame: int) -> None:
        for index in list(self._active):
            clip = self.timeline.clips[index]
            if clip.start + clip.frames <= frame:
                self._active.pop(index).close()

    def active_clips(self, frame: int) -> list[int]:
        return [
            i for i, c in enumerate(self.timeline.clips) if c.start <= frame < c.start + c.frames
        ]

    def frame(self, number: int) -> Frame:
        """The BGR frame ``number`` (without burned captions)."""
        return _u8(cv2.cvtColor(self.frame_i420(number), cv2.COLOR_YUV2BGR_I420))

    def frame_i420(self, number: int) -> Frame:
        """Frame ``number`` as I420 (yuv420p, limited range), as the encoder takes it."""
        width, height = self.timeline.width, self.timeline.height
        self._release_before(number)
        active = self.active_clips(number)
        if not active:
            out = np.empty((height * 3 // 2, width), np.uint8)
            luma, u, v = planes(out, width, height)
            luma[:], u[:], v[:] = 16, 128, 128  # black
        else:
            last = self.timeline.clips[active[-1]]
            out = self._clip(active[-1]).render(number - last.start)
            if len(active) > 1:
                prev = self.timeline.clips[active[-2]]
                below = self._clip(active[-2]).render(number - prev.start)
                t = last.transition
                progress = (number - last.start + 1) / (max(1, t.frames) + 1)
                out = i420_transition(t.kind, below, out, progress, width, height)
        if self._watermark is not None:
            out = writable(out)
            sprite, x, y = self._watermark
            box = (x, y, x + sprite.width, y + sprite.height)
            draw_on_i420(
                out, width, height, box, lambda bgr, at: sprite.draw(bgr, x - at[0], y - at[1])
            )
        return out

    def frames(self, start: int = 0, end: int | None = None) -> Iterator[Frame]:
        """BGR frames [start, end), in order."""
        for frame in self.frames_i420(start, end):
            yield _u8(cv2.cvtColor(frame, cv2.COLOR_YUV2BGR_I420))

    def frames_i420(self, start: int = 0, end: int | None = None) -> Iterator[Frame]:
        """I420 frames [start, end), in order: what the encoder reads."""
        stop = self.timeline.frames if end is None else end
        try:
            for number in range(start, stop):
                yield self.frame_i420(number)
        finally:
            self.close()

    def close(self) -> None:
        for clip in self._active.values():
            clip.close()
        self._active.clear()
