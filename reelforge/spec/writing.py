"""Written storyboards: what a writer engine fills in, the JSON Schema a language model is
asked to answer with, the check every written answer passes, and the Markdown script it
becomes.

A writer fills only a small part of a storyboard: a title and scenes of ``title``,
``narration`` and ``visual.prompt``. Everything else a model might add (file paths, engines,
music files) is dropped, so a written script never names a file or an engine; the template,
language and target length are the request's, never the model's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from reelforge.errors import SpecError
from reelforge.spec.model import MAX_PROMPT_CHARS, MAX_TITLE_CHARS
from reelforge.spec.parse import _clean_inline, build_storyboard, word_count
from reelforge.spec.templates import get_template
from reelforge.text.language import detect_language, primary_language, script_of

MAX_IDEA_CHARS = 8000  # a page of notes or a few minutes of a transcribed voice note
MIN_SECONDS = 5.0
MAX_SECONDS = 600.0  # ten minutes: longer videos are better written in parts
MAX_WRITTEN_SCENES = 12
MAX_SCENE_TITLE_CHARS = 80  # an on-screen title, not a sentence
WORDS_PER_SECOND = 2.5  # narration speed the writers aim at (reelforge.kinds.video's estimate)
MAX_WORDS_PER_SCENE = 55  # below reelforge.spec.parse.MAX_SCENE_WORDS: a scene is not split

LANGUAGE_NAMES = {
    "en": "English",
    "fr": "French",
    "es": "Spanish",
    "ar": "Arabic",
    "hi": "Hindi",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "ja": "Japanese",
    "zh": "Chinese",
    "ru": "Russian",
    "tr": "Turkish",
}
# Latin-script languages the stopword detector tells apart (reelforge.text.language).
_DETECTABLE_LATIN = frozenset({"en", "fr", "es", "de", "it", "pt", "nl"})
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


def language_name(language: str) -> str:
    return LANGUAGE_NAMES.get(primary_language(language), language)


def check_request(
    idea: str, *, language: str, template: str, seconds: float, max_scenes: int
) -> None:
    """Fail fast, with a hint, on a request no writer can do well."""
    if not idea or not idea.strip():
        raise SpecError(
            "the idea is empty",
            hint='say what the video is about, e.g. reelforge write "a 30-second promo for '
            'a couscous restaurant in Algiers"',
        )
    if len(idea) > MAX_IDEA_CHARS:
        raise SpecError(
            f"the idea is {len(idea)} characters long; at most {MAX_IDEA_CHARS} are read",
            hint="give the idea in a few sentences or bullet points; a finished text is a "
            "script already: run `reelforge make` on it",
        )
    if not _LANGUAGE_TAG.match(language or ""):
        raise SpecError(
            f"{language!r} is not a language tag", hint="use a tag like en, fr, es, ar or hi"
        )
    if template:
        get_template(template)  # an unknown name is a SpecError with suggestions
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise SpecError(
            f"a written video lasts {MIN_SECONDS:g} to {MAX_SECONDS:g} seconds, not {seconds:g}",
            hint="use --seconds 15, 30, 60...",
        )
    if not 1 <= max_scenes <= MAX_WRITTEN_SCENES:
        raise SpecError(
            f"max_scenes must be from 1 to {MAX_WRITTEN_SCENES}, not {max_scenes}",
            hint="a short video reads best in 3 to 6 scenes",
        )


def scene_range(seconds: float, max_scenes: int) -> tuple[int, int]:
    """(fewest, most) scenes for a video of ``seconds``: about one scene per 6-8 seconds."""
    most = max(1, min(max_scenes, MAX_WRITTEN_SCENES))
    fewest = min(3, most)
    return fewest, most


def word_budget(seconds: float) -> int:
    """Words of narration that fill ``seconds``, leaving room for pauses between scenes."""
    return max(8, round(seconds * WORDS_PER_SECOND * 0.9))


# --------------------------------------------------------------------------- the schema


def _string_branch(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The string schema of a storyboard property, without its null branch and labels."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "string":
            return {k: v for k, v in branch.items() if k in ("type", "maxLength")}
    return {"type": "string"}


def writer_schema(max_scenes: int = 6, min_scenes: int = 1) -> dict[str, Any]:
    """The JSON Schema of a writer's answer: the part of the storyboard schema
    (:func:`reelforge.storyboard_schema`) a writer fills, with its bounds."""
    from reelforge.spec.load import storyboard_schema

    full = storyboard_schema()
    scene = full["$defs"]["SceneSpec"]["properties"]
    visual = full["$defs"]["VisualSpec"]["properties"]
    scene_title = _string_branch(scene["title"])
    scene_title["maxLength"] = MAX_SCENE_TITLE_CHARS
    return {
        "type": "object",
        "properties": {
            "title": _string_branch(full["properties"]["title"]),
            "scenes": {
                "type": "array",
                "minItems": min_scenes,
                "maxItems": max_scenes,
                "items": {
                    "type": "object",
                    "properties": {
                        "title": scene_title,
                        "narration": _string_branch(scene["narration"]),
                        "visual": {
                            "type": "object",
                            "properties": {"prompt": _string_branch(visual["prompt"])},
                            "required": ["prompt"],
                            "additionalProperties": False,
                        },
                    },
                    "required": ["title", "narration", "visual"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["title", "scenes"],
        "additionalProperties": False,
    }


# --------------------------------------------------------------------------- reading answers


def answer_json(text: str) -> Any:
    """The JSON value in a model's answer, which may wrap it in a ``` fence or a sentence."""
    text = text.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fence is not None:
        text = fence.group(1).strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        try:
            return json.loads(text[start : end + 1])
        except json.JSONDecodeError as exc:
            raise SpecError(f"the answer is not valid JSON: {exc}") from None
    raise SpecError("the answer is not a JSON object (no '{' found)")


