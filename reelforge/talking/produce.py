"""What talking videos and podcasts share: voicing turns, mouth tracks, captions drawn per
speaker, and the one encode (the spine's render plan, fed with frames drawn here).

The audio, its loudness normalisation and the encoder settings are the video kind's own
(:func:`reelforge.render.plan.compile_plan` and :func:`reelforge.render.runner.run_plan`);
only the frames come from a drawing function instead of the compositor.
"""

from __future__ import annotations

import contextlib
import gc
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from reelforge import voices
from reelforge.captions.formats import to_srt, to_vtt
from reelforge.captions.lines import group_words
from reelforge.engines.base import SpeechRequest, SpeechResult
from reelforge.errors import SpecError
from reelforge.render.compositor import Sprite
from reelforge.talking.visemes import MouthTrack, combine, silent_track, track_for_speech
from reelforge.timeline import AudioTrack, CaptionLine, Encoder, Mix, TimedWord, Timeline

Frame = NDArray[np.uint8]
Progress = Callable[[str, float], None]

FORMATS: dict[str, tuple[int, int]] = {
    "9:16": (1080, 1920),
    "16:9": (1920, 1080),
    "1:1": (1080, 1080),
}
PREVIEW_SCALE = 3  # a preview renders at a third of the size


def frame_size(format: str, preview: bool = False) -> tuple[int, int]:
    """(width, height) of an output format; a preview is a third of it (even sides)."""
    if format not in FORMATS:
        raise SpecError(f"unknown format {format!r}", hint="use one of " + ", ".join(FORMATS))
    width, height = FORMATS[format]
    if preview:
        width, height = width // PREVIEW_SCALE, height // PREVIEW_SCALE
    return width - width % 2, height - height % 2


@dataclass(frozen=True)
class Turn:
    """One line of a script: who says what."""

    speaker: int
    text: str


@dataclass(frozen=True)
class SpokenTurn:
    speaker: int
    text: str
    speech: SpeechResult
    start_ms: int

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.speech.duration_ms


def speak(
    turns: Sequence[Turn],
    voice_of: Sequence[str],
    language: str,
    workdir: Path,
    *,
    gap_ms: int = 350,
    lead_ms: int = 300,
    speed: float = 1.0,
    progress: Progress | None = None,
    workers: int = 1,
) -> list[SpokenTurn]:
    """Voice every turn with its speaker's voice and place the turns one after another, a
    natural gap apart (a longer one where the speaker changes).

    ``workers`` > 1 synthesises turns side by side where the engine allows it; the default is
    one at a time: two Kokoro runs at once cost ~450 MB more peak memory (2.0 vs 1.6 GiB for
    a 60 s talking head) and gained no wall time on this loaded 2-core machine (measured)."""
    from reelforge.engines import registry

    for index, turn in enumerate(turns):
        if not turn.text.strip():
            raise SpecError(f"turn {index + 1} is empty", hint="give every line some words")
    infos = [voices.resolve_voice(voice, language) for voice in voice_of]
    folder = workdir / "voices"

    def one(turn: Turn) -> SpeechResult:
        info = infos[turn.speaker]
        request = SpeechRequest(turn.text, info.language, info.engine_voice, speed)
        return voices.speak_in_turn(registry.get("voice", info.engine), info, request, folder)

    results = voices.side_by_side(one, turns, workers, progress)
    out: list[SpokenTurn] = []
    at = lead_ms
    previous = -1
    for turn, speech in zip(turns, results, strict=True):
        if out:
            at += gap_ms if turn.speaker != previous else gap_ms // 2
        out.append(SpokenTurn(turn.speaker, turn.text, speech, at))
        at += speech.duration_ms
        previous = turn.speaker
    return out


# voice engines whose model stays loaded in the process after a synthesis (module globals)
_MODEL_MODULES = ("reelforge.engines.tts.kokoro", "reelforge.engines.tts.kokoro_ja")


def release_voices() -> None:
    """Drop the voices' loaded models and hand the freed heap back to the OS (glibc keeps it
    otherwise), so the frame encode's memory does not stack on the synthesis' high-water
    mark (Kokoro's ONNX session). Called once every turn is voiced; a later job reloads."""
    for name in _MODEL_MODULES:
        module = sys.modules.get(name)
        if module is not None:
            module.release_model()
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)


def total_frames(spoken: Sequence[SpokenTurn], fps: int, tail_ms: int = 600) -> int:
    end = max((t.end_ms for t in spoken), default=0) + tail_ms
    return max(1, round(end * fps / 1000))


