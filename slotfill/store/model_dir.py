"""A saved model is a directory, written as a whole and swapped in atomically:

    config.yaml        the fully resolved training config
    vocab.json         words, characters, tags, intents
    model.safetensors  weights only (loading never unpickles); metadata holds the format version
                       and the sha256 of config.yaml, vocab.json and gazetteers/ (checked on load)
    metrics.json       dev (and test) metrics of these weights
    gazetteers/        the lists the model reads as features (format 2, when the config has any):
                       NAME.txt, one entry a line, and index.json with their order and checksums
    encoder/           the transformer it reads, when the config has model.transformer:
                       config.json, model.safetensors, tokenizer.json (a Hugging Face model folder;
                       a fine-tuned transformer's trained weights, which model.safetensors leaves out)

Format 1 (slotfill 0.1) had no gazetteers; it still loads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from slotfill import __version__
from slotfill.config import Config
from slotfill.decoding.types import Rejection
from slotfill.errors import ModelError
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.gazetteer_sources import save_gazetteers
from slotfill.features.vocab import Vocab
from slotfill.files import atomic_write_bytes, atomic_write_text, writing_dir
from slotfill.layout import (
    CONFIG_FILE,
    GAZETTEER_SUBDIR,
    METRICS_FILE,
    MODEL_SUBDIR,
    TRANSFORMER_SUBDIR,
    VOCAB_FILE,
    WEIGHTS_FILE,
)
from slotfill.nn.tagger import Tagger, TorchDecoder, build_tagger, compact_state, current_names, without_transformer
from slotfill.nn.transformer import TransformerFeatures, copy_transformer, load_transformer_features
from slotfill.nn.uninitialised import uninitialised
from slotfill.store.calibration import read_rejection, read_temperature, write_calibration  # noqa: F401 (re-exported)
from slotfill.store.model_files import check_digests, encode_digests, file_digests, read_metrics, read_model_files

FORMAT_VERSION = 2
# the files whose sha256 the weights' metadata records
REBUILT_FROM = (CONFIG_FILE, VOCAB_FILE, GAZETTEER_SUBDIR, TRANSFORMER_SUBDIR)
READABLE_VERSIONS = ("1", "2")


@dataclass
class LoadedModel:
    config: Config
    vocab: Vocab
    tagger: Tagger  # in eval mode, on `device`
    metrics: dict[str, Any]
    device: torch.device
    gazetteers: GazetteerSet
    temperature: float = 1.0  # divides the scores of the confidences (calibration.json, fitted on dev)
    threads: int | None = None  # torch's CPU threads while tagging (None: torch's default)
    transformer_features: TransformerFeatures | None = None  # its transformer (encoder/), where it has one
    rejection: Rejection = Rejection()  # when an utterance is out of its scope (calibration.json, fitted on dev)

    @property
    def parameters(self) -> int:
        return sum(p.numel() for p in self.tagger.parameters())

    @property
    def decoder(self) -> TorchDecoder:
        return TorchDecoder(self.tagger, self.device, self.threads, self.transformer_features)


def save_model(
    directory: Path,
    config: Config,
    vocab: Vocab,
    gazetteers: GazetteerSet,
    tagger: Tagger,
    metrics: dict[str, Any],
    transformer: Path | None = None,
) -> None:
    """Write the model directory in a staging directory beside it, then swap it in; `transformer`:
    the folder of the transformer it reads, copied in whole (a model loads offline) with,
    for a fine-tuned one, the tagger's trained weights in place of the folder's."""
    with writing_dir(directory) as staged:
        (staged / CONFIG_FILE).write_text(config.to_yaml(), encoding="utf-8")
        vocab.save(staged / VOCAB_FILE)
        save_gazetteers(staged, gazetteers)
        if transformer is not None:
            copy_transformer(transformer, staged / TRANSFORMER_SUBDIR, tagger.transformer)
        state = {name: t.detach().cpu().contiguous() for name, t in without_transformer(tagger.state_dict()).items()}
        state = compact_state(state)
        meta = {
            "format_version": str(FORMAT_VERSION),
            "slotfill_version": __version__,
            "sha256": encode_digests(file_digests(staged, REBUILT_FROM)),
        }
        # written with the umask's permissions (safetensors' own save_file makes the file 0600)
        atomic_write_bytes(staged / WEIGHTS_FILE, save(state, metadata=meta))
        write_metrics(staged, metrics)


def write_metrics(directory: Path, metrics: dict[str, Any]) -> None:
    payload = {"format_version": FORMAT_VERSION, "slotfill_version": __version__, **metrics}
    atomic_write_text(directory / METRICS_FILE, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def resolve_model_dir(path: Path) -> Path:
    """A model directory, or a run directory that holds one in `model/`."""
    path = Path(path)
    if not path.exists():
        raise ModelError(f"{path}: no such model directory")
    if not (path / WEIGHTS_FILE).exists() and (path / MODEL_SUBDIR / WEIGHTS_FILE).exists():
        return path / MODEL_SUBDIR
    return path


def _check_shapes(expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]], where: Path) -> None:
    """The saved tensors' names and shapes must be the model's, before anything is allocated."""
    missing, unexpected = sorted(expected.keys() - found.keys()), sorted(found.keys() - expected.keys())
    if missing or unexpected:
        what = f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}"
        count = len(missing) + len(unexpected)
        raise ModelError(
            f"{where}: weights do not fit the config and vocabulary ({what}{f' and {count - 1} more' if count > 1 else ''})"
        )
    for name, shape in expected.items():
        if found[name] != shape:
            raise ModelError(
                f"{where}: weights do not fit the config and vocabulary ({name} is {list(found[name])} in the file, "
                f"{list(shape)} for the config)"
            )


def _read_weights(path: Path) -> tuple[dict[str, str], dict[str, tuple[int, ...]]]:
    """The metadata and the tensor shapes of a safetensors file, from its header alone."""
    try:
        with safe_open(str(path), framework="pt") as weights:
            return weights.metadata() or {}, {
                name: tuple(weights.get_slice(name).get_shape()) for name in weights.keys()
            }
    except (SafetensorError, OSError, ValueError) as error:
        raise ModelError(f"{path}: damaged weights ({error})") from None


def load_model(path: Path, device: torch.device, threads: int | None = None) -> LoadedModel:
    """Rebuild the tagger from its saved config and vocabulary, then load the weights.

    The tagger is first built on the meta device (no memory) and its shapes checked against the
    weights file's header, so a damaged config that asks for a huge model fails before allocating;
    neither build draws initial weights (slotfill.nn.uninitialised): the file's are loaded next."""
    directory = resolve_model_dir(path)
    for name in (CONFIG_FILE, VOCAB_FILE, WEIGHTS_FILE):
        if not (directory / name).is_file():
            raise ModelError(f"{directory}: not a slotfill model directory ({name} is missing)")
    meta, shapes = _read_weights(directory / WEIGHTS_FILE)
    shapes = current_names(shapes)  # weights saved by 0.4 have the names of then
    version = meta.get("format_version")
    if version not in READABLE_VERSIONS:
        raise ModelError(
            f"{directory / WEIGHTS_FILE}: model format version {version} (slotfill {meta.get('slotfill_version', '?')}); "
            f"this slotfill {__version__} reads versions {', '.join(READABLE_VERSIONS)}"
        )
    check_digests(directory, meta.get("sha256"), directory / WEIGHTS_FILE)
    config, vocab, gazetteers = read_model_files(directory)
    transformer_features = None
    features = config.model.transformer
    if features is not None:  # a fine-tuned transformer is read as a frozen one is: its trained weights are in encoder/
        transformer_features = load_transformer_features(
            directory / TRANSFORMER_SUBDIR,
            features.pooling,
            device,
            half=features.mode == "frozen",
            layers=features.layers,
        )
    transformer_size = transformer_features.size if transformer_features is not None else 0
    with torch.device("meta"), uninitialised():
        planned = build_tagger(config.model, vocab, gazetteers.num_features, transformer_size)
    _check_shapes({name: tuple(t.shape) for name, t in planned.state_dict().items()}, shapes, directory / WEIGHTS_FILE)
    try:
        state = current_names(load_file(str(directory / WEIGHTS_FILE), device="cpu"))
    except (SafetensorError, OSError, ValueError) as error:
        raise ModelError(f"{directory / WEIGHTS_FILE}: damaged weights ({error})") from None
    with uninitialised():
        tagger = build_tagger(config.model, vocab, gazetteers.num_features, transformer_size)
    tagger.load_state_dict(state, strict=True)  # names and shapes were checked above
    tagger.to(device).eval()
    metrics, temperature = read_metrics(directory), read_temperature(directory)
    rejection = read_rejection(directory, vocab, config.out_of_scope.intent)
    return LoadedModel(
        config, vocab, tagger, metrics, device, gazetteers, temperature, threads, transformer_features, rejection
    )
