"""Plain text or Markdown -> :class:`Storyboard`.

The rules, in order:

* optional YAML front matter between ``---`` lines gives storyboard fields (template, format...);
* the first ``#`` heading is the video title;
* if there are ``##`` headings, each starts a scene: the heading is the on-screen scene title and
  the paragraphs under it are the narration; otherwise each paragraph is a scene;
* ``![alt](photo.jpg)`` inside a scene is that scene's picture (an image-only paragraph in a
  headingless script illustrates the paragraph after it);
* a scene over :data:`MAX_SCENE_WORDS` words is split at sentence boundaries;
* with ``max_scenes``, neighbouring scenes are merged evenly until they fit.

Markdown decoration (emphasis, links, list markers, quotes, code ticks, HTML) never reaches the
narration: a voice would read it aloud.
"""

from __future__ import annotations

import difflib
import math
import re
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import annotated_types
import yaml
from pydantic import BaseModel, ValidationError

from reelforge.captions.formats import CAPTION_STYLES
from reelforge.engines import registry
from reelforge.errors import ReelforgeError, SpecError
from reelforge.spec import model as spec_model
from reelforge.spec.model import HEX_COLOUR, SceneSpec, Storyboard
from reelforge.spec.nesting import MAX_NESTING, check_nesting
from reelforge.spec.templates import (
    get_template,
)
from reelforge.text.normalise import spoken_tables
from reelforge.timeline import GRADES, MOTION_PRESETS, TRANSITIONS

# About 25 seconds of speech: long enough for one idea, short enough for one picture.
MAX_SCENE_WORDS = 60

_EMPTY_HINT = (
    "write at least one sentence of narration; separate scenes with blank lines or start each "
    "with a '## heading'"
)

# --- sentences and words -------------------------------------------------------------------

# Terminal punctuation of Latin scripts, CJK (。！？), Devanagari (। ॥) and Arabic/Urdu (؟ ۔),
# then closing quotes and brackets; French puts a (narrow) space before its closing guillemet.
_SENTENCE_END = re.compile(
    r"(?P<punct>[.!?…]+|[。！？]+|[।॥]+|[؟۔]+)"
    r"(?P<close>(?:[\u00a0\u202f ]?»|[\"'”’)\]」』])*)"
)
# Words after which a period does not end the sentence.
_ABBREVIATIONS = frozenset(spoken_tables()["not_sentence_ends"])
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Scripts written without spaces, punctuation (。、「」) and full-width forms included.
_UNSPACED = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_TERMINAL = tuple(".!?…:;,。！？，；।॥؟۔") + ('"', "'", "”", "’", "»", ")")
# Clause boundaries, for the rare sentence that alone is too long for one scene.
_CLAUSE_END = re.compile(r"(?<=[,;:،؛、，；])\s*")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, punctuation kept. Works for Latin, Arabic, Devanagari and CJK."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        punct = match.group("punct")
        if punct[0] in ".!?…":
            # Latin punctuation ends a sentence only before a space: not in 3.5, Node.js, URLs.
            if end < len(text) and not text[end].isspace():
                continue
            if punct == "." and _is_abbreviation(text[start : match.start()]):
                continue
        sentence = text[start:end].strip()
        if sentence:
            sentences.append(sentence)
        start = end
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _is_abbreviation(before: str) -> bool:
    words = before.split()
    if not words:
        return False
    last = words[-1].lstrip("(\"'«“")
    # A single capital is an initial ("M. Dupont", "J. R. R. Tolkien").
    return last.lower() in _ABBREVIATIONS or (len(last) == 1 and last.isupper())


def word_count(text: str) -> int:
    """Spoken words in ``text``; CJK, written without spaces, counts three characters a word.

    Three because Japanese and Chinese are spoken at roughly three times as many characters per
    second as English words, so the count stays a fair measure of speaking time.
    """
    cjk = len(_CJK_CHAR.findall(text))
    return len(_CJK_CHAR.sub(" ", text).split()) + math.ceil(cjk / 3)


def _join(parts: Iterable[str]) -> str:
    """Join text pieces with spaces, except between two characters of unspaced scripts."""
    out = ""
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if out and not (_UNSPACED.match(out[-1]) and _UNSPACED.match(part[0])):
            out += " "
        out += part
    return out