def _text(value: Any, where: str, problems: list[str], *, required: bool) -> str:
    if value is None or value == "":
        if required:
            problems.append(f"{where}: missing (write it as a non-empty string)")
        return ""
    if not isinstance(value, str):
        problems.append(f"{where}: must be a string, got {type(value).__name__}")
        return ""
    # one paragraph without Markdown decoration: a voice would read "asterisk" aloud
    return _clean_inline(value)


def read_answer(
    data: Any,
    *,
    language: str,
    template: str,
    seconds: float,
    max_scenes: int,
) -> tuple[dict[str, Any], list[str]]:
    """Storyboard fields from a writer's answer, and notes on what was dropped.

    Raises :class:`SpecError` listing every problem (the message a language model is shown
    when it is asked again): not an object, no scenes, too many or too few, an empty
    narration, a narration in another language, or anything the storyboard model refuses.
    """
    if not isinstance(data, dict):
        raise SpecError(f"the answer must be a JSON object, got {type(data).__name__}")
    problems: list[str] = []
    notes: list[str] = []
    extra = sorted(set(data) - {"title", "scenes", "template", "language"})
    if extra:
        notes.append("ignored fields of the answer: " + ", ".join(map(str, extra))[:200])
    title = _text(data.get("title"), "title", problems, required=True)[:MAX_TITLE_CHARS]
    raw_scenes = data.get("scenes")
    fewest, most = scene_range(seconds, max_scenes)
    if not isinstance(raw_scenes, list) or not raw_scenes:
        raise SpecError("scenes: missing or empty (write a list of scene objects)")
    if not fewest <= len(raw_scenes) <= most:
        problems.append(f"scenes: write {fewest} to {most} scenes, not {len(raw_scenes)}")
    scenes: list[dict[str, Any]] = []
    for number, raw in enumerate(raw_scenes):
        where = f"scenes.{number}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be an object with title, narration and visual")
            continue
        narration = _text(raw.get("narration"), f"{where}.narration", problems, required=True)
        scene: dict[str, Any] = {"narration": narration}
        heading = _text(raw.get("title"), f"{where}.title", problems, required=False)
        if heading:
            scene["title"] = heading[:MAX_SCENE_TITLE_CHARS]
        visual = raw.get("visual")
        prompt_value = visual.get("prompt") if isinstance(visual, dict) else visual
        prompt = _text(prompt_value, f"{where}.visual.prompt", problems, required=False)
        if prompt:
            scene["visual"] = {"type": "prompt", "prompt": prompt[:MAX_PROMPT_CHARS]}
        if word_count(narration) > MAX_WORDS_PER_SCENE * 2:
            problems.append(
                f"{where}.narration: {word_count(narration)} words is too long for one scene "
                f"(at most {MAX_WORDS_PER_SCENE})"
            )
        scenes.append(scene)
    spoken = " ".join(scene["narration"] for scene in scenes)
    wrong = _language_problem(spoken, language)
    if wrong:
        problems.append(wrong)
    if problems:
        raise SpecError("the answer does not fit:\n" + "\n".join(f"  - {p}" for p in problems))
    fields: dict[str, Any] = {
        "title": title,
        "language": language,
        "target_duration": float(seconds),
        "scenes": scenes,
    }
    if template:
        fields["template"] = get_template(template).name
    build_storyboard(fields, source="the written storyboard")  # SpecError with field paths
    return fields, notes


