"""Moments worth a clip: transcript -> sentences -> topics -> scored candidates -> the best few.

Candidates start at a sentence's first word and end at a sentence's last word (never
mid-sentence, never mid-word), last ``min_s``..``max_s`` and do not overlap once chosen.

Topics come from TextTiling: each gap between sentences gets the cosine similarity of the
sentences on either side, by their meaning (the mean of their sentence embeddings,
all-MiniLM-L6-v2, see :mod:`reelforge.text.meaning`) or, where the embedding model is not
installed, by their (stop-word-free, crudely stemmed) words; a gap much deeper than its
neighbouring peaks is a topic boundary. A clip that stays inside one topic and starts where
the topic starts is easier to follow on its own.

The score (0..100) is a weighted mean of components, each 0..1 and each explained in the
clip's reasons (see :data:`WEIGHTS`):

- ``hook``: the first 3 seconds grab attention: a question, a number, a direct "you", a
  strong word ("secret", "mistake", "never"...), a short punchy first sentence;
- ``self_contained``: it does not start with a dangling connective ("and", "so", "but") or a
  pronoun whose referent came before ("it", "this", "they"), and ends on a full stop;
- ``question_answer``: a question asked and answered inside the clip;
- ``topic``: the share of the clip inside one topic (plus starting at the topic's start);
- ``energy``: speech louder than the talk's median (from the audio envelope);
- ``rate``: a lively but followable pace (about 2.2-3.6 words a second);
- ``query`` (only with ``query``): how many of the query's words the clip says, or how close
  in meaning its sentence nearest the query is (cosine of their embeddings: "pricing" finds
  "how much does it cost?"), whichever is more; clips that say none of the query's words and
  have no sentence at least :data:`QUERY_MEANING_MIN` close to it are not candidates at all.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import Word
from reelforge.errors import SpecError

WEIGHTS = {
    "hook": 0.25,
    "self_contained": 0.2,
    "question_answer": 0.1,
    "topic": 0.15,
    "energy": 0.1,
    "rate": 0.2,
}
QUERY_WEIGHT = 1.0  # with a query, being about it matters as much as all the rest together
# Cosines of all-MiniLM-L6-v2 sentence embeddings: a sentence about the query scores ~0.4-0.7
# ("recruiting" / "Hiring your first engineer..." 0.37), an unrelated one under ~0.2.
QUERY_MEANING_MIN = 0.35  # the least similarity that makes a sentence about the query
QUERY_MEANING_FULL = 0.65  # a similarity that counts as fully about it
TOPIC_DEPTH_MIN = 0.1  # the least TextTiling depth of a topic boundary (either similarity)
HOOK_S = 3.0
SENTENCE_END = (".", "?", "!", "…", "。", "？", "！")
PAUSE_BREAK_MS = 1200  # a silence this long ends a sentence even without punctuation


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


CONNECTIVES = _set("and so but because or then also which plus anyway however therefore besides")
PRONOUNS = _set("it this that they he she them these those there his her its their")
HOOK_WORDS = _set(
    """why how what secret mistake mistakes never always best worst truth nobody everyone
    biggest most least wrong stop imagine surprising problem free simple"""
)
STOP_WORDS = _set(
    """a an the and or but so of to in on at for with from by as is are was were be been being
    it its this that these those i you he she we they me him her us them my your our their
    do does did have has had not no yes just very really can could will would should may might
    there here what which who whom when where why how all any some more most such than then
    too also if about into out up down over again once only own same other each both few"""
)


@dataclass(frozen=True)
class Sentence:
    index: int
    words: tuple[Word, ...]

    @property
    def start_ms(self) -> int:
        return self.words[0].start_ms

    @property
    def end_ms(self) -> int:
        return self.words[-1].end_ms

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass(frozen=True)
class Moment:
    """A chosen stretch of the source: sentences ``first``..``last``, its score and why."""

    first: int
    last: int
    start_ms: int
    end_ms: int
    score: float  # 0..100
    components: dict[str, float]
    reasons: tuple[str, ...]
    title: str
    text: str
    topic: int
    words: tuple[Word, ...] = field(repr=False, default=())

    @property
    def duration_s(self) -> float:
        return (self.end_ms - self.start_ms) / 1000


def sentences(words: Sequence[Word]) -> list[Sentence]:
    """Words grouped into sentences: at sentence punctuation or a long pause."""
    found: list[Sentence] = []
    current: list[Word] = []
    for index, word in enumerate(words):
        current.append(word)
        following = words[index + 1] if index + 1 < len(words) else None
        paused = following is not None and following.start_ms - word.end_ms >= PAUSE_BREAK_MS
        if word.text.rstrip("\"')»”").endswith(SENTENCE_END) or paused or following is None:
            found.append(Sentence(len(found), tuple(current)))
            current = []
    return found


def terms(text: str) -> list[str]:
    """Content words, lower-cased and crudely stemmed ("pricing", "prices" -> "pric")."""
    out = []
    for token in re.findall(r"[^\W_]+", text.lower()):
        if token in STOP_WORDS or len(token) < 3:
            continue
        for suffix in ("ing", "es", "ed", "s", "e"):
            if token.endswith(suffix) and len(token) - len(suffix) >= 3:
                token = token[: -len(suffix)]
                break
        out.append(token)
    return out


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    shared = set(a) & set(b)
    dot = sum(a[t] * b[t] for t in shared)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def topics(
    found: Sequence[Sentence], window: int = 3, vectors: NDArray[np.float32] | None = None
) -> list[int]:
    """The topic number of each sentence: TextTiling over sentence windows, by meaning when
    ``vectors`` (one unit sentence embedding a row) are given, else by shared words."""
    count = len(found)
    if count < 2 * window + 1:
        return [0] * count
    if vectors is not None:
        gaps = [_meaning_gap(vectors, gap, window) for gap in range(1, count)]
    else:
        bags = [Counter(terms(s.text)) for s in found]
        gaps = []
        for gap in range(1, count):
            left: Counter[str] = sum((bags[k] for k in range(max(0, gap - window), gap)), Counter())
            right: Counter[str] = sum(
                (bags[k] for k in range(gap, min(count, gap + window))), Counter()
            )
            gaps.append(_cosine(left, right))
    depths = _depths(np.array(gaps))
    cutoff = max(TOPIC_DEPTH_MIN, float(depths.mean() + depths.std() / 2))
    # the deepest gaps first, each topic at least ``window`` sentences long
    cuts: list[int] = []
    for gap in sorted(range(1, count), key=lambda g: -depths[g - 1]):
        if depths[gap - 1] <= cutoff:
            break
        if window <= gap <= count - window and all(abs(gap - c) >= window for c in cuts):
            cuts.append(gap)
    return [sum(1 for c in cuts if c <= k) for k in range(count)]


def _meaning_gap(vectors: NDArray[np.float32], gap: int, window: int) -> float:
    """Cosine of the mean embeddings of the ``window`` sentences before and after ``gap``."""
    left = vectors[max(0, gap - window) : gap].mean(axis=0)
    right = vectors[gap : gap + window].mean(axis=0)
    norm = float(np.linalg.norm(left) * np.linalg.norm(right))
    return float(left @ right) / norm if norm else 0.0


def _depths(scores: NDArray[np.float64]) -> NDArray[np.float64]:
    """TextTiling depth of each gap: how far its similarity lies below the nearest peaks."""
    depths = np.zeros_like(scores)
    for k, value in enumerate(scores):
        left_peak = scores[: k + 1].max() if k else value
        right_peak = scores[k:].max()
        # TextTiling: climb to the nearest peak on each side
        lp, rp = value, value
        for j in range(k - 1, -1, -1):
            if scores[j] < lp:
                break
            lp = scores[j]
        for j in range(k + 1, len(scores)):
            if scores[j] < rp:
                break
            rp = scores[j]
        depths[k] = (min(lp, left_peak) - value) + (min(rp, right_peak) - value)
    return depths


def _hook(sentences_in: Sequence[Sentence], start_ms: int) -> tuple[float, list[str]]:
    opening = [s for s in sentences_in if s.start_ms - start_ms < HOOK_S * 1000] or [
        sentences_in[0]
    ]
    first_words = [w for s in opening for w in s.words if w.start_ms - start_ms < HOOK_S * 1000]
    text = " ".join(w.text for w in first_words)
    lowered = [re.sub(r"\W", "", w.text.lower()) for w in first_words]
    score, reasons = 0.2, []
    if any(s.text.rstrip().endswith("?") for s in opening):
        score += 0.5
        reasons.append("opens with a question")
    strong = [w for w in lowered if w in HOOK_WORDS]
    if strong:
        score += 0.3
        reasons.append(f"a strong word in the first {HOOK_S:g} s ({strong[0]!r})")
    if re.search(r"\d", text) or any(w in {"one", "two", "three", "five", "ten"} for w in lowered):
        score += 0.2
        reasons.append("a number in the opening")
    if "you" in lowered or "your" in lowered:
        score += 0.15
        reasons.append("speaks to the viewer ('you')")
    if len(sentences_in[0].words) <= 8:
        score += 0.15
        reasons.append("short, punchy first sentence")
    return min(1.0, score), reasons


def _self_contained(first: Sentence, last: Sentence) -> tuple[float, list[str]]:
    opener = re.sub(r"\W", "", first.words[0].text.lower())
    score, reasons = 1.0, []
    if opener in CONNECTIVES:
        score -= 0.6
        reasons.append(f"starts with a dangling {opener!r}")
    elif opener in PRONOUNS:
        score -= 0.4
        reasons.append(f"starts with {opener!r}, whose referent came before")
    else:
        reasons.append("starts cleanly")
    if not last.words[-1].text.rstrip("\"')»”").endswith(SENTENCE_END):
        score -= 0.3
        reasons.append("ends without a full stop")
    return max(0.0, score), reasons


def _question_answer(found: Sequence[Sentence]) -> tuple[float, list[str]]:
    for k, sentence in enumerate(found[:-1]):
        if sentence.text.rstrip().endswith("?") and not found[k + 1].text.rstrip().endswith("?"):
            return 1.0, ["asks a question and answers it"]
    return 0.0, []


def _rate(words: int, seconds: float) -> tuple[float, list[str]]:
    rate = words / max(seconds, 0.1)
    if 2.2 <= rate <= 3.6:
        return 1.0, [f"lively, followable pace ({rate:.1f} words/s)"]
    distance = (2.2 - rate) / 1.2 if rate < 2.2 else (rate - 3.6) / 1.2
    score = max(0.0, 1.0 - distance)
    return score, [f"{'slow' if rate < 2.2 else 'fast'} pace ({rate:.1f} words/s)"]


def _energy(
    envelope: NDArray[np.float32] | None, start_ms: int, end_ms: int, median: float
) -> tuple[float, list[str]]:
    if envelope is None or envelope.size == 0 or median <= 0:
        return 0.5, []
    span = envelope[start_ms // 100 : max(start_ms // 100 + 1, end_ms // 100)]
    voiced = span[span > median * 0.25]
    level = float(voiced.mean()) if voiced.size else 0.0
    ratio = level / median
    score = float(np.clip(0.5 + (ratio - 1.0) * 1.5, 0.0, 1.0))
    if ratio >= 1.1:
        return score, [f"energetic delivery ({ratio:.2f}x the talk's median loudness)"]
    if ratio <= 0.85:
        return score, [f"quieter than the rest ({ratio:.2f}x the median loudness)"]
    return score, []


def _query(
    text: str, wanted: list[str], nearest: tuple[float, str] | None
) -> tuple[float, list[str]]:
    """How much ``text`` is about the query (0..1) and why: the query's words it says, and
    ``nearest``, its sentence closest in meaning to the query (cosine, text). No reasons: not
    about the query at all."""
    said = Counter(terms(text))
    hits = {t: said[t] for t in wanted if said[t]}
    score, reasons = 0.0, []
    if hits:
        share = len(hits) / len(set(wanted))
        score = min(1.0, share * (0.7 + 0.1 * sum(hits.values())))
        reasons.append("about the query: " + ", ".join(f"{t!r} x{n}" for t, n in hits.items()))
    if nearest is not None and nearest[0] >= QUERY_MEANING_MIN:
        reach = (nearest[0] - QUERY_MEANING_MIN) / (QUERY_MEANING_FULL - QUERY_MEANING_MIN)
        score = max(score, min(1.0, 0.5 + 0.5 * reach))
        quoted = " ".join(nearest[1].split()[:8]) + ("…" if len(nearest[1].split()) > 8 else "")
        reasons.append(f"close in meaning to the query ({nearest[0]:.2f}: {quoted!r})")
    return score, reasons


def _title(found: Sequence[Sentence], wanted: list[str], nearest: str = "") -> str:
    """The clip's first question, or its first sentence that says the query's words, or else
    its sentence ``nearest`` the query in meaning."""
    candidates = [s for s in found if s.text.rstrip().endswith("?")] or list(found)
    if wanted:
        about = [s for s in found if set(terms(s.text)) & set(wanted)]
        close = [s for s in found if s.text == nearest]
        candidates = about or close or candidates
    words = candidates[0].text.split()
    title = " ".join(words[:10]) + ("…" if len(words) > 10 else "")
    return title[:1].upper() + title[1:]


def score_span(
    found: Sequence[Sentence],
    labels: Sequence[int],
    first: int,
    last: int,
    *,
    envelope: NDArray[np.float32] | None = None,
    median: float = 0.0,
    wanted: list[str] | None = None,
    closeness: Sequence[float] | None = None,
) -> Moment | None:
    """The moment of sentences ``first``..``last`` with its score; None when a query is given
    and the span is not about it (``closeness``: each sentence's similarity in meaning to the
    query, when sentence embeddings are at hand)."""
    span = found[first : last + 1]
    start_ms, end_ms = span[0].start_ms, span[-1].end_ms
    words = tuple(w for s in span for w in s.words)
    text = " ".join(s.text for s in span)
    components: dict[str, float] = {}
    reasons: list[str] = []
    components["hook"], why = _hook(span, start_ms)
    reasons += why
    components["self_contained"], why = _self_contained(span[0], span[-1])
    reasons += why
    components["question_answer"], why = _question_answer(span)
    reasons += why
    topic_counts = Counter(labels[first : last + 1])
    topic, inside = topic_counts.most_common(1)[0]
    components["topic"] = inside / len(span)
    starts_topic = first == 0 or labels[first - 1] != labels[first]
    if starts_topic:
        components["topic"] = min(1.0, components["topic"] + 0.2)
    if len(topic_counts) == 1:
        reasons.append("stays on one topic" + (" from its start" if starts_topic else ""))
    else:
        reasons.append(f"spans {len(topic_counts)} topics")
    components["energy"], why = _energy(envelope, start_ms, end_ms, median)
    reasons += why
    components["rate"], why = _rate(len(words), (end_ms - start_ms) / 1000)
    reasons += why
    total = sum(WEIGHTS[name] * components[name] for name in WEIGHTS)
    weight = sum(WEIGHTS.values())
    nearest = None
    if wanted:
        if closeness is not None:
            best = max(range(first, last + 1), key=lambda k: closeness[k])
            nearest = (float(closeness[best]), found[best].text)
        components["query"], why = _query(text, wanted, nearest)
        if not why:
            return None
        reasons = why + reasons
        total += QUERY_WEIGHT * components["query"]
        weight += QUERY_WEIGHT
    return Moment(
        first=first,
        last=last,
        start_ms=start_ms,
        end_ms=end_ms,
        score=round(100 * total / weight, 1),
        components={k: round(v, 3) for k, v in components.items()},
        reasons=tuple(reasons),
        title=_title(span, wanted or [], nearest[1] if nearest else ""),
        text=text,
        topic=topic,
        words=words,
    )


def find_moments(
    words: Sequence[Word],
    *,
    count: int = 5,
    min_s: float = 20.0,
    max_s: float = 60.0,
    query: str | None = None,
    envelope: NDArray[np.float32] | None = None,
) -> list[Moment]:
    """The ``count`` best non-overlapping moments, best first (fewer when the talk has fewer).

    ``envelope`` is the audio's RMS per 100 ms (for the energy component)."""
    if min_s <= 0 or max_s < min_s:
        raise SpecError(
            f"clip lengths must satisfy 0 < min <= max (min={min_s:g}, max={max_s:g})",
            hint="e.g. --min 20 --max 60",
        )
    found = sentences(words)
    wanted = sorted(set(terms(query))) if query else []
    if query and not wanted:
        raise SpecError(
            f"the query {query!r} has no content words to look for",
            hint="name the topic itself, e.g. --query pricing",
        )
    vectors, closeness = _meanings(found, query)
    labels = topics(found, vectors=vectors)
    median = 0.0
    if envelope is not None and envelope.size:
        voiced = envelope[envelope > float(envelope.max()) * 0.05]
        median = float(np.median(voiced)) if voiced.size else 0.0
    candidates: list[Moment] = []
    for first in range(len(found)):
        for last in range(first, len(found)):
            seconds = (found[last].end_ms - found[first].start_ms) / 1000
            if seconds > max_s:
                break
            if seconds < min_s:
                continue
            moment = score_span(
                found, labels, first, last, envelope=envelope, median=median, wanted=wanted,
                closeness=closeness,
            )  # fmt: skip
            if moment is not None:
                candidates.append(moment)
    candidates.sort(key=lambda m: (-m.score, m.start_ms))
    chosen: list[Moment] = []
    for moment in candidates:
        if all(moment.end_ms <= c.start_ms or moment.start_ms >= c.end_ms for c in chosen):
            chosen.append(moment)
            if len(chosen) == count:
                break
    return chosen


