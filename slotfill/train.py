"""Training: Adam, gradient clipping, dev evaluation every epoch, early stopping on dev slot F1.

The best model is saved (atomically) to RUN_DIR/model each time dev slot F1 improves, and a
resumable checkpoint to RUN_DIR/checkpoint at the end of every epoch. When `stop` is set (the CLI
sets it on SIGINT or SIGTERM) the current step finishes, a checkpoint is saved and
TrainingInterrupted is raised; `resume_training` continues from the checkpoint and ends exactly as
an uninterrupted run with the same seed would. Progress is reported through an observer; this
module never prints.

A run is a few steps: `_build` (or `_restore` from a checkpoint) builds a `_Run`; `_train_epoch`
runs one epoch's batches; `_end_epoch` evaluates on dev, keeps the best model, logs and
checkpoints; `_finish` scores the best model on test and writes its metrics.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from slotfill.augment import Augmentation, substitution_lists
from slotfill.batching import Batch, EncodedCorpus, LengthBucketSampler, encode
from slotfill.checkpoint import (
    Checkpoint,
    Progress,
    checkpoint_config,
    load_checkpoint,
    optimizer_state,
    prefixed,
    remove_checkpoint,
    save_checkpoint,
)
from slotfill.config import Config
from slotfill.data import Example, read_lookups
from slotfill.device import resolve_device
from slotfill.distributed import ProcessGroup, World, any_rank, broadcast_from_main
from slotfill.errors import ConfigError, DataError, OutputError, SlotfillError
from slotfill.evaluate import evaluate_examples, fit_temperature
from slotfill.files import atomic_write_text, locked_dir
from slotfill.gazetteer import GazetteerSet
from slotfill.gazetteer_sources import build_gazetteers
from slotfill.layout import (
    MODEL_SUBDIR,
    RUN_LOCK,
    TRAIN_LOG,
)
from slotfill.model import Tagger, TorchDecoder, build_tagger
from slotfill.model_dir import load_model, save_model, write_calibration, write_metrics
from slotfill.run_dir import earlier_run, is_interrupted_run_of, prepare_output
from slotfill.train_data import model_view, read_splits, substituted_tags, warn_about_tokenisation
from slotfill.training_events import EpochSummary, Silent, TrainingInterrupted, TrainingObserver, TrainResult
from slotfill.vocab import Vocab

log = logging.getLogger(__name__)


@dataclass
class _Run:
    """What one training run works with."""

    config: Config
    output_dir: Path
    device: torch.device
    train: list[Example]  # model view
    dev: list[Example] | None
    test: list[Example] | None
    vocab: Vocab
    gazetteers: GazetteerSet
    tagger: Tagger
    averaged: AveragedModel | None  # the exponential moving average that is evaluated and saved, if any
    optimizer: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.LambdaLR
    generator: torch.Generator  # draws each epoch's batch order
    augmentation: Augmentation | None
    progress: Progress = field(default_factory=Progress)
    world: World = field(default_factory=World)
    trainer: torch.nn.Module | None = None  # DistributedDataParallel over the loss, under torchrun

    @property
    def kept(self) -> Tagger:
        """The weights that are evaluated and saved."""
        return self.averaged.module if self.averaged is not None else self.tagger  # type: ignore[return-value]

    @property
    def model_dir(self) -> Path:
        return self.output_dir / MODEL_SUBDIR

    def batches_per_epoch(self) -> int:
        return -(-len(self.train) // self.config.training.batch_size)

    def epoch_examples(self, epoch: int) -> list[Example]:
        if self.augmentation is None:
            return self.train
        return self.augmentation.examples_for_epoch(self.train, epoch)


class _Loss(torch.nn.Module):
    """The tagger's training loss as a forward pass: what DistributedDataParallel wraps."""

    def __init__(self, tagger: Tagger) -> None:
        super().__init__()
        self.tagger = tagger

    def forward(self, batch: Batch, per_sentences: float) -> torch.Tensor:
        return self.tagger.loss(batch, per_sentences)


def _device(config: Config, world: World) -> torch.device:
    device = resolve_device(config.device)
    if world.distributed and device.type == "cuda":
        return torch.device("cuda", world.local_rank)  # one GPU per process
    return device