def _terminated(text: str) -> str:
    """``text`` ending in a full stop of its script, so list items are read as sentences."""
    if not text or text.endswith(_TERMINAL):
        return text
    if _DEVANAGARI.search(text):
        return text + "।"
    if _CJK_CHAR.search(text[-1]):
        return text + "。"
    return text + "."


# --- Markdown cleaning ---------------------------------------------------------------------

_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_RULE = re.compile(r"^ {0,3}([-*_=])(?:\s*\1){2,}\s*$")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_QUOTE_MARKER = re.compile(r"^\s*(?:>\s?)+")
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S+")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<target>[^)]*)\)")
_INLINE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # [text](url)
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # [text][ref]
    (re.compile(r"<(?:https?|mailto):[^>]+>"), ""),  # <https://...>: nobody wants a URL read out
    (re.compile(r"</?[A-Za-z][^>]*>"), " "),  # HTML tags such as <br>
    (re.compile(r"`+([^`]+?)`+"), r"\1"),
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)"), r"\1"),  # not snake_case words
    (re.compile(r"~~(.+?)~~"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])"), r"\1"),
)


def _clean_inline(text: str) -> str:
    for pattern, replacement in _INLINE_RULES:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def _image_path(target: str) -> str:
    target = target.strip()
    if target.startswith("<"):  # ![alt](<path with spaces.jpg>)
        return target[1:].split(">", 1)[0].strip()
    return target.split()[0] if target else ""  # drop an optional "title"


@dataclass(frozen=True)
class _Draft:
    """A scene while parsing: narration, optional heading and the pictures found in it."""

    narration: str
    title: str | None = None
    images: tuple[str, ...] = ()

    def as_dict(self, image_index: int = 0) -> dict[str, Any]:
        scene: dict[str, Any] = {"narration": self.narration}
        if self.title:
            scene["title"] = self.title
        if self.images:
            scene["visual"] = {"path": self.images[min(image_index, len(self.images) - 1)]}
        return scene


def _paragraph(lines: Sequence[str]) -> _Draft:
    """One paragraph's narration and images; lines are soft-wrapped text or list items."""
    pieces: list[str] = []
    images: list[str] = []
    for line in lines:
        line = _QUOTE_MARKER.sub("", line)
        is_item = bool(_LIST_MARKER.match(line))
        line = _LIST_MARKER.sub("", line)
        for match in _IMAGE.finditer(line):
            path = _image_path(match.group("target"))
            if path:
                images.append(path)
        text = _clean_inline(_IMAGE.sub(" ", line))
        pieces.append(_terminated(text) if is_item else text)
    return _Draft(narration=_join(pieces), images=tuple(images))


def _paragraphs(lines: Sequence[str]) -> list[_Draft]:
    drafts: list[_Draft] = []
    block: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            block.append(line)
        elif block:
            draft = _paragraph(block)
            if draft.narration or draft.images:
                drafts.append(draft)
            block = []
    return drafts


def _read_markdown(body: str) -> tuple[str | None, list[_Draft]]:
    """The document title and the scenes, before any splitting or merging."""
    lines: list[str] = []
    in_fence = False
    for line in body.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence  # code is never narrated
        elif not in_fence and not _REFERENCE_DEFINITION.match(line):
            lines.append(line)
    levels = [len(m.group(1)) for m in map(_HEADING.match, lines) if m is not None]
    # "# One ... # Two" with no deeper headings: every "#" is a scene, there is no title.
    title_allowed = not (levels.count(1) > 1 and max(levels) == 1)

    title: str | None = None
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    has_headings = False
    for line in lines:
        if _RULE.match(line):
            sections[-1][1].append("")  # a rule separates paragraphs
            continue
        heading = _HEADING.match(line)
        if heading is None:
            sections[-1][1].append(line)
            continue
        text = _clean_inline(heading.group(2))
        if title_allowed and len(heading.group(1)) == 1 and title is None and not has_headings:
            title = text
            sections[-1][1].append("")
        else:
            has_headings = True
            sections.append((text or None, []))

    if not has_headings:
        return title, _attach_images(_paragraphs(sections[0][1]))
    drafts: list[_Draft] = []
    for heading_text, section_lines in sections:
        parts = _paragraphs(section_lines)
        narration = _join(p.narration for p in parts)
        images = tuple(img for p in parts for img in p.images)
        if heading_text is None and not narration and not images:
            continue  # nothing between the title and the first scene heading
        drafts.append(_Draft(narration=narration, title=heading_text, images=images))
    return title, drafts


