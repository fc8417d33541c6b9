from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from reelforge.captions import (
    ass_color,
    caption_font_for,
    estimate_words,
    group_words,
    read_captions,
    shift,
    to_ass,
    to_srt,
    to_vtt,
    to_words_json,
    words_from_lines,
)
from reelforge.captions.lines import HOLD_MS
from reelforge.errors import MediaError, SpecError
from reelforge.timeline import CaptionLine, CaptionStyle, TimedWord

STORY = (
    "Deep beneath the surface of the ocean lies a world that few people ever see. "
    "Sunlight fades quickly as you descend, and within a few hundred meters the water "
    "turns a deep and endless blue. Yet life thrives here. Lantern fish flicker like tiny "
    "stars, drifting jellyfish trail ribbons of light, and giant squid hunt in the dark."
)


def spoken(text: str, ms_per_word: int = 300, gap_ms: int = 40) -> tuple[TimedWord, ...]:
    """Words as a TTS/ASR engine reports them: in order, with small gaps."""
    words = []
    at = 0
    for token in text.split():
        words.append(TimedWord(token, at, at + ms_per_word))
        at += ms_per_word + gap_ms
    return tuple(words)


# ----------------------------------------------------------------------------- grouping


def test_lines_respect_word_and_char_limits() -> None:
    lines = group_words(spoken(STORY))
    assert words_from_lines(lines) == spoken(STORY)  # nothing lost, nothing reordered
    for line in lines:
        assert 2 <= len(line.words) <= 7, line.text
        assert len(line.text) <= 40, line.text
        assert line.text == " ".join(w.text for w in line.words)


def test_lines_never_overlap_and_hold_after_last_word() -> None:
    lines = group_words(spoken(STORY))
    for line, following in zip(lines, lines[1:], strict=False):
        assert line.end_ms <= following.start_ms
    for index, line in enumerate(lines):
        assert line.start_ms == line.words[0].start_ms
        assert line.end_ms >= line.words[-1].end_ms
        limit = line.words[-1].end_ms + HOLD_MS
        if index + 1 < len(lines):
            limit = min(limit, lines[index + 1].start_ms)
        assert line.end_ms == limit
    # The last line gets the full hold; inner lines are cut at the next start (gap 40 ms).
    assert lines[-1].end_ms == lines[-1].words[-1].end_ms + HOLD_MS
    assert lines[0].end_ms == lines[1].start_ms


def test_sentence_punctuation_ends_lines() -> None:
    lines = group_words(spoken(STORY))
    # Every sentence end is a line end.
    sentence_ends = [w.text for w in spoken(STORY) if w.text[-1] in ".!?"]
    line_ends = [line.words[-1].text for line in lines]
    for end in sentence_ends:
        assert end in line_ends
    # A short sentence does not drag the next sentence's words onto its line.
    assert "Yet life thrives here." in [line.text for line in lines]


def test_comma_breaks_once_the_line_has_three_words() -> None:
    lines = group_words(spoken("Sunlight fades quickly, and within a few meters it is gone."))
    assert lines[0].text == "Sunlight fades quickly,"
    # Two words before a comma are not enough for a line of their own.
    lines = group_words(spoken("Sunlight fades, and within a few meters it is gone."))
    assert not lines[0].text.endswith("fades,")


def test_no_one_word_orphan_at_sentence_end() -> None:
    text = "one two three four five six seven eight."
    lines = group_words(spoken(text))
    assert [len(line.words) for line in lines] != [7, 1]
    assert all(len(line.words) >= 2 for line in lines)
    # A trailing one-word sentence rides with the previous line.
    lines = group_words(spoken("We are done here. Yes."))
    assert all(len(line.words) >= 2 for line in lines)


def test_lines_avoid_ending_with_a_word_that_leans_on_the_next() -> None:
    text = "la médiathèque de la place du Marché accueille enfin le public."
    lines = group_words(spoken(text), "fr")
    assert len(lines) == 2
    assert not lines[0].text.endswith(" du")
    # Only a preference: the fewest lines still come first.
    assert len(group_words(spoken("of the of the of the of the of the"), "en")) == 2


def test_a_word_longer_than_max_chars_stands_alone() -> None:
    long_word = "Pneumonoultramicroscopicsilicovolcanoconiosis"
    lines = group_words(spoken(f"They said {long_word} is a word."))
    assert long_word in [line.text for line in lines]
    for line in lines:
        assert len(line.text) <= 40 or len(line.words) == 1


def test_pause_breaks_a_line() -> None:
    words = (
        TimedWord("Wait", 0, 300),
        TimedWord("for", 340, 600),
        TimedWord("it", 640, 900),
        TimedWord("and", 2500, 2800),
        TimedWord("then", 2840, 3100),
        TimedWord("go", 3140, 3400),
    )
    assert [line.text for line in group_words(words)] == ["Wait for it", "and then go"]


