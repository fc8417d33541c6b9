"""Compile a timeline into a render plan: plain data you can read, diff and golden-test.

A plan is: the text files to write (captions ASS), the ffmpeg command that pre-mixes and
measures the audio, and one ffmpeg encode command per output (or per segment, for long edits,
plus a stream-copy join). Video frames reach the encoder as raw yuv420p on stdin from the
compositor (``reelforge.render.compositor``), which reads the same timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reelforge.timeline import AudioTrack, Timeline

MIX_NAME = "mix.wav"
ASS_NAME = "captions.ass"
SUBTITLE_NAME = "subtitles.{language}.srt"


@dataclass(frozen=True)
class Segment:
    start: int  # first frame
    end: int  # one past the last frame
    output: str
    args: tuple[str, ...]  # ffmpeg arguments (without the binary)


@dataclass(frozen=True)
class RenderPlan:
    width: int
    height: int
    fps: int
    frames: int
    output: str
    files: dict[str, str] = field(default_factory=dict)  # path -> text content to write first
    # pre-mix: writes MIX_NAME and prints its loudness (empty when the encoder mixes itself)
    audio_args: tuple[str, ...] = ()
    loudness_target: float | None = None  # LUFS; the runner turns the measure into a gain
    true_peak_db: float = -1.5  # ceiling after the gain
    loudness_passes: int = 2  # extra measurements correcting the gain for the limiter
    segments: tuple[Segment, ...] = ()  # video encodes fed by the compositor
    join_args: tuple[str, ...] = ()  # for segmented renders: concat + audio mux

    def to_text(self) -> str:
        """A stable, human-readable form for golden tests and ``--print-plan``."""
        lines = [f"plan {self.width}x{self.height}@{self.fps} frames={self.frames}"]
        for path in sorted(self.files):
            lines.append(f"file {path} ({len(self.files[path])} chars)")
        if self.audio_args:
            lines.append("audio: ffmpeg " + " ".join(self.audio_args))
        for seg in self.segments:
            lines.append(f"segment [{seg.start},{seg.end}): ffmpeg " + " ".join(seg.args))
        if self.join_args:
            lines.append("join: ffmpeg " + " ".join(self.join_args))
        return "\n".join(lines)


def escape_filter_path(path: str) -> str:
    """A path as a filter option value inside a filtergraph (``ass=filename=<this>``).

    Two levels of ffmpeg quoting: the option value is quoted (an apostrophe closes the quote,
    is escaped, and reopens it), then the graph's special characters are backslash-escaped.
    """
    value = "'" + path.replace("'", "'\\''") + "'"
    for char in "\\'[],;":
        value = value.replace(char, "\\" + char)
    return value


def concat_quote(path: str) -> str:
    """A path quoted for a ``file`` line of ffmpeg's concat list."""
    return "'" + path.replace("'", "'\\''") + "'"


def _join_tracks(labels: list[str], name: str, end: str) -> str:
    """The filter that mixes ``labels`` into ``[name]`` and ends it with ``end`` (pad, trim)."""
    if len(labels) == 1:
        return f"[{labels[0]}]{end}[{name}]"
    inputs = "".join(f"[{label}]" for label in labels)
    return f"{inputs}amix=inputs={len(labels)}:normalize=0:duration=longest,{end}[{name}]"


def _audio_graph(timeline: Timeline, first_input: int) -> tuple[list[str], str]:
    """(input args, filtergraph) producing ``[mix]``: narration plus ducked music."""
    duration_s = timeline.frames / timeline.fps
    fmt = (
        f"aformat=sample_fmts=fltp:sample_rates={timeline.encoder.sample_rate}"
        f":channel_layouts=stereo"
    )
    inputs: list[str] = []
    graph: list[str] = []
    voice: list[str] = []
    music: list[str] = []
    index = first_input
    for track in timeline.audio:
        if track.loop:
            inputs += ["-stream_loop", "-1"]
        inputs += ["-i", track.path]
        label = f"a{index}"
        graph.append(f"[{index}:a]{_track_chain(track, fmt, duration_s)}[{label}]")
        (music if track.role == "music" else voice).append(label)
        index += 1
    end = f"apad=whole_dur={duration_s:.6f},atrim=end={duration_s:.6f}"
    if voice:
        graph.append(_join_tracks(voice, "voice", end))
    if music:
        graph.append(_join_tracks(music, "music", end))
    mix = timeline.mix
    if voice and music and mix.duck:
        graph.append("[voice]asplit=2[voicemix][sidechain]")
        graph.append(
            f"[music][sidechain]sidechaincompress=threshold={mix.duck_threshold}"
            f":ratio={mix.duck_ratio}:attack={mix.duck_attack_ms}:release={mix.duck_release_ms}"
            "[ducked]"
        )
        graph.append("[voicemix][ducked]amix=inputs=2:duration=first:normalize=0[mix]")
    elif voice and music:
        graph.append("[voice][music]amix=inputs=2:duration=first:normalize=0[mix]")
    elif voice or music:
        graph.append(f"[{'voice' if voice else 'music'}]anull[mix]")
    else:
        inputs += ["-f", "lavfi", "-i", f"anullsrc=r={timeline.encoder.sample_rate}:cl=stereo"]
        graph.append(f"[{index}:a]atrim=end={duration_s:.6f}[mix]")
    return inputs, ";".join(graph)