def mouth_tracks(
    spoken: Sequence[SpokenTurn], speakers: int, frames: int, fps: int
) -> list[MouthTrack]:
    """One mouth track per speaker over the whole video: their own turns, closed elsewhere."""
    per: list[list[MouthTrack]] = [[] for _ in range(speakers)]
    for turn in spoken:
        track = track_for_speech(
            turn.speech.audio, turn.speech.duration_ms, turn.speech.phonemes, fps
        )
        per[turn.speaker].append(track.shifted(round(turn.start_ms * fps / 1000), frames))
    return [combine(tracks) if tracks else silent_track(frames, fps) for tracks in per]


def speaking_mask(
    spoken: Sequence[SpokenTurn], speakers: int, frames: int, fps: int
) -> NDArray[np.float32]:
    """(speakers, frames): 1 while each speaker's turn lasts."""
    mask = np.zeros((speakers, frames), np.float32)
    for turn in spoken:
        a = round(turn.start_ms * fps / 1000)
        b = min(frames, round(turn.end_ms * fps / 1000))
        mask[turn.speaker, a:b] = 1.0
    return mask


@dataclass(frozen=True)
class Caption:
    line: CaptionLine
    speaker: int


def captions(spoken: Sequence[SpokenTurn], language: str) -> list[Caption]:
    """Caption lines of every turn at their place in the video, tagged with the speaker."""
    out: list[Caption] = []
    for turn in spoken:
        words = [
            TimedWord(w.text, w.start_ms + turn.start_ms, w.end_ms + turn.start_ms)
            for w in turn.speech.words
        ]
        for line in group_words(words, language, max_words=6, max_chars=32):
            out.append(Caption(line, turn.speaker))
    return out


class CaptionPainter:
    """Draws the caption line of each frame (in the speaker's colour) at a fixed place."""

    def __init__(
        self,
        lines: Sequence[Caption],
        colours: Sequence[str],
        width: int,
        height: int,
        fps: int,
        centre_y: float,
        language: str = "en",
    ) -> None:
        self.lines = list(lines)
        self.colours = list(colours)
        self.width, self.height, self.fps = width, height, fps
        self.centre_y = centre_y
        self.language = language
        self.size = max(12, round(min(width, height) * 0.052))
        self._cache: dict[int, Sprite] = {}
        self._index = 0

    def _sprite(self, index: int) -> Sprite:
        if index not in self._cache:
            from reelforge.text.fonts import font_file
            from reelforge.text.sprites import render_text

            caption = self.lines[index]
            rgba = render_text(
                caption.line.text,
                font_file(None, self.language, bold=True),
                self.size,
                color=self.colours[caption.speaker % len(self.colours)],
                stroke_px=max(2, self.size // 10),
                stroke_color="#101018",
                max_width_px=int(self.width * 0.86),
                language=self.language,
                shadow=True,
            )
            self._cache = {
                index: Sprite(np.asarray(cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA), np.uint8))
            }
        return self._cache[index]

    def draw(self, frame: Frame, number: int) -> None:
        ms = number * 1000 / self.fps
        while self._index < len(self.lines) and self.lines[self._index].line.end_ms <= ms:
            self._index += 1
        if self._index < len(self.lines) and self.lines[self._index].line.start_ms > ms:
            # frames are drawn in order; a jump back starts the search again
            self._index = next(
                (k for k, c in enumerate(self.lines) if c.line.end_ms > ms), len(self.lines)
            )
        if self._index >= len(self.lines):
            return
        caption = self.lines[self._index]
        if not caption.line.start_ms <= ms < caption.line.end_ms:
            return
        sprite = self._sprite(self._index)
        x = (self.width - sprite.width) // 2
        y = round(self.centre_y * self.height - sprite.height / 2)
        sprite.draw(frame, x, y)


