"""Mouth shapes over time: from a voice's own phoneme timings, or estimated from the audio.

A :class:`MouthTrack` holds, per video frame, the five numbers every mouth renderer here reads
(the drawn cast and the photo warp alike):

- ``open``: jaw and lip opening, 0 (closed) to 1 (wide open "ah");
- ``width``: lip spread, -1 (puckered "oo") to 1 (wide "ee");
- ``round``: lip rounding, 0 to 1 ("oh", "oo", "w");
- ``teeth``: how much of the teeth show, 0 to 1 ("s", "f", "ee");
- ``tongue``: the tongue tip visible, 0 to 1 ("l", "th").

Phonemes (IPA from piper and kokoro, espeak-ng's mnemonics from espeak) map to eleven visemes
(the Preston Blair set plus rest); the per-phoneme targets are then co-articulated: a
zero-phase Gaussian blend, so the lips move ahead of the sound as real lips do and never snap,
weighted by each viseme's dominance so lip closures (p, b, m) are reached however short. When
the audio is at hand, the opening follows its loudness too, so quiet syllables open less.

Voices without timings and recorded narration use :func:`track_from_audio`: the opening from
the loudness envelope, the shape from the spectrum (energy above 2.5 kHz shows teeth for
fricatives, a dark low-heavy spectrum rounds the lips, a bright middle spreads them).
"""

from __future__ import annotations

import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import Phoneme
from reelforge.errors import MediaError

Float = NDArray[np.float32]


@dataclass(frozen=True)
class MouthShape:
    """The target pose of one viseme."""

    open: float
    width: float
    round: float
    teeth: float
    tongue: float = 0.0


# The eleven visemes (Preston Blair's mouth chart, plus rest) and their target poses.
VISEMES: dict[str, MouthShape] = {
    "rest": MouthShape(0.0, 0.0, 0.0, 0.0),
    "MBP": MouthShape(0.0, -0.1, 0.1, 0.0),  # lips pressed together
    "FV": MouthShape(0.12, 0.15, 0.0, 0.9),  # lower lip under the upper teeth
    "TH": MouthShape(0.2, 0.1, 0.0, 0.6, 0.8),  # tongue between the teeth
    "L": MouthShape(0.38, 0.1, 0.0, 0.4, 0.7),  # tongue up behind the teeth
    "CDG": MouthShape(0.18, 0.35, 0.0, 0.8),  # consonants: teeth together, lips parted
    "SH": MouthShape(0.16, -0.35, 0.5, 0.8),  # "sh", "ch", "j": lips forward
    "AI": MouthShape(0.85, 0.3, 0.0, 0.35),  # "ah", "eye": wide open
    "E": MouthShape(0.45, 0.6, 0.0, 0.55),  # "eh", "ee": spread
    "O": MouthShape(0.6, -0.45, 0.75, 0.1),  # "oh": open and round
    "U": MouthShape(0.25, -0.8, 1.0, 0.0),  # "oo", "w": puckered
}

# First character of a phoneme symbol -> viseme. IPA (piper, kokoro) is lower-case and
# symbolic; espeak-ng's mnemonics use ASCII capitals and digits (T = θ, S = ʃ, V = ʌ, 0 = ɒ,
# @ = ə, 3 = ɜ), so one table reads both.
_BY_FIRST: dict[str, str] = {}
for _viseme, _chars in {
    "MBP": "pbmɱ",
    "FV": "fvʋ",
    "TH": "θðTD",
    "L": "lɫʎɭL",
    "SH": "ʃʒʧʤSZ",
    "CDG": "tdnkgŋszɹrjhxɾʁχɣçʔcɲNRjCQ",
    "AI": "aɑæʌɐäaAV",
    "E": "eɛɪiɨəɜɚɝyʏœøEI@3",
    "O": "oɔɒɵO0",
    "U": "uʊɯwɥW",
}.items():
    for _char in _chars:
        _BY_FIRST.setdefault(_char, _viseme)