def _attach_images(drafts: list[_Draft]) -> list[_Draft]:
    """Move image-only paragraphs onto the paragraph after them (or before, at the end)."""
    out: list[_Draft] = []
    pending: tuple[str, ...] = ()
    for draft in drafts:
        if not draft.narration:
            pending += draft.images
            continue
        out.append(_Draft(draft.narration, draft.title, pending + draft.images))
        pending = ()
    if pending:
        if out and not out[-1].images:
            out[-1] = _Draft(out[-1].narration, out[-1].title, pending)
        else:
            out.append(_Draft("", None, pending))  # a silent closing picture
    return out


# --- splitting and merging -----------------------------------------------------------------


def _balanced_groups(weights: Sequence[int], count: int) -> list[tuple[int, int]]:
    """``count`` contiguous, non-empty ``(start, stop)`` groups of near-equal total weight."""
    n = len(weights)
    count = max(1, min(count, n))
    total = sum(weights)
    groups: list[tuple[int, int]] = []
    start, acc, done = 0, 0, 0
    for i, weight in enumerate(weights):
        if i > start:
            after_current = count - len(groups) - 1  # groups still to open after this one
            target = (total - done) / (count - len(groups))
            must_close = n - i == after_current
            better_closed = abs(acc + weight - target) > abs(acc - target)
            if after_current > 0 and (must_close or better_closed):
                groups.append((start, i))
                done += acc
                start, acc = i, 0
        acc += weight
    groups.append((start, n))
    return groups


def _split_long_sentence(sentence: str, max_words: int) -> list[str]:
    """Clauses, or failing that even runs of words (or characters for CJK)."""
    pieces: list[str] = []
    for clause in _CLAUSE_END.split(sentence):
        if word_count(clause) <= max_words:
            pieces.append(clause)
            continue
        tokens = clause.split() if len(clause.split()) > 1 else list(clause)
        chunks = math.ceil(word_count(clause) / max_words)
        glue = " " if len(clause.split()) > 1 else ""
        pieces.extend(
            glue.join(tokens[a:b]) for a, b in _balanced_groups([1] * len(tokens), chunks)
        )
    return [p for p in pieces if p.strip()]


def _split_text(text: str, max_words: int) -> list[str]:
    if word_count(text) <= max_words:
        return [text]
    pieces: list[str] = []
    for sentence in split_sentences(text):
        if word_count(sentence) > max_words:
            pieces.extend(_split_long_sentence(sentence, max_words))
        else:
            pieces.append(sentence)
    weights = [word_count(p) for p in pieces]
    count = math.ceil(sum(weights) / max_words)
    while True:
        groups = _balanced_groups(weights, count)
        if count >= len(pieces) or all(sum(weights[a:b]) <= max_words for a, b in groups):
            return [_join(pieces[a:b]) for a, b in groups]
        count += 1


def _split_draft(draft: _Draft, max_words: int) -> list[dict[str, Any]]:
    parts = _split_text(draft.narration, max_words) if draft.narration else [""]
    # The heading shows once, on the first part; pictures are shared out, the last one repeats.
    return [
        _Draft(part, draft.title if i == 0 else None, draft.images).as_dict(image_index=i)
        for i, part in enumerate(parts)
    ]


def fit_scenes(scenes: Sequence[Mapping[str, Any]], max_scenes: int) -> list[dict[str, Any]]:
    """Merge neighbouring scene dicts evenly (by words) until at most ``max_scenes`` remain.

    The merged scene keeps the narration of all, and the first title and visual among them.
    """
    if max_scenes < 1:
        raise SpecError("max_scenes must be at least 1", hint="use --max-scenes 1 or more")
    if len(scenes) <= max_scenes:
        return [dict(s) for s in scenes]
    weights = [max(1, word_count(str(s.get("narration", "")))) for s in scenes]
    merged: list[dict[str, Any]] = []
    for start, stop in _balanced_groups(weights, max_scenes):
        group = scenes[start:stop]
        scene: dict[str, Any] = {"narration": _join(str(s.get("narration", "")) for s in group)}
        for key in ("title", "visual", "transition", "language", "voice"):
            value = next((s[key] for s in group if s.get(key) is not None), None)
            if value is not None:
                scene[key] = value
        durations = [s["duration"] for s in group if s.get("duration") is not None]
        if durations:  # each was a minimum for its part: together, the sum
            scene["duration"] = sum(durations)
        merged.append(scene)
    return merged


