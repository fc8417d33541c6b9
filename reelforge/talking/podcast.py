"""Podcasts: two (or more) characters in conversation, each lip-synced on their own turns.

A dialogue is ``HOST: ...`` / ``GUEST: ...`` lines (any label before a colon names a
speaker), or a storyboard (YAML/JSON) with ``speakers`` (label, name, role, voice, character
or portrait) and ``turns``. Turns are voiced one after the other with natural gaps; each
speaker's mouth moves only on their own turns, listeners blink, nod and look at the speaker.

Layouts: ``split`` (side by side; stacked in 9:16), ``60-40`` (the speaker's side 60 %, the
listener's 40, swapping with the turns), ``host-guest`` (40/60), ``pip`` (the
speaker full frame, the listener in a corner), ``interview`` (alternating close-ups on the
speaker) and ``round-table`` (a 2x2 grid for three or four speakers). Active-speaker emphasis
(a border in their colour, listeners dimmed), lower thirds with names and roles, captions in
each speaker's colour.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from reelforge.errors import SpecError
from reelforge.talking import animate, cast, produce
from reelforge.talking.make import TalkingResult, picture_track
from reelforge.talking.portrait import NO_FACE, Face, locate_face, picture_files
from reelforge.talking.visemes import MouthTrack, silent_track

Progress = Callable[[str, float], None]
Frame = NDArray[np.uint8]
Box = tuple[int, int, int, int]
LAYOUTS = ("split", "60-40", "host-guest", "pip", "interview", "round-table")
SPEAKER_COLOURS = ("#ffd166", "#7bdff2", "#f7a1c4", "#b9fbc0")
_LABEL = re.compile(r"^\s*\**([A-Za-z][\w .'-]{0,31}?)\**\s*:\s*(.*)$")
MAX_SPEAKERS = 4
PODCAST_OPTIONS = produce.TalkingOptions(format="16:9")  # a podcast is wide unless told


@dataclass(frozen=True)
class Speaker:
    label: str  # as written in the dialogue ("HOST")
    name: str
    role: str
    voice: str | None = None
    character: str | None = None
    portrait: str | tuple[str, ...] | None = None  # several: pictures taking their turns in turn


@dataclass(frozen=True)
class Dialogue:
    title: str
    speakers: tuple[Speaker, ...]
    turns: tuple[produce.Turn, ...]


def parse_dialogue(text: str) -> Dialogue:
    """``LABEL: words`` lines (a line without a label continues the previous turn; ``#`` is
    the title). Speakers are numbered in order of appearance."""
    title = ""
    labels: list[str] = []
    turns: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            title = title or line.lstrip("#").strip()
            continue
        match = _LABEL.match(line)
        if match:
            label = match.group(1).strip().upper()
            if label not in labels:
                if len(labels) == MAX_SPEAKERS:
                    raise SpecError(
                        f"line {number}: a fifth speaker {label!r}",
                        hint=f"a podcast has at most {MAX_SPEAKERS} speakers",
                    )
                labels.append(label)
            turns.append((labels.index(label), match.group(2).strip()))
        elif turns:
            speaker, said = turns[-1]
            turns[-1] = (speaker, f"{said} {line}".strip())
        else:
            raise SpecError(
                f"line {number} has no speaker: {line[:40]!r}",
                hint="start each turn with a label and a colon, e.g. 'HOST: Welcome back.'",
            )
    if not turns:
        raise SpecError("the dialogue has no turns", hint="write lines like 'HOST: Hello.'")
    for index, (_, said) in enumerate(turns):
        if not said.split():
            raise SpecError(
                f"turn {index + 1} ({labels[turns[index][0]]}) is empty",
                hint="give every turn some words",
            )
    speakers = tuple(
        Speaker(label, label.title(), "Host" if k == 0 else "Guest")
        for k, label in enumerate(labels)
    )
    return Dialogue(title, speakers, tuple(produce.Turn(s, t) for s, t in turns))


def dialogue_from_fields(data: Mapping[str, Any]) -> Dialogue:
    """A storyboard: ``speakers`` (label, name, role, voice, character, portrait) and
    ``turns`` (speaker, text), or ``dialogue`` text with the speakers described."""
    described = {
        str(s.get("label", s.get("id", ""))).strip().upper(): s
        for s in data.get("speakers", [])
        if isinstance(s, Mapping)
    }
    if "dialogue" in data:
        base = parse_dialogue(str(data["dialogue"]))
    else:
        lines = []
        for turn in data.get("turns", []):
            if not isinstance(turn, Mapping):
                raise SpecError("each turn is {speaker, text}", hint="see the podcast docs")
            lines.append(f"{turn.get('speaker', '')}: {turn.get('text', '')}")
        base = parse_dialogue("\n".join(lines))
    unknown = [s.label for s in base.speakers if described and s.label not in described]
    if unknown:
        raise SpecError(
            f"the dialogue names an unknown speaker {unknown[0]!r}",
            hint="speakers described: " + ", ".join(described),
        )
    speakers = []
    for k, speaker in enumerate(base.speakers):
        about = described.get(speaker.label, {})
        speakers.append(
            Speaker(
                speaker.label,
                str(about.get("name") or speaker.name)[:40],
                str(about.get("role") or speaker.role)[:60],
                about.get("voice"),
                about.get("character"),
                _pictures(about.get("portrait")),
            )
        )
        del k
    return Dialogue(str(data.get("title", base.title))[:200], tuple(speakers), base.turns)


def _pictures(value: Any) -> str | tuple[str, ...] | None:
    """A speaker's ``portrait``: one path, or several (a list) as a tuple."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Sequence) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise SpecError(
        f"a speaker's portrait is {type(value).__name__}",
        hint="give a picture's path, or a list of paths of the same character",
    )