# Symbols that modify a neighbour rather than sounding on their own (piper emits IPA stress
# and length marks as separate phonemes with their own samples).
_NEXT_MODIFIERS = frozenset("ˈˌ")  # stress: belongs to the following sound
_PREVIOUS_MODIFIERS = frozenset("ːˑ̃ʰʲʷ")  # length, nasal, aspiration: the preceding one

COARTICULATION_MS = 30.0  # Gaussian sigma of the blend between neighbouring shapes
# How strongly a viseme holds its shape against its neighbours: lip closures and the lip-teeth
# contact must be reached, vowels give way.
DOMINANCE: dict[str, float] = {"rest": 0.5, "MBP": 6.0, "FV": 3.0, "TH": 2.0, "SH": 1.5}
_STEP_MS = 5  # resolution of the target curves before they are sampled per frame


def viseme_of(symbol: str) -> str:
    """The viseme of one phoneme symbol (IPA or espeak-ng); unknown symbols are "CDG"."""
    for char in symbol:
        if char in _BY_FIRST:
            return _BY_FIRST[char]
    return "CDG" if symbol.strip() else "rest"


@dataclass(frozen=True)
class MouthTrack:
    """Per-frame mouth parameters at ``fps`` (see the module docs); arrays of equal length."""

    fps: int
    open: Float
    width: Float
    round: Float
    teeth: Float
    tongue: Float
    source: str  # "phonemes" | "audio" | "silent"

    @property
    def frames(self) -> int:
        return len(self.open)

    def at(self, frame: int) -> MouthShape:
        """The pose at ``frame`` (closed after the end)."""
        if not 0 <= frame < self.frames:
            return VISEMES["rest"]
        return MouthShape(
            float(self.open[frame]),
            float(self.width[frame]),
            float(self.round[frame]),
            float(self.teeth[frame]),
            float(self.tongue[frame]),
        )

    def shifted(self, start_frame: int, total_frames: int) -> MouthTrack:
        """This track placed at ``start_frame`` of a longer, otherwise silent one."""
        out = silent_track(total_frames, self.fps)
        end = min(total_frames, start_frame + self.frames)
        if end <= start_frame:
            return out
        n = end - start_frame
        for name in ("open", "width", "round", "teeth", "tongue"):
            getattr(out, name)[start_frame:end] = getattr(self, name)[:n]
        return MouthTrack(self.fps, out.open, out.width, out.round, out.teeth, out.tongue, "mixed")


def silent_track(frames: int, fps: int) -> MouthTrack:
    """A closed mouth for ``frames`` frames."""
    z = [np.zeros(frames, np.float32) for _ in range(5)]
    return MouthTrack(fps, z[0], z[1], z[2], z[3], z[4], source="silent")


def combine(tracks: Sequence[MouthTrack]) -> MouthTrack:
    """The element-wise sum of tracks covering disjoint spans (one character's turns)."""
    if not tracks:
        raise ValueError("no tracks to combine")
    length = max(t.frames for t in tracks)
    arrays = [np.zeros(length, np.float32) for _ in range(5)]
    for track in tracks:
        for k, name in enumerate(("open", "width", "round", "teeth", "tongue")):
            arrays[k][: track.frames] += getattr(track, name)
    a = arrays
    return MouthTrack(tracks[0].fps, a[0], a[1], a[2], a[3], a[4], source="mixed")


# --------------------------------------------------------------------------- audio


