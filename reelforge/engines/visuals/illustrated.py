"""Illustrated scenes: the subjects of the narration, drawn as animated colour emoji.

The engine reads what a scene says (its title, narration and visual prompt), picks the subjects
it can draw (dishes, animals, places, objects, actions) from a multilingual keyword table
(:mod:`reelforge.engines.visuals.illustrated_lexicon`) and the CLDR emoji names of the scene's
language (Debian ``unicode-cldr-core``), and composes them: a hero on a medallion in the
template's palette, companions around it, steam above hot dishes, a swarm of butterflies, small
palette shapes. Every piece is a small RGBA sprite, drawn once here (Noto Color Emoji through
Pillow, its 109 px bitmaps scaled) and moved per frame by the renderer (enter, float, bounce,
orbit...), so a 1080p frame costs a few small blends.

The sprites are subjects to draw *over* a backdrop (``VisualResult.over_backdrop``): planning
draws the scene's backdrop with the procedural engine in the scene's style, so a chosen style
is kept. When nothing in the scene matches, the result has no layers and planning shows the
backdrop alone; ``extras`` says what matched and why, for the manifest.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from numpy.typing import NDArray

from reelforge.colours import parse_hex
from reelforge.engines.base import EngineInfo, VisualLayer, VisualRequest, VisualResult
from reelforge.engines.visuals.illustrated_lexicon import LANGUAGES, entries
from reelforge.errors import EngineFailed, EngineUnavailable
from reelforge.text.words import INFLECT_MIN, LATIN_ENDINGS, normalise, wordset

VERSION = "1.0"
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
CLDR_DIR = Path("/usr/share/unicode/cldr/common")
EMOJI_STRIKE = 109  # the one bitmap size Noto Color Emoji (CBDT) holds
# The largest an emoji is drawn, in pixels: its bitmap scaled 2.75x (Lanczos, an unsharp
# mask, a steepened outline) still reads as drawn; a 1080p lead at 3-4x looked soft. A lead
# that would be larger keeps its size on screen through its medallion, a vector disc that is
# sharp at any size.
SHARPEST = 300
MAX_SUBJECTS = 4
# The best subject must score this much to draw the scene: one keyword of the table or one CLDR
# name (an inflection counts 0.8); a minor subject alone (a time, a price) does not.
CONFIDENT = 0.8
# CLDR emoji groups whose names are things a scene can be about (not faces, hands, symbols).
CLDR_GROUPS = ("Animals & Nature", "Food & Drink", "Travel & Places", "Activities", "Objects")
# A keyword of INFLECT_MIN letters or more also matches inflections: the keyword plus one of
# LATIN_ENDINGS in Latin scripts, or up to two more letters in other scripts (text.words).
ARABIC_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ل", "ف", "ك")


# Keywords whose everyday verb (or other) sense is not the thing drawn: "book yours" is not a
# book, "fly there" not a plane, "park the car" not a park. They name the thing only after an
# article, a possessive or a number; elsewhere a hit counts half and the subject is drawn only
# when the scene says it confidently in all (see ``weak`` in :class:`Match`).
WEAK_SENSES: dict[str, frozenset[str]] = {
    "en": wordset(
        "book books fly park light lights order store charge rock spring star stars present hand "
        "hands trip fire cost offer paint fold"
    ),
    "fr": wordset("livre livres vol visite marche"),
    "es": wordset("libro vuelo visita"),
}
DETERMINERS: dict[str, frozenset[str]] = {
    "en": wordset(
        "a an the this that these those my your our his her their its some any every each one two "
        "three four five six seven eight nine ten of new old good great little big"
    ),
    "fr": wordset(
        "le la l les un une des du de d ce cet cette ces mon ma mes ton ta tes son sa ses notre "
        "nos votre vos leur leurs au aux"
    ),
    "es": wordset(
        "el la los las un una unos unas mi mis tu tus su sus nuestro nuestra este esta ese esa "
        "del al de"
    ),
}
_SPLIT = re.compile(r"[\s.,;:!?\"'’‘“”«»()\[\]{}।॥،؛؟…\-–—/*_#|]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")

Image = NDArray[np.uint8]
if TYPE_CHECKING:
    from PIL.Image import Image as PILImageType


# ----------------------------------------------------------------------------- matching


def tokens(text: str) -> list[str]:
    return [t for t in _SPLIT.split(normalise(text)) if t]


@dataclass(frozen=True)
class Subject:
    """One drawable subject of the table."""

    emoji: str
    tags: frozenset[str]


@dataclass(frozen=True)
class Match:
    """A subject found in a scene's text, and why."""

    emoji: str
    keyword: str  # as written in the table or CLDR
    source: str  # "table" | "cldr"
    score: float
    position: int  # token index of the first hit (earlier = more central to the scene)
    tags: frozenset[str]
    weak: bool = False  # only found by a word in its other sense's place (WEAK_SENSES)

    def reason(self) -> str:
        where = "keyword table" if self.source == "table" else "CLDR emoji name"
        return f"{self.emoji} '{self.keyword}' ({where})"


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, list[tuple[str, str, Subject]]]:
    """language -> [(normalised keyword, keyword, subject)]."""
    by_language: dict[str, list[tuple[str, str, Subject]]] = {lang: [] for lang in LANGUAGES}
    for entry in entries():
        subject = Subject(entry.emoji, entry.tags)
        for language, keywords in entry.keywords.items():
            if keywords:
                found = by_language.setdefault(language, [])
                found.extend((normalise(word), word, subject) for word in keywords)
    return by_language


