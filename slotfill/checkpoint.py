"""Resumable training state, saved without pickle: tensors to safetensors, the rest to JSON.

    RUN_DIR/checkpoint/
        config.yaml         the resolved config of the run
        vocab.json          its vocabulary
        gazetteers/         its gazetteers, as in a model directory (read once, at the start of the run)
        state.safetensors   model, moving-average model, optimizer tensors, RNG states
        state.json          epoch and batch position, best dev score, early-stopping count, optimizer
                            hyper-parameters, scheduler position, the epoch log so far

The directory is replaced as a whole (slotfill.files.replace_dir): a kill leaves the previous
checkpoint or the new one, never a mix.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from slotfill import __version__
from slotfill.config import Config, load_config
from slotfill.errors import ConfigError, ModelError
from slotfill.files import writing_dir
from slotfill.gazetteer import GazetteerSet
from slotfill.gazetteer_sources import load_gazetteers, save_gazetteers
from slotfill.vocab import Vocab

CHECKPOINT_SUBDIR = "checkpoint"
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
    return {key[len(prefix) :]: value for key, value in tensors.items() if key.startswith(prefix)}


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
    tensors = {f"model.{k}": v for k, v in model.items()}
    tensors.update({f"averaged.{k}": v for k, v in (averaged or {}).items()})
    tensors.update(_optimizer_tensors(optimizer))
    tensors.update({f"rng.{k}": v for k, v in rng.items()})
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    with writing_dir(run_dir / CHECKPOINT_SUBDIR) as staged:
        (staged / "config.yaml").write_text(config.to_yaml(), encoding="utf-8")
        vocab.save(staged / "vocab.json")
        save_gazetteers(staged, gazetteers)
        save_file(tensors, str(staged / "state.safetensors"), metadata={"checkpoint_version": str(CHECKPOINT_VERSION)})
        payload = {
            "checkpoint_version": CHECKPOINT_VERSION,
            "slotfill_version": __version__,
            "progress": asdict(progress),
            "optimizer_groups": optimizer["param_groups"],
            "scheduler": scheduler,
        }
        (staged / "state.json").write_text(json.dumps(payload), encoding="utf-8")


def _checkpoint_dir(run_dir: Path) -> Path:
    directory = Path(run_dir) / CHECKPOINT_SUBDIR
    if not directory.is_dir():
        raise ModelError(f"{run_dir}: nothing to resume (no {CHECKPOINT_SUBDIR}/: the run finished or never started)")
    return directory


def checkpoint_config(run_dir: Path) -> Config:
    """The config of the run to resume, without reading its tensors."""
    directory = _checkpoint_dir(run_dir)
    try:
        return load_config(directory / "config.yaml")
    except ConfigError as error:
        raise ModelError(f"{directory}: damaged checkpoint ({error})") from None


def load_checkpoint(run_dir: Path) -> Checkpoint:
    directory = _checkpoint_dir(run_dir)
    config = checkpoint_config(run_dir)
    try:
        vocab = Vocab.load(directory / "vocab.json")
        gazetteers = load_gazetteers(directory, list(config.gazetteers))
        payload = json.loads((directory / "state.json").read_text(encoding="utf-8"))
        tensors = load_file(str(directory / "state.safetensors"))
    except (OSError, UnicodeDecodeError, ValueError, SafetensorError) as error:
        raise ModelError(f"{directory}: damaged checkpoint ({error})") from None
    if payload.get("checkpoint_version") != CHECKPOINT_VERSION:
        raise ModelError(f"{directory}: checkpoint version {payload.get('checkpoint_version')}, expected {CHECKPOINT_VERSION}")
    return Checkpoint(config, vocab, gazetteers, Progress(**payload["progress"]), tensors, payload["optimizer_groups"], payload["scheduler"])


def remove_checkpoint(run_dir: Path) -> None:
    shutil.rmtree(Path(run_dir) / CHECKPOINT_SUBDIR, ignore_errors=True)
