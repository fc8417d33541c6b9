"""The Wav2Lip adapter with random weights: the reference network's shapes and parameter
names, its mel spectrogram, masked face batches and paste-back, run end to end on a photo.
(No Wav2Lip weights exist on any registry; the output here is noise, the path is real.)"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from reelforge.errors import EngineUnavailable
from reelforge.talking import wav2lip as W

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def model() -> W.Wav2Lip:
    """The network with random weights (seeded), built once: ~36 M parameters."""
    return W.Wav2Lip(seed=0)


def test_mel_spectrogram_matches_the_reference_settings() -> None:
    rate = W.SAMPLE_RATE
    t = np.arange(rate) / rate
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    mel = W.melspectrogram(tone)
    assert mel.shape == (80, 1 + rate // W.HOP)  # 81 columns for 1 s (centred frames)
    assert mel.min() >= -4 and mel.max() <= 4
    # the 440 Hz tone lights the band holding 440 Hz, not the top bands
    bands = W._mel_to_hz(np.linspace(W._hz_to_mel(np.array([55.0]))[0],
                                     W._hz_to_mel(np.array([7600.0]))[0], 82))  # fmt: skip
    band = int(np.searchsorted(bands, 440.0)) - 1
    column = mel[:, 40]
    assert abs(int(np.argmax(column)) - band) <= 1
    assert column[-10:].max() < column[band] - 2
    silence = W.melspectrogram(np.zeros(rate // 2, np.float32))
    assert np.allclose(silence, -4)
    filters = W.mel_filterbank()
    assert filters.shape == (80, 401) and (filters >= 0).all()
    chunks = W.mel_chunks(mel, 25, 25.0)
    assert chunks.shape == (25, 80, 16)
    assert np.array_equal(chunks[5], mel[:, int(5 * 80 / 25) : int(5 * 80 / 25) + 16])


def test_network_has_the_reference_layout(model: W.Wav2Lip) -> None:
    net = model.net
    names = set(net.state_dict())
    for name in (
        "face_encoder_blocks.0.0.conv_block.0.weight",
        "face_encoder_blocks.6.1.conv_block.1.running_mean",
        "audio_encoder.0.conv_block.0.weight",
        "face_decoder_blocks.6.2.conv_block.0.weight",
        "output_block.1.weight",
    ):
        assert name in names, name
    count = sum(p.numel() for p in net.parameters())
    assert 30e6 < count < 40e6, count  # the published generator has ~36 M parameters
    with torch.no_grad():
        out = net(torch.zeros(2, 1, 80, 16), torch.zeros(2, 6, 96, 96))
    assert tuple(out.shape) == (2, 3, 96, 96)


def test_full_path_with_random_weights(tmp_path: Path, astronaut: Path, model: W.Wav2Lip) -> None:
    from reelforge.talking.portrait import detect_faces

    photo = cv2.imread(str(astronaut))
    box = detect_faces(photo)[0]
    frames = [photo] * 6
    samples = (0.3 * np.sin(2 * np.pi * 220 * np.arange(4000) / 16000)).astype(np.float32)
    synced = model.sync(frames, [box] * 6, samples, fps=25.0, batch=4)
    assert len(synced) == 6 and synced[0].shape == photo.shape
    x, y, w, h = W.crop_box(box, photo.shape)
    outside = np.ones(photo.shape[:2], bool)
    outside[y : y + h, x : x + w] = False
    assert np.array_equal(synced[0][outside], photo[outside])  # pasted only into the face
    assert (
        np.abs(synced[0][y : y + h, x : x + w].astype(int) - photo[y : y + h, x : x + w]).mean() > 5
    )
    # a checkpoint saved the way training saves it (DataParallel prefix) loads back
    state = {"state_dict": {f"module.{k}": v for k, v in model.net.state_dict().items()}}
    torch.save(state, tmp_path / "wav2lip_gan.pth")
    again = W.Wav2Lip(tmp_path)
    assert np.array_equal(again.sync(frames[:1], [box], samples, 25.0)[0], synced[0])
    (tmp_path / "empty").mkdir()
    with pytest.raises(EngineUnavailable, match="no Wav2Lip checkpoint"):
        W.Wav2Lip(tmp_path / "empty")
