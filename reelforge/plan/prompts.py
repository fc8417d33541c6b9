"""Prompts for generative visual engines, built from what a scene says.

A scene's prompt is, most important first (CLIP reads 77 tokens, the rest is cut): the scene's
own visual prompt or its title and narration; the content rules of the origin documents
(children -> colourful and cheerful, night -> moonlit, nature -> lush); the template's cultural
context (an Algerian restaurant reads "zellige tiles and Moorish arches", an Indian one
"marigold garlands"), for the culture the storyboard names; the template's style keywords. The
negative prompt lists what the picture must not show. No torch here: planning builds prompts,
engines only read them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reelforge.spec.templates import CULTURES, Template

MAX_WORDS = 60  # about CLIP's 77 tokens: later words would be cut by the text encoder
SUBJECT_WORDS = 32  # the scene's own words kept before the style words
CONTEXT_ITEMS = 3  # cultural context phrases added per scene
KEYWORD_ITEMS = 4  # template style keywords added per scene

NEGATIVE = (
    "blurry, low quality, lowres, jpeg artifacts, deformed, distorted, disfigured, bad anatomy, "
    "extra limbs, extra fingers, watermark, signature, text, logo"
)
NEGATIVE_CHILDREN = "scary, violent, gore, horror"
NEGATIVE_VIDEO = "flickering, jittery, static frame"


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


# The origin documents' content rules: words in the scene (several languages) -> what to add.
CONTENT_RULES: tuple[tuple[str, str, frozenset[str]], ...] = (
    (
        "children",
        "colourful, cheerful, children's book style",
        _vocabulary(
            "child children kid kids baby toddler toddlers boy girl enfant enfants bébé garçon "
            "fille niño niña niños niñas bambino bambini bambina criança crianças menino menina "
            "طفل أطفال الأطفال طفلة बच्चा बच्चे बच्चों बच्ची"
        ),
    ),
    (
        "night",
        "night time, moonlit, atmospheric",
        _vocabulary(
            "night nights midnight moon moonlight moonlit dark darkness stars starry nuit lune "
            "étoiles minuit noche luna estrellas notte stelle noite lua ليل ليلة الليل قمر القمر "
            "نجوم रात चाँद चांद तारे"
        ),
    ),
    (
        "nature",
        "lush nature, detailed environment",
        _vocabulary(
            "forest forests tree trees nature garden gardens jungle meadow meadows river rivers "
            "mountain mountains flowers wood woods forêt arbre arbres jardin rivière montagne "
            "fleurs bosque árbol árboles selva jardín río montaña flores foresta albero alberi "
            "giardino fiume floresta árvore jardim غابة شجرة أشجار حديقة نهر جبل زهور जंगल पेड़ "
            "बगीचा नदी पहाड़ फूल"
        ),
    ),
)

# Words that name a culture of the templates' ``cultural_contexts`` (places, demonyms).
CULTURE_WORDS: Mapping[str, frozenset[str]] = {
    "algerian": _vocabulary(
        "algeria algerian algiers alger algérie algérien algérienne algériens oran constantine "
        "annaba tlemcen kabyle kabylie hydra الجزائر جزائري جزائرية وهران قسنطينة"
    ),
    "maghreb": _vocabulary(
        "maghreb morocco moroccan maroc marocain marocaine tunisia tunisian tunisie tunisien "
        "marrakech marrakesh fès fez casablanca tunis rabat المغرب مغربي تونس تونسي"
    ),
    "indian": _vocabulary(
        "india indian inde indien indienne mumbai delhi bengaluru bangalore jaipur kerala "
        "chennai kolkata hyderabad भारत भारतीय दिल्ली मुंबई இந்தியா"
    ),
    "french": _vocabulary(
        "france french français française parisian parisien parisienne paris lyon marseille "
        "provence bordeaux"
    ),
    "gulf": _vocabulary(
        "gulf dubai doha qatar qatari emirates emirati saudi riyadh jeddah kuwait oman bahrain "
        "muscat دبي الدوحة قطر الرياض الخليج الإمارات السعودية"
    ),
}
# A scene language that alone suggests a culture when no place is named.
LANGUAGE_CULTURE = {"hi": "indian", "ta": "indian", "bn": "indian", "mr": "indian"}

# words split on spaces and punctuation (not on \W: Devanagari vowel signs are not "word" chars)
_SPLIT = re.compile(r"[\s.,;:!?\"“”«»()\[\]{}।॥،؛؟…\-–—/*_#|]+")
assert set(CULTURE_WORDS) <= set(CULTURES)


@dataclass(frozen=True)
class ScenePrompt:
    """A scene's prompts, and why they read as they do (for the manifest)."""

    prompt: str
    negative: str
    culture: str = ""  # a key of CULTURES, or "" when none was named
    culture_why: str = ""  # the word that named it
    rules: tuple[str, ...] = ()  # the content rules that fired ("children", "night"...)


