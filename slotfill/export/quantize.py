"""int8 weights for an exported graph, computed in float32: the same parse whatever else is in the batch.

onnxruntime's dynamic quantisation (`quantize_dynamic`) quantises each activation with a scale taken
from the whole tensor, the batch included, so a sentence's confidences (and, at the rejection
threshold, its intent) changed with the sentences beside it: 155 of 200 ATIS test parses differed
alone and batched. Here only the weights are int8: each large weight matrix is stored as int8 with
one float32 scale per row of its last axis (symmetric, round to nearest), and the graph turns it back
into float32 (Cast, Mul) before its first use. onnxruntime folds those nodes into constants when a
session starts, so the model computes in float32 exactly as the float export does (batch-invariant
by the same argument), from weights that take a quarter of the bytes on disk.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MIN_ELEMENTS = 1024  # smaller tensors (biases, the CRF-free heads' rows) stay float32: nothing to gain
INT8_MAX = 127


def int8_rows(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`weight` as int8 values and one float32 scale per row of its last axis (`q * scale` ≈ weight)."""
    scale = np.abs(weight).max(axis=-1, keepdims=True) / INT8_MAX
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    values = np.clip(np.rint(weight / scale), -INT8_MAX, INT8_MAX).astype(np.int8)
    return values, scale


def quantize_weights(source: Path, target: Path) -> int:
    """Write the graph at `source` to `target` with its large float32 weights stored as int8 (see the
    module's docstring); returns how many weight tensors were quantised."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    inputs = {value.name for value in graph.input}
    dequantize, count = [], 0
    for initializer in list(graph.initializer):
        if (
            initializer.data_type != TensorProto.FLOAT
            or len(initializer.dims) < 2
            or int(np.prod(initializer.dims)) < MIN_ELEMENTS
            or initializer.name in inputs
        ):
            continue
        values, scale = int8_rows(numpy_helper.to_array(initializer))
        name = initializer.name
        graph.initializer.remove(initializer)
        graph.initializer.extend(
            [numpy_helper.from_array(values, f"{name}.int8"), numpy_helper.from_array(scale, f"{name}.scale")]
        )
        dequantize += [
            helper.make_node("Cast", [f"{name}.int8"], [f"{name}.float"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [f"{name}.float", f"{name}.scale"], [name]),
        ]
        count += 1
    nodes = dequantize + list(graph.node)  # the weights exist before any node reads them
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    return count
