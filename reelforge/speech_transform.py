"""Age and pitch for any voice with the WORLD vocoder (``pyworld``), and how a voice measures.

WORLD splits speech into its fundamental frequency (F0), its spectral envelope (the formants:
the size of the vocal tract) and its aperiodicity (breath). Moving them independently makes
real ages, not chipmunks: a child has a higher F0 *and* higher formants (a shorter tract), so
the F0 is scaled and the envelope stretched along the frequency axis; a senior is a little
lower, with a slightly longer tract and more breath. A plain pitch shift (``pitch`` semitones)
scales F0 alone. Resampling or ``sox pitch`` would move the formants with F0 (or not at all)
and change the timing; WORLD keeps the frame timing, so the output has the input's length and
every word time stays exact.

A transform is written in a voice's ``VoiceInfo.transform`` as ``key=value`` pairs::

    "f0=1.45;envelope=1.18"                 a girl from an adult woman
    "f0=0.9;envelope=0.96;breath=0.2;speed=0.9"   a senior: lower, breathier, slower

``speed`` is not applied here: the voice layer multiplies the request's speed by it, so the
engine itself speaks slower and its word times stay exact.

A voice matched to a recording (:mod:`reelforge.voice_match`) also uses ``range`` (the F0
contour's spread around its median, in log frequency: 1.3 = livelier intonation) and ``eq``
(dB gains at :data:`EQ_BANDS_HZ`, comma-separated: the envelope's remaining difference to the
recording after the stretch, a smooth filter applied to the envelope, never to F0)::

    "f0=0.82;range=1.2;envelope=0.95;eq=-1.5,-0.8,...,2.1"
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import optional_module
from reelforge.errors import SpecError

# How each age is made from an adult voice (or, for the little ones, from a child-like one):
# children get a higher F0 *and* raised formants (envelope > 1), seniors a lower F0, a slightly
# longer tract, more breath and a slower pace. docs/voices.md lists what each catalogue voice
# measures (scripts/voices_doc.py).
_SENIOR = "f0=0.9;envelope=0.96;breath=0.2;speed=0.9"
AGES: dict[tuple[str, str], str] = {
    ("baby", "female"): "f0=1.3;envelope=1.2;speed=0.85",
    ("baby", "male"): "f0=1.25;envelope=1.2;speed=0.85",
    ("toddler", "female"): "f0=1.15;envelope=1.15;speed=0.9",
    ("toddler", "male"): "f0=1.1;envelope=1.15;speed=0.9",
    ("child", "female"): "f0=1.45;envelope=1.18",
    ("child", "male"): "f0=1.3;envelope=1.15",
    ("preteen", "female"): "f0=1.25;envelope=1.1",
    ("preteen", "male"): "f0=1.15;envelope=1.1",
    ("teen", "female"): "f0=1.1;envelope=1.05",
    ("teen", "male"): "f0=1.2;envelope=1.04",
    ("young", "female"): "f0=1.05",
    ("young", "male"): "f0=1.05",
    ("adult", "female"): "",
    ("adult", "male"): "",
    ("senior", "female"): _SENIOR,
    ("senior", "male"): _SENIOR,
}


def age_personas(
    starts: tuple[str, str, str, str, str], changed: dict[tuple[str, str], str] | None = None
) -> dict[tuple[str, str], tuple[str, str]]:
    """(age, gender) -> (voice, transform) for an engine whose voices ``starts`` are, in order,
    for babies and toddlers, girls, boys, women and men: :data:`AGES`' transform on each, or
    the engine's own where ``changed`` names one (a voice that starts lower needs more)."""
    little, girl, boy, woman, man = starts
    young = {"baby": (little, little), "toddler": (little, little)}
    young.update(child=(girl, boy), preteen=(girl, boy))
    personas: dict[tuple[str, str], tuple[str, str]] = {}
    for (age, gender), transform in {**AGES, **(changed or {})}.items():
        female, male = young.get(age, (woman, man))
        personas[age, gender] = (female if gender == "female" else male, transform)
    return personas


_INSTALL_HINT = "pip install 'reelforge[voices]' (pyworld-prebuilt)"
_FRAME_MS = 5.0
_PEAK = 0.9


@dataclass(frozen=True)
class Transform:
    f0: float = 1.0  # F0 ratio
    envelope: float = 1.0  # spectral envelope stretch: >1 raises every formant
    breath: float = 0.0  # 0..1: share of aperiodicity added (breathier)
    speed: float = 1.0  # multiplies the request's speed (applied by the engine)
    range: float = 1.0  # F0 spread around the median (log frequency): >1 livelier
    eq: tuple[float, ...] = ()  # dB gains on the envelope at EQ_BANDS_HZ (empty: none)

    @property
    def identity(self) -> bool:
        return (
            self.f0 == 1.0
            and self.envelope == 1.0
            and self.breath == 0.0
            and self.range == 1.0
            and not any(self.eq)
        )


