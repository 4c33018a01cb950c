"""Training: Adam, gradient clipping, dev evaluation every epoch, early stopping on the dev score `training.monitor` names.

The best model is saved (atomically) to RUN_DIR/model each time that score improves, and a
resumable checkpoint to RUN_DIR/checkpoint at the end of every epoch. When `stop` is set (the CLI
sets it on SIGINT or SIGTERM) the current step finishes, a checkpoint is saved and
TrainingInterrupted is raised; `resume_training` continues from the checkpoint and ends exactly as
an uninterrupted run with the same seed would. Progress is reported through an observer; this
module never prints.

A run is a few steps: `build_run` (or `restore_run` from a checkpoint; slotfill.training.run_state)
builds a `TrainingRun`; `train_while_improving` yields each epoch (`_train_epoch` runs its batches,
`_scored_epoch` scores it on dev); `_run_epochs` saves the best model and the log, reports and
checkpoints each; `_finish` calibrates and scores the best model on test and writes its metrics.

A run directory is written under a lock (a second run into it stops at once with OutputError) and
slotfill never deletes a file it did not write: a directory that already holds a run is refused
unless it is an interrupted run of the same config (which then resumes) or `overwrite` is given.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from slotfill.config import Config
from slotfill.errors import ConfigError, DataError, SlotfillError
from slotfill.evaluation.evaluate import evaluate, fit_temperature
from slotfill.evaluation.out_of_scope import fit_rejection
from slotfill.files import atomic_write_text, locked_dir
from slotfill.layout import RUN_LOCK, TRAIN_LOG
from slotfill.nn.batching import EncodedCorpus, LengthBucketSampler
from slotfill.nn.tagger import TorchDecoder
from slotfill.parallel.world import ProcessGroup, World, any_rank, broadcast_from_main
from slotfill.store.calibration import write_index
from slotfill.store.checkpoint import checkpoint_config, load_checkpoint, remove_checkpoint
from slotfill.store.model_dir import load_model, read_rejection, save_model, write_calibration, write_metrics
from slotfill.training.events import EpochSummary, Silent, TrainingInterrupted, TrainingObserver, TrainResult
from slotfill.training.run_dir import earlier_run, is_interrupted_run_of, prepare_output
from slotfill.training.run_state import TrainingRun, build_run, restore_run, run_device, save_run_checkpoint
from slotfill.training.splits import model_view

log = logging.getLogger(__name__)


def _train_epoch(
    run: TrainingRun, epoch: int, observer: TrainingObserver, stop: threading.Event | None, clock: _Clock
) -> int:
    """Run the rest of `epoch`'s batches; returns how many batches the epoch has. On `stop`,
    checkpoints and raises TrainingInterrupted."""
    epoch_generator = run.generator.get_state()  # the epoch's batch order is drawn from this
    examples = run.epoch_examples(epoch)
    corpus = run.encode(examples, training=True)
    batches = list(LengthBucketSampler(corpus.lengths(), run.config.training.batch_size, run.generator))
    progress, settings = run.progress, run.config.training
    observer.epoch_started(epoch, len(batches), progress.batches_done)
    run.model.tagger.train()
    # not a DataLoader: each of its iterators draws a seed from the global RNG, which would
    # make a resumed run differ from an uninterrupted one (and no worker processes are needed)
    for indices in batches[progress.batches_done :]:
        run.optimization.optimizer.zero_grad(set_to_none=True)
        loss = _batch_loss(run, corpus, indices)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(run.model.tagger.parameters(), settings.grad_clip)
        run.optimization.optimizer.step()
        run.optimization.schedule.step()
        if run.optimization.averaged is not None:
            run.optimization.averaged.update_parameters(run.model.tagger)
        progress.running_loss += loss.item()
        progress.batches_done += 1
        observer.batch_done(loss.item())
        if any_rank(run.world, stop is not None and stop.is_set(), run.device):  # all ranks stop after one step
            progress.seconds = clock.total()
            save_run_checkpoint(run, epoch_generator)
            how = f"`slotfill train --resume {run.output_dir}`"
            if run.world.distributed:
                how = f"{how} under torchrun with {run.world.size} processes"
            raise TrainingInterrupted(
                f"training stopped at epoch {epoch}, batch {progress.batches_done} of {len(batches)}; "
                f"checkpoint saved: resume with {how}"
            )
    return len(batches)


def _batch_loss(run: TrainingRun, corpus: EncodedCorpus, indices: list[int]) -> torch.Tensor:
    """The loss of one batch; under torchrun, of this rank's contiguous share of the global batch,
    scaled so that DistributedDataParallel's average of the ranks' gradients is the gradient of the
    whole batch's mean loss (the same learning rate and batch size mean the same as in one process)."""
    if run.trainer is None:
        return run.model.tagger.loss(corpus.collate([corpus[i] for i in indices]).to(run.device))
    share = [indices[i] for i in run.world.shard(len(indices))]
    weight = 1.0 if share else 0.0  # fewer sentences than ranks: a rank with none still joins the all-reduce
    batch = corpus.collate([corpus[i] for i in share or indices[:1]]).to(run.device)
    return run.trainer(batch, len(indices) / run.world.size) * weight


