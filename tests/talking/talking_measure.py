"""Measurements on rendered talking videos: decoded frames and sound, mouth areas, lags."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reelforge.media.ffmpeg import capture_ffmpeg
from reelforge.media.probe import probe
from reelforge.talking.visemes import loudness_envelope


def decode_frames(path: Path) -> np.ndarray:
    """Every frame of a (small) video as BGR, (n, h, w, 3)."""
    info = probe(path)
    width, height = info.width, info.height
    raw, _ = capture_ffmpeg(
        ["-i", str(path), "-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1"], timeout=120
    )
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def decode_envelope(path: Path, fps: int) -> np.ndarray:
    """The loudness envelope (per frame) of a video's sound track."""
    raw, _ = capture_ffmpeg(
        ["-i", str(path), "-vn", "-ac", "1", "-ar", "16000", "-f", "s16le", "pipe:1"], timeout=120
    )
    samples = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    return loudness_envelope(samples, 16000, fps)


def dark_area(frames: np.ndarray, box: tuple[int, int, int, int], level: int = 95) -> np.ndarray:
    """Per frame, how many pixels inside ``box`` (x, y, w, h) are dark (the open mouth)."""
    x, y, w, h = box
    region = frames[:, max(0, y) : y + h, max(0, x) : x + w]
    return (region.max(axis=3) < level).sum(axis=(1, 2)).astype(np.float64)


def lagged_correlation(x: np.ndarray, y: np.ndarray, lags: int = 4) -> dict[int, float]:
    """Pearson correlation of x shifted by each lag (positive: x later than y)."""
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    out = {}
    for lag in range(-lags, lags + 1):
        xa, ya = (x[lag:], y[: n - lag]) if lag >= 0 else (x[:lag], y[-lag:])
        out[lag] = float(np.corrcoef(xa, ya)[0, 1])
    return out


def mouth_interior(frames: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Per frame, the drawn mouth's open area inside ``box``: the dark cavity and the teeth
    (near white), which a closed mouth shows none of."""
    x, y, w, h = box
    region = frames[:, max(0, y) : y + h, max(0, x) : x + w]
    inside = (region.max(axis=3) < 80) | (region.min(axis=3) > 225)
    return inside.sum(axis=(1, 2)).astype(np.float64)
