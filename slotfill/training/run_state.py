"""A training run's state: data, vocabulary, gazetteers, model, optimizer and RNGs, built at the
start of a run (`build_run`), restored from a checkpoint (`restore_run`) or saved to one
(`save_run_checkpoint`). slotfill.training.loop drives the epochs over it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from slotfill.choices import ENCODER_SOURCES
from slotfill.config import Config
from slotfill.data import encoder_sources
from slotfill.data.example import Example
from slotfill.data.splits import read_splits
from slotfill.data.validate import tokenisation_warning
from slotfill.errors import ConfigError, DataError, ModelError, OutputError
from slotfill.evaluation.out_of_scope import check_calibration
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.gazetteer_sources import build_gazetteers
from slotfill.features.patterns import pattern_set
from slotfill.features.vectors import configured_vectors, vector_dim
from slotfill.features.vocab import Vocab
from slotfill.features.wordpieces import PieceReader
from slotfill.layout import MODEL_SUBDIR
from slotfill.nn.batching import Batch, EncodedCorpus, encode
from slotfill.nn.device import resolve_device
from slotfill.nn.pretrained import PieceEncoder, PretrainedWords, load_encoder, load_pretrained_words
from slotfill.nn.tagger import Tagger, build_tagger, load_vectors
from slotfill.parallel.world import World
from slotfill.store.checkpoint import Checkpoint, Progress, optimizer_state, prefixed, save_checkpoint
from slotfill.training.augment import Augmentation, speaks_courtesies, substitution_lists
from slotfill.training.finetune import Start, grown_vocab, load_grown
from slotfill.training.noise import noise_examples, training_language
from slotfill.training.splits import model_view, substituted_tags

log = logging.getLogger(__name__)


@dataclass
class TrainingRun:
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
    # the pretrained encoder (model.encoder_features): its features for evaluation (a frozen one's
    # cached; a fine-tuned one's from the kept weights), and for a fine-tuned one, how a training
    # batch's word pieces are read (the tagger runs the encoder on them with gradient)
    word_features: PretrainedWords | None = None
    piece_reader: PieceReader | None = None

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

    def encode(self, examples: Sequence[Example], *, training: bool = False) -> EncodedCorpus:
        """Labelled examples as the model reads them: for training a fine-tuned encoder, with their
        word pieces (the tagger computes the features); else with the encoder's features."""
        tokens = [e.tokens for e in examples]
        if training and self.piece_reader is not None:
            return encode(tokens, self.vocab, self.gazetteers, examples, piece_reader=self.piece_reader)
        return encode(tokens, self.vocab, self.gazetteers, examples, self.word_features)


class _Loss(torch.nn.Module):
    """The tagger's training loss as a forward pass: what DistributedDataParallel wraps."""

    def __init__(self, tagger: Tagger) -> None:
        super().__init__()
        self.tagger = tagger

    def forward(self, batch: Batch, per_sentences: float) -> torch.Tensor:
        return self.tagger.loss(batch, per_sentences)


def run_device(config: Config, world: World) -> torch.device:
    device = resolve_device(config.device)
    if world.distributed and device.type == "cuda":
        return torch.device("cuda", world.local_rank)  # one GPU per process
    return device


