"""A synthetic voice moved toward a person's recording (``--voice-like ref.wav``), offline.

No network voice cloning runs here, so the likeness is built from what the catalogue has and
WORLD (``pyworld``, :mod:`reelforge.speech_transform`):

1. **The reference** (5-30 s of one person speaking, any audio the ffmpeg layer opens; longer
   recordings are analysed over their first 30 s) gives a :class:`VoiceProfile`: the median F0
   and the spread of its contour (10th to 90th percentile), and the mean spectral envelope
   (WORLD's CheapTrick, in dB on 32 mel-spaced bands from 100 Hz to 7 kHz, each frame's level
   removed, averaged over the voiced frames): the long-term timbre of the vocal tract.
2. **The nearest voice**: each candidate (the catalogue's voices of the language, one per
   engine voice, and for Kokoro a row of style-vector blends from its woman to its man) reads a
   probe sentence once (cached) and is profiled the same way; the one at the smallest distance
   to the reference is the base.
3. **The transform**: F0 scaled to the reference's median, its contour's spread scaled to the
   reference's, the envelope stretched along frequency by the ratio that brings it closest
   (formants up or down: the size of the tract), then the remaining difference applied as a
   smooth filter on the envelope (``eq``): a ``speech_transform`` string the voice layer applies
   after the engine speaks, so word times stay exact.
4. **The report**: the distances before (the base voice) and after (the base voice transformed),
   both measured on the probe sentence's audio, not predicted: F0 in semitones (median, and the
   contour's spread) and the envelope as the RMS difference in dB across the bands.

The distances compare long-term averages of different sentences, so a match never reaches 0:
about 1-2 dB of envelope difference is what two readings of different text by the same voice
show.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reelforge import speech_transform
from reelforge.engines.base import VoiceInfo
from reelforge.errors import MediaError, ReelforgeError, SpecError
from reelforge.text.language import primary_language

MIN_REFERENCE_S = 5.0
MAX_REFERENCE_S = 30.0
MIN_VOICED_S = 1.5  # voiced speech a reference must hold (a tone or noise has none)
_RECORD_HINT = "give 5-30 s of one person speaking, alone, in WAV, MP3, M4A, FLAC or Ogg"
_BANDS = np.array(speech_transform.EQ_BANDS_HZ)
_STRETCHES = np.linspace(0.8, 1.25, 91)  # envelope stretch ratios tried
_EQ_LIMIT_DB = 12.0
# The F0 contour's spread is scaled by at most this: a wider swing made Whisper mishear a clause
# of the matched voice (French, CER 0.19 -> 0.30 at x1.41; 0.19 at x1.2, measured)
_MAX_SPREAD = 1.25
_MIN_SPREAD = 0.5
_SMOOTH = np.array([1.0, 2.0, 3.0, 2.0, 1.0]) / 9.0  # across neighbouring bands
# How a semitone of F0 weighs against a dB of envelope when the nearest voice is picked.
_DB_PER_SEMITONE = 2.0
# Kokoro's style space from its woman to its man: blends tried besides the catalogue's own.
_KOKORO_AXIS = ("jf_gongitsune", "jm_kumo")
_KOKORO_WEIGHTS = (0.2, 0.4, 0.6, 0.8, 1.0)  # share of the man
# A probe per language: two sentences of ordinary speech, the same for every candidate.
PROBES: dict[str, str] = {
    "en": "The morning train was late again, so we walked along the river to the old bridge. "
    "Nobody minded: the sun was warm and the bakery had just opened.",
    "fr": "Le train du matin avait encore du retard, alors nous avons marché le long de la "
    "rivière. Personne ne s'en plaignait : le soleil était doux et la boulangerie ouvrait.",
    "es": "El tren de la mañana volvió a llegar tarde, así que caminamos junto al río hasta el "
    "puente viejo. A nadie le importó: el sol calentaba y la panadería acababa de abrir.",
    "it": "Il treno del mattino era di nuovo in ritardo, così abbiamo camminato lungo il fiume "
    "fino al vecchio ponte. Nessuno si lamentava: il sole era caldo e il forno era aperto.",
    "pt": "O trem da manhã atrasou de novo, então caminhamos pela margem do rio até a ponte "
    "velha. Ninguém se importou: o sol estava quente e a padaria tinha acabado de abrir.",
    "hi": "सुबह की गाड़ी फिर से देर से आई, इसलिए हम नदी के किनारे पुराने पुल तक पैदल चले। "
    "किसी को बुरा नहीं लगा, धूप अच्छी थी और बेकरी अभी खुली थी।",
    "ar": "تأخر قطار الصباح مرة أخرى، فمشينا على ضفة النهر حتى الجسر القديم. "
    "لم يمانع أحد، فالشمس كانت دافئة والمخبز قد فتح أبوابه للتو.",
    "de": "Der Morgenzug hatte wieder Verspätung, also gingen wir am Fluss entlang bis zur alten "
    "Brücke. Niemand störte sich daran: die Sonne war warm und die Bäckerei hatte geöffnet.",
    "ja": "朝の電車がまた遅れたので、私たちは川沿いを古い橋まで歩きました。"
    "日差しは暖かく、パン屋さんもちょうど開いたところでした。",
}


# --------------------------------------------------------------------------- profiles
@dataclass(frozen=True)
class VoiceProfile:
    """How a voice measures over a stretch of speech."""

    f0_hz: float  # median F0 over voiced frames
    f0_low_hz: float  # 10th percentile
    f0_high_hz: float  # 90th percentile
    envelope_db: tuple[float, ...]  # mean envelope at EQ_BANDS_HZ, level removed
    voiced_s: float  # seconds of voiced speech measured

    @property
    def spread_semitones(self) -> float:
        """The F0 contour's spread: 10th to 90th percentile, in semitones."""
        return 12.0 * math.log2(self.f0_high_hz / self.f0_low_hz)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VoiceProfile:
        return cls(**{**data, "envelope_db": tuple(data["envelope_db"])})


