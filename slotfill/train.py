"""Training: Adam, gradient clipping, dev evaluation every epoch, early stopping on dev slot F1.

The best model is saved (atomically) to RUN_DIR/model each time dev slot F1 improves, and a
resumable checkpoint to RUN_DIR/checkpoint at the end of every epoch. When `stop` is set (the CLI
sets it on SIGINT or SIGTERM) the current step finishes, a checkpoint is saved and
TrainingInterrupted is raised; `resume` continues from the checkpoint and ends exactly as an
uninterrupted run with the same seed would. Progress is reported through an observer; this module
never prints.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from slotfill.batching import LengthBucketSampler, encode
from slotfill.checkpoint import Checkpoint, Progress, load_checkpoint, optimizer_state, prefixed, remove_checkpoint, save_checkpoint
from slotfill.config import Config
from slotfill.data import Example, read_split
from slotfill.device import resolve_device
from slotfill.errors import DataError, SlotfillError
from slotfill.evaluate import evaluate_examples
from slotfill.files import atomic_write_text
from slotfill.model import build_tagger
from slotfill.model_dir import load_model, save_model, write_metrics
from slotfill.vocab import Vocab

MODEL_SUBDIR = "model"


class TrainingInterrupted(SlotfillError):
    """Training stopped on request after saving a checkpoint; the message says how to resume."""


@dataclass
class EpochSummary:
    epoch: int
    train_loss: float
    dev: dict[str, Any] | None  # metrics without per_slot
    seconds: float
    improved: bool


class TrainingObserver(Protocol):
    def epoch_started(self, epoch: int, num_batches: int, batches_done: int) -> None: ...
    def batch_done(self, loss: float) -> None: ...
    def epoch_done(self, summary: EpochSummary) -> None: ...


class _Silent:
    def epoch_started(self, epoch: int, num_batches: int, batches_done: int) -> None:
        pass

    def batch_done(self, loss: float) -> None:
        pass

    def epoch_done(self, summary: EpochSummary) -> None:
        pass


@dataclass
class TrainResult:
    model_dir: Path
    best_epoch: int
    epochs_run: int
    seconds: float
    dev: dict[str, Any] | None
    test: dict[str, Any] | None
    history: list[EpochSummary] = field(default_factory=list)


@dataclass
class Splits:
    train: list[Example]
    dev: list[Example] | None
    test: list[Example] | None


def read_splits(config: Config) -> Splits:
    data = config.data

    def read(key: str, name: str | None) -> list[Example] | None:
        if name is None:
            return None
        path = data.split_path(name)
        if not path.exists():
            raise DataError(f"data.{key}: {path}: no such file or directory")
        return read_split(path, data.format, strict_bio=data.strict_bio)

    train = read("train", data.train)
    assert train is not None
    return Splits(train, read("dev", data.dev), read("test", data.test))


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if k != "per_slot"}


def train(
    config: Config,
    output_dir: Path,
    observer: TrainingObserver | None = None,
    *,
    stop: threading.Event | None = None,
    resume: bool = False,
) -> TrainResult:
    """Train a tagger as `config` says; the best model goes to `output_dir/model`. With `resume`,
    `config` is ignored and the run continues from `output_dir/checkpoint`."""
    observer = observer or _Silent()
    output_dir = Path(output_dir)
    checkpoint: Checkpoint | None = load_checkpoint(output_dir) if resume else None
    if checkpoint is not None:
        config = checkpoint.config
    device = resolve_device(config.device)
    splits = read_splits(config)
    output_dir.mkdir(parents=True, exist_ok=True)
    model_dir = output_dir / MODEL_SUBDIR
    settings = config.training

    torch.manual_seed(config.seed)
    vocab = checkpoint.vocab if checkpoint is not None else Vocab.build(splits.train, min_freq=config.vocab.min_freq)
    tagger = build_tagger(config.model, vocab).to(device)
    optimizer = torch.optim.Adam(tagger.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    corpus = encode([e.tokens for e in splits.train], vocab, splits.train)
    generator = torch.Generator().manual_seed(config.seed)
    sampler = LengthBucketSampler(corpus.lengths(), settings.batch_size, generator)
    total_steps = settings.epochs * len(sampler)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, (lambda step: 1.0 - step / total_steps) if settings.lr_schedule == "linear" else (lambda step: 1.0)
    )
    # evaluated and saved: an exponential moving average of the weights, or the weights themselves
    averaged = None
    if settings.ema_decay > 0:
        averaged = AveragedModel(tagger, multi_avg_fn=get_ema_multi_avg_fn(settings.ema_decay), use_buffers=True)
    kept = averaged.module if averaged is not None else tagger

    progress = Progress()
    if checkpoint is not None:
        progress = checkpoint.progress
        tagger.load_state_dict(prefixed(checkpoint.tensors, "model."))
        if averaged is not None:
            averaged.load_state_dict(prefixed(checkpoint.tensors, "averaged."))
        optimizer.load_state_dict(optimizer_state(checkpoint))
        schedule.load_state_dict(checkpoint.scheduler)
        generator.set_state(checkpoint.tensors["rng.sampler"])
        torch.set_rng_state(checkpoint.tensors["rng.torch"])

    def checkpoint_now(epoch_start_generator: torch.Tensor) -> None:
        save_checkpoint(
            output_dir,
            config,
            vocab,
            progress,
            model=tagger.state_dict(),
            averaged=averaged.state_dict() if averaged is not None else None,
            optimizer=optimizer.state_dict(),
            scheduler=schedule.state_dict(),
            rng={"torch": torch.get_rng_state(), "sampler": epoch_start_generator},
        )

    session_start = time.perf_counter()
    seconds_before = progress.seconds
    history: list[EpochSummary] = []
    for epoch in range(progress.epoch + 1, settings.epochs + 1):
        epoch_start = time.perf_counter()
        epoch_generator = generator.get_state()  # the epoch's batch order is drawn from this
        batches = list(sampler)
        skip = progress.batches_done
        observer.epoch_started(epoch, len(batches), skip)
        tagger.train()
        # not a DataLoader: each of its iterators draws a seed from the global RNG, which would
        # make a resumed run differ from an uninterrupted one (and no worker processes are needed)
        for indices in batches[skip:]:
            batch = corpus.collate([corpus[i] for i in indices]).to(device)
            optimizer.zero_grad(set_to_none=True)
            loss = tagger.loss(batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(tagger.parameters(), settings.grad_clip)
            optimizer.step()
            schedule.step()
            if averaged is not None:
                averaged.update_parameters(tagger)
            progress.running_loss += loss.item()
            progress.batches_done += 1
            observer.batch_done(loss.item())
            if stop is not None and stop.is_set():
                progress.seconds = seconds_before + time.perf_counter() - session_start
                checkpoint_now(epoch_generator)
                raise TrainingInterrupted(
                    f"training stopped at epoch {epoch}, batch {progress.batches_done} of {len(batches)}; "
                    f"checkpoint saved: resume with `slotfill train --resume {output_dir}`"
                )

        dev = None
        if splits.dev is not None:
            dev = _headline(evaluate_examples(kept, vocab, splits.dev, device, settings.eval_batch_size))
            key = [dev["slot_f1"], dev.get("intent_accuracy", 0.0)]
        else:
            key = [float(epoch), 0.0]  # no dev split: keep the latest epoch
        improved = progress.best_key is None or key > progress.best_key
        if improved:
            progress.best_key, progress.best_epoch, progress.best_dev, progress.stale = key, epoch, dev, 0
            save_model(model_dir, config, vocab, kept, {"best_epoch": epoch, "dev": dev})
        else:
            progress.stale += 1
        train_loss = progress.running_loss / max(1, len(batches))
        summary = EpochSummary(epoch, train_loss, dev, time.perf_counter() - epoch_start, improved)
        history.append(summary)
        progress.log_lines.append(json.dumps({"epoch": epoch, "train_loss": train_loss, "dev": dev, "seconds": summary.seconds}))
        atomic_write_text(output_dir / "train_log.jsonl", "\n".join(progress.log_lines) + "\n")
        progress.epoch, progress.batches_done, progress.running_loss = epoch, 0, 0.0
        progress.seconds = seconds_before + time.perf_counter() - session_start
        observer.epoch_done(summary)
        if progress.stale >= settings.patience:
            break
        checkpoint_now(generator.get_state())
    seconds = seconds_before + time.perf_counter() - session_start

    best = load_model(model_dir, device).tagger  # the best epoch's weights, as saved
    test = None
    if splits.test is not None:
        test = evaluate_examples(best, vocab, splits.test, device, settings.eval_batch_size)
    metrics = {
        "best_epoch": progress.best_epoch,
        "epochs_run": progress.epoch,
        "train_seconds": round(seconds, 2),
        "dev": progress.best_dev,
        "test": test,
    }
    write_metrics(model_dir, metrics)
    remove_checkpoint(output_dir)
    return TrainResult(model_dir, progress.best_epoch, progress.epoch, seconds, progress.best_dev, test, history)
