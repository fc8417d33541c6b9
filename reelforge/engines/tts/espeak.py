"""Every other language with espeak-ng, through its C API (ctypes on ``libespeak-ng.so.1``).

The CLI cannot report when words are spoken; the C API can. In synchronous mode
``espeak_Synth`` calls our callback with audio blocks and events: WORD events (type 1) carry the
word's ``audio_position`` in ms and its 1-based character offset in the text, PHONEME events
(type 7) carry each phoneme's start, and pause phonemes (names starting with ``_``) tell where
a word's sound stops before a comma or full stop.

The library is one global state machine (voice, rate, pitch, callback), so every call holds one
process-wide lock and the library is initialised once.

``VoiceInfo.engine_voice`` / ``SpeechRequest.voice`` for this engine is an espeak voice name,
optionally with a variant, followed by ``;key=value`` options::

    "fr"                       French, default male voice
    "fr+f3"                    French, variant female3
    "fr+f4;pitch=85;rate=1.05" female4, espeak pitch 85 (0-100, 50 = the voice's own), 5 % faster
    "ar+m3;rate=0.85;gap=2"    Arabic, 15 % slower, 20 ms more between words

``pitch`` is espeak's 0-100 scale where 50 steps is about an octave; the request's ``pitch``
(semitones) is added on top of it. ``rate`` multiplies the request's ``speed``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
import shutil
import subprocess
import tempfile
import threading
import unicodedata
import wave
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import (
    EngineInfo,
    Phoneme,
    SpeechRequest,
    SpeechResult,
    VoiceInfo,
)
from reelforge.engines.tts.speech_audio import Speech, ordered_words, speech_bounds, wav_name
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError

_LIBRARY = "libespeak-ng.so.1"
_INSTALL_HINT = "install espeak-ng (Debian/Ubuntu: apt-get install espeak-ng)"

# speak_lib.h constants (stable since espeak 1.48).
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS = 0x0001
_INIT_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EV_LIST_TERMINATED = 0
_EV_WORD = 1
_EV_PHONEME = 7
_P_RATE = 1
_P_VOLUME = 2
_P_PITCH = 3
_P_RANGE = 4
_P_WORDGAP = 7  # extra pause between words, in 10 ms units at the default rate
_DEFAULT_WPM = 175  # espeak's own default rate: speed 1.0
_MIN_WPM, _MAX_WPM = 80, 450

_SILENCE = 328  # |sample| under 1 % of full scale (-40 dBFS) counts as silence

# Primary language tag -> espeak voice name, where they differ or need a region.
LANGUAGE_VOICES: dict[str, str] = {
    "en": "en-us",
    "zh": "cmn",
    "pt": "pt-br",
    "es": "es",
    "fa": "fa",
    "nb": "nb",
    "no": "nb",
}

# The catalogue: (age, gender) -> (variant, espeak pitch, rate factor, description, WORLD
# transform applied by the voice layer; see reelforge.speech_transform). espeak's own pitch
# alone makes a child of an adult's throat (measured: ar child male 220 Hz, child female's
# formants below the adult's), so the young voices are the adult female variant with F0
# raised and the spectral envelope stretched (a shorter tract), like the Kokoro catalogue;
# seniors are espeak's older variants, slower and breathier. docs/voices.md has the figures.
_PERSONAS: dict[tuple[str, str], tuple[str, int, float, str, str]] = {
    ("baby", "male"): ("f3", 50, 0.9, "baby boy", "f0=1.75;envelope=1.22"),
    ("baby", "female"): ("f3", 50, 0.9, "baby girl", "f0=1.8;envelope=1.22"),
    ("toddler", "male"): ("f3", 50, 0.95, "toddler, boy", "f0=1.55;envelope=1.2"),
    ("toddler", "female"): ("f3", 50, 0.95, "toddler, girl", "f0=1.6;envelope=1.2"),
    ("child", "male"): ("f3", 50, 1.05, "child, boy", "f0=1.3;envelope=1.15"),
    ("child", "female"): ("f3", 50, 1.05, "child, girl", "f0=1.45;envelope=1.18"),
    ("preteen", "male"): ("f3", 50, 1.05, "preteen boy", "f0=1.15;envelope=1.1"),
    ("preteen", "female"): ("f3", 50, 1.05, "preteen girl", "f0=1.25;envelope=1.1"),
    ("teen", "male"): ("m3", 50, 1.0, "teenage boy", "f0=1.25;envelope=1.04"),
    ("teen", "female"): ("f3", 50, 1.0, "teenage girl", "f0=1.1;envelope=1.05"),
    ("young", "male"): ("m3", 50, 1.0, "young adult male", "f0=1.05"),
    ("young", "female"): ("f3", 50, 1.0, "young adult female", "f0=1.05"),
    ("adult", "male"): ("m3", 50, 1.0, "adult male", ""),
    ("adult", "female"): ("f3", 50, 1.0, "adult female", ""),
    ("senior", "male"): ("grandpa", 40, 0.9, "senior male", "breath=0.2"),
    ("senior", "female"): ("f2", 35, 0.9, "senior female", "breath=0.2"),
}
# Languages whose catalogue voices speak slower than espeak's default rate, as measured with
# benchmarks/voices.py (Whisper base, 10 sentences, 3 per narration): Arabic CER 0.73 at
# espeak's rate, 0.54 at 0.85, 0.68 at 0.75; 0.55 at 0.85 with 30 ms more between words;
# Piper's tashkeel diacritiser before espeak made it far worse (1.41: Whisper looped).
LANGUAGE_RATES: dict[str, float] = {"ar": 0.85}
# Languages listed in the catalogue; any other espeak language still works by name.
CATALOGUE_LANGUAGES: dict[str, str] = {
    "en": "English (US)",
    "fr": "French",
    "es": "Spanish",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese (Brazil)",
    "nl": "Dutch",
    "ar": "Arabic (Modern Standard)",
    "hi": "Hindi",
    "bn": "Bengali",
    "ta": "Tamil",
    "ru": "Russian",
    "tr": "Turkish",
    "he": "Hebrew",
    "ja": "Japanese (kana only)",
    "ko": "Korean",
    "th": "Thai",
    "yue": "Cantonese",
}
# Not listed: "zh" (Mandarin). espeak-ng 1.51's cmn voice reads most characters as English
# pinyin with tone digits; see the guard in EspeakEngine.synthesize.

_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Han, kana and Thai are written without spaces between words.
_NO_SPACE_SCRIPT = re.compile("[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True)
class _Spoken:
    """What one espeak_Synth call produced."""

    audio: NDArray[np.int16]
    words: tuple[tuple[int, int], ...]  # (0-based char offset, start ms) per WORD event
    phonemes: tuple[tuple[int, str], ...]  # (start ms, phoneme name)


class _Espeak:
    """The process-wide library handle. Use only while holding ``_lock``."""

    _lock = threading.Lock()
    _instance: _Espeak | None = None

    def __init__(self) -> None:
        path = ctypes.util.find_library("espeak-ng") or _LIBRARY
        try:
            lib = ctypes.CDLL(path)
        except OSError as exc:
            raise EngineUnavailable(f"cannot load {_LIBRARY}: {exc}", hint=_INSTALL_HINT) from exc
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INIT_PHONEME_EVENTS | _INIT_DONT_EXIT
        )
        if rate <= 0:
            raise EngineUnavailable(
                "espeak-ng failed to initialise (voice data missing?)", hint=_INSTALL_HINT
            )
        self.lib = lib
        self.sample_rate = int(rate)
        self.version = f"espeak-ng {(lib.espeak_Info(None) or b'?').decode('ascii', 'replace')}"
        self._blocks: list[NDArray[np.int16]] = []
        self._words: list[tuple[int, int]] = []
        self._phonemes: list[tuple[int, str]] = []
        # Keep a reference: ctypes callbacks are freed with their Python object.
        self._callback = _CALLBACK(self._on_synth)
        lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> _Espeak:
        """The initialised library; call with ``_lock`` held."""
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def _on_synth(self, wav: Any, count: int, events: Any) -> int:
        if count > 0 and wav:
            self._blocks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        i = 0
        while events[i].type != _EV_LIST_TERMINATED:
            ev = events[i]
            if ev.type == _EV_WORD and ev.text_position > 0:
                self._words.append((ev.text_position - 1, ev.audio_position))
            elif ev.type == _EV_PHONEME:
                name = bytes(ev.id).split(b"\0", 1)[0].decode("utf-8", "replace")
                self._phonemes.append((ev.audio_position, name))
            i += 1
        return 0  # 0 = keep going

    def speak(self, text: str, voice: str, wpm: int, pitch: int, gap: int = 0) -> _Spoken:
        lib = self.lib
        if lib.espeak_SetVoiceByName(voice.encode("utf-8")) != 0:
            raise SpecError(
                f"espeak-ng has no voice {voice!r}",
                hint="list its voices with: espeak-ng --voices (variants: espeak-ng "
                "--voices=variant)",
            )
        lib.espeak_SetParameter(_P_RATE, wpm, 0)
        lib.espeak_SetParameter(_P_PITCH, pitch, 0)
        lib.espeak_SetParameter(_P_RANGE, 50, 0)
        lib.espeak_SetParameter(_P_VOLUME, 100, 0)
        lib.espeak_SetParameter(_P_WORDGAP, gap, 0)
        self._blocks, self._words, self._phonemes = [], [], []
        data = text.encode("utf-8")
        status = lib.espeak_Synth(
            data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        lib.espeak_Synchronize()
        if status != 0:
            raise EngineFailed(f"espeak_Synth failed with status {status}", hint=_INSTALL_HINT)
        audio = np.concatenate(self._blocks) if self._blocks else np.zeros(0, np.int16)
        return _Spoken(audio.astype(np.int16), tuple(self._words), tuple(self._phonemes))


def parse_engine_voice(engine_voice: str) -> tuple[str, int, float]:
    """``"fr+f3;pitch=70;rate=0.9"`` -> ("fr+f3", 70, 0.9)."""
    name, pitch, rate, _ = parse_engine_options(engine_voice)
    return name, pitch, rate


def parse_engine_options(engine_voice: str) -> tuple[str, int, float, int]:
    """``"ar+m3;rate=0.9;gap=2"`` -> ("ar+m3", 50, 0.9, 2): name, pitch, rate, word gap."""
    name, *options = [p.strip() for p in engine_voice.split(";")]
    pitch, rate, gap = 50, 1.0, 0
    for opt in options:
        key, _, value = opt.partition("=")
        try:
            if key == "pitch":
                pitch = int(value)
            elif key == "rate":
                rate = float(value)
            elif key == "gap" and 0 <= int(value) <= 50:
                gap = int(value)
            else:
                raise ValueError(key)
        except ValueError:
            raise SpecError(
                f"bad espeak voice option {opt!r} in {engine_voice!r}",
                hint="options are ;pitch=0..100, ;rate=<factor> and ;gap=0..50 (10 ms units "
                "between words)",
            ) from None
    return name, pitch, rate, gap


def espeak_language(language: str) -> str:
    """The espeak voice name for a language tag ("ar-dz" -> "ar", "zh" -> "cmn")."""
    tag = language.strip().lower().replace("_", "-")
    primary = tag.split("-")[0]
    return LANGUAGE_VOICES.get(primary, primary)


def _tokens(text: str, event_positions: list[int]) -> list[tuple[str, int]]:
    """Whitespace-separated words as (text, char offset), in order.

    Scripts written without spaces (Chinese, Japanese, Thai) are further split where espeak
    started a new word, so captions get words rather than whole clauses.
    """
    out: list[tuple[str, int]] = []
    for m in re.finditer(r"\S+", text):
        start, end = m.start(), m.end()
        cuts = [start]
        if _NO_SPACE_SCRIPT.search(m.group()):
            cuts += sorted({p for p in event_positions if start < p < end})
        cuts.append(end)
        out.extend((text[a:b], a) for a, b in zip(cuts, cuts[1:], strict=False) if a < b)
    return out


def _word_times(text: str, spoken: _Spoken, duration_ms: int) -> list[tuple[str, int, int]]:
    """(token, start ms, end ms) per word of the text, in the untrimmed audio's time."""
    tokens = _tokens(text, [pos for pos, _ in spoken.words])
    starts = [s for _, s in tokens]
    first_event: dict[int, int] = {}
    for pos, ms in spoken.words:
        idx = bisect_right(starts, pos) - 1
        # Events can point at the whitespace between words (espeak-ng 1.51 sends a stray one
        # at the end of a clause): only an offset inside a word counts.
        if idx < 0 or pos >= starts[idx] + len(tokens[idx][0]) or idx in first_event:
            continue
        first_event[idx] = ms
    phon_times = [ms for ms, _ in spoken.phonemes]
    result: list[tuple[str, int, int]] = []
    spoken_idx = sorted(first_event)
    prev_end = 0
    for token_idx, (token, _) in enumerate(tokens):
        if token_idx not in first_event:  # punctuation-only token: nothing was said
            result.append((token, prev_end, prev_end))
            continue
        start = first_event[token_idx]
        later = [first_event[k] for k in spoken_idx if k > token_idx]
        limit = min(later) if later else duration_ms
        # Within [start, limit): sound begins at the first real phoneme and stops at the first
        # pause phoneme after it (comma, full stop), else runs until the next word.
        end = limit
        seen_sound = after_pause = False
        for k in range(bisect_right(phon_times, start - 1), len(spoken.phonemes)):
            ms, name = spoken.phonemes[k]
            if ms >= limit:
                break
            if name.startswith("("):  # language-switch marker such as "(en)", not a sound
                continue
            if name.startswith("_"):
                if seen_sound:
                    end = ms
                    break
                after_pause = True
            elif not seen_sound:
                seen_sound = True
                if after_pause:  # the word opened with a pause: its sound starts here
                    start = ms
        start = max(start, prev_end)
        end = max(end, start)
        result.append((token, start, end))
        prev_end = end
    return result