def _monitored(dev: dict[str, Any], monitor: str) -> list[float]:
    """The dev score the best epoch has the highest of (compared as a list: ties go to the next)."""
    if monitor == "loss":
        return [-dev["loss"]]
    if monitor == "slot_f1":
        return [dev["slot_f1"], dev.get("intent_accuracy", 0.0)]
    if monitor not in dev:
        raise ConfigError(f"training.monitor: {monitor} is not measured on dev (the model has no intents)")
    return [dev[monitor], dev["slot_f1"]]


def _dev_loss(run: TrainingRun) -> float:
    """The training loss on dev, in eval mode, averaged over its sentences (those whose every tag
    and intent the model knows: a label train never shows has no loss to measure)."""
    assert run.data.dev is not None
    known = [
        e
        for e in model_view(run.data.dev, "dev")
        if all(t in run.lists.vocab.tags for t in e.tags) and (e.intent is None or e.intent in run.lists.vocab.intents)
    ]
    if not known:
        raise DataError("training.monitor: loss: no dev sentence has only labels the training set has")
    corpus = run.encode(known)
    tagger, total = run.kept, 0.0
    was_training = tagger.training
    tagger.eval()
    try:
        with torch.no_grad():
            for indices in LengthBucketSampler(corpus.lengths(), run.config.training.eval_batch_size):
                batch = corpus.collate([corpus[i] for i in indices]).to(run.device)
                total += tagger.loss(batch).item() * len(indices)
    finally:
        tagger.train(was_training)
    return total / len(known)


def _scored_epoch(run: TrainingRun, epoch: int, num_batches: int, started: float, clock: _Clock) -> EpochSummary:
    """Score the epoch's weights on dev and record it in the run's progress (the best so far, the
    epochs since it improved, the log line); saving is the caller's."""
    progress, settings = run.progress, run.config.training
    dev = None
    if run.data.dev is not None:
        metrics = evaluate(
            TorchDecoder(run.kept, run.device, transformer_features=run.model.transformer_features),
            run.lists.vocab, run.data.dev, settings.eval_batch_size, gazetteers=run.lists.gazetteers,
        ).metrics  # fmt: skip
        dev = {k: v for k, v in metrics.items() if k != "per_slot"}
        if settings.monitor == "loss":
            dev["loss"] = _dev_loss(run)
        key = _monitored(dev, settings.monitor)
    else:
        key = [float(epoch), 0.0]  # no dev split: keep the latest epoch
    improved = progress.best_key is None or key > progress.best_key
    if improved:
        progress.best_key, progress.best_epoch, progress.best_dev, progress.stale = key, epoch, dev, 0
    else:
        progress.stale += 1
    train_loss = progress.running_loss / max(1, num_batches)
    summary = EpochSummary(epoch, train_loss, dev, time.perf_counter() - started, improved)
    progress.log_lines.append(
        json.dumps({"epoch": epoch, "train_loss": train_loss, "dev": dev, "seconds": summary.seconds})
    )
    progress.epoch, progress.batches_done, progress.running_loss = epoch, 0, 0.0
    progress.seconds = clock.total()
    return summary


