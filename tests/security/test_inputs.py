"""Every ffmpeg/ffprobe input is opened with its demuxer forced and only the protocol it needs,
so no file can make ffmpeg open another one (issue 8, "disguised playlist").

The attack file is the one from the issue: an ID3 header followed by an ``#EXTM3U`` playlist
naming another file. Unforced, ffprobe reads it as ``hls`` and ffmpeg plays the named file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reelforge.errors import MediaError, RenderError
from reelforge.media.decode import VideoReader
from reelforge.media.ffmpeg import FfmpegProcess, guard_inputs, run_ffprobe
from reelforge.media.probe import input_demuxer, probe


def disguised_playlist(folder: Path, target: Path, name: str = "song.mp3") -> Path:
    """An ID3 tag, then an HLS playlist whose one segment is ``target``."""
    playlist = (
        f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n{target}\n#EXT-X-ENDLIST\n"
    ).encode()
    path = folder / name
    path.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + playlist)
    return path


def _inputs(command: list[str]) -> list[tuple[list[str], str]]:
    """``(options, name)`` of each ``-i`` in a command line."""
    found, options = [], []
    for index, arg in enumerate(command):
        if index and command[index - 1] == "-i":
            found.append((options, arg))
            options = []
        elif arg != "-i":
            options.append(arg)
    return found


def _option(options: list[str], name: str) -> str | None:
    values = [options[k + 1] for k in range(len(options) - 1) if options[k] == name]
    return values[-1] if values else None


def test_the_disguise_works_on_an_unguarded_ffprobe(tmp_media, tmp_path: Path) -> None:
    """The premise: without a format whitelist, ffprobe takes the file for a playlist."""
    from reelforge.media.ffmpeg import ffprobe_binary

    secret = tmp_media.make_tone("other-tenant/narration.mp3", seconds=1.0)
    attack = disguised_playlist(tmp_path, secret)
    import subprocess

    done = subprocess.run(
        [ffprobe_binary(), "-v", "error", "-show_entries", "format=format_name", "-of", "csv=p=0"]
        + [str(attack)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.strip() == "hls"


def test_probe_refuses_a_disguised_playlist(tmp_media, tmp_path: Path) -> None:
    secret = tmp_media.make_tone("other-tenant/narration.mp3", seconds=1.0)
    attack = disguised_playlist(tmp_path, secret)
    with pytest.raises(MediaError, match="hls") as caught:
        probe(attack)
    assert "playlist" in caught.value.message and caught.value.hint
    with pytest.raises(MediaError, match="hls"):
        input_demuxer(attack)


def test_ffmpeg_never_starts_on_a_disguised_playlist(tmp_media, tmp_path: Path) -> None:
    secret = tmp_media.make_tone("other-tenant/narration.mp3", seconds=1.0)
    attack = disguised_playlist(tmp_path, secret)
    with pytest.raises(MediaError, match="hls"):
        FfmpegProcess(["-i", str(attack), "-f", "null", "-"], stdin=None)
    # forced to what its name claims, the file is not an mp3 and nothing is read through it
    process = FfmpegProcess(["-f", "mp3", "-i", str(attack), "-f", "null", "-"], stdin=None)
    with pytest.raises(RenderError):
        process.close_and_wait()


@pytest.mark.parametrize(
    ("maker", "demuxer"),
    [
        (lambda m: m.make_tone("t.wav", seconds=0.3), "wav"),
        (lambda m: m.make_video("v.mp4", seconds=0.5), "mov"),
        (lambda m: m.make_image("p.png"), "png_pipe"),
        (lambda m: m.make_image("p.jpg"), "jpeg_pipe"),  # ffprobe says image2: never a pattern
    ],
)
def test_file_inputs_get_their_probed_demuxer_and_the_file_protocol_only(
    tmp_media, maker, demuxer
) -> None:
    path = maker(tmp_media)
    command = guard_inputs(["-ss", "0", "-i", str(path), "-f", "null", "-"])
    [(options, name)] = _inputs(command)
    assert name == str(path)
    assert _option(options, "-f") == demuxer
    assert _option(options, "-protocol_whitelist") == "file"
    assert _option(options, "-format_whitelist") == demuxer
    assert command[-3:] == ["-f", "null", "-"]  # output options untouched


def test_every_process_command_is_guarded(tmp_media) -> None:
    tone = tmp_media.make_tone("t.wav", seconds=0.3)
    process = FfmpegProcess(
        ["-f", "rawvideo", "-s", "16x16", "-i", "pipe:0", "-f", "lavfi", "-i", "anullsrc"]
        + ["-i", str(tone), "-f", "null", "-"],
        stdin=None,
    )
    process.kill()
    inputs = _inputs(process.command)
    assert [_option(o, "-f") for o, _ in inputs] == ["rawvideo", "lavfi", "wav"]
    assert [_option(o, "-protocol_whitelist") for o, _ in inputs] == ["pipe", "none", "file"]


@pytest.mark.parametrize(
    "args",
    [
        ["-f", "hls", "-i", "x.m3u8"],
        ["-f", "concat", "-safe", "0", "-i", "list.txt"],
        ["-f", "image2", "-i", "frame%03d.png"],
        ["-f", "data", "-i", "x.bin"],
        ["-f", "tty", "-i", "x.txt"],
        ["-f", "lavfi", "-i", "amovie=/etc/passwd"],
        ["-f", "lavfi", "-i", "color=red[a];movie=/data/x.mp4[b]"],
        ["-f", "mp3", "-i", "pipe:0"],
        ["-f", "rawvideo", "-i", "pipe:0", "-filter_complex", "[0:v]null[v];movie=x.mp4[m]"],
        ["-f", "rawvideo", "-i", "pipe:0", "-vf", "sendcmd=f=/etc/passwd"],
    ],
)
def test_unsafe_inputs_and_file_opening_filters_are_refused(args: list[str]) -> None:
    with pytest.raises(RenderError, match="reelforge bug|may not open|pipe input|safe mode"):
        guard_inputs(args)


def test_ffprobe_picks_only_safe_demuxers(tmp_media, tmp_path: Path) -> None:
    listing = tmp_path / "list.ffconcat"
    listing.write_text(f"ffconcat version 1.0\nfile '{tmp_media.make_tone('t.wav')}'\n")
    with pytest.raises(RenderError, match="Format not on whitelist"):
        run_ffprobe(["-show_format", str(listing)])


def test_video_reader_opens_its_clip_with_the_probed_demuxer(tmp_media) -> None:
    clip = tmp_media.make_video("clip.mkv", seconds=0.5, with_audio=False)
    with VideoReader(clip, 32, 18, 10, loop=False) as reader:
        assert reader.read().shape == (18, 32, 3)
        [(options, _)] = _inputs(list(reader._proc.args))  # type: ignore[arg-type]
    assert _option(options, "-f") == "matroska"
    assert _option(options, "-protocol_whitelist") == "file"


def test_video_reader_refuses_a_disguised_playlist(tmp_media, tmp_path: Path) -> None:
    secret = tmp_media.make_video("other/video.mp4", seconds=0.5)
    attack = disguised_playlist(tmp_path, secret, "clip.mp4")
    with pytest.raises(MediaError, match="hls"):
        VideoReader(attack, 32, 18, 10)


def test_compiled_plans_force_the_demuxer_of_reelforge_files(tmp_path: Path) -> None:
    """The pre-mixed audio is read as wav, segments are joined from a list of bare names in
    the concat demuxer's safe mode; user files (under media/) get theirs from ffprobe at the
    boundary (the tests above)."""
    import test_render_plan as cases

    from reelforge.render.plan import compile_plan

    timeline = cases.CASES["segmented_long_edit"](tmp_path / "media")
    plan = compile_plan(timeline, tmp_path / "v.mp4", tmp_path / "work")
    assert "-safe" not in plan.join_args
    [listing] = [text for path, text in plan.files.items() if path.endswith(".txt")]
    assert "/" not in listing and listing.count("file 'segment") >= 2
    seen = set()
    for args in (plan.join_args, plan.audio_args, *(s.args for s in plan.segments)):
        for options, name in _inputs(list(args)):
            if not name.startswith(str(tmp_path / "media")):
                seen.add((Path(name).name, _option(options, "-f")))
    assert seen == {("pipe:0", "rawvideo"), ("segments.txt", "concat"), ("mix.wav", "wav")}