def _phoneme_times(spoken: _Spoken, shift: float, duration_ms: int) -> tuple[Phoneme, ...]:
    """Each sounded phoneme from its event to the next event, in the trimmed audio's time;
    pauses (``_``...) and language-switch markers (``(en)``) are left out."""
    events = spoken.phonemes
    out: list[Phoneme] = []
    for k, (ms, name) in enumerate(events):
        if not name or name.startswith(("_", "(")):
            continue
        end = events[k + 1][0] if k + 1 < len(events) else duration_ms + shift
        start_ms = max(0, round(ms - shift))
        end_ms = min(duration_ms, round(end - shift))
        if end_ms > start_ms:
            out.append(Phoneme(name, start_ms, end_ms))
    return tuple(out)


def _result(
    text: str, spoken: _Spoken, sample_rate: int, path: Path, engine: str, version: str
) -> SpeechResult:
    """The speech trimmed of silence, written to ``path``, with its word and phoneme times."""
    raw_ms = round(spoken.audio.size * 1000 / sample_rate)
    first, last = speech_bounds(spoken.audio, sample_rate, _SILENCE)
    speech = Speech(spoken.audio[first:last], sample_rate, first)  # as loud as espeak made it
    duration_ms = speech.duration_ms
    shift = first * 1000 / sample_rate
    times = _word_times(text, spoken, raw_ms)
    words = ordered_words(
        ((t, round(a - shift), round(b - shift)) for t, a, b in times), duration_ms
    )
    phonemes = _phoneme_times(spoken, shift, duration_ms)
    return speech.result(path, words, engine, version, phonemes)