def _track_chain(track: AudioTrack, fmt: str, duration_s: float) -> str:
    chain = [fmt]
    if track.loop:
        chain.append(f"atrim=end={duration_s:.6f}")
    if track.fade_in_ms:
        chain.append(f"afade=t=in:d={track.fade_in_ms / 1000:.3f}")
    if track.fade_out_ms:
        start = max(0.0, duration_s - track.fade_out_ms / 1000)
        chain.append(f"afade=t=out:st={start:.3f}:d={track.fade_out_ms / 1000:.3f}")
    if track.gain_db:
        chain.append(f"volume={track.gain_db:.2f}dB")
    if track.start_ms:
        chain.append(f"adelay={track.start_ms}:all=1")
    return ",".join(chain)


def _encoder_args(timeline: Timeline) -> list[str]:
    enc = timeline.encoder
    return [
        "-c:v",
        enc.video_codec,
        "-preset",
        enc.preset,
        "-crf",
        str(enc.crf),
        "-pix_fmt",
        enc.pix_fmt,
        "-r",
        str(timeline.fps),
    ]


def _raw_input(timeline: Timeline) -> list[str]:
    return [
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-s",
        f"{timeline.width}x{timeline.height}",
        "-r",
        str(timeline.fps),
        "-i",
        "pipe:0",
    ]


def _subtitle_args(
    timeline: Timeline, work: Path, files: dict[str, str], first_input: int
) -> tuple[list[str], list[str]]:
    """(input args, output args) muxing each translated caption track as a soft ``mov_text``
    subtitle stream tagged with its ISO 639-2 language; its SRT is written first. Empty when
    the timeline has no translations. Text streams cost nothing next to the video."""
    from reelforge.captions.formats import to_srt

    inputs: list[str] = []
    maps: list[str] = []
    tags: list[str] = []
    for number, track in enumerate(timeline.subtitles):
        path = str(work / SUBTITLE_NAME.format(language=track.language))
        files[path] = to_srt(track.captions)
        inputs += ["-f", "srt", "-i", path]
        maps += ["-map", f"{first_input + number}:s"]
        tags += [f"-metadata:s:s:{number}", f"language={track.iso639_2}"]
        tags += [f"-metadata:s:s:{number}", f"handler_name={track.title}"]
        tags += [f"-metadata:s:s:{number}", f"title={track.title}"]
    if maps:
        maps += ["-c:s", "mov_text", *tags]
    return inputs, maps


def ass_for(timeline: Timeline) -> str | None:
    """The burned-captions ASS script for ``timeline`` (None when nothing is burned)."""
    if not timeline.captions or not timeline.burn_captions:
        return None
    from reelforge.captions.formats import to_ass

    return to_ass(
        timeline.captions,
        timeline.caption_style,
        timeline.width,
        timeline.height,
        fonts_hint=timeline.language,
    )


def segment(
    timeline: Timeline, workdir: str | Path, index: int, start: int, end: int, vfilter: str = "null"
) -> Segment:
    """The video-only encode of frames [start, end), the ``index``-th piece of a segmented
    plan (its file in ``workdir``; ``vfilter`` burns the captions). Only the timeline's size,
    rate and encoder are read, so a render can encode its first pieces before it knows its
    length, then compile the plan with those ``cuts``."""
    output = str(Path(workdir) / f"segment{index:04d}.mp4")
    # captions keep their absolute times: shift pts to the segment start, then back
    chain = f"setpts=PTS+{start},{vfilter},setpts=PTS-STARTPTS"
    args = [
        *_raw_input(timeline),
        "-vf",
        chain,
        *_encoder_args(timeline),
        "-frames:v",
        str(end - start),
        "-an",
        output,
    ]
    return Segment(start, end, output, tuple(args))