def _unicode_set(text: str) -> list[str]:
    """The members of a CLDR UnicodeSet like ``[😀-😆{👨‍⚕️}☺]`` (ranges, strings, chars)."""
    members: list[str] = []
    body = text.strip()[1:-1]
    i = 0
    while i < len(body):
        if body[i] == "{":
            end = body.index("}", i)
            members.append(body[i + 1 : end])
            i = end + 1
        elif i + 2 < len(body) and body[i + 1] == "-":
            members += [chr(c) for c in range(ord(body[i]), ord(body[i + 2]) + 1)]
            i += 3
        else:
            members.append(body[i])
            i += 1
    return members


@functools.lru_cache(maxsize=1)
def _cldr_drawable() -> frozenset[str]:
    """Emoji of the CLDR groups that name things (from CLDR's own labels.txt)."""
    labels = CLDR_DIR / "properties" / "labels.txt"
    if not labels.is_file():
        return frozenset()
    found: set[str] = set()
    for line in labels.read_text("utf-8").splitlines():
        parts = [p.strip() for p in line.split(";")]
        if len(parts) >= 2 and parts[1] in CLDR_GROUPS and parts[0].startswith("["):
            found.update(m for m in _unicode_set(parts[0]) if "\u200d" not in m)
    return frozenset(found)


@functools.lru_cache(maxsize=16)
def _cldr_names(language: str) -> dict[str, tuple[str, str]]:
    """normalised one-word CLDR name -> (emoji, name) for drawable emoji, in ``language``."""
    path = CLDR_DIR / "annotations" / f"{language}.xml"
    drawable = _cldr_drawable()
    if not path.is_file() or not drawable:
        return {}
    names: dict[str, tuple[str, str]] = {}
    for node in ElementTree.parse(path).iter("annotation"):
        emoji = (node.get("cp") or "").replace("\ufe0f", "")
        if node.get("type") != "tts" or not node.text or emoji not in drawable:
            continue
        name = node.text.strip()
        key = normalise(name)
        short = 2 if _CJK.search(key) else INFLECT_MIN
        if len(tokens(name)) == 1 and len(key) >= short:
            names.setdefault(key, (emoji, name))
    return names


def _word_hit(token: str, keyword: str, latin: bool) -> float:
    """1.0 for the word itself, 0.8 for an inflection of it, else 0."""
    if token == keyword:
        return 1.0
    if len(keyword) < INFLECT_MIN or not token.startswith(keyword):
        return 0.0
    rest = token[len(keyword) :]
    if latin:
        return 0.8 if rest in LATIN_ENDINGS else 0.0
    return 0.8 if len(rest) <= 2 else 0.0


def _variants(token: str) -> list[str]:
    """The token, and for Arabic the token without its article or conjunction."""
    found = [token]
    if "\u0600" <= token[:1] <= "\u06ff":
        for prefix in ARABIC_PREFIXES:
            if token.startswith(prefix) and len(token) - len(prefix) >= 2:
                found.append(token[len(prefix) :])
    return found


