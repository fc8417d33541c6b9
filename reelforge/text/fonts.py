"""Font lookup: a family name or a file path plus a language -> a font file that can show it.

fontconfig (``fc-match``/``fc-scan``) is the source of truth, the same database libass reads, so
burned captions (libass, by family name) and text sprites (Pillow, by file) use the same font.
When the requested family lacks the script of the language (Noto Sans has no Arabic, DejaVu no
Devanagari or CJK), the Noto family for that script is used instead of drawing empty boxes.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from pathlib import Path

from reelforge.errors import MediaError

log = logging.getLogger(__name__)

DEFAULT_FAMILY = "DejaVu Sans"
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
_NOTO_HINT = (
    "install the Noto fonts: apt-get install fonts-noto-core fonts-noto-cjk "
    "(list installed families with: fc-list : family)"
)

# The Noto families to fall back on, best first, by primary language tag. Languages absent here
# (Latin, Cyrillic, Greek) are covered by Noto Sans itself.
_SCRIPT_FAMILIES: dict[str, tuple[str, ...]] = {
    "ar": ("Noto Sans Arabic", "Noto Naskh Arabic"),
    "fa": ("Noto Sans Arabic", "Noto Naskh Arabic"),
    "ur": ("Noto Sans Arabic", "Noto Nastaliq Urdu"),
    "ps": ("Noto Sans Arabic", "Noto Naskh Arabic"),
    "ug": ("Noto Sans Arabic", "Noto Naskh Arabic"),
    "he": ("Noto Sans Hebrew",),
    "yi": ("Noto Sans Hebrew",),
    "hi": ("Noto Sans Devanagari",),
    "mr": ("Noto Sans Devanagari",),
    "ne": ("Noto Sans Devanagari",),
    "sa": ("Noto Sans Devanagari",),
    "bn": ("Noto Sans Bengali",),
    "as": ("Noto Sans Bengali",),
    "pa": ("Noto Sans Gurmukhi",),
    "gu": ("Noto Sans Gujarati",),
    "ta": ("Noto Sans Tamil",),
    "te": ("Noto Sans Telugu",),
    "kn": ("Noto Sans Kannada",),
    "ml": ("Noto Sans Malayalam",),
    "si": ("Noto Sans Sinhala",),
    "th": ("Noto Sans Thai",),
    "lo": ("Noto Sans Lao",),
    "km": ("Noto Sans Khmer",),
    "my": ("Noto Sans Myanmar",),
    "ka": ("Noto Sans Georgian",),
    "hy": ("Noto Sans Armenian",),
    "am": ("Noto Sans Ethiopic",),
    "ti": ("Noto Sans Ethiopic",),
    "ja": ("Noto Sans CJK JP",),
    "ko": ("Noto Sans CJK KR",),
    "zh": ("Noto Sans CJK SC",),
    "zh-tw": ("Noto Sans CJK TC",),
    "zh-hk": ("Noto Sans CJK HK",),
}


def normalize_language(language: str) -> str:
    """``"zh_Hant"`` -> ``"zh-tw"``, ``"ar-EG"`` -> ``"ar"``: the key of the tables above."""
    tag = (language or "en").strip().lower().replace("_", "-")
    primary, _, rest = tag.partition("-")
    if primary == "zh":
        if rest in ("tw", "hant", "hant-tw", "mo"):
            return "zh-tw"
        if rest in ("hk", "hant-hk"):
            return "zh-hk"
        return "zh"
    return primary


def _fontconfig_lang(language: str) -> str:
    # fontconfig names Chinese orthographies by region ("zh-cn"), everything else by language.
    return {"zh": "zh-cn"}.get(language, language)


def _run_fc(args: list[str]) -> str:
    if shutil.which(args[0]) is None:
        raise MediaError(
            f"{args[0]} is not installed, so fonts cannot be looked up",
            hint="apt-get install fontconfig fonts-dejavu-core fonts-noto-core",
        )
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)
    except subprocess.TimeoutExpired as exc:
        raise MediaError(f"{args[0]} timed out", hint="run fc-cache -f and retry") from exc
    return done.stdout


@functools.lru_cache(maxsize=256)
def _match(pattern: str) -> tuple[str, str, frozenset[str]]:
    """fc-match -> (file, family, languages covered)."""
    out = _run_fc(["fc-match", "-f", "%{file}\n%{family[0]}\n%{lang}\n", pattern])
    lines = out.split("\n")
    if len(lines) < 3 or not lines[0]:
        raise MediaError(f"fontconfig found no font for {pattern!r}", hint=_NOTO_HINT)
    return lines[0], lines[1], frozenset(lines[2].split("|"))


@functools.lru_cache(maxsize=256)
def _scan(path: str) -> tuple[str, frozenset[str]]:
    """fc-scan of a font file -> (family of its first face, languages covered)."""
    out = _run_fc(["fc-scan", "-f", "%{family[0]}\n%{lang}\n", path])
    lines = out.split("\n")
    if len(lines) < 2 or not lines[0]:
        raise MediaError(
            f"not a readable font file: {path}", hint="give a .ttf/.otf/.ttc font file"
        )
    return lines[0], frozenset(lines[1].split("|"))


def _covers(langs: frozenset[str], language: str) -> bool:
    tag = _fontconfig_lang(language)
    return tag in langs or any(lang.startswith(tag + "-") for lang in langs)


def _is_path(family: str) -> bool:
    return "/" in family or "\\" in family or family.lower().endswith(FONT_SUFFIXES)


def _pattern(family: str, bold: bool) -> str:
    # weight=bold rather than style=Bold: style names vary by foundry, weights do not.
    return f"{family}:weight={'bold' if bold else 'regular'}"


def _script_fallback(language: str, bold: bool, requested: str) -> tuple[Path, str]:
    candidates = _SCRIPT_FAMILIES.get(language) or _SCRIPT_FAMILIES.get(
        language.partition("-")[0], ("Noto Sans", DEFAULT_FAMILY)
    )
    for candidate in candidates:
        file, family, langs = _match(_pattern(candidate, bold))
        if family.lower() == candidate.lower() and _covers(langs, language):
            return Path(file), family
    raise MediaError(
        f"no installed font shows language {language!r} (font {requested!r} lacks its script)",
        hint=_NOTO_HINT,
    )


@functools.lru_cache(maxsize=256)
def _resolve(family: str | None, language: str, bold: bool) -> tuple[Path, str]:
    language = normalize_language(language)
    requested = family.strip() if family and family.strip() else DEFAULT_FAMILY
    if _is_path(requested):
        path = Path(requested).expanduser()
        if not path.is_file():
            raise MediaError(
                f"font file not found: {path}",
                hint="give an existing .ttf/.otf/.ttc file or an installed family name "
                "(fc-list : family); apt-get install fonts-noto-core",
            )
        name, langs = _scan(str(path))
        if _covers(langs, language):
            return path, name
        log.warning("font %s lacks language %r; using a Noto font for it", path, language)
        return _script_fallback(language, bold, requested)
    file, matched, langs = _match(_pattern(requested, bold))
    if matched.lower() != requested.lower():
        # fontconfig substitutes silently; say so, since the spec named a font we do not have.
        log.warning("font family %r is not installed; fontconfig chose %r", requested, matched)
    if _covers(langs, language):
        return Path(file), matched
    return _script_fallback(language, bold, requested)


def font_file(family: str | None, language: str = "en", bold: bool = False) -> Path:
    """The font file to draw ``language`` with, for a family name or a font file path.

    ``None`` means the default family (DejaVu Sans). A family lacking the language's script is
    replaced by the Noto family for that script. Raises :class:`MediaError` for a missing file
    or when no installed font covers the language.
    """
    path, _ = _resolve(family, language, bold)
    if not path.is_file():
        raise MediaError(f"font file not found: {path}", hint=_NOTO_HINT)
    return path


def family_for(language: str, family: str | None = None, bold: bool = False) -> str:
    """The font family name to give libass (ASS ``Fontname``) for ``language``."""
    _, name = _resolve(family, language, bold)
    return name


@functools.lru_cache(maxsize=64)
def face_index(path: Path, language: str = "en") -> int:
    """Which face of a font collection (.ttc) suits ``language``: the JP, KR, SC, TC or HK one.

    CJK collections hold one face per region; the first (JP) draws Chinese characters with
    Japanese glyph shapes, so Chinese and Korean pick their own face. 0 for single fonts.
    """
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    region = {"ja": "JP", "ko": "KR", "zh": "SC", "zh-tw": "TC", "zh-hk": "HK"}.get(
        normalize_language(language)
    )
    if region is None:
        return 0
    out = _run_fc(["fc-scan", "-f", "%{index}|%{family[0]}\n", str(path)])
    for line in out.splitlines():
        index, _, name = line.partition("|")
        if name.endswith(f" {region}") and "Mono" not in name and index.isdigit():
            return int(index)
    return 0