def read_wav(path: Path) -> tuple[Float, int]:
    """Mono float samples in [-1, 1] and the rate of a 16-bit PCM wav (what voices write)."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError, OSError) as exc:
        raise MediaError(
            f"cannot read the narration audio {path.name}: {exc}",
            hint="give a 16-bit PCM wav (the voices write one)",
        ) from exc
    if width != 2:
        raise MediaError(
            f"{path.name} is {8 * width}-bit audio", hint="convert it to 16-bit PCM wav"
        )
    samples = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate


def loudness_envelope(samples: Float, rate: int, fps: int, window_ms: float = 40.0) -> Float:
    """Per-frame loudness in [0, 1]: RMS in a window centred on each frame's middle, in dB
    between a floor 45 dB under the loud parts (95th percentile) and that level."""
    frames = max(1, int(np.ceil(len(samples) * fps / rate)))
    half = max(1, int(rate * window_ms / 2000))
    energy = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    centres = ((np.arange(frames) + 0.5) * rate / fps).astype(np.int64)
    lo = np.clip(centres - half, 0, len(samples))
    hi = np.clip(centres + half, 0, len(samples))
    rms = np.sqrt((energy[hi] - energy[lo]) / np.maximum(hi - lo, 1))
    db = 20 * np.log10(np.maximum(rms, 1e-6))
    top = float(np.percentile(db, 95)) if frames else 0.0
    level = np.clip((db - (top - 45.0)) / 45.0, 0.0, 1.0) ** 1.6
    return np.asarray(level, dtype=np.float32)


def _band_shares(samples: Float, rate: int, fps: int) -> tuple[Float, Float, Float]:
    """Per frame, the shares of spectral energy below 700 Hz, 700-2500 Hz and above 2500 Hz."""
    frames = max(1, int(np.ceil(len(samples) * fps / rate)))
    size = 1 << int(np.ceil(np.log2(max(64, rate * 0.032))))
    padded = np.concatenate([np.zeros(size // 2, np.float32), samples, np.zeros(size, np.float32)])
    starts = ((np.arange(frames) + 0.5) * rate / fps).astype(np.int64)
    index = starts[:, None] + np.arange(size)[None, :]
    spectra = np.abs(np.fft.rfft(padded[index] * np.hanning(size)[None, :], axis=1)) ** 2
    freqs = np.fft.rfftfreq(size, 1 / rate)
    low = spectra[:, (freqs >= 80) & (freqs < 700)].sum(axis=1)
    mid = spectra[:, (freqs >= 700) & (freqs < 2500)].sum(axis=1)
    high = spectra[:, (freqs >= 2500) & (freqs < 8000)].sum(axis=1)
    total = low + mid + high + 1e-12
    return (
        (low / total).astype(np.float32),
        (mid / total).astype(np.float32),
        (high / total).astype(np.float32),
    )


def smooth(values: Float, sigma_frames: float) -> Float:
    """Zero-phase Gaussian smoothing (no lag)."""
    if sigma_frames <= 0 or len(values) < 2:
        return values
    radius = max(1, int(3 * sigma_frames))
    x = np.arange(-radius, radius + 1, dtype=np.float32)
    kernel = np.exp(-0.5 * (x / sigma_frames) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(values, radius, mode="edge")
    return np.convolve(padded, kernel, mode="valid").astype(np.float32)


def track_from_audio(samples: Float, rate: int, fps: int) -> MouthTrack:
    """A mouth track estimated from the sound alone (recorded narration, voices without
    phoneme timings)."""
    envelope = loudness_envelope(samples, rate, fps)
    low, mid, high = _band_shares(samples, rate, fps)
    voiced = envelope > 0.05
    fricative = np.clip((high - 0.35) / 0.4, 0, 1) * voiced
    rounded = np.clip((low - 0.55) / 0.3, 0, 1) * voiced * (1 - fricative)
    spread = np.clip((mid - 0.3) / 0.35, 0, 1) * voiced * (1 - fricative)
    opening = envelope * (1.0 - 0.6 * fricative)
    track = MouthTrack(
        fps,
        smooth(np.clip(opening * 0.95, 0, 1).astype(np.float32), 0.6),
        smooth((0.6 * spread - 0.8 * rounded + 0.2 * fricative).astype(np.float32), 1.0),
        smooth(rounded.astype(np.float32), 1.0),
        smooth(np.clip(0.3 * envelope + 0.7 * fricative, 0, 1).astype(np.float32), 1.0),
        np.zeros_like(envelope),
        source="audio",
    )
    return track


# --------------------------------------------------------------------------- phonemes


def _targets(phonemes: Sequence[Phoneme], steps: int) -> tuple[NDArray[np.float32], Float]:
    """Target pose per 5 ms step (rows: open, width, round, teeth, tongue) and the dominance
    of each step's viseme over its neighbours."""
    poses = np.zeros((5, steps), np.float32)
    weight = np.full(steps, DOMINANCE["rest"], np.float32)
    symbols = [p.symbol for p in phonemes]
    for k, phoneme in enumerate(phonemes):
        symbol = phoneme.symbol
        if symbol and all(c in _NEXT_MODIFIERS for c in symbol):
            symbol = symbols[k + 1] if k + 1 < len(symbols) else ""
        elif symbol and all(c in _PREVIOUS_MODIFIERS for c in symbol):
            symbol = symbols[k - 1] if k > 0 else ""
        a = max(0, phoneme.start_ms // _STEP_MS)
        b = min(steps, max(a + 1, -(-phoneme.end_ms // _STEP_MS)))
        parts = _diphthong(symbol)
        span = b - a
        for index, part in enumerate(parts):
            pa = a + span * index // len(parts)
            pb = a + span * (index + 1) // len(parts)
            viseme = viseme_of(part)
            shape = VISEMES[viseme]
            poses[:, pa:pb] = np.array(
                [shape.open, shape.width, shape.round, shape.teeth, shape.tongue], np.float32
            )[:, None]
            weight[pa:pb] = DOMINANCE.get(viseme, 1.0)
    return poses, weight


def _diphthong(symbol: str) -> list[str]:
    """espeak-ng's two-vowel mnemonics ("aI", "oU") glide between two shapes."""
    vowels = ("AI", "E", "O", "U")
    if (
        len(symbol) == 2
        and all(viseme_of(c) in vowels for c in symbol)
        and viseme_of(symbol[0]) != viseme_of(symbol[1])
    ):
        return [symbol[0], symbol[1]]
    return [symbol]


def track_from_phonemes(
    phonemes: Sequence[Phoneme],
    duration_ms: int,
    fps: int,
    *,
    audio: tuple[Float, int] | None = None,
) -> MouthTrack:
    """The co-articulated mouth track of timed phonemes; with ``audio`` (samples, rate), the
    opening also follows the loudness, so stressed syllables open wider than quiet ones."""
    if not phonemes:
        if audio is not None:
            return track_from_audio(audio[0], audio[1], fps)
        return silent_track(max(1, round(duration_ms * fps / 1000)), fps)
    steps = max(1, -(-duration_ms // _STEP_MS))
    poses, weight = _targets(phonemes, steps)
    sigma = COARTICULATION_MS / _STEP_MS
    # Dominance blend (Cohen and Massaro): each shape pulls on its neighbours in proportion
    # to its weight, so a short p still closes the lips between two open vowels.
    norm = smooth(weight, sigma)
    blended = np.stack([smooth(row * weight, sigma) / norm for row in poses])
    frames = max(1, round(duration_ms * fps / 1000))
    at = np.minimum(((np.arange(frames) + 0.5) * 1000 / fps / _STEP_MS).astype(np.int64), steps - 1)
    sampled = blended[:, at]
    source = "phonemes"
    if audio is not None:
        envelope = loudness_envelope(audio[0], audio[1], fps)
        envelope = np.pad(envelope, (0, max(0, frames - len(envelope))))[:frames]
        sampled[0] *= 0.15 + 0.85 * smooth(envelope, 0.7)
    return MouthTrack(
        fps,
        np.clip(sampled[0], 0, 1),
        np.clip(sampled[1], -1, 1),
        np.clip(sampled[2], 0, 1),
        np.clip(sampled[3], 0, 1),
        np.clip(sampled[4], 0, 1),
        source=source,
    )


def track_for_speech(
    audio: Path, duration_ms: int, phonemes: Sequence[Phoneme], fps: int
) -> MouthTrack:
    """The mouth track of one spoken line: its phoneme timings when the voice gave them,
    else estimated from the audio."""
    samples, rate = read_wav(audio)
    if phonemes:
        return track_from_phonemes(phonemes, duration_ms, fps, audio=(samples, rate))
    return track_from_audio(samples, rate, fps)
