"""End-to-end: storyboards rendered to MP4 at preview size, checked as a viewer would.

Outputs are checked with ffprobe facts (duration within one frame of the timeline, H.264 + AAC,
the frame size of each format, the moov atom before mdat) and decoded frames and samples
(captions visible where the timeline puts them, a transition frame mixing both scenes, sound
where the narration is and silence in the lead-in). Most renders use the fake voice (its speech
is a tone per word) because timing, not the voice, is the point; one uses the real Piper voice
and procedural music, and the shipped examples render with their real engines.
"""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fakes import (  # noqa: F401  (fixtures)
    FakeMusic,
    fake_music,
    fake_voice,
    pause_after_ms,
    word_ms,
)
from PIL import Image

from reelforge.media.ffmpeg import run_ffprobe
from reelforge.media.probe import audio_levels, count_frames, decode_frame, loudness, probe
from reelforge.pipeline import MakeResult, make, render, write_sidecars
from reelforge.spec.load import load_spec
from reelforge.spec.parse import build_storyboard
from reelforge.timeline import Timeline

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FAKE = "fake-adult-male"
SIZES = {"16:9": (320, 180), "9:16": (180, 320), "1:1": (180, 180)}

SCENES = [
    "Fresh bread every morning, baked before the city wakes.",
    "Come early. The best tables go fast!",
]


# --------------------------------------------------------------------------- helpers


def top_level_boxes(path: Path) -> list[str]:
    """The names of an MP4's top-level boxes, in file order."""
    names = []
    with path.open("rb") as f:
        while len(head := f.read(8)) == 8:
            size, name = struct.unpack(">I4s", head)
            names.append(name.decode("latin-1"))
            if size == 1:  # 64-bit size follows
                size = struct.unpack(">Q", f.read(8))[0] - 8
            elif size == 0:  # to the end of the file
                break
            f.seek(size - 8, 1)
    return names


def solid_png(path: Path, rgb: tuple[int, int, int], size: tuple[int, int] = (320, 180)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, rgb).save(path)
    return path


def check_output(result: MakeResult, size: tuple[int, int]) -> None:
    """The facts every render must have: streams, size, duration, faststart, sidecars."""
    timeline = result.timeline
    video = result.video
    info = probe(video)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height) == size == (timeline.width, timeline.height)
    assert info.pix_fmt == "yuv420p"
    assert info.fps == timeline.fps
    expected_ms = timeline.frames * 1000 / timeline.fps
    assert abs(info.duration_ms - expected_ms) <= 1000 / timeline.fps, "more than a frame off"
    assert count_frames(video) == timeline.frames
    boxes = top_level_boxes(video)
    assert boxes.index("moov") < boxes.index("mdat"), f"not faststart: {boxes}"

    stem = video.with_suffix("")
    if timeline.captions:
        for ext in ("srt", "vtt", "ass", "words.json"):
            assert Path(f"{stem}.{ext}").is_file(), ext
        assert set(result.captions) == {"srt", "vtt", "ass", "words.json"}
        assert Path(f"{stem}.srt").read_text(encoding="utf-8").startswith("1\n")
        assert Path(f"{stem}.vtt").read_text(encoding="utf-8").startswith("WEBVTT")
    thumbnail = cv2.imread(str(result.thumbnail))
    assert thumbnail is not None and result.thumbnail == video.with_suffix(".jpg")
    assert thumbnail.mean() > 25, "the thumbnail is black"
    manifest = json.loads(video.with_suffix(".json").read_text(encoding="utf-8"))
    assert manifest["video"] == video.name
    assert Timeline.from_dict(manifest["timeline"]) == timeline
    if any(t.role == "narration" for t in timeline.audio):
        assert "voice" in manifest["engines"]
    # The work folder is gone: only the video and its sidecars are left.
    assert not [p for p in video.parent.iterdir() if p.name.startswith(".")]


def caption_pixels(frame: np.ndarray, band: tuple[float, float]) -> int:
    """Near-white pixels in a horizontal band (fractions of the height): caption text."""
    height = frame.shape[0]
    rows = frame[int(band[0] * height) : int(band[1] * height)]
    return int(np.count_nonzero(rows.min(axis=2) > 200))


def narration(timeline: Timeline) -> list[tuple[float, float]]:
    """(start, end) in seconds of each narration track, from the caption words."""
    words = [w for line in timeline.captions for w in line.words]
    spans: list[tuple[float, float]] = []
    for track in (t for t in timeline.audio if t.role == "narration"):
        mine = [w for w in words if w.start_ms >= track.start_ms]
        following = [
            t.start_ms
            for t in timeline.audio
            if t.role == "narration" and t.start_ms > track.start_ms
        ]
        if following:
            mine = [w for w in mine if w.end_ms <= min(following)]
        spans.append((mine[0].start_ms / 1000, mine[-1].end_ms / 1000))
    return spans