def test_cjk_lines_join_without_spaces_and_stay_short() -> None:
    text = "今日はとても良い天気ですね。散歩に行きましょう、それから海を見に行きます。"
    words = estimate_words(text, 0, 6000)
    assert all(len(w.text) <= 2 for w in words)  # split per character, punctuation attached
    lines = group_words(words, "ja")
    assert "".join(line.text for line in lines) == text
    for line in lines:
        assert " " not in line.text
        assert len(line.text) <= 16
        assert line.text == "".join(w.text for w in line.words)
    assert lines[0].text == "今日はとても良い天気ですね。"


def test_rtl_flag_for_rtl_languages() -> None:
    words = spoken("مرحبا بكم في مطعمنا")
    assert all(line.rtl for line in group_words(words, "ar"))
    assert all(line.rtl for line in group_words(words, "fa-IR"))
    assert not any(line.rtl for line in group_words(spoken("hello there"), "en"))


def test_arabic_punctuation_breaks() -> None:
    lines = group_words(spoken("هل أنت بخير؟ نعم أنا بخير، شكرا لك"), "ar")
    assert lines[0].text == "هل أنت بخير؟"


def test_bad_words_are_rejected() -> None:
    with pytest.raises(SpecError):
        group_words([TimedWord("a", 500, 400)])
    with pytest.raises(SpecError) as info:
        group_words([TimedWord("a", 0, 500), TimedWord("b", 400, 900)])
    assert info.value.hint


def test_estimate_words_covers_the_interval_by_length() -> None:
    words = estimate_words("a verylongword b", 1000, 3000)
    assert [w.text for w in words] == ["a", "verylongword", "b"]
    assert words[0].start_ms == 1000 and words[-1].end_ms == 3000
    for left, right in zip(words, words[1:], strict=False):
        assert left.end_ms == right.start_ms
    durations = [w.end_ms - w.start_ms for w in words]
    assert durations[1] > 4 * durations[0]
    assert estimate_words("   ", 0, 100) == ()


def test_shift_moves_lines_and_words() -> None:
    lines = group_words(spoken("one two three four"))
    moved = shift(lines, 1500)
    assert moved[0].start_ms == lines[0].start_ms + 1500
    assert moved[0].words[-1].end_ms == lines[0].words[-1].end_ms + 1500
    assert shift(moved, -1500) == lines
    with pytest.raises(SpecError):
        shift(lines, -1)


# ----------------------------------------------------------------------------- writers

LINES = (
    CaptionLine(
        0, 1500, "Hello {there}", (TimedWord("Hello", 0, 500), TimedWord("{there}", 600, 1200))
    ),
    CaptionLine(3_723_004, 3_724_000, "a <b> & c\\N"),
)


def test_srt_format() -> None:
    srt = to_srt(LINES)
    assert srt.startswith("1\n00:00:00,000 --> 00:00:01,500\nHello {there}\n\n2\n")
    assert "01:02:03,004 --> 01:02:04,000" in srt


def test_vtt_format_escapes_markup() -> None:
    vtt = to_vtt(LINES)
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n")
    assert "01:02:03.004 --> 01:02:04.000\na &lt;b&gt; &amp; c\\N\n" in vtt


def _events(ass: str) -> list[list[str]]:
    return [
        row[len("Dialogue: ") :].split(",", 9)
        for row in ass.splitlines()
        if row.startswith("Dialogue:")
    ]


def test_ass_header_style_and_escaping() -> None:
    style = CaptionStyle(
        name="bold",
        position="top",
        margin_v_px=30,
        margin_h_px=12,
        color="#ff8000",
        outline_color="#00000080",
    )
    ass = to_ass(LINES, style, 320, 180)
    assert "PlayResX: 320\nPlayResY: 180\nWrapStyle: 0\nScaledBorderAndShadow: yes" in ass
    fields = next(r for r in ass.splitlines() if r.startswith("Style:"))[7:].split(",")
    assert fields[1] == "DejaVu Sans"
    assert fields[3] == "&H000080FF"  # #ff8000 opaque -> &HAABBGGRR
    assert fields[5] == "&H7F000000"  # alpha 0x80 -> transparency 0x7f
    assert fields[18:22] == ["8", "12", "12", "30"]  # top alignment, margins L R V
    events = _events(ass)
    assert events[0][1:3] == ["0:00:00.00", "0:00:01.50"]
    assert events[0][9] == "Hello \\{there\\}"
    assert events[1][1:3] == ["1:02:03.00", "1:02:04.00"]
    # A literal backslash-N must not become a line break.
    assert "\\N" not in events[1][9]