# --- front matter and validation -----------------------------------------------------------


class _YamlLoader(yaml.SafeLoader):
    """YAML 1.1 minus base-60 numbers, which would read ``format: 9:16`` as the integer 556,
    and refusing lists and mappings nested deeper than :data:`MAX_NESTING` before the composer
    (which recurses once per level) goes deeper."""

    _nesting = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        opens = self.check_event(yaml.MappingStartEvent, yaml.SequenceStartEvent)
        if opens:
            self._nesting += 1
            if self._nesting > MAX_NESTING:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"lists and mappings nested more than {MAX_NESTING} levels deep "
                    "(a storyboard needs about 6)",
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
        try:
            return super().compose_node(parent, index)
        finally:
            if opens:
                self._nesting -= 1


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if not tag.endswith((":int", ":float"))]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def yaml_error_location(error: yaml.YAMLError, first_line: int = 1) -> str:
    """Where a YAML error is (" at line N"), and where an unclosed construct began."""
    mark = getattr(error, "problem_mark", None)
    if mark is None:
        return ""
    where = f" at line {mark.line + first_line}"
    start = getattr(error, "context_mark", None)
    context = getattr(error, "context", None)
    if start is not None and context and start.line != mark.line:
        where += f" ({context} started at line {start.line + first_line})"
    return where


def parse_yaml(text: str) -> Any:
    """``yaml.safe_load`` where ``9:16`` stays a string (raises ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=_YamlLoader)  # a SafeLoader subclass: no arbitrary objects


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def _front_matter(text: str, source: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    try:
        data = parse_yaml(match.group(1) or "")
    except yaml.YAMLError as exc:
        # The front matter's first line is the file's second, after the opening '---'.
        where = yaml_error_location(exc, first_line=2)
        raise SpecError(
            f"{source}: the front matter is not valid YAML{where}",
            hint=f"{getattr(exc, 'problem', None) or exc}; write 'key: value' lines between "
            "the '---' lines",
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError(
            f"{source}: the front matter must be 'key: value' lines",
            hint="for example:\n---\ntemplate: restaurant\nformat: 9:16\n---",
        )
    if "scenes" in data:
        raise SpecError(
            f"{source}: scenes cannot be given in the front matter of a script",
            hint="write each scene as a '## heading' with its narration, or use a YAML storyboard",
        )
    return data, text[match.end() :]


_UNION_MEMBER = frozenset({"str", "int", "float", "bool", "list", "dict", "tuple", "none"})
_MODEL_NAMES = frozenset(
    name
    for name, value in vars(spec_model).items()
    if isinstance(value, type) and issubclass(value, BaseModel)
)


def _readable_loc(loc: Sequence[int | str]) -> tuple[int | str, ...]:
    """The field path of an error, without pydantic's union-member and validator steps."""
    return tuple(
        part
        for part in loc
        if isinstance(part, int)
        or not ("[" in part or part in _UNION_MEMBER or part in _MODEL_NAMES)
    )


def _model_at(loc: Sequence[int | str]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Storyboard
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None
        model = _first_model(model.model_fields[part].annotation)
    return model


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _first_model(arg)
        if found is not None:
            return found
    return None


_RANGE_ERRORS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})
_LENGTH_ERRORS = frozenset({"string_too_long", "too_long"})


def _bound_message(error: Mapping[str, Any], loc: Sequence[int | str]) -> str | None:
    """A message giving the whole allowed range ("must be from 8 to 200"), not one side."""
    kind = error["type"]
    if kind == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == HEX_COLOUR:
        return "must be a colour written '#rrggbb' or '#rrggbbaa' (aa = opacity), like '#ffd400'"
    if kind in _LENGTH_ERRORS:
        limit = error.get("ctx", {}).get("max_length")
        unit = "characters" if kind == "string_too_long" else "items"
        return f"is too long: at most {limit} {unit}" if limit is not None else None
    if kind not in _RANGE_ERRORS or not loc or not isinstance(loc[-1], str):
        return None
    parent = _model_at(loc[:-1])
    field = parent.model_fields.get(loc[-1]) if parent is not None else None
    if field is None:
        return None

    def number(value: Any) -> str:
        return str(value) if isinstance(value, int) else f"{value:g}"

    low = high = ""
    inclusive = 0
    for bound in field.metadata:
        if isinstance(bound, annotated_types.Ge):
            low, inclusive = number(bound.ge), inclusive + 1
        elif isinstance(bound, annotated_types.Gt):
            low = number(bound.gt)
        elif isinstance(bound, annotated_types.Le):
            high, inclusive = number(bound.le), inclusive + 1
        elif isinstance(bound, annotated_types.Lt):
            high = number(bound.lt)
    if not (low and high):
        return None
    if inclusive == 2:
        return f"must be from {low} to {high}"
    low_word = (
        "at least" if any(isinstance(b, annotated_types.Ge) for b in field.metadata) else "over"
    )
    high_word = (
        "at most" if any(isinstance(b, annotated_types.Le) for b in field.metadata) else "under"
    )
    return f"must be {low_word} {low} and {high_word} {high}"