def _board(scenes: list[Any], **fields: Any) -> Any:
    data: dict[str, Any] = {"voice": FAKE, "resolution": 180, "music": "none", **fields}
    return build_storyboard({**data, "scenes": scenes})


# --------------------------------------------------------------------------- fake-voice renders


@pytest.mark.usefixtures("fake_voice", "fake_music")
def test_landscape_with_music_and_captions(tmp_path: Path) -> None:
    board = _board(SCENES, template="restaurant", music="calm")
    result = make(board, tmp_path / "out" / "video.mp4", preview=True, cache_dir=tmp_path / "cache")
    check_output(result, SIZES["16:9"])
    timeline = result.timeline
    assert [t.role for t in timeline.audio] == ["narration", "narration", "music"]
    assert abs(loudness(result.video) - -14.0) <= 1.5  # normalised to the target
    for start, end in narration(timeline):
        assert audio_levels(result.video, start, end - start) > -30
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert manifest["engines"]["voice"]["name"] == "fake"
    assert manifest["engines"]["music"]["name"] == "fake"
    assert manifest["size"] == [320, 180]


@pytest.mark.usefixtures("fake_voice", "fake_music")
def test_music_is_ducked_under_the_narration(tmp_path: Path) -> None:
    """Music alone in the lead-in, then in a pause inside the narration: ducking (sidechain,
    400 ms release) keeps it down in the pause; with ducking off it stays as loud."""
    text = "Listen to the music now. It comes back after the voice."
    gaps = {}
    for duck in (True, False):
        board = _board([text], music={"mood": "calm", "duck": duck}, captions=False)
        result = make(
            board, tmp_path / f"duck-{duck}.mp4", preview=True, cache_dir=tmp_path / "cache"
        )
        timeline = result.timeline
        start = next(t for t in timeline.audio if t.role == "narration").start_ms / 1000
        words = text.split()
        spoken = sum(word_ms(w) for w in words[:5]) + sum(pause_after_ms(w) for w in words[:4])
        pause = start + spoken / 1000  # the 460 ms pause after "now." starts here
        assert pause_after_ms(words[4]) >= 400
        alone = audio_levels(result.video, 0.05, start - 0.1)
        in_pause = audio_levels(result.video, pause + 0.1, 0.2)
        gaps[duck] = alone - in_pause
    assert gaps[True] > 6, f"music not ducked in the pause: {gaps}"
    assert abs(gaps[False]) < 2, f"music level changed without ducking: {gaps}"