class EspeakEngine:
    """espeak-ng formant voices for about 130 languages, with exact word times."""

    name: ClassVar[str] = "espeak"
    concurrent: ClassVar[bool] = False  # one synthesis at a time

    def info(self) -> EngineInfo:
        try:
            with _Espeak._lock:
                _Espeak.get()
        except EngineUnavailable as exc:
            return EngineInfo(
                self.name, "voice", "", available=False, reason=f"{exc.message}: {exc.hint}"
            )
        return EngineInfo(self.name, "voice", self._version())

    def voices(self) -> list[VoiceInfo]:
        try:
            with _Espeak._lock:
                _Espeak.get()
        except EngineUnavailable:
            return []
        out: list[VoiceInfo] = []
        for lang, label in CATALOGUE_LANGUAGES.items():
            base = espeak_language(lang)
            for (age, gender), (variant, pitch, persona_rate, what, transform) in _PERSONAS.items():
                rate = round(persona_rate * LANGUAGE_RATES.get(lang, 1.0), 3)
                options = "".join(
                    [f";pitch={pitch}" if pitch != 50 else "", f";rate={rate}" if rate != 1 else ""]
                )
                out.append(
                    VoiceInfo.persona(
                        self.name,
                        lang,
                        age,
                        gender,
                        description=f"{label}, {what} (espeak-ng, robotic)",
                        engine_voice=f"{base}+{variant}{options}",
                        transform=transform,
                    )
                )
        return out

    def synthesize(self, request: SpeechRequest, workdir: Path) -> SpeechResult:
        text, name, wpm, pitch, gap = self._settings(request)
        base = name.split("+")[0]
        if base == "cmn" and _HAN.search(text):
            # Measured with espeak-ng 1.51: most characters come out as English-read pinyin
            # with tone digits ("wen two"), which is worse than no narration.
            raise EngineUnavailable(
                "espeak-ng's Mandarin voice cannot read Chinese characters here",
                hint="add a Mandarin voice engine, or narrate this scene in another language",
            )
        if base == "ja" and _HAN.search(text):
            # espeak-ng's Japanese reads only kana: each kanji comes out as the English words
            # "Chinese letter", which must never reach a video.
            raise EngineUnavailable(
                "espeak-ng cannot read kanji in Japanese text",
                hint="write the narration in kana (hiragana/katakana)",
            )
        with _Espeak._lock:
            lib = _Espeak.get()
            spoken = lib.speak(text, name, wpm, pitch, gap)
            sample_rate = lib.sample_rate
        if spoken.audio.size == 0:
            raise EngineFailed(
                f"espeak-ng produced no audio for voice {name!r}",
                hint="check the text is in the voice's language",
            )
        path = Path(workdir) / wav_name(self.name, name, wpm, pitch, gap, text)
        return _result(text, spoken, sample_rate, path, self.name, self._version())

    def _settings(self, request: SpeechRequest) -> tuple[str, str, int, int, int]:
        """(text, voice name, words per minute, espeak pitch, word gap) of a request."""
        text = unicodedata.normalize("NFC", request.text)
        if not text.split():
            raise SpecError("nothing to say: the narration text is empty", hint="add words")
        if not 0.25 <= request.speed <= 4.0:
            raise SpecError(f"speech speed {request.speed} is out of range", hint="use 0.25 to 4.0")
        name, pitch, rate, gap = parse_engine_options(
            request.voice or espeak_language(request.language)
        )
        wpm = int(min(_MAX_WPM, max(_MIN_WPM, round(_DEFAULT_WPM * request.speed * rate))))
        pitch = int(min(100, max(0, round(pitch + request.pitch * 50 / 12))))
        return text, name, wpm, pitch, gap

    @staticmethod
    def _version() -> str:
        with _Espeak._lock:
            return _Espeak.get().version


