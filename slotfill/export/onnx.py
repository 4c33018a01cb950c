"""`slotfill export`: a model directory -> an ONNX model that onnxruntime runs without torch.

The graph maps the feature arrays of slotfill.features.arrays (word ids, the batch's distinct words'
characters and trigrams, gazetteer bits, lengths) to emissions (B, L, T) and intent logits (B, K).
The fused recurrent cells become ONNX's own LSTM / GRU / RNN operators, one forward run per
direction (the backward one over each sentence reversed within its length, as the torch model runs
at inference: slotfill.nn.encoders), so padding never enters a state and no step's batch depends on the
other sentences' lengths. The CRF is not in the graph: its scores go to
export.json and slotfill.decoding decodes beside it (docs/deploying.md, says why).
A model with a transformer gets a second graph, encoder/model.onnx: the transformer and its
pooling of word pieces to tokens (slotfill.nn.transformer.Transformer), whose features are one
more input of model.onnx; the runtime runs it in the same batch-invariant groups as torch does.
Exported with torch.onnx's TorchScript exporter (`dynamo=False`): the dynamo exporter unrolls the
recurrence over the example's length.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from slotfill import __version__
from slotfill.choices import FUSED_CELLS
from slotfill.data.context import NO_CONTEXT, Context
from slotfill.errors import ModelError
from slotfill.export.runtime import (
    CONTEXT_INPUT,
    INPUT_ARRAYS,
    INPUTS,
    TRANSFORMER_GRAPH_INPUTS,
    TRANSFORMER_INPUT,
    info_digest,
)
from slotfill.features.arrays import encode_sentences
from slotfill.features.wordpieces import TOKENIZER_FILE, PieceArrays, window_groups
from slotfill.files import writing_dir
from slotfill.layout import (
    CALIBRATION_FILE,
    CONFIG_FILE,
    EXPORT_FILE,
    GAZETTEER_SUBDIR,
    METRICS_FILE,
    ONNX_FILE,
    OUT_OF_SCOPE_INDEX,
    TRANSFORMER_SUBDIR,
    VOCAB_FILE,
)
from slotfill.nn.batching import Batch
from slotfill.nn.embeddings import CharCNN, pool_characters
from slotfill.nn.tagger import Tagger
from slotfill.nn.transformer import TransformerFeatures
from slotfill.store.model_dir import LoadedModel, load_model, resolve_model_dir
from slotfill.store.model_files import file_digests

EXPORT_FORMAT_VERSION = 2  # 2: export.json records the sha256 of its own fields (info_sha256)
OPSET = 17
DYNAMIC_AXES = {
    "word_ids": {0: "batch", 1: "length"},
    "char_ids": {0: "words", 1: "chars"},
    "type_index": {0: "batch", 1: "length"},
    "trigram_ids": {0: "words", 1: "chars"},
    "lengths": {0: "batch"},
    "gazetteer_features": {0: "batch", 1: "length"},
    "vector_ids": {0: "words"},
    TRANSFORMER_INPUT: {0: "batch", 1: "length"},
    "requested": {0: "batch"},
    "emissions": {0: "batch", 1: "length"},
    "intent_logits": {0: "batch"},
    "sentences": {0: "batch"},
}
TRANSFORMER_DYNAMIC_AXES = {
    "piece_ids": {0: "windows", 1: "pieces"},
    "piece_mask": {0: "windows", 1: "pieces"},
    "piece_index": {0: "rows", 1: "tokens"},
    "piece_weight": {0: "rows", 1: "tokens"},
    "features": {0: "rows", 1: "tokens"},
}
QUANTIZATIONS = ("none", "int8")
PARITY_TOLERANCE = 1e-3  # float32 emissions of onnxruntime vs torch, checked on every export
PROBE = [["show", "me", "flights", "from", "boston", "to", "san", "francisco"], ["hi"], ["cheapest", "fare"]]


class _ConvCharCNN(nn.Module):
    """CharCNN's function with Conv1d (exportable with dynamic sizes) in place of unfold + linear."""

    def __init__(self, source: CharCNN) -> None:
        super().__init__()
        self.embedding, self.kernel_size = source.embedding, source.kernel_size
        filters = source.conv.out_features
        self.weight = nn.Parameter(source.conv.weight.detach().view(filters, -1, source.kernel_size).clone())
        self.bias = nn.Parameter(source.conv.bias.detach().clone())

    def forward(self, char_ids: Tensor) -> Tensor:  # (U, W) -> (U, F)
        half = self.kernel_size // 2
        padded = nn.functional.pad(char_ids, (half, half), value=0)  # (U, W + k - 1)
        embedded = self.embedding(padded).transpose(1, 2)  # (U, C, W + k - 1)
        features = torch.relu(nn.functional.conv1d(embedded, self.weight, self.bias)).transpose(1, 2)  # (U, W, F)
        return pool_characters(features, char_ids)


