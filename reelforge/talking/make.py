"""Talking videos: one character (built-in or from a photo) saying a script, lip-synced.

:func:`make_talking` voices the script, builds the mouth track from the voice's own phoneme
timings, keeps the face alive (blinks, breathing, head motion), draws captions and encodes
once with the narration, loudness-normalised.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from reelforge.errors import SpecError
from reelforge.talking import animate, cast, produce
from reelforge.talking.visemes import MouthTrack

Progress = Callable[[str, float], None]
Frame = NDArray[np.uint8]
CAPTION_COLOURS = ("#ffffff", "#ffd166", "#7bdff2", "#f7a1c4")


@dataclass(frozen=True)
class TalkingResult:
    """What a talking video or podcast wrote, and how it went."""

    video: Path
    captions: dict[str, Path]
    thumbnail: Path
    manifest: Path
    duration_s: float
    notes: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(
        cls, video: Path, cut: produce.Cut, filmed: produce.Filmed, notes: list[str]
    ) -> TalkingResult:
        """The result of filming ``cut`` into ``video``."""
        files = (filmed.sidecars, filmed.thumbnail, filmed.manifest)
        return cls(video, *files, cut.duration, tuple(notes), filmed.timings)


def script_turns(script: str) -> list[str]:
    """The spoken paragraphs of a plain-text or Markdown script, in order."""
    import reelforge

    board = reelforge.parse_script(script)
    texts = [scene.narration.strip() for scene in board.scenes if scene.narration.strip()]
    if not texts:
        raise SpecError("the script has nothing to say", hint="write a few sentences")
    return texts


class _Stage(Protocol):
    def draw(self, number: int) -> Frame: ...


class CharacterStage:
    """A built-in character alone on a studio backdrop, captions under the face."""

    def __init__(
        self,
        character: cast.Character,
        mouth: MouthTrack,
        motion: animate.Motion,
        size: tuple[int, int],
        painter: produce.CaptionPainter | None,
    ) -> None:
        width, height = size
        self.character, self.mouth, self.motion, self.painter = character, mouth, motion, painter
        self.background = cast.studio_background(
            width, height, "#f4efe6", "#d8e2f0", character.accent_color, seed=len(character.name)
        )
        portrait = height > width
        self.unit = min(width * (0.46 if portrait else 0.5), height * 0.3)
        self.centre = (width / 2, height * (0.36 if portrait else 0.34))

    def face_box(self) -> tuple[float, float, float, float]:
        """(x, y, w, h) of the face at rest, in pixels (for measurements)."""
        return (
            self.centre[0] - self.unit / 2,
            self.centre[1] - self.unit * 0.66,
            self.unit,
            self.unit * 1.3,
        )

    def draw(self, number: int) -> Frame:
        frame = self.background.copy()
        pose = self.motion.pose(number, self.mouth)
        cast.draw_character(frame, self.character, pose, self.centre, self.unit)
        if self.painter is not None:
            self.painter.draw(frame, number)
        return frame


def make_talking(
    script: str,
    output: str | Path,
    *,
    character: str | None = None,
    portrait: str | Path | None = None,
    voice: str | None = None,
    format: str = "9:16",
    language: str = "en",
    preview: bool = False,
    fps: int = 30,
    speed: float = 1.0,
    captions: bool = True,
    seed: int = 0,
    workdir: str | Path | None = None,
    progress: Progress | None = None,
) -> TalkingResult:
    """A lip-synced talking video of ``script`` (plain text or Markdown).

    The speaker is a built-in ``character`` (``reelforge.talking.cast.CAST``) or a
    ``portrait`` photo; with neither, the cast member matching the voice speaks.
    """
    if character and portrait:
        raise SpecError(
            "give a portrait or a character, not both", hint="drop --character or the photo"
        )
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="talking-") as scratch:
        work = Path(workdir) if workdir else Path(scratch)
        who = cast.character(character) if character else None
        voice_id = voice or (who.voice if who else None)
        if voice_id is None and portrait is None:
            voice_id = "en-adult-female"
        if voice_id is not None:
            from reelforge.voices import resolve_voice

            try:
                resolve_voice(voice_id, language)
            except SpecError:
                if voice:
                    raise
                voice_id = None  # the character's own voice is not installed here: default
        if voice_id is None:
            from reelforge.voices import resolve_voice

            voice_id = resolve_voice(None, language).id
        if who is None and portrait is None:
            who = cast.for_voice(voice_id)
        size = produce.frame_size(format, preview)
        turns = [produce.Turn(0, text) for text in script_turns(script)]
        started = time.perf_counter()
        spoken = produce.speak(turns, [voice_id], language, work, speed=speed, progress=progress)
        produce.release_voices()
        voice_s = time.perf_counter() - started
        frames = produce.total_frames(spoken, fps)
        mouth = produce.mouth_tracks(spoken, 1, frames, fps)[0]
        lines = produce.captions(spoken, language)
        notes: list[str] = []
        portrait_y = 0.8
        stage: _Stage
        if portrait is not None:
            from reelforge.talking.portrait import PortraitStage

            motion = animate.motion(frames, fps, seed, mouth.open)
            photo = PortraitStage.from_file(Path(portrait), mouth, motion, size)
            notes.extend(photo.notes)
            stage = photo
            portrait_y = photo.caption_y
        else:
            assert who is not None
            motion = animate.motion(frames, fps, seed, mouth.open)
            stage = CharacterStage(who, mouth, motion, size, None)
        named = ["speaker"] if captions else None
        cut = produce.Cut(
            spoken, lines, frames, fps, size, language, CAPTION_COLOURS, portrait_y, named
        )
        about: dict[str, object] = {
            "kind": "talking",
            "video": out.name,
            "duration_s": cut.duration,
            "size": list(size),
            "fps": fps,
            "voice": voice_id,
            "character": who.name if who else None,
            "portrait": bool(portrait),
            "mouth": mouth.source,
            "phoneme_timings": all(t.speech.phonemes for t in spoken),
            "notes": notes,
        }
        filmed = produce.film(
            stage.draw, cut, out, work / "render", about, voice_s, preview, progress
        )
    return TalkingResult.of(out, cut, filmed, notes)
