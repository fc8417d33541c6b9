"""A talking photo: the face found with OpenCV, the mouth opened by warping the lip region.

No network is needed. OpenCV's Haar face detector finds the face; the lip line and mouth
corners are fitted inside its lower third from the lips' redness (Lab a*) and the dark slit
between them, with the face's usual proportions as the fallback. (mediapipe's face mesh would
give 478 landmarks, but installing mediapipe 0.10.21 here would downgrade protobuf under
other packages, so it is not used.)

Per frame, one ``cv2.remap`` over the face moves the lower lip and the chin down by the jaw
opening of the mouth track (the lips part in a lens shape, corners fixed; rounding narrows
them), slides the upper lids down for blinks, and a drawn inner mouth fills the gap (dark
cavity, a teeth hint under the upper lip, the tongue on open vowels). One ``cv2.warpAffine``
then moves the whole picture a little (head tilt, sway, breathing), from a copy scaled 8 %
larger than the frame so no edge ever shows.

A photo with two faces, a face too small or cut by the frame edge is refused with a hint;
a picture where no face is found (a cartoon the detector misses) falls back to the whole-image
mode: the picture moves and breathes, the lips are not animated, and a note says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from reelforge.errors import SpecError
from reelforge.talking.animate import Motion
from reelforge.talking.visemes import MouthTrack

Frame = NDArray[np.uint8]
Float = NDArray[np.float32]

MARGIN = 1.0  # the picture's size relative to the frame
MIN_FACE_FRACTION = 0.08  # a face narrower than this share of the picture is too small
MIN_FACE_PX = 60
MAX_OPEN = 0.17  # the widest opening, in face-box heights
MAX_PICTURES = 6
"""The most pictures of one character (poses, outfits) a talking video or a podcast speaker
takes: each stays in memory, prepared for every panel size it is drawn at."""
NO_FACE = (
    "no face was found in the portrait: whole-image mode (the picture moves and breathes with "
    "the voice; the lips are not animated)"
)


def check_picture_count(count: int, who: str = "the character") -> None:
    """Refuse more than :data:`MAX_PICTURES` pictures of one character (SpecError)."""
    if count > MAX_PICTURES:
        raise SpecError(
            f"{who} has {count} pictures; at most {MAX_PICTURES} are taken",
            hint=f"give at most {MAX_PICTURES} pictures of one character (poses, outfits): "
            "they take the paragraphs (in a podcast, the speaker's turns) in turn",
        )


def picture_files(
    value: str | Path | Sequence[str | Path] | None, who: str = "the character"
) -> list[Path]:
    """The pictures of one character that ``value`` names: one, several or none."""
    items = [] if value is None else [value] if isinstance(value, str | Path) else list(value)
    check_picture_count(len(items), who)
    return [Path(item) for item in items]


@dataclass(frozen=True)
class Face:
    """Where the face is, in picture pixels: the detector's box and the fitted mouth and eyes."""

    box: tuple[int, int, int, int]  # x, y, w, h
    mouth_y: float  # the line between the lips
    mouth_left: float
    mouth_right: float
    eyes: tuple[tuple[float, float], tuple[float, float]]

    @property
    def mouth_centre(self) -> tuple[float, float]:
        return (self.mouth_left + self.mouth_right) / 2, self.mouth_y


def _cascade(name: str) -> cv2.CascadeClassifier:
    return cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / name))  # type: ignore[attr-defined]


def detect_faces(image: Frame) -> list[tuple[int, int, int, int]]:
    """Frontal faces (x, y, w, h) in ``image``, largest first."""
    height, width = image.shape[:2]
    scale = min(1.0, 800 / max(height, width))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
    found = _cascade("haarcascade_frontalface_default.xml").detectMultiScale(
        gray, scaleFactor=1.1, minNeighbors=6, minSize=(24, 24)
    )
    boxes = [
        (round(x / scale), round(y / scale), round(w / scale), round(h / scale))
        for x, y, w, h in (found if len(found) else [])
    ]
    # nested or overlapping detections of one face count once
    boxes.sort(key=lambda b: -b[2] * b[3])
    kept: list[tuple[int, int, int, int]] = []
    for b in boxes:
        cx, cy = b[0] + b[2] / 2, b[1] + b[3] / 2
        if all(not (k[0] <= cx <= k[0] + k[2] and k[1] <= cy <= k[1] + k[3]) for k in kept):
            kept.append(b)
    return kept


