"""The rule-based writer: an idea, notes or a voice note's transcript into a first-draft
script (a hook, a body, a call to action), offline and without any model.

It reads the idea for its subject ("a 30-second promo for *a couscous restaurant in
Algiers*"), its length and its kind (which template), and the notes' points (bullets, lines,
or the sentences of a transcript) as the body; then writes each scene from a phrase book per
family of templates and language (``rule_based_phrases``). It does not translate: an idea in
another language than the script's keeps the subject out of the narration and says so. Its
output always says it is the rule-based one.
"""

from __future__ import annotations

import re
import zlib
from typing import Any, ClassVar

from reelforge.engines.base import EngineInfo, WritingRequest, WrittenStoryboard
from reelforge.engines.llm import rule_based_phrases as book
from reelforge.errors import SpecError
from reelforge.spec import writing
from reelforge.spec.parse import word_count
from reelforge.spec.templates import get_template
from reelforge.text.language import detect_language, primary_language

VERSION = "1"
LANGUAGES = tuple(book.PHRASES["promo"])
SECONDS_PER_SCENE = 7.5  # an idea without notes gets one scene per this many seconds

_BULLET = re.compile(r"^\s*(?:[-*+•▪–]|\d{1,3}[.)])\s+")
_SENTENCE = re.compile(r"(?<=[.!?؟।])\s+")
_TERMINAL = tuple(".!?…:;。！？।؟")
_POSSESSIVES = frozenset({"our", "my", "notre", "mon", "ma", "nos", "nuestro", "nuestra", "mi"})
# A note that asks for something ("Order: call ...", "Réservez au ...") is the call to action.
_CALL = re.compile(
    r"^(?:order|call|book|visit|come|try|buy|shop|download|sign up|subscribe|follow|join|"
    r"commandez|appelez|réservez|venez|essayez|achetez|téléchargez|abonnez|rejoignez|"
    r"pide|llama|reserva|visita|ven|prueba|compra|descarga|suscríbete|síguenos|"
    r"اطلب|اتصل|احجز|زر|تعال|جرّب|جرب|اشترِ|حمّل|تابع)\b",
    re.I,
)
# Words a point's title must not end on ("Open on Sundays until").
_DANGLING = frozenset(
    ("a", "an", "the", "of", "on", "at", "in", "to", "for", "with", "until", "and", "or", "by",
     "from", "de", "du", "des", "la", "le", "les", "à", "au", "aux", "en", "et", "ou", "pour",
     "avec", "sur", "y", "con", "para", "del", "el", "los", "las", "por", "sin")
)  # fmt: skip
_GENERIC_VISUAL_SUBJECT = {
    "restaurant": "the restaurant",
    "promo": "the product",
    "explainer": "the topic",
    "story": "a little hero",
}


