"""Run an exported model (`slotfill export`) with onnxruntime and numpy: never imports torch.

Loading reads only ONNX, JSON and YAML. The graph gives emissions and intent logits; the CRF
decodes beside it in numpy (slotfill.decoding, as for the torch model), so the tags, confidences and alternatives are the
torch model's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from slotfill import __version__
from slotfill.config import Config
from slotfill.decoding.crf import BIOConstraints, NumpyCRF
from slotfill.decoding.decoder import decode_scores
from slotfill.decoding.types import Decoded, Decoding, Rejection
from slotfill.errors import ConfigError, ModelError
from slotfill.features.arrays import FeatureArrays
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.vocab import Vocab
from slotfill.features.wordpieces import PieceArrays, PieceFeatures, PieceReader, WordPieces
from slotfill.layout import CONFIG_FILE, EXPORT_FILE, ONNX_FILE, TRANSFORMER_SUBDIR, VOCAB_FILE
from slotfill.store.calibration import read_rejection, read_temperature
from slotfill.store.model_files import check_digests, read_metrics, read_model_files

READABLE_EXPORT_VERSIONS = (1, 2)
MAX_SCORE = 1e6  # a trained CRF score is a few units; 1e30 is damage
SEALED_FROM_VERSION = 2  # from format 2, export.json records the sha256 of its own other fields
DECODERS_EXPORTED = ("crf", "softmax")


def info_digest(info: dict[str, Any]) -> str:
    """The sha256 of an export description without its own record (canonical JSON)."""
    fields = {k: v for k, v in info.items() if k != "info_sha256"}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


SINGLE_THREAD_BLAS_FROM = 512  # tokens in a batch (B x L) from which decoding limits BLAS to one thread


def _onnxruntime_errors() -> tuple[type[BaseException], ...]:
    """What onnxruntime raises for a model it cannot load (its own types, not RuntimeError)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    names = ("Fail", "InvalidArgument", "InvalidGraph", "InvalidProtobuf", "NoSuchFile", "NotImplemented", "EPFail")
    return (RuntimeError, ValueError, *(getattr(state, n) for n in names if hasattr(state, n)))


def is_exported(path: Path) -> bool:
    """Whether `path` is an exported model directory (it holds model.onnx)."""
    return (Path(path) / ONNX_FILE).is_file() or (Path(path) / EXPORT_FILE).is_file()


def _providers(device: str) -> list[str]:
    import onnxruntime

    available = onnxruntime.get_available_providers()
    if device in ("cuda",) or device.startswith("cuda:"):
        if "CUDAExecutionProvider" not in available:
            raise ConfigError(
                f"device: {device!r} asked for, but this onnxruntime has no CUDA provider (use auto or cpu)"
            )
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device == "auto" and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device not in ("auto", "cpu"):
        raise ConfigError(f"device: {device!r} is not one of auto, cpu, cuda (or cuda:N)")
    return ["CPUExecutionProvider"]


class OnnxDecoder:
    """An onnxruntime session and the numpy CRF as a slotfill.decoding.tagging.SentenceDecoder."""

    def __init__(
        self, session: Any, crf: NumpyCRF | None, has_intent: bool, transformer_features: PieceFeatures | None = None
    ) -> None:
        """`transformer_features`: the exported transformer (encoder/model.onnx), where the model has one."""
        self.session, self.crf, self._has_intent, self._transformer_features = (
            session,
            crf,
            has_intent,
            transformer_features,
        )
        self.input_names = [i.name for i in session.get_inputs()]  # the exporter drops inputs a model ignores
        self._blas = ThreadpoolController()

    @property
    def has_intent(self) -> bool:
        return self._has_intent

    @property
    def transformer_features(self) -> PieceFeatures | None:
        return self._transformer_features

    def decode(self, arrays: FeatureArrays, decoding: Decoding, rows: int | None = None) -> Decoded:
        feed = {name: getattr(arrays, INPUT_ARRAYS.get(name, name)) for name in self.input_names}
        outputs = self.session.run(None, feed)
        emissions = outputs[0][:rows]  # (B, L, T)
        intent_logits = outputs[1][:rows] if self._has_intent else None  # (B, K)
        sentences = outputs[2][:rows] if len(outputs) > 2 else None  # (B, D); none in an export before 0.5
        lengths = arrays.lengths[:rows].tolist()
        if arrays.word_ids.size < SINGLE_THREAD_BLAS_FROM:
            return decode_scores(emissions, intent_logits, lengths, self.crf, decoding, sentences)
        # the decoding's small matmuls run faster on one BLAS thread, and BLAS threads that spin
        # after them slow down onnxruntime's next run (measured: docs/deploying.md)
        with self._blas.limit(limits=1, user_api="blas"):
            return decode_scores(emissions, intent_logits, lengths, self.crf, decoding, sentences)


