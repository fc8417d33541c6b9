"""The languages captions can be translated into, and their codes in each system that names them.

A caption track is asked for by its ISO 639-1 code (``fr``, ``ar``); the MP4's subtitle track
is tagged with the ISO 639-2/T code (what ISO/IEC 14496-12 asks of an ``mdhd`` box: ``fra``,
``ara``); NLLB-200 names it by language and script (``fra_Latn``, ``arb_Arab``); multilingual
Marian (OPUS-MT) models take a ``>>fra<<`` token. Pure data, no import: a storyboard's
``translate`` field is checked against this table before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from reelforge.errors import SpecError


@dataclass(frozen=True)
class TranslationLanguage:
    code: str  # ISO 639-1, what users write ("fr")
    name: str  # English name ("French")
    iso639_2: str  # ISO 639-2/T ("fra"): the MP4 track's language tag
    nllb: str  # NLLB-200's code ("fra_Latn")


def _table(*rows: tuple[str, str, str, str]) -> dict[str, TranslationLanguage]:
    return {row[0]: TranslationLanguage(*row) for row in rows}


TRANSLATION_LANGUAGES: dict[str, TranslationLanguage] = _table(
    ("am", "Amharic", "amh", "amh_Ethi"),
    ("ar", "Arabic", "ara", "arb_Arab"),
    ("bn", "Bengali", "ben", "ben_Beng"),
    ("cs", "Czech", "ces", "ces_Latn"),
    ("da", "Danish", "dan", "dan_Latn"),
    ("de", "German", "deu", "deu_Latn"),
    ("el", "Greek", "ell", "ell_Grek"),
    ("en", "English", "eng", "eng_Latn"),
    ("es", "Spanish", "spa", "spa_Latn"),
    ("fa", "Persian", "fas", "pes_Arab"),
    ("fi", "Finnish", "fin", "fin_Latn"),
    ("fr", "French", "fra", "fra_Latn"),
    ("gu", "Gujarati", "guj", "guj_Gujr"),
    ("ha", "Hausa", "hau", "hau_Latn"),
    ("he", "Hebrew", "heb", "heb_Hebr"),
    ("hi", "Hindi", "hin", "hin_Deva"),
    ("hu", "Hungarian", "hun", "hun_Latn"),
    ("id", "Indonesian", "ind", "ind_Latn"),
    ("it", "Italian", "ita", "ita_Latn"),
    ("ja", "Japanese", "jpn", "jpn_Jpan"),
    ("kab", "Kabyle", "kab", "kab_Latn"),
    ("ko", "Korean", "kor", "kor_Hang"),
    ("ml", "Malayalam", "mal", "mal_Mlym"),
    ("mr", "Marathi", "mar", "mar_Deva"),
    ("ms", "Malay", "msa", "zsm_Latn"),
    ("nl", "Dutch", "nld", "nld_Latn"),
    ("no", "Norwegian", "nor", "nob_Latn"),
    ("pa", "Punjabi", "pan", "pan_Guru"),
    ("pl", "Polish", "pol", "pol_Latn"),
    ("pt", "Portuguese", "por", "por_Latn"),
    ("ro", "Romanian", "ron", "ron_Latn"),
    ("ru", "Russian", "rus", "rus_Cyrl"),
    ("sv", "Swedish", "swe", "swe_Latn"),
    ("sw", "Swahili", "swa", "swh_Latn"),
    ("ta", "Tamil", "tam", "tam_Taml"),
    ("te", "Telugu", "tel", "tel_Telu"),
    ("th", "Thai", "tha", "tha_Thai"),
    ("tr", "Turkish", "tur", "tur_Latn"),
    ("uk", "Ukrainian", "ukr", "ukr_Cyrl"),
    ("ur", "Urdu", "urd", "urd_Arab"),
    ("vi", "Vietnamese", "vie", "vie_Latn"),
    ("yo", "Yoruba", "yor", "yor_Latn"),
    ("zh", "Chinese (simplified)", "zho", "zho_Hans"),
)
"""ISO 639-1 code -> the language's codes, for every caption translation target."""


def translation_language(code: str) -> TranslationLanguage:
    """The table's row for ``code`` ("fr", "FR", "fr-FR" all give French); an unknown code
    is a :class:`SpecError` listing the known ones."""
    key = code.strip().lower().replace("_", "-")
    found = TRANSLATION_LANGUAGES.get(key) or TRANSLATION_LANGUAGES.get(key.split("-")[0])
    if found is None:
        raise SpecError(
            f"cannot translate captions into {code!r}: not a language code reelforge knows",
            hint="use an ISO 639-1 code: " + ", ".join(TRANSLATION_LANGUAGES),
        )
    return found
