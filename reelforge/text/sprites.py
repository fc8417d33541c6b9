"""Text and logo sprites: tight RGBA arrays the renderer blends over frames.

Text is shaped by HarfBuzz through Pillow's raqm layout, so Arabic joins and reads right to left
and Devanagari forms its conjuncts. Sprites are straight-alpha RGBA ``uint8`` arrays
``(H, W, 4)``; transparent pixels carry the colour of the nearest ink rather than black, so a
renderer that scales them without premultiplying gets no dark fringes.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, cast

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageColor, ImageDraw, ImageFont, UnidentifiedImageError

from reelforge.errors import MediaError, SpecError
from reelforge.media.images import read_image_header
from reelforge.text.fonts import face_index, font_file
from reelforge.text.language import RTL_LANGUAGES, primary_language

if TYPE_CHECKING:
    from reelforge.timeline import TextOverlay

RGBA = tuple[int, int, int, int]
Float = NDArray[np.float32]  # premultiplied colour and coverage masks in [0, 1]
SpriteImage = NDArray[np.uint8]  # straight-alpha RGBA, (h, w, 4)

ALIGNS = ("center", "left", "right")

# Japanese/Chinese line-breaking (kinsoku): these never start a line / never end one.
_NO_LINE_START = set(
    "、。，．,.!?！？：；:;)]}）」』】〉》〕ー…‥々ゝゞぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
)
_NO_LINE_END = set("（「『【〈《〔")  # full-width only: Latin brackets stay in words


def parse_color(value: str) -> RGBA:
    """``"#rgb"``, ``"#rrggbb"``, ``"#rrggbbaa"`` or a CSS name -> ``(r, g, b, a)``."""
    text = (value or "").strip()
    if not text:
        raise SpecError("empty colour", hint='use "#rrggbb", "#rrggbbaa" or a name like "white"')
    try:
        rgb = ImageColor.getrgb(text)
    except ValueError:
        raise SpecError(
            f"not a colour: {value!r}",
            hint='use "#rrggbb", "#rrggbbaa" (alpha last) or a CSS name like "white"',
        ) from None
    if len(rgb) == 3:
        return rgb[0], rgb[1], rgb[2], 255
    return rgb[0], rgb[1], rgb[2], rgb[3]


def is_rtl(text: str, language: str = "en") -> bool:
    """Right-to-left base direction: by language, else by the first strong character."""
    if primary_language(language) in RTL_LANGUAGES:
        return True
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # kana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x3000 <= code <= 0x303F  # CJK punctuation
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x20000 <= code <= 0x2FA1F
    )


def _tokens(paragraph: str) -> list[tuple[str, bool]]:
    """Break opportunities: (token, space before it). CJK characters are tokens of their own."""
    tokens: list[tuple[str, bool]] = []
    glue = ""  # opening brackets waiting for the character they belong to
    space = False
    for char in re.findall(r"\s+|\S", paragraph):
        if char.isspace():
            space = bool(tokens) or bool(glue)
            continue
        if char in _NO_LINE_END:
            glue += char
            continue
        prev = tokens[-1][0] if tokens else ""
        joins = (
            bool(prev)
            and not space
            and (char in _NO_LINE_START or not (_is_cjk(char) or _is_cjk(prev[-1])))
        )
        if joins:
            # Same word, or punctuation that must stay with the character before it.
            tokens[-1] = (prev + glue + char, tokens[-1][1])
        else:
            tokens.append((glue + char, space))
        glue = ""
        space = False
    if glue:
        tokens.append((glue, space))
    return tokens


class _Shaper:
    """A font with a fixed direction and language, measuring and drawing whole lines."""

    def __init__(self, font: Path, size_px: int, language: str, rtl: bool) -> None:
        self.font = _load_font(str(font), size_px, face_index(Path(font), language))
        self.direction = "rtl" if rtl else "ltr"
        # raqm wants a BCP-47 tag; it picks language-specific forms (Urdu digits, Serbian...).
        self.language = primary_language(language or "en")

    def width(self, line: str) -> float:
        return float(self.font.getlength(line, direction=self.direction, language=self.language))

    def bbox(self, line: str, stroke_px: int) -> tuple[int, int, int, int]:
        box = self.font.getbbox(
            line,
            anchor="ls",
            direction=self.direction,
            language=self.language,
            stroke_width=stroke_px,
        )
        return int(box[0]), int(box[1]), int(box[2]), int(box[3])

    def draw(self, mask: Image.Image, xy: tuple[float, float], line: str, stroke_px: int) -> None:
        ImageDraw.Draw(mask).text(
            xy,
            line,
            font=self.font,
            fill=255,
            anchor="ls",
            direction=self.direction,
            language=self.language,
            stroke_width=stroke_px,
            stroke_fill=255,
        )


@functools.lru_cache(maxsize=64)
def _load_font(path: str, size_px: int, index: int) -> ImageFont.FreeTypeFont:
    if not Path(path).is_file():
        raise MediaError(f"font file not found: {path}", hint="apt-get install fonts-noto-core")
    try:
        return ImageFont.truetype(path, size_px, index=index, layout_engine=ImageFont.Layout.RAQM)
    except OSError as exc:
        raise MediaError(
            f"cannot read font {path}: {exc}", hint="give a .ttf/.otf/.ttc font file"
        ) from exc


def _greedy(tokens: list[tuple[str, bool]], shaper: _Shaper, width: float | None) -> list[str]:
    lines: list[str] = []
    current = ""
    for token, space in tokens:
        candidate = current + (" " if space and current else "") + token
        if not current or width is None or shaper.width(candidate) <= width:
            current = candidate
            continue
        lines.append(current)
        current = token
    lines.append(current)
    return lines


def _wrap(text: str, shaper: _Shaper, max_width_px: int | None) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        tokens = _tokens(paragraph)
        if not tokens:
            lines.append("")
            continue
        greedy = _greedy(tokens, shaper, max_width_px)
        if len(greedy) > 1 and max_width_px is not None:
            # Balance: the narrowest width that still needs no more lines, so a title wraps
            # as two even lines instead of a full line and one orphaned word.
            low, high = 0.0, float(max_width_px)
            for _ in range(10):
                middle = (low + high) / 2
                if len(_greedy(tokens, shaper, middle)) <= len(greedy):
                    high = middle
                else:
                    low = middle
            greedy = _greedy(tokens, shaper, high)
        lines.extend(greedy)
    if max_width_px is None:
        return lines
    # A single word wider than the box (a URL, a long compound) is broken by characters.
    fitted: list[str] = []
    for line in lines:
        while line and shaper.width(line) > max_width_px and len(line) > 1:
            cut = len(line) - 1
            while cut > 1 and shaper.width(line[:cut]) > max_width_px:
                cut -= 1
            fitted.append(line[:cut])
            line = line[cut:].lstrip()
        fitted.append(line)
    return fitted


def _rounded_box(height: int, width: int, rect: tuple[int, int, int, int], radius: int) -> Float:
    """An antialiased rounded-rectangle mask, drawn at 3x and scaled down."""
    scale = 3
    big = Image.new("L", (width * scale, height * scale), 0)
    x0, y0, x1, y1 = rect
    ImageDraw.Draw(big).rounded_rectangle(
        (x0 * scale, y0 * scale, x1 * scale - 1, y1 * scale - 1), radius=radius * scale, fill=255
    )
    small = big.resize((width, height), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / 255.0


def _over(dst_rgb: Float, dst_a: Float, color: RGBA, mask: Float) -> None:
    """Composite a flat colour through ``mask`` over a premultiplied float canvas, in place."""
    alpha = mask * (color[3] / 255.0)
    keep = 1.0 - alpha
    for channel in range(3):
        dst_rgb[..., channel] = dst_rgb[..., channel] * keep + (color[channel] / 255.0) * alpha
    dst_a *= keep
    dst_a += alpha


def render_text(
    text: str,
    font: Path,
    size_px: int,
    color: str = "#ffffff",
    stroke_px: int = 0,
    stroke_color: str = "#000000",
    box_color: str = "",
    max_width_px: int | None = None,
    language: str = "en",
    align: str = "center",
    line_spacing: float = 1.15,
    shadow: bool = False,
) -> SpriteImage:
    """Shape, wrap and draw ``text`` into a tight straight-alpha RGBA ``uint8`` array.

    Lines wrap at word boundaries (per character in Chinese and Japanese) to ``max_width_px``.
    ``box_color`` draws a rounded panel behind the text with ~0.4 em padding; ``shadow`` a soft
    drop shadow. Arabic and Hebrew are laid out right to left.
    """
    if size_px < 1:
        raise SpecError(f"text size must be at least 1 px, got {size_px}")
    if align not in ALIGNS:
        raise SpecError(f"unknown alignment {align!r}", hint=f"use one of {', '.join(ALIGNS)}")
    if max_width_px is not None and max_width_px < 1:
        raise SpecError(f"max_width_px must be positive, got {max_width_px}")
    fill = parse_color(color)
    stroke = parse_color(stroke_color)
    box = parse_color(box_color) if box_color else None
    stroke_px = max(0, int(stroke_px))

    text = text.replace("\r\n", "\n").strip("\n")
    shaper = _Shaper(font, size_px, language, is_rtl(text, language))
    lines = _wrap(text, shaper, max_width_px)
    boxes = [shaper.bbox(line, stroke_px) if line else (0, 0, 0, 0) for line in lines]
    widths = [shaper.width(line) for line in lines]
    pitch = size_px * line_spacing
    block_w = max(max(widths), max(b[2] - b[0] for b in boxes), 1.0)

    pad_x = round(size_px * 0.4) if box else 0
    pad_y = round(size_px * 0.28) if box else 0
    blur = max(1.0, size_px * 0.06) if shadow else 0.0
    offset = max(1, round(size_px * 0.05)) if shadow else 0
    margin = stroke_px + pad_x + round(3 * blur) + offset + 4
    ascent = max(-b[1] for b in boxes) if any(lines) else size_px
    descent = max(b[3] for b in boxes) if any(lines) else 0
    height = int(ascent + descent + pitch * (len(lines) - 1) + 2 * margin + 2 * pad_y)
    width = int(block_w + 2 * margin + 2 * pad_x + 2)

    fill_mask = Image.new("L", (width, height), 0)
    ink_mask = Image.new("L", (width, height), 0) if stroke_px else fill_mask
    origin_x = margin + pad_x + 1
    first_baseline = margin + pad_y + ascent
    ink_top, ink_bottom = height, 0
    for i, line in enumerate(lines):
        if not line:
            continue
        baseline = first_baseline + i * pitch
        line_w = widths[i]
        if align == "center":
            x = origin_x + (block_w - line_w) / 2
        elif align == "right":
            x = origin_x + block_w - line_w
        else:
            x = origin_x
        shaper.draw(fill_mask, (x, baseline), line, 0)
        if stroke_px:
            shaper.draw(ink_mask, (x, baseline), line, stroke_px)
        # The panel spans the typographic line (cap height to descender), not just the ink,
        # so "aaa" and "Ağy" get the same box.
        ink_top = min(ink_top, int(baseline + min(boxes[i][1], -0.78 * size_px)))
        ink_bottom = max(ink_bottom, int(baseline + max(boxes[i][3], 0.22 * size_px)))

    fill_a = np.asarray(fill_mask, dtype=np.float32) / 255.0
    ink_a = np.asarray(ink_mask, dtype=np.float32) / 255.0
    rgb = np.zeros((height, width, 3), np.float32)
    alpha = np.zeros((height, width), np.float32)

    if box is not None and ink_bottom > ink_top:
        left = [origin_x + (block_w - w) / 2 if align == "center" else origin_x for w in widths]
        if align == "right":
            left = [origin_x + block_w - w for w in widths]
        x0 = int(min(left)) - pad_x - stroke_px
        x1 = int(max(lx + w for lx, w in zip(left, widths, strict=True))) + pad_x + stroke_px
        rect = (x0, ink_top - pad_y, x1, ink_bottom + pad_y)
        _over(rgb, alpha, box, _rounded_box(height, width, rect, round(size_px * 0.3)))
    if shadow:
        shifted = np.zeros_like(ink_a)
        shifted[offset:, offset:] = ink_a[:-offset, :-offset]
        soft = cast(Float, cv2.GaussianBlur(shifted, (0, 0), blur))
        _over(rgb, alpha, (0, 0, 0, 150), soft)
    if stroke_px:
        # The outline without the glyph interior, so a translucent fill does not show it through.
        _over(rgb, alpha, stroke, np.clip(ink_a - fill_a * (fill[3] / 255.0), 0.0, 1.0))
    _over(rgb, alpha, fill, fill_a)
    return _to_sprite(rgb, alpha, fill)


def _to_sprite(rgb: Float, alpha: Float, edge: RGBA) -> SpriteImage:
    """Premultiplied float canvas -> tight straight-alpha uint8 RGBA."""
    a8 = np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
    ys, xs = np.nonzero(a8)
    if len(ys) == 0:
        out = np.zeros((1, 1, 4), np.uint8)
        out[0, 0, :3] = edge[:3]
        return out
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    rgb, alpha, a8 = rgb[y0:y1, x0:x1], alpha[y0:y1, x0:x1], a8[y0:y1, x0:x1]
    straight = rgb / np.maximum(alpha, 1e-6)[..., None]
    straight[alpha < 1e-6] = np.asarray(edge[:3], np.float32) / 255.0
    out = np.empty((*a8.shape, 4), np.uint8)
    out[..., :3] = np.clip(straight * 255.0 + 0.5, 0, 255).astype(np.uint8)
    out[..., 3] = a8
    return out


def render_title(title: TextOverlay, frame_width: int) -> SpriteImage:
    """A title overlay's sprite on a frame ``frame_width`` pixels wide: what the compositor
    draws, and what planning measures to keep subjects clear of it."""
    return render_text(
        title.text,
        font_file(title.font, title.language, bold=True),
        title.size_px,
        color=title.color,
        stroke_px=title.stroke_px,
        stroke_color=title.stroke_color,
        box_color=title.box_color,
        max_width_px=int(frame_width * title.max_width_frac),
        language=title.language,
        shadow=True,
    )


def render_watermark(
    text: str, font: Path, size_px: int, opacity: float = 0.6, language: str = "en"
) -> SpriteImage:
    """A white text watermark with a soft shadow, at ``opacity``."""
    sprite = render_text(text, font, size_px, language=language, shadow=True)
    sprite[..., 3] = (sprite[..., 3].astype(np.float32) * _unit(opacity, "opacity")).astype(
        np.uint8
    )
    return sprite


def _unit(value: float, name: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise SpecError(f"{name} must be between 0 and 1, got {value}")
    return float(value)


def render_image_sprite(path: Path, width_px: int, opacity: float = 1.0) -> SpriteImage:
    """A logo or picture as straight-alpha RGBA ``uint8``, ``width_px`` wide, aspect kept."""
    opacity = _unit(opacity, "opacity")
    if width_px < 1:
        raise SpecError(f"logo width must be at least 1 px, got {width_px}")
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"image not found: {path}", hint="check the path of the logo/watermark")
    header = read_image_header(path)  # a pixel bomb is refused before any decode
    try:
        with Image.open(path) as img:
            if header.format == "JPEG" and img.width > 2 * width_px:
                img.draft("RGB", (2 * width_px, 2 * width_px * img.height // img.width))
            img.load()
            picture = img.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise MediaError(
            f"cannot read image {path}: {exc}",
            hint="use a PNG (with transparency), JPEG or WebP file; convert SVG logos to PNG",
        ) from exc
    height_px = max(1, round(picture.height * width_px / picture.width))
    # Pillow resizes RGBA premultiplied, so transparent edges do not darken.
    picture = picture.resize((width_px, height_px), Image.Resampling.LANCZOS)
    out = np.array(picture, dtype=np.uint8)
    if opacity < 1.0:
        out[..., 3] = (out[..., 3].astype(np.float32) * opacity + 0.5).astype(np.uint8)
    return out