# --------------------------------------------------------------------------- MBROLA
MBROLA_FOLDER = Path("/usr/share/mbrola")
MBROLA_LICENCE = (
    "MBROLA voices may be used for non-commercial, non-military purposes only: their licence "
    "forbids selling them or what they say"
)
MBROLA_OPT_IN = "opt in with `make mbrola` (Debian contrib/non-free packages)"
# language -> (MBROLA database, espeak voice that times the words, catalogue label)
MBROLA_VOICES: dict[str, tuple[str, str, str]] = {"ar": ("ar2", "ar", "Arabic (Modern Standard)")}
# Phonemes espeak-ng's translation asks of a database that lacks their diphones, and the ones
# to say instead (measured: ar2 has no m-R, b-R... so every r after a consonant fell silent).
MBROLA_RENAMES: dict[str, dict[str, str]] = {"ar2": {"R": "r"}}
# ar2 is a man's voice: the catalogue's other ages and genders are WORLD transforms of it
# (F0 factor from his ~110 Hz, spectral envelope stretched for shorter vocal tracts).
_MBROLA_PERSONAS: dict[tuple[str, str], tuple[float, str, str]] = {
    ("baby", "male"): (0.9, "baby boy", "f0=3.3;envelope=1.25"),
    ("baby", "female"): (0.9, "baby girl", "f0=3.4;envelope=1.25"),
    ("toddler", "male"): (0.95, "toddler, boy", "f0=3.0;envelope=1.22"),
    ("toddler", "female"): (0.95, "toddler, girl", "f0=3.1;envelope=1.22"),
    ("child", "male"): (1.0, "child, boy", "f0=2.55;envelope=1.18"),
    ("child", "female"): (1.0, "child, girl", "f0=2.75;envelope=1.2"),
    ("preteen", "male"): (1.0, "preteen boy", "f0=2.1;envelope=1.14"),
    ("preteen", "female"): (1.0, "preteen girl", "f0=2.35;envelope=1.16"),
    ("teen", "male"): (1.0, "teenage boy", "f0=1.3;envelope=1.06"),
    ("teen", "female"): (1.0, "teenage girl", "f0=1.9;envelope=1.14"),
    ("young", "male"): (1.0, "young adult male", "f0=1.1;envelope=1.02"),
    ("young", "female"): (1.0, "young adult female", "f0=1.8;envelope=1.12"),
    ("adult", "male"): (1.0, "adult male", ""),
    ("adult", "female"): (1.0, "adult female", "f0=1.7;envelope=1.12"),
    ("senior", "male"): (0.9, "senior male", "f0=0.92;breath=0.2"),
    ("senior", "female"): (0.9, "senior female", "f0=1.5;envelope=1.08;breath=0.2"),
}