def match_subjects(text: str, language: str, title: str = "") -> list[Match]:
    """The subjects ``text`` (and its ``title``, which weighs more) speaks of, best first."""
    language = (language or "en").split("-")[0].lower()
    entries = _table().get(language, [])
    cldr = _cldr_names(language)
    singles = [e for e in entries if " " not in e[0] and not _CJK.search(e[0])]
    best: dict[str, Match] = {}

    weak_words = WEAK_SENSES.get(language, frozenset())
    determiners = DETERMINERS.get(language, frozenset())

    def add(
        subject: Subject,
        keyword: str,
        source: str,
        score: float,
        position: int,
        weak: bool = False,
    ) -> None:
        if "minor" in subject.tags:
            score *= 0.5
        if weak:
            score *= 0.5
        old = best.get(subject.emoji)
        if old is None:
            best[subject.emoji] = Match(
                subject.emoji, keyword, source, score, position, subject.tags, weak
            )
        else:
            best[subject.emoji] = Match(
                old.emoji,
                old.keyword if old.weak <= weak else keyword,
                old.source,
                old.score + score * 0.5,  # said again: more central, with diminishing weight
                min(old.position, position),
                old.tags,
                old.weak and weak,
            )

    def out_of_place(words: list[str], index: int, key: str) -> bool:
        """A weak keyword (WEAK_SENSES) without an article or possessive before it."""
        return key in weak_words and (index == 0 or words[index - 1] not in determiners)

    for part, weight, offset in ((title, 1.5, 0), (text, 1.0, 1000)):
        if not part.strip():
            continue
        words = tokens(part)
        joined = " " + " ".join(words) + " "
        flat = normalise(part)
        consumed: set[int] = set()
        for key, keyword, subject in entries:
            if " " in key and f" {key} " in joined:
                at = joined.find(f" {key} ")
                first = joined[:at].count(" ")
                consumed.update(range(first, first + key.count(" ") + 1))
                add(subject, keyword, "table", weight, offset + first)
        for index, word in enumerate(words):
            if index in consumed:
                continue
            variants = _variants(word)
            exact = [e for e in singles if e[0] in variants]
            for key, keyword, subject in exact:
                weak = out_of_place(words, index, key)
                add(subject, keyword, "table", weight, offset + index, weak)
            if exact:
                continue  # the word itself is known: no inflection of another keyword
            latin = word[:1].isascii()
            for key, keyword, subject in singles:
                hit = max(_word_hit(v, key, latin) for v in variants)
                if hit:
                    weak = out_of_place(words, index, key)
                    add(subject, keyword, "table", hit * weight, offset + index, weak)
            known = next((cldr[v] for v in variants if v in cldr), None)
            if known is not None:
                add(Subject(known[0], frozenset()), known[1], "cldr", 0.9 * weight, offset + index)
        # CJK keywords anywhere (Japanese is written without spaces): the longest first, and a
        # shorter keyword inside a longer one found is not counted again
        taken: list[tuple[int, int]] = []
        for key, keyword, subject in sorted(entries, key=lambda e: -len(e[0])):
            if " " not in key and _CJK.search(key):
                at = flat.find(key)
                while at >= 0 and any(a <= at < b for a, b in taken):
                    at = flat.find(key, at + 1)
                if at >= 0:
                    taken.append((at, at + len(key)))
                    add(subject, keyword, "table", weight, offset + at)
        if _CJK.search(flat):
            for key, (emoji, name) in cldr.items():
                if _CJK.search(key) and key in flat and not any(emoji == m for m in best):
                    add(Subject(emoji, frozenset()), name, "cldr", 0.9 * weight, offset)
    # a minor subject (a time, a price) never leads a scene that has a real one; a weak one
    # (a verb's sense: "book yours") is drawn only when said confidently in all
    found = [m for m in best.values() if not m.weak or m.score >= CONFIDENT]
    return sorted(found, key=lambda m: ("minor" in m.tags, -m.score, m.position))


# ----------------------------------------------------------------------------- drawing


def _rgb(value: str) -> tuple[int, int, int]:
    red, green, blue, _ = parse_hex(value, "palette colour")
    return red, green, blue