def compile_plan(
    timeline: Timeline,
    output: str | Path,
    workdir: str | Path,
    *,
    fonts_dir: str = "",
    cuts: Sequence[int] = (),
) -> RenderPlan:
    """Compile ``timeline`` into a :class:`RenderPlan` writing ``output``.

    Everything comes from the timeline, as planning decided it: the burned captions, the
    loudness passes (``timeline.mix``) and the segments joined by stream copy
    (``timeline.encoder.segment_frames``, or segments starting at each of ``cuts``: a render
    that encodes its first segments while the rest is still being made, see
    :func:`segment`).
    """
    work = Path(workdir)
    out = str(output)
    mix_path = str(work / MIX_NAME)
    files: dict[str, str] = {}
    vfilter = "null"
    ass_text = ass_for(timeline)
    if ass_text is not None:
        ass_path = str(work / ASS_NAME)
        files[ass_path] = ass_text
        # the `ass` filter with complex shaping: `subtitles` leaves libass on simple shaping,
        # which breaks Devanagari conjuncts. No fontsdir: libass would load every font file
        # in it; fontconfig finds system fonts.
        vfilter = f"ass=filename={escape_filter_path(ass_path)}:shaping=complex"
        if fonts_dir:
            vfilter += f":fontsdir={escape_filter_path(fonts_dir)}"

    audio_inputs, graph = _audio_graph(timeline, first_input=0)
    audio_args = (
        *audio_inputs,
        "-filter_complex",
        graph + ";[mix]asplit=2[out][meter];[meter]ebur128=peak=true:framelog=verbose,anullsink",
        "-map",
        "[out]",
        "-c:a",
        "pcm_f32le",
        "-ar",
        str(timeline.encoder.sample_rate),
        "-ac",
        "2",
        mix_path,
    )
    enc = timeline.encoder
    audio_out = [
        "-c:a",
        enc.audio_codec,
        "-b:a",
        enc.audio_bitrate,
        "-ar",
        str(enc.sample_rate),
        "-ac",
        str(enc.channels),
    ]
    if enc.audio_codec == "aac":
        audio_out[2:2] = ["-aac_coder", enc.aac_coder]

    total = timeline.frames
    step = total
    if 0 < timeline.encoder.segment_frames < total:
        step = timeline.encoder.segment_frames
    bounds = sorted({0, total, *range(step, total, step), *(c for c in cuts if 0 < c < total)})
    n_segments = len(bounds) - 1

    segments: list[Segment] = []
    # The single-pass encodes take no -frames:v: the compositor writes exactly the timeline's
    # frames, and -frames:v would end the mux before the AAC encoder flushes its last ~0.1 s.
    if n_segments == 1 and timeline.mix.loudness_lufs is None:
        # nothing to measure first: the encoder mixes the audio itself (no pre-mix pass)
        audio_args = ()
        inputs, graph = _audio_graph(timeline, first_input=1)
        subtitle_inputs, subtitles = _subtitle_args(timeline, work, files, 1 + inputs.count("-i"))
        args = [
            *_raw_input(timeline),
            *inputs,
            *subtitle_inputs,
            "-filter_complex",
            f"[0:v]{vfilter}[v];{graph}",
            "-map",
            "[v]",
            "-map",
            "[mix]",
            *subtitles,
            *_encoder_args(timeline),
            *audio_out,
            "-movflags",
            "+faststart",
            out,
        ]
        segments.append(Segment(0, total, out, tuple(args)))
        join: tuple[str, ...] = ()
    elif n_segments == 1:
        # one process: raw frames + the pre-mixed audio; @LEVEL@ is the gain (and limiter) the
        # runner fills in once the pre-mix has measured the loudness
        subtitle_inputs, subtitles = _subtitle_args(timeline, work, files, 2)
        args = [
            *_raw_input(timeline),
            "-f",
            "wav",
            "-i",
            mix_path,
            *subtitle_inputs,
            "-filter_complex",
            f"[0:v]{vfilter}[v];[1:a]@LEVEL@[a]",
            "-map",
            "[v]",
            "-map",
            "[a]",
            *subtitles,
            *_encoder_args(timeline),
            *audio_out,
            "-movflags",
            "+faststart",
            out,
        ]
        segments.append(Segment(0, total, out, tuple(args)))
        join = ()
    else:
        list_path = str(work / "segments.txt")
        lines = []
        for k in range(n_segments):
            piece = segment(timeline, work, k, bounds[k], bounds[k + 1], vfilter)
            # a name beside the list: the concat demuxer reads it in safe mode (no paths)
            lines.append(f"file {concat_quote(Path(piece.output).name)}")
            segments.append(piece)
        files[list_path] = "\n".join(lines) + "\n"
        subtitle_inputs, subtitles = _subtitle_args(timeline, work, files, 2)
        join = (
            "-f",
            "concat",
            "-i",
            list_path,
            "-f",
            "wav",
            "-i",
            mix_path,
            *subtitle_inputs,
            "-filter_complex",
            "[1:a]@LEVEL@[a]",
            "-map",
            "0:v",
            "-map",
            "[a]",
            *subtitles,
            "-c:v",
            "copy",
            *audio_out,
            "-movflags",
            "+faststart",
            out,
        )
    return RenderPlan(
        width=timeline.width,
        height=timeline.height,
        fps=timeline.fps,
        frames=total,
        output=out,
        files=files,
        audio_args=audio_args,
        loudness_target=timeline.mix.loudness_lufs,
        true_peak_db=timeline.mix.true_peak_db,
        loudness_passes=timeline.mix.loudness_passes,
        segments=tuple(segments),
        join_args=join,
    )