def mbrola_database(voice: str) -> Path:
    """The installed MBROLA database file of ``voice`` ("ar2")."""
    return MBROLA_FOLDER / voice / voice


class MbrolaEngine(EspeakEngine):
    """MBROLA diphone voices driven by espeak-ng (optional, non-free): far more intelligible
    Arabic than espeak's own (CER 0.3 against 0.6, benchmarks/voices.py). espeak-ng writes
    the phonemes with their durations (``.pho``), MBROLA speaks them once, and espeak's own
    word events are moved onto those durations (no second MBROLA run inside the library,
    whose diphone warnings once had to be silenced by taking over file descriptor 2)."""

    name: ClassVar[str] = "mbrola"

    def info(self) -> EngineInfo:
        reason = self._missing()
        if reason:
            return EngineInfo(
                self.name, "voice", "", False, f"{reason}; {MBROLA_OPT_IN}", MBROLA_LICENCE
            )
        return EngineInfo(self.name, "voice", f"mbrola + {self._version()}", licence=MBROLA_LICENCE)

    def _missing(self) -> str:
        try:
            with _Espeak._lock:
                _Espeak.get()
        except EngineUnavailable as exc:
            return exc.message
        if shutil.which("mbrola") is None:
            return "the mbrola program is not installed"
        if not self._installed():
            return "no MBROLA voice reelforge uses (ar2) is installed"
        return ""

    @staticmethod
    def _installed() -> dict[str, tuple[str, str, str]]:
        return {k: v for k, v in MBROLA_VOICES.items() if mbrola_database(v[0]).is_file()}

    def voices(self) -> list[VoiceInfo]:
        if self._missing():
            return []
        return [
            VoiceInfo(
                id=f"{lang}-{age}-{gender}",
                engine=self.name,
                language=lang,
                gender=gender,
                age=age,
                description=f"{label}, {what} (MBROLA {database}, non-commercial licence)",
                engine_voice=f"mb-{database}" + (f";rate={rate}" if rate != 1 else ""),
                transform=transform,
            )
            for lang, (database, _, label) in self._installed().items()
            for (age, gender), (rate, what, transform) in _MBROLA_PERSONAS.items()
        ]

    def synthesize(self, request: SpeechRequest, workdir: Path) -> SpeechResult:
        text, name, wpm, pitch, gap = self._settings(request)
        database = name.removeprefix("mb-").split("+")[0]
        timer = next((v[1] for v in MBROLA_VOICES.values() if v[0] == database), None)
        if timer is None or not mbrola_database(database).is_file():
            raise EngineUnavailable(f"no MBROLA voice {name!r} here", hint=MBROLA_OPT_IN)
        with _Espeak._lock:
            lib = _Espeak.get()
            plain = lib.speak(text, timer, wpm, pitch, gap)  # its WORD events and phonemes
        pho = _mbrola_phonemes(text, database, wpm, pitch, gap)
        audio, rate = _mbrola_audio(pho, database)
        timed = _pho_timeline(pho)
        if audio.size == 0 or not timed or not plain.phonemes:
            raise EngineFailed(
                f"MBROLA produced no audio for {name!r}", hint="check the text is Arabic"
            )
        spoken = _retimed(plain, timed, audio)
        path = Path(workdir) / wav_name(self.name, name, wpm, pitch, gap, text)
        return _result(text, spoken, rate, path, self.name, f"mbrola + {self._version()}")