def _build(
    config: Config, output_dir: Path, vocab: Vocab | None, gazetteers: GazetteerSet | None, world: World = World()
) -> _Run:
    """A run at its start: data read, vocabulary and gazetteers built unless given, model and optimizer initialised.
    Under torchrun every rank builds the same model; DistributedDataParallel checks they agree."""
    device = _device(config, world)
    if config.training.monitor == "intent_accuracy" and not config.model.intent.enabled:
        raise ConfigError("training.monitor: intent_accuracy, but model.intent.enabled is false")
    splits = read_splits(config)
    if world.is_main:
        warn_about_tokenisation(config, splits.train)
    train_examples = model_view(splits.train, str(config.data.split_path(config.data.train)))
    if not train_examples:
        raise DataError(
            f"data.train: {config.data.split_path(config.data.train)}: no sentence has a word to learn from"
        )
    settings = config.training
    torch.manual_seed(config.seed)
    if vocab is None:
        vocab = Vocab.build(
            train_examples, min_freq=config.vocab.min_freq, extra_tags=substituted_tags(config, train_examples)
        )
    if gazetteers is None:
        lookups = read_lookups(config.data.split_path(config.data.train), config.data.format)
        gazetteers = build_gazetteers(config.gazetteers, train_examples, lookups)
    tagger = build_tagger(config.model, vocab, gazetteers.num_features).to(device)
    optimizer = torch.optim.Adam(tagger.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    total_steps = settings.epochs * -(-len(train_examples) // settings.batch_size)
    linear = settings.lr_schedule == "linear"
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, (lambda step: 1.0 - step / total_steps) if linear else (lambda step: 1.0)
    )
    averaged = None
    if settings.ema_decay > 0:
        averaged = AveragedModel(tagger, multi_avg_fn=get_ema_multi_avg_fn(settings.ema_decay), use_buffers=True)
    augmentation = None
    if settings.courtesy > 0 or (settings.substitution > 0 and substitution_lists(config.gazetteers)):
        augmentation = Augmentation(
            config.seed,
            substitution=settings.substitution,
            gazetteers=gazetteers,
            list_of_slot=substitution_lists(config.gazetteers),
            courtesy=settings.courtesy,
        )
    generator = torch.Generator().manual_seed(config.seed)  # the same batch order on every rank
    trainer = None
    if world.distributed:
        from torch.nn.parallel import DistributedDataParallel

        torch.manual_seed(config.seed + 7919 * world.rank)  # each rank its own dropout, reproducibly
        # buffers are derived from the tag names, the same on every rank: nothing to broadcast
        trainer = DistributedDataParallel(_Loss(tagger), broadcast_buffers=False)
    run = _Run(
        config, Path(output_dir), device, train_examples, splits.dev, splits.test, vocab, gazetteers,
        tagger, averaged, optimizer, schedule, generator, augmentation, world=world, trainer=trainer,
    )  # fmt: skip
    run.progress.world_size = world.size
    return run


def _restore(checkpoint: Checkpoint, output_dir: Path, world: World = World()) -> _Run:
    if checkpoint.progress.world_size != world.size:
        raise OutputError(
            f"{output_dir}: the run was trained by {checkpoint.progress.world_size} process(es); resume it with as many "
            f"(this is {world.size})"
        )
    run = _build(checkpoint.config, output_dir, checkpoint.vocab, checkpoint.gazetteers, world)
    run.progress = checkpoint.progress
    run.tagger.load_state_dict(prefixed(checkpoint.tensors, "model."))
    if run.averaged is not None:
        run.averaged.load_state_dict(prefixed(checkpoint.tensors, "averaged."))
    run.optimizer.load_state_dict(optimizer_state(checkpoint))
    run.schedule.load_state_dict(checkpoint.scheduler)
    run.generator.set_state(checkpoint.tensors["rng.sampler"])
    torch.set_rng_state(checkpoint.tensors["rng.torch" if world.rank == 0 else f"rng.torch.rank{world.rank}"])
    return run


def _save_checkpoint(run: _Run, epoch_start_generator: torch.Tensor) -> None:
    """Rank 0 saves, with every rank's dropout RNG state (collected from all ranks: call on all)."""
    rng = {"torch": torch.get_rng_state(), "sampler": epoch_start_generator}
    if run.world.distributed:
        import torch.distributed as dist

        states: list[torch.Tensor | None] = [None] * run.world.size
        dist.all_gather_object(states, torch.get_rng_state())
        rng.update({f"torch.rank{rank}": state for rank, state in enumerate(states) if rank > 0 and state is not None})
    if not run.world.is_main:
        return
    save_checkpoint(
        run.output_dir,
        run.config,
        run.vocab,
        run.gazetteers,
        run.progress,
        model=run.tagger.state_dict(),
        averaged=run.averaged.state_dict() if run.averaged is not None else None,
        optimizer=run.optimizer.state_dict(),
        scheduler=run.schedule.state_dict(),
        rng=rng,
    )


def _train_epoch(run: _Run, epoch: int, observer: TrainingObserver, stop: threading.Event | None, clock: _Clock) -> int:
    """Run the rest of `epoch`'s batches; returns how many batches the epoch has. On `stop`,
    checkpoints and raises TrainingInterrupted."""
    epoch_generator = run.generator.get_state()  # the epoch's batch order is drawn from this
    examples = run.epoch_examples(epoch)
    corpus = encode([e.tokens for e in examples], run.vocab, run.gazetteers, examples)
    batches = list(LengthBucketSampler(corpus.lengths(), run.config.training.batch_size, run.generator))
    progress, settings = run.progress, run.config.training
    observer.epoch_started(epoch, len(batches), progress.batches_done)
    run.tagger.train()
    # not a DataLoader: each of its iterators draws a seed from the global RNG, which would
    # make a resumed run differ from an uninterrupted one (and no worker processes are needed)
    for indices in batches[progress.batches_done :]:
        run.optimizer.zero_grad(set_to_none=True)
        loss = _batch_loss(run, corpus, indices)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(run.tagger.parameters(), settings.grad_clip)
        run.optimizer.step()
        run.schedule.step()
        if run.averaged is not None:
            run.averaged.update_parameters(run.tagger)
        progress.running_loss += loss.item()
        progress.batches_done += 1
        observer.batch_done(loss.item())
        if any_rank(run.world, stop is not None and stop.is_set(), run.device):  # all ranks stop after one step
            progress.seconds = clock.total()
            _save_checkpoint(run, epoch_generator)
            how = f"`slotfill train --resume {run.output_dir}`"
            if run.world.distributed:
                how = f"{how} under torchrun with {run.world.size} processes"
            raise TrainingInterrupted(
                f"training stopped at epoch {epoch}, batch {progress.batches_done} of {len(batches)}; "
                f"checkpoint saved: resume with {how}"
            )
    return len(batches)


def _batch_loss(run: _Run, corpus: EncodedCorpus, indices: list[int]) -> torch.Tensor:
    """The loss of one batch; under torchrun, of this rank's contiguous share of the global batch,
    scaled so that DistributedDataParallel's average of the ranks' gradients is the gradient of the
    whole batch's mean loss (the same learning rate and batch size mean the same as in one process)."""
    if run.trainer is None:
        return run.tagger.loss(corpus.collate([corpus[i] for i in indices]).to(run.device))
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


def _dev_loss(run: _Run) -> float:
    """The training loss on dev, in eval mode, averaged over its sentences (those whose every tag
    and intent the model knows: a label train never shows has no loss to measure)."""
    assert run.dev is not None
    known = [
        e
        for e in model_view(run.dev, "dev")
        if all(t in run.vocab.tags for t in e.tags) and (e.intent is None or e.intent in run.vocab.intents)
    ]
    if not known:
        raise DataError("training.monitor: loss: no dev sentence has only labels the training set has")
    corpus = encode([e.tokens for e in known], run.vocab, run.gazetteers, known)
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


def _end_epoch(run: _Run, epoch: int, num_batches: int, started: float, clock: _Clock) -> EpochSummary:
    """Evaluate on dev, keep the model if it is the best so far, append to the log."""
    progress, settings = run.progress, run.config.training
    dev = None
    if run.dev is not None:
        metrics = evaluate_examples(
            TorchDecoder(run.kept, run.device), run.vocab, run.dev, settings.eval_batch_size, gazetteers=run.gazetteers
        )
        dev = {k: v for k, v in metrics.items() if k != "per_slot"}
        if settings.monitor == "loss":
            dev["loss"] = _dev_loss(run)
        key = _monitored(dev, settings.monitor)
    else:
        key = [float(epoch), 0.0]  # no dev split: keep the latest epoch
    improved = progress.best_key is None or key > progress.best_key
    if improved:
        progress.best_key, progress.best_epoch, progress.best_dev, progress.stale = key, epoch, dev, 0
        if run.world.is_main:  # every rank has the same weights and dev scores: one writes
            save_model(
                run.model_dir, run.config, run.vocab, run.gazetteers, run.kept, {"best_epoch": epoch, "dev": dev}
            )
    else:
        progress.stale += 1
    train_loss = progress.running_loss / max(1, num_batches)
    summary = EpochSummary(epoch, train_loss, dev, time.perf_counter() - started, improved)
    progress.log_lines.append(
        json.dumps({"epoch": epoch, "train_loss": train_loss, "dev": dev, "seconds": summary.seconds})
    )
    if run.world.is_main:
        atomic_write_text(run.output_dir / TRAIN_LOG, "\n".join(progress.log_lines) + "\n")
    progress.epoch, progress.batches_done, progress.running_loss = epoch, 0, 0.0
    progress.seconds = clock.total()
    return summary


def _finish(run: _Run, history: list[EpochSummary], seconds: float) -> TrainResult:
    """Calibrate the best epoch's weights, as saved, on dev; score them on test; write the metrics
    and the calibration; drop the checkpoint. Under torchrun rank 0 does it and tells the others."""
    outcome = _finish_main(run, seconds) if run.world.is_main else None
    test = broadcast_from_main(run.world, outcome)  # rank 0's test metrics, on every rank
    progress = run.progress
    return TrainResult(run.model_dir, progress.best_epoch, progress.epoch, seconds, progress.best_dev, test, history)


def _finish_main(run: _Run, seconds: float) -> dict[str, Any] | None:
    """What _finish does on rank 0; returns the test metrics."""
    progress, settings = run.progress, run.config.training
    best = load_model(run.model_dir, run.device).decoder
    calibration = {"temperature": 1.0}
    if run.dev is not None:
        calibration = fit_temperature(best, run.vocab, run.dev, settings.eval_batch_size, gazetteers=run.gazetteers)
        write_calibration(run.model_dir, calibration)
    test = None
    if run.test is not None:
        test = evaluate_examples(
            best, run.vocab, run.test, settings.eval_batch_size,
            gazetteers=run.gazetteers, temperature=calibration["temperature"],
        )  # fmt: skip
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


def _run_epochs(run: _Run, observer: TrainingObserver | None, stop: threading.Event | None) -> TrainResult:
    observer = (observer if run.world.is_main else None) or Silent()  # one progress display: rank 0's
    clock = _Clock(run.progress.seconds)
    history: list[EpochSummary] = []
    for epoch in range(run.progress.epoch + 1, run.config.training.epochs + 1):
        started = time.perf_counter()
        num_batches = _train_epoch(run, epoch, observer, stop, clock)
        summary = _end_epoch(run, epoch, num_batches, started, clock)
        history.append(summary)
        observer.epoch_done(summary)
        if run.progress.stale >= run.config.training.patience:
            break
        _save_checkpoint(run, run.generator.get_state())
    return _finish(run, history, clock.total())


def train(
    config: Config,
    output_dir: Path,
    observer: TrainingObserver | None = None,
    *,
    stop: threading.Event | None = None,
    overwrite: bool = False,
    world: World = World(),
) -> TrainResult:
    """Train a tagger as `config` says; the best model goes to `output_dir/model`.

    An `output_dir` holding an interrupted run of the same config resumes it; one holding any
    other run is refused (OutputError) unless `overwrite`, which replaces what that run wrote.
    With a `world` of several processes (torchrun), every rank calls this: rank 0 holds the lock
    and writes the run directory, and all ranks train one model with DistributedDataParallel."""
    output_dir = Path(output_dir)
    with ProcessGroup(world, _device(config, world).type):
        # data, lists and model first: a bad config or data file is reported before any directory is touched
        resumable = is_interrupted_run_of(output_dir, config) and not overwrite
        run = None if resumable else _build(config, output_dir, None, None, world)
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
                return _run_epochs(_restore(load_checkpoint(output_dir), output_dir, world), observer, stop)
            run = run or _build(config, output_dir, None, None, world)
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
    with ProcessGroup(world, _device(config, world).type):
        with locked_dir(output_dir, RUN_LOCK) if world.is_main else contextlib.nullcontext():
            return _run_epochs(_restore(load_checkpoint(output_dir), output_dir, world), observer, stop)
