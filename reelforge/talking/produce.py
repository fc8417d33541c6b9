"""What talking videos and podcasts share: voicing turns, mouth tracks, captions drawn per
speaker, and the encode (the spine's render plan, fed with frames drawn here).

The audio, its loudness normalisation and the encoder settings are the video kind's own
(:func:`reelforge.render.plan.compile_plan` and :func:`reelforge.render.runner.run_plan`);
only the frames come from a drawing function instead of the compositor. The turns are voiced
on a thread while the frames of those already voiced are drawn and encoded (segments of the
plan, joined with the mixed sound at the end): the voice engines and x264 run outside the GIL,
so both cores stay busy (:func:`film`). Two turns are voiced at once, so the next one fills
the core the last sentence of a turn leaves idle; Kokoro still runs no more sentences at once
than there are cores (``kokoro_model.GATE``): its session (~200 MB, ~500 MB while two
sentences run) beside the encode peaked at ~1.05 GiB for a 60 s podcast (measured).
"""

from __future__ import annotations

import contextvars
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from reelforge import voices
from reelforge.captions.formats import to_srt, to_vtt
from reelforge.captions.lines import group_words
from reelforge.engines.base import SpeechRequest, SpeechResult, speech_order
from reelforge.errors import SpecError
from reelforge.render.compositor import Sprite
from reelforge.talking.visemes import MouthTrack, combine, silent_track, track_for_speech
from reelforge.timeline import AudioTrack, CaptionLine, Encoder, Mix, Timeline

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
class TalkingOptions:
    """How a talking video or a podcast is filmed: its ``format`` (a key of :data:`FORMATS`),
    the voices' ``language`` and ``speed``, burned-in ``captions``, the ``seed`` of the
    characters' motion and their ``background`` ("studio", or "animated": soft lights drift
    slowly behind). A ``preview`` renders at a third of the size."""

    format: str = "9:16"
    language: str = "en"
    preview: bool = False
    fps: int = 30
    speed: float = 1.0
    captions: bool = True
    seed: int = 0
    background: str = "studio"


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
    reaction: bool = False  # a listener's back-channel ("mm-hm") inside another's turn

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.speech.duration_ms


def voice_for(chosen: str | None, persona: str | None, language: str) -> str:
    """The catalogue voice of a speaker: the ``chosen`` id (an unknown one is an error), else
    the ``persona``'s age and gender ("en-adult-female": a character's own) in ``language``,
    else the language's default voice (Piper's for English)."""
    if chosen:
        return voices.resolve_voice(chosen, language).id
    if persona:
        age, gender = persona.lower().split("-")[-2:]
        try:
            return voices.resolve_voice(f"{language}-{age}-{gender}", language).id
        except SpecError:
            pass  # that age and gender is not spoken here: the language's default
    return voices.resolve_voice(None, language).id


# Short back-channel reactions a listener says inside a long turn, by language.
REACTIONS: dict[str, tuple[str, ...]] = {
    "en": ("Right.", "Mm-hm.", "Yeah.", "I see."),
    "fr": ("Mm.", "D'accord.", "Oui."),
    "es": ("Ajá.", "Claro.", "Sí."),
    "de": ("Mhm.", "Genau.", "Ja."),
    "it": ("Mh.", "Certo.", "Sì."),
    "pt": ("Hum.", "Claro.", "Sim."),
}
REACTION_AFTER_MS = 3500  # only turns at least this long get one
REACTION_GAIN_DB = -4.0  # a reaction sits under the speaker
VOICES_AHEAD = 2  # turns being voiced at once
# Drawn and warped frames compress so well that x264 veryfast's B-frame search buys only size:
# superfast at CRF 24 stays as close to the drawn frames as veryfast at CRF 23 (SSIM 0.99892
# against 0.99888 for a talking head, 0.99862 against 0.99841 for a podcast, 0.99425 against
# 0.99388 for a photo; 240-300 frames each) for 10-33 % less encode CPU, in files about twice
# as big: ~0.7 Mbps at 1080x1920, still small for 1080p (measured 2026-11-28).
DRAWN = Encoder(preset="superfast", crf=24)


