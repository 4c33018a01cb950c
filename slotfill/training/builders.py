"""The builders of a training run after its data (slotfill.training.run_data), in the order
slotfill.training.run_state calls them, each with its inputs explicit:

1. `build_lists`: the vocabulary, with the word vectors' words, and the gazetteers and patterns;
2. `build_model`: the tagger (with the transformer it fine-tunes, or the frozen one's features),
   its initial weights drawn from the config's seed, the vectors or the weights it starts from put in;
3. `build_optimization`: Adam, the learning-rate schedule and the moving average of the weights;
4. `distribute`: under torchrun, each rank's own dropout seed and DistributedDataParallel.

A resumed run calls the same builders with its checkpoint's vocabulary and lists, then loads the
checkpoint's weights and states into what they built (slotfill.training.run_state.restore_run).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from slotfill.choices import TRANSFORMER_SOURCES
from slotfill.config import Config
from slotfill.data import downloads
from slotfill.data.example import Example
from slotfill.errors import ConfigError, ModelError
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.gazetteer_sources import build_gazetteers
from slotfill.features.patterns import pattern_set
from slotfill.features.vectors import WordVectors, configured_vectors
from slotfill.features.vocab import Vocab
from slotfill.features.wordpieces import PieceReader
from slotfill.nn.batching import Batch
from slotfill.nn.tagger import Tagger, build_tagger, load_vectors
from slotfill.nn.transformer import TransformerFeatures, load_transformer, load_transformer_features
from slotfill.parallel.world import World
from slotfill.training.augment import Augmentation, speaks_courtesies, substitution_lists
from slotfill.training.finetune import Start, grown_vocab, load_grown
from slotfill.training.run_data import TrainingData
from slotfill.training.splits import substituted_tags

log = logging.getLogger(__name__)
# each rank's dropout seed is the config's seed plus its rank times this (a prime, so that no two
# ranks of nearby seeds share a stream); the model's initial weights use the seed alone on every rank
RANK_SEED_STRIDE = 7919


@dataclass
class Lists:
    """What the model reads beside the words: its vocabulary and gazetteers; the word vectors,
    where the config names some and the vocabulary was built here (a resumed run's are in its weights)."""

    vocab: Vocab
    gazetteers: GazetteerSet
    vectors: WordVectors | None = None


def build_lists(config: Config, data: TrainingData, start: Start | None = None) -> Lists:
    """The vocabulary of the training data (a fine-tuning `start`'s ids first, the new data's
    appended), with the word vectors' words; the gazetteers and patterns (a `start`'s own lists)."""
    train = data.train
    vocab = Vocab.build(train, min_freq=config.vocab.min_freq, extra_tags=substituted_tags(config, train))
    if data.reads_context:
        vocab = vocab.with_requested(name for e in train for name in e.context.requested_slots)
    if start is not None:
        vocab = grown_vocab(start.vocab, vocab)
    vectors = None
    if config.model.embedding.vectors is not None:
        vectors = configured_vectors(config.model.embedding.vectors)
        _check_vector_dim(config, vectors.dim)
        vocab = vocab.with_vectors(vectors.words, vectors.dim)
    gazetteers = start.gazetteers if start is not None else None
    if gazetteers is None:
        patterns = pattern_set(config.patterns, data.regexes)
        gazetteers = build_gazetteers(config.gazetteers, train, data.lookups, patterns)
    return Lists(vocab, gazetteers, vectors)


def _check_vector_dim(config: Config, dim: int) -> None:
    embedding = config.model.embedding
    if embedding.vectors is not None and embedding.vectors.join == "init" and embedding.dim != dim:
        raise ConfigError(
            f"model.embedding.dim: {embedding.dim}, but join init starts the learned rows from the "
            f"{dim}-wide vectors of {embedding.vectors.source}: set dim to {dim}, or join concat or project"
        )


@dataclass
class Model:
    """The tagger being trained, and how it reads the transformer (model.transformer), if any:
    frozen, its features (cached: a training sentence is encoded once however many epochs read
    it); fine-tuned, how a training batch's word pieces are read (the tagger runs it on them)."""

    tagger: Tagger
    transformer_features: TransformerFeatures | None = None
    piece_reader: PieceReader | None = None


def build_model(config: Config, lists: Lists, device: torch.device, start: Start | None = None) -> Model:
    """The tagger, its initial weights drawn from `config.seed` (the same on every rank), then the
    word vectors (`lists.vectors`) or the weights of the model it starts from put in."""
    torch.manual_seed(config.seed)
    features, transformer, piece_reader = _transformer(config, device)
    tagger = build_tagger(
        config.model, lists.vocab, lists.gazetteers.num_features, features.size if features else 0, transformer
    )
    if lists.vectors is not None:
        load_vectors(tagger, lists.vocab, lists.vectors.table)
    if start is not None:
        load_grown(tagger, start.state)
    return Model(tagger.to(device), features, piece_reader)


def _transformer(
    config: Config, device: torch.device
) -> tuple[TransformerFeatures | None, torch.nn.Module | None, PieceReader | None]:
    """The configured transformer: frozen, its features (with a cache); fine-tuned, the module the
    tagger trains and how its word pieces are read."""
    settings = config.model.transformer
    if settings is None:
        return None, None, None
    if settings.source in TRANSFORMER_SOURCES and not downloads.is_complete("transformers", settings.source):
        raise ConfigError(
            f"model.transformer.source: {settings.source} is not downloaded (or not whole) in "
            f"{settings.resolved_path()}: run `slotfill transformers download {settings.source}`"
        )
    try:
        if settings.mode == "fine_tuned":
            transformer, pieces = load_transformer(settings.resolved_path(), settings.layers)
            return None, transformer.to(device), PieceReader(pieces, settings.pooling)
        features = load_transformer_features(
            settings.resolved_path(), settings.pooling, device, half=True, layers=settings.layers
        )
    except ModelError as error:
        raise ConfigError(f"model.transformer.source: {error}") from None
    features.cache = {}
    return features, None, None


@dataclass
class Optimization:
    """Adam over the tagger, its learning-rate schedule, and the moving average of the weights
    that is evaluated and saved (training.ema_decay > 0)."""

    optimizer: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.LambdaLR
    averaged: AveragedModel | None


def build_optimization(tagger: Tagger, config: Config, num_train: int) -> Optimization:
    """A fine-tuned transformer is a group of its own: its learning rate, warmed up linearly over
    the first steps and decayed linearly to 0 at the last."""
    settings = config.training
    total_steps = settings.epochs * -(-num_train // settings.batch_size)
    fine_tuned = {id(p) for p in tagger.transformer.parameters()} if tagger.transformer is not None else set()
    groups: list[dict[str, Any]] = [{"params": [p for p in tagger.parameters() if id(p) not in fine_tuned]}]
    linear = settings.lr_schedule == "linear"
    schedules = [(lambda step: 1.0 - step / total_steps) if linear else (lambda step: 1.0)]
    transformer = config.model.transformer
    if tagger.transformer is not None and transformer is not None and transformer.lr is not None:
        groups.append({"params": list(tagger.transformer.parameters()), "lr": transformer.lr})
        schedules.append(warmup_then_decay(round((transformer.warmup or 0.0) * total_steps), total_steps))
    optimizer = torch.optim.Adam(groups, lr=settings.lr, weight_decay=settings.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, schedules)
    averaged = None
    if settings.ema_decay > 0:
        averaged = AveragedModel(tagger, multi_avg_fn=get_ema_multi_avg_fn(settings.ema_decay), use_buffers=True)
    return Optimization(optimizer, schedule, averaged)


def warmup_then_decay(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """The factor of a learning rate at a step: up linearly over `warmup_steps` (the first step
    already moves), then down linearly to 0 at `total_steps`."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return factor


def kept_transformer_features(config: Config, kept: Tagger, piece_reader: PieceReader) -> TransformerFeatures:
    """A fine-tuned transformer's features for evaluation: those of the weights that are kept (the
    moving average's, where there is one: so this comes after build_optimization)."""
    directory = config.model.transformer.resolved_path()  # type: ignore[union-attr]
    return TransformerFeatures(kept.transformer, piece_reader, directory, half=False)  # type: ignore[arg-type]


def augmentation(config: Config, gazetteers: GazetteerSet, train: Sequence[Example]) -> Augmentation | None:
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
        config.seed, substitution=settings.substitution, gazetteers=gazetteers, list_of_slot=lists, courtesy=courtesy
    )


class _Loss(torch.nn.Module):
    """The tagger's training loss as a forward pass: what DistributedDataParallel wraps."""

    def __init__(self, tagger: Tagger) -> None:
        super().__init__()
        self.tagger = tagger

    def forward(self, batch: Batch, per_sentences: float) -> torch.Tensor:
        return self.tagger.loss(batch, per_sentences)


def distribute(tagger: Tagger, config: Config, world: World) -> torch.nn.Module | None:
    """Under torchrun: each rank's own dropout stream (reproducibly), and the loss wrapped in
    DistributedDataParallel, which checks that every rank built the same model. None alone."""
    if not world.distributed:
        return None
    from torch.nn.parallel import DistributedDataParallel

    torch.manual_seed(config.seed + RANK_SEED_STRIDE * world.rank)
    # buffers are derived from the tag names, the same on every rank: nothing to broadcast
    return DistributedDataParallel(_Loss(tagger), broadcast_buffers=False)
