"""Procedural music: a seeded composer writes General MIDI, the fluidsynth CLI renders it.

The composer knows a handful of moods. Each mood fixes a tempo range, a scale (or raga), chord
progressions, GM instruments and a drum pattern; the seed picks the key, the tempo, the
progressions and the melody's motif, and humanises velocities and timing, so one seed always
gives the same notes. The piece is arranged in sections (intro: pad only; main; lift: melody and
full drums; outro) and ends on a held tonic chord that the fade-out runs over.

Rendering uses the Debian ``fluidsynth`` binary rather than pyfluidsynth: no compiled Python
extension to install, and its fast-render mode is quicker than real time by ~100x.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import os
import shutil
import subprocess
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import EngineInfo, MusicRequest, MusicResult
from reelforge.engines.music.procedural_moods import MOODS
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError

if TYPE_CHECKING:
    import pretty_midi

VERSION = "1.0"
SAMPLE_RATE = 44100
TAIL_S = 2.0  # composed past the requested end, so the trim never lands on silence
FADE_OUT_S = 2.0
FADE_IN_S = 0.05  # just enough to hide a click if the first note has a hard attack
PEAK_DBFS = -3.0  # headroom for the mixer, which sets the final level
MAX_DURATION_MS = 30 * 60 * 1000
SOUNDFONT_ENV = "REELFORGE_SOUNDFONT"
# Preferred first: FluidR3 (Debian fluid-soundfont-gm) has far better strings and sitar than the
# 6 MB TimGM6mb that ships inside pretty-midi's wheel.
SYSTEM_SOUNDFONTS = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/soundfonts/FluidR3_GM.sf2"),
)

# --------------------------------------------------------------------------- scales
IONIAN = (0, 2, 4, 5, 7, 9, 11)
LYDIAN = (0, 2, 4, 6, 7, 9, 11)
AEOLIAN = (0, 2, 3, 5, 7, 8, 10)
DORIAN = (0, 2, 3, 5, 7, 9, 10)
HARMONIC_MINOR = (0, 2, 3, 5, 7, 8, 11)
RAGA_YAMAN = (0, 2, 4, 6, 7, 9, 11)  # Sa Re Ga Ma(tivra) Pa Dha Ni
RAGA_BHAIRAV = (0, 1, 4, 5, 7, 8, 11)  # Sa re(komal) Ga Ma Pa dha(komal) Ni
RAGA_KHAMAJ = (0, 2, 4, 5, 7, 9, 10)  # Ni komal: the light-classical film and bhajan raga
HIJAZ = (0, 1, 4, 5, 7, 8, 10)  # maqam Hijaz (phrygian dominant): the augmented 2nd b2-3
NAHAWAND = (0, 2, 3, 5, 7, 8, 11)  # maqam Nahawand (harmonic minor): leading tone, b6
KURD = (0, 1, 3, 5, 7, 8, 10)  # maqam Kurd (phrygian): Chaabi's dark minor

# --------------------------------------------------------------------------- drums
# One string per GM percussion key, 16 steps a bar (16ths); longer strings span several bars.
# X = accent, x = normal, o = ghost, . = rest.
KICK, SIDE_STICK, SNARE, CLAP = 36, 37, 38, 39
LOW_FLOOR_TOM, HIGH_FLOOR_TOM, LOW_TOM, LOW_MID_TOM = 41, 43, 45, 47
CLOSED_HAT, OPEN_HAT, CRASH = 42, 46, 49
TAMBOURINE, MARACAS, HI_WOODBLOCK, LOW_WOODBLOCK, OPEN_TRIANGLE = 54, 70, 76, 77, 81
MUTE_TRIANGLE = 80
HI_BONGO, LOW_BONGO, MUTE_HI_CONGA, OPEN_HI_CONGA, LOW_CONGA = 60, 61, 62, 63, 64
STEP_VELOCITY = {"X": 112, "x": 90, "o": 52}


def _teentaal(bols: dict[str, tuple[int, ...]], ghost: int | None) -> dict[int, str]:
    """Teentaal (16 beats, one bol a beat: 4 bars of 4/4) as step strings.

    Dha = bayan + dayan, Dhin = bayan + muted dayan, Tin/Ta = dayan alone: the third vibhag
    (khali) drops the bass drum, which is what makes the cycle audible as teentaal.
    """
    theka = (
        ["Dha", "Dhin", "Dhin", "Dha"] * 2
        + ["Dha", "Tin", "Tin", "Ta"]
        + ["Ta", "Dhin", "Dhin", "Dha"]
    )
    keys = sorted({k for ks in bols.values() for k in ks} | ({ghost} if ghost else set()))
    steps = {k: ["."] * 64 for k in keys}
    for beat, bol in enumerate(theka):
        for k in bols[bol]:
            steps[k][beat * 4] = "x" if beat in (0, 4, 12) else "o"  # tali beats accented
        if ghost is not None:
            steps[ghost][beat * 4 + 2] = "o"  # the "na" between bols in the faster gat
    return {k: "".join(v) for k, v in steps.items()}


_TABLA_BOLS = {
    "Dha": (LOW_CONGA, OPEN_HI_CONGA),
    "Dhin": (LOW_CONGA, MUTE_HI_CONGA),
    "Tin": (MUTE_HI_CONGA,),
    "Ta": (OPEN_HI_CONGA,),
}


# Darbuka: dum (low, open) on the low conga, tek (rim) on the high bongo, ka (the other hand's
# rim, softer) on the low bongo; the riq's jingles on the tambourine.
DUM, TEK, KA, RIQ = LOW_CONGA, HI_BONGO, LOW_BONGO, TAMBOURINE
# Dholak: the bass head (ge) on the low conga, the treble head open (na) and muted (ti).
GE, NA, TI = LOW_CONGA, OPEN_HI_CONGA, MUTE_HI_CONGA


@dataclass(frozen=True)
class DrumPattern:
    light: dict[int, str]  # main sections
    full: dict[int, str]  # lift sections
    fill: dict[int, str] = field(default_factory=dict)  # last beat before a lift (4 steps)
    crash: int | None = CRASH  # on the first beat of each lift and on the final chord


# The patterns are data (procedural.json, "drums"): per pattern, its light, full and fill grooves
# as {instrument: steps} and "crash": true for a crash on the first beat of each lift and on the
# final chord; "about" and "notes" say why, for people. Instruments by these names:
DRUM_KEYS = {
    **{"kick": KICK, "side-stick": SIDE_STICK, "snare": SNARE, "clap": CLAP},
    **{"closed-hat": CLOSED_HAT, "open-hat": OPEN_HAT, "maracas": MARACAS},
    **{"tom": LOW_TOM, "floor": LOW_FLOOR_TOM, "high-floor": HIGH_FLOOR_TOM},
    **{"hi-woodblock": HI_WOODBLOCK, "low-woodblock": LOW_WOODBLOCK, "tambourine": TAMBOURINE},
    **{"dum": DUM, "tek": TEK, "ka": KA, "riq": RIQ, "ge": GE, "na": NA, "ti": TI},
    **{"ching": OPEN_TRIANGLE, "chak": MUTE_TRIANGLE},  # the manjira's open and muted strokes
    "qraqeb": MUTE_TRIANGLE,  # the Gnawa's iron castanets, in their lilting 3+1
}
_TABLES: dict[str, dict[str, dict[str, Any]]] = json.loads(
    resources.files("reelforge.engines.music").joinpath("procedural.json").read_text("utf-8")
)


def _drum_pattern(fields: dict[str, Any]) -> DrumPattern:
    """A drum pattern from its entry in procedural.json."""

    def steps(part: str) -> dict[int, str]:
        return {DRUM_KEYS[name]: cells for name, cells in fields.get(part, {}).items()}

    crash = CRASH if fields.get("crash") else None
    return DrumPattern(steps("light"), steps("full"), steps("fill"), crash)


DRUM_PATTERNS: dict[str, DrumPattern] = {
    name: _drum_pattern(fields) for name, fields in _TABLES["drums"].items()
}
DRUM_PATTERNS["teentaal"] = DrumPattern(
    light={},  # the alap is unaccompanied: tabla enters with the gat (the lift)
    full={**_teentaal(_TABLA_BOLS, ghost=HI_BONGO), OPEN_TRIANGLE: "o" + "." * 63},
    fill={HI_BONGO: "xoxo", LOW_BONGO: "...x"},  # a tirakita-like run into the sam
    crash=None,
)

# --------------------------------------------------------------------------- melody rhythms
# One bar of (onset, duration) in beats; the motif takes one and repeats/varies it.
RHYTHMS: dict[str, tuple[tuple[tuple[float, float], ...], ...]] = {
    "long": (
        ((0, 2), (2, 2)),
        ((0, 3), (3, 1)),
        ((0, 1.5), (1.5, 0.5), (2, 2)),
        ((0, 1), (1, 1), (2, 2)),
    ),
    "pop": (
        ((0, 0.5), (0.5, 0.5), (1, 1), (2, 0.5), (2.5, 1.5)),
        ((0, 1), (1, 0.5), (1.5, 1), (3, 0.5), (3.5, 0.5)),
        ((0.5, 0.5), (1, 0.5), (1.5, 1), (2.5, 0.5), (3, 1)),
        ((0, 0.75), (0.75, 0.75), (1.5, 1), (2.5, 1.5)),
    ),
    "bouncy": (
        ((0, 0.5), (0.5, 0.5), (1, 0.5), (2, 0.5), (2.5, 0.5), (3, 0.5)),
        ((0, 0.75), (0.75, 0.25), (1, 0.5), (2, 0.75), (2.75, 0.25), (3, 0.5)),
        ((0, 0.5), (1, 0.5), (1.5, 0.5), (2, 1), (3, 0.5)),
    ),
    "tense": (
        ((0, 1.5), (1.5, 0.5), (2, 2)),
        ((0, 0.5), (0.5, 0.5), (1, 2), (3, 1)),
        ((0, 3), (3, 0.5), (3.5, 0.5)),
    ),
    "lazy": (
        ((0.5, 0.5), (1, 1), (2.5, 0.5), (3, 1)),
        ((0, 0.5), (0.5, 1.5), (2.5, 1.5)),
        ((1, 0.5), (1.5, 0.5), (2, 2)),
    ),
    "waltz": (  # 3/4
        ((0, 2), (2, 1)),
        ((0, 1), (1, 1), (2, 1)),
        ((0, 1.5), (1.5, 0.5), (2, 1)),
        ((0, 2.5), (2.5, 0.5)),
    ),
    "darj": (  # the quick, running lines of a Maghrebi song over maqsum
        ((0, 0.5), (0.5, 0.5), (1, 0.5), (1.5, 0.5), (2, 1), (3, 0.5), (3.5, 0.5)),
        ((0, 1), (1, 0.25), (1.25, 0.25), (1.5, 0.5), (2, 1.5), (3.5, 0.5)),
        ((0, 0.75), (0.75, 0.25), (1, 0.5), (1.5, 0.5), (2, 2)),
    ),
    "gat": (
        ((0, 0.5), (0.5, 0.5), (1, 1), (2, 0.5), (2.5, 0.5), (3, 1)),
        ((0, 1), (1, 0.5), (1.5, 0.5), (2, 2)),
        ((0, 0.5), (0.5, 0.25), (0.75, 0.25), (1, 1), (2, 1), (3, 1)),
    ),
}


# --------------------------------------------------------------------------- accompaniment cells
@dataclass(frozen=True)
class CompCell:
    """An accompaniment written out: each bar a line of tokens spread evenly over the bar
    (16 tokens in 4/4 are 16ths), each token scale steps above the chord's root (``0+7``: root
    and octave together, ``!`` accents, ``.`` rests). The style cycles its bars."""

    low: int  # the register: the tonic sits in low..low+11
    ring: float  # beats each note is left to sound
    bars: tuple[str, ...]


COMP_CELLS: dict[str, CompCell] = {
    # Music box lullaby: the rocking broken chord of 3/4, root - fifth - tenth - fifth.
    "cradle": CompCell(60, 1.5, ("!0 4 9 4 7 4",)),
    # Santoor: hammered 16ths up and down the chord.
    "santoor": CompCell(
        60, 0.5, ("!0 2 4 7 4 2 !0 2 4 7 9 7 !4 2 4 7", "!0 4 7 9 7 4 !2 4 7 4 2 0 !2 4 2 0")
    ),
    # Temple bells: a high Sa, then Pa, left to ring.
    "bells": CompCell(60, 6.0, ("!7 . . .", "4 . . .")),
    # Trailer strings: 16ths in 3+3+2 accents.
    "ostinato16": CompCell(48, 0.23, ("!0 0 7 !0 0 7 !0 4 !0 0 7 !0 0 7 !4 2",)),
    # Qanun: plucked octaves, and every second bar a 32nd-note run down into the tonic.
    "qanun": CompCell(
        60,
        1.0,
        (
            "!0+7 . . . 4 . . . 2 . . . 4 . . .",
            "!0+7 . . . . . . . 4 . . . . . . . 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0 .",
        ),
    ),
    # Guembri (the Gnawa's bass lute, as a bass style): a 3+3+2 riff on the root, the flat
    # seventh and the fifth below.
    "guembri": CompCell(
        36, 0.7, ("!0 . . 0 . . -1 . !-3 . . -1 . . 0 .", "!0 . . 0 . . -1 . !-3 . . -3 . -2 -1 .")
    ),
}


# --------------------------------------------------------------------------- moods
@dataclass(frozen=True)
class MoodSpec:
    """Everything that makes a mood. Programs are 0-based General MIDI numbers."""

    tempo: tuple[int, int]  # bpm range the seed picks from
    scales: tuple[tuple[int, ...], ...]  # the seed picks one (a raga, or a mode)
    tonics: tuple[int, ...]  # pitch classes the seed picks the key from (0 = C)
    progressions: tuple[tuple[int, ...], ...]  # scale degrees (0-based), one chord a bar
    cadence: int  # degree of the chord before the final tonic chord
    pad: int
    melody: int
    melody_range: tuple[int, int]
    rhythm: str  # RHYTHMS family for the lift melody
    rhythm_main: str  # RHYTHMS family for the quieter main melody
    bass: int | None = None
    bass_style: str = "whole"
    comp: int | None = None
    comp_style: str = "arp"
    drums: str | None = None  # DRUM_PATTERNS key
    hits: int | None = None  # pitched timpani-like hits on chord roots
    sevenths: bool = False
    swing: float = 0.0  # 0 = straight, 1 = triplet swing of the off-beat 8ths
    staccato: bool = False
    melody_in_main: bool = False  # a sparse melody already in the first main section
    ornaments: bool = False  # meend (pitch-bend glides) and kan (grace notes)
    drone: bool = False  # pad is a Sa-Pa drone instead of chords
    tremolo: bool = False  # long melody notes restruck in 32nds: the oud's risha
    build: int = 0  # velocity added each time a main or lift section comes back
    meter: int = 4  # beats a bar (4/4 or 3/4)
    reverb: int = 60  # CC91 send for pad and melody
    mix: dict[str, int] = field(default_factory=dict)  # CC7 volume per part, over MIX_DEFAULT


# CC7 per part. GM volume is 40*log10(v/127) dB: 100 is -4 dB, 80 is -8 dB. Measured per part
# with FluidR3 so that drums and crashes do not set the peak on their own.
MIX_DEFAULT = {"pad": 90, "comp": 95, "bass": 100, "hits": 100, "melody": 112, "drums": 90}


SCALES = {
    **{"ionian": IONIAN, "lydian": LYDIAN, "aeolian": AEOLIAN, "dorian": DORIAN},
    **{"harmonic-minor": HARMONIC_MINOR, "hijaz": HIJAZ, "nahawand": NAHAWAND, "kurd": KURD},
    **{"raga-yaman": RAGA_YAMAN, "raga-bhairav": RAGA_BHAIRAV, "raga-khamaj": RAGA_KHAMAJ},
}
# A modal mood: no chord changes, the melody sings and ornaments itself over a drone on the
# tonic and fifth from the first section on.
_MODAL = {
    "progressions": [[0, 0, 0, 0]],
    "cadence": 0,
    "melody_in_main": True,
    "ornaments": True,
    "drone": True,
}


def _mood(fields: dict[str, Any], moods: dict[str, MoodSpec]) -> MoodSpec:
    """A mood from its entry in procedural.json ("moods"): its MoodSpec fields, scales by name
    (:data:`SCALES`); ``"modal": true`` adds :data:`_MODAL`; ``"like"`` names an earlier mood
    whose fields the entry changes; "about" and "notes" (per field) say why, for people."""
    given = {k: v for k, v in fields.items() if k not in ("about", "notes", "like", "modal")}
    if fields.get("modal"):
        given = {**_MODAL, **given}
    values = {name: _spec_value(name, value) for name, value in given.items()}
    if "like" in fields:
        return replace(moods[fields["like"]], **values)
    return MoodSpec(**values)


def _spec_value(name: str, value: Any) -> Any:
    """A MoodSpec field's value from JSON: lists become tuples, scale names their steps."""
    if name == "scales":
        return tuple(SCALES[scale] for scale in value)
    if isinstance(value, list):
        return tuple(_spec_value("", item) for item in value)
    return value


