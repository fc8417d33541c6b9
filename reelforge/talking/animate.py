"""Keeping characters alive: blinks, breathing, small head motion, nods and gaze, per frame.

All motion is seeded (the same character and seed move the same way in every render) and
made of slow sums of sines plus events (blinks, nods), so nothing loops visibly. A speaker's
head follows the emphasis of their own voice (loudness); a listener keeps a closed mouth,
looks at the speaker and nods now and then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from reelforge.talking.cast import Pose
from reelforge.talking.visemes import MouthTrack, smooth

Float = NDArray[np.float32]

# Frames (at 30 fps) ahead of a change of input that the smoothing reaches back: a render
# drawn turn by turn draws up to this far before the next turn.
SETTLE = 60
_BLINK = (0.45, 1.0, 1.0, 0.55, 0.2)  # lid closure over a blink's frames at 30 fps (~170 ms)


@dataclass(frozen=True)
class Motion:
    """Per-frame pose parameters of one character (arrays of equal length)."""

    blink: Float
    tilt: Float
    dx: Float
    dy: Float
    nod: Float
    brow: Float
    breath: Float
    gaze_x: Float
    gaze_y: Float

    def pose(self, frame: int, mouth: MouthTrack) -> Pose:
        k = min(max(frame, 0), len(self.blink) - 1)
        return Pose(
            mouth=mouth.at(frame),
            blink=float(self.blink[k]),
            gaze_x=float(self.gaze_x[k]),
            gaze_y=float(self.gaze_y[k]),
            tilt_deg=float(self.tilt[k]),
            head_dx=float(self.dx[k]),
            head_dy=float(self.dy[k]),
            nod=float(self.nod[k]),
            brow=float(self.brow[k]),
            breath=float(self.breath[k]),
        )


def _events(rng: np.random.Generator, frames: int, fps: int, low: float, high: float) -> list[int]:
    out: list[int] = []
    t = rng.uniform(0.3, high) * fps
    while t < frames:
        out.append(int(t))
        t += rng.uniform(low, high) * fps
    return out


def motion(
    frames: int,
    fps: int,
    seed: int,
    speaking: Float,
    *,
    look_at: Float | None = None,
    listening: Float | None = None,
) -> Motion:
    """The motion of one character over ``frames`` frames; the first frames do not depend
    on how many follow, except the last :data:`SETTLE` before a change of ``speaking``,
    ``look_at`` or ``listening`` (the smoothing reaches that far ahead).

    ``speaking`` is the character's own mouth opening per frame (0 while silent): the head
    bobs and the brows lift with its emphasis. ``look_at`` is the gaze direction per frame
    (-1 left .. 1 right, 0 the camera); ``listening`` is 1 where another character speaks, and
    the character nods there now and then.
    """
    streams = iter(range(1, 1000))

    def stream() -> np.random.Generator:
        # one generator per feature: a longer render draws the same motion, only longer
        # (a render drawn while its later turns are still being voiced relies on that)
        return np.random.default_rng([seed & 0xFFFFFFFF, next(streams)])

    t = np.arange(frames, dtype=np.float32) / fps
    scale = fps / 30

    blink = np.zeros(frames, np.float32)
    for start in _events(stream(), frames, fps, 2.2, 5.5):
        for k, value in enumerate(_BLINK):
            index = start + round(k * scale)
            if 0 <= index < frames:
                blink[index] = max(blink[index], value)

    def wave(period: float, amplitude: float) -> Float:
        phase = stream().uniform(0, 2 * math.pi)
        values: Float = (amplitude * np.sin(2 * math.pi * t / period + phase)).astype(np.float32)
        return values

    emphasis = smooth(np.asarray(speaking, np.float32)[:frames], 4.0 * scale)
    emphasis = np.pad(emphasis, (0, max(0, frames - len(emphasis))))
    slow = smooth(emphasis, 12.0 * scale)
    tilt = wave(7.3, 1.4) + wave(3.1, 0.6) + 2.5 * (emphasis - slow)
    dx = wave(9.1, 0.012) + wave(4.3, 0.006)
    dy = wave(5.7, 0.008) - 0.05 * (emphasis - slow)
    brow = np.clip(2.0 * (emphasis - slow) + 0.3 * slow, 0, 1)
    breath = np.sin(2 * math.pi * t / 4.2 + stream().uniform(0, 6)).astype(np.float32)

    nod = np.zeros(frames, np.float32)
    if listening is not None:
        listen = np.asarray(listening, np.float32)[:frames]
        shape = np.sin(np.linspace(0, math.pi, max(3, int(0.7 * fps)))) * 0.035
        for start in _events(stream(), frames, fps, 2.0, 4.5):
            if start < len(listen) and listen[start] > 0.5:
                end = min(frames, start + len(shape))
                nod[start:end] += shape[: end - start].astype(np.float32)
    nod += (0.02 * np.clip(emphasis - slow, 0, None)).astype(np.float32)

    gaze_x = wave(6.0, 0.12)
    gaze_y = wave(8.0, 0.08)
    if look_at is not None:
        target = smooth(np.asarray(look_at, np.float32)[:frames], 5.0 * scale)
        gaze_x = gaze_x + 0.85 * target
        tilt = tilt + 2.0 * target
    return Motion(
        blink=blink,
        tilt=tilt.astype(np.float32),
        dx=dx.astype(np.float32),
        dy=dy.astype(np.float32),
        nod=nod,
        brow=brow.astype(np.float32),
        breath=breath,
        gaze_x=np.clip(gaze_x, -1, 1).astype(np.float32),
        gaze_y=np.clip(gaze_y, -1, 1).astype(np.float32),
    )
