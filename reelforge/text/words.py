"""Word matching shared by planners that pair text with things (light: no numpy, no Pillow).

The normalisation and word-ending rules of the illustrated engine's subject matching, which
imports them from here (case, Latin accents and Arabic vowel marks folded; a word of 4+
letters matches its inflections), plus *concepts*: two words in any of the illustrated
lexicon's languages that call for the same subject (French "poisson", English "sardines") are
related.
"""

from __future__ import annotations

import functools
import re
import unicodedata

INFLECT_MIN = 4
LATIN_ENDINGS = ("s", "es", "x", "e", "ed", "d", "er", "ers", "ing", "n", "en")
_SPLIT = re.compile(r"[\s.,;:!?\"'’‘“”«»()\[\]{}।॥،؛؟…\-–—/*_#|+=~]+")
_ARABIC_MARKS = re.compile("[\u064b-\u0652\u0670\u0640]")


def wordset(words: str) -> frozenset[str]:
    """A table of words written as one string, space-separated: ``wordset("the and for")``."""
    return frozenset(words.split())


def normalise(text: str) -> str:
    """Case-folded, Latin accents and Arabic vowel marks removed, Arabic letters unified."""
    text = unicodedata.normalize("NFKD", text.casefold())
    out: list[str] = []
    for char in text:
        if unicodedata.category(char) == "Mn" and out and out[-1] < "\u0250":
            continue  # an accent on a Latin letter (keep Devanagari and other marks)
        out.append(char)
    text = unicodedata.normalize("NFC", "".join(out))
    text = _ARABIC_MARKS.sub("", text)
    return text.translate(str.maketrans("أإآىة", "ااايه"))


# function words of the lexicon's Latin-script languages (normalised), and camera file names
_STOP = (
    "the and for our your with this that from into over here there are was were has have "
    "its all any more most very just only again every some what when where who how not but "
    "les des une est pour avec dans sur par que qui vos nos notre votre aux ces son sa ses "
    "los las una con por para del que nuestro nuestra sus img dsc dscn pxl vid mov"
)
STOPWORDS = wordset(_STOP)


def words(text: str) -> list[str]:
    """The meaningful words of ``text``: normalised, no bare numbers, no one- or two-letter
    words, no function words."""
    return [
        w
        for w in _SPLIT.split(normalise(text))
        if len(w) >= 3 and not w.isdigit() and w not in STOPWORDS
    ]


def word_hit(a: str, b: str) -> float:
    """1.0 for the same word, 0.8 when one is an inflection of the other, else 0."""
    if a == b:
        return 1.0
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < INFLECT_MIN or not long.startswith(short):
        return 0.0
    rest = long[len(short) :]
    if short[:1].isascii():
        return 0.8 if rest in LATIN_ENDINGS else 0.0
    return 0.8 if len(rest) <= 2 else 0.0


@functools.lru_cache(maxsize=1)
def _concepts() -> dict[str, frozenset[str]]:
    """normalised keyword -> the subjects (emoji) of the lexicon it calls for, all languages."""
    from reelforge.engines.visuals.illustrated_lexicon import entries

    found: dict[str, set[str]] = {}
    for entry in entries():
        for keywords in entry.keywords.values():
            for word in keywords:
                key = normalise(word)
                if key and " " not in key:
                    found.setdefault(key, set()).add(entry.emoji)
    return {k: frozenset(v) for k, v in found.items()}


@functools.lru_cache(maxsize=1 << 16)
def concepts(word: str) -> frozenset[str]:
    """The lexicon subjects ``word`` (normalised) or a word it inflects calls for (remembered:
    matching a library asks for the same words once per asset and scene)."""
    table = _concepts()
    if word in table:
        return table[word]
    hits = [v for k, v in table.items() if len(k) >= INFLECT_MIN and word_hit(word, k) > 0]
    return frozenset().union(*hits) if hits else frozenset()


@functools.lru_cache(maxsize=1)
def _english_names() -> dict[str, str]:
    """lexicon subject (emoji) -> its first English keyword ("🐟" -> "fish")."""
    from reelforge.engines.visuals.illustrated_lexicon import entries

    return {entry.emoji: entry.keywords["en"][0] for entry in entries() if entry.keywords.get("en")}


def english_subjects(text: str) -> list[str]:
    """The lexicon subjects ``text`` (any of its languages) calls for, named in English, in
    the order they are first called for: "سمك مشوي" -> ["fish", "grill"]."""
    names = _english_names()
    found: dict[str, None] = {}
    for word in words(text):
        for emoji in sorted(concepts(word)):
            if emoji in names:
                found.setdefault(names[emoji], None)
    return list(found)