def _pho_timeline(pho: str) -> list[tuple[int, str]]:
    """(start ms, MBROLA phoneme) per line of a ``.pho`` text: MBROLA speaks each phoneme for
    exactly the duration written beside it, so these are the times of its audio."""
    out: list[tuple[int, str]] = []
    ms = 0
    for line in pho.splitlines():
        symbol, tab, rest = line.partition("\t")
        if not tab or symbol.startswith(";"):
            continue
        out.append((ms, symbol))
        ms += int(rest.split(None, 1)[0])
    return out


def _sound_key(name: str) -> str:
    """A phoneme name reduced so espeak's and MBROLA's spellings of one sound mostly agree
    ("s[" and "s.", "a:" and "a"; pauses and glottal stops, which MBROLA writes "_", alike)."""
    if name.startswith(("_", "?")):
        return "_"
    return name.strip("'.,:[/")


def _alignment(left: list[str], right: list[str]) -> list[int]:
    """For each name of ``left``, the index in ``right`` of the name it is aligned with (or,
    where it has none, of the next one).

    The cheapest edit alignment within a band around the diagonal, in half steps: equal names
    are free, a substitution or a dropped or inserted name costs 2, but an inserted repeat of
    the name before it costs 1, as MBROLA's translation splits a long sound in two ("a:" is
    "a a"): so where ``left`` says "A a" and ``right`` "H a a", "A" pairs with "H".
    """
    n, m = len(left), len(right)
    band = 24 + m // max(n, 1)  # measured: paths stray 3 from the diagonal in 750 phonemes
    inf = 2 * (n + m) + 1
    inserted = [2] * (m + 1)  # the cost of inserting right[j - 1]
    for j in range(2, m + 1):
        if right[j - 1] == right[j - 2]:
            inserted[j] = 1
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    step = [[0] * (m + 1) for _ in range(n + 1)]  # 0 diagonal, 1 up (left dropped), 2 right
    cost[0][0] = 0
    for j in range(1, min(m, band) + 1):
        cost[0][j], step[0][j] = cost[0][j - 1] + inserted[j], 2
    for i in range(1, n + 1):
        above, row, moves, name = cost[i - 1], cost[i], step[i], left[i - 1]
        centre = i * m // max(n, 1)
        for j in range(max(0, centre - band), min(m, centre + band) + 1):
            best, move = above[j] + 2, 1
            if j:
                diagonal = above[j - 1] + (0 if right[j - 1] == name else 2)
                if diagonal <= best:
                    best, move = diagonal, 0
                if row[j - 1] + inserted[j] < best:
                    best, move = row[j - 1] + inserted[j], 2
            row[j], moves[j] = best, move
    aligned = [m] * n
    i, j = n, m
    while i or j:
        move = step[i][j] if i and j else (1 if i else 2)
        if move == 0:
            i, j = i - 1, j - 1
            aligned[i] = j
        elif move == 1:
            i -= 1
            aligned[i] = j  # dropped: it sits just before right[j]
        else:
            j -= 1
    return aligned