@dataclass(frozen=True)
class Distance:
    """How far one voice is from another."""

    f0_semitones: float  # |difference of the median F0s|
    spread_semitones: float  # |difference of the F0 contours' spreads|
    envelope_db: float  # RMS difference of the mean envelopes across the bands

    @property
    def score(self) -> float:
        """One number to rank candidates: semitones weighed against dB of envelope."""
        return self.f0_semitones + 0.5 * self.spread_semitones + self.envelope_db / _DB_PER_SEMITONE

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 2) for k, v in dataclasses.asdict(self).items()}


def profile(wav: Path) -> VoiceProfile:
    """Measure a mono 16-bit wav (any rate): MediaError when it holds too little voice."""
    f0, sp, rate = speech_transform.analyse(wav)
    voiced = f0 > 0
    energy = sp.sum(axis=1)
    if voiced.any():  # voiced frames loud enough to matter (not a breath under the floor)
        voiced &= energy > 0.01 * float(np.max(energy[voiced]))
    voiced_s = float(voiced.sum()) * speech_transform.ANALYSIS_FRAME_MS / 1000.0
    if voiced_s < MIN_VOICED_S:
        raise MediaError(
            f"{wav.name} holds {voiced_s:.1f} s of voiced speech, too little to measure a "
            f"voice (at least {MIN_VOICED_S:g} s)",
            hint=_RECORD_HINT,
        )
    low, median, high = (float(v) for v in np.percentile(f0[voiced], [10, 50, 90]))
    freqs = np.arange(sp.shape[1]) * rate / (2.0 * (sp.shape[1] - 1))
    db = 10.0 * np.log10(sp[voiced] + 1e-12)
    bands = np.stack([np.interp(_BANDS, freqs, row) for row in db])
    bands -= bands.mean(axis=1, keepdims=True)  # each frame's level out: the shape alone
    envelope = tuple(round(float(v), 3) for v in bands.mean(axis=0))
    return VoiceProfile(median, low, max(high, low * 1.001), envelope, round(voiced_s, 2))