def build_run(
    config: Config,
    output_dir: Path,
    *,
    vocab: Vocab | None = None,
    gazetteers: GazetteerSet | None = None,
    world: World = World(),
    start: Start | None = None,
) -> TrainingRun:
    """A run at its start: data read, vocabulary and gazetteers built unless given, model and optimizer initialised.
    Under torchrun every rank builds the same model; DistributedDataParallel checks they agree."""
    device = run_device(config, world)
    splits = read_splits(config.data)
    warning = tokenisation_warning(splits.tokenisation, splits.train_where)
    if world.is_main and warning is not None:
        log.warning("%s", warning)
    train_examples = model_view(splits.train, str(splits.train_where))
    if not train_examples:
        raise DataError(f"data.train: {splits.train_where}: no sentence has a word to learn from")
    if _learns_intents(config, train_examples, splits.train_where, world.is_main):
        check_calibration(config.out_of_scope, train_examples, splits.dev)
        train_examples += _out_of_scope_noise(config, train_examples, splits.train_where, world.is_main)
    torch.manual_seed(config.seed)
    vectors = None
    if vocab is None:
        vocab = Vocab.build(
            train_examples, min_freq=config.vocab.min_freq, extra_tags=substituted_tags(config, train_examples)
        )
        if _reads_context(config, train_examples, splits.train_where, world.is_main):
            vocab = vocab.with_requested(name for e in train_examples for name in e.context.requested_slots)
        if start is not None:  # fine-tuning: the model's ids first, the new data's appended
            vocab = grown_vocab(start.vocab, vocab)
        if config.model.embedding.pretrained is not None:
            vectors = configured_vectors(config.model.embedding.pretrained)
            _check_vector_dim(config, vectors.dim)
            vocab = vocab.with_vectors(vectors.words, vectors.dim)
    if gazetteers is None and start is not None:
        gazetteers = start.gazetteers
    if gazetteers is None:
        patterns = pattern_set(config.patterns, splits.regexes)
        gazetteers = build_gazetteers(config.gazetteers, train_examples, splits.lookups, patterns)
    word_features, pretrained, piece_reader = _pretrained_encoder(config, device)
    tagger = build_tagger(
        config.model, vocab, gazetteers.num_features, word_features.size if word_features else 0, pretrained
    )
    if vectors is not None:  # a resumed run's vectors come with its checkpoint's weights
        load_vectors(tagger, vocab, vectors.table)
    if start is not None:
        load_grown(tagger, start.state)
    tagger = tagger.to(device)
    optimizer, schedule, averaged = _optimization(tagger, config, len(train_examples))
    if piece_reader is not None:  # a fine-tuned encoder is evaluated as kept (the average, with ema_decay)
        kept = averaged.module if averaged is not None else tagger
        directory = config.model.encoder_features.resolved_path()  # type: ignore[union-attr]
        word_features = PretrainedWords(kept.pretrained, piece_reader, directory, half=False)  # type: ignore[arg-type]
    augmentation = _augmentation(config, gazetteers, train_examples)
    generator = torch.Generator().manual_seed(config.seed)  # the same batch order on every rank
    trainer = None
    if world.distributed:
        from torch.nn.parallel import DistributedDataParallel

        torch.manual_seed(config.seed + 7919 * world.rank)  # each rank its own dropout, reproducibly
        # buffers are derived from the tag names, the same on every rank: nothing to broadcast
        trainer = DistributedDataParallel(_Loss(tagger), broadcast_buffers=False)
    run = TrainingRun(
        config, Path(output_dir), device, train_examples, splits.dev, splits.test, vocab, gazetteers,
        tagger, averaged, optimizer, schedule, generator, augmentation, world=world, trainer=trainer,
        word_features=word_features, piece_reader=piece_reader,
    )  # fmt: skip
    run.progress.world_size = world.size
    return run


def _learns_intents(config: Config, train: Sequence[Example], where: Path, report: bool) -> bool:
    """Whether the run learns intents (and so rejects out-of-scope utterances): the config asks for
    them and the training data has them. Data without intents (slots only, as most span datasets are)
    trains with them off and one warning; a monitor that needs them is a ConfigError, before any work."""
    monitor = config.training.monitor
    if not config.model.intent.enabled:
        if monitor == "intent_accuracy":
            raise ConfigError("training.monitor: intent_accuracy, but model.intent.enabled is false")
        return False
    if any(e.intent is not None for e in train):
        return True
    if monitor == "intent_accuracy":
        raise ConfigError(
            f"training.monitor: intent_accuracy, but data.train ({where}) has no intents: monitor slot_f1, "
            "sentence_accuracy or loss"
        )
    if report:
        log.warning(
            "data.train: %s has no intents: intent classification and out-of-scope rejection are off "
            "(model.intent.enabled and out_of_scope are not used)",
            where,
        )
    return False


