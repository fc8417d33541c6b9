"""The crop window of a vertical (or square) clip over time: a smooth path that follows the
speaker.

The window has the output's aspect ratio and the largest size the source allows. Its target
on each analysis sample is the active speaker's face (placed a little above the window's
middle), else the last face seen, else the frame's centre. The camera then moves like an
operator would:

- a **dead zone**: small target moves (a nodding head) do not move the window at all;
- **bounded velocity and acceleration**: pans ease in and out, never faster than
  :data:`MAX_SPEED` window widths a second;
- **cuts**: at a shot cut the window jumps to the new target at once (never drifting across
  the cut), and when the speaker changes to a face more than a window width away the window
  cuts to them too (a pan across the empty space between two people looks like a mistake);
  every jump is listed in :attr:`CropPath.cuts`;
- nobody on screen for most of the clip: no crop path at all, the clip uses the
  blurred-background fit (the whole frame, letterboxed over a blurred copy of itself).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reelforge.clips.faces import Analysis
from reelforge.errors import SpecError

FORMATS = {"9:16": (9, 16), "1:1": (1, 1), "4:5": (4, 5), "16:9": (16, 9)}
DEAD_ZONE = 0.08  # of the window's width (and height)
MAX_SPEED = 1.0  # window widths a second
MAX_ACCEL = 3.0  # window widths a second squared
GAIN = 4.0  # speed per unit of distance to the target, before the limits (1/s)
FACE_LEVEL = 0.4  # the face's centre sits this far down the window (0.5 = middle)
MIN_FACE_SHARE = 0.3  # fewer samples with a face than this: the blurred-background fit


@dataclass(frozen=True)
class CropPath:
    """The crop window's top-left corner per analysis sample (source pixels), its size, and
    the sample indices where it jumps (cuts). ``fit == "blur"``: no crop, blurred background."""

    times: tuple[float, ...]
    x: tuple[float, ...]
    y: tuple[float, ...]
    width: int
    height: int
    cuts: tuple[int, ...]
    fit: str = "crop"

    def at(self, seconds: float) -> tuple[int, int]:
        """The window's corner at ``seconds`` (from the span's start): linear between
        samples, a step at a cut."""
        if not self.times:
            return 0, 0
        times = self.times
        if seconds <= times[0]:
            return round(self.x[0]), round(self.y[0])
        k = int(np.searchsorted(times, seconds, side="right")) - 1
        if k >= len(times) - 1:
            return round(self.x[-1]), round(self.y[-1])
        if (k + 1) in self.cuts:
            return round(self.x[k]), round(self.y[k])  # hold until the cut, then jump
        share = (seconds - times[k]) / (times[k + 1] - times[k])
        x = self.x[k] + (self.x[k + 1] - self.x[k]) * share
        y = self.y[k] + (self.y[k + 1] - self.y[k]) * share
        return round(x), round(y)


def window_size(source: tuple[int, int], format_name: str) -> tuple[int, int]:
    """The largest window of ``format_name``'s aspect ratio inside ``source`` (even sizes)."""
    if format_name not in FORMATS:
        raise SpecError(
            f"unknown clip format {format_name!r}", hint="use one of: " + ", ".join(FORMATS)
        )
    across, down = FORMATS[format_name]
    width, height = source
    if width * down >= height * across:  # the source is wider: full height
        crop_h = height
        crop_w = round(height * across / down)
    else:
        crop_w = width
        crop_h = round(width * down / across)
    return max(2, crop_w - crop_w % 2), max(2, crop_h - crop_h % 2)