def distance(a: VoiceProfile, b: VoiceProfile) -> Distance:
    difference = np.array(a.envelope_db) - np.array(b.envelope_db)
    difference -= difference.mean()
    return Distance(
        f0_semitones=abs(12.0 * math.log2(a.f0_hz / b.f0_hz)),
        spread_semitones=abs(a.spread_semitones - b.spread_semitones),
        envelope_db=float(np.sqrt(np.mean(difference**2))),
    )


def _stretched(envelope: NDArray[np.float64], ratio: float) -> NDArray[np.float64]:
    """The band envelope with every formant moved by ``ratio``: new(f) = old(f / ratio)."""
    logs = np.log(_BANDS)
    return np.asarray(np.interp(logs - math.log(ratio), logs, envelope), dtype=np.float64)


def fit(base: VoiceProfile, target: VoiceProfile) -> speech_transform.Transform:
    """The WORLD transform that moves ``base`` toward ``target``."""
    f0 = float(np.clip(target.f0_hz / base.f0_hz, 0.25, 4.0))
    spread = 1.0
    if base.spread_semitones > 0.5:
        spread = target.spread_semitones / base.spread_semitones
        spread = float(np.clip(spread, _MIN_SPREAD, _MAX_SPREAD))
    source, wanted = np.array(base.envelope_db), np.array(target.envelope_db)

    def error(ratio: float) -> float:
        difference = wanted - _stretched(source, ratio)
        return float(np.sqrt(np.mean((difference - difference.mean()) ** 2)))

    stretch = float(min(_STRETCHES, key=error))
    residual = wanted - _stretched(source, stretch)
    residual -= residual.mean()
    padded = np.concatenate([[residual[0]] * 2, residual, [residual[-1]] * 2])
    smooth = np.convolve(padded, _SMOOTH, mode="valid")
    eq = tuple(round(float(g), 1) for g in np.clip(smooth, -_EQ_LIMIT_DB, _EQ_LIMIT_DB))
    return speech_transform.Transform(
        f0=round(f0, 4), envelope=round(stretch, 3), range=round(spread, 3), eq=eq
    )


# --------------------------------------------------------------------------- the reference
def analyse_reference(recording: Path, workdir: Path) -> VoiceProfile:
    """Profile a person's recording: MediaError when it is not audio, shorter than 5 s, silent,
    or holds too little voice."""
    from reelforge.media.probe import check_audio
    from reelforge.media.speech import check_not_silent, extract_speech

    recording = Path(recording)
    try:
        info = check_audio(recording)
    except MediaError as error:
        raise MediaError(
            f"the voice reference is unusable: {error.message}", hint=_RECORD_HINT
        ) from error
    seconds = info.duration_ms / 1000.0
    if seconds < MIN_REFERENCE_S:
        raise MediaError(
            f"the voice reference {recording.name} is {math.floor(seconds * 10) / 10:.1f} s "
            "long, too short to "
            f"measure a voice (at least {MIN_REFERENCE_S:g} s)",
            hint=_RECORD_HINT,
        )
    workdir.mkdir(parents=True, exist_ok=True)
    wav = workdir / "reference-16k.wav"
    extract_speech(recording, wav, end_s=min(seconds, MAX_REFERENCE_S))
    try:
        check_not_silent(wav, recording)
    except MediaError as error:
        raise MediaError(f"the voice reference {error.message}", hint=_RECORD_HINT) from error
    try:
        return profile(wav)
    except MediaError as error:
        raise MediaError(
            f"the voice reference {recording.name} has no voice to measure: {error.message}",
            hint=_RECORD_HINT,
        ) from error