_BOUNDS = {
    "f0": (0.25, 4.0),
    "envelope": (0.7, 1.5),
    "breath": (0.0, 0.8),
    "speed": (0.5, 2.0),
    "range": (0.4, 2.5),
}
_EQ_LIMIT_DB = 24.0
# Where ``eq`` gains sit: 32 bands evenly spaced on the mel scale from 100 Hz to 7 kHz (every
# engine's rate and a 16 kHz recording cover them). Below the first and above the last band
# the end gains hold.
EQ_BANDS_HZ: tuple[float, ...] = tuple(
    float(700.0 * (10 ** (m / 2595.0) - 1.0))
    for m in np.linspace(2595.0 * np.log10(1 + 100 / 700), 2595.0 * np.log10(1 + 7000 / 700), 32)
)


def parse(text: str) -> Transform:
    """``"f0=1.45;envelope=1.18"`` -> Transform(f0=1.45, envelope=1.18)."""
    values: dict[str, Any] = {}
    known = ", ".join(f"{k} {a}..{b}" for k, (a, b) in _BOUNDS.items())
    for item in text.split(";"):
        if not item.strip():
            continue
        key, _, raw = item.partition("=")
        key = key.strip()
        if key == "eq":
            values["eq"] = _parse_eq(raw, item.strip())
            continue
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        low, high = _BOUNDS.get(key, (1.0, 0.0))
        if not low <= value <= high:
            raise SpecError(
                f"bad voice transform {item.strip()!r}",
                hint=f"use {known}, eq (comma-separated dB)",
            )
        values[key] = value
    return Transform(**values)


def _parse_eq(raw: str, item: str) -> tuple[float, ...]:
    try:
        gains = tuple(float(g) for g in raw.split(","))
    except ValueError:
        gains = ()
    if len(gains) != len(EQ_BANDS_HZ) or not all(abs(g) <= _EQ_LIMIT_DB for g in gains):
        raise SpecError(
            f"bad voice transform {item[:40]!r}...",
            hint=f"eq takes {len(EQ_BANDS_HZ)} comma-separated gains of at most "
            f"{_EQ_LIMIT_DB:g} dB",
        )
    return gains


def unparse(transform: Transform) -> str:
    """The ``key=value`` text of ``transform`` (what :func:`parse` reads back)."""
    parts = [
        f"{key}={getattr(transform, key):.4g}"
        for key, default in (("f0", 1.0), ("range", 1.0), ("envelope", 1.0), ("breath", 0.0))
        if getattr(transform, key) != default
    ]
    if transform.speed != 1.0:
        parts.append(f"speed={transform.speed:.4g}")
    if any(transform.eq):
        parts.append("eq=" + ",".join(f"{g:.1f}" for g in transform.eq))
    return ";".join(parts)


def _world() -> Any:
    missing = "age voices and pitch shifts need pyworld, which is not installed"
    return optional_module("pyworld", missing, _INSTALL_HINT)


def read_wav(path: Path) -> tuple[NDArray[np.float64], int]:
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise SpecError(f"{path.name} is not 16-bit PCM", hint="give a 16-bit wav")
        rate = wav.getframerate()
        channels = wav.getnchannels()
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    return data / 32768.0, rate


def write_wav(path: Path, audio: NDArray[np.float64], rate: int) -> None:
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 0:
        audio = audio * (_PEAK / peak)
    pcm = np.clip(np.round(audio * 32767.0), -32767, 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())


def _stretch_envelope(sp: NDArray[np.float64], ratio: float) -> NDArray[np.float64]:
    """Move every formant up (ratio > 1) or down: new(f) = old(f / ratio)."""
    bins = np.arange(sp.shape[1], dtype=np.float64)
    source = np.clip(bins / ratio, 0, sp.shape[1] - 1)
    out = np.empty_like(sp)
    for i in range(sp.shape[0]):
        out[i] = np.interp(source, bins, sp[i])
    return out


def _spread(f0: NDArray[np.float64], ratio: float) -> NDArray[np.float64]:
    """The voiced F0 contour's distance from its median (in log frequency) times ``ratio``."""
    voiced = f0 > 0
    if not voiced.any():
        return f0
    logs = np.log(f0[voiced])
    centre = float(np.median(logs))
    out = f0.copy()
    out[voiced] = np.exp(centre + (logs - centre) * ratio)
    return out


def _eq_gains(gains_db: tuple[float, ...], bins: int, rate: int) -> NDArray[np.float64]:
    """Power gains per envelope bin from dB gains at EQ_BANDS_HZ (log-frequency interpolation,
    end gains held)."""
    freqs = np.arange(bins) * rate / (2.0 * (bins - 1))
    where = np.log(np.maximum(freqs, 1.0))
    db = np.interp(where, np.log(np.array(EQ_BANDS_HZ)), np.array(gains_db))
    return np.asarray(10.0 ** (db / 10.0), dtype=np.float64)


