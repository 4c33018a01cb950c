"""A training run's state: data, vocabulary, gazetteers, model, optimizer and RNGs, built at the
start of a run (`build_run`, in the steps of slotfill.training.run_data and
slotfill.training.builders), restored from a checkpoint (`restore_run`, the same steps with the
checkpoint's vocabulary, lists, weights and states) or saved to one (`save_run_checkpoint`).
slotfill.training.loop drives the epochs over it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from slotfill.config import Config
from slotfill.data.example import Example
from slotfill.errors import ConfigError, OutputError
from slotfill.features.vectors import vector_dim
from slotfill.layout import MODEL_SUBDIR
from slotfill.nn.batching import EncodedCorpus, encode
from slotfill.nn.device import resolve_device
from slotfill.nn.tagger import Tagger
from slotfill.parallel.world import World
from slotfill.store.checkpoint import Checkpoint, Progress, optimizer_state, prefixed, save_checkpoint
from slotfill.training.augment import Augmentation
from slotfill.training.builders import (
    Lists,
    Model,
    Optimization,
    augmentation,
    build_lists,
    build_model,
    build_optimization,
    distribute,
    kept_transformer_features,
)
from slotfill.training.finetune import Start
from slotfill.training.run_data import TrainingData, read_training_data


@dataclass
class TrainingRun:
    """What one training run works with: the outputs of its steps (slotfill.training.run_data and
    slotfill.training.builders), the batch order's generator, and its progress."""

    config: Config
    output_dir: Path
    device: torch.device
    data: TrainingData
    lists: Lists  # the vocabulary and the gazetteers
    model: Model  # the tagger, and how it reads its transformer
    optimization: Optimization
    generator: torch.Generator  # draws each epoch's batch order
    augmentation: Augmentation | None
    progress: Progress = field(default_factory=Progress)
    world: World = field(default_factory=World)
    trainer: torch.nn.Module | None = None  # DistributedDataParallel over the loss, under torchrun

    @property
    def kept(self) -> Tagger:
        """The weights that are evaluated and saved: the moving average's, where there is one."""
        averaged = self.optimization.averaged
        return averaged.module if averaged is not None else self.model.tagger  # type: ignore[return-value]

    @property
    def model_dir(self) -> Path:
        return self.output_dir / MODEL_SUBDIR

    def batches_per_epoch(self) -> int:
        return -(-len(self.data.train) // self.config.training.batch_size)

    def epoch_examples(self, epoch: int) -> list[Example]:
        if self.augmentation is None:
            return self.data.train
        return self.augmentation.examples_for_epoch(self.data.train, epoch)

    def encode(self, examples: Sequence[Example], *, training: bool = False) -> EncodedCorpus:
        """Labelled examples as the model reads them: for training a fine-tuned transformer, with
        their word pieces (the tagger computes the features); else with the transformer's features."""
        tokens, lists, model = [e.tokens for e in examples], self.lists, self.model
        if training and model.piece_reader is not None:
            return encode(tokens, lists.vocab, lists.gazetteers, examples, piece_reader=model.piece_reader)
        return encode(tokens, lists.vocab, lists.gazetteers, examples, model.transformer_features)


def run_device(config: Config, world: World) -> torch.device:
    device = resolve_device(config.device)
    if world.distributed and device.type == "cuda":
        return torch.device("cuda", world.local_rank)  # one GPU per process
    return device


def build_run(config: Config, output_dir: Path, *, world: World = World(), start: Start | None = None) -> TrainingRun:
    """A run at its start: data -> vocabulary and lists -> model -> optimization -> distribution.
    With `start` (fine-tuning a model), its vocabulary grows and its weights are the start's. Under
    torchrun every rank builds the same model; DistributedDataParallel checks they agree."""
    data = read_training_data(config, report=world.is_main)
    lists = build_lists(config, data, start)
    return _assembled(config, output_dir, world, data, lists, start)


def restore_run(checkpoint: Checkpoint, output_dir: Path, world: World = World()) -> TrainingRun:
    """The run `checkpoint` was saved from, as it was then: its data read again (the checkpoint
    holds none), the model built on the checkpoint's vocabulary and lists, and the checkpoint's
    weights, optimizer and schedule states and RNG states loaded into it."""
    if checkpoint.progress.world_size != world.size:
        raise OutputError(
            f"{output_dir}: the run was trained by {checkpoint.progress.world_size} process(es); resume it with as many "
            f"(this is {world.size})"
        )
    _check_resumed_vectors(checkpoint)
    config = checkpoint.config
    data = read_training_data(config, report=world.is_main)
    run = _assembled(config, output_dir, world, data, Lists(checkpoint.vocab, checkpoint.gazetteers))
    run.progress = checkpoint.progress
    run.model.tagger.load_state_dict(prefixed(checkpoint.tensors, "model."))
    optimization = run.optimization
    if optimization.averaged is not None:
        optimization.averaged.load_state_dict(prefixed(checkpoint.tensors, "averaged."))
    optimization.optimizer.load_state_dict(optimizer_state(checkpoint))
    optimization.schedule.load_state_dict(checkpoint.scheduler)
    run.generator.set_state(checkpoint.tensors["rng.sampler"])
    torch.set_rng_state(checkpoint.tensors["rng.torch" if world.rank == 0 else f"rng.torch.rank{world.rank}"])
    return run


def _assembled(
    config: Config, output_dir: Path, world: World, data: TrainingData, lists: Lists, start: Start | None = None
) -> TrainingRun:
    """The run of `data` and `lists`: the model, its optimization (and for a fine-tuned transformer,
    the features of the weights kept, which exist once the optimization's average does), the
    augmentation, the batch order's generator and the distribution, in that order (the RNG draws
    of each step follow the last's)."""
    device = run_device(config, world)
    model = build_model(config, lists, device, start)
    optimization = build_optimization(model.tagger, config, len(data.train))
    if model.piece_reader is not None:
        kept = optimization.averaged.module if optimization.averaged is not None else model.tagger
        model.transformer_features = kept_transformer_features(config, kept, model.piece_reader)  # type: ignore[arg-type]
    run = TrainingRun(
        config, Path(output_dir), device, data, lists, model, optimization,
        generator=torch.Generator().manual_seed(config.seed),  # the same batch order on every rank
        augmentation=augmentation(config, lists.gazetteers, data.train), world=world,
    )  # fmt: skip
    run.trainer = distribute(model.tagger, config, world)
    run.progress.world_size = world.size
    return run


def _check_resumed_vectors(checkpoint: Checkpoint) -> None:
    """A resumed run keeps the vectors its checkpoint holds and never re-reads the source; but
    where the source now holds vectors of another width, the user meant other vectors: refuse."""
    pretrained = checkpoint.config.model.embedding.vectors
    if pretrained is None or checkpoint.vocab.vectors is None or not pretrained.resolved_path().exists():
        return
    now = vector_dim(pretrained.resolved_path(), pretrained.format)
    if now != checkpoint.vocab.vector_dim:
        raise ConfigError(
            f"model.embedding.vectors.source: {pretrained.resolved_path()} now holds {now}-dimensional vectors; "
            f"the run being resumed was trained with {checkpoint.vocab.vector_dim}: restore them, or give --overwrite to start again"
        )


def save_run_checkpoint(run: TrainingRun, epoch_start_generator: torch.Tensor) -> None:
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
        run.lists.vocab,
        run.lists.gazetteers,
        run.progress,
        model=run.model.tagger.state_dict(),
        averaged=run.optimization.averaged.state_dict() if run.optimization.averaged is not None else None,
        optimizer=run.optimization.optimizer.state_dict(),
        scheduler=run.optimization.schedule.state_dict(),
        rng=rng,
    )