def _language_problem(text: str, language: str) -> str:
    """A problem when ``text`` is plainly not in ``language`` (script, or Latin stopwords)."""
    wanted = primary_language(language)
    if not text.strip():
        return ""
    found = detect_language(text)
    if script_of(wanted) != "latin" or script_of(found) != "latin":
        if script_of(found) != script_of(wanted):
            return f"narration: write it in {language_name(wanted)}, not {language_name(found)}"
        return ""
    if wanted in _DETECTABLE_LATIN and found != wanted and len(text.split()) >= 12:
        return f"narration: write it in {language_name(wanted)}, not {language_name(found)}"
    return ""


# --------------------------------------------------------------------------- Markdown


_LINE_START = re.compile(r"^(#|>|[-+]\s|-{3,})")
_ORDERED = re.compile(r"^(\d{1,3})([.)]\s)")


def _markdown_text(text: str) -> str:
    """``text`` (cleaned by :func:`read_answer`) as one Markdown paragraph that reelforge's
    parser reads back unchanged: only what would start a heading, quote or list is escaped."""
    text = " ".join(text.split())
    text = _ORDERED.sub(r"\1\\\2", text)
    return _LINE_START.sub(r"\\\1", text)


def to_markdown(fields: Mapping[str, Any], *, engine: str = "", model: str = "") -> str:
    """The Markdown script of written storyboard ``fields``, in the format
    :func:`reelforge.load_spec` reads: front matter, ``# title``, a ``## heading`` and a
    paragraph per scene. Visual prompts are kept as HTML comments (a script has no field for
    them; the parser skips comments)."""
    front = {
        key: fields[key] for key in ("template", "language", "target_duration") if key in fields
    }
    lines = ["---"]
    written_by = f"written by the {engine} writer" if engine else "written by reelforge"
    lines.append(f"# {written_by}{f' ({model})' if model else ''}; edit freely")
    lines += yaml.safe_dump(front, allow_unicode=True, sort_keys=False).strip().splitlines()
    lines += ["---", ""]
    if fields.get("title"):
        lines += [f"# {_markdown_text(str(fields['title']))}", ""]
    for scene in fields["scenes"]:
        heading = _markdown_text(str(scene.get("title") or ""))
        lines.append(f"## {heading}".rstrip() if heading else "## ")
        lines.append("")
        prompt = (scene.get("visual") or {}).get("prompt")
        if prompt:
            lines += [f"<!-- visual: {str(prompt).replace('--', '- -')} -->", ""]
        lines += [_markdown_text(str(scene["narration"])), ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- reading ideas

DURATION_PATTERN = (
    r"(\d{1,4}(?:[.,]\d+)?)\s*-?\s*(?P<unit>secondes?|segundos?|seconds?|sekunden|secondi|secs?|s|"
    r"सेकंड|ثوان[يٍ]?|ثانية|minutes?|minutos?|minuten|minuti|mins?|मिनट|دقائق|دقيقة)(?!\w)"
    r"(?:\s+(?:long|de\s+long))?"
)
_SECONDS = re.compile(DURATION_PATTERN, re.I)
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_MINUTE_UNITS = ("min", "मिनट", "دقائق", "دقيقة")

# Words that say which template fits an idea, in the languages writers know.
TEMPLATE_WORDS: Mapping[str, tuple[str, ...]] = {
    "restaurant": (
        "restaurant", "restaurante", "ristorante", "café", "cafe", "bistro", "bistrot",
        "bakery", "boulangerie", "panadería", "pizzeria", "menu", "chef", "cuisine", "food",
        "dish", "couscous", "tajine", "brunch", "dinner", "lunch", "cocina", "comida", "plat",
        "مطعم", "مقهى", "طعام", "أكل", "रेस्टोरेंट", "रेस्तरां", "ढाबा", "खाना", "कैफ़े",
    ),
    "real-estate": (
        "apartment", "flat", "villa", "house for sale", "property", "real estate", "listing",
        "appartement", "maison à vendre", "immobilier", "piso", "inmobiliaria", "casa en venta",
        "شقة", "فيلا", "عقار", "फ्लैट", "प्रॉपर्टी", "मकान",
    ),
    "childrens-story": (
        "story", "tale", "bedtime", "once upon", "histoire", "conte", "cuento", "historia",
        "fable", "قصة", "حكاية", "कहानी",
    ),
    "explainer": (
        "explain", "explainer", "how to", "how does", "tutorial", "guide", "tips", "learn",
        "expliquer", "comment", "tutoriel", "astuces", "explicar", "cómo", "consejos",
        "شرح", "كيف", "نصائح", "कैसे", "समझाइए", "टिप्स",
    ),
    "news": ("news", "announcement", "actualité", "annonce", "noticia", "أخبار", "خبر", "समाचार"),
    "podcast": ("podcast", "episode", "épisode", "episodio", "بودكاست", "पॉडकास्ट"),
    "product-promo": (
        "product", "launch", "app", "promo", "ad ", "advert", "sale", "produit", "lancement",
        "pub", "producto", "anuncio", "oferta", "منتج", "إعلان", "उत्पाद", "विज्ञापन", "ऐप",
    ),
}  # fmt: skip

# Places that tell which cultural context of a template fits (reelforge.spec.templates).
CULTURE_WORDS: Mapping[str, tuple[str, ...]] = {
    "algerian": ("alger", "algiers", "algérie", "algeria", "oran", "constantine", "الجزائر",
                 "وهران", "अल्जीयर्स"),
    "maghreb": ("maroc", "morocco", "marrakech", "casablanca", "tunis", "tunisie", "tunisia",
                "fès", "fez", "المغرب", "تونس", "مراكش"),
    "indian": ("india", "inde", "delhi", "mumbai", "bombay", "bengaluru", "bangalore", "jaipur",
               "kolkata", "chennai", "भारत", "दिल्ली", "मुंबई", "जयपुर", "الهند"),
    "french": ("paris", "france", "lyon", "marseille", "bordeaux", "francia", "فرنسا", "पेरिस"),
    "gulf": ("dubai", "dubaï", "doha", "qatar", "riyadh", "abu dhabi", "kuwait", "دبي", "الدوحة",
             "الرياض", "दुबई"),
}  # fmt: skip


def _mentions(text: str, words: tuple[str, ...]) -> int:
    low = f" {text.lower()} "
    found = 0
    for word in words:
        # Arabic glues its prepositions and article to the word: "لمطعم" is "for a restaurant"
        before = (
            r"(?:(?<!\w)|(?<=[\u0644\u0628\u0648\u0641]))" if _ARABIC.match(word) else r"(?<!\w)"
        )
        found += bool(re.search(before + re.escape(word) + r"(?!\w)", low))
    return found


def seconds_in(idea: str) -> float | None:
    """The length an idea asks for ("a 30-second promo", "une vidéo de 1 minute")."""
    match = _SECONDS.search(idea)
    if match is None:
        return None
    value = float(match.group(1).replace(",", "."))
    if match.group("unit").lower().startswith(_MINUTE_UNITS):
        value *= 60
    return value if MIN_SECONDS <= value <= MAX_SECONDS else None


def guess_template(idea: str) -> str:
    """The template whose words the idea uses most; "" when none."""
    scores = {name: _mentions(idea, words) for name, words in TEMPLATE_WORDS.items()}
    best = max(scores, key=lambda name: scores[name])
    return best if scores[best] else ""


def culture_of(idea: str) -> str:
    """The cultural context (templates' ``cultural_contexts`` key) an idea's places name."""
    scores = {name: _mentions(idea, words) for name, words in CULTURE_WORDS.items()}
    best = max(scores, key=lambda name: scores[name])
    return best if scores[best] else ""