@dataclass
class ExportedModel:
    """An exported model, loaded: what slotfill.predict.Predictor needs, with no torch."""

    config: Config
    vocab: Vocab
    metrics: dict[str, Any]
    gazetteers: GazetteerSet
    decoder: OnnxDecoder
    info: dict[str, Any] = field(default_factory=dict)  # export.json
    temperature: float = 1.0
    rejection: Rejection = field(default_factory=Rejection)

    @property
    def parameters(self) -> int | None:
        return self.info.get("parameters")


def _read_export_info(directory: Path) -> dict[str, Any]:
    try:
        info = json.loads((directory / EXPORT_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ModelError(f"{directory / EXPORT_FILE}: damaged export description ({error})") from None
    version = info.get("format_version") if isinstance(info, dict) else None
    if version not in READABLE_EXPORT_VERSIONS:
        raise ModelError(
            f"{directory / EXPORT_FILE}: export format version {version} "
            f"(slotfill {info.get('slotfill_version', '?') if isinstance(info, dict) else '?'}); "
            f"this slotfill {__version__} reads versions {', '.join(map(str, READABLE_EXPORT_VERSIONS))}"
        )
    where = directory / EXPORT_FILE
    if version >= SEALED_FROM_VERSION:  # every field is covered: a decoder, an intent flag or a record cannot be edited
        if info.get("info_sha256") != info_digest(info) or not isinstance(info.get("sha256"), dict):
            raise ModelError(f"{where}: damaged or edited since it was written (its record of itself differs)")
    if info.get("decoder") not in DECODERS_EXPORTED or not isinstance(info.get("intent"), bool):
        raise ModelError(
            f"{where}: damaged export description (decoder {info.get('decoder')!r}, intent {info.get('intent')!r})"
        )
    check_digests(directory, info.get("sha256"), where)
    return info


def _crf(info: dict[str, Any], vocab: Vocab, where: Path) -> NumpyCRF | None:
    if info.get("decoder") != "crf":
        return None
    num_tags = len(vocab.tags)
    try:
        scores = info["crf"]
        start, end = np.array(scores["start"], np.float32), np.array(scores["end"], np.float32)
        transitions = np.array(scores["transitions"], np.float32)
    except (KeyError, TypeError, ValueError) as error:
        raise ModelError(f"{where}: damaged CRF scores ({error})") from None
    if start.shape != (num_tags,) or end.shape != (num_tags,) or transitions.shape != (num_tags, num_tags):
        raise ModelError(f"{where}: CRF scores do not fit the vocabulary's {num_tags} tags")
    if not all(np.isfinite(a).all() and (np.abs(a) < MAX_SCORE).all() for a in (start, end, transitions)):
        raise ModelError(f"{where}: damaged CRF scores (not finite, or beyond {MAX_SCORE:g})")
    return NumpyCRF(BIOConstraints.for_tags(vocab.tags.items), start, transitions, end)


INPUTS = ("word_ids", "char_ids", "type_index", "trigram_ids", "lengths", "gazetteer_features", "vector_ids")
TRANSFORMER_INPUT = "encoder_features"  # model.onnx's input where the model has a transformer (its 0.3 name, kept)
# a graph input -> the feature array it is fed from, where their names differ
INPUT_ARRAYS = {TRANSFORMER_INPUT: "transformer_features"}
CONTEXT_INPUT = "requested"  # model.onnx's input where the model reads the dialogue context (B, R)
TRANSFORMER_GRAPH_INPUTS = (
    "piece_ids",
    "piece_mask",
    "piece_index",
    "piece_weight",
)  # encoder/model.onnx's (PieceArrays)


def _check_graph(session: Any, info: dict[str, Any], vocab: Vocab, gazetteer_features: int, where: Path) -> None:
    """The graph's inputs and outputs must be the ones this model's files describe: another model's
    model.onnx beside them is refused here, in one line, not by onnxruntime at the first parse."""
    inputs = {i.name: i.shape for i in session.get_inputs()}
    outputs = [o.shape for o in session.get_outputs()]
    expected_outputs = 2 if info["intent"] else 1
    if info["intent"] and len(outputs) == 3:  # the sentence states, exported since 0.5
        outputs, expected_outputs = outputs[:2], 2
    problems = []
    known = (*INPUTS, TRANSFORMER_INPUT) if "encoder" in info else INPUTS
    if len(vocab.requested):
        known = (*known, CONTEXT_INPUT)
    if not set(inputs) <= set(known):
        problems.append(f"inputs {sorted(set(inputs) - set(known))} are not slotfill's")
    if len(vocab.requested) and inputs.get(CONTEXT_INPUT, [None])[-1] != len(vocab.requested):
        problems.append(f"no input of the {len(vocab.requested)} requested slots the vocabulary reads")
    if "encoder" in info and inputs.get(TRANSFORMER_INPUT, [None])[-1] != info["encoder"].get("width"):
        problems.append(f"no input of the transformer's {info['encoder'].get('width')} features")
    if "gazetteer_features" in inputs and inputs["gazetteer_features"][-1] not in (gazetteer_features, None):
        problems.append(
            f"{inputs['gazetteer_features'][-1]} gazetteer features, the model's lists give {gazetteer_features}"
        )
    if len(outputs) != expected_outputs:
        problems.append(f"{len(outputs)} outputs, export.json says {expected_outputs}")
    elif outputs[0][-1] != len(vocab.tags) or (expected_outputs == 2 and outputs[1][-1] != len(vocab.intents)):
        problems.append(
            f"outputs of sizes {[o[-1] for o in outputs]}, the vocabulary has {len(vocab.tags)} tags and {len(vocab.intents)} intents"
        )
    if problems:
        raise ModelError(f"{where}: not this model's graph ({'; '.join(problems)})")


def load_exported(path: Path, device: str = "auto", threads: int | None = None) -> ExportedModel:
    """Load an exported model directory. Raises ModelError (one line, naming the file) when it is
    incomplete, damaged or of another format version; ConfigError for a device it cannot use."""
    directory = Path(path)
    for name in (EXPORT_FILE, ONNX_FILE, CONFIG_FILE, VOCAB_FILE):
        if not (directory / name).is_file():
            raise ModelError(f"{directory}: not an exported slotfill model ({name} is missing)")
    info = _read_export_info(directory)
    config, vocab, gazetteers = read_model_files(directory)
    crf = _crf(info, vocab, directory / EXPORT_FILE)
    session = _session(directory / ONNX_FILE, device, threads)
    _check_graph(session, info, vocab, gazetteers.num_features, directory / ONNX_FILE)
    transformer_features = _transformer_features(directory, config, info, device, threads)
    decoder = OnnxDecoder(session, crf, bool(info.get("intent")), transformer_features)
    rejection = read_rejection(directory, vocab, config.out_of_scope.intent)
    metrics, temperature = read_metrics(directory), read_temperature(directory)
    return ExportedModel(config, vocab, metrics, gazetteers, decoder, info, temperature, rejection)


def _session(path: Path, device: str, threads: int | None) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its warnings are not the user's business
    # threads that spin after a run take the cores from the numpy decoding that follows it
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads is not None:
        options.intra_op_num_threads = threads
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=_providers(device))
    except _onnxruntime_errors() as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelError(f"{path}: damaged ONNX model ({reason})") from None


def _transformer_features(
    directory: Path, config: Config, info: dict[str, Any], device: str, threads: int | None
) -> PieceFeatures | None:
    """The exported transformer (encoder/model.onnx and its word pieces) as features of
    sentences, run in the groups torch runs it in; None where the model has no transformer."""
    features = config.model.transformer
    if features is None:
        return None
    described = info.get("encoder")
    if not isinstance(described, dict) or not isinstance(described.get("max_pieces"), int):
        raise ModelError(f"{directory / EXPORT_FILE}: the model reads a transformer, and no transformer is described")
    folder = directory / TRANSFORMER_SUBDIR
    reader = PieceReader(WordPieces.from_dir(folder, described["max_pieces"]), features.pooling)
    session = _session(folder / ONNX_FILE, device, threads)
    names = [i.name for i in session.get_inputs()]
    if names != list(TRANSFORMER_GRAPH_INPUTS):
        raise ModelError(f"{folder / ONNX_FILE}: not a slotfill transformer graph (inputs {names})")

    def run(arrays: PieceArrays) -> np.ndarray:
        return session.run(None, dict(zip(TRANSFORMER_GRAPH_INPUTS, arrays)))[0]  # (N, T, H)

    return PieceFeatures(reader, run, int(described["width"]), half=features.mode == "frozen")