def _describe(error: Mapping[str, Any]) -> tuple[str, str, str]:
    """(field path, message, " (got ...)" or "") of one pydantic error."""
    loc = _readable_loc(error["loc"])
    path = ".".join(str(part) for part in loc) or "storyboard"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "too_short" and loc == ("scenes",):
        message = "a storyboard needs at least one scene"
    if error["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        known = list(parent.model_fields) if parent is not None else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        return path, "unknown field" + (f" (did you mean {close[0]!r}?)" if close else ""), ""
    message = _bound_message(error, loc) or message
    value = error.get("input")
    got = ""
    if error["type"] != "missing" and isinstance(value, str | int | float | bool):
        shown = repr(value)
        got = f" (got {shown if len(shown) <= 40 else shown[:37] + '...'})"
    return path, message, got


def validation_spec_error(error: ValidationError, source: str = "storyboard") -> SpecError:
    """A :class:`SpecError` listing every problem as ``field.path: message``."""
    described = [_describe(e) for e in error.errors()]
    paths = [path for path, _, _ in described]
    grouped: dict[str, tuple[list[str], str]] = {}
    for path, message, got in described:
        # "scenes: at least one scene", or "motion: not a string" when the motion mapping has
        # errors of its own, only echo the errors reported deeper down.
        echoes = "at least" in message or message.startswith("Input should be a valid")
        if echoes and any(p.startswith(path + ".") for p in paths):
            continue
        messages, _ = grouped.setdefault(path, ([], got))
        if message not in messages:
            messages.append(message)
    lines = []
    for path, (messages, got) in grouped.items():
        prefix = "Input should be "
        if len(messages) > 1 and all(m.startswith(prefix) for m in messages):
            # The alternatives of a union (a preset name or a mapping): one line, not one each.
            alternatives = ", or ".join(m[len(prefix) :] for m in messages)
            lines.append(f"{path}: {prefix}{alternatives}{got}")
        else:
            lines.extend(f"{path}: {message}{got}" for message in messages)
    return _problems_error(source, lines)


def _problems_error(source: str, problems: Sequence[str]) -> SpecError:
    shown = [f"  - {p}" for p in problems[:12]]
    if len(problems) > 12:
        shown.append(f"  - ... and {len(problems) - 12} more")
    return SpecError(
        f"{source} is not a valid storyboard:\n" + "\n".join(shown),
        hint="scene numbers in field paths start at 0; run 'reelforge schema' for every field "
        "or see examples/README.md",
    )


def _unknown(kind: str, value: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, allowed, n=1)
    suggestion = f"did you mean {close[0]!r}?" if close else "choose one of " + ", ".join(allowed)
    return f"unknown {kind} {value!r} ({suggestion})"


def _engine_choices(board: Storyboard) -> tuple[list[str] | None, list[str] | None, list[str]]:
    """(moods, styles, problems): the moods and picture styles of the engines the storyboard
    names (None for an engine that is unknown or cannot load, with the problem)."""
    problems: list[str] = []
    found: list[list[str] | None] = []
    wanted = (
        ("music", board.music.engine, "music.engine"),
        ("visuals", board.visual_engine, "visual_engine"),
    )
    for kind, name, field_path in wanted:
        if name not in registry.names(kind):
            problems.append(
                f"{field_path}: " + _unknown(f"{kind} engine", name, registry.names(kind))
            )
            found.append(None)
            continue
        try:
            found.append(list(registry.choices(kind, name)))  # type: ignore[arg-type]
        except ReelforgeError as exc:
            problems.append(f"{field_path}: {exc.message}")
            found.append(None)
    return found[0], found[1], problems


def _name_problems(board: Storyboard) -> list[str]:
    """Names the model keeps as free strings but the renderer knows only a few of."""
    problems: list[str] = []
    if board.transition is not None and board.transition.kind not in TRANSITIONS:
        problems.append(
            "transition.kind: " + _unknown("transition", board.transition.kind, TRANSITIONS)
        )
    if board.grade is not None and board.grade not in GRADES:
        problems.append("grade: " + _unknown("grade", board.grade, GRADES))
    moods, styles, engine_problems = _engine_choices(board)
    problems += engine_problems
    if board.music.mood is not None and moods is not None and board.music.mood not in moods:
        problems.append("music.mood: " + _unknown("music mood", board.music.mood, moods))
    if board.captions.style is not None and board.captions.style not in CAPTION_STYLES:
        problems.append(
            "captions.style: " + _unknown("caption style", board.captions.style, CAPTION_STYLES)
        )
    for i, scene in enumerate(board.scenes):
        if scene.transition is not None and scene.transition.kind not in TRANSITIONS:
            problems.append(
                f"scenes.{i}.transition.kind: "
                + _unknown("transition", scene.transition.kind, TRANSITIONS)
            )
        visual = scene.visual
        if visual is None:
            continue
        style = visual.style
        if visual.type == "procedural" and style and styles is not None and style not in styles:
            problems.append(f"scenes.{i}.visual.style: " + _unknown("visual style", style, styles))
        if isinstance(visual.motion, str) and visual.motion not in MOTION_PRESETS:
            problems.append(
                f"scenes.{i}.visual.motion: "
                + _unknown("motion preset", visual.motion, list(MOTION_PRESETS))
            )
    return problems


def build_storyboard(data: Mapping[str, Any], *, source: str = "storyboard") -> Storyboard:
    """Validate ``data`` into a :class:`Storyboard`, every problem reported as one SpecError.

    Beyond the model, checks the template and every transition, grade, mood, caption style,
    visual style and motion name against what the renderer knows.
    """
    check_nesting(data, source)  # before pydantic recurses into it
    try:
        board = Storyboard.model_validate(dict(data))
    except ValidationError as exc:
        raise validation_spec_error(exc, source) from None
    if board.template is not None:
        get_template(board.template)
    problems = _name_problems(board)
    if problems:
        raise _problems_error(source, problems)
    if board.max_scenes is not None and len(board.scenes) > board.max_scenes:
        # Scripts are merged while parsing; explicit scenes are merged here, the same way.
        merged = fit_scenes([dict(scene) for scene in board.scenes], board.max_scenes)
        scenes = tuple(SceneSpec.model_validate(scene) for scene in merged)
        board = board.model_copy(update={"scenes": scenes})
    return board


# --- the verb ------------------------------------------------------------------------------


def storyboard_from_text(
    text: str,
    *,
    title: str | None = None,
    max_scenes: int | None = None,
    target_duration: float | None = None,
    source: str = "the script",
    **overrides: Any,
) -> Storyboard:
    """A storyboard from a plain-text or Markdown script (see the module docstring).

    ``overrides`` are storyboard fields (``template``, ``format``, ``voice``, ``music``...)
    that win over the front matter; ``None`` values are ignored. ``source`` names the script
    in error messages. Media paths are left as written: :func:`reelforge.spec.load.load_spec`
    resolves them against the script's folder.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")
    front, body = _front_matter(text, source)
    body = _HTML_COMMENT.sub("", body)
    document_title, drafts = _read_markdown(body)
    if not drafts:
        raise SpecError("the script is empty", hint=_EMPTY_HINT)

    scenes = [scene for draft in drafts for scene in _split_draft(draft, MAX_SCENE_WORDS)]
    limit = max_scenes if max_scenes is not None else front.get("max_scenes")
    # A bad front-matter value is left for validation to report with its field name.
    if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 1:
        scenes = fit_scenes(scenes, limit)

    data: dict[str, Any] = dict(front)
    if document_title and "title" not in data:
        data["title"] = document_title
    explicit = {"title": title, "max_scenes": max_scenes, "target_duration": target_duration}
    data.update({k: v for k, v in {**explicit, **overrides}.items() if v is not None})
    data["scenes"] = scenes
    return build_storyboard(data, source=source)