def _reads_context(config: Config, train: Sequence[Example], where: Path, report: bool) -> bool:
    """Whether the model reads the dialogue context (model.context.enabled; auto: when the training
    data has requested slots), with one warning where the data's context goes unread."""
    enabled = config.model.context.enabled
    with_context = [e for e in train if e.context]
    if report and with_context and enabled is False:
        log.warning(
            "data.train: %s: %d turns carry requested slots, which model.context.enabled: false leaves unread",
            where, len(with_context),
        )  # fmt: skip
    if report and enabled is True and not with_context:
        log.warning("model.context.enabled: true, but no turn of data.train (%s) carries requested slots", where)
    return enabled is True or (enabled == "auto" and bool(with_context))


def _out_of_scope_noise(config: Config, train: list[Example], where: Path, report: bool) -> list[Example]:
    """The generated out-of-scope utterances to train with (slotfill.training.noise), after the
    out-of-scope label is checked against the intents: never the start of one, never all of them."""
    settings = config.out_of_scope
    label = settings.intent
    intents = sorted({e.intent for e in train if e.intent is not None})
    clash = [intent for intent in intents if intent != label and intent.startswith(label)]
    if clash:
        raise ConfigError(
            f"out_of_scope.intent: {label!r} is the start of the intent {clash[0]!r}: "
            "give out-of-scope examples a label no intent starts with"
        )
    in_scope = [e for e in train if e.intent is not None and e.intent != label]
    if intents and not in_scope:
        raise DataError(f"data.train: {where}: every example is out of scope (intent {label!r}): no intent to learn")
    if settings.noise <= 0 or not in_scope:
        return []
    language = training_language(in_scope)
    if language is None:
        if report:
            log.warning("out_of_scope.noise: the training data is in no language wordfreq knows: no noise is made")
        return []
    count = round(settings.noise * len(in_scope) / len(set(intents) - {label}))
    return noise_examples(in_scope, label, count, language, config.seed, fluent=settings.fluent)


def _check_vector_dim(config: Config, dim: int) -> None:
    embedding = config.model.embedding
    if embedding.pretrained is not None and embedding.pretrained.join == "init" and embedding.dim != dim:
        raise ConfigError(
            f"model.embedding.dim: {embedding.dim}, but join init starts the learned rows from the "
            f"{dim}-wide vectors of {embedding.pretrained.source}: set dim to {dim}, or join concat or project"
        )