def _retimed(plain: _Spoken, timed: list[tuple[int, str]], audio: NDArray[np.int16]) -> _Spoken:
    """espeak's own words and phonemes moved onto MBROLA's timeline: espeak's phoneme sequence
    is aligned with the ``.pho`` lines MBROLA spoke, and each phoneme (so each word, which
    starts at a phoneme) takes the time of the line it matches."""
    times = [ms for ms, _ in timed] + [timed[-1][0]]
    aligned = _alignment(
        [_sound_key(name) for _, name in plain.phonemes], [_sound_key(name) for _, name in timed]
    )
    phonemes = tuple(
        (times[index], name) for index, (_, name) in zip(aligned, plain.phonemes, strict=True)
    )
    plain_times = [ms for ms, _ in plain.phonemes]
    words = tuple(
        (position, phonemes[min(bisect_left(plain_times, ms), len(phonemes) - 1)][0])
        for position, ms in plain.words
    )
    return _Spoken(audio, words, phonemes)


def renamed(pho: str, database: str) -> str:
    """An MBROLA ``.pho`` text with the phonemes ``database`` lacks renamed (MBROLA_RENAMES)."""
    renames = MBROLA_RENAMES.get(database, {})
    lines = []
    for line in pho.splitlines():
        symbol, tab, rest = line.partition("\t")
        lines.append(f"{renames.get(symbol, symbol)}{tab}{rest}")
    return "\n".join(lines) + "\n"