# --------------------------------------------------------------------------- the match
@dataclass(frozen=True)
class VoiceMatch:
    """The voice that speaks like the reference, and how close it came."""

    voice: VoiceInfo  # the base voice with the fitted transform: what narrates
    base: VoiceInfo  # the nearest catalogue voice or blend, as it is
    reference: str  # the recording's file name
    language: str
    target: VoiceProfile
    base_profile: VoiceProfile
    after_profile: VoiceProfile
    before: Distance
    after: Distance

    def to_dict(self) -> dict[str, Any]:
        """For the manifest."""
        return {
            "reference": self.reference,
            "language": self.language,
            "base_voice": self.base.id,
            "engine": self.base.engine,
            "engine_voice": self.base.engine_voice,
            "transform": self.voice.transform,
            "reference_f0_hz": round(self.target.f0_hz, 1),
            "voice_f0_hz": {
                "before": round(self.base_profile.f0_hz, 1),
                "after": round(self.after_profile.f0_hz, 1),
            },
            "distance_before": self.before.to_dict(),
            "distance_after": self.after.to_dict(),
        }

    def summary(self) -> str:
        """One line for the command line."""
        return summary(self.to_dict())


def summary(report: dict[str, Any]) -> str:
    """One line from a match's manifest entry (:meth:`VoiceMatch.to_dict`)."""
    before, after, f0 = report["distance_before"], report["distance_after"], report["voice_f0_hz"]
    return (
        f"voice like {report['reference']} ({report['language']}): {report['base_voice']} "
        f"[{report['engine_voice']}] + WORLD; F0 {f0['before']:.0f} -> {f0['after']:.0f} Hz "
        f"(reference {report['reference_f0_hz']:.0f}); distance F0 "
        f"{before['f0_semitones']:.1f} -> {after['f0_semitones']:.1f} semitones, spread "
        f"{before['spread_semitones']:.1f} -> {after['spread_semitones']:.1f}, envelope "
        f"{before['envelope_db']:.1f} -> {after['envelope_db']:.1f} dB"
    )


def match_voice(
    recording: Path,
    language: str,
    cache: Path,
    *,
    voice: str | None = None,
    candidates: Sequence[VoiceInfo] | None = None,
    probe: str | None = None,
) -> VoiceMatch:
    """The voice of ``language`` moved toward ``recording``.

    ``voice`` (a catalogue id) fixes the base; else the nearest of ``candidates`` (default:
    :func:`candidates`). ``probe`` is the text every candidate reads (default: the language's
    :data:`PROBES` sentence). Probe audio and profiles are cached under ``cache``.
    """
    from reelforge.voices import resolve_voice

    recording = Path(recording)
    folder = Path(cache) / "voice-match"
    key = _file_key(recording)
    target = _cached_profile(
        folder / f"reference-{key}.json",
        lambda: analyse_reference(recording, folder / f"reference-{key}"),
    )
    text = probe or PROBES.get(primary_language(language))
    if not text:
        raise SpecError(
            f"no probe sentence for language {language!r} to compare voices with",
            hint="pass the narration's first sentence as the probe",
        )
    if voice:
        pool = [dataclasses.replace(resolve_voice(voice, language), transform="")]
    else:
        pool = list(candidates) if candidates is not None else default_candidates(language)
    if not pool:
        raise SpecError(
            f"no voice speaks {language!r} to match the reference with",
            hint="run `reelforge voices` to list every voice",
        )
    measured = [(base, *_probe(base, text, language, folder)) for base in pool]
    base, probe_wav, base_profile = min(measured, key=lambda m: distance(m[2], target).score)
    transform, after_profile = _refined(probe_wav, fit(base_profile, target), target)
    matched = dataclasses.replace(
        base,
        id=f"{base.id}-like-{key[:8]}",
        transform=speech_transform.unparse(transform),
        description=f"{base.description}, moved toward {recording.name}",
    )
    before, after = distance(base_profile, target), distance(after_profile, target)
    profiles = (target, base_profile, after_profile)
    return VoiceMatch(matched, base, recording.name, language, *profiles, before, after)