class RuleBasedWriter:
    """Writes a storyboard from phrase books; no network, no model."""

    name: ClassVar[str] = "rule-based"

    def info(self) -> EngineInfo:
        return EngineInfo(self.name, "writer", VERSION)

    def write(self, request: WritingRequest) -> WrittenStoryboard:
        language = primary_language(request.language)
        if language not in LANGUAGES:
            raise SpecError(
                f"the rule-based writer does not write {writing.language_name(language)}",
                hint="it writes " + ", ".join(LANGUAGES) + "; for other languages set "
                "REELFORGE_LLM_ENDPOINT to a language model server (--engine openai-compatible)",
            )
        template = get_template(request.template or writing.guess_template(request.idea) or None)
        family = book.FAMILIES.get(template.name, "promo")
        phrases = book.PHRASES[family][language]
        lead, points = _read_idea(request.idea)
        notes = [
            "written by the rule-based writer (offline, no language model): a first draft "
            "from phrase templates; edit it, or set REELFORGE_LLM_ENDPOINT for a language model"
        ]
        idea_language = detect_language(request.idea)
        subject = _subject(lead, idea_language)
        if subject and idea_language != language:
            notes.append(
                f"the idea is in {writing.language_name(idea_language)} and the script in "
                f"{writing.language_name(language)}: the rule-based writer does not translate, "
                "so the narration does not name the subject; edit it in"
            )
            english_subject = subject if idea_language == "en" else ""
            subject = ""
        else:
            english_subject = subject if language == "en" else ""
        if points and detect_language(" ".join(points)) != language:
            notes.append("the notes are kept as written, in their own language")
        spoken_subject = _owned(subject, language, family) if subject else phrases["generic"]
        variant = zlib.crc32(request.idea.encode()) % 2

        fewest, most = writing.scene_range(request.seconds, request.max_scenes)
        beats = len(phrases["body"])
        call = points.pop() if len(points) > 1 and _CALL.match(_after_label(points[-1])) else ""
        if points:
            body_count = max(1, min(len(points), most - 2))
            body = _share(points, body_count)
            body_scenes = [_point_scene(group, language) for group in body]
        else:
            count = round(request.seconds / SECONDS_PER_SCENE)
            body_count = max(fewest - 2, min(count, most, beats + 2) - 2, 1)
            if most < 3:
                body_count = max(0, most - 2)
            body_scenes = [
                {"title": phrases["titles"][1 + i], "narration": phrases["body"][i]}
                for i in range(body_count)
            ]
        visuals = book.VISUALS[family]
        visual_subject = english_subject or _GENERIC_VISUAL_SUBJECT[family]
        context = _context(template.name, request.idea)

        def prompt(text: str) -> dict[str, str]:
            described = text.format(subject=visual_subject)
            return {"type": "prompt", "prompt": ", ".join([described, *context])}

        scenes: list[dict[str, Any]] = [
            {
                "title": phrases["titles"][0],
                "narration": phrases["hook"][variant].format(s=spoken_subject),
                "visual": prompt(visuals["hook"]),
            }
        ]
        for number, scene in enumerate(body_scenes):
            beat = visuals["body"][number % len(visuals["body"])]
            if points and english_subject:
                beat = scene["narration"] if language == "en" else beat
            scenes.append({**scene, "visual": prompt(beat)})
        if most >= 2:
            ending = phrases["cta"][variant].format(s=spoken_subject)
            ending_title = phrases["titles"][-1]
            if call:  # the notes' own call to action wins over the phrase book's
                ending = _sentence(_after_label(call), language)
                label = call.partition(":")[0].strip()
                if label != call and len(label.split()) <= 3:
                    ending_title = label[:1].upper() + label[1:]
            scenes.append(
                {
                    "title": ending_title,
                    "narration": ending,
                    "visual": prompt(visuals["cta"]),
                }
            )
        scenes = scenes[:most]
        title = _title(subject, language) or _title(phrases["generic"], language)
        fields, read_notes = writing.read_answer(
            {"title": title, "scenes": scenes},
            language=language,
            template=template.name,
            seconds=request.seconds,
            max_scenes=request.max_scenes,
        )
        words = sum(word_count(scene["narration"]) for scene in fields["scenes"])
        reads_in = words / writing.WORDS_PER_SECOND
        if reads_in > request.seconds * 1.25:
            notes.append(
                f"the draft reads in about {reads_in:.0f} s, longer than {request.seconds:g} s: "
                "shorten a scene or two"
            )
        return WrittenStoryboard(
            storyboard=fields,
            engine=self.name,
            version=VERSION,
            notes=tuple(notes + read_notes),
        )


def _read_idea(idea: str) -> tuple[str, list[str]]:
    """(the lead: what the video is about, the points of the notes)."""
    lines = [line.strip() for line in idea.replace("\r", "\n").split("\n") if line.strip()]
    bullets = [line for line in lines if _BULLET.match(line)]
    if len(lines) > 1 and (bullets or len(lines) >= 3):
        lead_lines = [line for line in lines if not _BULLET.match(line)] if bullets else lines[:1]
        lead = lead_lines[0] if lead_lines and lead_lines[0] is lines[0] else ""
        points = [_BULLET.sub("", line) for line in lines if line is not lead]
        return lead, [p for p in points if p]
    sentences = [s.strip() for s in _SENTENCE.split(" ".join(lines)) if s.strip()]
    if len(sentences) >= 3:  # a transcribed voice note, or a paragraph of notes
        return sentences[0], sentences[1:]
    return " ".join(lines), []


