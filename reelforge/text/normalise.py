"""What a voice should say for what the user wrote: numbers, money, dates, times, percentages
and abbreviations spelled out per language (Arabic, English, French, Hindi, Spanish).

Voices read words well and symbols badly: "12,50 €" or "14h30" reach a voice as digits and
signs it reads one by one, in the wrong language, or not at all (Kokoro drops what is not in its
vocabulary). The voice layer therefore speaks :func:`normalise`'s ``text`` and maps the engine's
word times back onto the written words with :func:`written_words`, so captions still show
"12,50 €" while the voice says "douze euros cinquante".

Every written word (whitespace-separated token) belongs to one :class:`Piece`; a piece covers
one token or a few joined ones ("10 %", "1 000 DA", "9 h 30") and says them as one or more
spoken words. Engines report one timed word per whitespace token of the text they read, so a
piece's written words take the time of its spoken words. Tokens no rule understands are left as
written (espeak still reads digits inside words such as "4G").

Numbers use ``num2words`` (ar, en, es, fr); Hindi numbers are spelled here (Indian grouping:
हज़ार, लाख, करोड़). Conventions: decimal comma in fr/es ("3,5"), decimal point in en/hi/ar
("3.5"); a separator followed by exactly three digits groups thousands ("1.000" in Spanish,
"1,000" in English, "1 000" in French); dates are day/month/year except in English (US:
month/day/year when it can be); ISO dates (2024-03-12) everywhere.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from reelforge.engines.base import Word
from reelforge.errors import SpecError

LANGUAGES: tuple[str, ...] = ("ar", "en", "es", "fr", "hi")

_WORDLIKE = re.compile(r"\w")
_DIGIT_MAP = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹०१२३४५६७८९", "0123456789" * 3)
_OPEN = "\"'“”«»()[]¿¡‘’„"
_CLOSE = ".,;:!?…\"'“”«»()[]‘’।॥؟،؛"


def _split(words: str) -> list[str]:
    return words.split()


# ---------------------------------------------------------------------------- words per language
_DECIMAL_MARK = {"fr": ",", "es": ",", "en": ".", "hi": ".", "ar": "."}
_POINT = {"fr": "virgule", "es": "coma", "en": "point", "hi": "दशमलव", "ar": "فاصل"}
_MINUS = {"fr": "moins", "es": "menos", "en": "minus", "hi": "माइनस", "ar": "ناقص"}
_PERCENT = {"fr": "pour cent", "es": "por ciento", "en": "percent", "hi": "प्रतिशत", "ar": "بالمئة"}
_MONTHS = {
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
    "en": "January February March April May June July August September October November December",
    "hi": "जनवरी फ़रवरी मार्च अप्रैल मई जून जुलाई अगस्त सितंबर अक्टूबर नवंबर दिसंबर",
    "ar": "يناير فبراير مارس أبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر",
    # Algeria, Morocco and Tunisia name the months after the French ones.
    "ar-maghreb": "جانفي فيفري مارس أفريل ماي جوان جويلية أوت سبتمبر أكتوبر نوفمبر ديسمبر",
}
_MAGHREB = frozenset({"dz", "ma", "tn"})


@functools.cache
def spoken_tables() -> dict[str, Any]:
    """What is said for currencies, abbreviations and units, per language, and the
    abbreviations whose period does not end a sentence: ``spoken.json`` beside this module
    (data, so a language or a currency is added without code)."""
    text = resources.files("reelforge.text").joinpath("spoken.json").read_text(encoding="utf-8")
    tables: dict[str, Any] = json.loads(text)
    return tables


_SPOKEN = spoken_tables()
# Currency code -> per language (singular, plural).
_CURRENCY_NAMES: dict[str, dict[str, tuple[str, str]]] = {
    code: {language: (names[0], names[1]) for language, names in by_language.items()}
    for code, by_language in _SPOKEN["currency_names"].items()
}
# How people write them (case-sensitive: "DA" is the dinar, "da" is a word).
_CURRENCY_SIGNS: dict[str, str] = _SPOKEN["currency_signs"]
# Amount and cents: "{amount} {unit}{joiner}{cents}".
_CENTS_JOINER = {"fr": " ", "en": " ", "es": " con ", "hi": " ", "ar": " و "}

# Whole tokens (case-sensitive) and what is said for them.
_ABBREVIATIONS: dict[str, dict[str, str]] = _SPOKEN["abbreviations"]
# Units said after a number ("5 km"); only after a number ("كم" alone is "how many").
_UNIT_WORDS: dict[str, dict[str, str]] = _SPOKEN["units"]
# Tokens that may follow a number and join it into one piece.
_UNITS = frozenset({"%", "٪", *_CURRENCY_SIGNS, *(u for w in _UNIT_WORDS.values() for u in w)})

# ---------------------------------------------------------------------------- Hindi numbers
_HINDI_0_99 = _split(
    "शून्य एक दो तीन चार पाँच छह सात आठ नौ "
    "दस ग्यारह बारह तेरह चौदह पंद्रह सोलह सत्रह अठारह उन्नीस "
    "बीस इक्कीस बाईस तेईस चौबीस पच्चीस छब्बीस सत्ताईस अट्ठाईस उनतीस "
    "तीस इकतीस बत्तीस तैंतीस चौंतीस पैंतीस छत्तीस सैंतीस अड़तीस उनतालीस "
    "चालीस इकतालीस बयालीस तैंतालीस चवालीस पैंतालीस छियालीस सैंतालीस अड़तालीस उनचास "
    "पचास इक्यावन बावन तिरपन चौवन पचपन छप्पन सत्तावन अट्ठावन उनसठ "
    "साठ इकसठ बासठ तिरसठ चौंसठ पैंसठ छियासठ सड़सठ अड़सठ उनहत्तर "
    "सत्तर इकहत्तर बहत्तर तिहत्तर चौहत्तर पचहत्तर छिहत्तर सतहत्तर अठहत्तर उन्यासी "
    "अस्सी इक्यासी बयासी तिरासी चौरासी पचासी छियासी सत्तासी अट्ठासी नवासी "
    "नब्बे इक्यानबे बानबे तिरानबे चौरानबे पंचानबे छियानबे सत्तानबे अट्ठानबे निन्यानबे"
)
_HINDI_SCALES = ((10**9, "अरब"), (10**7, "करोड़"), (10**5, "लाख"), (10**3, "हज़ार"), (100, "सौ"))
_HINDI_ORDINALS = {1: "पहला", 2: "दूसरा", 3: "तीसरा", 4: "चौथा", 6: "छठा"}


def _hindi(n: int) -> str:
    if n < 100:
        return _HINDI_0_99[n]
    words: list[str] = []
    for value, name in _HINDI_SCALES:
        if n >= value:
            words += [_hindi(n // value), name]
            n %= value
    if n:
        words.append(_HINDI_0_99[n])
    return " ".join(words)


# ---------------------------------------------------------------------------- numbers
def cardinal(n: int, language: str) -> str:
    """``n`` in words: cardinal(2024, "fr") == "deux mille vingt-quatre"."""
    if n < 0:
        return f"{_MINUS[language]} {cardinal(-n, language)}"
    if n >= 10**15:  # past any reading people use: digit by digit
        return " ".join(cardinal(int(d), language) for d in str(n))
    if language == "hi":
        return _hindi(n)
    from num2words import num2words

    # English num2words writes "one thousand, two hundred": a comma would make the voice pause.
    return str(num2words(n, lang=language)).replace(",", "")


def _apocope(words: str) -> str:
    """Spanish before a noun: "uno" -> "un", "veintiuno" -> "veintiún"."""
    if words.endswith("veintiuno"):
        return words[:-1].removesuffix("veintiun") + "veintiún"
    return words[:-1] if words.endswith("uno") else words


def ordinal(n: int, language: str, feminine: bool = False) -> str:
    if language == "hi":
        return _HINDI_ORDINALS.get(n, f"{_hindi(n)}वाँ")
    from num2words import num2words

    word = str(num2words(n, lang=language, to="ordinal"))
    if feminine and language == "fr" and word == "premier":
        return "première"
    if feminine and language == "es" and word.endswith("o"):
        return word[:-1] + "a"
    return word


def year(n: int, language: str) -> str:
    if language == "en":
        from num2words import num2words

        return str(num2words(n, lang="en", to="year"))
    if language == "hi" and 1100 <= n < 2000:  # उन्नीस सौ नब्बे
        rest = n % 100
        return f"{_hindi(n // 100)} सौ" + (f" {_hindi(rest)}" if rest else "")
    return cardinal(n, language)


def _digits(text: str, language: str) -> str:
    return " ".join(cardinal(int(d), language) for d in text)


def _parse_number(text: str, language: str) -> tuple[int, str] | None:
    """ "1 000,5" (fr) -> (1000, "5"); "1,000.25" (en) -> (1000, "25"); None if not a number.

    The language's decimal mark separates the fraction; the other mark, a space or a narrow
    space groups thousands when exactly three digits follow it (a lone "3.5" in French is
    still a decimal).
    """
    m = re.fullmatch(r"([+-]?)(\d+(?:[ \u00a0\u202f.,]\d+)*)", text)
    if m is None:
        return None
    sign, body = m.groups()
    groups = re.split(r"([ \u00a0\u202f.,])", body)
    numbers, seps = groups[0::2], groups[1::2]
    decimal = _DECIMAL_MARK[language]
    fraction = ""
    if seps and (seps[-1] == decimal or (seps[-1] in ".," and len(numbers[-1]) != 3)):
        fraction = numbers.pop()
        seps.pop()
        if len(set(seps)) > 1 or (seps and seps[0] in ".," and seps[0] == decimal):
            return None
    grouped = all(len(g) == 3 for g in numbers[1:]) and len(set(seps)) <= 1
    lakh = language == "hi" and all(s == "," for s in seps)  # 1,00,000
    if not grouped and not lakh:
        return None
    whole = int("".join(numbers))
    return (-whole if sign == "-" else whole), fraction


def _say_number(whole: int, fraction: str, language: str) -> str:
    said = cardinal(whole, language)
    if not fraction:
        return said
    if language in ("fr", "es", "ar") and not fraction.startswith("0") and len(fraction) <= 3:
        tail = cardinal(int(fraction), language)
    else:
        tail = _digits(fraction, language)
    return f"{said} {_POINT[language]} {tail}"


def _feminine_hour(word: str, language: str) -> str:
    """ "un" -> "une" (fr), "uno" -> "una" (es): hours are feminine."""
    if language == "fr" and (word == "un" or word.endswith(" et un")):
        return word[:-2] + "une"
    if language == "es" and word.endswith("uno"):
        return word[:-1] + "a"
    return word


def _money(amount: str, code: str, language: str) -> str | None:
    parsed = _parse_number(amount, language)
    if parsed is None:
        return None
    whole, fraction = parsed
    singular, plural = _CURRENCY_NAMES[code][language]
    unit = singular if abs(whole) == 1 else plural
    amount_words = cardinal(whole, language)
    said = f"{_apocope(amount_words) if language == 'es' else amount_words} {unit}"
    if fraction and int(fraction):
        cents = int(fraction.ljust(2, "0")[:2]) if len(fraction) <= 2 else int(fraction)
        said += f"{_CENTS_JOINER[language]}{cardinal(cents, language)}"
    return said


def _time(hours: int, minutes: int, language: str, following: str = "") -> str | None:
    if not (0 <= hours <= 24 and 0 <= minutes < 60):
        return None
    h = cardinal(hours, language)
    m = cardinal(minutes, language)
    if language == "fr":
        unit = "heure" if hours == 1 else "heures"
        return f"{_feminine_hour(h, language)} {unit}" + (f" {m}" if minutes else "")
    if language == "es":
        h = _feminine_hour(h, language)
        return f"{h} en punto" if not minutes else f"{h} y {m}"
    if language == "en":
        if not minutes:
            return f"{h} o'clock" if hours <= 12 else f"{h} hundred"
        return f"{h} oh {m}" if minutes < 10 else f"{h} {m}"
    if language == "hi":
        if following == "बजे":  # "14:30 बजे": the written बजे is said after us
            return h if not minutes else f"{h} {m}"
        return f"{h} बजे" if not minutes else f"{h} बजकर {m} मिनट"
    return h if not minutes else f"{h} و {m} دقيقة"  # ar


def _date(day: int, month: int, year_value: int | None, language: str, region: str) -> str | None:
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    key = "ar-maghreb" if language == "ar" and region in _MAGHREB else language
    name = _MONTHS[key].split()[month - 1]
    said_year = year(year_value, language) if year_value is not None else ""
    if language == "en":
        out = f"{name} {ordinal(day, 'en')}"
        return f"{out}, {said_year}" if said_year else out
    if language == "es":
        out = f"{cardinal(day, 'es')} de {name}"
        return f"{out} de {said_year}" if said_year else out
    said_day = ordinal(1, "fr") if language == "fr" and day == 1 else cardinal(day, language)
    return f"{said_day} {name} {said_year}".strip()


# ---------------------------------------------------------------------------- one token
_ORDINAL = {
    "fr": re.compile(r"(\d+)(er|re|ère|ere|e|ème|eme|nd|nde)"),
    "en": re.compile(r"(\d+)(st|nd|rd|th)"),
    "es": re.compile(r"(\d+)\.?([ºª°]|er)"),
}
_TIME = re.compile(r"(\d{1,2})(?::|h|H)(\d{2})?")
_DATE_DMY = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})")
_DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_YEAR_CONTEXT_EN = frozenset(
    _split(
        "in since from until till by of year before after around circa during back early late "
        "mid summer winter spring autumn fall"
    )
)


def _say(
    core: str, language: str, region: str, previous: str = "", following: str = ""
) -> str | None:
    """What is said for one written token (its surrounding punctuation removed), or None to
    leave it as written."""
    abbreviations = _ABBREVIATIONS[language]
    if core in abbreviations:
        return abbreviations[core]
    text = core.translate(_DIGIT_MAP)
    if not any(ch.isdigit() for ch in text):
        return None
    if m := _DATE_ISO.fullmatch(text):
        return _date(int(m[3]), int(m[2]), int(m[1]), language, region)
    if m := _DATE_DMY.fullmatch(text):
        first, second, year_text = int(m[1]), int(m[3]), m[4]
        year_value = int(year_text) + (2000 if len(year_text) == 2 else 0)
        if language == "en" and first <= 12:  # US order when it can be one
            first, second = second, first
        return _date(first, second, year_value, language, region)
    m = _TIME.fullmatch(text)
    if m and (m[2] or text[-1] in "hH") and (language in ("fr", "ar") or text[len(m[1])] == ":"):
        return _time(int(m[1]), int(m[2] or 0), language, following)
    if language in _ORDINAL and (m := _ORDINAL[language].fullmatch(text)):
        feminine = m[2] in ("re", "ère", "ere", "nde", "ª")
        if language == "es" and m[2] == "er":
            return "primer" if m[1] == "1" else "tercer" if m[1] == "3" else None
        return ordinal(int(m[1]), language, feminine)
    if m := re.fullmatch(r"(.*?\d)\s*([%٪])", text):
        parsed = _parse_number(m[1], language)
        if parsed is None:
            return None
        return f"{_say_number(*parsed, language)} {_PERCENT[language]}"
    money = _money_token(text, language)
    if money is not None:
        return money
    units = _UNIT_WORDS[language]
    if (m := re.fullmatch(r"(.*?\d)\s*(\D+)", text)) and m[2] in units:
        parsed = _parse_number(m[1], language)
        if parsed is None:
            return None
        return f"{_say_number(*parsed, language)} {units[m[2]]}"
    parsed = _parse_number(text, language)
    if parsed is None:
        return None
    whole, fraction = parsed
    if (
        not fraction
        and re.fullmatch(r"\d{4}", text)
        and 1100 <= whole <= 2099
        and (language != "en" or previous.lower() in _YEAR_CONTEXT_EN)
    ):
        return year(whole, language)
    said = _say_number(whole, fraction, language)
    if language == "es" and not fraction and following[:1].isalpha():  # "veintiún personas"
        return _apocope(said)
    return said


def _money_token(text: str, language: str) -> str | None:
    """ "12,50 €", "€12.50", "$5", "Rs. 500", "500DA" -> the amount and currency in words."""
    signs = sorted(_CURRENCY_SIGNS, key=len, reverse=True)
    for sign in signs:
        if text.endswith(sign) and text[: -len(sign)].strip()[-1:].isdigit():
            return _money(text[: -len(sign)].strip(), _CURRENCY_SIGNS[sign], language)
        if text.startswith(sign) and text[len(sign) :].strip()[:1].isdigit():
            return _money(text[len(sign) :].strip(), _CURRENCY_SIGNS[sign], language)
    return None


# ---------------------------------------------------------------------------- the text
@dataclass(frozen=True)
class Piece:
    """Written tokens and what is said for them (one or more words)."""

    written: tuple[str, ...]
    spoken: str


@dataclass(frozen=True)
class Normalised:
    text: str  # what the voice reads (pieces joined, line breaks kept)
    pieces: tuple[Piece, ...]
    language: str

    @property
    def changed(self) -> bool:
        return any(p.written != (p.spoken,) for p in self.pieces)


def _split_edges(token: str) -> tuple[str, str, str]:
    start, end = 0, len(token)
    while start < end and token[start] in _OPEN:
        start += 1
    while end > start and token[end - 1] in _CLOSE:
        end -= 1
    return token[:start], token[start:end], token[end:]


def _joinable(core: str) -> bool:
    return bool(re.fullmatch(r"[+-]?[\d٠-٩۰-۹०-९][\d٠-٩۰-۹०-९ \u00a0\u202f.,:/-]*", core))


def _group(tokens: list[str], language: str) -> list[tuple[str, ...]]:
    """Join tokens that are said together: a number and its unit ("10 %", "5 DA"), French
    and Spanish thousands written with spaces ("1 000 000"), "9 h 30" and "Rs. 500"."""
    groups: list[tuple[str, ...]] = []
    i = 0
    while i < len(tokens):
        group = [tokens[i]]
        core = _split_edges(tokens[i])[1]
        if core in _CURRENCY_SIGNS and i + 1 < len(tokens):  # "Rs. 500", "€ 5"
            lead, nxt, _ = _split_edges(tokens[i + 1])
            if not lead and _joinable(nxt):
                group.append(tokens[i + 1])
        while (_joinable(core) or core.endswith(" h")) and i + len(group) < len(tokens):
            lead, nxt, _ = _split_edges(tokens[i + len(group)])
            if lead or _split_edges(group[-1])[2]:  # punctuation between them: not one piece
                break
            if (
                language in ("fr", "es")
                and re.fullmatch(r"\d{3}(?:[.,]\d+)?", nxt)
                and re.search(r"(?:^| )\d{1,3}$", core)
            ):  # "1 000 000"
                core += " " + nxt
            elif nxt in ("h", "H") and re.fullmatch(r"\d{1,2}", core):  # "9 h 30"
                core += " h"
            elif core.endswith(" h") and re.fullmatch(r"\d{2}", nxt):
                core += " " + nxt
                group.append(tokens[i + len(group)])
                break
            elif nxt in _UNITS:
                group.append(tokens[i + len(group)])
                break
            else:
                break
            group.append(tokens[i + len(group)])
        groups.append(tuple(group))
        i += len(group)
    return groups


def normalise(text: str, language: str) -> Normalised:
    """What a voice of ``language`` should read for ``text``, with the written words of each
    spoken piece. Languages without rules here come back unchanged.

    A text with words to say that normalises to nothing sayable raises SpecError.
    """
    tag = language.strip().lower().replace("_", "-")
    primary, _, region = tag.partition("-")
    if primary not in LANGUAGES:
        pieces = tuple(Piece((t,), t) for t in text.split())
        return Normalised(text, pieces, primary)
    pieces_out: list[Piece] = []
    lines_out: list[str] = []
    for line in text.split("\n"):
        tokens = line.split()
        spoken_line: list[str] = []
        previous = ""
        groups = _group(tokens, primary)
        for k, group in enumerate(groups):
            lead, _, _ = _split_edges(group[0])
            _, _, tail = _split_edges(group[-1])
            joined = " ".join(group)
            core = joined[len(lead) : len(joined) - len(tail)]
            following = _split_edges(groups[k + 1][0])[1] if k + 1 < len(groups) else ""
            if tail.startswith(".") and core + "." in _ABBREVIATIONS[primary]:  # "M.", "etc."
                said: str | None = _ABBREVIATIONS[primary][core + "."]
                tail = tail[1:]
            else:
                compact = core.replace(" ", "") if _compact(core) else core
                said = _say(compact, primary, region, previous, "" if tail else following)
            spoken = " ".join(group) if said is None else f"{lead}{said}{tail}"
            pieces_out.append(Piece(group, spoken))
            spoken_line.append(spoken)
            previous = _split_edges(group[-1])[1]
        lines_out.append(" ".join(spoken_line))
    out = "\n".join(lines_out)
    if not _WORDLIKE.search(out):
        raise SpecError(
            f"nothing to say: {text.strip()[:60]!r} has no words a voice can read",
            hint="write the narration in words; punctuation and symbols alone are not spoken",
        )
    return Normalised(out, tuple(pieces_out), primary)


def _compact(core: str) -> bool:
    """ "9 h 30" and "10 %" are read as "9h30" and "10%"; "1 000 DA" keeps its spaces."""
    return bool(re.fullmatch(r"\d{1,2} ?[hH] ?(\d{2})?|.*\d [%٪]", core))


# ---------------------------------------------------------------------------- times back
def written_words(spoken: Sequence[Word], normalised: Normalised) -> tuple[Word, ...]:
    """The engine's timed words (one per whitespace token of ``normalised.text``) as the
    written words: each piece's written tokens share the time of its spoken words, split
    evenly when a piece joins several tokens. If the engine's word count differs, the spoken
    words are spread over the pieces in order, in proportion."""
    counts = [max(1, len(p.spoken.split())) for p in normalised.pieces]
    if not normalised.pieces:
        return ()
    if len(spoken) == sum(counts):
        spans = []
        k = 0
        for count in counts:
            chunk = spoken[k : k + count]
            spans.append((chunk[0].start_ms, chunk[-1].end_ms))
            k += count
    else:
        spans = _spread(spoken, counts)
    out: list[Word] = []
    for piece, (start, end) in zip(normalised.pieces, spans, strict=True):
        n = len(piece.written)
        for i, token in enumerate(piece.written):
            a = start + (end - start) * i // n
            b = start + (end - start) * (i + 1) // n
            out.append(Word(token, a, b))
    return tuple(out)


def _spread(spoken: Sequence[Word], counts: list[int]) -> list[tuple[int, int]]:
    if not spoken:
        return [(0, 0)] * len(counts)
    total = sum(counts)
    spans = []
    done = 0
    for count in counts:
        a = done * len(spoken) // total
        b = max(a + 1, (done + count) * len(spoken) // total)
        chunk = spoken[min(a, len(spoken) - 1) : min(b, len(spoken))]
        spans.append((chunk[0].start_ms, chunk[-1].end_ms))
        done += count
    # keep them in order and non-overlapping
    fixed = []
    prev = 0
    for a, b in spans:
        a = max(a, prev)
        b = max(b, a)
        fixed.append((a, b))
        prev = b
    return fixed
