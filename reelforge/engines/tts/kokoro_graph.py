"""Kokoro-82M's ONNX graph as the Kokoro voices run it: rewritten once, cached, same audio.

The shipped int8 model spends ~70 % of its time in ``ConvInteger`` (the decoder's generator:
1-D convolutions of 128-1024 channels at up to 4800 frames a second), which onnxruntime runs
with unsigned weights on its u8 x u8 kernel. Its ``MatMulInteger`` with signed weights uses
the CPU's VNNI dot-product instructions and runs twice as fast (measured 270 against 125
GOP/s on one core). So each stride-1 convolution becomes the same arithmetic as a matrix
product: the quantised input padded with its own zero point, transposed to (time, channels),
its ``kernel`` shifted copies side by side (im2col), times the weights as a (kernel *
channels, out) matrix shifted from uint8 to int8 (``w - 128`` with the zero point moved
alike: every product is unchanged), transposed back into the original int32 result. The
bias, scale and everything after are the model's own nodes, so the audio is bit for bit the
original's, at ~0.38 instead of ~0.55 CPU-seconds per second of speech.

Without VNNI (``avx512_vnni``, ``avx_vnni``) onnxruntime's u8 x s8 kernel can saturate 16-bit
sums, so there the convolutions stay as they are. Either way the graph also returns Kokoro's
token durations (:mod:`kokoro_model`). The result is written once, atomically, to
``<cache>/models/kokoro/``, named after the source model's SHA-256 and the rewrite, so a later
process loads it directly (no ``onnx`` parse per process).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

REWRITE = 1  # bump when the rewrite changes: cached graphs of older rewrites are not reused
INT64_MAX = int(np.iinfo(np.int64).max)


@lru_cache(maxsize=1)
def has_vnni() -> bool:
    """Whether this CPU has the int8 dot-product instructions (x86 VNNI, Linux's flags)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    flags = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return bool({"avx512_vnni", "avx_vnni"} & set(flags.split()))


def digest(path: Path) -> str:
    """The file's SHA-256 (hex)."""
    sha = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def cached(source: Path, folder: Path, outputs: Iterable[str], signed: bool) -> Path:
    """The rewritten graph of ``source`` under ``folder``, built on first use (needs ``onnx``);
    ``outputs``: node outputs the graph also returns; ``signed``: rewrite the convolutions."""
    variant = "vnni" if signed else "plain"
    path = folder / f"kokoro-{digest(source)[:16]}-r{REWRITE}-{variant}.onnx"
    if path.exists():
        return path
    model = rewritten(source, outputs, signed)
    folder.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=folder, prefix=".kokoro-", suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(model.SerializeToString())
        os.chmod(partial, 0o644)
        os.replace(partial, path)  # two processes building at once: either copy wins whole
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return path


def rewritten(source: Path, outputs: Iterable[str], signed: bool) -> Any:
    """``source`` loaded as an ONNX model, the ``outputs`` it produces added to its outputs,
    and (``signed``) its stride-1 quantised convolutions made matrix products."""
    import onnx

    model = onnx.load(str(source))
    graph = model.graph
    produced = {out for node in graph.node for out in node.output}
    for name in sorted(set(outputs) & produced):
        graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    if signed:
        _convolutions_as_products(graph)
    return model


def _convolutions_as_products(graph: Any) -> int:
    """Replace each stride-1, ungrouped ``ConvInteger`` with uint8 weights and an input from
    ``DynamicQuantizeLinear`` by pad, transpose, im2col and a signed ``MatMulInteger``
    giving the same int32 tensor. Returns how many were replaced."""
    from onnx import helper, numpy_helper

    constants = {t.name: t for t in graph.initializer}
    makers = {out: node for node in graph.node for out in node.output}
    added: list[Any] = []
    nodes: list[Any] = []
    replaced = 0
    for node in graph.node:
        new = _product(node, constants, makers, helper, numpy_helper)
        if new is None:
            nodes.append(node)
            continue
        more, tensors = new
        nodes.extend(more)
        added.extend(tensors)
        replaced += 1
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(added)
    used = {name for node in graph.node for name in node.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return replaced


def _product(
    node: Any, constants: dict[str, Any], makers: dict[str, Any], helper: Any, numpy_helper: Any
) -> tuple[list[Any], list[Any]] | None:
    """The nodes and constants computing ``node`` (a ``ConvInteger``) as a matrix product, or
    None when it is not one this rewrite handles."""
    if node.op_type != "ConvInteger" or len(node.input) != 4:
        return None
    source = makers.get(node.input[0])
    weights, zero = constants.get(node.input[1]), constants.get(node.input[3])
    if source is None or source.op_type != "DynamicQuantizeLinear" or weights is None:
        return None
    if zero is None or node.input[2] != source.output[2]:
        return None
    attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    w = numpy_helper.to_array(weights)
    w_zero = numpy_helper.to_array(zero)
    if w.dtype != np.uint8 or w.ndim != 3 or w_zero.size != 1:
        return None
    if list(attributes.get("strides", [1])) != [1] or attributes.get("group", 1) != 1:
        return None
    if attributes.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        return None
    out_channels, in_channels, kernel = w.shape
    (dilation,) = list(attributes.get("dilations", [1]))
    before, after = list(attributes.get("pads", [0, 0]))
    name = node.name or node.output[0]
    # B[k * in + c, o] = w[o, c, k] - 128 as int8; the zero point moves by 128 too.
    columns = w.transpose(2, 1, 0).reshape(kernel * in_channels, out_channels)
    matrix = (columns.astype(np.int16) - 128).astype(np.int8)
    shifted = np.array(int(w_zero.reshape(())) - 128, dtype=np.int8)
    tensors = [
        numpy_helper.from_array(np.ascontiguousarray(matrix), f"{name}/matrix"),
        numpy_helper.from_array(shifted, f"{name}/matrix_zero"),
    ]
    quantised, _, x_zero = source.output
    nodes = []
    current = quantised
    if before or after:
        tensors.append(
            numpy_helper.from_array(np.array([0, 0, before, 0, 0, after], np.int64), f"{name}/pads")
        )
        nodes.append(helper.make_node("Pad", [current, f"{name}/pads", x_zero], [f"{name}/padded"]))
        current = f"{name}/padded"
    nodes.append(helper.make_node("Transpose", [current], [f"{name}/rows"], perm=[0, 2, 1]))
    current = f"{name}/rows"
    if kernel > 1:
        span = dilation * (kernel - 1)
        tensors.append(numpy_helper.from_array(np.array([1], np.int64), f"{name}/time"))
        taps = []
        for k in range(kernel):
            start, stop = k * dilation, k * dilation - span
            tensors.append(numpy_helper.from_array(np.array([start], np.int64), f"{name}/{k}a"))
            tensors.append(
                numpy_helper.from_array(
                    np.array([stop if stop < 0 else INT64_MAX], np.int64), f"{name}/{k}b"
                )
            )
            ends = [current, f"{name}/{k}a", f"{name}/{k}b", f"{name}/time"]
            nodes.append(helper.make_node("Slice", ends, [f"{name}/tap{k}"]))
            taps.append(f"{name}/tap{k}")
        nodes.append(helper.make_node("Concat", taps, [f"{name}/columns"], axis=2))
        current = f"{name}/columns"
    product = [current, f"{name}/matrix", x_zero, f"{name}/matrix_zero"]
    nodes.append(helper.make_node("MatMulInteger", product, [f"{name}/product"]))
    nodes.append(
        helper.make_node("Transpose", [f"{name}/product"], [node.output[0]], perm=[0, 2, 1])
    )
    for k, made in enumerate(nodes):
        made.name = f"{name}/im2col{k}"
    return nodes, tensors