@pytest.mark.usefixtures("fake_voice")
def test_captions_are_burned_where_the_timeline_puts_them(tmp_path: Path) -> None:
    # A dark, still picture: any near-white pixel in the caption band is caption text.
    dark = solid_png(tmp_path / "dark.png", (20, 30, 60))
    scenes = [
        {"narration": text, "visual": {"path": str(dark), "motion": "none"}} for text in SCENES
    ]
    board = _board(scenes, grade="none", captions={"style": "bold", "position": "bottom"})
    result = make(board, tmp_path / "captioned.mp4", preview=True, cache_dir=tmp_path / "cache")
    check_output(result, SIZES["16:9"])
    timeline = result.timeline
    plain = tmp_path / "plain" / "uncaptioned.mp4"
    render(timeline.replace(burn_captions=False), plain)

    band = (0.55, 1.0)
    for line in timeline.captions:
        t = (line.start_ms + line.end_ms) / 2000
        with_text = decode_frame(result.video, t)
        without = decode_frame(plain, t)
        assert caption_pixels(with_text, band) > 40, f"no caption at {t:.2f} s: {line.text!r}"
        assert caption_pixels(without, band) == 0
        diff = np.abs(with_text.astype(int) - without.astype(int)).mean(axis=2)
        height = diff.shape[0]
        assert diff[int(band[0] * height) :].mean() > 4 * diff[: height // 3].mean() + 1
    # Before the voice starts, and between the scenes, no caption is shown.
    first = timeline.captions[0].start_ms / 1000
    assert caption_pixels(decode_frame(result.video, first / 3), band) == 0
    gap = (timeline.captions[-2].end_ms + timeline.captions[-1].start_ms) / 2000
    if timeline.captions[-1].start_ms - timeline.captions[-2].end_ms > 200:
        assert caption_pixels(decode_frame(result.video, gap), band) == 0


@pytest.mark.parametrize("style", ["karaoke", "highlight"])
@pytest.mark.usefixtures("fake_voice")
def test_word_by_word_caption_styles_follow_the_voice(tmp_path: Path, style: str) -> None:
    """Karaoke fills the line in the highlight colour as words are spoken; highlight lights
    the current word, so the lit part moves along the line."""
    dark = solid_png(tmp_path / "dark.png", (20, 30, 60))
    scene = {"narration": "Six small words light up here", "visual": {"path": str(dark)}}
    captions = {"style": style, "color": "#ffffff", "highlight_color": "#ffd400"}
    board = _board([scene], grade="none", captions=captions)
    result = make(board, tmp_path / f"{style}.mp4", preview=True, cache_dir=tmp_path / "cache")
    (line,) = result.timeline.captions
    words = line.words
    assert len(words) == 6

    def lit(word: int) -> np.ndarray:
        """Highlight-coloured pixels of the caption band while ``word`` is spoken."""
        t = (words[word].start_ms + words[word].end_ms) / 2000
        frame = decode_frame(result.video, t).astype(int)
        band = frame[int(0.55 * frame.shape[0]) :]
        r, g, b = band[..., 0], band[..., 1], band[..., 2]
        return (r > 190) & (g > 150) & (g < 235) & (b < 110)

    first, last = lit(0), lit(5)
    if style == "karaoke":  # half of the first word filled, then nearly the whole line
        assert last.sum() > 50 and last.sum() > 3 * first.sum(), (first.sum(), last.sum())
    else:  # the first word lit, then the last one, further right
        assert first.sum() > 10 and last.sum() > 10, (first.sum(), last.sum())
        assert np.nonzero(last)[1].mean() > np.nonzero(first)[1].mean() + 40


@pytest.mark.usefixtures("fake_voice")
def test_audio_is_heard_where_the_narration_is_and_silent_in_the_lead_in(tmp_path: Path) -> None:
    board = _board(SCENES, captions=False)
    result = make(board, tmp_path / "voice.mp4", preview=True, cache_dir=tmp_path / "cache")
    check_output(result, SIZES["16:9"])
    timeline = result.timeline
    spans = narration_from_tracks(timeline, tmp_path)
    lead_in = spans[0][0]
    assert lead_in >= 0.3
    assert audio_levels(result.video, 0.0, lead_in - 0.1) < -60
    for start, end in spans:
        level = audio_levels(result.video, start, end - start)
        assert level > -30, f"narration at {start:.2f}-{end:.2f} s is silent ({level:.1f} dBFS)"
        # In sync: silence just before the voice starts, sound just after (the fake's first
        # word sounds from its first millisecond).
        assert audio_levels(result.video, start - 0.15, 0.1) < -50
        assert audio_levels(result.video, start + 0.03, 0.06) > -35


def narration_from_tracks(timeline: Timeline, tmp_path: Path) -> list[tuple[float, float]]:
    """(start, end) in seconds of each narration track, from its audio file's length."""
    spans = []
    for track in (t for t in timeline.audio if t.role == "narration"):
        seconds = probe(Path(track.path)).duration_ms / 1000
        spans.append((track.start_ms / 1000, track.start_ms / 1000 + seconds))
    return spans


def test_a_crossfade_frame_mixes_both_scenes(tmp_path: Path) -> None:
    red = solid_png(tmp_path / "red.png", (255, 0, 0), (180, 180))
    blue = solid_png(tmp_path / "blue.png", (0, 0, 255), (180, 180))
    scenes = [
        {"visual": {"path": str(red), "motion": "none"}, "duration": 2},
        {
            "visual": {"path": str(blue), "motion": "none"},
            "duration": 2,
            "transition": {"kind": "crossfade", "duration": 1.0},
        },
    ]
    board = _board(scenes, format="1:1", grade="none")
    result = make(board, tmp_path / "fade.mp4", preview=True, cache_dir=tmp_path / "cache")
    check_output(result, SIZES["1:1"])
    timeline = result.timeline
    clip = timeline.clips[1]
    assert (clip.transition.kind, clip.transition.frames) == ("crossfade", timeline.fps)

    def colour(frame_number: int) -> np.ndarray:
        frame = decode_frame(result.video, (frame_number + 0.5) / timeline.fps)
        return frame[40:140, 40:140].reshape(-1, 3).mean(axis=0)

    before = colour(clip.start - 2)
    middle = colour(clip.start + clip.transition.frames // 2)
    after = colour(clip.start + clip.transition.frames + 2)
    assert before[0] > 200 and before[2] < 40, f"not red before the transition: {before}"
    assert after[2] > 200 and after[0] < 40, f"not blue after the transition: {after}"
    red_part, blue_part = middle[0] / 255, middle[2] / 255
    assert 0.25 < red_part < 0.75 and 0.25 < blue_part < 0.75, f"not a mix: {middle}"
    assert middle[1] < 40
    # The transition keeps the total: two 2-second slots make 4 seconds.
    assert timeline.frames == 4 * timeline.fps
    # The thumbnail shows one scene, never a mid-transition mix.
    thumb = cv2.imread(str(result.thumbnail)).reshape(-1, 3).mean(axis=0)  # BGR
    assert (thumb[2] > 200 and thumb[0] < 40) or (thumb[0] > 200 and thumb[2] < 40), thumb


@pytest.mark.usefixtures("fake_voice")
def test_portrait_render_in_segments_keeps_captions_in_time(tmp_path: Path) -> None:
    dark = solid_png(tmp_path / "dark.png", (40, 20, 20), (180, 320))
    scenes = [
        {"narration": text, "visual": {"path": str(dark), "motion": "none"}}
        for text in [*SCENES, "A third scene, in the last segment."]
    ]
    board = _board(scenes, format="9:16", grade="none", captions={"style": "bold"})
    result = make(
        board,
        tmp_path / "segments.mp4",
        preview=True,
        cache_dir=tmp_path / "cache",
        segment_seconds=2.0,
    )
    check_output(result, SIZES["9:16"])
    timeline = result.timeline
    assert timeline.frames / timeline.fps > 6  # four segments or more
    band = (0.45, 1.0)
    for line in timeline.captions:
        shown = decode_frame(result.video, (line.start_ms + line.end_ms) / 2000)
        assert caption_pixels(shown, band) > 20, f"caption {line.text!r} missing"
    # Between scenes (after one scene's last line, before the next one's first) nothing shows.
    for line, following in zip(timeline.captions, timeline.captions[1:], strict=False):
        if following.start_ms - line.end_ms > 250:
            t = (line.end_ms + following.start_ms) / 2000
            assert caption_pixels(decode_frame(result.video, t), band) == 0, f"caption at {t}"


def test_video_clips_are_trimmed_looped_or_held_to_fit(tmp_path: Path, tmp_media: Any) -> None:
    clip = tmp_media.make_video("clip.mp4", seconds=1, fps=30)  # testsrc2: it moves every frame
    scenes = [
        {"visual": {"path": str(clip), "loop": True}, "duration": 3},
        {"visual": {"path": str(clip), "loop": False, "start": 0.5}, "duration": 3},
    ]
    result = make(
        _board(scenes, grade="none", transition="cut"),
        tmp_path / "clips.mp4",
        preview=True,
        cache_dir=tmp_path / "cache",
    )
    check_output(result, SIZES["16:9"])
    assert result.timeline.frames == 6 * result.timeline.fps

    def at(seconds: float) -> np.ndarray:
        return decode_frame(result.video, seconds).astype(float)

    def differ(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.abs(a - b).mean())

    # Scene 1 loops its 1-second clip: one second later the same picture comes back.
    assert differ(at(0.2), at(0.6)) > 3 * differ(at(0.2), at(1.2)) + 1
    assert differ(at(0.2), at(2.2)) < differ(at(0.2), at(0.6))
    # Scene 2 starts 0.5 s into the clip, then holds the last frame when the clip runs out.
    source = decode_frame(clip, 0.5, size=SIZES["16:9"]).astype(float)
    assert differ(at(3.0), source) < differ(at(3.0), at(3.3))
    assert differ(at(4.5), at(5.5)) < 3


@pytest.mark.usefixtures("fake_voice")
def test_output_folder_with_unusual_characters(tmp_path: Path) -> None:
    folder = tmp_path / "my videos, [final]: v2 ; 100%"
    dark = solid_png(tmp_path / "dark.png", (20, 30, 60))
    board = _board(
        [{"narration": SCENES[0], "visual": {"path": str(dark), "motion": "none"}}], grade="none"
    )
    result = make(board, folder / "video.mp4", preview=True, cache_dir=tmp_path / "cache")
    check_output(result, SIZES["16:9"])
    line = result.timeline.captions[0]
    frame = decode_frame(result.video, (line.start_ms + line.end_ms) / 2000)
    assert caption_pixels(frame, (0.55, 1.0)) > 40  # libass found the captions file


@pytest.mark.usefixtures("fake_voice")
def test_output_folder_with_an_apostrophe(tmp_path: Path) -> None:
    board = _board([SCENES[0]])
    result = make(
        board, tmp_path / "Mary's videos" / "video.mp4", preview=True, cache_dir=tmp_path / "cache"
    )
    assert result.video.is_file()


def test_caption_files_of_an_earlier_render_are_not_left_beside_a_new_one(tmp_path: Path) -> None:
    video = tmp_path / "video.mp4"
    for ext in ("srt", "vtt", "ass", "words.json"):
        video.with_suffix("." + ext).write_text("captions of another video", encoding="utf-8")
    uncaptioned = Timeline(width=320, height=180, fps=15, frames=30, clips=())
    assert write_sidecars(uncaptioned, video) == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def stream_seconds(path: Path) -> dict[str, float]:
    """Duration of each stream ("video", "audio") as the container states it."""
    text = run_ffprobe(["-show_entries", "stream=codec_type,duration", "-of", "csv=p=0", str(path)])
    return {kind: float(value) for kind, value in (row.split(",") for row in text.split())}


@pytest.mark.usefixtures("fake_voice")
def test_audio_lasts_as_long_as_the_video(tmp_path: Path) -> None:
    result = make(_board(SCENES[:1]), tmp_path / "v.mp4", preview=True, cache_dir=tmp_path / "c")
    streams = stream_seconds(result.video)
    aac_frame = 1024 / 44100
    assert streams["audio"] >= streams["video"] - 1 / result.timeline.fps - aac_frame, streams


@pytest.mark.usefixtures("fake_voice")
def test_segmented_audio_lasts_as_long_as_the_video(tmp_path: Path) -> None:
    result = make(
        _board(SCENES[:1]),
        tmp_path / "v.mp4",
        preview=True,
        cache_dir=tmp_path / "c",
        segment_seconds=1.0,
    )
    streams = stream_seconds(result.video)
    aac_frame = 1024 / 44100
    assert streams["audio"] >= streams["video"] - 1 / result.timeline.fps - aac_frame, streams


# --------------------------------------------------------------------------- real engines


@pytest.fixture(scope="module")
def voice_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("voice-cache")


def test_real_piper_voice_and_procedural_music(tmp_path: Path, voice_cache: Path) -> None:
    pytest.importorskip("piper")
    pytest.importorskip("pretty_midi")
    if shutil.which("fluidsynth") is None:
        pytest.skip("fluidsynth is not installed")
    board = build_storyboard(
        {
            "title": "Two scenes",
            "resolution": 180,
            "music": "calm",
            "transition": "crossfade",
            "scenes": ["The harbour wakes at dawn.", "By noon, the fish market is full of voices."],
        }
    )
    result = make(board, tmp_path / "piper.mp4", preview=True, cache_dir=voice_cache)
    check_output(result, SIZES["16:9"])
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert manifest["engines"]["voice"]["name"] == "piper"
    assert manifest["engines"]["music"]["name"] == "procedural"
    timeline = result.timeline
    words = [w.text for line in timeline.captions for w in line.words]
    said = "The harbour wakes at dawn. By noon, the fish market is full of voices."
    assert words == said.split(" ")
    assert abs(loudness(result.video) - -14.0) <= 1.5
    music_only = audio_levels(result.video, 0.0, 0.3)  # the lead-in: ducked music, no voice
    for start, end in narration(timeline):
        assert audio_levels(result.video, start, end - start) > max(-30.0, music_only + 3)


# --------------------------------------------------------------------------- shipped examples

# The two quickest examples run by default; the rest are `slow` (opt in with -m slow).
DEFAULT_EXAMPLES = ("hindi-story.md", "news-fr.md")
EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.iterdir() if p.name != "README.md")


@pytest.mark.parametrize(
    "name",
    [
        n if n in DEFAULT_EXAMPLES else pytest.param(n, marks=pytest.mark.slow)
        for n in EXAMPLE_FILES
    ],
)
def test_shipped_example_renders_at_preview_size(
    name: str, tmp_path: Path, voice_cache: Path
) -> None:
    board = load_spec(EXAMPLES / name)
    result = make(board, tmp_path / (Path(name).stem + ".mp4"), preview=True, cache_dir=voice_cache)
    short = min(board.resolution, 360)
    long = round(short * 16 / 9) // 2 * 2
    size = {"16:9": (long, short), "9:16": (short, long), "1:1": (short, short)}[board.format]
    check_output(result, size)
    timeline = result.timeline
    assert timeline.captions, "every example is narrated and captioned"
    assert abs(loudness(result.video) - (board.loudness or -14.0)) <= 2.0
    first = narration_from_tracks(timeline, tmp_path)[0]
    assert audio_levels(result.video, first[0], first[1] - first[0]) > -30