def test_ass_colour_conversion() -> None:
    assert ass_color("#ffd400") == "&H0000D4FF"
    assert ass_color("#00000099") == "&H66000000"
    with pytest.raises(SpecError):
        ass_color("yellow")


def test_ass_boxed_and_plain_styles() -> None:
    boxed = to_ass(LINES, CaptionStyle(name="boxed", box_color="#10203040"), 320, 180)
    fields = next(r for r in boxed.splitlines() if r.startswith("Style:"))[7:].split(",")
    assert fields[15] == "3" and fields[5] == "&HBF302010"
    assert fields[16] == "16"  # padding: a quarter of the 64 px font
    plain = to_ass(LINES, CaptionStyle(name="plain", outline_px=4), 320, 180)
    fields = next(r for r in plain.splitlines() if r.startswith("Style:"))[7:].split(",")
    assert fields[15] == "1" and fields[16] == "2"
    with pytest.raises(SpecError):
        to_ass(LINES, CaptionStyle(name="neon"), 320, 180)


def _kara_sum(text: str) -> int:
    return sum(int(v) for v in re.findall(r"\\kf?(\d+)", text))


def test_ass_karaoke_durations_add_up_to_the_line() -> None:
    lines = group_words(spoken(STORY, ms_per_word=287, gap_ms=33))
    style = CaptionStyle(name="karaoke", color="#ffffff", highlight_color="#ffd400")
    ass = to_ass(lines, style, 320, 180)
    fields = next(r for r in ass.splitlines() if r.startswith("Style:"))[7:].split(",")
    # Sung part (Primary) is the highlight colour; unsung part (Secondary) the text colour.
    assert fields[3] == "&H0000D4FF" and fields[4] == "&H00FFFFFF"
    events = _events(ass)
    assert len(events) == len(lines)
    for event, line in zip(events, lines, strict=True):
        start = [int(x) for x in re.split(r"[:.]", event[1])]
        end = [int(x) for x in re.split(r"[:.]", event[2])]
        duration_cs = (
            ((end[0] - start[0]) * 3600 + (end[1] - start[1]) * 60 + end[2] - start[2]) * 100
            + end[3]
            - start[3]
        )
        assert _kara_sum(event[9]) == duration_cs
        assert len(re.findall(r"\\kf\d+", event[9])) == len(line.words)


def test_ass_highlight_one_event_per_word_without_gaps() -> None:
    line = group_words(spoken("one two three"))[0]
    style = CaptionStyle(name="highlight", highlight_color="#ff0000", uppercase=True)
    events = _events(to_ass([line], style, 320, 180))
    assert len(events) == 3
    assert events[0][1] == "0:00:00.00" and events[-1][2] == "0:00:01.28"
    for left, right in zip(events, events[1:], strict=False):
        assert left[2] == right[1]  # contiguous: the line never blinks between words
    assert events[1][9] == "ONE {\\c&H0000FF&\\1a&H00&}TWO{\\c&HFFFFFF&\\1a&H00&} THREE"


def test_ass_rtl_highlight_keeps_reading_order_and_arabic_font() -> None:
    lines = group_words(spoken("مرحبا بكم في مطعمنا"), "ar")
    ass = to_ass(lines, CaptionStyle(name="highlight"), 320, 180)
    assert ",Noto Sans Arabic," in ass
    first = _events(ass)[0][9]
    plain = re.sub(r"\{[^}]*\}", "", first)
    assert plain == "مرحبا بكم في مطعمنا"
    assert first.index("مرحبا") < first.index("بكم")


def test_caption_font_for_scripts() -> None:
    assert caption_font_for("ar", "DejaVu Sans") == "Noto Sans Arabic"
    assert caption_font_for("hi-IN", "DejaVu Sans") == "Noto Sans Devanagari"
    assert caption_font_for("ja", "DejaVu Sans") == "Noto Sans CJK JP"
    assert caption_font_for("fr", "DejaVu Sans") == "DejaVu Sans"
    # Without a language hint the script of the text picks the font.
    ass = to_ass(group_words(spoken("नमस्ते दुनिया"), "hi"), CaptionStyle(), 320, 180)
    assert ",Noto Sans Devanagari," in ass


def test_words_json() -> None:
    data = json.loads(to_words_json(LINES[:1]))
    assert data == [
        {"text": "Hello", "start": 0.0, "end": 0.5, "line": 0},
        {"text": "{there}", "start": 0.6, "end": 1.2, "line": 0},
    ]


# ----------------------------------------------------------------------------- readers


