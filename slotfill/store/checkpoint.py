"""Resumable training state, saved without pickle: tensors to safetensors, the rest to JSON.

    RUN_DIR/checkpoint/
        config.yaml         the resolved config of the run
        vocab.json          its vocabulary
        gazetteers/         its gazetteers, as in a model directory (read once, at the start of the run)
        state.safetensors   model, moving-average model, optimizer tensors, RNG states
        state.json          epoch and batch position, best dev score, early-stopping count, optimizer
                            hyper-parameters, scheduler position, the epoch log so far, and the
                            sha256 of every other file here (checked before any is read)

The directory is replaced as a whole (slotfill.files.replace_dir): a kill leaves the previous
checkpoint or the new one, never a mix.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from slotfill import __version__
from slotfill.config import Config, load_config
from slotfill.errors import ConfigError, ModelError
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.gazetteer_sources import load_gazetteers, save_gazetteers
from slotfill.features.vocab import Vocab
from slotfill.files import atomic_write_bytes, writing_dir
from slotfill.layout import (
    CHECKPOINT_STATE,
    CHECKPOINT_SUBDIR,
    CHECKPOINT_TENSORS,
    CONFIG_FILE,
    GAZETTEER_SUBDIR,
    VOCAB_FILE,
)
from slotfill.nn.tagger import compact_state, current_names
from slotfill.store.model_files import check_digests, file_digests

CHECKPOINT_VERSION = 1


@dataclass
class Progress:
    """Where a run is: `epoch` epochs finished, `batches_done` batches into the next one."""

    epoch: int = 0
    batches_done: int = 0
    running_loss: float = 0.0
    best_key: list[float] | None = None
    best_epoch: int = 0
    best_dev: dict[str, Any] | None = None
    stale: int = 0
    seconds: float = 0.0
    log_lines: list[str] = field(default_factory=list)
    world_size: int = 1  # processes that trained it (torchrun); a resume needs as many


@dataclass
class Checkpoint:
    config: Config
    vocab: Vocab
    gazetteers: GazetteerSet
    progress: Progress
    tensors: dict[str, torch.Tensor]  # "model.*", "averaged.*", "optimizer.*", "rng.*"
    optimizer_groups: list[dict[str, Any]]
    scheduler: dict[str, Any]


def _optimizer_tensors(state: dict[str, Any]) -> dict[str, torch.Tensor]:
    return {
        f"optimizer.{index}.{name}": value
        for index, slots in state["state"].items()
        for name, value in slots.items()
        if isinstance(value, torch.Tensor)
    }


def optimizer_state(checkpoint: Checkpoint) -> dict[str, Any]:
    """The optimizer state dict rebuilt from the flat tensors."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in checkpoint.tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    return {"state": state, "param_groups": checkpoint.optimizer_groups}


def prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors under `prefix` (model., averaged.), named as the tagger names them now (a
    checkpoint of 0.4 holds the names of then: slotfill.nn.tagger.current_names)."""
    return current_names({key[len(prefix) :]: value for key, value in tensors.items() if key.startswith(prefix)})


def save_checkpoint(
    run_dir: Path,
    config: Config,
    vocab: Vocab,
    gazetteers: GazetteerSet,
    progress: Progress,
    *,
    model: dict[str, torch.Tensor],
    averaged: dict[str, torch.Tensor] | None,
    optimizer: dict[str, Any],
    scheduler: dict[str, Any],
    rng: dict[str, torch.Tensor],
) -> None:
    tensors = {f"model.{k}": v for k, v in compact_state(model).items()}
    tensors.update({f"averaged.{k}": v for k, v in compact_state(averaged or {}).items()})
    tensors.update(_optimizer_tensors(optimizer))
    tensors.update({f"rng.{k}": v for k, v in rng.items()})
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    with writing_dir(run_dir / CHECKPOINT_SUBDIR) as staged:
        (staged / CONFIG_FILE).write_text(config.to_yaml(), encoding="utf-8")
        vocab.save(staged / VOCAB_FILE)
        save_gazetteers(staged, gazetteers)
        meta = {"checkpoint_version": str(CHECKPOINT_VERSION)}
        atomic_write_bytes(staged / CHECKPOINT_TENSORS, save(tensors, metadata=meta))  # the umask's permissions
        payload = {
            "checkpoint_version": CHECKPOINT_VERSION,
            "slotfill_version": __version__,
            "progress": asdict(progress),
            "optimizer_groups": optimizer["param_groups"],
            "scheduler": scheduler,
            "sha256": file_digests(staged, (CONFIG_FILE, VOCAB_FILE, GAZETTEER_SUBDIR, CHECKPOINT_TENSORS)),
        }
        (staged / CHECKPOINT_STATE).write_text(json.dumps(payload), encoding="utf-8")


def _checkpoint_dir(run_dir: Path) -> Path:
    directory = Path(run_dir) / CHECKPOINT_SUBDIR
    if not directory.is_dir():
        raise ModelError(f"{run_dir}: nothing to resume (no {CHECKPOINT_SUBDIR}/: the run finished or never started)")
    return directory


def _read_state(directory: Path, only: Collection[str] | None = None) -> dict[str, Any]:
    """state.json, checked to be of this version, with the files it records the checksums of
    checked (`only` those, when given)."""
    try:
        payload = json.loads((directory / CHECKPOINT_STATE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ModelError(f"{directory / CHECKPOINT_STATE}: damaged checkpoint ({error})") from None
    version = payload.get("checkpoint_version") if isinstance(payload, dict) else None
    if version != CHECKPOINT_VERSION:
        raise ModelError(
            f"{directory}: checkpoint version {version} (slotfill {payload.get('slotfill_version', '?') if isinstance(payload, dict) else '?'}); "
            f"this slotfill {__version__} resumes version {CHECKPOINT_VERSION} only"
        )
    state = directory / CHECKPOINT_STATE
    check_digests(directory, payload.get("sha256"), state, only=only)
    return payload


def _read_config(directory: Path) -> Config:
    try:
        return load_config(directory / CONFIG_FILE, relative_to_file=False)
    except ConfigError as error:
        raise ModelError(f"{directory}: damaged checkpoint ({error})") from None


def checkpoint_config(run_dir: Path) -> Config:
    """The config of the run to resume, without reading (or checking) its tensors."""
    directory = _checkpoint_dir(run_dir)
    _read_state(directory, only=(CONFIG_FILE,))
    return _read_config(directory)


def load_checkpoint(run_dir: Path) -> Checkpoint:
    """The checkpoint of `run_dir`; a missing, damaged or other-version one raises ModelError (one line)."""
    directory = _checkpoint_dir(run_dir)
    payload = _read_state(directory)
    config = _read_config(directory)
    try:
        vocab = Vocab.load(directory / VOCAB_FILE)
        gazetteers = load_gazetteers(directory, list(config.gazetteers))
        tensors = load_file(str(directory / CHECKPOINT_TENSORS))
        progress = Progress(**payload["progress"])
        groups, scheduler = payload["optimizer_groups"], payload["scheduler"]
    except (OSError, ValueError, SafetensorError, KeyError, TypeError) as error:
        raise ModelError(f"{directory}: damaged checkpoint ({type(error).__name__}: {error})") from None
    if not isinstance(groups, list) or not isinstance(scheduler, dict):
        raise ModelError(f"{directory}: damaged checkpoint (optimizer or scheduler state of the wrong type)")
    return Checkpoint(config, vocab, gazetteers, progress, tensors, groups, scheduler)


def remove_checkpoint(run_dir: Path) -> None:
    shutil.rmtree(Path(run_dir) / CHECKPOINT_SUBDIR, ignore_errors=True)
