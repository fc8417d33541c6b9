"""A language model's opinion of the candidate moments, blended with the explainable score.

Only when an OpenAI-compatible server is configured (``REELFORGE_LLM_ENDPOINT``, the writer's
setting): the best candidates (by the explainable score, non-overlapping) are sent in one
request, each with its id, length and words; the model answers one JSON object,
``{"ratings": [{"id": 1, "score": 0-100, "reason": "..."}]}``, one rating per candidate. An
answer that is not that (missing or unknown ids, scores outside 0..100, no reason) is shown
its problems and asked again, ``llm_attempts`` times at most.

The final score is ``(1 - LLM_WEIGHT) x explainable + LLM_WEIGHT x model``; the model's
score becomes the ``llm`` component and its reason one of the clip's reasons. Whatever goes
wrong (no server, a timeout, a refusal, answers that never validate) the explainable scores
stand and a note says why: the model never stops the clips from being made.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from reelforge.clips.moments import Moment
from reelforge.errors import ReelforgeError, SpecError
from reelforge.settings import Settings, get_settings

LLM_WEIGHT = 0.4  # the model's share of the final score
MAX_CANDIDATES = 12  # moments sent in one request
MAX_TEXT_CHARS = 1500  # of each moment's words (a minute of speech is ~900)
MAX_REASON_CHARS = 200
OFFLINE_HINT = "or make the clips without it: --no-llm"

SYSTEM_PROMPT = """\
You pick moments of a long talk, podcast or interview that make good short vertical videos \
for social media. Rate each candidate moment from 0 to 100: how well it works on its own \
(understandable without the rest of the talk), how strongly it opens (do viewers stay?), and \
how interesting, useful or surprising it is{about}. Answer with ONE JSON object and nothing \
else, matching this JSON Schema:
{schema}
Give exactly one rating for every id, and a reason of at most 20 words each."""

FEEDBACK = """\
That answer cannot be used:
{problems}
Answer again with the whole corrected JSON object only."""


@dataclass(frozen=True)
class Rating:
    score: float  # 0..100
    reason: str


@dataclass(frozen=True)
class Rated:
    """The moments, best first, and what became of the model's opinion."""

    moments: tuple[Moment, ...]
    model: str  # "" when no model rated them
    note: str  # why the model's opinion is missing, or ""


def enabled(settings: Settings | None = None) -> bool:
    return bool((settings if settings is not None else get_settings()).llm_endpoint)


def schema(count: int) -> dict[str, Any]:
    """The answer's JSON Schema: one rating for each of ``count`` candidates."""
    rating = {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "minimum": 1, "maximum": count},
            "score": {"type": "number", "minimum": 0, "maximum": 100},
            "reason": {"type": "string", "maxLength": MAX_REASON_CHARS},
        },
        "required": ["id", "score", "reason"],
    }
    ratings = {"type": "array", "items": rating, "minItems": count, "maxItems": count}
    return {"type": "object", "properties": {"ratings": ratings}, "required": ["ratings"]}


def _candidates(moments: Sequence[Moment]) -> str:
    lines = []
    for number, moment in enumerate(moments, 1):
        text = moment.text if len(moment.text) <= MAX_TEXT_CHARS else moment.text[:MAX_TEXT_CHARS]
        lines.append(f"id {number} ({moment.duration_s:.0f} s): {text}")
    return "\n\n".join(lines)


def read_ratings(content: str, count: int) -> dict[int, Rating]:
    """The ratings in an answer, by id (1..count); SpecError listing every problem."""
    from reelforge.spec.writing import answer_json

    answer = answer_json(content)
    items = answer.get("ratings") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        raise SpecError('the answer has no "ratings" list')
    problems: list[str] = []
    found: dict[int, Rating] = {}
    for position, item in enumerate(items):
        where = f"ratings[{position}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be an object with id, score and reason")
            continue
        number, score, reason = item.get("id"), item.get("score"), item.get("reason")
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= count:
            problems.append(f"{where}.id: {number!r} is not one of the ids 1..{count}")
            continue
        if number in found:
            problems.append(f"{where}.id: {number} is rated twice")
            continue
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 100:
            problems.append(f"{where}.score: {score!r} must be a number from 0 to 100")
            continue
        if not isinstance(reason, str) or not reason.strip():
            problems.append(f"{where}.reason: missing (say why, in a few words)")
            continue
        found[number] = Rating(float(score), " ".join(reason.split())[:MAX_REASON_CHARS])
    missing = [n for n in range(1, count + 1) if n not in found]
    if missing and not problems:
        problems.append("no rating for id " + ", ".join(map(str, missing)))
    if problems:
        raise SpecError("\n".join(problems))
    return found


def _ask(
    moments: Sequence[Moment], query: str | None, settings: Settings
) -> tuple[dict[int, Rating], str]:
    from reelforge.engines.chat import ChatClient

    shape = schema(len(moments))
    about = f", and how much it is about {query!r}" if query else ""
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT.format(about=about, schema=json.dumps(shape))},
        {"role": "user", "content": _candidates(moments)},
    ]
    problems = ""
    with ChatClient(settings, OFFLINE_HINT) as chat:
        for _ in range(settings.llm_attempts):
            answer = chat.complete(messages, "ratings", shape)
            try:
                if answer.finish == "length":
                    raise SpecError("the answer was cut off: keep each reason short")
                return read_ratings(
                    answer.content, len(moments)
                ), answer.model or settings.llm_model
            except SpecError as exc:
                problems = exc.message
                messages += [
                    {"role": "assistant", "content": answer.content[:20_000]},
                    {"role": "user", "content": FEEDBACK.format(problems=problems)},
                ]
    raise SpecError(
        f"its answers did not validate after {settings.llm_attempts} attempts: {problems}"
    )


def blend(moment: Moment, rating: Rating) -> Moment:
    score = round((1 - LLM_WEIGHT) * moment.score + LLM_WEIGHT * rating.score, 1)
    components = {**moment.components, "llm": round(rating.score / 100, 3)}
    reason = f"the language model rates it {rating.score:.0f}/100: {rating.reason}"
    return replace(moment, score=score, components=components, reasons=(*moment.reasons, reason))


def rate(
    moments: Sequence[Moment], query: str | None = None, settings: Settings | None = None
) -> Rated:
    """``moments`` re-scored with the configured model's ratings, best first; unchanged (with
    a note) when it cannot rate them."""
    settings = settings if settings is not None else get_settings()
    chosen = list(moments[:MAX_CANDIDATES])
    if not chosen or not settings.llm_endpoint:
        return Rated(tuple(chosen), "", "")
    import httpx

    try:
        ratings, model = _ask(chosen, query, settings)
    except (ReelforgeError, httpx.HTTPError) as exc:
        said = exc.message if isinstance(exc, ReelforgeError) else f"{type(exc).__name__}: {exc}"
        note = f"the language model did not rate the moments ({said}); explainable scores only"
        return Rated(tuple(chosen), "", note)
    blended = [blend(moment, ratings[number]) for number, moment in enumerate(chosen, 1)]
    blended.sort(key=lambda m: (-m.score, m.start_ms))
    return Rated(tuple(blended), model, "")
