"""A saved model is a directory, written as a whole and swapped in atomically:

    config.yaml        the fully resolved training config
    vocab.json         words, characters, tags, intents
    model.safetensors  weights only (loading never unpickles); metadata holds the format version
    metrics.json       dev (and test) metrics of these weights
    gazetteers/        the lists the model reads as features (format 2, when the config has any):
                       NAME.txt, one entry a line, and index.json with their order and checksums

Format 1 (slotfill 0.1) had no gazetteers; it still loads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from slotfill import __version__
from slotfill.config import Config, load_config
from slotfill.errors import ConfigError, ModelError
from slotfill.files import atomic_write_text, writing_dir
from slotfill.gazetteer import GazetteerSet
from slotfill.gazetteer_sources import load_gazetteers, save_gazetteers
from slotfill.model import Tagger, build_tagger
from slotfill.vocab import Vocab

FORMAT_VERSION = 2
READABLE_VERSIONS = ("1", "2")
CONFIG, VOCAB, WEIGHTS, METRICS = "config.yaml", "vocab.json", "model.safetensors", "metrics.json"


@dataclass
class LoadedModel:
    config: Config
    vocab: Vocab
    tagger: Tagger  # in eval mode, on `device`
    metrics: dict[str, Any]
    device: torch.device
    gazetteers: GazetteerSet


def save_model(
    directory: Path,
    config: Config,
    vocab: Vocab,
    gazetteers: GazetteerSet,
    tagger: Tagger,
    metrics: dict[str, Any],
) -> None:
    """Write the model directory in a staging directory beside it, then swap it in."""
    with writing_dir(directory) as staged:
        (staged / CONFIG).write_text(config.to_yaml(), encoding="utf-8")
        vocab.save(staged / VOCAB)
        save_gazetteers(staged, gazetteers)
        state = {name: tensor.detach().cpu().contiguous() for name, tensor in tagger.state_dict().items()}
        meta = {"format_version": str(FORMAT_VERSION), "slotfill_version": __version__}
        save_file(state, str(staged / WEIGHTS), metadata=meta)
        write_metrics(staged, metrics)


def write_metrics(directory: Path, metrics: dict[str, Any]) -> None:
    payload = {"format_version": FORMAT_VERSION, "slotfill_version": __version__, **metrics}
    atomic_write_text(directory / METRICS, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def resolve_model_dir(path: Path) -> Path:
    """A model directory, or a run directory that holds one in `model/`."""
    path = Path(path)
    if not path.exists():
        raise ModelError(f"{path}: no such model directory")
    if not (path / WEIGHTS).exists() and (path / "model" / WEIGHTS).exists():
        return path / "model"
    return path


def load_model(path: Path, device: torch.device) -> LoadedModel:
    """Rebuild the tagger from its saved config and vocabulary, then load the weights."""
    directory = resolve_model_dir(path)
    for name in (CONFIG, VOCAB, WEIGHTS):
        if not (directory / name).is_file():
            raise ModelError(f"{directory}: not a slotfill model directory ({name} is missing)")
    try:
        config = load_config(directory / CONFIG)
    except ConfigError as error:
        raise ModelError(f"{directory / CONFIG}: damaged config ({error})") from None
    vocab = Vocab.load(directory / VOCAB)
    try:
        with safe_open(str(directory / WEIGHTS), framework="pt") as weights:
            meta = weights.metadata() or {}
        state = load_file(str(directory / WEIGHTS), device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        raise ModelError(f"{directory / WEIGHTS}: damaged weights ({error})") from None
    version = meta.get("format_version")
    if version not in READABLE_VERSIONS:
        raise ModelError(
            f"{directory / WEIGHTS}: model format version {version} (slotfill {meta.get('slotfill_version', '?')}); "
            f"this slotfill {__version__} reads versions {', '.join(READABLE_VERSIONS)}"
        )
    gazetteers = load_gazetteers(directory, list(config.gazetteers))
    tagger = build_tagger(config.model, vocab, gazetteers.num_features)
    try:
        tagger.load_state_dict(state, strict=True)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise ModelError(f"{directory / WEIGHTS}: weights do not fit the config and vocabulary ({first})") from None
    metrics: dict[str, Any] = {}
    if (directory / METRICS).is_file():
        try:
            metrics = json.loads((directory / METRICS).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            metrics = {}
    tagger.to(device).eval()
    return LoadedModel(config, vocab, tagger, metrics, device, gazetteers)