def _meanings(
    found: Sequence[Sentence], query: str | None, window: int = 3
) -> tuple[NDArray[np.float32] | None, list[float] | None]:
    """Each sentence's embedding and its similarity to ``query``; (None, None) without the
    embedding model, or when too few sentences for topics and no query ask for them."""
    from reelforge.text.meaning import embed

    if not found or (not query and len(found) < 2 * window + 1):
        return None, None
    meant = embed([s.text for s in found] + ([query] if query else []))
    if meant is None:
        return None, None
    vectors = meant.vectors[: len(found)]
    closeness = [float(v) for v in vectors @ meant.vectors[-1]] if query else None
    return vectors, closeness


def span_moment(
    words: Sequence[Word], start_ms: int, end_ms: int, envelope: NDArray[np.float32] | None = None
) -> Moment | None:
    """The words wholly inside ``start_ms``..``end_ms`` as one moment (``--from/--to``), scored
    like the others; None when nobody speaks there."""
    inside = [w for w in words if w.start_ms >= start_ms and w.end_ms <= end_ms]
    if not inside:
        return None
    found = sentences(inside)
    labels = [0] * len(found)
    median = 0.0
    if envelope is not None and envelope.size:
        voiced = envelope[envelope > float(envelope.max()) * 0.05]
        median = float(np.median(voiced)) if voiced.size else 0.0
    return score_span(found, labels, 0, len(found) - 1, envelope=envelope, median=median)