class Voicing:
    """Voices the turns in order on background threads (:data:`VOICES_AHEAD` at once), each
    with its speaker's voice, and places them a natural gap apart (a longer one where the
    speaker changes).

    ``overlap_ms``: a new speaker starts this much before the previous one ends (at most a
    third of that turn), as people do in conversation. ``reactions``: in turns of
    :data:`REACTION_AFTER_MS` or more, a listener says a short back-channel ("mm-hm") in the
    longest pause of the turn's middle, a little quieter; it is not captioned and does not
    take the floor.

    Iterating gives each :class:`SpokenTurn` as soon as it is voiced (a turn's reaction just
    before it), so a render can draw and encode the first turns while the later ones are still
    being synthesised (the voice engines run outside the GIL). Use it as a context manager:
    leaving stops the voicing after the turns it is voicing."""

    def __init__(
        self,
        turns: Sequence[Turn],
        voice_of: Sequence[str],
        language: str,
        workdir: Path,
        *,
        gap_ms: int = 350,
        lead_ms: int = 300,
        speed: float = 1.0,
        overlap_ms: int = 0,
        reactions: bool = False,
        progress: Progress | None = None,
    ) -> None:
        for index, turn in enumerate(turns):
            if not turn.text.strip():
                raise SpecError(f"turn {index + 1} is empty", hint="give every line some words")
        if not 0 <= overlap_ms <= 2000:
            raise SpecError(f"overlap of {overlap_ms} ms", hint="use 0 to 2000 ms")
        self.turns = list(turns)
        self.infos = [voices.resolve_voice(voice, language) for voice in voice_of]
        self.folder = workdir / "voices"
        self.speed, self.gap_ms, self.lead_ms = speed, gap_ms, lead_ms
        self.overlap_ms = overlap_ms
        said = REACTIONS.get(language.lower().split("-")[0], ("Mm.",))
        self.reactions = said if reactions and len(voice_of) > 1 else ()
        self.progress = progress
        self.seconds = 0.0  # wall time the voices took
        self._stop = threading.Event()
        # the creator's context: a job's Cancellation reaches what a voice starts
        self._context = contextvars.copy_context()
        self._pool = ThreadPoolExecutor(VOICES_AHEAD, thread_name_prefix="voice")
        self._voiced: list[Future[tuple[SpeechResult, SpeechResult | None]]] = []  # by turn
        self._started = 0.0

    def listener(self, index: int) -> int:
        """Who reacts to turn ``index``: the next speaker, else the previous, else another."""
        speaker = self.turns[index].speaker
        near = [self.turns[k].speaker for k in (index + 1, index - 1) if 0 <= k < len(self.turns)]
        others = [k for k in near if k != speaker]
        return others[0] if others else (speaker + 1) % len(self.infos)

    def _say(self, speaker: int, text: str) -> SpeechResult:
        from reelforge.engines import registry

        info = self.infos[speaker]
        request = SpeechRequest(text, info.language, info.engine_voice, self.speed)
        engine = registry.get("voice", info.engine)
        return voices.speak_in_turn(engine, info, request, self.folder)

    def _voice(self, index: int) -> tuple[SpeechResult, SpeechResult | None]:
        """Turn ``index`` said, and a listener's reaction to it (or None); nothing once the
        voicing stopped or a turn failed."""
        if self._stop.is_set():
            raise SpecError("the voicing stopped", hint="a turn before this one failed")
        turn = self.turns[index]
        try:
            speech = self._say(turn.speaker, turn.text)
            reaction = None
            if self.reactions and speech.duration_ms >= REACTION_AFTER_MS:
                text = self.reactions[index % len(self.reactions)]
                reaction = self._say(self.listener(index), text)
        except BaseException:
            self._stop.set()  # no later turn starts
            raise
        self.seconds = max(self.seconds, time.perf_counter() - self._started)
        return speech, reaction

    def __enter__(self) -> Voicing:
        """Start voicing: every turn queued on :data:`VOICES_AHEAD` threads, in order, so a
        turn starts as soon as any other ends (a voice runs a turn's sentences side by side,
        and the last sentence of one would otherwise leave a core idle)."""
        self._started = time.perf_counter()
        for index in range(len(self.turns)):
            context = self._context.copy()
            context.run(speech_order.set, index)  # the earlier turn goes first
            self._voiced.append(self._pool.submit(context.run, self._voice, index))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def all(self) -> list[SpokenTurn]:
        """Every turn voiced and placed, waiting for the last."""
        with self:
            return list(self)

    def next_start(self, previous: SpokenTurn, index: int) -> int:
        """Where turn ``index`` starts after ``previous`` (ms): a gap, or an overlap where the
        speaker changes and overlaps are asked for."""
        if self.turns[index].speaker == previous.speaker:
            return previous.end_ms + self.gap_ms // 2
        if self.overlap_ms:
            return previous.end_ms - min(self.overlap_ms, previous.speech.duration_ms // 3)
        return previous.end_ms + self.gap_ms

    def __iter__(self) -> Iterator[SpokenTurn]:
        previous: SpokenTurn | None = None
        for index, turn in enumerate(self.turns):
            speech, reaction = self._voiced[index].result()
            at = self.lead_ms if previous is None else self.next_start(previous, index)
            if reaction is not None:
                start = at + _pause(speech, reaction.duration_ms)
                said = self.reactions[index % len(self.reactions)]
                yield SpokenTurn(self.listener(index), said, reaction, start, True)
            previous = SpokenTurn(turn.speaker, turn.text, speech, at)
            yield previous
            if self.progress:
                self.progress("voice", (index + 1) / len(self.turns))


def _pause(speech: SpeechResult, length_ms: int) -> int:
    """Where in ``speech`` a reaction of ``length_ms`` fits (ms from its start): the longest
    pause between words in the middle of the turn, else 55 % of the way."""
    words = [w for w in speech.words if w.end_ms > w.start_ms]
    low, high = 0.35 * speech.duration_ms, 0.8 * speech.duration_ms - length_ms
    gaps = [
        (b.start_ms - a.end_ms, a.end_ms)
        for a, b in zip(words, words[1:], strict=False)
        if low <= a.end_ms <= high
    ]
    if gaps:
        return max(gaps)[1] + 60
    return round(0.55 * speech.duration_ms)


def release_voices() -> None:
    """Drop the voices' loaded models once every turn is voiced (voices.release_models)."""
    voices.release_models()


def total_frames(spoken: Sequence[SpokenTurn], fps: int, tail_ms: int = 600) -> int:
    end = max((t.end_ms for t in spoken), default=0) + tail_ms
    return max(1, round(end * fps / 1000))


def mouth_tracks(
    spoken: Sequence[SpokenTurn],
    speakers: int,
    frames: int,
    fps: int,
    cache: dict[int, MouthTrack] | None = None,
) -> list[MouthTrack]:
    """One mouth track per speaker over the whole video: their own turns, closed elsewhere.
    ``cache`` keeps each turn's own track (by start) for the next call with more turns."""
    per: list[list[MouthTrack]] = [[] for _ in range(speakers)]
    cache = {} if cache is None else cache
    for turn in spoken:
        track = cache.get(turn.start_ms * 8 + turn.speaker)
        if track is None:
            track = track_for_speech(
                turn.speech.audio, turn.speech.duration_ms, turn.speech.phonemes, fps
            )
            cache[turn.start_ms * 8 + turn.speaker] = track
        per[turn.speaker].append(track.shifted(round(turn.start_ms * fps / 1000), frames))
    return [combine(tracks) if tracks else silent_track(frames, fps) for tracks in per]


def speaking_mask(
    spoken: Sequence[SpokenTurn], speakers: int, frames: int, fps: int
) -> NDArray[np.float32]:
    """(speakers, frames): 1 while each speaker's turn lasts (not their reactions)."""
    mask = np.zeros((speakers, frames), np.float32)
    for turn in spoken:
        if turn.reaction:
            continue
        a = round(turn.start_ms * fps / 1000)
        b = min(frames, round(turn.end_ms * fps / 1000))
        mask[turn.speaker, a:b] = 1.0
    return mask


def floor(spoken: Sequence[SpokenTurn], frames: int, fps: int) -> NDArray[np.int32]:
    """Who has the floor each frame: the speaker who started last (an overlapping answer
    takes it; reactions do not), kept through the gaps; the first speaker before anyone."""
    out = np.full(frames, spoken[0].speaker if spoken else 0, np.int32)
    for turn in sorted((t for t in spoken if not t.reaction), key=lambda t: t.start_ms):
        out[min(frames, round(turn.start_ms * fps / 1000)) :] = turn.speaker
    return out


@dataclass(frozen=True)
class Caption:
    line: CaptionLine
    speaker: int


def captions(spoken: Sequence[SpokenTurn], language: str) -> list[Caption]:
    """Caption lines of every turn at their place in the video, tagged with the speaker."""
    out: list[Caption] = []
    for turn in spoken:
        if turn.reaction:  # heard, not captioned
            continue
        words = [w.shifted(turn.start_ms) for w in turn.speech.words]
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


def _timeline(
    look: Look, spoken: Sequence[SpokenTurn], lines: Sequence[Caption], frames: int, preview: bool
) -> Timeline:
    """The render's timeline: the turns' voices, loudness-normalised, and the video kind's
    encoder settings (a preview's as :func:`reelforge.plan` sets them)."""
    width, height = look.size
    return Timeline(
        width=width,
        height=height,
        fps=look.fps,
        frames=frames,
        clips=(),
        audio=tuple(
            AudioTrack(
                str(t.speech.audio),
                "narration",
                start_ms=t.start_ms,
                gain_db=REACTION_GAIN_DB if t.reaction else 0.0,
            )
            for t in spoken
        ),
        captions=tuple(c.line for c in lines),
        burn_captions=False,  # drawn into the frames, coloured per speaker
        mix=Mix(duck=False, loudness_passes=0 if preview else 2),
        encoder=Encoder(preset="ultrafast", crf=30, audio_bitrate="96k") if preview else DRAWN,
        language=look.language,
    )


def _i420(draw: Callable[[int], Frame]) -> Callable[[int, int], Iterator[Frame]]:
    def source(start: int, end: int) -> Iterator[Frame]:
        for number in range(start, end):
            yield np.asarray(cv2.cvtColor(draw(number), cv2.COLOR_BGR2YUV_I420), np.uint8)

    return source


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
class Look:
    """How a talking or podcast video looks: its size and rate, and its captions: their
    ``language``, painted in the speakers' ``colours`` centred at ``caption_y`` of the height,
    their sidecars naming ``speakers`` (``None``: no captions)."""

    size: tuple[int, int]
    fps: int
    language: str
    colours: Sequence[str]
    caption_y: float
    speakers: Sequence[str] | None


@dataclass(frozen=True)
class Cut:
    """What a talking or podcast video was drawn from: the spoken turns, their caption lines,
    how many frames, and how it looks."""

    spoken: Sequence[SpokenTurn]
    lines: Sequence[Caption]
    frames: int
    look: Look

    @property
    def duration(self) -> float:
        return self.frames / self.look.fps


@dataclass(frozen=True)
class Filmed:
    """What :func:`film` wrote: the render's timings, caption sidecars, thumbnail, manifest."""

    timings: dict[str, float]
    sidecars: dict[str, Path]
    thumbnail: Path
    manifest: Path


# Draws the video as far as the turns voiced so far tell (``frames`` frames; the last
# animate.SETTLE of them may still change with the next turn): (spoken, frames) -> draw(n).
Perform = Callable[[Sequence[SpokenTurn], int], Callable[[int], Frame]]
MIN_SEGMENT_S = 2.0  # fewer frames than this ready: wait for the next turn


def film(
    perform: Perform,
    voicing: Voicing,
    look: Look,
    output: Path,
    workdir: Path,
    about: Callable[[Cut], dict[str, object]],
    preview: bool = False,
    progress: Progress | None = None,
) -> tuple[Cut, Filmed]:
    """Voice, draw and encode a talking or podcast video into ``output`` (working in
    ``workdir``), with its SRT/VTT sidecars, a thumbnail a third of the way in and the
    manifest (kind, video, duration, size and rate, the rest of ``about(cut)``, timings).

    The frames of each voiced turn are drawn and encoded (a segment of the render plan) while
    the next turns are being voiced; once every turn is voiced the voices' models are
    released, then the plan encodes the rest, mixes the sound and joins the segments."""
    from reelforge.render.plan import compile_plan, segment
    from reelforge.render.runner import encode_segment, run_plan
    from reelforge.talking.animate import SETTLE

    fps = look.fps
    width, height = look.size
    painter = None
    if look.speakers is not None:
        painter = CaptionPainter(
            [], look.colours, width, height, fps, look.caption_y, look.language
        )

    def drawing(spoken: Sequence[SpokenTurn], frames: int) -> Callable[[int], Frame]:
        stage = perform(spoken, frames)
        if painter is None:
            return stage
        painter.lines = captions(spoken, look.language)
        paint = painter

        def draw(number: int) -> Frame:
            frame = stage(number)
            paint.draw(frame, number)
            return frame

        return draw

    render = workdir / "render"
    render.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    spoken: list[SpokenTurn] = []
    bounds = [0]  # first frames of the segments encoded so far, then where the next starts
    blank = _timeline(look, (), (), 1, preview)  # what a segment's encode reads: size, encoder
    with voicing:
        main = 0
        for turn in voicing:
            spoken.append(turn)
            if turn.reaction:  # its turn follows
                continue
            main += 1
            if main == len(voicing.turns):
                break
            horizon = round(voicing.next_start(turn, main) * fps / 1000)
            ready = horizon - round(SETTLE * fps / 30)
            if ready - bounds[-1] < MIN_SEGMENT_S * fps:
                continue
            piece = segment(blank, render, len(bounds) - 1, bounds[-1], ready)
            encode_segment(blank, piece, _i420(drawing(spoken, horizon)))
            bounds.append(ready)
    voice_s = voicing.seconds
    release_voices()
    frames = total_frames(spoken, fps)
    lines = captions(spoken, look.language)
    draw = drawing(spoken, frames)
    timeline = _timeline(look, spoken, lines, frames, preview)
    plan = compile_plan(timeline, output, render, cuts=bounds[1:])
    timings = run_plan(timeline, plan, progress, source=_i420(draw), encoded=len(bounds) - 1)
    timings["segments"] = len(plan.segments) or 1
    timings["total_s"] = time.perf_counter() - started
    cut = Cut(spoken, lines, frames, look)
    sidecars = {} if look.speakers is None else write_sidecars(lines, output, look.speakers)
    thumb = write_thumbnail(draw(min(frames - 1, frames // 3)), output.with_suffix(".jpg"))
    data = about(cut)
    manifest = write_manifest(
        output.with_suffix(".json"),
        {
            "kind": data.pop("kind"),
            "video": output.name,
            "duration_s": cut.duration,
            "size": list(look.size),
            "fps": fps,
            **data,
            "timings": {"voice_s": round(voice_s, 3), **timings},
        },
    )
    return cut, Filmed(timings, sidecars, thumb, manifest)


def write_manifest(path: Path, data: dict[str, object]) -> Path:
    path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    return path