class _SummedTrigrams(nn.Module):
    """EmbeddingBag(mode="sum", padding_idx=0) as a gather and a masked sum: the ONNX exporter
    cannot export an EmbeddingBag with padding_idx."""

    def __init__(self, source: nn.EmbeddingBag) -> None:
        super().__init__()
        self.weight = source.weight

    def forward(self, trigram_ids: Tensor) -> Tensor:  # (U, K) -> (U, E)
        vectors = nn.functional.embedding(trigram_ids, self.weight)  # (U, K, E)
        return vectors.masked_fill((trigram_ids == 0).unsqueeze(2), 0.0).sum(dim=1)


class _TaggerGraph(nn.Module):
    """The tagger's emissions, intent logits and sentence states from the feature arrays named
    `inputs`, in eval mode."""

    def __init__(self, tagger: Tagger, inputs: tuple[str, ...]) -> None:
        super().__init__()
        self.tagger, self.inputs = copy.deepcopy(tagger).cpu().eval(), inputs
        if self.tagger.char_cnn is not None:
            self.tagger.char_cnn = _ConvCharCNN(self.tagger.char_cnn)
        if self.tagger.word_input.kind == "letter_trigram":
            self.tagger.word_input.trigrams = _SummedTrigrams(self.tagger.word_input.trigrams)

    def forward(self, *inputs: Tensor) -> tuple[Tensor, ...]:
        batch = Batch(**{INPUT_ARRAYS.get(name, name): tensor for name, tensor in zip(self.inputs, inputs)})
        emissions, intent_logits, sentences = self.tagger._encode(batch)
        return (emissions,) if intent_logits is None else (emissions, intent_logits, sentences)


def export_model(model_dir: Path, out_dir: Path, quantize: str = "none", *, overwrite: bool = False) -> dict[str, Any]:
    """Write an exported model directory; returns its export.json. Raises ModelError when the model
    cannot be exported (a hand-written recurrent cell) or the export does not match the model."""
    if quantize not in QUANTIZATIONS:
        raise ModelError(f"--quantize {quantize!r}: expected one of {', '.join(QUANTIZATIONS)}")
    source = resolve_model_dir(model_dir)
    loaded = load_model(source, torch.device("cpu"))
    cell = loaded.config.model.encoder.cell
    if cell not in FUSED_CELLS:
        raise ModelError(
            f"{source}: the {cell!r} cell cannot be exported: ONNX has no operator for it and a traced "
            f"loop would fix the sentence length (cells that export: {', '.join(FUSED_CELLS)})"
        )
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise ModelError(f"{out_dir}: not empty (pass --overwrite to replace it)")
    info = _export_info(loaded, quantize)
    with writing_dir(out_dir) as staged:
        _written(staged / ONNX_FILE, quantize, lambda path: _write_onnx(loaded, path))
        if loaded.transformer_features is not None:
            words = loaded.transformer_features
            (staged / TRANSFORMER_SUBDIR).mkdir()
            _written(
                staged / TRANSFORMER_SUBDIR / ONNX_FILE, quantize, lambda path: _write_transformer_onnx(words, path)
            )
            shutil.copyfile(words.directory / TOKENIZER_FILE, staged / TRANSFORMER_SUBDIR / TOKENIZER_FILE)
            info["encoder"]["bytes"] = (staged / TRANSFORMER_SUBDIR / ONNX_FILE).stat().st_size
        for name in (CONFIG_FILE, VOCAB_FILE, METRICS_FILE, CALIBRATION_FILE, OUT_OF_SCOPE_INDEX):
            if (source / name).is_file():
                shutil.copyfile(source / name, staged / name)
        from slotfill.features.gazetteer_sources import save_gazetteers

        save_gazetteers(staged, loaded.gazetteers)
        info["sha256"] = file_digests(
            staged, (ONNX_FILE, CONFIG_FILE, VOCAB_FILE, GAZETTEER_SUBDIR, TRANSFORMER_SUBDIR)
        )
        info["info_sha256"] = info_digest(info)
        (staged / EXPORT_FILE).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return info


def _written(path: Path, quantize: str, write: Callable[[Path], None]) -> None:
    """A graph written (and checked) in float32, then quantised to `path` where asked."""
    if quantize == "none":
        write(path)
        return
    float_path = path.with_name("float32.onnx")
    write(float_path)
    from slotfill.export.quantize import quantize_weights

    quantize_weights(float_path, path)  # int8 weights computed in float32: batch-invariant (export/quantize.py)
    float_path.unlink()


def _export_info(loaded: LoadedModel, quantize: str) -> dict[str, Any]:
    crf = loaded.tagger.crf
    info: dict[str, Any] = {
        "format_version": EXPORT_FORMAT_VERSION,
        "slotfill_version": __version__,
        "quantize": quantize,
        "opset": OPSET,
        "decoder": "crf" if crf is not None else "softmax",
        "intent": loaded.tagger.intent_head is not None,
        "parameters": loaded.parameters,
    }
    if crf is not None:  # float32 values written exactly: a Python float holds every float32
        info["crf"] = {name: getattr(crf, name).detach().cpu().tolist() for name in ("start", "transitions", "end")}
    words = loaded.transformer_features
    if words is not None:  # what the runtime needs to read its word pieces, and what `info` shows
        info["encoder"] = {
            "type": words.model.config.model_type,
            "width": words.size,
            "parameters": words.parameters,
            "max_pieces": words.reader.pieces.max_pieces,
        }
    return info


