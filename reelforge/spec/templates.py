"""Templates: the look, sound and prompt vocabulary of a kind of video.

A template fills every storyboard field the user left empty (palette, procedural background,
fonts, caption style, music mood, transitions, colour grade, camera motion). It also carries
prompt keywords, with per-culture context, for generative visual engines: the same restaurant
scene should read "zellige tiles, Moorish arches" for an Algerian restaurant and "marigold
garlands, brass thali" for an Indian one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from reelforge.captions.formats import CAPTION_STYLES
from reelforge.engines import registry
from reelforge.errors import SpecError
from reelforge.timeline import GRADES, MOTION_PRESETS, TRANSITIONS

# The picture styles and music moods templates choose from: those of the default engines, read
# from the engines' light metadata (no numpy or MIDI loads here), and the caption looks.
VISUAL_STYLES = tuple(registry.choices("visuals", "procedural"))
MUSIC_MOODS = tuple(registry.choices("music", "procedural"))

# Culture keys, and the spellings people actually type for them.
CULTURES = ("algerian", "maghreb", "indian", "french", "gulf")
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def _normalise(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().lower())


@dataclass(frozen=True)
class Template:
    """A named look and sound. Every field is a default the storyboard can override."""

    name: str
    description: str
    palette: tuple[str, ...]  # 3-5 "#rrggbb" colours, darkest first, accent last
    visual_style: str  # one of VISUAL_STYLES
    title_font: str  # a fontconfig family; captions fall back per script (Arabic, Devanagari...)
    caption_style: str  # one of CAPTION_STYLES
    caption_color: str
    caption_highlight: str
    caption_uppercase: bool
    music_mood: str  # one of MUSIC_MOODS
    transition: str  # one of reelforge.timeline.TRANSITIONS
    transition_duration: float  # seconds
    grade: str  # one of reelforge.timeline.GRADES
    motions: tuple[str, ...]  # MOTION_PRESETS names, cycled over the scenes
    prompt_keywords: tuple[str, ...]
    # styles that take turns with visual_style over the scenes (same palette), for variety
    accent_styles: tuple[str, ...] = ()
    # Mapping, not dict, so the shared TEMPLATES cannot be edited by one caller for all others.
    cultural_contexts: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )

    def __post_init__(self) -> None:
        problems = []
        if not 3 <= len(self.palette) <= 5 or not all(_HEX.match(c) for c in self.palette):
            problems.append(f"palette must be 3-5 '#rrggbb' colours, got {self.palette!r}")
        for label, value, allowed in (
            ("visual_style", self.visual_style, VISUAL_STYLES),
            *(("accent_styles", style, VISUAL_STYLES) for style in self.accent_styles),
            ("caption_style", self.caption_style, CAPTION_STYLES),
            ("music_mood", self.music_mood, MUSIC_MOODS),
            ("transition", self.transition, TRANSITIONS),
            ("grade", self.grade, GRADES),
        ):
            if value not in allowed:
                problems.append(f"{label} {value!r} is not one of {', '.join(allowed)}")
        for colour in (self.caption_color, self.caption_highlight):
            if not _HEX.match(colour):
                problems.append(f"caption colour {colour!r} is not '#rrggbb'")
        if not 0.0 <= self.transition_duration <= 3.0:
            problems.append("transition_duration must be within 0-3 seconds")
        unknown = [m for m in self.motions if m not in MOTION_PRESETS]
        if not self.motions or unknown:
            problems.append(f"motions must be non-empty MOTION_PRESETS names, unknown: {unknown}")
        unknown_cultures = [c for c in self.cultural_contexts if c not in CULTURES]
        if unknown_cultures:
            problems.append(f"unknown cultures {unknown_cultures}; known: {', '.join(CULTURES)}")
        if problems:
            raise SpecError(
                f"template {self.name!r} is invalid: " + "; ".join(problems),
                hint="fix the template definition",
            )
        # Freeze whatever mapping was passed in.
        frozen = MappingProxyType({k: tuple(v) for k, v in self.cultural_contexts.items()})
        object.__setattr__(self, "cultural_contexts", frozen)

    @property
    def background(self) -> str:
        """The darkest palette colour: letterbox bars and empty frames."""
        return self.palette[0]

    @property
    def accent(self) -> str:
        return self.palette[-1]

    def style_for(self, scene_index: int) -> str:
        """The procedural style of scene ``scene_index``: the main style, then the accents."""
        styles = (self.visual_style, *self.accent_styles)
        return styles[scene_index % len(styles)]

    def motion_for(self, scene_index: int) -> str:
        """The motion preset of scene ``scene_index`` (0-based): the cycle repeats."""
        return self.motions[scene_index % len(self.motions)]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (for ``reelforge templates`` and the API)."""
        return {
            "name": self.name,
            "description": self.description,
            "palette": list(self.palette),
            "visual_style": self.visual_style,
            "accent_styles": list(self.accent_styles),
            "title_font": self.title_font,
            "caption_style": self.caption_style,
            "caption_color": self.caption_color,
            "caption_highlight": self.caption_highlight,
            "caption_uppercase": self.caption_uppercase,
            "music_mood": self.music_mood,
            "transition": self.transition,
            "transition_duration": self.transition_duration,
            "grade": self.grade,
            "motions": list(self.motions),
            "prompt_keywords": list(self.prompt_keywords),
            "cultural_contexts": {k: list(v) for k, v in self.cultural_contexts.items()},
        }


