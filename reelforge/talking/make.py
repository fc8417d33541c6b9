"""Talking videos: one character (built-in or from a photo) saying a script, lip-synced.

:func:`make_talking` voices the script, builds the mouth track from the voice's own phoneme
timings, keeps the face alive (blinks, breathing, head motion), draws captions and encodes
once with the narration, loudness-normalised.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reelforge.errors import SpecError
from reelforge.kinds import VideoFiles
from reelforge.talking import animate, cast, produce
from reelforge.talking.portrait import PortraitStage, picture_files
from reelforge.talking.visemes import MouthTrack, silent_track

Progress = Callable[[str, float], None]
Frame = NDArray[np.uint8]
CAPTION_COLOURS = ("#ffffff", "#ffd166", "#7bdff2", "#f7a1c4")


@dataclass(frozen=True)
class TalkingResult(VideoFiles):
    """What a talking video or podcast wrote, and how it went."""

    duration_s: float
    notes: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(
        cls, video: Path, shot: tuple[produce.Cut, produce.Filmed], notes: list[str]
    ) -> TalkingResult:
        """The result of filming ``cut`` into ``video``."""
        cut, filmed = shot
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


class CharacterStage:
    """A built-in character alone on a studio backdrop, captions under the face."""

    def __init__(
        self,
        character: cast.Character,
        mouth: MouthTrack,
        motion: animate.Motion,
        size: tuple[int, int],
        animated: bool = False,
        fps: int = 30,
    ) -> None:
        width, height = size
        self.character, self.mouth, self.motion = character, mouth, motion
        colours = ("#f4efe6", "#d8e2f0", character.accent_color)
        self.backdrop = cast.Backdrop(width, height, colours, len(character.name), animated, fps)
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
        frame = self.backdrop.at(number).copy()
        pose = self.motion.pose(number, self.mouth)
        cast.draw_character(frame, self.character, pose, self.centre, self.unit)
        return frame


def picture_track(
    starts_ms: Sequence[int], pictures: int, frames: int, fps: int
) -> NDArray[np.int32]:
    """Which of ``pictures`` each frame shows when they take turns: the turn starting at
    ``starts_ms[k]`` shows picture ``k % pictures``, cut in the gap just before it."""
    track = np.zeros(frames, np.int32)
    for k, start in enumerate(starts_ms[1:], 1):
        track[max(0, round((start - 150) * fps / 1000)) :] = k % pictures
    return track


def make_talking(
    script: str,
    output: str | Path,
    options: produce.TalkingOptions | None = None,
    *,
    character: str | None = None,
    portrait: str | Path | Sequence[str | Path] | None = None,
    voice: str | None = None,
    workdir: str | Path | None = None,
    progress: Progress | None = None,
    **fields: Any,
) -> TalkingResult:
    """A lip-synced talking video of ``script`` (plain text or Markdown).

    The speaker is a built-in ``character`` (``reelforge.talking.cast.CAST``) or a
    ``portrait`` photo; with neither, the cast member matching the voice speaks. Several
    portraits (poses, outfits of the same character) take the script's paragraphs in turn: one
    character, many scenes. A built-in character stands on a ``background`` of
    :data:`cast.BACKGROUNDS`.

    How it is filmed is a :class:`produce.TalkingOptions` (``format``, ``language``,
    ``preview``, ``fps``, ``speed``, ``captions``, ``seed``, ``background``), given as
    ``options`` or field by field as keywords (``format="1:1"``), which win over ``options``.
    """
    filming = replace(options or produce.TalkingOptions(), **fields)
    language, fps, seed = filming.language, filming.fps, filming.seed
    cast.check_background(filming.background)
    if character and portrait:
        raise SpecError(
            "give a portrait or a character, not both", hint="drop --character or the photo"
        )
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="talking-") as scratch:
        work = Path(workdir) if workdir else Path(scratch)
        who = cast.character(character) if character else None
        voice_id = produce.voice_for(voice, who.voice if who else None, language)
        photos = picture_files(portrait)
        if who is None and not photos:
            who = cast.for_voice(voice_id)
        size = produce.frame_size(filming.format, filming.preview)
        turns = [produce.Turn(0, text) for text in script_turns(script)]
        notes: list[str] = []
        still = silent_track(1, fps)
        resting = animate.motion(1, fps, seed, still.open)
        stages: list[PortraitStage] | list[CharacterStage]
        if photos:
            posed: list[PortraitStage] = []
            for number, path in enumerate(photos, 1):
                prefix = f"portrait {number}: " if len(photos) > 1 else ""
                try:  # every picture checked before any voice speaks, a bad one named
                    posed.append(PortraitStage.from_file(path, still, resting, size))
                except SpecError as exc:
                    raise SpecError(prefix + exc.message, hint=exc.hint) from None
                notes.extend(prefix + note for note in posed[-1].notes)
            stages = posed
        else:
            assert who is not None
            animated = filming.background == "animated"
            stages = [CharacterStage(who, still, resting, size, animated, fps)]
        stage = stages[0]
        mouths: dict[int, MouthTrack] = {}
        scene = np.zeros(1, np.int32)  # which stage draws each frame: paragraph k, stage k % n

        def perform(spoken: Sequence[produce.SpokenTurn], frames: int) -> Callable[[int], Frame]:
            nonlocal scene
            mouth = produce.mouth_tracks(spoken, 1, frames, fps, mouths)[0]
            motion = animate.motion(frames, fps, seed, mouth.open)
            for each in stages:
                each.mouth, each.motion = mouth, motion
            scene = picture_track([turn.start_ms for turn in spoken], len(stages), frames, fps)
            return draw

        def draw(number: int) -> Frame:
            return stages[int(scene[min(number, len(scene) - 1)])].draw(number)

        def about(cut: produce.Cut) -> dict[str, object]:
            return {
                "kind": "talking",
                "voice": voice_id,
                "character": who.name if who else None,
                "portrait": bool(photos),
                "portraits": len(photos),
                "mouth": stage.mouth.source,
                "phoneme_timings": all(t.speech.phonemes for t in cut.spoken),
                "notes": notes,
            }

        caption_y = stage.caption_y if isinstance(stage, PortraitStage) else 0.8
        named = ["speaker"] if filming.captions else None
        look = produce.Look(size, fps, language, CAPTION_COLOURS, caption_y, named)
        voicing = produce.Voicing(
            turns, [voice_id], language, work, speed=filming.speed, progress=progress
        )
        shot = produce.film(perform, voicing, look, out, work, about, filming.preview, progress)
    return TalkingResult.of(out, shot, notes)
