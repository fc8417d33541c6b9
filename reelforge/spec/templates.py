"""Templates: the look, sound and prompt vocabulary of a kind of video.

A template fills every storyboard field the user left empty (palette, procedural background,
fonts, caption style, music mood, transitions, colour grade, camera motion). It also carries
prompt keywords, with per-culture context, for generative visual engines: the same restaurant
scene should read "zellige tiles, Moorish arches" for an Algerian restaurant and "marigold
garlands, brass thali" for an Indian one.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
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


def _from_json(entry: dict[str, Any]) -> Template:
    """One template of templates.json: JSON lists become the dataclass's tuples."""
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()}
    contexts = entry.get("cultural_contexts", {})
    fields["cultural_contexts"] = MappingProxyType({k: tuple(v) for k, v in contexts.items()})
    return Template(**fields)


def _built_in() -> tuple[Template, ...]:
    """The shipped templates, kept as data in templates.json beside this module."""
    text = resources.files("reelforge.spec").joinpath("templates.json").read_text(encoding="utf-8")
    return tuple(_from_json(entry) for entry in json.loads(text))


TEMPLATES: Mapping[str, Template] = MappingProxyType({t.name: t for t in _built_in()})

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