Photo = tuple[Frame, Face | None]  # a speaker's picture (BGR) and its face, located once


def _photo(path: Path, who: str, notes: list[str]) -> Photo:
    """The picture at ``path`` and its face, found now, before any voice speaks: a bad one is
    refused, none found is the whole-image mode and a note says so."""
    from reelforge.render.compositor import load_image

    image = np.ascontiguousarray(load_image(path)[..., :3])
    try:
        face = locate_face(image)
    except SpecError as exc:
        raise SpecError(f"{who}: {exc.message}", hint=exc.hint) from None
    if face is None:
        notes.append(f"{who}: {NO_FACE}")
    return image, face


def _renamed(board: Dialogue, index: int, name: str) -> Dialogue:
    speakers = list(board.speakers)
    old = speakers[index]
    speakers[index] = Speaker(old.label, name, old.role, old.voice, old.character, old.portrait)
    return Dialogue(board.title, tuple(speakers), board.turns)


# --------------------------------------------------------------------------- layout


def panels(layout: str, size: tuple[int, int], speakers: int, active: int) -> list[Box | None]:
    """Where each speaker is drawn (x, y, w, h), None where they are not shown."""
    width, height = size
    portrait = height > width
    if layout == "interview":
        return [(0, 0, width, height) if k == active else None for k in range(speakers)]
    if layout == "pip":
        small_w = width // (3 if portrait else 4)
        small_h = round(small_w * (1.25 if portrait else 0.75))
        small_h -= small_h % 2
        boxes: list[Box | None] = []
        others = [k for k in range(speakers) if k != active]
        for k in range(speakers):
            if k == active:
                boxes.append((0, 0, width, height))
            else:
                slot = others.index(k)
                x = width - small_w - width // 30 - slot * (small_w + width // 60)
                boxes.append((x, height // 30, small_w, small_h))
        return boxes
    if layout == "round-table" and speakers > 2:  # a 2x2 grid (three: the last cell empty)
        half_w, half_h = width // 2, height // 2
        cells = [(0, 0), (half_w, 0), (0, half_h), (half_w, half_h)]
        return [
            (x, y, (width - half_w) if x else half_w, (height - half_h) if y else half_h)
            for x, y in cells[:speakers]
        ]
    shares = [1.0] * speakers
    if layout == "host-guest" and speakers == 2:
        shares = [0.4, 0.6]
    if layout == "60-40" and speakers > 1:  # the speaker's panel is 60 %, the others share 40
        shares = [0.6 if k == active else 0.4 / (speakers - 1) for k in range(speakers)]
    total = sum(shares)
    out: list[Box | None] = []
    at = 0
    length = height if portrait else width
    for k in range(speakers):
        size_k = round(length * shares[k] / total) if k < speakers - 1 else length - at
        out.append((0, at, width, size_k) if portrait else (at, 0, size_k, height))
        at += size_k
    return out


class _Actor:
    """One speaker: how they are drawn into a panel."""

    def __init__(
        self,
        speaker: Speaker,
        character: cast.Character | None,
        pictures: Sequence[Photo],
        colour: str,
        seed: int,
        fps: int,
        animated: bool = False,
    ) -> None:
        self.speaker, self.character = speaker, character
        self.mouth = silent_track(1, fps)
        self.motion = animate.motion(1, fps, seed, self.mouth.open)
        self.bars: NDArray[np.float32] | None = None  # (frames, BARS) when a waveform is shown
        self.pictures = pictures  # photos of this speaker (none: the drawn character)
        self.scene = np.zeros(1, np.int32)  # which picture each frame shows
        self.colour = colour
        self.seed, self.fps, self.animated = seed, fps, animated
        self._backdrops: dict[tuple[int, int], cast.Backdrop] = {}
        self._portraits: dict[tuple[int, int, int], Any] = {}

    def perform(
        self,
        mouth: MouthTrack,
        motion: animate.Motion,
        bars: NDArray[np.float32] | None = None,
        scene: NDArray[np.int32] | None = None,
    ) -> None:
        """Move as these tracks say from now on (``bars``: the voice's waveform bars;
        ``scene``: which picture each frame shows)."""
        self.mouth, self.motion, self.bars = mouth, motion, bars
        self.scene = scene if scene is not None else np.zeros(1, np.int32)
        for stage in self._portraits.values():
            stage.mouth, stage.motion = mouth, motion

    def backdrop(self, w: int, h: int) -> cast.Backdrop:
        if (w, h) not in self._backdrops:
            accent = self.character.accent_color if self.character else self.colour
            tops = ("#f4efe6", "#e8eef7", "#f3e9f1", "#eaf4ec")
            colours = (tops[self.seed % len(tops)], "#cdd8e8", accent)
            self._backdrops[(w, h)] = cast.Backdrop(
                w, h, colours, self.seed, self.animated, self.fps
            )
        return self._backdrops[(w, h)]

    def draw(self, frame: Frame, number: int, box: Box) -> None:
        x, y, w, h = box
        if self.pictures:
            from reelforge.talking.portrait import PortraitStage

            picture = int(self.scene[min(number, len(self.scene) - 1)])
            stage = self._portraits.get((picture, w, h))
            if stage is None:
                image, face = self.pictures[picture]
                stage = PortraitStage.framed(image, face, self.mouth, self.motion, (w, h))
                self._portraits[(picture, w, h)] = stage
            frame[y : y + h, x : x + w] = stage.draw(number)
            return
        assert self.character is not None
        frame[y : y + h, x : x + w] = self.backdrop(w, h).at(number)
        unit = min(w * 0.42, h * 0.34)
        centre = (x + w / 2, y + h * 0.42)
        pose = self.motion.pose(number, self.mouth)
        cast.draw_character(frame, self.character, pose, centre, unit, box)

    def draw_waveform(self, frame: Frame, number: int, box: Box) -> None:
        """The voice's spectrum as bars in the panel's lower right (a flat line in silence)."""
        if self.bars is None:
            return
        x, y, w, h = box
        values = self.bars[number] if number < len(self.bars) else np.zeros(BARS, np.float32)
        left, right = x + round(w * 0.56), x + round(w * 0.94)
        middle, tall = y + round(h * 0.76), h * 0.09
        step = (right - left) / BARS
        colour = cast.hex_bgr(self.colour)
        for k, value in enumerate(values):
            half = max(1, round(tall * float(value) / 2))
            bx = round(left + k * step)
            cv2.rectangle(
                frame, (bx, middle - half), (bx + max(1, round(step * 0.6)), middle + half),
                colour, -1, cv2.LINE_AA,
            )  # fmt: skip


BARS = 20  # waveform bars, 120 Hz .. 5 kHz on a log scale


def waveform_bars(samples: NDArray[np.float32], rate: int, fps: int) -> NDArray[np.float32]:
    """(frames, BARS): each video frame's spectrum of the voice in 0..1 (50 dB shown)."""
    hop = rate / fps
    frames = max(1, int(len(samples) / hop))
    window = 1024
    padded = np.concatenate([samples, np.zeros(window, np.float32)])
    starts = (np.arange(frames) * hop).astype(np.int64)
    pieces = padded[starts[:, None] + np.arange(window)[None, :]] * np.hanning(window)
    spectrum = np.abs(np.fft.rfft(pieces, axis=1))
    edges = np.geomspace(120, 5000, BARS + 1) * window / rate
    bins = np.clip(edges.astype(np.int64), 1, spectrum.shape[1] - 1)
    bands = np.stack(
        [spectrum[:, a : max(b, a + 1)].mean(axis=1) for a, b in zip(bins, bins[1:], strict=False)],
        axis=1,
    )
    level = 20 * np.log10(bands + 1e-9)
    top = float(np.percentile(level, 99)) if level.size else 0.0
    out: NDArray[np.float32] = np.clip((level - (top - 50)) / 50, 0, 1).astype(np.float32)
    return out


def _speaker_bars(
    spoken: Sequence[produce.SpokenTurn], shape: tuple[int, int], fps: int, cache: dict[int, Any]
) -> list[NDArray[np.float32]]:
    """Each of ``shape`` (speakers, frames) speakers' waveform bars over the whole video (their
    own turns, flat elsewhere); ``cache`` keeps each turn's bars by its start."""
    from reelforge.talking.visemes import read_wav

    speakers, frames = shape
    out = [np.zeros((frames, BARS), np.float32) for _ in range(speakers)]
    for turn in spoken:
        key = turn.start_ms * 8 + turn.speaker  # a reaction may start with another's turn
        if key not in cache:
            cache[key] = waveform_bars(*read_wav(turn.speech.audio), fps)
        bars = cache[key]
        start = round(turn.start_ms * fps / 1000)
        end = min(frames, start + len(bars))
        if end > start:
            out[turn.speaker][start:end] = np.maximum(
                out[turn.speaker][start:end], bars[: end - start]
            )
    return out


class _LowerThird:
    def __init__(self, speaker: Speaker, colour: str, height: int, language: str) -> None:
        from reelforge.render.compositor import Sprite
        from reelforge.text.fonts import font_file
        from reelforge.text.sprites import render_text

        size = max(10, round(height * 0.034))
        name = render_text(
            speaker.name,
            font_file(None, language, bold=True),
            size,
            color="#ffffff",
            box_color="#101522d0",
            language=language,
            align="left",
        )
        role = render_text(
            speaker.role,
            font_file(None, language),
            max(9, round(size * 0.8)),
            color=colour,
            box_color="#101522d0",
            language=language,
            align="left",
        )
        self.name = Sprite(np.asarray(cv2.cvtColor(name, cv2.COLOR_RGBA2BGRA), np.uint8))
        self.role = Sprite(np.asarray(cv2.cvtColor(role, cv2.COLOR_RGBA2BGRA), np.uint8))

    def draw(self, frame: Frame, box: Box) -> None:
        x, y, w, h = box
        margin = max(6, w // 30)
        top = y + round(h * 0.8) - self.name.height - self.role.height
        self.name.draw(frame, x + margin, top)
        self.role.draw(frame, x + margin, top + self.name.height)


class PodcastStage:
    def __init__(
        self,
        actors: Sequence[_Actor],
        thirds: Sequence[_LowerThird],
        layout: str,
        size: tuple[int, int],
    ) -> None:
        self.actors, self.thirds, self.layout, self.size = actors, thirds, layout, size
        self.active = np.zeros(1, np.int32)

    def perform(self, floor: NDArray[np.int32]) -> None:
        """Who has the floor each frame (:func:`produce.floor`): their panel is emphasised."""
        self.active = floor

    def draw(self, number: int) -> Frame:
        width, height = self.size
        frame = np.zeros((height, width, 3), np.uint8)
        active = int(self.active[min(number, len(self.active) - 1)])
        boxes = panels(self.layout, self.size, len(self.actors), active)
        order = sorted(
            range(len(self.actors)), key=lambda k: 0 if boxes[k] == (0, 0, width, height) else 1
        )
        for k in order:
            box = boxes[k]
            if box is None:
                continue
            self.actors[k].draw(frame, number, box)
            x, y, w, h = box
            if w * h >= 0.2 * width * height:
                self.actors[k].draw_waveform(frame, number, box)
            if k != active and self.layout in ("split", "60-40", "host-guest", "round-table"):
                view = frame[y : y + h, x : x + w]
                cv2.convertScaleAbs(view, view, 0.82, 0)
            if w * h >= 0.2 * width * height:  # a picture-in-picture corner is too small
                self.thirds[k].draw(frame, box)
            thickness = max(2, min(width, height) // 180)
            colour = cast.hex_bgr(self.actors[k].colour) if k == active else (40, 40, 48)
            if self.layout != "interview":
                cv2.rectangle(
                    frame,
                    (x + thickness // 2, y + thickness // 2),
                    (x + w - 1 - thickness // 2, y + h - 1 - thickness // 2),
                    colour,
                    thickness,
                )
        return frame


def _gaze_targets(
    layout: str, size: tuple[int, int], speaking: NDArray[np.float32]
) -> list[NDArray[np.float32]]:
    """Per speaker, where to look each frame: towards the speaker's panel (-1 left .. 1 right)."""
    count, frames = speaking.shape
    out = []
    portrait = size[1] > size[0]
    for k in range(count):
        look = np.zeros(frames, np.float32)
        for j in range(count):
            if j == k:
                continue
            if layout in ("split", "60-40", "host-guest", "round-table") and not portrait:
                direction = 1.0 if j > k else -1.0
            else:
                direction = 0.6 if j > k else -0.6
            look += direction * speaking[j]
        out.append(np.clip(look, -1, 1))
    return out


def make_podcast(
    dialogue: str | Mapping[str, Any],
    output: str | Path,
    options: produce.TalkingOptions | None = None,
    *,
    layout: str = "split",
    waveform: bool = False,
    overlap_ms: int = 0,
    reactions: bool = False,
    speakers: Sequence[Mapping[str, Any]] = (),
    workdir: str | Path | None = None,
    progress: Progress | None = None,
    **fields: Any,
) -> TalkingResult:
    """A podcast video of ``dialogue`` (``HOST:``/``GUEST:`` text, or storyboard fields).

    How it is filmed is a :class:`produce.TalkingOptions` (16:9 unless it says otherwise),
    given as ``options`` or field by field as keywords (``format="9:16"``), which win over
    ``options``; an "animated" ``background`` lets the panels' soft lights drift slowly.
    ``waveform``: each speaker's voice as spectrum bars in their panel; ``overlap_ms``: a new
    speaker starts this much before the previous one ends; ``reactions``: listeners say short
    back-channels ("mm-hm") in long turns (see :class:`produce.Voicing`)."""
    filming = replace(options or PODCAST_OPTIONS, **fields)
    language, fps, seed = filming.language, filming.fps, filming.seed
    cast.check_background(filming.background)
    if layout not in LAYOUTS:
        raise SpecError(f"unknown layout {layout!r}", hint="use one of " + ", ".join(LAYOUTS))
    if isinstance(dialogue, str):
        board = dialogue_from_fields({"dialogue": dialogue, "speakers": list(speakers)})
    else:
        board = dialogue_from_fields(dialogue)
    taken: list[str] = []
    voice_of: list[str] = []
    characters: list[cast.Character | None] = []
    images: list[list[Photo]] = []
    notes: list[str] = []
    personas = ("adult-female", "adult-male", "senior-female", "young-male")
    for k, speaker in enumerate(board.speakers):
        chosen = cast.character(speaker.character) if speaker.character else None
        persona = chosen.voice if chosen else personas[k % len(personas)]
        voice = produce.voice_for(speaker.voice, persona, language)
        files = picture_files(speaker.portrait, speaker.label)
        if files:
            images.append(
                [
                    _photo(
                        path,
                        f"{speaker.label} portrait {n}" if len(files) > 1 else speaker.label,
                        notes,
                    )
                    for n, path in enumerate(files, 1)
                ]
            )
            characters.append(None)
        else:
            images.append([])
            chosen = chosen or cast.for_voice(voice, tuple(taken))
            characters.append(chosen)
            taken.append(chosen.name)
            if speaker.name == speaker.label.title():  # no name given: the character's own
                board = _renamed(board, k, chosen.display_name)
        voice_of.append(voice)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    size = produce.frame_size(filming.format, filming.preview)
    count = len(board.speakers)
    actors = []
    for k, speaker in enumerate(board.speakers):
        colour = SPEAKER_COLOURS[k % len(SPEAKER_COLOURS)]
        animated = filming.background == "animated"
        actors.append(_Actor(speaker, characters[k], images[k], colour, k, fps, animated))
    thirds = [
        _LowerThird(s, SPEAKER_COLOURS[k % len(SPEAKER_COLOURS)], size[1], language)
        for k, s in enumerate(board.speakers)
    ]
    stage = PodcastStage(actors, thirds, layout, size)
    mouths: dict[int, MouthTrack] = {}
    spectra: dict[int, NDArray[np.float32]] = {}

    def perform(spoken: Sequence[produce.SpokenTurn], frames: int) -> Callable[[int], Frame]:
        tracks = produce.mouth_tracks(spoken, count, frames, fps, mouths)
        speaking = produce.speaking_mask(spoken, count, frames, fps)
        looks = _gaze_targets(layout, size, speaking)
        heard = speaking.sum(axis=0)
        bars = _speaker_bars(spoken, (count, frames), fps, spectra) if waveform else None
        for k, actor in enumerate(actors):
            listening = np.clip(heard - speaking[k], 0, 1)
            moves = animate.motion(
                frames, fps, seed * 31 + k, tracks[k].open, look_at=looks[k], listening=listening
            )
            starts = [t.start_ms for t in spoken if t.speaker == k and not t.reaction]
            scene = picture_track(starts, max(1, len(images[k])), frames, fps)
            actor.perform(tracks[k], moves, bars[k] if bars else None, scene)
        stage.perform(produce.floor(spoken, frames, fps))
        return stage.draw

    def about(cut: produce.Cut) -> dict[str, object]:
        return {
            "kind": "podcast",
            "title": board.title,
            "layout": layout,
            "speakers": [
                {
                    "label": s.label,
                    "name": s.name,
                    "role": s.role,
                    "voice": voice_of[k],
                    "character": getattr(characters[k], "name", None),
                    "portrait": bool(s.portrait),
                    "portraits": len(images[k]),
                }
                for k, s in enumerate(board.speakers)
            ],
            "turns": [
                {
                    "speaker": board.speakers[t.speaker].label,
                    "start_ms": t.start_ms,
                    "end_ms": t.end_ms,
                    **({"reaction": t.text} if t.reaction else {}),
                }
                for t in cut.spoken
            ],
            "notes": notes,
        }

    caption_y = 0.92 if size[1] <= size[0] else 0.5
    named = [s.name for s in board.speakers] if filming.captions else None
    look = produce.Look(size, fps, language, SPEAKER_COLOURS, caption_y, named)
    with tempfile.TemporaryDirectory(prefix="podcast-") as scratch:
        work = Path(workdir) if workdir else Path(scratch)
        voicing = produce.Voicing(
            board.turns,
            voice_of,
            language,
            work,
            speed=filming.speed,
            overlap_ms=overlap_ms,
            reactions=reactions,
            progress=progress,
        )
        shot = produce.film(perform, voicing, look, out, work, about, filming.preview, progress)
    return TalkingResult.of(out, shot, notes)
