"""Wav2Lip (Prajwal et al., 2020) as an adapter: the network, its checkpoint loading and its
pre- and post-processing, faithful to the reference implementation (Rudrabha/Wav2Lip).

No Wav2Lip weights are on any package registry, so the embedded default lip-sync is the warp
in :mod:`reelforge.talking.portrait`; on a machine that has ``wav2lip_gan.pth`` (or
``wav2lip.pth``) in a local folder, this module runs the real network. Tests build it with
random weights and run the whole path (mel spectrogram, masked face crops, batched inference,
paste-back), which is what this machine can check.

Pre-processing, as in the reference ``inference.py`` and ``audio.py``:

- audio at 16 kHz, pre-emphasis 0.97, STFT (n_fft 800, hop 200, Hann window of 800), an
  80-band Slaney mel filterbank from 55 to 7600 Hz, amplitude to dB minus 20 dB, normalised
  symmetrically to [-4, 4] from a -100 dB floor;
- for video frame ``i`` at ``fps``, the 16 mel columns starting at ``int(i * 80 / fps)``;
- the face crop (the box padded 10 px downwards) resized to 96x96, its lower half masked to 0,
  stacked with the unmasked crop into 6 channels, scaled to [0, 1].

Post-processing: the 96x96 prediction (x 255) resized back to the crop and pasted in place.
``torch`` is an optional dependency (``pip install 'reelforge[gen]'``), imported on use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from reelforge.errors import EngineFailed, EngineUnavailable

Float = NDArray[np.float32]
Frame = NDArray[np.uint8]
Box = tuple[int, int, int, int]  # x, y, w, h

SAMPLE_RATE = 16000
N_FFT, HOP, WINDOW = 800, 200, 800
N_MELS, FMIN, FMAX = 80, 55.0, 7600.0
PREEMPHASIS = 0.97
REF_LEVEL_DB, MIN_LEVEL_DB, MAX_ABS = 20.0, -100.0, 4.0
MEL_STEP = 16  # mel columns per video frame window
IMG_SIZE = 96
PADS = (0, 10, 0, 0)  # top, bottom, left, right, as the reference defaults
_HINT = "pip install 'reelforge[gen]' (torch), and give the folder holding wav2lip_gan.pth"


# --------------------------------------------------------------------------- audio


def _hz_to_mel(hz: NDArray[np.float64]) -> NDArray[np.float64]:
    """Slaney's mel scale (librosa's default): linear below 1 kHz, logarithmic above."""
    f_sp, min_log_hz, min_log_mel, logstep = 200.0 / 3, 1000.0, 15.0, math.log(6.4) / 27.0
    hz = np.asarray(hz, np.float64)
    mel = hz / f_sp
    high = hz >= min_log_hz
    mel[high] = min_log_mel + np.log(hz[high] / min_log_hz) / logstep
    return mel


def _mel_to_hz(mel: NDArray[np.float64]) -> NDArray[np.float64]:
    f_sp, min_log_hz, min_log_mel, logstep = 200.0 / 3, 1000.0, 15.0, math.log(6.4) / 27.0
    mel = np.asarray(mel, np.float64)
    hz = mel * f_sp
    high = mel >= min_log_mel
    hz[high] = min_log_hz * np.exp(logstep * (mel[high] - min_log_mel))
    return hz


def mel_filterbank() -> NDArray[np.float64]:
    """(80, 401) Slaney-normalised triangular filters, as ``librosa.filters.mel``."""
    freqs = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(np.array([FMIN]))[0],
                                   _hz_to_mel(np.array([FMAX]))[0], N_MELS + 2))  # fmt: skip
    widths = np.diff(edges)
    ramps = edges[:, None] - freqs[None, :]
    weights = np.zeros((N_MELS, freqs.size))
    for i in range(N_MELS):
        lower = -ramps[i] / widths[i]
        upper = ramps[i + 2] / widths[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2 : N_MELS + 2] - edges[:N_MELS]))[:, None]
    return weights


def melspectrogram(samples: Float) -> Float:
    """The (80, n) normalised mel spectrogram Wav2Lip was trained on (16 kHz audio in)."""
    wav = np.asarray(samples, np.float64)
    emphasised = np.append(wav[0], wav[1:] - PREEMPHASIS * wav[:-1]) if wav.size else wav
    padded = np.pad(emphasised, N_FFT // 2, mode="reflect") if wav.size > N_FFT // 2 else (
        np.pad(emphasised, N_FFT // 2)
    )  # fmt: skip
    count = 1 + (padded.size - N_FFT) // HOP
    if count < 1:
        return np.full((N_MELS, 0), -MAX_ABS, np.float32)
    window = np.hanning(WINDOW + 1)[:-1]  # periodic Hann, as scipy/librosa "hann"
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(count)[:, None]
    spectrum = np.abs(np.fft.rfft(padded[index] * window[None, :], axis=1)).T
    mel = mel_filterbank() @ spectrum
    db = 20 * np.log10(np.maximum(1e-5, mel)) - REF_LEVEL_DB
    normalised = 2 * MAX_ABS * ((db - MIN_LEVEL_DB) / -MIN_LEVEL_DB) - MAX_ABS
    out: Float = np.clip(normalised, -MAX_ABS, MAX_ABS).astype(np.float32)
    return out


def mel_chunks(mel: Float, frames: int, fps: float) -> Float:
    """(frames, 80, 16): the mel window of each video frame (the last ones padded)."""
    out = np.empty((frames, N_MELS, MEL_STEP), np.float32)
    multiplier = N_MELS / fps
    for i in range(frames):
        start = int(i * multiplier)
        if start + MEL_STEP > mel.shape[1]:
            window = mel[:, max(0, mel.shape[1] - MEL_STEP) :]
            window = np.pad(window, ((0, 0), (MEL_STEP - window.shape[1], 0)), mode="edge")
        else:
            window = mel[:, start : start + MEL_STEP]
        out[i] = window
    return out


# --------------------------------------------------------------------------- faces


def crop_box(box: Box, shape: tuple[int, ...]) -> Box:
    """The face box padded as the reference does (10 px down), clipped to the frame."""
    x, y, w, h = box
    top, bottom, left, right = PADS
    y1, y2 = max(0, y - top), min(shape[0], y + h + bottom)
    x1, x2 = max(0, x - left), min(shape[1], x + w + right)
    return x1, y1, x2 - x1, y2 - y1


def face_batch(frames: Sequence[Frame], boxes: Sequence[Box]) -> Float:
    """(n, 6, 96, 96) in [0, 1]: each crop with its lower half masked, then the crop itself."""
    crops = []
    for frame, box in zip(frames, boxes, strict=True):
        x, y, w, h = crop_box(box, frame.shape)
        crops.append(cv2.resize(frame[y : y + h, x : x + w], (IMG_SIZE, IMG_SIZE)))
    faces = np.stack(crops).astype(np.float32)
    masked = faces.copy()
    masked[:, IMG_SIZE // 2 :] = 0
    both = np.concatenate([masked, faces], axis=3) / 255.0
    batch: Float = np.ascontiguousarray(both.transpose(0, 3, 1, 2), dtype=np.float32)
    return batch


def paste(frame: Frame, prediction: Float, box: Box) -> Frame:
    """``frame`` with the 96x96 prediction (3, 96, 96 in [0, 1]) resized into the crop."""
    x, y, w, h = crop_box(box, frame.shape)
    face = np.clip(prediction.transpose(1, 2, 0) * 255.0, 0, 255).astype(np.uint8)
    out = frame.copy()
    out[y : y + h, x : x + w] = cv2.resize(face, (w, h))
    return out


# --------------------------------------------------------------------------- network


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise EngineUnavailable("Wav2Lip needs torch, which is not installed", hint=_HINT) from None
    return torch


def build_network() -> Any:
    """The Wav2Lip generator, layer for layer as the reference ``models/wav2lip.py`` (so its
    checkpoints' parameter names load unchanged)."""
    torch = _torch()
    nn = torch.nn

    class Conv2d(nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self, cin: int, cout: int, kernel: int, stride: Any, padding: int,
                     residual: bool = False) -> None:  # fmt: skip
            super().__init__()
            self.conv_block = nn.Sequential(
                nn.Conv2d(cin, cout, kernel, stride, padding), nn.BatchNorm2d(cout)
            )
            self.act = nn.ReLU()
            self.residual = residual

        def forward(self, x: Any) -> Any:
            out = self.conv_block(x)
            if self.residual:
                out = out + x
            return self.act(out)

    class Conv2dTranspose(nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self, cin: int, cout: int, kernel: int, stride: int, padding: int,
                     output_padding: int = 0) -> None:  # fmt: skip
            super().__init__()
            self.conv_block = nn.Sequential(
                nn.ConvTranspose2d(cin, cout, kernel, stride, padding, output_padding),
                nn.BatchNorm2d(cout),
            )
            self.act = nn.ReLU()

        def forward(self, x: Any) -> Any:
            return self.act(self.conv_block(x))

    def res(c: int) -> Any:
        return Conv2d(c, c, 3, 1, 1, residual=True)

    class Wav2LipNet(nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.face_encoder_blocks = nn.ModuleList([
                nn.Sequential(Conv2d(6, 16, 7, 1, 3)),
                nn.Sequential(Conv2d(16, 32, 3, 2, 1), res(32), res(32)),
                nn.Sequential(Conv2d(32, 64, 3, 2, 1), res(64), res(64), res(64)),
                nn.Sequential(Conv2d(64, 128, 3, 2, 1), res(128), res(128)),
                nn.Sequential(Conv2d(128, 256, 3, 2, 1), res(256), res(256)),
                nn.Sequential(Conv2d(256, 512, 3, 2, 1), res(512)),
                nn.Sequential(Conv2d(512, 512, 3, 1, 0), Conv2d(512, 512, 1, 1, 0)),
            ])  # fmt: skip
            self.audio_encoder = nn.Sequential(
                Conv2d(1, 32, 3, 1, 1), res(32), res(32),
                Conv2d(32, 64, 3, (3, 1), 1), res(64), res(64),
                Conv2d(64, 128, 3, 3, 1), res(128), res(128),
                Conv2d(128, 256, 3, (3, 2), 1), res(256),
                Conv2d(256, 512, 3, 1, 0), Conv2d(512, 512, 1, 1, 0),
            )  # fmt: skip
            self.face_decoder_blocks = nn.ModuleList([
                nn.Sequential(Conv2d(512, 512, 1, 1, 0)),
                nn.Sequential(Conv2dTranspose(1024, 512, 3, 1, 0), res(512)),
                nn.Sequential(Conv2dTranspose(1024, 512, 3, 2, 1, 1), res(512), res(512)),
                nn.Sequential(Conv2dTranspose(768, 384, 3, 2, 1, 1), res(384), res(384)),
                nn.Sequential(Conv2dTranspose(512, 256, 3, 2, 1, 1), res(256), res(256)),
                nn.Sequential(Conv2dTranspose(320, 128, 3, 2, 1, 1), res(128), res(128)),
                nn.Sequential(Conv2dTranspose(160, 64, 3, 2, 1, 1), res(64), res(64)),
            ])  # fmt: skip
            self.output_block = nn.Sequential(
                Conv2d(80, 32, 3, 1, 1), nn.Conv2d(32, 3, 1, 1, 0), nn.Sigmoid()
            )

        def forward(self, audio: Any, faces: Any) -> Any:
            x = self.audio_encoder(audio)
            feats = []
            y = faces
            for block in self.face_encoder_blocks:
                y = block(y)
                feats.append(y)
            for block in self.face_decoder_blocks:
                x = block(x)
                x = torch.cat((x, feats.pop()), dim=1)
            return self.output_block(x)

    return Wav2LipNet()


class Wav2Lip:
    """The network on ``device``: from a checkpoint file or folder, or random weights
    (``checkpoint=None``, for tests: the output is noise, the path is real)."""

    def __init__(
        self, checkpoint: Path | None = None, *, device: str = "cpu", seed: int | None = None
    ) -> None:
        torch = _torch()
        if seed is not None:
            torch.manual_seed(seed)
        self.torch = torch
        self.device = device
        self.net = build_network()
        if checkpoint is not None:
            self.net.load_state_dict(load_state(checkpoint))
        self.net.to(device).eval()

    def sync(
        self,
        frames: Sequence[Frame],
        boxes: Sequence[Box],
        samples: Float,
        fps: float,
        *,
        batch: int = 16,
    ) -> list[Frame]:
        """The frames with their mouths regenerated for ``samples`` (16 kHz mono)."""
        if len(frames) != len(boxes):
            raise EngineFailed("one face box per frame is needed", hint="detect faces first")
        mels = mel_chunks(melspectrogram(samples), len(frames), fps)
        out: list[Frame] = []
        torch = self.torch
        with torch.no_grad():
            for start in range(0, len(frames), batch):
                end = min(len(frames), start + batch)
                faces = torch.from_numpy(face_batch(frames[start:end], boxes[start:end]))
                audio = torch.from_numpy(mels[start:end, None])
                predicted = self.net(audio.to(self.device), faces.to(self.device))
                for k, pred in enumerate(predicted.cpu().numpy()):
                    out.append(paste(frames[start + k], pred, boxes[start + k]))
        return out


def load_state(checkpoint: Path) -> dict[str, Any]:
    """A Wav2Lip state dict from ``wav2lip_gan.pth``/``wav2lip.pth`` (or the folder holding
    one); the ``module.`` prefix that DataParallel training leaves is removed."""
    torch = _torch()
    path = Path(checkpoint)
    if path.is_dir():
        found = [path / n for n in ("wav2lip_gan.pth", "wav2lip.pth") if (path / n).is_file()]
        if not found:
            raise EngineUnavailable(f"no Wav2Lip checkpoint in {path.name}", hint=_HINT)
        path = found[0]
    if not path.is_file():
        raise EngineUnavailable(f"the Wav2Lip checkpoint {path.name} does not exist", hint=_HINT)
    loaded = torch.load(str(path), map_location="cpu", weights_only=True)
    state = loaded.get("state_dict", loaded) if isinstance(loaded, dict) else None
    if not isinstance(state, dict):
        raise EngineFailed(f"{path.name} is not a Wav2Lip checkpoint", hint=_HINT)
    return {key.removeprefix("module."): value for key, value in state.items()}