def _targets(analysis: Analysis) -> list[tuple[float, float] | None]:
    targets: list[tuple[float, float] | None] = []
    last: tuple[float, float] | None = None
    for k in range(len(analysis.times)):
        if k in analysis.cuts:
            last = None  # a new shot: what was seen before the cut is no guide
        speaking = analysis.speaker[k] if k < len(analysis.speaker) else -1
        centre = None
        if speaking >= 0:
            centre = analysis.tracks[speaking].centre(k)
        if centre is None:
            seen = [c for t in analysis.tracks if (c := t.centre(k)) is not None]
            if seen:
                centre = (
                    float(np.mean([c[0] for c in seen])),
                    float(np.mean([c[1] for c in seen])),
                )
        if centre is not None:
            last = centre
        targets.append(last)
    return targets


def _shot_targets(targets: list[tuple[float, float] | None], cuts: set[int]) -> None:
    """Samples before a shot's first face take that face's place (the window starts on it)."""
    count = len(targets)
    start = 0
    for end in [*sorted(c for c in cuts if c < count), count]:
        first = next((targets[k] for k in range(start, end) if targets[k] is not None), None)
        for k in range(start, end):
            if targets[k] is None:
                targets[k] = first
            else:
                break
        start = end


def crop_path(analysis: Analysis, format_name: str) -> CropPath:
    """The smoothed window path over ``analysis``'s samples for ``format_name``."""
    source = (analysis.width, analysis.height)
    crop_w, crop_h = window_size(source, format_name)
    count = len(analysis.times)
    centre = ((analysis.width - crop_w) / 2, (analysis.height - crop_h) / 2)
    if count == 0 or analysis.face_share() < MIN_FACE_SHARE:
        return CropPath(
            tuple(analysis.times), (centre[0],) * count, (centre[1],) * count, crop_w, crop_h,
            (), fit="blur",
        )  # fmt: skip
    dt = (analysis.times[-1] - analysis.times[0]) / max(1, count - 1) or 0.2
    targets = _targets(analysis)
    cuts = set(analysis.cuts)
    _shot_targets(targets, cuts)

    def corner(target: tuple[float, float] | None) -> tuple[float, float]:
        if target is None:
            return centre
        x = min(max(target[0] - crop_w / 2, 0.0), analysis.width - crop_w)
        y = min(max(target[1] - crop_h * FACE_LEVEL, 0.0), analysis.height - crop_h)
        return x, y

    xs, ys, jumps = [], [], []
    position = corner(targets[0])
    velocity = [0.0, 0.0]
    speaker = analysis.speaker[0] if analysis.speaker else -1
    for k in range(count):
        goal = corner(targets[k])
        new_speaker = analysis.speaker[k] if k < len(analysis.speaker) else -1
        far = abs(goal[0] - position[0]) > crop_w or abs(goal[1] - position[1]) > crop_h
        switched = new_speaker != speaker and new_speaker >= 0 and speaker >= 0 and far
        if k > 0 and (k in cuts or switched):
            position, velocity = goal, [0.0, 0.0]
            jumps.append(k)
        elif k > 0:
            moved = []
            for axis, size in ((0, crop_w), (1, crop_h)):
                error = goal[axis] - position[axis]
                wanted = (
                    0.0 if abs(error) < DEAD_ZONE * size and velocity[axis] == 0 else error * GAIN
                )
                if abs(error) < DEAD_ZONE * size * 0.25:
                    wanted = 0.0  # arrived: stop, so the dead zone holds again
                top = MAX_SPEED * size
                wanted = float(np.clip(wanted, -top, top))
                step = MAX_ACCEL * size * dt
                velocity[axis] = float(
                    np.clip(wanted, velocity[axis] - step, velocity[axis] + step)
                )
                moved.append(position[axis] + velocity[axis] * dt)
            position = (
                min(max(moved[0], 0.0), analysis.width - crop_w),
                min(max(moved[1], 0.0), analysis.height - crop_h),
            )
        if new_speaker >= 0:
            speaker = new_speaker
        xs.append(position[0])
        ys.append(position[1])
    return CropPath(tuple(analysis.times), tuple(xs), tuple(ys), crop_w, crop_h, tuple(jumps))