def _refined(
    probe: Path, transform: speech_transform.Transform, target: VoiceProfile
) -> tuple[speech_transform.Transform, VoiceProfile]:
    """Apply ``transform`` to the probe and measure it; when the F0 or its spread landed off
    the target (the contour's spread is scaled around the median of every voiced frame, the
    profile weighs the loud ones), correct both once by what was measured and keep the closer.
    """

    def spoken(candidate: speech_transform.Transform) -> VoiceProfile:
        wav = probe.with_name(f"{probe.stem}-{_text_key(str(candidate))}.wav")
        speech_transform.apply(probe, wav, candidate)
        return profile(wav)

    measured = spoken(transform)
    miss = distance(measured, target)
    if miss.f0_semitones < 0.25 and miss.spread_semitones < 0.5:
        return transform, measured
    f0 = float(np.clip(transform.f0 * target.f0_hz / measured.f0_hz, 0.25, 4.0))
    spread = transform.range * target.spread_semitones / max(measured.spread_semitones, 0.1)
    corrected = dataclasses.replace(
        transform,
        f0=round(f0, 4),
        range=round(float(np.clip(spread, _MIN_SPREAD, _MAX_SPREAD)), 3),
    )
    again = spoken(corrected)
    if distance(again, target).score < miss.score:
        return corrected, again
    return transform, measured


def default_candidates(language: str) -> list[VoiceInfo]:
    """One voice per engine voice of ``language`` in the catalogue (transforms removed: the
    match fits its own), plus Kokoro blends along its woman-man axis."""
    from reelforge.voices import catalog

    lang = primary_language(language)
    found: dict[tuple[str, str], VoiceInfo] = {}
    for voice in catalog():
        if voice.language == lang:
            found.setdefault((voice.engine, voice.engine_voice), voice)
    if any(engine == "kokoro" for engine, _ in found):
        woman, man = _KOKORO_AXIS
        for weight in _KOKORO_WEIGHTS:
            style = man if weight >= 1.0 else f"{woman}*{1 - weight:.1f}+{man}*{weight:.1f}"
            gender = "male" if weight >= 0.5 else "female"
            found.setdefault(
                ("kokoro", style),
                VoiceInfo(
                    id=f"{lang}-blend{round(weight * 100)}-{gender}",
                    engine="kokoro",
                    language=lang,
                    gender=gender,
                    age="adult",
                    description=f"Kokoro blend {style}",
                    engine_voice=style,
                ),
            )
    return [dataclasses.replace(v, transform="") for v in found.values()]


def _probe(base: VoiceInfo, text: str, language: str, folder: Path) -> tuple[Path, VoiceProfile]:
    """``base`` reading ``text`` (cached wav) and its profile (cached json)."""
    from reelforge.engines import registry
    from reelforge.voices import speak_as

    version = registry.get("voice", base.engine).info().version
    key = _text_key(f"{base.engine}|{version}|{base.engine_voice}|{language}|{text}")
    work = folder / f"probe-{key}"
    wav = work / "probe.wav"
    if not wav.is_file():
        work.mkdir(parents=True, exist_ok=True)
        Path(speak_as(base, text, language, work).audio).replace(wav)
    try:
        found = _cached_profile(work / "profile.json", lambda: profile(wav))
    except ReelforgeError as error:
        raise MediaError(
            f"voice {base.id} could not be measured: {error.message}", hint=error.hint
        ) from error
    return wav, found


def _cached_profile(path: Path, measure: Any) -> VoiceProfile:
    if path.is_file():
        return VoiceProfile.from_dict(json.loads(path.read_text()))
    found: VoiceProfile = measure()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(found.to_dict()))
    tmp.replace(path)
    return found


def _file_key(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as source:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        raise MediaError(
            f"the voice reference {path} cannot be read ({error.strerror or error})",
            hint=_RECORD_HINT,
        ) from error
    return digest.hexdigest()[:16]


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