def encode(
    draw: Callable[[int], Frame],
    spoken: Sequence[SpokenTurn],
    lines: Sequence[Caption],
    frames: int,
    fps: int,
    size: tuple[int, int],
    output: Path,
    workdir: Path,
    *,
    language: str = "en",
    preview: bool = False,
    progress: Progress | None = None,
) -> dict[str, float]:
    """Encode ``draw(n)`` (BGR frames) with the turns' voices, loudness-normalised, into
    ``output``; returns the render's stage timings."""
    from reelforge.render.plan import compile_plan
    from reelforge.render.runner import run_plan

    width, height = size
    timeline = Timeline(
        width=width,
        height=height,
        fps=fps,
        frames=frames,
        clips=(),
        audio=tuple(
            AudioTrack(str(t.speech.audio), "narration", start_ms=t.start_ms) for t in spoken
        ),
        captions=tuple(c.line for c in lines),
        burn_captions=False,  # drawn into the frames, coloured per speaker
        mix=Mix(duck=False, loudness_passes=0 if preview else 2),
        encoder=Encoder(preset="ultrafast" if preview else "veryfast"),
        language=language,
    )
    workdir.mkdir(parents=True, exist_ok=True)
    plan = compile_plan(timeline, output, workdir)

    def source(start: int, end: int) -> Iterator[Frame]:
        for number in range(start, end):
            yield np.asarray(cv2.cvtColor(draw(number), cv2.COLOR_BGR2YUV_I420), np.uint8)

    t0 = time.perf_counter()
    timings = run_plan(timeline, plan, progress, source=source)
    timings["total_s"] = time.perf_counter() - t0
    return timings


def write_sidecars(lines: Sequence[Caption], output: Path, names: Sequence[str]) -> dict[str, Path]:
    """SRT and VTT captions beside the video (speaker names prefixed when there are several)."""
    tagged = [
        CaptionLine(
            c.line.start_ms,
            c.line.end_ms,
            f"{names[c.speaker]}: {c.line.text}" if len(names) > 1 else c.line.text,
            c.line.words,
        )
        for c in lines
    ]
    srt = output.with_suffix(".srt")
    vtt = output.with_suffix(".vtt")
    srt.write_text(to_srt(tagged), encoding="utf-8")
    vtt.write_text(to_vtt(tagged), encoding="utf-8")
    return {"srt": srt, "vtt": vtt}


def write_thumbnail(frame: Frame, path: Path, width: int = 640) -> Path:
    height = round(frame.shape[0] * width / frame.shape[1])
    small = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), small, [cv2.IMWRITE_JPEG_QUALITY, 88])
    return path


@dataclass(frozen=True)
class Cut:
    """What a talking or podcast video is drawn from: the spoken turns, their caption lines
    (in ``language``, painted in the speakers' ``colours`` centred at ``caption_y`` of the
    height, their sidecars naming ``speakers``; ``None``: no captions), how many frames, at
    what rate and size."""

    spoken: Sequence[SpokenTurn]
    lines: Sequence[Caption]
    frames: int
    fps: int
    size: tuple[int, int]
    language: str
    colours: Sequence[str]
    caption_y: float
    speakers: Sequence[str] | None

    @property
    def duration(self) -> float:
        return self.frames / self.fps


@dataclass(frozen=True)
class Filmed:
    """What :func:`film` wrote: the render's timings, caption sidecars, thumbnail, manifest."""

    timings: dict[str, float]
    sidecars: dict[str, Path]
    thumbnail: Path
    manifest: Path


def film(
    stage: Callable[[int], Frame],
    cut: Cut,
    output: Path,
    workdir: Path,
    about: dict[str, object],
    voice_s: float,
    preview: bool = False,
    progress: Progress | None = None,
) -> Filmed:
    """Draw ``stage(n)`` with the cut's captions and encode it into ``output`` (working in
    ``workdir``), with its SRT/VTT sidecars, a thumbnail a third of the way in and the manifest:
    ``about`` and the timings (``voice_s`` spent voicing, then the render's)."""
    width, height = cut.size
    painter = None
    if cut.speakers is not None:
        painter = CaptionPainter(
            cut.lines, cut.colours, width, height, cut.fps, cut.caption_y, cut.language
        )

    def draw(number: int) -> Frame:
        frame = stage(number)
        if painter is not None:
            painter.draw(frame, number)
        return frame

    timings = encode(
        draw,
        cut.spoken,
        cut.lines,
        cut.frames,
        cut.fps,
        cut.size,
        output,
        workdir,
        language=cut.language,
        preview=preview,
        progress=progress,
    )
    sidecars = {} if cut.speakers is None else write_sidecars(cut.lines, output, cut.speakers)
    frames = cut.frames
    thumb = write_thumbnail(draw(min(frames - 1, frames // 3)), output.with_suffix(".jpg"))
    manifest = write_manifest(
        output.with_suffix(".json"),
        {**about, "timings": {"voice_s": round(voice_s, 3), **timings}},
    )
    return Filmed(timings, sidecars, thumb, manifest)


def write_manifest(path: Path, data: dict[str, object]) -> Path:
    path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    return path
