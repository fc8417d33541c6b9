"""Who is on screen and who is talking, on sampled frames of one clip's span.

Frames are decoded once at a small analysis size (``ANALYSIS_WIDTH``) and a few per second
(``SAMPLE_FPS``), never every frame of the whole source. On each sample:

- faces: CenterFace (ONNX) when installed, else OpenCV's Haar frontal-face cascade (see
  :mod:`reelforge.clips.detectors`);
- tracks: detections joined to the nearest track of the previous samples;
- mouth movement: the change of each face's mouth area (lower third of the box) since the
  previous sample;
- shot cuts: a jump in the small grey thumbnail's difference from the previous sample.

The active speaker is the face whose mouth moves while the audio is loud: per sample,
``motion x loudness`` smoothed over about a second, with hysteresis (another face takes over
only when it leads clearly for :data:`SWITCH_SAMPLES` samples in a row).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from reelforge.clips.detectors import face_detector

SAMPLE_FPS = 5
ANALYSIS_WIDTH = 480
SWITCH_SAMPLES = 2  # a new speaker must lead this many samples in a row (0.4 s at 5 fps)
SWITCH_MARGIN = 1.5  # ... by this factor over the current one
CUT_LEVEL = 28.0  # mean grey difference (0..255) of 64x36 thumbnails that marks a cut
MIN_TRACK_SHARE = 0.1  # tracks seen on fewer samples are false detections
GAP_SAMPLES = 2 * SAMPLE_FPS  # a face missed for up to 2 s is still there
DETECT_EVERY = 2  # look for faces on every 2nd sample (mouths are compared on every one)


@dataclass
class Track:
    """One face over time: sample index -> box (x, y, w, h) in source pixels, mouth motion."""

    boxes: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)
    motion: dict[int, float] = field(default_factory=dict)

    def centre(self, sample: int) -> tuple[float, float] | None:
        box = self.boxes.get(sample)
        if box is None:
            return None
        x, y, w, h = box
        return x + w / 2, y + h / 2

    def last_box(self, before: int) -> tuple[int, tuple[float, float, float, float]] | None:
        seen = [k for k in self.boxes if k < before]
        if not seen:
            return None
        k = max(seen)
        return k, self.boxes[k]


@dataclass(frozen=True)
class Analysis:
    """What the samples of one span showed: times (s, from the span's start), face tracks,
    the active track per sample (-1: nobody), cut sample indices, the source frame size."""

    times: tuple[float, ...]
    tracks: tuple[Track, ...]
    speaker: tuple[int, ...]
    cuts: tuple[int, ...]
    width: int
    height: int

    def face_share(self) -> float:
        """The share of samples with at least one face."""
        if not self.times:
            return 0.0
        seen = {k for track in self.tracks for k in track.boxes}
        return len(seen) / len(self.times)


def _mouth_patch(grey: NDArray[np.uint8], box: tuple[int, int, int, int]) -> NDArray[np.float32]:
    import cv2

    x, y, w, h = box
    top, bottom = y + int(h * 0.62), min(grey.shape[0], y + int(h * 1.0))
    left, right = x + int(w * 0.2), x + int(w * 0.8)
    patch = grey[top:bottom, left:right]
    if patch.size == 0:
        return np.zeros((12, 24), np.float32)
    return cv2.resize(patch, (24, 12), interpolation=cv2.INTER_AREA).astype(np.float32)


def _crosses(cuts: set[int], first: int, second: int) -> bool:
    return any(first < cut <= second for cut in cuts)


def _fill_gaps(track: Track, count: int, cuts: set[int]) -> None:
    """Samples where the detector missed a face it saw shortly before and after (up to
    :data:`GAP_SAMPLES` away, within one shot) get the box between; the ends are held as
    long. Detectors miss faces on some frames; the person did not leave."""
    seen = sorted(track.boxes)
    for k in range(max(0, seen[0] - GAP_SAMPLES), min(count, seen[-1] + GAP_SAMPLES + 1)):
        if k in track.boxes:
            continue
        before = max((j for j in seen if j < k), default=None)
        after = min((j for j in seen if j > k), default=None)
        if before is not None and (k - before > GAP_SAMPLES or _crosses(cuts, before, k)):
            before = None
        if after is not None and (after - k > GAP_SAMPLES or _crosses(cuts, k, after)):
            after = None
        if before is not None and after is not None:
            share = (k - before) / (after - before)
            a, b = np.array(track.boxes[before]), np.array(track.boxes[after])
            track.boxes[k] = tuple(float(v) for v in a + (b - a) * share)  # type: ignore[assignment]
        elif before is not None or after is not None:
            track.boxes[k] = track.boxes[before if before is not None else after]  # type: ignore[index]


def _mouth_motion(
    track: Track, greys: list[NDArray[np.uint8]], scale: float, cuts: set[int]
) -> None:
    """How much the mouth area changes from one sample to the next. The area is the median
    of the track's boxes over about two seconds, so the detector's jitter of a few pixels
    does not read as speech."""
    samples = sorted(track.boxes)
    boxes = np.array([track.boxes[k] for k in samples]) / scale
    previous: NDArray[np.float32] | None = None
    for position, k in enumerate(samples):
        near = boxes[max(0, position - SAMPLE_FPS) : position + SAMPLE_FPS + 1]
        box = tuple(int(v) for v in np.median(near, axis=0))
        patch = _mouth_patch(greys[k], box)  # type: ignore[arg-type]
        if previous is None or k in cuts or (k - 1) not in track.boxes:
            track.motion[k] = 0.0
        else:
            track.motion[k] = float(np.abs(patch - previous).mean())
        previous = patch


def _join(tracks: list[Track], sample: int, box: tuple[float, float, float, float]) -> Track:
    """The track ``box`` continues (nearest centre within about a face width, seen within
    :data:`GAP_SAMPLES`), else a new one."""
    x, y, w, h = box
    best, distance = None, float("inf")
    for track in tracks:
        last = track.last_box(sample)
        if last is None or sample - last[0] > GAP_SAMPLES or sample in track.boxes:
            continue
        lx, ly, lw, lh = last[1]
        d = float(np.hypot(x + w / 2 - lx - lw / 2, y + h / 2 - ly - lh / 2))
        if d < max(w, lw) * 0.8 * (sample - last[0]) ** 0.5 and d < distance:
            best, distance = track, d
    if best is None:
        best = Track()
        tracks.append(best)
    return best


def analyse(
    frames: list[NDArray[np.uint8]],
    times: list[float],
    loudness: NDArray[np.float32],
    source_size: tuple[int, int],
) -> Analysis:
    """Faces, speakers and cuts on BGR analysis ``frames`` sampled at ``times`` (s); the
    loudness of the audio at each sample; boxes are returned in source pixels."""
    import cv2

    detector = face_detector()
    tracks: list[Track] = []
    cuts: list[int] = []
    greys: list[NDArray[np.uint8]] = []
    previous_thumb: NDArray[np.float32] | None = None
    width, height = source_size
    scale = width / frames[0].shape[1] if frames else 1.0
    for index, frame in enumerate(frames):
        grey: NDArray[np.uint8] = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), np.uint8)
        greys.append(grey)
        thumb = cv2.resize(grey, (64, 36), interpolation=cv2.INTER_AREA).astype(np.float32)
        if previous_thumb is not None and float(np.abs(thumb - previous_thumb).mean()) > CUT_LEVEL:
            cuts.append(index)
        previous_thumb = thumb
        if index % DETECT_EVERY and index not in cuts:
            continue  # faces are found on every other sample; the gaps are filled below
        for box in detector.find(frame):
            source_box = tuple(v * scale for v in box)
            track = _join(tracks, index, source_box)  # type: ignore[arg-type]
            track.boxes[index] = source_box  # type: ignore[assignment]
    looked = len(frames) / DETECT_EVERY
    kept = tuple(t for t in tracks if len(t.boxes) >= max(2, MIN_TRACK_SHARE * looked))
    for track in kept:
        _fill_gaps(track, len(frames), set(cuts))
        _mouth_motion(track, greys, scale, set(cuts))
    speaker = active_speaker(kept, len(frames), loudness)
    return Analysis(tuple(times), kept, tuple(speaker), tuple(cuts), width, height)


def active_speaker(
    tracks: tuple[Track, ...], count: int, loudness: NDArray[np.float32]
) -> list[int]:
    """The speaking track per sample (-1 when no face is seen): mouth motion weighted by the
    audio's loudness, smoothed over ~1 s, with hysteresis; one face is always the speaker."""
    if not tracks:
        return [-1] * count
    if len(tracks) == 1:
        return [0 if k in tracks[0].boxes else -1 for k in range(count)]
    level = (
        loudness[:count] if loudness.size >= count else np.pad(loudness, (0, count - loudness.size))
    )
    evidence = np.zeros((len(tracks), count), np.float32)
    for number, track in enumerate(tracks):
        for k, value in track.motion.items():
            evidence[number, k] = value * float(level[k])
    # ~1 s of evidence, mostly from before the sample: a switch follows the new speaker's
    # first words rather than anticipating them (and cutting the last words of the other)
    ahead = 1
    behind = SAMPLE_FPS - 1 - ahead
    padded = np.pad(evidence, ((0, 0), (behind, ahead)))
    windows = np.cumsum(padded, axis=1)
    windows = np.concatenate([np.zeros((len(tracks), 1), np.float32), windows], axis=1)
    smooth = (windows[:, SAMPLE_FPS:] - windows[:, :-SAMPLE_FPS]) / SAMPLE_FPS
    current, challenger, streak = -1, -1, 0
    out: list[int] = []
    for k in range(count):
        visible = [n for n, t in enumerate(tracks) if k in t.boxes]
        if not visible:
            out.append(-1 if current == -1 else current)
            continue
        leader = max(visible, key=lambda n: smooth[n, k])
        if current not in visible:
            current, streak = leader, 0
        elif leader != current and smooth[leader, k] > SWITCH_MARGIN * smooth[current, k] + 1e-6:
            streak = streak + 1 if leader == challenger else 1
            challenger = leader
            if streak >= SWITCH_SAMPLES:
                current, streak = leader, 0
        else:
            streak = 0
        out.append(current)
    return out