def _luma(rgb: tuple[int, int, int]) -> float:
    return (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


@functools.lru_cache(maxsize=1)
def _font() -> object:
    from PIL import ImageFont

    if not EMOJI_FONT.is_file():
        raise EngineUnavailable(
            f"the colour emoji font {EMOJI_FONT} is missing",
            hint="install the Debian package fonts-noto-color-emoji (scripts/setup.sh does)",
        )
    return ImageFont.truetype(str(EMOJI_FONT), EMOJI_STRIKE)


@functools.lru_cache(maxsize=256)
def _glyph(emoji: str) -> Image:
    """The emoji as tight RGBA at the font's bitmap size (cached: a glyph draws in ~1 ms)."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    font = _font()
    canvas = PILImage.new("RGBA", (EMOJI_STRIKE * 2, EMOJI_STRIKE * 2), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((8, 8), emoji, font=font, embedded_color=True)  # type: ignore[arg-type]
    box = canvas.getbbox()
    if box is None:
        raise EngineFailed(f"the emoji font drew nothing for {emoji!r}", hint="")
    return np.asarray(canvas.crop(box))


def _crisp_alpha(alpha: PILImageType, scale: float) -> PILImageType:
    """The silhouette's edge, which scaling by ``scale`` spread over ``scale`` pixels, steepened
    back to about one pixel: the outline is as crisp as a vector drawing's, whatever the size
    (the inside, flat colours and soft gradients, hides the bitmap's softness well)."""
    gain = min(4.0, scale)
    table = [min(255, max(0, round((a - 128) * gain + 128))) for a in range(256)]
    return alpha.point(table)


def _sprite(emoji: str, size: int, shadow: tuple[int, int, int]) -> Image:
    """The emoji scaled to ``size`` px on its long side, with a soft drop shadow (RGBA)."""
    from PIL import Image as PILImage
    from PIL import ImageFilter

    glyph = PILImage.fromarray(_glyph(emoji))
    scale = size / max(glyph.size)
    glyph = glyph.resize(
        (max(1, round(glyph.width * scale)), max(1, round(glyph.height * scale))),
        PILImage.Resampling.LANCZOS,
    )
    if scale > 1.3:  # bitmaps scaled up: restore a little edge contrast
        glyph = glyph.filter(ImageFilter.UnsharpMask(radius=max(1, size // 120), percent=60))
        glyph.putalpha(_crisp_alpha(glyph.getchannel("A"), scale))
    pad = max(4, size // 6)
    drop = max(2, size // 24)
    canvas = PILImage.new("RGBA", (glyph.width + 2 * pad, glyph.height + 2 * pad), (0, 0, 0, 0))
    alpha = glyph.getchannel("A").point(lambda a: a * 0.5)
    dark = PILImage.new("RGBA", glyph.size, (*shadow, 255))
    dark.putalpha(alpha)
    canvas.alpha_composite(dark, (pad + drop // 2, pad + drop))
    canvas = canvas.filter(ImageFilter.GaussianBlur(max(1.0, size / 40)))
    canvas.alpha_composite(glyph, (pad, pad))
    return np.asarray(canvas)


def _medallion(size: int, fill: tuple[int, int, int], ring: tuple[int, int, int]) -> Image:
    """A soft disc with an offset outline ring: the stage a hero stands on."""
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFilter

    big = 4  # drawn at 4x, then reduced: clean antialiased edges
    s = size * big
    canvas = PILImage.new("RGBA", (s, s), (0, 0, 0, 0))
    glow = PILImage.new("RGBA", (s, s), (0, 0, 0, 0))
    ImageDraw.Draw(glow).ellipse((s * 0.06, s * 0.06, s * 0.94, s * 0.94), fill=(*fill, 110))
    glow = glow.filter(ImageFilter.GaussianBlur(s * 0.05))
    canvas.alpha_composite(glow)
    draw = ImageDraw.Draw(canvas)
    draw.ellipse((s * 0.12, s * 0.12, s * 0.88, s * 0.88), fill=(*fill, 235))
    width = max(big, round(s * 0.012))
    draw.ellipse((s * 0.07, s * 0.1, s * 0.93, s * 0.96), outline=(*ring, 220), width=width)
    return np.asarray(canvas.resize((size, size), PILImage.Resampling.LANCZOS))


def _steam(size: int, colour: tuple[int, int, int], rng: np.random.Generator) -> Image:
    """Three wavy strokes rising: steam above a hot dish."""
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFilter

    big = 4
    w, h = size * big, round(size * 1.1) * big
    canvas = PILImage.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    for k, x in enumerate((0.28, 0.5, 0.72)):
        phase = rng.uniform(0, math.tau)
        top = 0.08 + 0.12 * (k % 2)
        points = [
            (
                w * (x + 0.07 * math.sin(phase + t * math.tau * 1.3)),
                h * (0.95 - t * (0.95 - top)),
            )
            for t in np.linspace(0.0, 1.0, 40)
        ]
        draw.line(points, fill=(*colour, 200), width=round(w * 0.045), joint="curve")
    canvas = canvas.filter(ImageFilter.GaussianBlur(w * 0.012))
    fade = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None] ** 0.7  # thin out at the top
    rgba = np.asarray(canvas).copy()
    rgba[..., 3] = (rgba[..., 3] * fade).astype(np.uint8)
    return np.asarray(
        PILImage.fromarray(rgba).resize((w // big, h // big), PILImage.Resampling.LANCZOS)
    )


def _shape(kind: str, size: int, colour: tuple[int, int, int]) -> Image:
    """A small palette shape: a dot, a ring, a plus or a four-point sparkle."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    big = 4
    s = max(4, size) * big
    canvas = PILImage.new("RGBA", (s, s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    ink = (*colour, 235)
    if kind == "dot":
        draw.ellipse((s * 0.2, s * 0.2, s * 0.8, s * 0.8), fill=ink)
    elif kind == "ring":
        draw.ellipse((s * 0.1, s * 0.1, s * 0.9, s * 0.9), outline=ink, width=round(s * 0.13))
    elif kind == "plus":
        t = s * 0.09
        draw.rounded_rectangle((s * 0.5 - t, s * 0.1, s * 0.5 + t, s * 0.9), t, fill=ink)
        draw.rounded_rectangle((s * 0.1, s * 0.5 - t, s * 0.9, s * 0.5 + t), t, fill=ink)
    else:  # sparkle
        c, r, n = s * 0.5, s * 0.48, s * 0.09
        draw.polygon(
            [(c, c - r), (c + n, c - n), (c + r, c), (c + n, c + n), (c, c + r), (c - n, c + n),
             (c - r, c), (c - n, c - n)],
            fill=ink,
        )  # fmt: skip
    return np.asarray(canvas.resize((s // big, s // big), PILImage.Resampling.LANCZOS))


# ----------------------------------------------------------------------------- composition

Box = tuple[float, float, float, float]  # (x0, y0, x1, y1)

# How far each idle animation carries a sprite from its rest box, in units of the sprite's long
# side: (sideways either way, up, down, growth). It mirrors the compositor's sprite motion, so
# a subject placed clear of the titles and captions stays clear while it moves.
REACH: dict[str, tuple[float, float, float, float]] = {
    "still": (0.0, 0.0, 0.0, 1.0),
    "float": (0.02, 0.045, 0.045, 1.0),
    "bounce": (0.0, 0.1, 0.0, 1.0),
    "orbit": (0.35, 0.22, 0.22, 1.0),
    "pulse": (0.0, 0.0, 0.0, 1.05),
    "sway": (0.0, 0.0, 0.0, 1.42),
    "twinkle": (0.0, 0.3, 0.3, 1.0),
    "rise": (0.0, 0.35, 0.0, 1.0),
}
SAFE = 0.025  # subjects stay this far (fraction of each side) inside the frame
CLEARANCE = 0.015  # and this far (fraction of the short side) from text


@dataclass(frozen=True)
class _Piece:
    """A sprite to draw and how it moves: centre (x, y) as fractions of the frame, its size in
    pixels (an emoji's long side, a medallion's diameter...) and its animation."""

    name: str
    kind: str  # "emoji" | "medallion" | "steam" | a shape ("dot", "ring", "plus", "sparkle")
    px: int
    x: float
    y: float
    animation: str
    entrance: str
    delay: float
    phase: float
    colour: tuple[int, int, int] = (0, 0, 0)
    seed: int = 0


def _dims(piece: _Piece) -> tuple[int, int]:
    """The (width, height) in pixels of the sprite ``piece`` draws (shadow padding included)."""
    px = max(4, piece.px)
    if piece.kind == "emoji":
        gh, gw = _glyph(piece.name).shape[:2]
        scale = px / max(gw, gh)
        pad = max(4, px // 6)
        return max(1, round(gw * scale)) + 2 * pad, max(1, round(gh * scale)) + 2 * pad
    if piece.kind == "steam":
        return px, round(px * 1.1)
    return px, px


def _extent(piece: _Piece, width: int, height: int) -> Box:
    """The pixels ``piece`` may cover while it moves (after its entrance)."""
    w, h = _dims(piece)
    side, up, down, grow = REACH.get(piece.animation, (0.0, 0.0, 0.0, 1.0))
    unit = max(w, h)
    cx, cy = piece.x * width, piece.y * height
    half_w, half_h = w * grow / 2 + side * unit + 3, h * grow / 2 + 3
    return cx - half_w, cy - half_h - up * unit, cx + half_w, cy + half_h + down * unit


def _union(boxes: list[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(a: Box, b: Box) -> bool:
    return a[0] >= b[0] and a[1] >= b[1] and a[2] <= b[2] and a[3] <= b[3]


def _free_areas(keep: list[Box], frame: Box) -> list[Box]:
    """The largest rectangles of ``frame`` that touch none of the ``keep`` boxes (all pixels):
    every rectangle whose sides lie on the frame's or a box's edges, kept when it is empty."""
    xs = sorted({frame[0], frame[2], *(v for b in keep for v in (b[0], b[2]))})
    ys = sorted({frame[1], frame[3], *(v for b in keep for v in (b[1], b[3]))})
    xs = [x for x in xs if frame[0] <= x <= frame[2]]
    ys = [y for y in ys if frame[1] <= y <= frame[3]]
    found: list[Box] = []
    for i, x0 in enumerate(xs):
        for x1 in xs[i + 1 :]:
            for j, y0 in enumerate(ys):
                for y1 in ys[j + 1 :]:
                    rect = (x0, y0, x1, y1)
                    if any(_overlaps(rect, b) for b in keep):
                        break  # taller ones from this y0 overlap too
                    found.append(rect)
    # only the maximal ones: a rectangle inside another adds nothing
    return [r for r in found if not any(o != r and _inside(r, o) for o in found)]


def _fit(pieces: list[_Piece], areas: list[Box], width: int, height: int) -> tuple[float, Box]:
    """(scale, area): how much the group must shrink to fit its best free area (1 = not at
    all), traded against how far it moves there."""
    group = _union([_extent(p, width, height) for p in pieces])
    gw, gh = group[2] - group[0], group[3] - group[1]
    cx, cy = (group[0] + group[2]) / 2, (group[1] + group[3]) / 2
    best: tuple[float, float, Box] | None = None
    for area in areas:
        scale = min(1.0, (area[2] - area[0]) / gw, (area[3] - area[1]) / gh)
        half_w, half_h = gw * scale / 2, gh * scale / 2
        tx = min(max(cx, area[0] + half_w), area[2] - half_w)
        ty = min(max(cy, area[1] + half_h), area[3] - half_h)
        move = math.hypot(tx - cx, ty - cy)
        # a little more size is not worth moving the group off to one side
        score = scale - 0.3 * move / max(width, height)
        if best is None or score > best[1]:
            best = (round(scale, 3), score, area)
    assert best is not None
    return best[0], best[2]


def _place(pieces: list[_Piece], area: Box, scale: float, width: int, height: int) -> list[_Piece]:
    """The group shrunk by ``scale`` about its centre and moved the least into ``area``."""
    group = _union([_extent(p, width, height) for p in pieces])
    cx, cy = (group[0] + group[2]) / 2, (group[1] + group[3]) / 2
    half_w, half_h = (group[2] - group[0]) * scale / 2, (group[3] - group[1]) * scale / 2
    tx = min(max(cx, area[0] + half_w), area[2] - half_w)
    ty = min(max(cy, area[1] + half_h), area[3] - half_h)
    return [
        replace(
            p,
            x=(tx + (p.x * width - cx) * scale) / width,
            y=(ty + (p.y * height - cy) * scale) / height,
            px=max(4, round(p.px * scale)),
        )
        for p in pieces
    ]


def _settle(pieces: list[_Piece], area: Box, width: int, height: int) -> list[_Piece]:
    """The group moved by the little its real extents (whose margins do not scale) overhang
    ``area``, when it is small enough to fit there."""
    box = _union([_extent(p, width, height) for p in pieces])
    dx = max(0.0, area[0] - box[0]) - max(0.0, box[2] - area[2])
    dy = max(0.0, area[1] - box[1]) - max(0.0, box[3] - area[3])
    if not dx and not dy:
        return pieces
    return [replace(p, x=p.x + dx / width, y=p.y + dy / height) for p in pieces]


LAYOUTS = ("hero", "side", "row", "stack")


def _layouts(count: int, vertical: bool) -> list[str]:
    if count == 1:
        return ["hero"] if vertical else ["hero", "side"]
    return ["hero", "row", "stack"] if vertical else ["hero", "side", "row", "stack"]


def _group(
    layout: str,
    subjects: list[Match],
    width: int,
    height: int,
    rng: np.random.Generator,
    light: tuple[int, int, int],
) -> list[_Piece]:
    """The main subjects in ``layout``, sized and placed for an empty frame (the fit moves them
    clear of the text)."""
    short = min(width, height)
    vertical = height > width * 1.1
    fx = short / width
    top, bottom = (0.4, 0.68) if vertical else (0.42, 0.76)
    band = (top + bottom) / 2
    pieces: list[_Piece] = []

    def emoji(match: Match, x: float, y: float, size: float, delay: float, lead: bool) -> None:
        px = min(SHARPEST, max(8, round(size * short)))
        idle = "bounce" if "lively" in match.tags else "pulse" if "glow" in match.tags else "float"
        if not lead and idle == "float" and rng.random() < 0.4:
            idle = "orbit"
        entrance = "pop" if lead else str(rng.choice(["pop", "rise", "slide"]))
        pieces.append(_Piece(match.emoji, "emoji", px, x, y, idle, entrance, delay, rng.random()))
        if "hot" in match.tags:
            pieces.append(
                _Piece("steam", "steam", max(8, round(px * 0.6)), x, y - px / height * 0.78,
                       "rise", "fade", delay + 0.4, rng.random(), light,
                       int(rng.integers(1 << 30)))
            )  # fmt: skip

    def medallion(x: float, y: float, size: float, subject: float) -> None:
        # a vector disc stays crisp at any size: around an emoji capped at SHARPEST it keeps the
        # subject's presence, a little wider than the emoji it frames
        px = max(8, round(min(size * short, SHARPEST * size / subject * 1.12)))
        pieces.append(_Piece("medallion", "medallion", px, x, y, "still", "pop", 0.05, 0.0))

    hero = subjects[0]
    others = [m for m in subjects[1:] if "sky" not in m.tags]
    if layout in ("hero", "side"):
        x = 0.5 if layout == "hero" else float(rng.choice([0.3, 0.7]))
        size = 0.3 if vertical else 0.34
        medallion(x, band, size * 1.45, size)
        emoji(hero, x, band, size, 0.2, True)
        around = len(others)
        for k, match in enumerate(others):
            if layout == "hero":  # companions left and right of the hero, alternating
                side = -1 if k % 2 == 0 else 1
                reach = (size * 0.72 + 0.12 + 0.06 * (k // 2)) * fx
                ox = x + side * reach
                oy = band + (-0.07 if k // 2 == 0 else 0.1) * (1 if side < 0 else -1)
            else:
                ox = (1 - x) + (k - (around - 1) / 2) * 0.06
                oy = top + (k + 0.5) * (bottom - top) / around
            emoji(match, ox, oy, 0.16 if vertical else 0.17, 0.6 + 0.25 * k, False)
    elif layout == "row":
        row = [hero, *others]
        n = len(row)
        size = min(0.3, 0.8 / n) if vertical else min(0.3, 1.5 / (n + 1.6))
        for k, match in enumerate(row):
            if vertical:
                x = 0.5 + (k - (n - 1) / 2) * 0.28 if n <= 2 else (k + 0.5) / n
            else:
                x = (k + 0.5) / n * 0.84 + 0.08
            y = band + (0.03 if k % 2 else -0.03)
            medallion(x, y, size * 1.35, size)
            emoji(match, x, y, size, 0.15 + 0.25 * k, k == 0)
    else:  # stack: overlapping, staggered, like a still life
        row = [hero, *others]
        base = 0.3
        medallion(0.5, band, base * 1.7, base)
        for k, match in enumerate(row):
            # the hero in the middle, the others alternating left and right, a little lower
            step = (k + 1) // 2 * (1 if k % 2 else -1)
            dx = step * (0.2 if vertical else 0.13)
            dy = 0.06 if k else 0.0
            emoji(match, 0.5 + dx, band + dy, base if k == 0 else base * 0.62, 0.15 + 0.3 * k,
                  k == 0)  # fmt: skip
    return pieces


def compose(
    matches: list[Match],
    palette: tuple[str, ...],
    width: int,
    height: int,
    rng: np.random.Generator,
    keep_clear: tuple[Box, ...] = (),
) -> tuple[str, list[_Piece]]:
    """The pieces of a scene: a layout chosen from the seed, sized for the frame, in the part
    of it that ``keep_clear`` (titles, captions: fractions of the frame) leaves free."""
    colours = [_rgb(c) for c in palette]
    dark, accent = colours[0], colours[-1]
    mid = colours[1] if len(colours) > 2 else _mix(dark, accent, 0.5)
    light = _mix(accent, (255, 255, 255), 0.55)
    short = min(width, height)
    vertical = height > width * 1.1
    subjects = matches[:MAX_SUBJECTS]
    margin = CLEARANCE * short
    keep = [
        (b[0] * width - margin, b[1] * height - margin, b[2] * width + margin,
         b[3] * height + margin)
        for b in keep_clear
    ]  # fmt: skip
    frame = (SAFE * width, SAFE * height, (1 - SAFE) * width, (1 - SAFE) * height)
    areas = _free_areas(keep, frame) or [frame]

    # the seed picks the layout; another one is taken when it fits the free area much better
    grounded = [subjects[0], *(m for m in subjects[1:] if "sky" not in m.tags)]
    layout = _layout_for(grounded, width, height, rng)
    group = _group(layout, grounded, width, height, rng, light)
    scale, area = _fit(group, areas, width, height)
    if scale < 0.8:
        for other in _layouts(len(grounded), vertical):
            if other == layout:
                continue
            trial = _group(other, grounded, width, height, rng, light)
            trial_scale, trial_area = _fit(trial, areas, width, height)
            if trial_scale > scale + 0.05:
                layout, group, scale, area = other, trial, trial_scale, trial_area
    # text leaves a thin strip (a long title over two lines, two lines of captions): fewer
    # subjects, drawn larger, read better than all of them tiny
    while scale < 0.55 and len(grounded) > 1:
        fewer = grounded[:-1]
        options = [
            (o, _group(o, fewer, width, height, rng, light)) for o in _layouts(len(fewer), vertical)
        ]
        fits = [(*_fit(g, areas, width, height), o, g) for o, g in options]
        best = max(fits, key=lambda f: f[0])
        if best[0] < scale + 0.1:
            break
        grounded = fewer
        scale, area, layout, group = best
    pieces = _settle(_place(group, area, scale, width, height), area, width, height)
    for _ in range(12):  # the margins of the extents do not scale: shrink a little more
        if all(_inside(_extent(p, width, height), area) for p in pieces):
            break
        scale *= 0.96
        pieces = _settle(_place(group, area, scale, width, height), area, width, height)
    taken = _union([_extent(p, width, height) for p in pieces])

    def scatter(piece: _Piece, xs: tuple[float, float], ys: tuple[float, float],
                avoid_group: bool) -> None:  # fmt: skip
        """Add ``piece`` at the first of a few random places that is clear, else leave it."""
        for _ in range(30):
            moved = replace(piece, x=rng.uniform(*xs), y=rng.uniform(*ys))
            box = _extent(moved, width, height)
            if not _inside(box, frame) or any(_overlaps(box, b) for b in keep):
                continue
            if avoid_group and _overlaps(box, taken):
                continue
            pieces.append(moved)
            return

    hero = subjects[0]
    if "swarm" in hero.tags:  # a swarm flies everywhere the text leaves free
        for _ in range(int(rng.integers(6, 10))):
            px = max(8, round(rng.uniform(0.07, 0.13) * short))
            scatter(_Piece(hero.emoji, "emoji", px, 0.5, 0.5, "orbit", "fade",
                           rng.uniform(0.0, 1.2), rng.random()), (0.05, 0.95), (0.05, 0.95),
                    False)  # fmt: skip
    for k, match in enumerate(m for m in subjects[1:] if "sky" in m.tags):
        px = max(8, round(0.14 * short * max(0.6, scale)))
        xs = (0.7, 0.92) if k % 2 == 0 else (0.08, 0.3)
        scatter(_Piece(match.emoji, "emoji", px, 0.5, 0.5, "float", "rise", 0.8 + 0.3 * k,
                       rng.random()), xs, (0.06, 0.5), True)  # fmt: skip
    # small palette shapes around the subjects: depth and rhythm, never over them
    for _ in range(int(rng.integers(5, 9))):
        kind = str(rng.choice(["dot", "ring", "plus", "sparkle", "dot"]))
        colour = [accent, light, mid][int(rng.integers(3))]
        px = max(6, round(short * rng.uniform(0.018, 0.04)))
        animation = str(rng.choice(["float", "twinkle", "orbit"]))
        scatter(_Piece(kind, kind, px, 0.5, 0.5, animation, "fade", rng.uniform(0.2, 1.0),
                       rng.random(), colour), (0.04, 0.96), (0.06, 0.94), True)  # fmt: skip
    return layout, pieces


def _layout_for(matches: list[Match], width: int, height: int, rng: np.random.Generator) -> str:
    options = _layouts(len(matches), height > width * 1.1)
    if len(matches) == 1 and len(options) > 1:
        return "hero" if rng.random() < 0.5 else "side"
    return str(options[int(rng.integers(len(options)))])


def draw_piece(piece: _Piece, palette: tuple[str, ...]) -> Image:
    """The RGBA sprite of ``piece`` in the palette's colours."""
    colours = [_rgb(c) for c in palette]
    dark, accent = colours[0], colours[-1]
    mid = colours[1] if len(colours) > 2 else _mix(dark, accent, 0.5)
    # the medallion is a light tint of the palette; on a light palette, a deeper one
    fill = _mix(accent, (255, 255, 255), 0.7) if _luma(accent) < 0.8 else _mix(mid, accent, 0.5)
    shadow = _mix(dark, (0, 0, 0), 0.5)
    px = max(4, piece.px)
    if piece.kind == "emoji":
        return _sprite(piece.name, px, shadow)
    if piece.kind == "medallion":
        return _medallion(px, fill, accent)
    if piece.kind == "steam":
        return _steam(px, piece.colour, np.random.default_rng(piece.seed))
    return _shape(piece.kind, px, piece.colour)


def _write_png(path: Path, rgba: Image) -> None:
    from PIL import Image as PILImage

    try:
        PILImage.fromarray(rgba, "RGBA").save(path, compress_level=1)
    except OSError as exc:
        raise EngineFailed(f"could not write {path}: {exc}", hint="check the work folder") from exc


class IllustratedVisuals:
    """Subjects of the narration as animated colour-emoji illustrations, over a backdrop."""

    name: ClassVar[str] = "illustrated"

    def info(self) -> EngineInfo:
        if not EMOJI_FONT.is_file():
            return EngineInfo(
                self.name,
                "visuals",
                VERSION,
                available=False,
                reason=f"{EMOJI_FONT} is missing (install Debian fonts-noto-color-emoji)",
            )
        return EngineInfo(name=self.name, kind="visuals", version=VERSION)

    def styles(self) -> list[str]:
        from reelforge.engines.visuals.procedural_styles import STYLES

        return list(STYLES)  # the backdrops planning draws under the subjects

    def check_inputs(self, request: VisualRequest) -> None:
        request.check_size()

    def generate(self, request: VisualRequest, workdir: Path) -> VisualResult:
        self.check_inputs(request)
        text = "" if request.prompt.strip() == request.title.strip() else request.prompt
        matches = match_subjects(text, request.language, request.title)
        if not matches or matches[0].score < CONFIDENT:
            weak = "; ".join(m.reason() for m in matches[:2])
            return VisualResult(
                engine=self.name,
                version=VERSION,
                over_backdrop=True,
                extras={
                    "matched": "",
                    "why": f"no confident subject (only {weak})" if weak else "no subject found",
                },
            )
        digest = hashlib.sha256(
            f"{request.seed}\x00{request.title}\x00{request.prompt}".encode()
        ).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
        layout, pieces = compose(
            matches, request.palette, request.width, request.height, rng, request.keep_clear
        )
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        key = hashlib.sha256(
            f"{request.seed}|{request.prompt}|{request.width}x{request.height}|"
            f"{','.join(request.palette)}|{request.keep_clear}".encode()
        ).hexdigest()[:10]
        layers = []
        for k, piece in enumerate(pieces):
            path = workdir / f"illustrated-{key}-{k:02d}.png"
            rgba = draw_piece(piece, request.palette)
            _write_png(path, rgba)
            layers.append(
                VisualLayer(
                    path,
                    motion="none",
                    box=(
                        round(piece.x, 4),
                        round(piece.y, 4),
                        round(rgba.shape[1] / request.width, 4),
                    ),
                    animation=piece.animation,
                    entrance=piece.entrance,
                    delay=round(piece.delay, 3),
                    phase=round(piece.phase, 3),
                )
            )
        shown = {piece.name for piece in pieces}
        drawn = [m for m in matches[:MAX_SUBJECTS] if m.emoji in shown]
        return VisualResult(
            layers=tuple(layers),
            engine=self.name,
            version=VERSION,
            over_backdrop=True,
            extras={
                "matched": " ".join(m.emoji for m in drawn),
                "why": "; ".join(m.reason() for m in drawn),
                "layout": layout,
            },
        )