def _subject(lead: str, language: str) -> str:
    """What the video is about, in the idea's own words ("a couscous restaurant in Algiers")."""
    text = lead.strip().rstrip(".!?…।؟").strip()
    # "a 30-second promo", "une pub de 30 secondes": the length is not the subject
    text = re.sub(
        r"\s*(?:\b(?:de|of|de\s+unos?)\s+)?" + writing.DURATION_PATTERN, " ", text, flags=re.I
    )
    text = " ".join(text.split())
    if not text:
        return ""
    for pattern in book.IDEA_LEAD.values():
        if not pattern:
            continue
        match = re.search(pattern, text, re.I)
        if match is not None and match.end() < len(text):
            text = text[match.end() :]
            break
    else:
        about = re.search(r"^(.*?)\s+के\s+बारे\s+में", text)  # Hindi: "X के बारे में कहानी"
        if about is not None:
            text = about.group(1)
    text = text.strip(" ,:;-")
    return text if 0 < len(text.split()) <= 14 else ""


def _owned(subject: str, language: str, family: str) -> str:
    """The subject as the business speaks of it: "a couscous restaurant" -> "our ..."."""
    if family not in ("restaurant", "promo"):
        return subject
    articles = book.POSSESSIVE.get(language, {})
    match = re.match(r"^(l'|\w+)\s*", subject, re.I)
    if match is not None and match.group(1).lower() in _POSSESSIVES:  # "Our bakery"
        return match.group(1).lower() + subject[match.end(1) :]
    if match is not None and match.group(1).lower() in articles:
        return articles[match.group(1).lower()] + " " + subject[match.end() :].lstrip()
    return subject


def _title(subject: str, language: str) -> str:
    """The video's title: the subject without its leading article, capitalised."""
    words = subject.split()
    articles = set(book.POSSESSIVE.get(language, {})) | _POSSESSIVES
    if len(words) > 1 and words[0].lower() in articles:
        words = words[1:]
    text = " ".join(words).removeprefix("l'")
    return text[:1].upper() + text[1:] if text else ""


def _after_label(point: str) -> str:
    """ "Order: call 04 78" -> "call 04 78"."""
    head, sep, rest = point.partition(":")
    return rest.strip() if sep and rest.strip() and len(head.split()) <= 3 else point


def _share(points: list[str], count: int) -> list[list[str]]:
    """``points`` in ``count`` contiguous groups of near-equal length, in order."""
    groups: list[list[str]] = [[] for _ in range(count)]
    for index, point in enumerate(points):
        groups[index * count // len(points)].append(point)
    return [group for group in groups if group]


def _sentence(text: str, language: str) -> str:
    text = " ".join(text.split())
    if text and text[0].isalpha():
        text = text[0].upper() + text[1:]
    if text and not text.endswith(_TERMINAL):
        text += "।" if language == "hi" else "."
    return text


def _point_scene(points: list[str], language: str) -> dict[str, Any]:
    """A body scene from one or more of the notes' points; "Title: text" names the scene."""
    head, sep, rest = points[0].partition(":")
    if sep and rest.strip() and len(head.split()) <= 5:
        title, first = head.strip(), rest
    else:
        words = re.sub(r"[^\w\s'’-]", "", points[0]).split()[:4]
        while len(words) > 1 and words[-1].lower() in _DANGLING:
            words.pop()
        title, first = " ".join(words), points[0]
    narration = " ".join(_sentence(p, language) for p in [first, *points[1:]])
    return {"title": title[:1].upper() + title[1:], "narration": narration}


def _context(template: str, idea: str) -> list[str]:
    """Prompt words of the template, and of the cultural context the idea's places name."""
    found = get_template(template)
    words = list(found.prompt_keywords[:2])
    culture = writing.culture_of(idea)
    if culture and culture in found.cultural_contexts:
        words = list(found.cultural_contexts[culture][:2]) + words
    return words