def _contexts(**by_culture: tuple[str, ...]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType(dict(by_culture))


_ALL: tuple[Template, ...] = (
    Template(
        name="default",
        description="Neutral and clean: a slow gradient, bold white captions, calm music.",
        palette=("#0f172a", "#1e293b", "#334155", "#38bdf8"),
        visual_style="gradient",
        accent_styles=("aurora", "waves"),
        title_font="DejaVu Sans",
        caption_style="bold",
        caption_color="#ffffff",
        caption_highlight="#ffd400",
        caption_uppercase=False,
        music_mood="calm",
        transition="crossfade",
        transition_duration=0.5,
        grade="none",
        motions=("zoom-in", "pan-right", "zoom-out", "pan-left"),
        prompt_keywords=("high quality", "cinematic lighting", "detailed", "sharp focus"),
    ),
    Template(
        name="restaurant",
        description="Warm and appetising: bokeh lights, serif titles, upbeat music, warm grade.",
        palette=("#2b1408", "#5c2a12", "#a4471c", "#e8a33d", "#f6d08a"),
        visual_style="bokeh",
        accent_styles=("sunset", "gradient"),
        title_font="Noto Serif Display",
        caption_style="highlight",
        caption_color="#ffffff",
        caption_highlight="#f6c453",
        caption_uppercase=False,
        music_mood="upbeat",
        transition="crossfade",
        transition_duration=0.6,
        grade="warm",
        motions=("zoom-in", "pan-right", "drift", "zoom-out"),
        prompt_keywords=(
            "appetising food photography",
            "steam rising from the dishes",
            "warm ambient light",
            "shallow depth of field",
            "cosy dining room",
            "4K cinematic",
        ),
        cultural_contexts=_contexts(
            algerian=(
                "traditional Algerian restaurant in Algiers",
                "zellige tiles and Moorish arches",
                "carved wooden tables",
                "steaming couscous and lamb tajine",
                "mint tea in glasses",
                "Mediterranean light",
            ),
            maghreb=(
                "North African restaurant",
                "couscous and tajine in clay pots",
                "brass lanterns",
                "colourful zellige",
                "mint tea poured from high",
            ),
            indian=(
                "Indian restaurant",
                "brass thali with curries",
                "tandoor oven glow",
                "marigold garlands",
                "heaps of spices",
                "Jaipur pink walls",
            ),
            french=(
                "Parisian bistro",
                "chalkboard menu",
                "zinc bar",
                "checked tablecloths",
                "fresh baguettes and wine",
            ),
            gulf=(
                "majlis seating",
                "Arabic coffee poured from a dallah",
                "dates on brass trays",
                "mandi rice with lamb",
            ),
        ),
    ),
    Template(
        name="real-estate",
        description="Bright and spacious: slow pans, boxed captions, corporate music.",
        palette=("#0b1a2a", "#1f3b57", "#4f7ea8", "#d9c7a3", "#f4efe6"),
        visual_style="geometric",
        accent_styles=("gradient", "grid"),
        title_font="Noto Sans Display",
        caption_style="boxed",
        caption_color="#ffffff",
        caption_highlight="#d9c7a3",
        caption_uppercase=False,
        music_mood="corporate",
        transition="slide-left",
        transition_duration=0.6,
        grade="bright",
        motions=("pan-right", "pan-left", "zoom-in-right", "pan-up"),
        prompt_keywords=(
            "architectural photography",
            "wide-angle interior",
            "natural daylight",
            "photorealistic",
            "clean lines",
            "high quality render",
        ),
        cultural_contexts=_contexts(
            algerian=(
                "modern villa in Hydra, Algiers",
                "contemporary Algerian architecture",
                "white facade with balconies",
                "Mediterranean garden with palm trees",
                "sea view",
                "blue sky",
            ),
            maghreb=(
                "riad courtyard with a fountain",
                "zellige floors",
                "carved plaster arches",
                "rooftop terrace",
            ),
            indian=(
                "modern apartment in Bengaluru",
                "jaali screens",
                "courtyard with tulsi plant",
                "warm wood and brass accents",
            ),
            french=(
                "Haussmann apartment",
                "herringbone parquet",
                "marble fireplace",
                "tall windows with wrought-iron balconies",
            ),
            gulf=(
                "luxury villa in Dubai",
                "infinity pool",
                "floor-to-ceiling glass",
                "desert sunset skyline",
            ),
        ),
    ),
    Template(
        name="product-promo",
        description="Punchy and modern: aurora backgrounds, karaoke captions in capitals.",
        palette=("#0a0a0a", "#1c1c1c", "#3a0ca3", "#ff3d71", "#ffd166"),
        visual_style="aurora",
        accent_styles=("geometric", "confetti"),
        title_font="Noto Sans Display",
        caption_style="karaoke",
        caption_color="#ffffff",
        caption_highlight="#ffd166",
        caption_uppercase=True,
        music_mood="upbeat",
        transition="slide-up",
        transition_duration=0.4,
        grade="cinematic",
        motions=("zoom-in", "drift", "zoom-out", "drift-reverse"),
        prompt_keywords=(
            "studio product shot",
            "seamless backdrop",
            "softbox lighting",
            "crisp reflections",
            "commercial photography",
            "hero angle",
        ),
        cultural_contexts=_contexts(
            algerian=(
                "Algerian craftsmanship",
                "Kabyle silver and coral patterns",
                "Mediterranean light",
                "olive wood surface",
            ),
            maghreb=("North African artisan textures", "terracotta and brass", "zellige backdrop"),
            indian=("Indian festive setting", "Diwali diyas", "silk and brass", "marigold accents"),
            french=("Parisian boutique", "marble counter", "minimal chic styling"),
            gulf=("luxury gold accents", "oud and incense ambience", "desert sand tones"),
        ),
    ),
    Template(
        name="explainer",
        description="Clear and calm: a subtle grid, highlighted captions, wipes between steps.",
        palette=("#0b1320", "#1b2a41", "#324a5f", "#ccc9dc", "#ffb703"),
        visual_style="grid",
        accent_styles=("geometric", "gradient"),
        title_font="DejaVu Sans",
        caption_style="highlight",
        caption_color="#ffffff",
        caption_highlight="#ffb703",
        caption_uppercase=False,
        music_mood="calm",
        transition="wipe-left",
        transition_duration=0.5,
        grade="none",
        motions=("zoom-in", "drift", "zoom-out", "drift-reverse"),
        prompt_keywords=(
            "clean infographic style",
            "flat illustration",
            "clear composition",
            "soft even lighting",
            "minimal background",
        ),
        cultural_contexts=_contexts(
            algerian=("Algerian classroom", "Algiers street scenes", "Mediterranean light"),
            indian=("Indian classroom", "chalkboard with Devanagari", "bustling Indian street"),
        ),
    ),
    Template(
        name="childrens-story",
        description="Colourful and gentle: confetti shapes, karaoke captions, playful music.",
        palette=("#2d1b69", "#5b3cc4", "#ff6f91", "#ffc75f", "#f9f871"),
        visual_style="confetti",
        accent_styles=("waves", "sunset"),
        title_font="Noto Sans Display",
        caption_style="karaoke",
        caption_color="#ffffff",
        caption_highlight="#ffc75f",
        caption_uppercase=False,
        music_mood="playful",
        transition="crossfade",
        transition_duration=0.7,
        grade="bright",
        motions=("zoom-in", "pan-right", "zoom-out", "pan-left"),
        prompt_keywords=(
            "colourful",
            "cheerful",
            "children's book illustration",
            "soft watercolour",
            "whimsical",
            "friendly characters",
        ),
        cultural_contexts=_contexts(
            algerian=(
                "Kabyle village in the mountains",
                "olive trees",
                "Berber patterns",
                "Tassili rock paintings",
            ),
            maghreb=("desert oasis", "palm trees", "camel caravan", "starry Sahara night"),
            indian=(
                "Panchatantra style",
                "village under a banyan tree",
                "peacocks and monkeys",
                "rangoli colours",
            ),
            french=("storybook village", "Provence lavender fields", "little stone bridge"),
        ),
    ),
    Template(
        name="news",
        description="Serious and fast: grid background, boxed captions, short wipes, cool grade.",
        palette=("#0a0f1e", "#12213f", "#1f3a6d", "#b3001b", "#f2f2f2"),
        visual_style="grid",
        accent_styles=("gradient",),
        title_font="Noto Sans",
        caption_style="boxed",
        caption_color="#ffffff",
        caption_highlight="#ffcc00",
        caption_uppercase=False,
        music_mood="dramatic",
        transition="wipe-right",
        transition_duration=0.35,
        grade="cool",
        motions=("zoom-in", "pan-left", "zoom-in-right", "drift"),
        prompt_keywords=(
            "photojournalism",
            "documentary style",
            "natural light",
            "realistic",
            "press photo",
        ),
        cultural_contexts=_contexts(
            algerian=(
                "Algiers skyline",
                "Maqam Echahid memorial",
                "busy street in Bab El Oued",
                "Mediterranean port",
            ),
            indian=("Mumbai street", "crowded market", "monsoon sky", "Parliament House, Delhi"),
            french=("Paris", "Haussmann boulevard", "press conference", "Seine embankment"),
            gulf=("Doha skyline", "modern conference hall", "desert highway"),
        ),
    ),
    Template(
        name="podcast",
        description="Relaxed talk: soft waves, plain captions, lo-fi music, gentle fades.",
        palette=("#101418", "#1d2630", "#2f4858", "#86bbd8", "#f6ae2d"),
        visual_style="waves",
        accent_styles=("aurora",),
        title_font="Noto Sans",
        caption_style="plain",
        caption_color="#ffffff",
        caption_highlight="#f6ae2d",
        caption_uppercase=False,
        music_mood="lofi",
        transition="fade",
        transition_duration=0.8,
        grade="none",
        motions=("drift", "drift-reverse"),
        prompt_keywords=(
            "podcast studio",
            "microphones",
            "warm practical lights",
            "acoustic panels",
        ),
    ),
    Template(
        name="social",
        description="Vertical-first and loud: sunset gradients, big karaoke captions, quick cuts.",
        palette=("#1a0933", "#4a148c", "#c2185b", "#ff9800", "#ffeb3b"),
        visual_style="sunset",
        accent_styles=("confetti", "aurora"),
        title_font="Noto Sans Display",
        caption_style="karaoke",
        caption_color="#ffffff",
        caption_highlight="#ffeb3b",
        caption_uppercase=True,
        music_mood="upbeat",
        transition="slide-up",
        transition_duration=0.3,
        grade="bright",
        motions=("zoom-in", "zoom-out", "pan-up", "pan-down"),
        prompt_keywords=("vibrant", "eye-catching", "bold colours", "dynamic composition"),
    ),
)

TEMPLATES: Mapping[str, Template] = MappingProxyType({t.name: t for t in _ALL})

_TEMPLATE_ALIASES = {
    "none": "default",
    "neutral": "default",
    "food": "restaurant",
    "realestate": "real-estate",
    "property": "real-estate",
    "immobilier": "real-estate",
    "product": "product-promo",
    "promo": "product-promo",
    "childrens": "childrens-story",
    "children": "childrens-story",
    "children-story": "childrens-story",
    "kids": "childrens-story",
    "story": "childrens-story",
    "tutorial": "explainer",
}


def get_template(name: str | None) -> Template:
    """The template called ``name``; ``None`` or ``""`` gives the neutral "default"."""
    if name is None or not name.strip():
        return TEMPLATES["default"]
    key = _normalise(name)
    key = _TEMPLATE_ALIASES.get(key, key)
    if key in TEMPLATES:
        return TEMPLATES[key]
    close = difflib.get_close_matches(key, [*TEMPLATES, *_TEMPLATE_ALIASES], n=1, cutoff=0.6)
    suggestion = f" (did you mean {_TEMPLATE_ALIASES.get(close[0], close[0])!r}?)" if close else ""
    raise SpecError(
        f"unknown template {name!r}{suggestion}",
        hint="choose one of: " + ", ".join(TEMPLATES),
    )
