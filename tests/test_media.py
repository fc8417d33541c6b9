"""The process boundary: probing, running ffmpeg, its errors and hints, and output safety."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from reelforge.errors import MediaError, RenderError

if TYPE_CHECKING:  # tests/service has a conftest too: "conftest" is not a safe import here
    from conftest import MediaFactory
from reelforge.media import (
    atomic_output,
    audio_levels,
    check_audio,
    check_disk_space,
    check_image,
    count_frames,
    decode_frame,
    ffmpeg_binary,
    loudness,
    probe,
    run_ffmpeg,
    start_ffmpeg,
)
from reelforge.media.ffmpeg import error_hint

FRAME_MS = 1000 / 30


# --------------------------------------------------------------------------- probe
def test_probe_reports_the_facts_of_a_generated_clip(tmp_media: MediaFactory) -> None:
    clip = tmp_media.make_video("clip.mp4", seconds=2)

    info = probe(clip)

    assert abs(info.duration_ms - 2000) <= FRAME_MS
    assert (info.width, info.height) == (320, 180)
    assert info.display_size == (320, 180)
    assert info.fps == Fraction(30)
    assert info.has_video and info.has_audio
    assert info.video_codec == "h264" and info.audio_codec == "aac"
    assert info.pix_fmt == "yuv420p"
    assert info.sample_rate == 44100 and info.channels == 1
    assert info.nb_frames == 60
    assert "mp4" in info.format_name


def test_probe_of_audio_only_and_image(tmp_media: MediaFactory) -> None:
    tone = probe(tmp_media.make_tone("tone.wav", seconds=1))
    assert tone.has_audio and not tone.has_video
    assert tone.width is None and tone.fps is None
    assert abs(tone.duration_ms - 1000) <= 5
    assert tone.sample_rate == 48000

    image = probe(tmp_media.make_image("still.png", size=(64, 48)))
    assert image.has_video and not image.has_audio
    assert (image.width, image.height) == (64, 48)


def test_count_frames_decodes_every_frame(tmp_media: MediaFactory) -> None:
    assert count_frames(tmp_media.make_video("clip.mp4", seconds=1, with_audio=False)) == 30


def test_probe_of_a_missing_file_is_a_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="not found") as caught:
        probe(tmp_path / "nowhere.mp4")
    assert "check the path" in caught.value.hint


def test_probe_of_random_bytes_is_a_media_error_with_a_hint(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes())

    with pytest.raises(MediaError, match="corrupt or not a media file") as caught:
        probe(corrupt)
    assert str(corrupt) in caught.value.message
    assert "re-export" in caught.value.hint


def test_check_audio_rejects_a_silent_video_file(tmp_media: MediaFactory) -> None:
    assert check_audio(tmp_media.make_tone("ok.wav")).has_audio
    with pytest.raises(MediaError, match="no audio track"):
        check_audio(tmp_media.make_video("mute.mp4", seconds=1, with_audio=False))


# --------------------------------------------------------------------------- run_ffmpeg
def test_run_ffmpeg_on_a_missing_input_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing-input.mp4"

    # refused before ffmpeg starts: the input's demuxer is looked up first (guard_inputs)
    with pytest.raises(MediaError) as caught:
        run_ffmpeg(["-i", str(missing), str(tmp_path / "out.mp4")])

    assert "not found" in caught.value.message
    assert str(missing) in caught.value.message and caught.value.hint
    assert not (tmp_path / "out.mp4").exists()


def test_run_ffmpeg_on_a_corrupt_input_says_which_file(tmp_path: Path) -> None:
    corrupt = tmp_path / "broken.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(2000))  # a header, then nothing

    with pytest.raises(MediaError) as caught:
        run_ffmpeg(["-i", str(corrupt), str(tmp_path / "out.mp4")])

    assert "corrupt or not a media file" in caught.value.message
    assert str(corrupt) in caught.value.message and caught.value.hint


def test_progress_is_reported_in_increasing_fractions(tmp_path: Path) -> None:
    seen: list[float] = []
    # -re paces the source at real time, so the 2 s encode yields several progress reports.
    source = "testsrc2=size=320x180:rate=30:duration=2"
    run_ffmpeg(
        ["-re", "-f", "lavfi", "-i", source, "-c:v", "libx264", "-preset", "ultrafast",
         str(tmp_path / "out.mp4")],
        total_ms=2000,
        progress=seen.append,
    )  # fmt: skip

    assert len(seen) >= 4
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert all(0.0 <= value <= 1.0 for value in seen)
    assert 0.0 < seen[len(seen) // 2] < 1.0
    assert seen[-1] == 1.0


def test_run_ffmpeg_stops_a_process_that_runs_past_its_timeout(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="did not finish within"):
        run_ffmpeg(
            ["-re", "-f", "lavfi", "-i", "sine=duration=30", str(tmp_path / "long.wav")],
            timeout=0.5,
        )


def test_error_hints_for_known_failures() -> None:
    assert "free disk space" in error_hint("out.mp4: No space left on device")
    assert "out.mp4" in error_hint("out.mp4: Permission denied")
    assert "libass" in error_hint("[AVFilterGraph @ 0x1] No such filter: 'subtitles'")
    assert "libx264" in error_hint("Unknown encoder 'libx264'")
    moov = "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55] moov atom not found"
    assert "in.mp4" in error_hint(moov, ["-i", "in.mp4", "out.mp4"])


def test_missing_ffmpeg_is_a_render_error_with_a_set_up_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("reelforge.media.ffmpeg.shutil.which", lambda name: None)
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # makes the import fail

    with pytest.raises(RenderError, match="ffmpeg was not found") as caught:
        ffmpeg_binary()
    assert "make setup" in caught.value.hint


# --------------------------------------------------------------------------- outputs
def test_atomic_output_keeps_the_final_file_only_on_success(tmp_path: Path) -> None:
    final = tmp_path / "out" / "video.mp4"

    with pytest.raises(RuntimeError), atomic_output(final) as partial:
        assert partial.suffix == ".mp4" and partial.parent == final.parent
        partial.write_bytes(b"half a video")
        raise RuntimeError("render crashed")
    assert not final.exists()
    assert list(final.parent.iterdir()) == []

    with atomic_output(final) as partial:
        partial.write_bytes(b"a whole video")
    assert final.read_bytes() == b"a whole video"
    assert list(final.parent.iterdir()) == [final]


def test_atomic_output_removes_the_partial_when_ffmpeg_fails(tmp_path: Path) -> None:
    final = tmp_path / "video.mp4"
    with pytest.raises(RenderError), atomic_output(final) as partial:
        run_ffmpeg(["-f", "lavfi", "-i", "color=red:d=1", str(partial)])
        run_ffmpeg(["-f", "lavfi", "-i", "color=red:d=1", "-c:v", "no-such-codec", str(partial)])
    assert list(tmp_path.iterdir()) == []


def test_check_disk_space(tmp_path: Path) -> None:
    check_disk_space(tmp_path, 1)
    with pytest.raises(RenderError, match="not enough free disk space") as caught:
        check_disk_space(tmp_path / "not-yet" / "made", 1 << 60)
    assert "MiB needed" in caught.value.message
    assert "free disk space" in caught.value.hint


def test_start_ffmpeg_streams_raw_frames_into_a_video(tmp_path: Path) -> None:
    out = tmp_path / "streamed.mp4"
    frame = np.zeros((180, 320, 3), dtype=np.uint8)
    args = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "320x180", "-r", "30", "-i", "pipe:0",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out)]  # fmt: skip
    seen: list[float] = []

    with start_ffmpeg(args, total_ms=1000, progress=seen.append) as process:
        for index in range(30):
            frame[:, :, 2] = index * 8  # a changing picture, so the encoder has work to do
            process.write(frame.tobytes())
        process.close_and_wait(timeout=60)

    info = probe(out)
    assert (info.width, info.height) == (320, 180)
    assert abs(info.duration_ms - 1000) <= FRAME_MS
    assert count_frames(out) == 30
    assert seen[-1] == 1.0


def test_start_ffmpeg_reports_the_error_when_ffmpeg_dies(tmp_path: Path) -> None:
    args = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "320x180", "-i", "pipe:0",
            "-c:v", "no-such-encoder", str(tmp_path / "x.mp4")]  # fmt: skip
    frame = bytes(320 * 180 * 3)

    with pytest.raises(RenderError, match="no-such-encoder") as caught:  # noqa: SIM117
        with start_ffmpeg(args) as process:
            for _ in range(100):  # 17 MB: more than a pipe buffer, so a write must fail
                process.write(frame)
            process.close_and_wait(timeout=30)
    assert "apt-get install ffmpeg" in caught.value.hint


# --------------------------------------------------------------------------- frames and sound
def test_decode_frame_returns_rgb_pixels(tmp_media: MediaFactory) -> None:
    clip = tmp_media.make_video("red.mp4", seconds=1, color="red", with_audio=False)

    frame = decode_frame(clip, 0.5)
    assert frame.shape == (180, 320, 3) and frame.dtype == np.uint8
    red, green, blue = frame.reshape(-1, 3).mean(axis=0)
    assert red > 240 and green < 15 and blue < 15

    small = decode_frame(clip, 0.2, size=(160, 90))
    assert small.shape == (90, 160, 3)

    with pytest.raises(MediaError, match="no video frame"):
        decode_frame(clip, 5.0)


def test_levels_and_loudness_of_a_tone_and_of_silence(tmp_media: MediaFactory) -> None:
    tone = tmp_media.make_tone("tone.wav", seconds=2, freq=1000)
    silence = tmp_media.make_silence("silence.wav", seconds=1)

    # lavfi's sine has amplitude 1/8: RMS = 20*log10(0.125 / sqrt(2)) = -21.07 dBFS.
    assert audio_levels(tone, 0.5, 1.0) == pytest.approx(-21.07, abs=0.2)
    assert audio_levels(silence) == float("-inf")
    # A 1 kHz mono tone at -21 dBFS RMS integrates to about -24 LUFS (mono counts one channel).
    assert -27.0 < loudness(tone) < -20.0
    assert loudness(silence) <= -70.0


# --------------------------------------------------------------------------- images
def test_check_image_accepts_an_image_and_rejects_a_corrupt_one(
    tmp_media: MediaFactory, tmp_path: Path
) -> None:
    good = tmp_media.make_image("good.png", size=(320, 180))
    assert check_image(good) == (320, 180)

    truncated = tmp_path / "truncated.png"
    data = good.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])  # a valid header with half the pixels cut off
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"this is not a picture at all")

    for broken in (truncated, garbage):
        with pytest.raises(MediaError, match="corrupt or not an image") as caught:
            check_image(broken)
        assert str(broken) in caught.value.message
        assert caught.value.hint


def test_ffmpeg_inputs_may_only_be_local_files(tmp_media: MediaFactory, tmp_path: Path) -> None:
    """A storyboard path like ``concat:a|b`` or ``http://...`` never makes ffmpeg read other
    files or reach the network: the protocol whitelist refuses it at the boundary."""
    from reelforge.media.ffmpeg import FfmpegProcess, guard_inputs

    tone = tmp_media.make_tone(seconds=0.5)
    assert guard_inputs(["-f", "lavfi", "-i", "x", "-i", str(tone)]) == [
        "-f",
        "lavfi",
        "-protocol_whitelist",
        "none",
        "-i",
        "x",
        "-f",
        "wav",
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        "wav",
        "-i",
        str(tone),
    ]
    for trick in (
        f"concat:{tone}|{tone}",
        f"subfile,,start,0,end,100,,:{tone}",
        "http://127.0.0.1:9/x.wav",
    ):
        with pytest.raises(MediaError, match="not found"):  # not a file: refused unprobed
            FfmpegProcess(["-i", trick, "-f", "null", "-"], stdin=None)
        # even with the demuxer given, only the `file` protocol may open it
        process = FfmpegProcess(["-f", "wav", "-i", trick, "-f", "null", "-"], stdin=None)
        with pytest.raises(RenderError) as caught:
            process.close_and_wait()
        assert "whitelist" in str(caught.value) or "Invalid" in str(caught.value)
    process = FfmpegProcess(["-i", str(tone), "-f", "null", "-"], stdin=None)
    process.close_and_wait()  # a plain local file still works