def _mbrola_phonemes(text: str, database: str, wpm: int, pitch: int, gap: int) -> str:
    """The ``.pho`` text espeak-ng writes for ``database``: each phoneme with its duration in
    ms and its pitch; nothing is synthesised."""
    command = ["espeak-ng", "-q", "--pho", "-v", f"mb-{database}", "-s", str(wpm)]
    command += ["-p", str(pitch), "-g", str(gap), "--", text]
    try:
        run = subprocess.run(command, capture_output=True, check=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        raise EngineFailed(
            f"espeak-ng --pho failed ({type(exc).__name__})", hint=_INSTALL_HINT
        ) from exc
    return run.stdout.decode("utf-8", "replace")


def _mbrola_audio(pho: str, database: str) -> tuple[NDArray[np.int16], int]:
    """MBROLA's speech of a ``.pho`` text, the database's missing diphones renamed."""
    try:
        with tempfile.TemporaryDirectory(prefix="reelforge-mbrola-") as folder:
            out = Path(folder) / "speech.wav"
            subprocess.run(
                ["mbrola", "-e", str(mbrola_database(database)), "-", str(out)],
                input=renamed(pho, database).encode(),
                capture_output=True,
                check=True,
                timeout=300,
            )
            with wave.open(str(out), "rb") as wav:
                rate = wav.getframerate()
                audio = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.int16)
    except (OSError, subprocess.SubprocessError, wave.Error) as exc:
        raise EngineFailed(f"MBROLA failed ({type(exc).__name__})", hint=MBROLA_OPT_IN) from exc
    return audio, rate