def _optimization(
    tagger: Tagger, config: Config, num_train: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR, AveragedModel | None]:
    """Adam, the learning-rate schedule over the whole run, and the moving average of the weights
    (if any). A fine-tuned encoder is a group of its own: its learning rate, warmed up linearly
    over the first steps and decayed linearly to 0 at the last."""
    settings = config.training
    total_steps = settings.epochs * -(-num_train // settings.batch_size)
    encoder = {id(p) for p in tagger.pretrained.parameters()} if tagger.pretrained is not None else set()
    groups: list[dict[str, Any]] = [{"params": [p for p in tagger.parameters() if id(p) not in encoder]}]
    linear = settings.lr_schedule == "linear"
    schedules = [(lambda step: 1.0 - step / total_steps) if linear else (lambda step: 1.0)]
    features = config.model.encoder_features
    if tagger.pretrained is not None and features is not None and features.lr is not None:
        groups.append({"params": list(tagger.pretrained.parameters()), "lr": features.lr})
        schedules.append(warmup_then_decay(round((features.warmup or 0.0) * total_steps), total_steps))
    optimizer = torch.optim.Adam(groups, lr=settings.lr, weight_decay=settings.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, schedules)
    averaged = None
    if settings.ema_decay > 0:
        averaged = AveragedModel(tagger, multi_avg_fn=get_ema_multi_avg_fn(settings.ema_decay), use_buffers=True)
    return optimizer, schedule, averaged


def warmup_then_decay(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """The factor of a learning rate at a step: up linearly over `warmup_steps` (the first step
    already moves), then down linearly to 0 at `total_steps`."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return factor


def _pretrained_encoder(
    config: Config, device: torch.device
) -> tuple[PretrainedWords | None, PieceEncoder | None, PieceReader | None]:
    """The configured pretrained encoder. Frozen: its features, with a cache (a training sentence
    is encoded once however many epochs read it; an augmented one is new, and encoded when it
    first comes). Fine-tuned: the module the tagger trains, and how its word pieces are read."""
    features = config.model.encoder_features
    if features is None:
        return None, None, None
    if features.source in ENCODER_SOURCES and not encoder_sources.is_complete(features.source):
        raise ConfigError(
            f"model.encoder_features.source: {features.source} is not downloaded (or not whole) in "
            f"{features.resolved_path()}: run `slotfill encoders download {features.source}`"
        )
    try:
        if features.mode == "fine_tuned":
            encoder, pieces = load_encoder(features.resolved_path(), features.layers)
            return None, encoder.to(device), PieceReader(pieces, features.pooling)
        words = load_pretrained_words(
            features.resolved_path(), features.pooling, device, half=True, layers=features.layers
        )
    except ModelError as error:
        raise ConfigError(f"model.encoder_features.source: {error}") from None
    words.cache = {}
    return words, None, None


def _augmentation(config: Config, gazetteers: GazetteerSet, train: Sequence[Example]) -> Augmentation | None:
    """Value substitution and courtesies, when the config asks for either; the courtesies (English
    words) only for training data that uses them (slotfill.training.augment.speaks_courtesies)."""
    settings, lists = config.training, substitution_lists(config.gazetteers)
    courtesy = settings.courtesy
    if courtesy > 0 and not speaks_courtesies(train):
        log.warning("training.courtesy: the training data has none of the (English) courtesy words: none are added")
        courtesy = 0.0
    if courtesy <= 0 and (settings.substitution <= 0 or not lists):
        return None
    return Augmentation(
        config.seed,
        substitution=settings.substitution,
        gazetteers=gazetteers,
        list_of_slot=lists,
        courtesy=courtesy,
    )


def restore_run(checkpoint: Checkpoint, output_dir: Path, world: World = World()) -> TrainingRun:
    if checkpoint.progress.world_size != world.size:
        raise OutputError(
            f"{output_dir}: the run was trained by {checkpoint.progress.world_size} process(es); resume it with as many "
            f"(this is {world.size})"
        )
    _check_resumed_vectors(checkpoint)
    run = build_run(
        checkpoint.config, output_dir, vocab=checkpoint.vocab, gazetteers=checkpoint.gazetteers, world=world
    )
    run.progress = checkpoint.progress
    run.tagger.load_state_dict(prefixed(checkpoint.tensors, "model."))
    if run.averaged is not None:
        run.averaged.load_state_dict(prefixed(checkpoint.tensors, "averaged."))
    run.optimizer.load_state_dict(optimizer_state(checkpoint))
    run.schedule.load_state_dict(checkpoint.scheduler)
    run.generator.set_state(checkpoint.tensors["rng.sampler"])
    torch.set_rng_state(checkpoint.tensors["rng.torch" if world.rank == 0 else f"rng.torch.rank{world.rank}"])
    return run


def _check_resumed_vectors(checkpoint: Checkpoint) -> None:
    """A resumed run keeps the vectors its checkpoint holds and never re-reads the source; but
    where the source now holds vectors of another width, the user meant other vectors: refuse."""
    pretrained = checkpoint.config.model.embedding.pretrained
    if pretrained is None or checkpoint.vocab.vectors is None or not pretrained.resolved_path().exists():
        return
    now = vector_dim(pretrained.resolved_path(), pretrained.format)
    if now != checkpoint.vocab.vector_dim:
        raise ConfigError(
            f"model.embedding.pretrained.source: {pretrained.resolved_path()} now holds {now}-dimensional vectors; "
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
        run.vocab,
        run.gazetteers,
        run.progress,
        model=run.tagger.state_dict(),
        averaged=run.averaged.state_dict() if run.averaged is not None else None,
        optimizer=run.optimizer.state_dict(),
        scheduler=run.schedule.state_dict(),
        rng=rng,
    )
