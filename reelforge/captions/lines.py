"""Timed words -> short caption lines, aware of CJK (no spaces) and RTL scripts.

All times are integer milliseconds. Lines keep their words with absolute times so the karaoke
and highlight writers can time each word without going back to the narration.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from reelforge.errors import SpecError
from reelforge.text.language import RTL_LANGUAGES, primary_language
from reelforge.timeline import CaptionLine, TimedWord

# A sentence ends here: the line should end here too, so the reader never sees two sentences
# glued into one line unless the first is too short to stand alone.
SENTENCE_END = frozenset(".!?;:…。！？；：؟؛।॥")
# A soft break: taken only when the line already carries enough words to read as a phrase.
CLAUSE_END = frozenset(",、，،")
# Closing quotes and brackets may follow the punctuation mark ("Stop!" she said).
_TRAILING = "\"'”’»)]}」』）】"

CJK_LANGUAGES = frozenset({"ja", "zh", "yue", "ko"})
# Korean separates words with spaces; Chinese and Japanese do not.
UNSPACED_LANGUAGES = frozenset({"ja", "zh", "yue"})
# CJK glyphs are about twice as wide as Latin ones, so a 40-character Latin line is as wide as
# about 16 CJK characters at the same font size.
CJK_MAX_CHARS = 16
# Words that lean on the next one (articles, prepositions, conjunctions, possessives in English,
# French, Spanish, Italian, Portuguese and German): a caption line ending with one reads as cut
# off ("la place du | Marché"), so the line breaker avoids it when another split is about as
# even. A preference only: a line may still end with one when nothing else fits.
WEAK_ENDINGS = frozenset(
    (  # noqa: SIM905 - the word list reads better as text
        "a an the of to in on at for with from by into onto and or but nor as our your my his "
        "her its their this that these those le la les l' un une des du de d' au aux à et ou en "
        "sur sous pour par avec dans ce cet cette ces son sa ses leur leurs mon ma mes ton ta "
        "tes notre nos votre vos qui que qu' el los las una unos unas del al y o con por para "
        "su sus il lo gli di da nel nella della dello per tra fra os um uma do dos das na no "
        "nas nos com pelo pela der die das den dem des ein eine einen einem einer und oder mit "
        "von zu zum zur im am vom beim aus"
    ).split()
)
# How long a line stays up after its last word ends, so a fast reader can finish it.
HOLD_MS = 300
# A silence this long inside a sentence still ends the line: a caption should not sit on screen
# through a pause describing words that are not being spoken yet.
PAUSE_BREAK_MS = 800


def is_unspaced_language(language: str) -> bool:
    return primary_language(language) in UNSPACED_LANGUAGES


def _ends_with(text: str, marks: frozenset[str]) -> bool:
    stripped = text.rstrip().rstrip(_TRAILING)
    return bool(stripped) and stripped[-1] in marks


def _check_words(words: Sequence[TimedWord]) -> None:
    previous_end = 0
    for index, word in enumerate(words):
        if word.start_ms < 0 or word.end_ms < word.start_ms:
            raise SpecError(
                f"word {index} ({word.text!r}) has times {word.start_ms}..{word.end_ms} ms",
                hint="every word needs 0 <= start_ms <= end_ms",
            )
        if word.start_ms < previous_end:
            raise SpecError(
                f"word {index} ({word.text!r}) starts at {word.start_ms} ms, before the previous "
                f"word ends ({previous_end} ms)",
                hint="words must be in spoken order and must not overlap; clamp ASR word ends "
                "to the next word's start",
            )
        previous_end = word.end_ms


def _join(texts: Sequence[str], unspaced: bool) -> str:
    return ("" if unspaced else " ").join(texts)


def _width(texts: Sequence[str], unspaced: bool) -> int:
    return len(_join(texts, unspaced))


def _split_sentence(
    sentence: list[TimedWord], max_words: int, max_chars: int, unspaced: bool
) -> list[list[TimedWord]]:
    """Split one sentence into clauses after commas (once a clause has >= 3 words), then each
    clause into as few lines as fit, as evenly as possible."""
    clauses: list[list[TimedWord]] = []
    current: list[TimedWord] = []
    for word in sentence:
        current.append(word)
        if len(current) >= 3 and _ends_with(word.text, CLAUSE_END):
            clauses.append(current)
            current = []
    if current:
        clauses.append(current)
    lines: list[list[TimedWord]] = []
    for clause in clauses:
        lines.extend(_balanced(clause, max_words, max_chars, unspaced))
    return lines


def _balanced(
    words: list[TimedWord], max_words: int, max_chars: int, unspaced: bool
) -> list[list[TimedWord]]:
    """Fewest lines that fit, then the most even widths (a greedy fill leaves "over the |
    lazy dog." where "fox jumps | over the lazy dog." reads better), avoiding one-word lines."""
    count = len(words)
    texts = [w.text for w in words]
    # best[i]: (lines, cost, start of the last line) for the first i words.
    best: list[tuple[int, int, int] | None] = [(0, 0, 0)] + [None] * count
    for end in range(1, count + 1):
        for begin in range(end - 1, -1, -1):
            size = end - begin
            width = _width(texts[begin:end], unspaced)
            if size > 1 and (size > max_words or width > max_chars):
                break  # a longer line only gets wider
            previous = best[begin]
            if previous is None:
                continue
            orphan = 10**6 if size == 1 and count > 1 else 0
            weak = 8 * max_chars if end < count and _leans_on_next(texts[end - 1]) else 0
            candidate = (previous[0] + 1, previous[1] + width * width + orphan + weak, begin)
            current = best[end]
            if current is None or candidate[:2] < current[:2]:
                best[end] = candidate
    lines: list[list[TimedWord]] = []
    end = count
    while end > 0:
        entry = best[end]
        assert entry is not None  # every single word is a valid line, so all prefixes resolve
        lines.append(words[entry[2] : end])
        end = entry[2]
    return lines[::-1]


def _leans_on_next(text: str) -> bool:
    word = text.lower().replace("’", "'")
    if word.endswith("'"):  # elided "l'", "d'" glued to nothing: a break right after it
        return True
    return word in WEAK_ENDINGS


def _rebalance(
    lines: list[list[TimedWord]], min_words: int, max_words: int, max_chars: int, unspaced: bool
) -> list[list[TimedWord]]:
    """Fix a too-short last line of a sentence (a one-word orphan).

    Merge it into the line before when that fits (the split came from a comma), else move words
    from the line before until it has ``min_words``.
    """
    if len(lines) < 2 or len(lines[-1]) >= min_words:
        return lines
    last, previous = list(lines[-1]), list(lines[-2])
    merged = previous + last
    if len(merged) <= max_words and _width([w.text for w in merged], unspaced) <= max_chars:
        return [*lines[:-2], merged]
    while len(last) < min_words and len(previous) > min_words:
        moved = [previous[-1], *last]
        if _width([w.text for w in moved], unspaced) > max_chars:
            break
        previous, last = previous[:-1], moved
    return [*lines[:-2], previous, last]


def group_words(
    words: Sequence[TimedWord],
    language: str = "en",
    max_words: int = 7,
    max_chars: int = 40,
    min_words: int = 2,
) -> tuple[CaptionLine, ...]:
    """Group timed words into short caption lines.

    A line holds ``min_words``..``max_words`` words and at most ``max_chars`` characters (a
    single longer word stands alone). Lines end after sentence punctuation, after a comma once
    they hold three words, and at pauses of :data:`PAUSE_BREAK_MS`; the last line of a sentence
    borrows words from the line before rather than leave one word alone. A line spans its first
    word's start to its last word's end plus up to :data:`HOLD_MS`, never reaching past the next
    line's start. CJK languages join words without spaces and count about 16 characters a line;
    RTL languages get ``rtl=True``.
    """
    if max_words < 1 or max_chars < 1 or min_words < 1:
        raise SpecError(
            f"caption limits must be positive (max_words={max_words}, max_chars={max_chars}, "
            f"min_words={min_words})",
            hint="use e.g. max_words=7, max_chars=40, min_words=2",
        )
    kept = [w for w in words if w.text.strip()]
    _check_words(kept)
    if not kept:
        return ()
    lang = primary_language(language)
    unspaced = lang in UNSPACED_LANGUAGES
    if lang in CJK_LANGUAGES:
        max_chars = min(max_chars, CJK_MAX_CHARS)
        if unspaced:
            # Unspaced words are often single characters; only the width limit makes sense.
            max_words = max(max_words, max_chars)
    min_words = min(min_words, max_words)
    kept = [TimedWord(w.text.strip(), w.start_ms, w.end_ms) for w in kept]

    # Sentences: runs of words ending at sentence punctuation or a long pause. A sentence shorter
    # than min_words ("Yes.") joins the next one instead of standing alone.
    sentences: list[list[TimedWord]] = []
    current: list[TimedWord] = []
    for index, word in enumerate(kept):
        current.append(word)
        following = kept[index + 1] if index + 1 < len(kept) else None
        paused = following is not None and following.start_ms - word.end_ms >= PAUSE_BREAK_MS
        if (_ends_with(word.text, SENTENCE_END) or paused) and len(current) >= min_words:
            sentences.append(current)
            current = []
    if current:
        if len(current) < min_words and sentences:
            # A trailing one-word sentence rides with the sentence before it.
            sentences[-1].extend(current)
        else:
            sentences.append(current)

    groups: list[list[TimedWord]] = []
    for sentence in sentences:
        lines = _split_sentence(sentence, max_words, max_chars, unspaced)
        groups.extend(_rebalance(lines, min_words, max_words, max_chars, unspaced))
    return _timed_lines(groups, lang, unspaced)


def _timed_lines(
    groups: list[list[TimedWord]], lang: str, unspaced: bool
) -> tuple[CaptionLine, ...]:
    rtl = lang in RTL_LANGUAGES
    out: list[CaptionLine] = []
    for index, group in enumerate(groups):
        start = group[0].start_ms
        end = group[-1].end_ms + HOLD_MS
        if index + 1 < len(groups):
            end = min(end, groups[index + 1][0].start_ms)
        # Words never overlap (checked), so the cap above never cuts into the last word.
        end = max(end, group[-1].end_ms)
        text = _join([w.text for w in group], unspaced)
        out.append(CaptionLine(start, end, text, tuple(group), rtl))
    return tuple(out)


def words_from_lines(lines: Sequence[CaptionLine]) -> tuple[TimedWord, ...]:
    """All words of the lines in order; a line without word times gets estimated ones."""
    out: list[TimedWord] = []
    for line in lines:
        out.extend(line_words(line))
    return tuple(out)


def line_words(line: CaptionLine) -> tuple[TimedWord, ...]:
    """The line's words, or words spread over the line by length when it carries none."""
    if line.words:
        return line.words
    return estimate_words(line.text, line.start_ms, line.end_ms)


def _is_cjk_char(char: str) -> bool:
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x3400 <= code <= 0x4DBF  # CJK extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0x31F0 <= code <= 0x31FF  # katakana extensions
        or 0xFF66 <= code <= 0xFF9D  # half-width katakana
    )