def apply(source: Path, target: Path, transform: Transform, pitch: float = 0.0) -> None:
    """Write ``source`` spoken with ``transform`` and ``pitch`` semitones to ``target``.

    The output has exactly the input's length, so word times are unchanged.
    """
    if not -12.0 <= pitch <= 12.0:
        raise SpecError(f"pitch {pitch} semitones is out of range", hint="use -12 to +12")
    world = _world()
    audio, rate = read_wav(source)
    if audio.size == 0:
        raise SpecError(f"{source.name} holds no audio", hint="synthesise some speech first")
    f0, times = world.dio(audio, rate, frame_period=_FRAME_MS)
    f0 = world.stonemask(audio, f0, times, rate)
    sp = world.cheaptrick(audio, f0, times, rate)
    ap = world.d4c(audio, f0, times, rate)
    if transform.range != 1.0:
        f0 = _spread(f0, transform.range)
    f0 = f0 * transform.f0 * (2.0 ** (pitch / 12.0))
    if transform.envelope != 1.0:
        sp = _stretch_envelope(sp, transform.envelope)
    if any(transform.eq):
        sp = sp * _eq_gains(transform.eq, sp.shape[1], rate)
    if transform.breath > 0:
        ap = 1.0 - (1.0 - ap) * (1.0 - transform.breath)
    out = world.synthesize(f0, sp, ap, rate, frame_period=_FRAME_MS)
    out = np.asarray(out, dtype=np.float64)
    if out.size >= audio.size:
        out = out[: audio.size]
    else:
        out = np.concatenate([out, np.zeros(audio.size - out.size)])
    write_wav(target, out, rate)


# --------------------------------------------------------------------------- measurement
@dataclass(frozen=True)
class VoiceMeasure:
    f0_hz: float  # median F0 over voiced frames
    formants_hz: tuple[float, float, float]  # median F1, F2, F3 over voiced frames


ANALYSIS_FRAME_MS = 10.0


def analyse(path: Path) -> tuple[NDArray[np.float64], NDArray[np.float64], int]:
    """WORLD's F0 (Hz, 0 when unvoiced) and spectral envelope (power, one row per frame of
    ANALYSIS_FRAME_MS) of a wav, and its sample rate."""
    world = _world()
    audio, rate = read_wav(path)
    if audio.size < rate * ANALYSIS_FRAME_MS / 1000:
        raise SpecError(f"{path.name} holds no audio", hint="give a recording with speech")
    f0, times = world.dio(audio, rate, frame_period=ANALYSIS_FRAME_MS)
    f0 = world.stonemask(audio, f0, times, rate)
    sp = world.cheaptrick(audio, f0, times, rate)
    return np.asarray(f0), np.asarray(sp), rate


def measure(path: Path) -> VoiceMeasure:
    """Median F0 (WORLD's DIO) and median F1-F3 (spectral envelope peaks on voiced frames)."""
    f0, sp, rate = analyse(path)
    voiced = f0 > 0
    median_f0 = float(np.median(f0[voiced])) if voiced.any() else 0.0
    # Formants: peaks of WORLD's F0-adaptive spectral envelope (LPC locks onto harmonics at
    # a child's F0), on voiced frames loud enough to matter, each frame's first three peaks
    # between 200 and 5000 Hz above its F0.
    freqs = np.arange(sp.shape[1]) * rate / (2 * (sp.shape[1] - 1))
    band = (freqs >= 200) & (freqs <= 5000)
    energy = sp.sum(axis=1)
    loud = voiced & (energy > 0.05 * np.max(energy[voiced])) if voiced.any() else voiced
    found: list[list[float]] = []
    for row, frame_f0 in zip(sp[loud], f0[loud], strict=True):
        db = 10 * np.log10(row + 1e-12)
        maxima = np.flatnonzero((db[1:-1] > db[:-2]) & (db[1:-1] >= db[2:])) + 1
        # A peak at the fundamental itself (the glottal source, strong in high voices) is not
        # a formant of the tract: start above 1.3 x this frame's F0.
        peaks = [int(k) for k in maxima if band[k] and freqs[k] > 1.3 * frame_f0]
        if len(peaks) >= 3:
            found.append([float(freqs[k]) for k in peaks[:3]])
    if not found:
        return VoiceMeasure(median_f0, (0.0, 0.0, 0.0))
    table = np.array(found)
    f1, f2, f3 = (float(np.median(table[:, k])) for k in range(3))
    return VoiceMeasure(median_f0, (f1, f2, f3))
