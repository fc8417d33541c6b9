"""Captions: timed words -> short lines (CJK and RTL aware), SRT/VTT/ASS/JSON writers, readers.

``group_words`` makes the lines the timeline carries; ``to_ass`` turns them into the script the
renderer burns in with libass (plain, bold, boxed, karaoke, highlight looks).
"""

from __future__ import annotations

from reelforge.captions.formats import (
    CAPTION_STYLES,
    ass_color,
    ass_escape,
    caption_font_for,
    read_captions,
    script_language,
    to_ass,
    to_srt,
    to_vtt,
    to_words_json,
)
from reelforge.captions.lines import (
    estimate_words,
    group_words,
    line_words,
    shift,
    words_from_lines,
)
from reelforge.text.language import is_rtl as is_rtl_language

__all__ = [
    "CAPTION_STYLES",
    "ass_color",
    "ass_escape",
    "caption_font_for",
    "estimate_words",
    "group_words",
    "is_rtl_language",
    "line_words",
    "read_captions",
    "script_language",
    "shift",
    "to_ass",
    "to_srt",
    "to_vtt",
    "to_words_json",
    "words_from_lines",
]