def _moods(entries: dict[str, dict[str, Any]]) -> dict[str, MoodSpec]:
    moods: dict[str, MoodSpec] = {}
    for name, fields in entries.items():
        moods[name] = _mood(fields, moods)
    return moods


MOOD_SPECS = _moods(_TABLES["moods"])

if list(MOOD_SPECS) != list(MOODS):  # the light list the spec checks moods against
    raise RuntimeError("MOOD_SPECS and procedural_moods.MOODS name different moods")


# --------------------------------------------------------------------------- composition
@dataclass(frozen=True)
class _Section:
    kind: str  # "intro" | "main" | "lift" | "outro"
    start_bar: int
    bars: int
    index: int  # how many sections of this kind came before


@dataclass(frozen=True)
class _Motif:
    rhythm: tuple[tuple[float, float], ...]
    contour: tuple[int, ...]  # scale steps from the first note


@dataclass(frozen=True)
class _Ctx:
    """The piece being written: fixed choices plus the helpers every part needs."""

    spec: MoodSpec
    scale: tuple[int, ...]
    tonic: int  # pitch class
    bpm: int
    seed: int
    chords: tuple[int, ...]  # scale degree for each bar, final chord included
    sections: tuple[_Section, ...]
    final_bar: int
    end_s: float

    @property
    def beat_s(self) -> float:
        return 60.0 / self.bpm

    @property
    def bar_s(self) -> float:
        return self.spec.meter * self.beat_s

    def time(self, bar: int, beat: float) -> float:
        """Seconds for a bar and beat, with the mood's swing on off-beat 8ths."""
        frac = beat % 1.0
        if self.spec.swing and abs(frac - 0.5) < 1e-6:
            beat += self.spec.swing / 6.0  # full swing puts the off-beat at 2/3 of the beat
        return bar * self.bar_s + beat * self.beat_s

    def rng(self, salt: int) -> np.random.Generator:
        # One stream per part, so changing one part never reshuffles the others.
        return np.random.default_rng([self.seed % 2**32, salt])

    def degree_pitch(self, degree: int, base: int) -> int:
        """MIDI pitch of a scale degree (any integer) counted from tonic pitch ``base``."""
        octave, step = divmod(degree, 7)
        return base + 12 * octave + self.scale[step]

    def chord_pcs(self, degree: int) -> list[int]:
        size = 4 if self.spec.sevenths else 3
        return [(self.tonic + self.scale[(degree + 2 * k) % 7]) % 12 for k in range(size)]

    def section_at(self, bar: int) -> _Section | None:
        for section in self.sections:
            if section.start_bar <= bar < section.start_bar + section.bars:
                return section
        return None


