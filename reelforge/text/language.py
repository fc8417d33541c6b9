"""Language detection by script and, for Latin text, by stopword statistics.

Pure Python, no model: a narration's language decides its default voice and caption font, and a
script-plus-stopwords guess is right for whole sentences in the languages reelforge speaks.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from reelforge.text.words import wordset

# Unicode blocks -> language, checked in this order of precedence after counting letters.
_SCRIPT_RANGES: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (
    (
        "arabic",
        ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
    ),
    ("hebrew", ((0x0590, 0x05FF), (0xFB1D, 0xFB4F))),
    ("devanagari", ((0x0900, 0x097F), (0xA8E0, 0xA8FF))),
    ("bengali", ((0x0980, 0x09FF),)),
    ("tamil", ((0x0B80, 0x0BFF),)),
    ("thai", ((0x0E00, 0x0E7F),)),
    ("kana", ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))),
    ("han", ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))),
    ("hangul", ((0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF))),
    ("cyrillic", ((0x0400, 0x04FF), (0x0500, 0x052F))),
    ("greek", ((0x0370, 0x03FF),)),
)
_SCRIPT_LANGUAGE = {
    "arabic": "ar",
    "hebrew": "he",
    "devanagari": "hi",
    "bengali": "bn",
    "tamil": "ta",
    "thai": "th",
    "hangul": "ko",
    "cyrillic": "ru",
    "greek": "el",
}

# Language -> its writing system, as script_of() reports it.
_LANGUAGE_SCRIPT = {
    "ar": "arabic",
    "fa": "arabic",
    "ur": "arabic",
    "he": "hebrew",
    "yi": "hebrew",
    "hi": "devanagari",
    "mr": "devanagari",
    "ne": "devanagari",
    "bn": "bengali",
    "ta": "tamil",
    "th": "thai",
    "ja": "cjk",
    "zh": "cjk",
    "yue": "cjk",
    "ko": "hangul",
    "ru": "cyrillic",
    "uk": "cyrillic",
    "bg": "cyrillic",
    "sr": "cyrillic",
    "el": "greek",
}
# Languages written right to left (primary subtags; "iw" is Hebrew's old code): the caption
# lines, the title sprites and the language helpers all read this one set.
RTL_LANGUAGES = frozenset({"ar", "fa", "ur", "ps", "ug", "sd", "ckb", "dv", "he", "iw", "yi"})


# Frequent function words; words shared by several languages count for each of them.
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": wordset(
        "the a an and or but of to in on at for with from by is are was were be been it this "
        "that these those you we they he she i my your our their not no do does did have has "
        "had will would can could what which who how when there here as if so than then"
    ),
    "fr": wordset(
        "le la les un une des du de et ou mais est sont était être avec pour dans sur par ce "
        "cette ces il elle ils elles nous vous je tu ne pas que qui quoi au aux mon ton son "
        "leur leurs plus très comme où si en y a été fait tout tous c'est d'un d'une l'on "
        "qu'il"
    ),
    "es": wordset(
        "el la los las un una unos unas y o pero de del al es son está están ser con para por "
        "en que qué quien como cómo muy más se su sus mi tu nosotros ellos ella él yo no lo "
        "le les este esta estos hay fue también cuando donde"
    ),
    "de": wordset(
        "der die das ein eine einer eines und oder aber ist sind war waren sein mit für in "
        "auf von zu dem den des nicht ich du er sie wir ihr es auch wie was wer wenn noch "
        "nur sehr bei aus nach über im am zum zur dass hat haben wird"
    ),
    "it": wordset(
        "il lo la i gli le un uno una e o ma di del della dei delle da in con per su è sono "
        "era essere che chi non si come più molto anche questo questa quello mio tuo suo "
        "noi voi loro io tu lui lei nel nella alla al"
    ),
    "pt": wordset(
        "o a os as um uma uns umas e ou mas de do da dos das em no na nos nas com para por é "
        "são está estão ser que não se como mais muito também eu você ele ela nós eles elas "
        "seu sua meu minha isso este esta foi tem ao"
    ),
    "nl": wordset(
        "de het een en of maar van in op te voor met is zijn was waren niet ik jij je hij zij "
        "wij we jullie ze dat die dit deze er ook als naar bij uit om aan heeft hebben wordt "
        "nog maar zo wat wie hoe"
    ),
}
# Algerian/Moroccan Darija written in Latin letters ("Arabizi"): frequent words no other
# listed language has. They make Latin text Darija, and French beside Arabic script Maghrebi.
_DARIJA_LATIN = wordset(
    "wach wech wesh rak raki rani rana rakom kifach kifah labas bezaf bzaf chwiya shwiya "
    "khouya khoya kho sahbi mlih mliha hadi hada hadou hna ntaya ntiya ntouma yaatik saha "
    "sahit bghit nhab nheb wallah inchallah nchallah hamdoullah hamdullah barka drahem drahm "
    "kayen kayna makach mazal ghir dima daba yallah chkoun fhamt smahli lyoum ghodwa"
)
# Letters that only some Latin-script languages use: a light tiebreak for short texts.
_LETTER_HINTS: dict[str, str] = {
    "fr": "çœêèëîïûùÿ",
    "es": "ñ¿¡",
    "de": "ßäöü",
    "it": "",
    "pt": "ãõâôç",
    "nl": "ĳ",
    "en": "",
}
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def _script_of_char(code: int) -> str | None:
    for script, ranges in _SCRIPT_RANGES:
        for lo, hi in ranges:
            if lo <= code <= hi:
                return script
    return None


def _script_counts(text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for ch in text:
        if ch.isascii():
            if ch.isalpha():
                counts["latin"] += 1
            continue
        script = _script_of_char(ord(ch))
        if script:
            counts[script] += 1
        elif ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"):
            counts["latin"] += 1
    return counts


def unknown_script(text: str) -> str | None:
    """The writing system most of ``text``'s letters use when it is none that detection knows
    ("Tifinagh", "Ethiopic", "Georgian"...), else None: no voice would read such text."""
    letters = 0
    foreign: Counter[str] = Counter()
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        name = unicodedata.name(ch, "")
        if ch.isascii() or name.startswith("LATIN") or _script_of_char(ord(ch)):
            continue
        foreign[name.split(" ")[0].title() if name else "Unknown"] += 1
    if not foreign:
        return None
    script, count = foreign.most_common(1)[0]
    return script if count * 2 > letters else None


def _latin_language(text: str) -> str:
    words = [w.lower().replace("’", "'") for w in _WORD.findall(text)]
    if not words:
        return "en"
    scores: dict[str, float] = {}
    for lang, stop in _STOPWORDS.items():
        score = float(sum(1 for w in words if w in stop))
        # Elided articles ("l'eau", "d'un", "qu'il") are French even when the word is not listed.
        if lang == "fr":
            score += sum(0.5 for w in words if re.match(r"^(?:l|d|qu|j|n|s|c|m|t)'", w))
        hints = _LETTER_HINTS[lang]
        if hints:
            score += 0.5 * sum(1 for ch in text.lower() if ch in hints)
        scores[lang] = score
    best = max(scores.values())
    if best <= 0:
        return "en"
    leaders = [lang for lang, s in scores.items() if s == best]
    # Ties go to English first (the default), then the order of _STOPWORDS.
    return "en" if "en" in leaders else leaders[0]


def _darija_words(text: str) -> int:
    return sum(1 for w in _WORD.findall(text.lower()) if w in _DARIJA_LATIN)


def _maghrebi(counts: Counter[str], text: str) -> bool:
    """Arabic script mixed with French (or Latin-letter Darija): how Maghrebi Darija is
    written. One Arabic word in a French sentence is not enough (a quoted word); two are."""
    arabic, latin = counts["arabic"], counts["latin"]
    arabic_words = len(re.findall(r"[\u0600-\u06ff]+", text))
    if not arabic or not latin or (arabic < 0.2 * (arabic + latin) and arabic_words < 2):
        return False
    latin_text = "".join(ch if ch.isascii() or ch.isspace() else " " for ch in text)
    latin_text = re.sub(r"[\u0600-\u06ff]+", " ", latin_text)
    return _darija_words(text) > 0 or _latin_language(latin_text) == "fr"


def detect_language(text: str) -> str:
    """The primary language tag of ``text``: "en", "fr", "ar", "hi", "ja", "zh"...

    Non-Latin scripts decide by themselves (kana anywhere means Japanese, Han without kana
    Chinese); Latin text is scored by stopwords among en, fr, es, de, it, pt and nl. Empty or
    ambiguous text is "en".
    """
    counts = _script_counts(text)
    if not counts:
        return "en"
    if counts["kana"]:
        return "ja"
    if _maghrebi(counts, text):
        return "ar"
    non_latin = {s: n for s, n in counts.items() if s != "latin"}
    if non_latin:
        script, n = max(non_latin.items(), key=lambda item: item[1])
        # A brand name in Latin letters inside Arabic text must not flip it, and a stray
        # symbol inside English must not either: the majority of letters wins.
        if n >= counts["latin"] or script == "han" and n * 2 >= counts["latin"]:
            return "zh" if script == "han" else _SCRIPT_LANGUAGE[script]
    if _darija_words(text) >= 2:
        # Darija in Latin letters: the French voice reads it (as it reads Darija's Latin runs)
        # and its captions stay Latin; English or Portuguese voices would mangle it.
        return "fr"
    return _latin_language(text)


def detect_language_tag(text: str) -> str:
    """Like :func:`detect_language`, with a region where the voice needs it: Arabic script
    mixed with French (or Latin-letter Darija) is "ar-dz", Algerian Darija, whose Latin runs
    the French voice reads."""
    if _maghrebi(_script_counts(text), text):
        return "ar-dz"
    return detect_language(text)


def primary_language(language: str) -> str:
    """The primary subtag of a language tag: "ar-DZ" -> "ar", "en_US" -> "en", "zh_Hant" ->
    "zh"."""
    return language.strip().lower().replace("_", "-").split("-")[0]


def is_rtl(language: str) -> bool:
    """True for languages written right to left ("ar", "ar-dz", "he", "fa", "ur"...)."""
    return primary_language(language) in RTL_LANGUAGES


def script_of(language: str) -> str:
    """The writing system: "latin", "arabic", "hebrew", "devanagari", "bengali", "tamil",
    "thai", "cjk", "hangul", "cyrillic" or "greek". Unknown languages are "latin"."""
    return _LANGUAGE_SCRIPT.get(primary_language(language), "latin")