def _save_epoch(run: TrainingRun, summary: EpochSummary) -> None:
    """The best model so far, where this epoch improved it, and the training log (rank 0 writes:
    every rank has the same weights and dev scores)."""
    if not run.world.is_main:
        return
    if summary.improved:
        features = run.model.transformer_features
        transformer = features.directory if features is not None else None
        metrics = {"best_epoch": summary.epoch, "dev": summary.dev}
        save_model(run.model_dir, run.config, run.lists.vocab, run.lists.gazetteers, run.kept, metrics, transformer)
    atomic_write_text(run.output_dir / TRAIN_LOG, "\n".join(run.progress.log_lines) + "\n")


def _finish(run: TrainingRun, history: list[EpochSummary], seconds: float) -> TrainResult:
    """Calibrate the best epoch's weights, as saved, on dev; score them on test; write the metrics
    and the calibration; drop the checkpoint. Under torchrun rank 0 does it and tells the others."""
    outcome = _finish_main(run, seconds) if run.world.is_main else None
    test = broadcast_from_main(run.world, outcome)  # rank 0's test metrics, on every rank
    progress = run.progress
    return TrainResult(run.model_dir, progress.best_epoch, progress.epoch, seconds, progress.best_dev, test, history)


def _finish_main(run: TrainingRun, seconds: float) -> dict[str, Any] | None:
    """What _finish does on rank 0; returns the test metrics."""
    progress, settings = run.progress, run.config.training
    loaded = load_model(run.model_dir, run.device)
    if loaded.transformer_features is not None:  # the dev sentences are tagged once per temperature: encoded once
        loaded.transformer_features.cache = {}
    best = loaded.decoder
    calibration: dict[str, Any] = {"temperature": 1.0}
    if run.data.dev is not None:
        calibration = fit_temperature(
            best, run.lists.vocab, run.data.dev, settings.eval_batch_size, gazetteers=run.lists.gazetteers
        )
        if best.has_intent:  # the out-of-scope rejection (docs/out-of-scope.md)
            calibration["out_of_scope"], rejection = fit_rejection(
                best, run.lists.vocab, run.data.dev, run.config.out_of_scope, settings.eval_batch_size,
                train=run.data.train, gazetteers=run.lists.gazetteers,
            )  # fmt: skip
            if rejection.index is not None:
                write_index(run.model_dir, rejection.index)
        write_calibration(run.model_dir, calibration)
    test = None
    if run.data.test is not None:
        label = run.config.out_of_scope.intent
        test = evaluate(
            best, run.lists.vocab, run.data.test, settings.eval_batch_size, gazetteers=run.lists.gazetteers,
            temperature=calibration["temperature"], rejection=read_rejection(run.model_dir, run.lists.vocab, label),
            out_of_scope=label,
        ).metrics  # fmt: skip
    metrics = {
        "best_epoch": progress.best_epoch,
        "epochs_run": progress.epoch,
        "train_seconds": round(seconds, 2),
        "dev": progress.best_dev,
        "calibration": calibration,
        "test": test,
        "world_size": run.world.size,
    }
    write_metrics(run.model_dir, metrics)
    remove_checkpoint(run.output_dir)
    return test


class _Clock:
    """Training seconds, counting those of the sessions before a resume."""

    def __init__(self, before: float) -> None:
        self.before, self.start = before, time.perf_counter()

    def total(self) -> float:
        return self.before + time.perf_counter() - self.start


