"""Caption files: SRT, WebVTT, ASS (five looks) and word JSON writers, and a reader for each.

Writers are pure ``lines -> str``. ASS is what the renderer burns in with libass; its times are
centiseconds, so every ASS time goes through one rounding (:func:`_cs`) and karaoke durations are
differences of rounded boundaries: they add up exactly to the Dialogue's duration.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reelforge.captions.lines import (
    HOLD_MS,
    estimate_words,
    group_words,
    line_words,
)
from reelforge.colours import parse_hex
from reelforge.errors import MediaError, SpecError
from reelforge.text.language import primary_language
from reelforge.timeline import CaptionLine, CaptionStyle, TimedWord

CAPTION_STYLES = ("plain", "bold", "karaoke", "highlight", "boxed")
_ALIGNMENT = {"bottom": 2, "center": 5, "top": 8}

# Families installed by fonts-noto-core / fonts-noto-cjk (checked with fc-list). libass would
# fall back through fontconfig anyway, but naming the family keeps the look consistent (one
# weight and design for the whole line) instead of whatever fontconfig picks per glyph.
_ARABIC = "Noto Sans Arabic"
_FONT_BY_LANGUAGE = {
    "ar": _ARABIC,
    "fa": _ARABIC,
    "ur": _ARABIC,
    "ps": _ARABIC,
    "sd": _ARABIC,
    "ug": _ARABIC,
    "ckb": _ARABIC,
    "he": "Noto Sans Hebrew",
    "iw": "Noto Sans Hebrew",
    "yi": "Noto Sans Hebrew",
    "hi": "Noto Sans Devanagari",
    "mr": "Noto Sans Devanagari",
    "ne": "Noto Sans Devanagari",
    "sa": "Noto Sans Devanagari",
    "mai": "Noto Sans Devanagari",
    "kok": "Noto Sans Devanagari",
    "ja": "Noto Sans CJK JP",
    # Simplified and traditional Chinese draw some shared ideographs differently.
    "zh": "Noto Sans CJK SC",
    "zh-tw": "Noto Sans CJK TC",
    "zh-hk": "Noto Sans CJK HK",
    "zh-hant": "Noto Sans CJK TC",
    "yue": "Noto Sans CJK HK",
    "ko": "Noto Sans CJK KR",
}


def caption_font_for(language: str, default: str) -> str:
    """The font family for captions in ``language``: a Noto family for non-Latin scripts,
    else ``default`` (the style's font)."""
    full = language.replace("_", "-").strip().lower()
    return _FONT_BY_LANGUAGE.get(full) or _FONT_BY_LANGUAGE.get(primary_language(full), default)


def script_language(text: str) -> str | None:
    """A language code standing for the dominant non-Latin script of ``text``, or None.

    Used to pick a font when the caller does not say which language the captions are in.
    """
    counts: dict[str, int] = {}
    has_kana = False
    for char in text:
        code = ord(char)
        if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
            key = "ar"
        elif 0x0590 <= code <= 0x05FF:
            key = "he"
        elif 0x0900 <= code <= 0x097F:
            key = "hi"
        elif 0x3040 <= code <= 0x30FF:
            key, has_kana = "ja", True
        elif 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
            key = "ko"
        elif 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
            key = "zh"
        else:
            continue
        counts[key] = counts.get(key, 0) + 1
    if not counts:
        return None
    if has_kana and "zh" in counts:
        # Japanese mixes kanji with kana; the kanji must not vote for a Chinese font.
        counts["ja"] += counts.pop("zh")
    return max(counts, key=lambda k: counts[k])


def _is_rtl_text(text: str) -> bool:
    return script_language(text) in ("ar", "he")


# ----------------------------------------------------------------------------- time formats


def _cs(ms: int) -> int:
    """Milliseconds -> ASS centiseconds, half up (the only rounding used for ASS)."""
    return (ms + 5) // 10


def _ass_time(ms: int) -> str:
    hours, rest = divmod(_cs(ms), 360000)
    minutes, rest = divmod(rest, 6000)
    seconds, cs = divmod(rest, 100)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{cs:02d}"


def _clock(ms: int, separator: str) -> str:
    hours, rest = divmod(ms, 3600000)
    minutes, rest = divmod(rest, 60000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


# ----------------------------------------------------------------------------- SRT / VTT


def _plain_text(text: str) -> str:
    # A blank line ends an SRT/VTT cue, so a caption may never contain one.
    return "\n".join(part.strip() for part in text.splitlines() if part.strip())


def to_srt(lines: Sequence[CaptionLine]) -> str:
    """SubRip: numbered cues with ``HH:MM:SS,mmm`` times."""
    blocks = []
    for index, line in enumerate(lines, start=1):
        times = f"{_clock(line.start_ms, ',')} --> {_clock(line.end_ms, ',')}"
        blocks.append(f"{index}\n{times}\n{_plain_text(line.text)}\n")
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(lines: Sequence[CaptionLine]) -> str:
    """WebVTT: ``HH:MM:SS.mmm`` times; ``& < >`` escaped as entities."""
    blocks = ["WEBVTT\n"]
    for line in lines:
        times = f"{_clock(line.start_ms, '.')} --> {_clock(line.end_ms, '.')}"
        blocks.append(f"{times}\n{_vtt_escape(_plain_text(line.text))}\n")
    return "\n".join(blocks)


def to_words_json(lines: Sequence[CaptionLine]) -> str:
    """Every word as ``{"text", "start", "end", "line"}``, times in seconds (3 decimals).

    ``line`` is the index of the caption line, so :func:`read_captions` rebuilds the same lines.
    """
    items: list[dict[str, Any]] = []
    for index, line in enumerate(lines):
        for word in line_words(line):
            items.append(
                {
                    "text": word.text,
                    "start": round(word.start_ms / 1000, 3),
                    "end": round(word.end_ms / 1000, 3),
                    "line": index,
                }
            )
    return json.dumps(items, ensure_ascii=False, indent=1) + "\n"


# ----------------------------------------------------------------------------- ASS


def _rgba(color: str) -> tuple[int, int, int, int]:
    return parse_hex(color, "caption colour")


def ass_color(color: str) -> str:
    """``'#rrggbb[aa]'`` -> ``'&HAABBGGRR'``; ASS alpha is transparency (00 = opaque)."""
    red, green, blue, alpha = _rgba(color)
    return f"&H{255 - alpha:02X}{blue:02X}{green:02X}{red:02X}"


def _override_color(color: str) -> str:
    """Inline override for the fill colour (``\\c`` takes no alpha; ``\\1a`` carries it)."""
    red, green, blue, alpha = _rgba(color)
    return f"\\c&H{blue:02X}{green:02X}{red:02X}&\\1a&H{255 - alpha:02X}&"


# A word joiner (U+2060) is invisible and has no width: put after a backslash it stops libass
# reading "\N", "\n", "\h" in the user's text as line breaks or hard spaces.
_WORD_JOINER = "\u2060"


def ass_escape(text: str) -> str:
    """Text -> ASS event text: braces escaped, backslash sequences defused, newlines -> ``\\N``."""
    text = text.replace("\\", "\\" + _WORD_JOINER)
    text = text.replace("{", "\\{").replace("}", "\\}")
    return "\\N".join(part.strip() for part in text.splitlines() if part.strip())


def _style_line(style: CaptionStyle, font: str) -> str:
    if style.name not in CAPTION_STYLES:
        raise SpecError(
            f"unknown caption style {style.name!r}",
            hint=f"use one of: {', '.join(CAPTION_STYLES)}",
        )
    if style.position not in _ALIGNMENT:
        raise SpecError(
            f"unknown caption position {style.position!r}",
            hint=f"use one of: {', '.join(_ALIGNMENT)}",
        )
    if "," in font:
        raise SpecError(
            f"font name {font!r} contains a comma",
            hint="give one font family name; ASS style fields are comma separated",
        )
    primary = ass_color(style.color)
    secondary = primary
    outline_colour = ass_color(style.outline_color)
    # Shadows are drawn in BackColour: half-transparent outline colour reads as a soft shadow.
    red, green, blue, _alpha = _rgba(style.outline_color)
    back = f"&H80{blue:02X}{green:02X}{red:02X}"
    border_style, outline = 1, style.outline_px
    if style.name == "plain":
        outline = max(1, style.outline_px // 2) if style.outline_px else 0
    elif style.name == "boxed":
        # BorderStyle 3 draws an opaque box in OutlineColour; Outline is its padding. A quarter
        # of the font size reads as a panel; an eighth hugged the glyphs and, on dark
        # backgrounds, was hard to see at all.
        border_style = 3
        outline_colour = ass_color(style.box_color)
        outline = max(style.outline_px, round(style.size_px * 0.25))
        back = outline_colour
    elif style.name == "karaoke":
        # libass draws the not-yet-sung part of a \kf syllable in SecondaryColour and the sung
        # part in PrimaryColour, so the sweep fills towards the highlight colour.
        primary = ass_color(style.highlight_color)
        secondary = ass_color(style.color)
    fields = [
        "Default",
        font,
        str(style.size_px),
        primary,
        secondary,
        outline_colour,
        back,
        "-1" if style.bold else "0",
        "0",
        "0",
        "0",
        "100",
        "100",
        "0",
        "0",
        str(border_style),
        str(outline),
        str(style.shadow_px),
        str(_ALIGNMENT[style.position]),
        str(style.margin_h_px),
        str(style.margin_h_px),
        str(style.margin_v_px),
        # Encoding -1 lets libass find each line's base direction (an RTL sentence keeps its
        # final punctuation at the left end); other values force left-to-right.
        "-1",
    ]
    return "Style: " + ",".join(fields)


def _joiner(line: CaptionLine, words: Sequence[TimedWord]) -> str:
    """ "" when the line's words are written without spaces (CJK), else " "."""
    return "" if len(words) > 1 and line.text == "".join(w.text for w in words) else " "


def _clamped_words(line: CaptionLine) -> list[TimedWord]:
    # Word times outside the line (hand-edited files) would make karaoke durations negative.
    out = []
    for word in line_words(line):
        start = min(max(word.start_ms, line.start_ms), line.end_ms)
        end = min(max(word.end_ms, start), line.end_ms)
        out.append(TimedWord(word.text, start, end))
    return out


def _dialogue(start_ms: int, end_ms: int, text: str) -> str:
    return f"Dialogue: 0,{_ass_time(start_ms)},{_ass_time(end_ms)},Default,,0,0,0,,{text}"


def _case(text: str, style: CaptionStyle) -> str:
    return text.upper() if style.uppercase else text


def _karaoke_text(line: CaptionLine, style: CaptionStyle) -> str:
    words = _clamped_words(line)
    joiner = _joiner(line, words)
    parts = []
    cursor = line.start_ms
    for index, word in enumerate(words):
        if word.start_ms > cursor:
            # Silence before the word: an empty syllable that fills nothing.
            parts.append(f"{{\\k{_cs(word.start_ms) - _cs(cursor)}}}")
        sweep = _cs(word.end_ms) - _cs(word.start_ms)
        parts.append(f"{{\\kf{sweep}}}{ass_escape(_case(word.text, style))}")
        cursor = word.end_ms
        if index + 1 < len(words):
            # The gap to the next word is the space itself, filled at once when it ends.
            following = words[index + 1].start_ms
            parts.append(f"{{\\k{_cs(following) - _cs(cursor)}}}{joiner}")
            cursor = following
    if line.end_ms > cursor:
        parts.append(f"{{\\k{_cs(line.end_ms) - _cs(cursor)}}}")
    return "".join(parts)


def _highlight_events(line: CaptionLine, style: CaptionStyle, prefix: str) -> list[str]:
    """One event per word: the whole line, the current word in the highlight colour.

    Each event lasts from its word's start to the next word's start, so during the gaps the
    previous word stays lit and the line never blinks. No size "pop": scaling one word would
    reflow the centred line and make every other word jitter sideways.
    """
    words = _clamped_words(line)
    joiner = _joiner(line, words)
    texts = [ass_escape(_case(w.text, style)) for w in words]
    lit = "{" + _override_color(style.highlight_color) + "}"
    unlit = "{" + _override_color(style.color) + "}"
    events = []
    for index, word in enumerate(words):
        start = line.start_ms if index == 0 else word.start_ms
        end = words[index + 1].start_ms if index + 1 < len(words) else line.end_ms
        if _cs(end) <= _cs(start):
            continue  # a word too short for one centisecond: the previous one stays lit
        shown = [lit + t + unlit if i == index else t for i, t in enumerate(texts)]
        events.append(_dialogue(start, end, prefix + joiner.join(shown)))
    return events


def to_ass(
    lines: Sequence[CaptionLine],
    style: CaptionStyle,
    width: int,
    height: int,
    fonts_hint: str | None = None,
) -> str:
    """An ASS script drawing ``lines`` in ``style`` on a ``width`` x ``height`` frame.

    ``fonts_hint`` is the captions' language (``"ar"``, ``"hi"``, ``"ja"``...): it picks a font
    family that has the script's glyphs (:func:`caption_font_for`). Without it the dominant
    script of the text decides; a line in another script gets its own font override.
    Karaoke and highlight write the words in reading (logical) order; libass does the bidi.
    """
    if width <= 0 or height <= 0:
        raise SpecError(
            f"caption canvas {width}x{height} is empty", hint="pass the video's width and height"
        )
    language = fonts_hint or script_language(" ".join(line.text for line in lines)) or ""
    font = caption_font_for(language, style.font)
    head = [
        "[Script Info]",
        "; written by reelforge",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        _style_line(style, font),
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    events: list[str] = []
    for line in lines:
        if line.end_ms <= line.start_ms:
            continue  # nothing to show; libass would drop it anyway
        line_font = caption_font_for(script_language(line.text) or "", font)
        prefix = f"{{\\fn{line_font}}}" if line_font != font and "," not in line_font else ""
        if style.name == "karaoke":
            text = prefix + _karaoke_text(line, style)
            events.append(_dialogue(line.start_ms, line.end_ms, text))
        elif style.name == "highlight":
            events.extend(_highlight_events(line, style, prefix))
        else:
            text = prefix + ass_escape(_case(line.text, style))
            events.append(_dialogue(line.start_ms, line.end_ms, text))
    return "\n".join(head + events) + "\n"


# ----------------------------------------------------------------------------- readers

_SRT_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})[,.](\d{1,3})"
_CUE = re.compile(rf"^\s*{_SRT_TIME}\s*-->\s*{_SRT_TIME}")
_TAG = re.compile(r"<[^>]*>")
_VTT_STAMP = re.compile(r"<((?:\d+:)?\d{1,2}:\d{2}\.\d{3})>")


def _ms(hours: str | None, minutes: str, seconds: str, fraction: str) -> int:
    # "5" after the comma means 500 ms, not 5 ms.
    millis = int(fraction.ljust(3, "0")[:3])
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + millis


def _parse_stamp(stamp: str) -> int:
    match = re.fullmatch(_SRT_TIME, stamp.strip())
    if not match:
        raise ValueError(stamp)
    return _ms(*match.groups())


def _line(start: int, end: int, text: str, words: tuple[TimedWord, ...] = ()) -> CaptionLine:
    if not words:
        words = estimate_words(text, start, end)
    return CaptionLine(start, end, text, words, _is_rtl_text(text))


def _bad(path: Path, number: int, what: str, hint: str) -> SpecError:
    return SpecError(f"{path}:{number}: {what}", hint=hint)


def _read_srt(path: Path, text: str) -> list[CaptionLine]:
    lines: list[CaptionLine] = []
    rows = text.splitlines()
    index = 0
    while index < len(rows):
        row = rows[index].strip()
        if not row:
            index += 1
            continue
        cue_row = index + 1 if row.isdigit() and index + 1 < len(rows) else index
        match = _CUE.match(rows[cue_row])
        if not match:
            raise _bad(
                path,
                cue_row + 1,
                f"expected 'HH:MM:SS,mmm --> HH:MM:SS,mmm', got {row!r}",
                "each SRT cue is: a number, a time line, text lines, a blank line",
            )
        start, end = _ms(*match.groups()[:4]), _ms(*match.groups()[4:])
        if end < start:
            raise _bad(path, cue_row + 1, "cue ends before it starts", "swap or fix the times")
        index = cue_row + 1
        body = []
        while index < len(rows) and rows[index].strip():
            body.append(rows[index].strip())
            index += 1
        caption = html.unescape(_TAG.sub("", " ".join(body))).strip()
        caption = re.sub(r"\{\\[^}]*\}", "", caption)  # SRT files sometimes carry ASS tags
        if caption:
            lines.append(_line(start, end, caption))
    return lines


def _read_vtt(path: Path, text: str) -> list[CaptionLine]:
    rows = text.splitlines()
    if not rows or not rows[0].lstrip("\ufeff").startswith("WEBVTT"):
        raise _bad(path, 1, "a WebVTT file must start with 'WEBVTT'", "add the WEBVTT header")
    lines: list[CaptionLine] = []
    index = 1
    while index < len(rows):
        if not rows[index].strip():
            index += 1
            continue
        block_start = index
        block = []
        while index < len(rows) and rows[index].strip():
            block.append(rows[index])
            index += 1
        if block[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        cue = 0 if "-->" in block[0] else 1
        match = _CUE.match(block[cue]) if cue < len(block) else None
        if not match:
            raise _bad(
                path,
                block_start + cue + 1,
                f"expected a cue time line, got {block[0]!r}",
                "cue times look like '00:01.000 --> 00:02.500'",
            )
        start, end = _ms(*match.groups()[:4]), _ms(*match.groups()[4:])
        if end < start:
            raise _bad(path, block_start + cue + 1, "cue ends before it starts", "fix the times")
        body = " ".join(row.strip() for row in block[cue + 1 :])
        words = _vtt_words(body, start, end)
        caption = html.unescape(_TAG.sub("", body)).strip()
        caption = re.sub(r"\s+", " ", caption)
        if caption:
            lines.append(_line(start, end, caption, words))
    return lines


def _vtt_words(body: str, start: int, end: int) -> tuple[TimedWord, ...]:
    """Word times from inline ``<00:00:01.500>`` stamps (karaoke-style VTT), else ()."""
    pieces = _VTT_STAMP.split(body)
    if len(pieces) < 3:
        return ()
    # pieces = [text before the first stamp, stamp, text, stamp, text, ...]
    segments = [(start, pieces[0])]
    segments += [(_parse_stamp(pieces[i]), pieces[i + 1]) for i in range(1, len(pieces), 2)]
    words: list[TimedWord] = []
    for position, (at, chunk) in enumerate(segments):
        until = segments[position + 1][0] if position + 1 < len(segments) else end
        spoken = html.unescape(_TAG.sub("", chunk)).strip()
        if spoken and start <= at <= until <= end:
            words.extend(estimate_words(spoken, at, until))
    return tuple(words)


_ASS_BLOCK = re.compile(r"(?<!\\)\{([^}]*)\}")
_ASS_KARAOKE = re.compile(r"\\(?:kf|ko|k|K)(\d+)")
_ASS_FIELDS = [
    "layer",
    "start",
    "end",
    "style",
    "name",
    "marginl",
    "marginr",
    "marginv",
    "effect",
    "text",
]


def _ass_plain(text: str) -> str:
    text = _ASS_BLOCK.sub("", text)
    text = re.sub(r"\\[Nn]", " ", text).replace("\\h", " ")
    text = text.replace("\\{", "{").replace("\\}", "}").replace("\\" + _WORD_JOINER, "\\")
    return re.sub(r"\s+", " ", text).strip()


def _ass_karaoke_words(text: str, start: int) -> tuple[TimedWord, ...]:
    """Words from ``{\\k..}`` syllables; empty or blank syllables are pauses."""
    if not _ASS_KARAOKE.search(text):
        return ()
    words: list[TimedWord] = []
    cursor_cs = 0
    position = 0
    pending: int | None = None
    for match in _ASS_BLOCK.finditer(text):
        if pending is not None:
            syllable = _ass_plain(text[position : match.start()])
            if syllable:
                end_cs = cursor_cs + pending
                words.append(TimedWord(syllable, start + cursor_cs * 10, start + end_cs * 10))
            cursor_cs += pending
            pending = None
        durations = _ASS_KARAOKE.findall(match.group(1))
        if durations:
            pending = int(durations[-1])
        position = match.end()
    if pending is not None:
        syllable = _ass_plain(text[position:])
        if syllable:
            end_cs = cursor_cs + pending
            words.append(TimedWord(syllable, start + cursor_cs * 10, start + end_cs * 10))
    return tuple(words)


def _read_ass(path: Path, text: str) -> list[CaptionLine]:
    section = ""
    fields = _ASS_FIELDS
    events: list[tuple[int, int, str, tuple[TimedWord, ...]]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        row = raw.strip()
        if row.startswith("[") and row.endswith("]"):
            section = row.lower()
            continue
        if section != "[events]":
            continue
        key, _, value = row.partition(":")
        if key == "Format":
            fields = [f.strip().lower() for f in value.split(",")]
            if "text" not in fields or fields[-1] != "text":
                raise _bad(path, number, "the Format line must end with Text", "fix the header")
        elif key == "Dialogue":
            values = value.split(",", len(fields) - 1)
            if len(values) != len(fields):
                raise _bad(
                    path,
                    number,
                    f"Dialogue has {len(values)} fields, Format names {len(fields)}",
                    "each Dialogue needs Layer, Start, End, Style, Name, margins, Effect, Text",
                )
            record = dict(zip(fields, values, strict=True))
            try:
                start = _parse_stamp(record["start"])
                end = _parse_stamp(record["end"])
            except (KeyError, ValueError):
                raise _bad(
                    path, number, "bad Dialogue time", "ASS times look like 0:00:01.50"
                ) from None
            body = record["text"]
            caption = _ass_plain(body)
            if caption and end >= start:
                events.append((start, end, caption, _ass_karaoke_words(body, start)))
    events.sort(key=lambda event: event[:2])
    return _merge_word_events(events)


def _merge_word_events(
    events: list[tuple[int, int, str, tuple[TimedWord, ...]]],
) -> list[CaptionLine]:
    """Back-to-back events with the same text (a highlight line: one event per word) -> one line.

    When there is one event per word, event ``i`` is word ``i``'s time.
    """
    lines: list[CaptionLine] = []
    index = 0
    while index < len(events):
        start, end, caption, words = events[index]
        run = [events[index]]
        while (
            index + len(run) < len(events)
            and events[index + len(run)][2] == caption
            and events[index + len(run)][0] == run[-1][1]
        ):
            run.append(events[index + len(run)])
        end = run[-1][1]
        tokens = estimate_words(caption, start, end)
        if len(run) > 1 and len(run) == len(tokens):
            words = tuple(TimedWord(t.text, e[0], e[1]) for t, e in zip(tokens, run, strict=True))
        lines.append(_line(start, end, caption, words))
        index += len(run)
    return lines


def _seconds(item: dict[str, Any], key: str, path: Path, position: int) -> int:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise SpecError(
            f"{path}: item {position}: {key!r} must be a number of seconds >= 0, got {value!r}",
            hint='items look like {"text": "Hello there", "start": 1.5, "end": 2.7}',
        )
    return round(value * 1000)


def _read_json(path: Path, text: str) -> list[CaptionLine]:
    from reelforge.spec.nesting import check_json_nesting

    check_json_nesting(text, str(path))  # json.loads recurses once per level
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _bad(path, error.lineno, f"invalid JSON: {error.msg}", "fix the JSON") from None
    if isinstance(data, dict):
        # Whisper-like output: {"segments": [...]} or {"words": [...]}.
        for key in ("segments", "captions", "lines", "words"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise SpecError(
            f"{path}: expected a list of caption objects",
            hint='write [{"text": "...", "start": 0.0, "end": 1.2}, ...] with times in seconds',
        )
    if data and all("word" in item for item in data):
        words = [_json_word(item, "word", path, i) for i, item in enumerate(data)]
        return list(group_words(words))
    if data and all("line" in item for item in data):
        # to_words_json output: words tagged with their line index.
        grouped: dict[int, list[TimedWord]] = {}
        for i, item in enumerate(data):
            grouped.setdefault(int(item["line"]), []).append(_json_word(item, "text", path, i))
        groups = sorted(grouped.values(), key=lambda words: words[0].start_ms)
        lines = []
        for index, words in enumerate(groups):
            joiner = "" if all(script_language(w.text) in ("ja", "zh") for w in words) else " "
            caption = joiner.join(w.text for w in words)
            # Line ends are not stored: the same hold rule as group_words gives them back.
            end = words[-1].end_ms + HOLD_MS
            if index + 1 < len(groups):
                end = max(min(end, groups[index + 1][0].start_ms), words[-1].end_ms)
            lines.append(_line(words[0].start_ms, end, caption, tuple(words)))
        return lines
    lines = []
    for i, item in enumerate(data):
        caption = item.get("text")
        if not isinstance(caption, str):
            raise SpecError(
                f"{path}: item {i}: missing 'text'",
                hint='items look like {"text": "Hello there", "start": 1.5, "end": 2.7}',
            )
        start, end = _seconds(item, "start", path, i), _seconds(item, "end", path, i)
        if end < start:
            raise SpecError(f"{path}: item {i}: ends before it starts", hint="fix the times")
        timed: tuple[TimedWord, ...] = ()
        if isinstance(item.get("words"), list):
            key = "word" if item["words"] and "word" in item["words"][0] else "text"
            timed = tuple(_json_word(w, key, path, i) for w in item["words"])
        if caption.strip():
            lines.append(_line(start, end, caption.strip(), timed))
    return lines


def _json_word(item: Any, key: str, path: Path, position: int) -> TimedWord:
    if not isinstance(item, dict) or not isinstance(item.get(key), str):
        raise SpecError(
            f"{path}: item {position}: a word needs a {key!r} string",
            hint=f'words look like {{"{key}": "hello", "start": 1.5, "end": 1.9}}',
        )
    start = _seconds(item, "start", path, position)
    end = _seconds(item, "end", path, position)
    return TimedWord(item[key].strip(), start, max(start, end))


_READERS = {
    ".srt": _read_srt,
    ".vtt": _read_vtt,
    ".ass": _read_ass,
    ".ssa": _read_ass,
    ".json": _read_json,
}


def read_captions(path: Path) -> tuple[CaptionLine, ...]:
    """Read an SRT, WebVTT, ASS or JSON caption file into lines (in time order).

    Lines without word times get :func:`estimate_words`. ASS karaoke syllables, VTT inline
    timestamps and JSON word lists keep their real word times.
    """
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise SpecError(
            f"{path}: unknown caption format {path.suffix!r}",
            hint=f"use one of: {', '.join(sorted(_READERS))}",
        )
    if not path.is_file():
        raise MediaError(f"caption file {path} not found", hint="check the path and file name")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise MediaError(
            f"{path} is not UTF-8 text ({error.reason} at byte {error.start})",
            hint="re-save the caption file as UTF-8",
        ) from None
    except OSError as error:
        raise MediaError(
            f"cannot read {path}: {error.strerror}", hint="check the file's permissions"
        ) from None
    lines = reader(path, text.replace("\r\n", "\n").replace("\r", "\n"))
    return tuple(sorted(lines, key=lambda line: (line.start_ms, line.end_ms)))
