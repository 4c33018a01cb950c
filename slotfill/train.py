"""Training: Adam, gradient clipping, dev evaluation every epoch, early stopping on dev slot F1.

The best model is saved (atomically) each time dev slot F1 improves, so a run that dies keeps
its best model. Progress is reported through an observer; this module never prints.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch.utils.data import DataLoader

from slotfill.batching import LengthBucketSampler, encode
from slotfill.config import Config
from slotfill.data import Example, read_split
from slotfill.device import resolve_device
from slotfill.evaluate import evaluate_examples
from slotfill.files import atomic_write_text
from slotfill.model import build_tagger
from slotfill.model_dir import save_model, write_metrics
from slotfill.vocab import Vocab

MODEL_SUBDIR = "model"


@dataclass
class EpochSummary:
    epoch: int
    train_loss: float
    dev: dict[str, Any] | None  # metrics without per_slot
    seconds: float
    improved: bool


class TrainingObserver(Protocol):
    def epoch_started(self, epoch: int, num_batches: int) -> None: ...
    def batch_done(self, loss: float) -> None: ...
    def epoch_done(self, summary: EpochSummary) -> None: ...


class _Silent:
    def epoch_started(self, epoch: int, num_batches: int) -> None:
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

    def read(name: str | None) -> list[Example] | None:
        if name is None:
            return None
        return read_split(data.split_path(name), data.format, strict_bio=data.strict_bio)

    train = read(data.train)
    assert train is not None
    return Splits(train, read(data.dev), read(data.test))


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if k != "per_slot"}


def train(config: Config, output_dir: Path, observer: TrainingObserver | None = None) -> TrainResult:
    """Train a tagger as `config` says; the best model goes to `output_dir/model`."""
    observer = observer or _Silent()
    device = resolve_device(config.device)
    splits = read_splits(config)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    model_dir = output_dir / MODEL_SUBDIR
    settings = config.training

    torch.manual_seed(config.seed)
    vocab = Vocab.build(splits.train, min_freq=config.vocab.min_freq)
    tagger = build_tagger(config.model, vocab).to(device)
    optimizer = torch.optim.Adam(tagger.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    corpus = encode([e.tokens for e in splits.train], vocab, splits.train)
    sampler = LengthBucketSampler(corpus.lengths(), settings.batch_size, torch.Generator().manual_seed(config.seed))
    loader = DataLoader(corpus, batch_sampler=sampler, collate_fn=corpus.collate)

    started = time.perf_counter()
    history: list[EpochSummary] = []
    best_key: tuple[float, float] | None = None
    best_state: dict[str, torch.Tensor] | None = None
    best_epoch, best_dev, stale = 0, None, 0
    log_lines = []
    for epoch in range(1, settings.epochs + 1):
        epoch_start = time.perf_counter()
        observer.epoch_started(epoch, len(sampler))
        tagger.train()
        total_loss = 0.0
        for batch in loader:
            batch = batch.to(device)
            optimizer.zero_grad(set_to_none=True)
            loss = tagger.loss(batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(tagger.parameters(), settings.grad_clip)
            optimizer.step()
            total_loss += loss.item()
            observer.batch_done(loss.item())
        dev = None
        if splits.dev is not None:
            dev = _headline(evaluate_examples(tagger, vocab, splits.dev, device, settings.eval_batch_size))
            key = (dev["slot_f1"], dev.get("intent_accuracy", 0.0))
        else:
            key = (float(epoch), 0.0)  # no dev split: keep the latest epoch
        improved = best_key is None or key > best_key
        if improved:
            best_key, best_epoch, best_dev, stale = key, epoch, dev, 0
            best_state = copy.deepcopy(tagger.state_dict())
            save_model(model_dir, config, vocab, tagger, {"best_epoch": epoch, "dev": dev})
        else:
            stale += 1
        summary = EpochSummary(epoch, total_loss / max(1, len(sampler)), dev, time.perf_counter() - epoch_start, improved)
        history.append(summary)
        log_lines.append(json.dumps({"epoch": epoch, "train_loss": summary.train_loss, "dev": dev, "seconds": summary.seconds}))
        atomic_write_text(output_dir / "train_log.jsonl", "\n".join(log_lines) + "\n")
        observer.epoch_done(summary)
        if stale >= settings.patience:
            break
    seconds = time.perf_counter() - started

    assert best_state is not None
    tagger.load_state_dict(best_state)
    test = None
    if splits.test is not None:
        test = evaluate_examples(tagger, vocab, splits.test, device, settings.eval_batch_size)
    metrics = {"best_epoch": best_epoch, "epochs_run": len(history), "train_seconds": round(seconds, 2), "dev": best_dev, "test": test}
    write_metrics(model_dir, metrics)
    return TrainResult(model_dir, best_epoch, len(history), seconds, best_dev, test, history)