def words(text: str) -> list[str]:
    return [w.lower() for w in _SPLIT.split(text) if w]


def _has(found: Iterable[str], vocabulary: frozenset[str]) -> str:
    """The first word of ``found`` in ``vocabulary`` (a plain plural too), or ""."""
    for word in found:
        if word in vocabulary or (len(word) > 3 and word.rstrip("s") in vocabulary):
            return word
    return ""


def culture_of(text: str, language: str = "") -> tuple[str, str]:
    """The culture ``text`` names (by its places and demonyms), and the word that named it; the
    language decides only when no place is named (Hindi -> Indian)."""
    found = words(text)
    counts = {
        c: sum(1 for w in found if w in vocabulary) for c, vocabulary in CULTURE_WORDS.items()
    }
    best = max(counts, key=lambda c: counts[c])
    if counts[best]:
        return best, _has(found, CULTURE_WORDS[best])
    primary = language.split("-")[0].lower()
    if primary in LANGUAGE_CULTURE:
        return LANGUAGE_CULTURE[primary], f"language {primary}"
    return "", ""


def _clip_words(text: str, limit: int) -> str:
    parts = text.split()
    return " ".join(parts[:limit]).rstrip(",;:")


def scene_prompt(
    template: Template,
    *,
    narration: str = "",
    title: str = "",
    visual_prompt: str = "",
    language: str = "",
    story: str = "",
    video: bool = False,
    character: str = "",
) -> ScenePrompt:
    """The prompt and negative prompt of one scene.

    ``visual_prompt`` (the storyboard's own words for the picture) replaces the narration as
    the subject; ``story`` is the whole storyboard's text, which names the culture when the
    scene itself does not; ``video`` adds what a clip must not do (flicker); ``character`` (who
    recurs in every scene) follows the subject, so it survives CLIP's cut.
    """
    subject_text = visual_prompt.strip() or " ".join(
        part.strip() for part in (title, narration) if part and part.strip()
    )
    subject = _clip_words(re.sub(r"\s+", " ", subject_text), SUBJECT_WORDS).rstrip(".!?。！？।")
    scene_words = words(f"{title} {narration} {visual_prompt} {character}")
    children = template.name == "childrens-story"
    rules: list[str] = []
    additions: list[str] = []
    for name, addition, vocabulary in CONTENT_RULES:
        if _has(scene_words, vocabulary) or (name == "children" and children):
            rules.append(name)
            additions.append(addition)
    culture, why = culture_of(f"{title} {narration} {visual_prompt}", "")
    if not culture:
        culture, why = culture_of(story, language)
    context = list(template.cultural_contexts.get(culture, ()))[:CONTEXT_ITEMS]
    keywords = list(template.prompt_keywords)[:KEYWORD_ITEMS]
    pieces = [subject, _clip_words(character.strip(), 16), *additions, *context, *keywords]
    seen: set[str] = set()
    kept = []
    for piece in pieces:
        key = piece.strip().lower()
        if key and key not in seen:
            seen.add(key)
            kept.append(piece.strip())
    prompt = _clip_words(", ".join(kept), MAX_WORDS)
    negative = NEGATIVE
    if "children" in rules:
        negative += ", " + NEGATIVE_CHILDREN
    if video:
        negative += ", " + NEGATIVE_VIDEO
    return ScenePrompt(prompt, negative, culture, why, tuple(rules))