def test_srt_round_trip(tmp_path: Path) -> None:
    lines = group_words(spoken(STORY))
    path = tmp_path / "subs.srt"
    path.write_text(to_srt(lines), encoding="utf-8")
    back = read_captions(path)
    assert [(x.start_ms, x.end_ms, x.text) for x in back] == [
        (x.start_ms, x.end_ms, x.text) for x in lines
    ]
    # No word times in SRT: they are estimated inside each line.
    for line in back:
        assert line.words[0].start_ms == line.start_ms and line.words[-1].end_ms == line.end_ms


def test_vtt_ass_json_round_trips(tmp_path: Path) -> None:
    lines = group_words(spoken(STORY))
    expected = [(x.start_ms, x.end_ms, x.text) for x in lines]
    vtt = tmp_path / "subs.vtt"
    vtt.write_text(to_vtt(lines), encoding="utf-8")
    assert [(x.start_ms, x.end_ms, x.text) for x in read_captions(vtt)] == expected
    words_json = tmp_path / "words.json"
    words_json.write_text(to_words_json(lines), encoding="utf-8")
    assert read_captions(words_json) == lines
    # ASS keeps centiseconds; karaoke syllables give the words back.
    ass = tmp_path / "subs.ass"
    ass.write_text(to_ass(lines, CaptionStyle(name="karaoke"), 320, 180), encoding="utf-8")
    back = read_captions(ass)
    assert [x.text for x in back] == [x.text for x in lines]
    assert [w.text for w in words_from_lines(back)] == [w.text for w in words_from_lines(lines)]
    for got, want in zip(words_from_lines(back), words_from_lines(lines), strict=True):
        assert abs(got.start_ms - want.start_ms) <= 10
    # One event per word (highlight) reads back as one line per caption.
    ass.write_text(to_ass(lines, CaptionStyle(name="highlight"), 320, 180), encoding="utf-8")
    assert [x.text for x in read_captions(ass)] == [x.text for x in lines]


def test_json_caption_lines_in_seconds(tmp_path: Path) -> None:
    path = tmp_path / "captions.json"
    path.write_text(
        json.dumps(
            [
                {"text": "Deep beneath the", "start": 0.25, "end": 1.5},
                {"text": "مرحبا بكم", "start": 1.5, "end": 2.0},
            ]
        )
    )
    lines = read_captions(path)
    assert (lines[0].start_ms, lines[0].end_ms, lines[0].text) == (250, 1500, "Deep beneath the")
    assert [w.text for w in lines[0].words] == ["Deep", "beneath", "the"]
    assert lines[1].rtl and not lines[0].rtl


def test_reader_errors(tmp_path: Path) -> None:
    with pytest.raises(MediaError) as missing:
        read_captions(tmp_path / "nope.srt")
    assert missing.value.hint
    bad = tmp_path / "bad.srt"
    bad.write_text("1\n00:00:01,000 --> 00:00:02,000\nhello\n\n2\nnot a time\nworld\n")
    with pytest.raises(SpecError, match=r"bad\.srt:6"):
        read_captions(bad)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('[{"text": "hi", "start": "soon", "end": 1}]')
    with pytest.raises(SpecError, match="start"):
        read_captions(bad_json)
    with pytest.raises(SpecError):
        read_captions(tmp_path / "subs.txt")


def test_ass_reader_strips_overrides(tmp_path: Path) -> None:
    path = tmp_path / "x.ass"
    path.write_text(
        "[Script Info]\nScriptType: v4.00+\n\n[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        "Comment: 0,0:00:00.00,0:00:09.00,Default,,0,0,0,,ignored\n"
        "Dialogue: 0,0:00:01.50,0:00:03.00,Default,,0,0,0,,{\\b1}Hello,{\\i1} world\\Nagain\n"
    )
    (line,) = read_captions(path)
    assert (line.start_ms, line.end_ms, line.text) == (1500, 3000, "Hello, world again")


# ----------------------------------------------------------------------------- real render


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
def test_burned_bottom_caption_appears_in_the_lower_part(tmp_path: Path) -> None:
    lines = group_words(spoken("Hello caption world", ms_per_word=250, gap_ms=0))
    style = CaptionStyle(name="bold", size_px=24, margin_v_px=12, outline_px=2)
    ass = tmp_path / "subs.ass"
    ass.write_text(to_ass(lines, style, 320, 180), encoding="utf-8")
    result = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=c=0x336699:s=320x180:d=1",
            "-vf",
            f"subtitles={ass}",
            "-ss",
            "0.5",
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    frame = np.frombuffer(result.stdout, np.uint8).reshape(180, 320, 3)
    white = (frame > 220).all(axis=2)
    assert white[120:].sum() > 100  # the glyphs of the bottom line
    assert white[:90].sum() == 0  # nothing in the upper half