def _tokens(text: str) -> list[str]:
    """Whitespace tokens; unspaced CJK runs become one token per character, punctuation kept
    with the character before it (a caption never starts with "。")."""
    tokens: list[str] = []
    for chunk in text.split():
        if not any(_is_cjk_char(c) for c in chunk):
            tokens.append(chunk)
            continue
        pieces: list[str] = []
        latin = ""
        for char in chunk:
            if _is_cjk_char(char):
                if latin:
                    pieces.append(latin)
                    latin = ""
                pieces.append(char)
            elif unicodedata.category(char).startswith("P") and (pieces or latin):
                if latin:
                    latin += char
                else:
                    pieces[-1] += char
            else:
                latin += char
        if latin:
            pieces.append(latin)
        tokens.extend(pieces)
    return tokens


def estimate_words(text: str, start_ms: int, end_ms: int) -> tuple[TimedWord, ...]:
    """Spread the words of ``text`` over ``[start_ms, end_ms]`` in proportion to their length.

    For captions that come without word times (SRT, plain JSON): karaoke and highlight need
    some word timing, and speech time is roughly proportional to characters. Unspaced CJK text
    is split into characters. Words are contiguous and exactly cover the interval.
    """
    if start_ms < 0 or end_ms < start_ms:
        raise SpecError(
            f"cannot spread words over {start_ms}..{end_ms} ms",
            hint="the interval needs 0 <= start_ms <= end_ms",
        )
    tokens = _tokens(text)
    if not tokens:
        return ()
    # +1 per word stands for the gap between words, so short words still get some time.
    weights = [len(t) + 1 for t in tokens]
    total = sum(weights)
    span = end_ms - start_ms
    bounds = [start_ms]
    running = 0
    for weight in weights:
        running += weight
        bounds.append(start_ms + (span * running + total // 2) // total)
    return tuple(TimedWord(t, bounds[i], bounds[i + 1]) for i, t in enumerate(tokens))


def shift(lines: Sequence[CaptionLine], offset_ms: int) -> tuple[CaptionLine, ...]:
    """Move every line and word by ``offset_ms`` (negative moves earlier)."""
    out: list[CaptionLine] = []
    for line in lines:
        if line.start_ms + offset_ms < 0:
            raise SpecError(
                f"shifting by {offset_ms} ms moves the line {line.text!r} before 0",
                hint="drop the lines that start before the cut point before shifting",
            )
        words = tuple(w.shifted(offset_ms) for w in line.words)
        out.append(
            CaptionLine(
                line.start_ms + offset_ms, line.end_ms + offset_ms, line.text, words, line.rtl
            )
        )
    return tuple(out)