def train_while_improving(
    run: TrainingRun, observer: TrainingObserver, stop: threading.Event | None, clock: _Clock
) -> Iterator[EpochSummary]:
    """Train epoch after epoch, each scored on dev, until the last epoch or until dev has not
    improved for `training.patience` epochs; yields each epoch's summary (spaCy's shape: the caller
    logs and saves). On `stop`, checkpoints and raises TrainingInterrupted (slotfill.training.events)."""
    for epoch in range(run.progress.epoch + 1, run.config.training.epochs + 1):
        started = time.perf_counter()
        num_batches = _train_epoch(run, epoch, observer, stop, clock)
        yield _scored_epoch(run, epoch, num_batches, started, clock)
        if _patience_spent(run):
            return


def _patience_spent(run: TrainingRun) -> bool:
    return run.progress.stale >= run.config.training.patience


def _run_epochs(run: TrainingRun, observer: TrainingObserver | None, stop: threading.Event | None) -> TrainResult:
    """The run's epochs: each saved (the best model, the log), reported, and checkpointed unless it
    was the last; then the best model calibrated and scored (`_finish`)."""
    observer = (observer if run.world.is_main else None) or Silent()  # one progress display: rank 0's
    clock = _Clock(run.progress.seconds)
    history: list[EpochSummary] = []
    for summary in train_while_improving(run, observer, stop, clock):
        _save_epoch(run, summary)
        history.append(summary)
        observer.epoch_done(summary)
        if not _patience_spent(run):
            save_run_checkpoint(run, run.generator.get_state())
    return _finish(run, history, clock.total())


def train(
    config: Config,
    output_dir: Path,
    observer: TrainingObserver | None = None,
    *,
    stop: threading.Event | None = None,
    overwrite: bool = False,
    world: World = World(),
    init_from: Path | None = None,
) -> TrainResult:
    """Train a tagger as `config` says; the best model goes to `output_dir/model`. With
    `init_from` (a model directory), the run starts from that model (slotfill.training.finetune).

    An `output_dir` holding an interrupted run of the same config resumes it; one holding any
    other run is refused (OutputError) unless `overwrite`, which replaces what that run wrote.
    With a `world` of several processes (torchrun), every rank calls this: rank 0 holds the lock
    and writes the run directory, and all ranks train one model with DistributedDataParallel."""
    output_dir = Path(output_dir)
    start = None
    if init_from is not None:
        from slotfill.training.finetune import start_from

        config, start = start_from(init_from, config)
    with ProcessGroup(world, run_device(config, world).type):
        # data, lists and model first: a bad config or data file is reported before any directory is touched
        resumable = is_interrupted_run_of(output_dir, config) and not overwrite
        run = None if resumable else build_run(config, output_dir, world=world, start=start)
        with locked_dir(output_dir, RUN_LOCK) if world.is_main else contextlib.nullcontext():
            decision: str | SlotfillError | None = None
            if world.is_main:
                try:
                    decision = prepare_output(output_dir, config, overwrite)
                except SlotfillError as error:
                    decision = error
            decision = broadcast_from_main(world, decision)  # the other ranks wait for rank 0's checks
            if isinstance(decision, SlotfillError):
                raise decision
            if decision == "resume":
                log.info("%s holds an interrupted run of this config: resuming it", output_dir)
                return _run_epochs(restore_run(load_checkpoint(output_dir), output_dir, world), observer, stop)
            run = run or build_run(config, output_dir, world=world, start=start)
            if world.is_main:
                for path in earlier_run(output_dir):  # only what slotfill wrote: prepare_output checked
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
            return _run_epochs(run, observer, stop)


def resume_training(
    output_dir: Path,
    observer: TrainingObserver | None = None,
    *,
    stop: threading.Event | None = None,
    world: World = World(),
) -> TrainResult:
    """Continue the interrupted run in `output_dir` from its checkpoint, with the run's own config
    (under torchrun, with as many processes as the run had)."""
    output_dir = Path(output_dir)
    config = checkpoint_config(output_dir)  # "nothing to resume" before the directory is locked (and so created)
    with ProcessGroup(world, run_device(config, world).type):
        with locked_dir(output_dir, RUN_LOCK) if world.is_main else contextlib.nullcontext():
            return _run_epochs(restore_run(load_checkpoint(output_dir), output_dir, world), observer, stop)