def _plan_sections(final_bar: int, bar_s: float) -> list[_Section]:
    """Split the bars before the final chord into intro / main / lift ... / outro."""
    if final_bar <= 0:
        return []
    if final_bar == 1:
        return [_Section("intro", 0, 1, 0)]
    if final_bar == 2:
        return [_Section("intro", 0, 1, 0), _Section("lift", 1, 1, 0)]
    # About 4 s of pad alone: long enough to set the mood, short enough not to stall.
    intro = 1 if final_bar < 8 else min(4, max(1, round(4.0 / bar_s)))
    outro = 0 if final_bar < 6 else 1 if final_bar < 14 else 2
    body = final_bar - intro - outro
    phrase = 4 if body < 16 else 8
    # An even number of body sections, so main/lift alternate and the last one is a lift.
    count = min(body, max(2, 2 * math.ceil(body / (2 * phrase))))
    sizes = [body // count + (1 if i < body % count else 0) for i in range(count)]
    sections = [_Section("intro", 0, intro, 0)]
    bar = intro
    for i, size in enumerate(sizes):
        kind = "main" if i % 2 == 0 else "lift"
        sections.append(_Section(kind, bar, size, i // 2))
        bar += size
    if outro:
        sections.append(_Section("outro", bar, outro, 0))
    return sections


def _plan(mood: str, duration_s: float, seed: int, tempo_bpm: int | None) -> _Ctx:
    spec = _spec(mood)
    rng = np.random.default_rng([seed % 2**32, 0])
    scale = spec.scales[int(rng.integers(len(spec.scales)))]
    tonic = spec.tonics[int(rng.integers(len(spec.tonics)))]
    if tempo_bpm is None:
        bpm = int(rng.integers(spec.tempo[0], spec.tempo[1] + 1))
    else:
        bpm = int(min(220, max(40, tempo_bpm)))
    bar_s = spec.meter * 60.0 / bpm
    fade_s = min(FADE_OUT_S, duration_s / 4)
    # The final chord starts before the fade-out, so the fade runs over a held, resolved chord.
    final_bar = max(0, math.floor((duration_s - fade_s) / bar_s + 1e-9))
    sections = _plan_sections(final_bar, bar_s)
    order = [int(i) for i in rng.permutation(len(spec.progressions))]
    prog_main = spec.progressions[order[0]]
    prog_lift = spec.progressions[order[1 % len(order)]]
    chords: list[int] = []
    for section in sections:
        prog = prog_lift if section.kind == "lift" else prog_main
        chords.extend(prog[i % len(prog)] for i in range(section.bars))
    if final_bar >= 2:
        chords[-1] = spec.cadence
    chords.append(0)  # the final tonic
    return _Ctx(
        spec,
        scale,
        tonic,
        bpm,
        seed,
        tuple(chords),
        tuple(sections),
        final_bar,
        end_s=duration_s + TAIL_S,
    )


def _spec(mood: str) -> MoodSpec:
    try:
        return MOOD_SPECS[mood]
    except KeyError:
        raise SpecError(
            f"unknown music mood {mood!r}", hint=f"choose one of: {', '.join(MOOD_SPECS)}"
        ) from None


def _humanise(rng: np.random.Generator, velocity: float, spread: float = 6.0) -> int:
    return int(np.clip(round(velocity + rng.normal(0.0, spread)), 1, 127))


def _jitter(rng: np.random.Generator, seconds: float = 0.008) -> float:
    return float(rng.uniform(-seconds, seconds))


def _voice(pcs: Sequence[int], center: int) -> list[int]:
    """Close voicing of pitch classes around ``center``: a fixed centre gives smooth voice
    leading for free, since every chord tone moves to its nearest position."""
    pitches = []
    for pc in pcs:
        pitch = center - ((center - pc) % 12)
        if center - pitch > 6:
            pitch += 12
        pitches.append(pitch)
    return sorted(set(pitches))


def _add(
    inst: pretty_midi.Instrument, pitch: int, velocity: int, start: float, end: float, end_s: float
) -> pretty_midi.Note | None:
    """Append a note clipped to the piece; returns it, or None when nothing is left of it."""
    import pretty_midi

    start = max(0.0, start)
    end = min(end, end_s)
    if end - start <= 0.02 or not 0 <= pitch <= 127:
        return None
    note = pretty_midi.Note(velocity=velocity, pitch=pitch, start=start, end=end)
    inst.notes.append(note)
    return note


def _build(ctx: _Ctx, section: _Section | None) -> float:
    """The mood's build: each return of a main or lift section plays harder."""
    return float(ctx.spec.build * section.index) if section else 0.0


def _section_gain(kind: str) -> float:
    return {"intro": -6.0, "main": 0.0, "lift": 6.0, "outro": -6.0, "final": -4.0}[kind]


def _bars(ctx: _Ctx, kinds: set[str]) -> list[tuple[int, _Section]]:
    return [(s.start_bar + i, s) for s in ctx.sections if s.kind in kinds for i in range(s.bars)]


def _pad(ctx: _Ctx, inst: pretty_midi.Instrument) -> None:
    rng = ctx.rng(1)
    held: dict[int, pretty_midi.Note] = {}
    for bar in range(ctx.final_bar + 1):
        section = ctx.section_at(bar)
        kind = section.kind if section else "final"
        if ctx.spec.drone:
            base = 48 + ctx.tonic
            pitches = [base - 12, base - 5, base]  # Sa, Pa below, Sa: the tanpura's tuning
        else:
            pcs = ctx.chord_pcs(ctx.chords[bar])
            pitches = _voice(pcs, center=60)
            if ctx.spec.bass is None:
                # No bass part: the pad grounds the chord with its root below the voicing,
                # or a seventh chord's top note may end up as the lowest sound.
                pitches.insert(0, pitches[0] - 1 - (pitches[0] - 1 - pcs[0]) % 12)
        start = ctx.time(bar, 0)
        end = ctx.end_s if bar == ctx.final_bar else ctx.time(bar + 1, 0)
        # The pad carries the intro alone, so it is not dimmed there.
        velocity = 62 + (0.0 if kind == "intro" else _section_gain(kind))
        nxt: dict[int, pretty_midi.Note] = {}
        for pitch in pitches:
            if pitch in held:  # tie common tones instead of re-striking them: pads breathe
                held[pitch].end = end
                nxt[pitch] = held[pitch]
            else:
                note = _add(inst, pitch, _humanise(rng, velocity, 3), start, end, ctx.end_s)
                if note is not None:
                    nxt[pitch] = note
        held = nxt


def _bass(ctx: _Ctx, inst: pretty_midi.Instrument) -> None:
    rng = ctx.rng(2)
    style = ctx.spec.bass_style
    if style in COMP_CELLS:
        _cells(ctx, inst, rng, COMP_CELLS[style])
        return
    base = 36 + ctx.tonic  # tonic in the C2-B2 octave
    for bar, section in [*_bars(ctx, {"main", "lift", "outro"}), (ctx.final_bar, None)]:
        degree = ctx.chords[bar]
        # Keep the bass line in one octave instead of climbing with the degrees.
        octave = -12 if ctx.degree_pitch(degree, base) > base + 7 else 0
        root = ctx.degree_pitch(degree, base) + octave
        fifth = ctx.degree_pitch(degree + 4, base) + octave  # the scale's fifth: in key
        kind = section.kind if section else "final"
        vel = 92 + _section_gain(kind)
        if section is None:
            _add(inst, root, _humanise(rng, vel), ctx.time(bar, 0), ctx.end_s, ctx.end_s)
            continue
        if style == "whole":
            hits = [(0.0, float(ctx.spec.meter), root)]
        elif style == "pop":
            hits = [
                (0.0, 1.5, root),
                (1.5, 0.5, root),
                (2.0, 1.0, root),
                (3.0, 0.5, fifth),
                (3.5, 0.5, root + 12 if kind == "lift" else root),
            ]
        elif style == "oompah":
            hits = [(0.0, 0.5, root), (1.0, 0.5, fifth), (2.0, 0.5, root), (3.0, 0.5, fifth)]
        elif style == "pulse":
            hits = [(i * 0.5, 0.45, root) for i in range(8)]
        elif style == "walking":
            nxt = ctx.degree_pitch(ctx.chords[bar + 1], base)
            if nxt > base + 7:
                nxt -= 12
            third = ctx.degree_pitch(degree + 2, base) + octave
            approach = nxt - 1 if nxt > root else nxt + 1  # chromatic lead-in to the next root
            hits = [(0.0, 1.0, root), (1.0, 1.0, third), (2.0, 1.0, fifth), (3.0, 1.0, approach)]
        else:
            raise ValueError(f"unknown bass style {style!r}")
        for beat, dur, pitch in hits:
            accent = 8 if beat == 0 else 0
            start = ctx.time(bar, beat) + _jitter(rng)
            _add(
                inst,
                pitch,
                _humanise(rng, vel + accent),
                start,
                ctx.time(bar, beat + dur) - 0.01,
                ctx.end_s,
            )


def _comp(ctx: _Ctx, inst: pretty_midi.Instrument) -> None:
    rng = ctx.rng(3)
    style = ctx.spec.comp_style
    if style == "tanpura":
        _tanpura(ctx, inst, rng)
        return
    if style in COMP_CELLS:
        _cells(ctx, inst, rng, COMP_CELLS[style])
        return
    for bar, section in [*_bars(ctx, {"main", "lift", "outro"}), (ctx.final_bar, None)]:
        kind = section.kind if section else "final"
        voicing = _voice(ctx.chord_pcs(ctx.chords[bar]), center=64)
        vel = 70 + _section_gain(kind)
        if section is None:  # one last strike that rings into the fade
            for i, pitch in enumerate(voicing):
                _add(
                    inst,
                    pitch,
                    _humanise(rng, vel),
                    ctx.time(bar, 0) + 0.012 * i,
                    ctx.end_s,
                    ctx.end_s,
                )
            continue
        events: list[tuple[float, float, list[int], int]] = []  # beat, dur, pitches, accent
        if style == "pop":
            for beat, dur in ((0, 1.5), (1.5, 1.0), (2.5, 0.5), (3.0, 1.0)):
                events.append((beat, dur, voicing, 8 if beat == 0 else 0))
        elif style == "arp":
            tones = [*voicing, voicing[0] + 12]
            order = [0, 1, 2, 3, 2, 1, 2, 1] if len(tones) == 4 else [0, 1, 2, 3, 4, 3, 2, 1]
            for i, idx in enumerate(order):
                # Let each pluck ring for a beat: arpeggios that choke sound like a sequencer.
                events.append((i * 0.5, 1.0, [tones[idx % len(tones)]], 6 if i % 4 == 0 else 0))
        elif style == "bouncy":
            for beat in (0.5, 1.5, 2.5, 3.5):
                events.append((beat, 0.3, voicing, 0))
        elif style == "ostinato":
            degree = ctx.chords[bar]
            base = 52 + (ctx.tonic - 4) % 12  # tonic in E3..D#4
            root, third, fifth = (ctx.degree_pitch(degree + k, base) for k in (0, 2, 4))
            cell = [root, fifth, root + 12, fifth, root, fifth, root + 12, third]
            for i, pitch in enumerate(cell):
                accent = 14 if i in (0, 3, 6) else 0  # 3+3+2: the pulse that makes it urgent
                events.append((i * 0.5, 0.45, [pitch], accent))
        elif style == "rhodes":
            for beat, dur in ((0.0, 1.5), (1.5, 2.5)):
                events.append((beat, dur, voicing, 6 if beat == 0 else -4))
        else:
            raise ValueError(f"unknown comp style {style!r}")
        for beat, dur, pitches, accent in events:
            start = ctx.time(bar, beat) + _jitter(rng)
            end = ctx.time(bar, beat + dur) - 0.01
            for i, pitch in enumerate(pitches):
                strum = 0.012 * i if style == "rhodes" else 0.0
                _add(inst, pitch, _humanise(rng, vel + accent), start + strum, end, ctx.end_s)


def _cells(
    ctx: _Ctx, inst: pretty_midi.Instrument, rng: np.random.Generator, cell: CompCell
) -> None:
    """Play a written-out accompaniment over the chords (see :class:`CompCell`)."""
    base = cell.low + (ctx.tonic - cell.low) % 12
    for bar, section in [*_bars(ctx, {"main", "lift", "outro"}), (ctx.final_bar, None)]:
        root = ctx.chords[bar]
        octave = -7 if ctx.degree_pitch(root, base) > base + 7 else 0  # stay in the register
        tokens = cell.bars[(bar - section.start_bar if section else 0) % len(cell.bars)].split()
        step = ctx.spec.meter / len(tokens)
        if section is None:  # the final bar: the first strike, left to ring into the fade
            tokens = tokens[:1]
        vel = 70 + _section_gain(section.kind if section else "final") + _build(ctx, section)
        for i, token in enumerate(tokens):
            if token == ".":
                continue
            start = ctx.time(bar, i * step) + _jitter(rng, 0.004)
            end = ctx.end_s if section is None else start + cell.ring * ctx.beat_s
            accent = 10 if token.startswith("!") else 0
            for steps in token.lstrip("!").split("+"):
                pitch = ctx.degree_pitch(root + octave + int(steps), base)
                _add(inst, pitch, _humanise(rng, vel + accent, 4), start, end, ctx.end_s)


def _tanpura(ctx: _Ctx, inst: pretty_midi.Instrument, rng: np.random.Generator) -> None:
    """Pa, Sa', Sa', Sa: the tanpura's cycle, one pluck a beat, each left to ring."""
    base = 48 + ctx.tonic
    cycle = [base - 5, base, base, base - 12]
    beats = math.ceil(ctx.end_s / ctx.beat_s)
    for i in range(beats):
        start = i * ctx.beat_s + _jitter(rng, 0.015)
        _add(
            inst,
            cycle[i % 4],
            _humanise(rng, 62 if i % 4 == 0 else 54, 4),
            start,
            start + 3.5 * ctx.beat_s,
            ctx.end_s,
        )


def _hits(ctx: _Ctx, inst: pretty_midi.Instrument) -> None:
    """Timpani on chord roots: downbeats of lifts, every other bar of mains, a roll at the end."""
    rng = ctx.rng(4)
    base = 41 + (ctx.tonic - 5) % 12  # tonic in F2..E3, the timpani's comfortable range
    for bar, section in _bars(ctx, {"main", "lift"}):
        root = ctx.degree_pitch(ctx.chords[bar], base)
        if root > base + 7:
            root -= 12
        local = bar - section.start_bar
        if section.kind == "lift":
            beats = [(0.0, 104), (2.5, 78)] if local % 2 else [(0.0, 112)]
        elif local % 2 == 0:
            beats = [(0.0, 82)]
        else:
            beats = []
        for beat, vel in beats:
            start = ctx.time(bar, beat)
            _add(inst, root, _humanise(rng, vel), start, start + 2 * ctx.beat_s, ctx.end_s)
    if ctx.final_bar >= 2:
        bar = ctx.final_bar - 1
        root = ctx.degree_pitch(ctx.chords[bar], base)
        if root > base + 7:
            root -= 12
        for i in range(8):  # a crescendo roll on the last beat into the final chord
            start = ctx.time(bar, ctx.spec.meter - 1 + i / 8)
            _add(inst, root, _humanise(rng, 60 + 6 * i, 3), start, start + 0.1, ctx.end_s)
    start = ctx.time(ctx.final_bar, 0)
    _add(inst, base, _humanise(rng, 112), start, start + 3.0, ctx.end_s)


def _make_motif(rng: np.random.Generator, family: str) -> _Motif:
    rhythms = RHYTHMS[family]
    rhythm = rhythms[int(rng.integers(len(rhythms)))]
    steps = [0]
    for _ in range(len(rhythm) - 1):
        # Mostly steps, sometimes a third, rarely a leap: a singable line.
        step = int(rng.choice([-2, -1, -1, 1, 1, 1, 2, 0, 3, -3, 4]))
        steps.append(steps[-1] + step)
    return _Motif(rhythm=rhythm, contour=tuple(steps))


def _vary(rng: np.random.Generator, motif: _Motif) -> _Motif:
    """The answer to a motif: same rhythm, mirrored tail or a new last step."""
    contour = list(motif.contour)
    if len(contour) > 2 and rng.random() < 0.5:
        pivot = contour[1]
        contour = contour[:2] + [2 * pivot - c for c in contour[2:]]  # invert the tail
    else:
        contour[-1] += int(rng.choice([-2, -1, 1, 2]))
    return _Motif(rhythm=motif.rhythm, contour=tuple(contour))


def _melody(ctx: _Ctx, inst: pretty_midi.Instrument) -> None:
    rng = ctx.rng(5)
    spec = ctx.spec
    lo, hi = spec.melody_range
    # The tonic's pitch nearest the middle of the range anchors the degrees.
    mid = (lo + hi) // 2
    base = mid - ((mid - ctx.tonic) % 12)
    motif_a = _make_motif(rng, spec.rhythm_main)
    if spec.rhythm != spec.rhythm_main:
        motif_b = _make_motif(rng, spec.rhythm)  # e.g. alap -> gat: a new, busier idea
    else:
        motif_b = _vary(rng, motif_a)  # the lift answers the main section's motif

    def chord_degrees(bar: int) -> list[int]:
        root = ctx.chords[bar]
        return [root, root + 2, root + 4]

    def snap(degree: int, bar: int) -> int:
        """Nearest chord tone (any octave) to a degree: strong beats land on the harmony."""
        best = degree
        best_d = 99
        for ct in chord_degrees(bar):
            for octave in (-14, -7, 0, 7, 14):
                cand = ct + octave
                if abs(cand - degree) < best_d:
                    best, best_d = cand, abs(cand - degree)
        return best

    def fit(degree: int) -> int:
        while ctx.degree_pitch(degree, base) > hi:
            degree -= 7
        while ctx.degree_pitch(degree, base) < lo:
            degree += 7
        return degree

    notes: list[tuple[float, float, int, float]] = []  # start, end, degree, velocity
    last = 0
    plays: list[tuple[int, _Section]] = []
    for section in ctx.sections:
        if section.kind == "intro":
            continue
        if section.kind == "main" and section.index == 0 and not spec.melody_in_main:
            continue
        plays.extend((section.start_bar + i, section) for i in range(section.bars))
    for bar, section in plays:
        local = bar - section.start_bar
        pos = local % 4
        sparse = section.kind in ("main", "outro")
        motif = motif_b if section.kind == "lift" else motif_a
        vel = 92 + _section_gain(section.kind) + _build(ctx, section)
        end_of_section = local == section.bars - 1
        if pos == 3 or end_of_section:
            # Cadence: one long chord tone, then a breath. Every second phrase closes home.
            closing = (local // 4) % 2 == 1 or end_of_section
            target = snap(last, bar)
            if closing and ctx.chords[bar] in (0, 5, 3) and not ctx.spec.drone:
                target = snap(round(last / 7) * 7, bar)
            elif closing and ctx.spec.drone:
                target = round(last / 7) * 7  # back to Sa
            target = fit(target)
            notes.append((ctx.time(bar, 0), ctx.time(bar, spec.meter - 1), target, vel))
            last = target
            continue
        if sparse and pos == 1:
            continue  # call ... silence ... call: the quieter sections leave room
        if pos == 0:
            shape = motif.contour
        elif pos == 1:
            shape = _vary(rng, motif).contour
        else:
            shift = int(rng.choice([-1, 1, 2]))  # a sequence: the motif moved up or down
            shape = tuple(c + shift for c in motif.contour)
        anchor = snap(last, bar)
        for (beat, dur), step in zip(motif.rhythm, shape, strict=True):
            degree = anchor + step
            if beat in (0, 2):
                degree = snap(degree, bar)
            degree = fit(degree)
            if sparse and beat not in (0, 2) and rng.random() < 0.35:
                continue
            length = dur * (0.55 if spec.staccato else 0.92)
            notes.append(
                (
                    ctx.time(bar, beat),
                    ctx.time(bar, beat + length),
                    degree,
                    vel + (8 if beat == 0 else 0),
                )
            )
            last = degree
    # The final note: the tonic, held into the fade.
    final_start = ctx.time(ctx.final_bar, 0)
    if notes or ctx.final_bar == 0:
        home = fit(round(last / 7) * 7)
        notes.append((final_start, ctx.end_s - 0.2, home, 84))

    for start, end, degree, velocity in notes:
        pitch = ctx.degree_pitch(degree, base)
        start += _jitter(rng)
        _add(inst, pitch, _humanise(rng, velocity), start, end, ctx.end_s)
    if spec.ornaments:
        _ornament(ctx, inst, rng)
    if spec.tremolo:
        _tremolo(ctx, inst)


def _tremolo(ctx: _Ctx, inst: pretty_midi.Instrument) -> None:
    """Restrike notes of two beats or more in 32nds, down- and up-strokes alternating: the
    oud's risha tremolo, which also keeps a plucked note from dying under a held phrase end."""
    import pretty_midi

    step = ctx.beat_s / 8
    kept: list[pretty_midi.Note] = []
    for note in inst.notes:
        if note.end - note.start < 2 * ctx.beat_s - 1e-6:
            kept.append(note)
            continue
        count = int((note.end - note.start) / step)
        for k in range(count):
            velocity = max(1, note.velocity - (16 if k % 2 else 4) - k // 4)
            start = note.start + k * step
            end = note.end if k == count - 1 else start + step
            kept.append(pretty_midi.Note(velocity=velocity, pitch=note.pitch, start=start, end=end))
    inst.notes = kept


def _ornament(ctx: _Ctx, inst: pretty_midi.Instrument, rng: np.random.Generator) -> None:
    """Meend (a glide up into a note from the previous one) and kan (a grace note above):
    what makes a sitar line sound Indian rather than a plucked western melody."""
    import pretty_midi

    notes = sorted(inst.notes, key=lambda n: n.start)
    graces: list[pretty_midi.Note] = []
    for prev, note in zip(notes, notes[1:], strict=False):
        interval = note.pitch - prev.pitch
        long_note = note.end - note.start >= 0.8 * ctx.beat_s
        if long_note and 1 <= abs(interval) <= 2 and rng.random() < 0.6:
            # GM's default bend range is +-2 semitones = +-8192.
            bend0 = int(np.clip(-interval * 4096, -8192, 8191))
            for k in range(7):
                t = note.start + 0.18 * k / 6
                inst.pitch_bends.append(pretty_midi.PitchBend(int(bend0 * (1 - k / 6)), t))
        elif long_note and abs(interval) > 2 and rng.random() < 0.4:
            grace_start = note.start - 0.07
            above = next(
                p
                for p in range(note.pitch + 1, note.pitch + 13)
                if (p - ctx.tonic) % 12 in ctx.scale
            )  # next note of the raga
            if grace_start > prev.end:
                graces.append(
                    pretty_midi.Note(
                        velocity=max(1, note.velocity - 20),
                        pitch=above,
                        start=grace_start,
                        end=note.start,
                    )
                )
    inst.notes.extend(graces)
    inst.pitch_bends.append(pretty_midi.PitchBend(0, 0.0))


def _drums(ctx: _Ctx, inst: pretty_midi.Instrument) -> None:
    rng = ctx.rng(6)
    pattern = DRUM_PATTERNS[ctx.spec.drums or ""]
    lifts = {s.start_bar for s in ctx.sections if s.kind == "lift"}
    per_bar = 4 * ctx.spec.meter  # 16ths
    for bar, section in _bars(ctx, {"main", "lift"}):
        grid = pattern.full if section.kind == "lift" else pattern.light
        local = bar - section.start_bar
        gain = _section_gain(section.kind) * 0.5 + _build(ctx, section)
        fill_here = (bar + 1) in lifts or (bar + 1 == ctx.final_bar and section.kind == "lift")
        for key, steps in grid.items():
            span = len(steps) // per_bar
            for s in range(per_bar):
                if fill_here and pattern.fill and s >= per_bar - 4:
                    continue  # the fill replaces the groove's last beat
                char = steps[(local % span) * per_bar + s]
                if char != ".":
                    _hit(ctx, inst, rng, key, STEP_VELOCITY[char] + gain, bar, s)
        if fill_here:
            for key, steps in pattern.fill.items():
                for s, char in enumerate(steps):
                    if char != ".":
                        _hit(ctx, inst, rng, key, STEP_VELOCITY[char] + gain, bar, per_bar - 4 + s)
        if section.kind == "lift" and local == 0 and pattern.crash is not None:
            _hit(ctx, inst, rng, pattern.crash, 84, bar, 0)
    # The final chord gets one hit when the music was already grooving.
    if ctx.sections and ctx.sections[-1].kind in ("lift", "outro") and ctx.final_bar > 0:
        _hit(ctx, inst, rng, KICK, 100, ctx.final_bar, 0)
        if pattern.crash is not None:
            _hit(ctx, inst, rng, pattern.crash, 80, ctx.final_bar, 0)


def _hit(
    ctx: _Ctx,
    inst: pretty_midi.Instrument,
    rng: np.random.Generator,
    key: int,
    velocity: float,
    bar: int,
    step: int,
) -> None:
    start = ctx.time(bar, step / 4) + _jitter(rng, 0.005)
    _add(inst, key, _humanise(rng, velocity, 5), start, start + 0.1, ctx.end_s)


def _fix_overlaps(inst: pretty_midi.Instrument) -> None:
    """A MIDI note-off ends every sounding note of that pitch: clip overlapping same-pitch
    notes so a ringing note never cuts the next strike short."""
    inst.notes.sort(key=lambda n: (n.pitch, n.start))
    kept = []
    for i, note in enumerate(inst.notes):
        nxt = inst.notes[i + 1] if i + 1 < len(inst.notes) else None
        if nxt is not None and nxt.pitch == note.pitch and note.end > nxt.start - 0.005:
            note.end = nxt.start - 0.005
        if note.end - note.start > 0.01:
            kept.append(note)
    inst.notes = sorted(kept, key=lambda n: (n.start, n.pitch))


def compose_midi(
    mood: str, duration_s: float, seed: int = 0, tempo_bpm: int | None = None
) -> pretty_midi.PrettyMIDI:
    """Write the piece for a mood as General MIDI: deterministic for a given seed.

    The MIDI runs ``TAIL_S`` past ``duration_s``; its last chord starts before the fade-out.
    """
    try:
        import pretty_midi
    except ImportError as exc:
        raise EngineUnavailable(
            "the procedural music engine needs pretty-midi",
            hint="pip install 'reelforge[music]'",
        ) from exc
    if duration_s <= 0:
        raise SpecError(f"music duration must be positive, got {duration_s} s")
    ctx = _plan(mood, duration_s, seed, tempo_bpm)
    spec = ctx.spec
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(ctx.bpm))
    pm.time_signature_changes.append(pretty_midi.TimeSignature(spec.meter, 4, 0.0))
    pm.key_signature_changes.append(pretty_midi.KeySignature(ctx.tonic, 0.0))

    # (name, program, writer, volume CC7, pan CC10, reverb CC91)
    volume = {**MIX_DEFAULT, **spec.mix}
    # (name, program, writer, pan CC10, reverb CC91); pans spread the parts across the stereo
    parts: list[tuple[str, int, Callable[[_Ctx, pretty_midi.Instrument], None], int, int]] = [
        ("pad", spec.pad, _pad, 64, spec.reverb),
    ]
    if spec.comp is not None:
        parts.append(("comp", spec.comp, _comp, 44, spec.reverb - 10))
    if spec.bass is not None:
        parts.append(("bass", spec.bass, _bass, 64, 20))
    if spec.hits is not None:
        parts.append(("hits", spec.hits, _hits, 70, spec.reverb))
    parts.append(("melody", spec.melody, _melody, 80, spec.reverb))
    for name, program, writer, pan, reverb in parts:
        inst = pretty_midi.Instrument(program=program, name=name)
        writer(ctx, inst)
        _fix_overlaps(inst)
        _controls(inst, volume[name], pan, reverb)
        pm.instruments.append(inst)
    if spec.drums is not None:
        drums = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
        _drums(ctx, drums)
        _fix_overlaps(drums)
        _controls(drums, volume["drums"], 64, 30)
        pm.instruments.append(drums)
    return pm


def _controls(inst: pretty_midi.Instrument, volume: int, pan: int, reverb: int) -> None:
    import pretty_midi

    for number, value in ((7, volume), (10, pan), (91, max(0, min(127, reverb)))):
        inst.control_changes.append(pretty_midi.ControlChange(number, value, 0.0))


def note_list(pm: pretty_midi.PrettyMIDI) -> list[tuple[str, int, bool, int, int, float, float]]:
    """Every note as (part, program, is_drum, pitch, velocity, start, end): for comparing
    two compositions, e.g. that a seed is deterministic."""
    return [
        (
            inst.name,
            inst.program,
            inst.is_drum,
            n.pitch,
            n.velocity,
            round(n.start, 6),
            round(n.end, 6),
        )
        for inst in pm.instruments
        for n in inst.notes
    ]


# --------------------------------------------------------------------------- rendering
@functools.lru_cache(maxsize=4)
def _find_soundfont(override: str | None) -> Path | None:
    if override:
        path = Path(override).expanduser()
        return path if path.is_file() else None
    for path in SYSTEM_SOUNDFONTS:
        if path.is_file():
            return path
    spec = importlib.util.find_spec("pretty_midi")
    if spec is not None and spec.origin:
        bundled = Path(spec.origin).parent / "TimGM6mb.sf2"
        if bundled.is_file():
            return bundled
    return None


def find_soundfont() -> Path | None:
    """The GM soundfont used: $REELFORGE_SOUNDFONT, then FluidR3_GM, then pretty-midi's."""
    return _find_soundfont(os.environ.get(SOUNDFONT_ENV) or None)


def _render(pm: pretty_midi.PrettyMIDI, workdir: Path, timeout_s: float) -> NDArray[np.float32]:
    """Render MIDI to float32 stereo samples with the fluidsynth CLI."""
    binary = shutil.which("fluidsynth")
    if binary is None:
        raise EngineUnavailable(
            "the fluidsynth program is not installed", hint="apt-get install fluidsynth"
        )
    soundfont = find_soundfont()
    if soundfont is None:
        raise EngineUnavailable(
            "no General MIDI soundfont found",
            hint=f"apt-get install fluid-soundfont-gm, pip install pretty-midi, or set "
            f"{SOUNDFONT_ENV} to an .sf2 file",
        )
    midi_path = workdir / "music.mid"
    raw_path = workdir / "music.f32"
    pm.write(str(midi_path))
    # Raw float output: many parts summed can exceed full scale, and a 16-bit file would clip
    # before we normalise. Float keeps the peaks, and the normalisation sets the level.
    cmd = [
        binary,
        "-ni",
        "-q",
        "-g",
        "0.5",
        "-r",
        str(SAMPLE_RATE),
        "-T",
        "raw",
        "-O",
        "float",
        "-E",
        "little",
        "-o",
        "synth.dynamic-sample-loading=1",  # FluidR3 is 142 MB: load only what plays
        "-F",
        str(raw_path),
        str(soundfont),
        str(midi_path),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise EngineFailed(
            f"fluidsynth took longer than {timeout_s:.0f} s",
            hint="the machine may be overloaded; try a shorter duration",
        ) from exc
    if proc.returncode != 0 or not raw_path.is_file():
        raise EngineFailed(
            f"fluidsynth failed (exit {proc.returncode}): {proc.stderr.strip()[-800:]}",
            hint=f"check the soundfont {soundfont} and that `fluidsynth --version` runs",
        )
    samples = np.fromfile(raw_path, dtype="<f4")
    raw_path.unlink()
    return samples[: samples.size // 2 * 2].reshape(-1, 2)


def _finish(samples: NDArray[np.float32], duration_ms: int) -> NDArray[np.int16]:
    """Trim to the exact length, fade in and out, normalise the peak; returns int16 frames."""
    render_peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if render_peak < 1e-6:
        raise EngineFailed(
            "fluidsynth rendered silence", hint="check that the soundfont has General MIDI presets"
        )
    n = round(duration_ms * SAMPLE_RATE / 1000)
    out = np.zeros((n, 2), dtype=np.float64)
    take = min(n, samples.shape[0])
    out[:take] = samples[:take]
    fade_in = min(n, round(FADE_IN_S * SAMPLE_RATE))
    out[:fade_in] *= np.linspace(0.0, 1.0, fade_in)[:, None]
    fade_out = min(n, round(min(FADE_OUT_S, duration_ms / 4000) * SAMPLE_RATE))
    if fade_out:
        # A raised-cosine S-curve: a linear fade sounds like it drops off a cliff at the end.
        ramp = np.cos(np.linspace(0.0, np.pi / 2, fade_out)) ** 2
        out[n - fade_out :] *= ramp[:, None]
    peak = float(np.max(np.abs(out))) if n else 0.0
    # A clip of a few ms may hold only a note's attack: normalise it by the whole render
    # rather than blow a near-silent fragment up to full level.
    peak = max(peak, render_peak * 0.1)
    out *= 10 ** (PEAK_DBFS / 20) / peak
    frames: NDArray[np.int16] = np.round(out * 32767).astype("<i2")
    return frames


def _write_wav(path: Path, frames: NDArray[np.int16]) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(frames.tobytes())


class ProceduralMusic:
    """Music engine: seeded procedural composition rendered with fluidsynth."""

    name: ClassVar[str] = "procedural"

    def info(self) -> EngineInfo:
        reasons = []
        if importlib.util.find_spec("pretty_midi") is None:
            reasons.append("pretty-midi is missing: pip install 'reelforge[music]'")
        if shutil.which("fluidsynth") is None:
            reasons.append("fluidsynth is missing: apt-get install fluidsynth")
        elif find_soundfont() is None:
            reasons.append("no GM soundfont: apt-get install fluid-soundfont-gm")
        return EngineInfo(
            name=self.name,
            kind="music",
            version=self._version(),
            available=not reasons,
            reason="; ".join(reasons),
        )

    def moods(self) -> list[str]:
        return list(MOOD_SPECS)

    def compose(self, request: MusicRequest, workdir: Path) -> MusicResult:
        _spec(request.mood)  # unknown mood -> SpecError before any work
        if not 0 < request.duration_ms <= MAX_DURATION_MS:
            raise SpecError(
                f"music duration {request.duration_ms} ms is out of range",
                hint=f"ask for 1 ms to {MAX_DURATION_MS // 60000} minutes",
            )
        workdir.mkdir(parents=True, exist_ok=True)
        duration_s = request.duration_ms / 1000
        pm = compose_midi(request.mood, duration_s, request.seed, request.tempo_bpm)
        # fluidsynth renders ~60x faster than real time here; the margin covers a busy machine.
        samples = _render(pm, workdir, timeout_s=30 + 2 * duration_s)
        frames = _finish(samples, request.duration_ms)
        audio = workdir / "music.wav"
        _write_wav(audio, frames)
        return MusicResult(
            audio=audio,
            duration_ms=request.duration_ms,
            sample_rate=SAMPLE_RATE,
            mood=request.mood,
            tempo_bpm=round(pm.get_tempo_changes()[1][0]),
            engine=self.name,
            version=self._version(),
        )

    @staticmethod
    def _version() -> str:
        # The soundfont changes every note's sound, so it is part of the version.
        soundfont = find_soundfont()
        return f"{VERSION}+{soundfont.stem}" if soundfont else VERSION