def _inputs(loaded: LoadedModel) -> tuple[str, ...]:
    """The feature arrays model.onnx reads: the transformer's features too, where the model has one, and
    the requested slots, where it reads the dialogue context."""
    names = (*INPUTS, TRANSFORMER_INPUT) if loaded.transformer_features is not None else INPUTS
    return (*names, CONTEXT_INPUT) if len(loaded.vocab.requested) else names


def _probe_inputs(loaded: LoadedModel) -> tuple[Tensor, ...]:
    """The probe batch; where the model reads context, its first sentence answers a requested slot."""
    contexts = [Context(tuple(loaded.vocab.requested.items[:1])), NO_CONTEXT, NO_CONTEXT]
    corpus = encode_sentences(
        PROBE, loaded.vocab, loaded.gazetteers, transformer_features=loaded.transformer_features, contexts=contexts
    )
    batch = Batch.from_arrays(corpus.arrays(corpus.sentences))
    return tuple(getattr(batch, INPUT_ARRAYS.get(name, name)) for name in _inputs(loaded))


def _export(module: nn.Module, inputs: tuple[Tensor, ...], path: Path, names: list[str], outputs: list[str]) -> None:
    """torch.onnx's TorchScript exporter, quietly, and the ONNX checker."""
    axes = {**DYNAMIC_AXES, **TRANSFORMER_DYNAMIC_AXES}
    with warnings.catch_warnings(), torch.inference_mode(), _native_stderr_silenced():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer warnings
        torch.onnx.export(
            module,
            inputs,
            str(path),
            input_names=names,
            output_names=outputs,
            dynamic_axes={k: v for k, v in axes.items() if k in names or k in outputs},
            opset_version=OPSET,
            dynamo=False,
        )
    import onnx

    onnx.checker.check_model(onnx.load(str(path)), full_check=True)


def _write_onnx(loaded: LoadedModel, path: Path) -> None:
    outputs = ["emissions", "intent_logits", "sentences"] if loaded.tagger.intent_head is not None else ["emissions"]
    names = _inputs(loaded)
    _export(_TaggerGraph(loaded.tagger, names), _probe_inputs(loaded), path, list(names), outputs)
    _check_parity(loaded, path)


def _transformer_probe(words: TransformerFeatures) -> PieceArrays:
    """The probe sentences' word pieces as one run of the transformer (the exporter's example)."""
    windows = [window for tokens in PROBE for window in words.reader.windows(tokens)]
    ((_, arrays),) = window_groups(windows, words.reader.pooling, words.reader.pieces.pad_id)
    return arrays


def _write_transformer_onnx(words: TransformerFeatures, path: Path) -> None:
    """The transformer with its pooling (slotfill.nn.transformer.Transformer), on the CPU,
    checked against torch on the probe."""
    encoder = copy.deepcopy(words.transformer).cpu().eval()
    probe = _transformer_probe(words)
    inputs = tuple(torch.from_numpy(a) for a in probe)
    _export(encoder, inputs, path, list(TRANSFORMER_GRAPH_INPUTS), ["features"])
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, dict(zip(TRANSFORMER_GRAPH_INPUTS, probe)))
    with torch.inference_mode():
        expected = encoder(*inputs).numpy()
    worst = float(np.abs(got - expected).max())
    if worst > PARITY_TOLERANCE:
        raise ModelError(
            f"the exported transformer's features differ from the model's by {worst:.2g}: the export is wrong"
        )


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Hide what C++ code writes to file descriptor 2 (the exporter's shape-inference notes about
    PackPadded, which the ONNX checker and the parity check make moot); errors still raise."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _check_parity(loaded: LoadedModel, path: Path) -> None:
    """onnxruntime's emissions and intent logits must be the torch model's on the probe batch."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs, names = _probe_inputs(loaded), _inputs(loaded)
    feeds = dict(zip(names, (t.numpy() for t in inputs)))
    got = session.run(None, {i.name: feeds[i.name] for i in session.get_inputs()})
    with torch.inference_mode():
        expected = _TaggerGraph(loaded.tagger, names)(*inputs)
    mask = inputs[0].numpy() != 0
    for name, a, b in zip(("emissions", "intent logits"), got, expected):
        difference = np.abs(a - b.numpy())
        worst = float(difference[mask].max() if name == "emissions" else difference.max())
        if worst > PARITY_TOLERANCE:
            raise ModelError(f"the exported {name} differ from the model's by {worst:.2g}: the export is wrong")