def fit_face(image: Frame, box: tuple[int, int, int, int]) -> Face:
    """The lip line, mouth corners and eyes inside a detected face box."""
    x, y, w, h = box
    # the mouth region: the lower part of the box, central half of its width
    x0, x1 = x + int(0.25 * w), x + int(0.75 * w)
    y0, y1 = y + int(0.66 * h), min(image.shape[0], y + int(0.95 * h))
    mouth_y = y + 0.8 * h
    left, right = x + 0.31 * w, x + 0.69 * w
    region = image[y0:y1, x0:x1]
    if region.size:
        lab = cv2.cvtColor(region, cv2.COLOR_BGR2LAB).astype(np.float32)
        redness = lab[..., 1] - float(np.median(lab[..., 1]))
        centre = slice(region.shape[1] // 4, 3 * region.shape[1] // 4)
        lips = np.clip(redness, 0, None)[:, centre].mean(axis=1)
        if lips.max() > 3.0:
            rows = np.flatnonzero(lips > 0.5 * lips.max())
            top, bottom = int(rows[0]), int(rows[-1])
            # the parting line: the middle of the least red rows between the lips' bands
            # (a closed mouth's slit, or the middle of a smile's teeth)
            inside = lips[top : bottom + 1]
            pale = np.flatnonzero(inside < 0.5 * lips.max())
            if bottom - top >= 2 and len(pale):
                mouth_y = y0 + top + float(np.median(pale))
            else:
                mouth_y = y0 + (top + bottom) / 2
            band = np.clip(redness[max(0, top) : bottom + 1], 0, None).mean(axis=0)
            cols = np.flatnonzero(band > 0.35 * band.max())
            if len(cols) >= 2:
                left = float(np.clip(x0 + cols[0], x + 0.28 * w, x + 0.45 * w))
                right = float(np.clip(x0 + cols[-1], x + 0.55 * w, x + 0.72 * w))
    eyes = ((x + 0.31 * w, y + 0.4 * h), (x + 0.69 * w, y + 0.4 * h))
    return Face(box, float(mouth_y), float(left), float(right), eyes)


def opened(path: Path) -> Frame:
    """The picture at ``path`` as BGR, a transparent one laid on white."""
    from reelforge.render.compositor import load_image

    image = load_image(path)
    if image.ndim == 3 and image.shape[2] == 4:
        alpha = image[..., 3:4].astype(np.float32) / 255
        image = (image[..., :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    return image


def check_portrait(path: Path) -> None:
    """Refuse now what a talking video of the picture at ``path`` would refuse when it runs:
    two faces, a face too small or one cut by the edge (:func:`locate_face`'s SpecError). A
    picture with no face passes: it is shown in the whole-image mode."""
    locate_face(opened(path))


def locate_face(image: Frame) -> Face | None:
    """The one face of a portrait, or None (no face found: the whole-image mode).

    Two faces, a face too small or one cut by the picture's edge raise :class:`SpecError`."""
    boxes = detect_faces(image)
    if not boxes:
        return None
    height, width = image.shape[:2]
    if len(boxes) > 1 and boxes[1][2] > 0.5 * boxes[0][2]:
        raise SpecError(
            f"the portrait shows {len(boxes)} faces",
            hint="crop the photo to one person, or use a podcast with one portrait per speaker",
        )
    x, y, w, h = boxes[0]
    if w < MIN_FACE_PX or w < MIN_FACE_FRACTION * min(width, height):
        raise SpecError(
            f"the face is too small ({w} px wide in a {width}x{height} picture)",
            hint="use a closer portrait: the face should be at least 8 % of the picture's "
            "shorter side",
        )
    # the detector's box is tighter than the head: cheeks and chin reach past it
    side, above = 0.1 * w, 0.15 * h
    if x < side or y < above or x + w > width - side or y + 1.25 * h > height:
        raise SpecError(
            "the face is cut by the edge of the picture",
            hint="use a photo with the whole face and the chin inside the frame",
        )
    return fit_face(image, boxes[0])


def _cover(
    image: Frame, face: Face | None, size: tuple[int, int]
) -> tuple[Frame, float, float, float]:
    """The picture scaled to cover ``size`` * MARGIN, the face placed in the upper middle;
    returns (picture, scale, x offset, y offset) so that picture = image * scale - offset."""
    out_w, out_h = round(size[0] * MARGIN), round(size[1] * MARGIN)
    height, width = image.shape[:2]
    scale = max(out_w / width, out_h / height)
    if face is not None:  # a small face in a big picture: come closer (up to 3 face widths)
        fw = face.box[2]
        scale = max(scale, min(out_w / (2.6 * fw), scale * 3))
    cx = face.box[0] + face.box[2] / 2 if face else width / 2
    cy = face.box[1] + face.box[3] * 0.55 if face else height / 2
    ox = min(max(cx * scale - out_w / 2, 0), width * scale - out_w)
    oy = min(max(cy * scale - out_h * 0.4, 0), height * scale - out_h)
    matrix = np.array([[scale, 0, -ox], [0, scale, -oy]], np.float32)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    picture: Frame = cv2.warpAffine(  # type: ignore[assignment]
        image, matrix, (out_w, out_h), flags=interpolation, borderMode=cv2.BORDER_REPLICATE
    )
    return picture, scale, ox, oy


def _scaled_face(face: Face, scale: float, ox: float, oy: float) -> Face:
    x, y, w, h = face.box
    return Face(
        (round(x * scale - ox), round(y * scale - oy), round(w * scale), round(h * scale)),
        face.mouth_y * scale - oy,
        face.mouth_left * scale - ox,
        face.mouth_right * scale - ox,
        (
            (face.eyes[0][0] * scale - ox, face.eyes[0][1] * scale - oy),
            (face.eyes[1][0] * scale - ox, face.eyes[1][1] * scale - oy),
        ),
    )


class PortraitStage:
    """Draws the animated photo for each frame (BGR, the output size)."""

    def __init__(
        self,
        picture: Frame,
        face: Face | None,
        mouth: MouthTrack,
        motion: Motion,
        size: tuple[int, int],
    ) -> None:
        self.picture, self.face, self.mouth, self.motion, self.size = (
            picture,
            face,
            mouth,
            motion,
            size,
        )
        self.notes: list[str] = []
        self.caption_y = 0.84
        ph, pw = picture.shape[:2]
        if face is None:
            self.notes.append(NO_FACE)
            x, y, w, h = pw // 4, ph // 5, pw // 2, ph // 2
        else:
            x, y, w, h = face.box
        # the head region: everything that moves, with a feathered edge that stays put
        self.roi = (
            max(0, int(x - 0.4 * w)),
            max(0, int(y - 0.5 * h)),
            min(pw, int(x + 1.4 * w)),
            min(ph, int(y + 1.65 * h)),
        )
        rx0, ry0, rx1, ry1 = self.roi
        gx, gy = np.meshgrid(
            np.arange(rx0, rx1, dtype=np.float32), np.arange(ry0, ry1, dtype=np.float32)
        )
        self.base_x, self.base_y = gx - rx0, gy - ry0
        self.pivot = (x + w / 2, y + 1.1 * h)
        inner = np.hypot((gx - (x + w / 2)) / (0.72 * w), (gy - (y + 0.5 * h)) / (0.95 * h))
        feather = np.clip((1.55 - inner) / 0.55, 0, 1)
        feather = feather * feather * (3 - 2 * feather)  # smoothstep
        self.feather = feather.astype(np.float32)
        self.turn_x = ((gy - self.pivot[1]) * feather).astype(np.float32)
        self.turn_y = ((gx - self.pivot[0]) * feather).astype(np.float32)
        self.face_w = float(w)
        if face is None:
            return
        mx, my = face.mouth_centre
        half = max(4.0, (face.mouth_right - face.mouth_left) / 2)
        # the lower lip's lens: full at the middle, nothing at the corners
        lens = np.clip(1 - ((gx - mx) / (half * 0.95)) ** 2, 0, 1) ** 1.1
        jaw_w = np.clip(1 - ((gx - mx) / (0.55 * w)) ** 2, 0, 1)
        below = np.clip((gy - my) / (0.05 * h), 0, 1)
        towards_chin = np.clip((gy - my) / (0.25 * h), 0, 1)
        chin_y = y + 1.08 * h
        fade = np.clip(1 - (gy - chin_y) / (0.3 * h), 0, 1)
        self.jaw = (below * (lens * (1 - towards_chin) + jaw_w * towards_chin) * fade).astype(
            np.float32
        )
        zone = np.exp(-(((gy - my) / (0.09 * h)) ** 2)) * np.clip(
            1 - ((gx - mx) / (half * 1.6)) ** 2, 0, 1
        )
        self.pinch = ((gx - mx) * zone).astype(np.float32)
        self.lids: list[Float] = []
        for ex, ey in face.eyes:
            eh, ew = 0.055 * h, 0.13 * w
            across = np.clip(1 - ((gx - ex) / ew) ** 2, 0, 1)
            down = np.clip((gy - (ey - 2.2 * eh)) / (3.2 * eh), 0, 1) * (gy <= ey + eh)
            self.lids.append((across * down * 2.0 * eh).astype(np.float32))
        self.mouth_geometry = (mx, my, half, float(h))

    @classmethod
    def from_file(
        cls, path: Path, mouth: MouthTrack, motion: Motion, size: tuple[int, int]
    ) -> PortraitStage:
        return cls.from_image(opened(path), mouth, motion, size)

    @classmethod
    def from_image(
        cls, image: Frame, mouth: MouthTrack, motion: Motion, size: tuple[int, int]
    ) -> PortraitStage:
        return cls.framed(image, locate_face(image), mouth, motion, size)

    @classmethod
    def framed(
        cls,
        image: Frame,
        face: Face | None,
        mouth: MouthTrack,
        motion: Motion,
        size: tuple[int, int],
    ) -> PortraitStage:
        """The stage of ``image`` whose ``face`` :func:`locate_face` found already."""
        picture, scale, ox, oy = _cover(image, face, size)
        return cls(
            picture, _scaled_face(face, scale, ox, oy) if face else None, mouth, motion, size
        )

    def _inner_mouth(
        self, roi: Frame, opening: float, teeth: float, tongue: float, move: NDArray[np.float64]
    ) -> None:
        mx, my, half, h = self.mouth_geometry
        rx0, ry0 = self.roi[0], self.roi[1]
        xs = np.linspace(-half, half, 25)
        lens = np.clip(1 - (xs / (half * 0.95)) ** 2, 0, 1) ** 1.1
        top = my - 0.1 * opening * lens
        bottom = my + opening * lens
        shift = 16.0

        def placed(points: NDArray[np.float64]) -> NDArray[np.int32]:
            moved = points @ move[:, :2].T + move[:, 2] - [rx0, ry0]
            spot: NDArray[np.int32] = np.round(moved * shift).astype(np.int32)
            return spot

        upper = np.stack([mx + xs, top], axis=1)
        lower = np.stack([mx + xs[::-1], bottom[::-1]], axis=1)
        cv2.fillPoly(roi, [placed(np.concatenate([upper, lower]))], (30, 26, 62), cv2.LINE_AA, 4)
        gap = bottom - top
        if teeth > 0.05 and opening > 3:
            depth = np.minimum(gap * 0.28, 0.03 * h * teeth)
            band = np.concatenate(
                [upper[5:-5], np.stack([mx + xs[5:-5][::-1], (top + depth)[5:-5][::-1]], axis=1)]
            )
            cv2.fillPoly(roi, [placed(band)], (172, 182, 192), cv2.LINE_AA, 4)
        if tongue > 0.1 or opening > 0.45 * MAX_OPEN * h:
            tongue_pts = np.stack(
                [mx + xs * 0.6, my + opening * (0.95 - 0.3 * np.clip(1 - (xs / half) ** 2, 0, 1))],
                axis=1,
            )
            cv2.fillPoly(
                roi,
                [placed(np.concatenate([tongue_pts, lower[4:-4]]))],
                (72, 64, 148),
                cv2.LINE_AA,
                4,
            )
        # soften the drawn edges into the photo
        corners = placed(np.array([[mx - half, my - 0.12 * opening], [mx + half, my + opening]]))
        (x0, y0), (x1, y1) = corners // int(shift)
        x0, y0 = max(0, int(x0) - 4), max(0, int(y0) - 4)
        x1, y1 = min(roi.shape[1], int(x1) + 5), min(roi.shape[0], int(y1) + 5)
        if x1 > x0 and y1 > y0:  # a blur in proportion to the face hides the drawn edges
            sigma = max(0.8, 0.006 * h)
            roi[y0:y1, x0:x1] = cv2.GaussianBlur(roi[y0:y1, x0:x1], (0, 0), sigma)

    def mouth_box(self) -> tuple[int, int, int, int] | None:
        """(x, y, w, h) in output pixels around the mouth at rest (for measurements)."""
        if self.face is None:
            return None
        mx, my, half, h = self.mouth_geometry
        ox = (self.picture.shape[1] - self.size[0]) // 2
        oy = (self.picture.shape[0] - self.size[1]) // 2
        return (
            int(mx - half - ox),
            int(my - 0.05 * h - oy),
            int(2 * half),
            int((0.05 + MAX_OPEN * 1.1) * h),
        )

    def draw(self, number: int) -> Frame:
        k = min(max(number, 0), len(self.motion.blink) - 1)
        m = self.motion
        width, height = self.size
        ox = (self.picture.shape[1] - width) // 2
        oy = (self.picture.shape[0] - height) // 2
        # the head turns about the neck and sways; the feathered edge keeps the rest still
        angle = math.radians(float(m.tilt[k]) * 0.6)
        tx = float(m.dx[k]) * self.face_w * 0.5
        ty = (float(m.dy[k]) + float(m.nod[k]) + 0.004 * float(m.breath[k])) * self.face_w * 0.5
        map_x = self.base_x + angle * self.turn_x - tx * self.feather
        map_y = self.base_y - angle * self.turn_y - ty * self.feather
        opening = teeth = tongue = 0.0
        if self.face is not None:
            shape = self.mouth.at(number)
            opening = shape.open * MAX_OPEN * self.mouth_geometry[3] * (1 - 0.25 * shape.round)
            teeth, tongue = shape.teeth, shape.tongue
            blink = float(m.blink[k])
            pinch = 0.28 * shape.round - 0.08 * max(shape.width, 0)
            if opening > 0.3:
                map_y = map_y - opening * self.jaw
            for lid in self.lids if blink > 0.02 else ():
                map_y = map_y - blink * lid
            if abs(pinch) > 0.01:
                map_x = map_x + pinch * self.pinch
        rx0, ry0, rx1, ry1 = self.roi
        warped = cv2.remap(
            self.picture[ry0:ry1, rx0:rx1],
            map_x,
            map_y,
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        if opening > 1.0:
            c, s = math.cos(angle), math.sin(angle)
            px, py = self.pivot
            move = np.array([[c, -s, px - c * px + s * py + tx], [s, c, py - s * px - c * py + ty]])
            self._inner_mouth(np.asarray(warped, np.uint8), opening, teeth, tongue, move)
        frame = self.picture[oy : oy + height, ox : ox + width].copy()
        x0, y0 = max(rx0, ox), max(ry0, oy)
        x1, y1 = min(rx1, ox + width), min(ry1, oy + height)
        if x1 > x0 and y1 > y0:
            frame[y0 - oy : y1 - oy, x0 - ox : x1 - ox] = warped[
                y0 - ry0 : y1 - ry0, x0 - rx0 : x1 - rx0
            ]
        return frame
