"""A training run's first step: its data. The splits the config names, read and checked against
the config (intents, dialogue context, the out-of-scope label), the model's view of the training
set, and the generated out-of-scope noise it trains with (slotfill.training.noise)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from slotfill.config import Config
from slotfill.data.example import Example
from slotfill.data.spans import Entry
from slotfill.data.splits import read_splits
from slotfill.data.validate import tokenisation_warning
from slotfill.errors import ConfigError, DataError
from slotfill.evaluation.out_of_scope import check_calibration
from slotfill.training.noise import noise_examples, training_language
from slotfill.training.splits import model_view

log = logging.getLogger(__name__)


@dataclass
class TrainingData:
    """What a run trains and is measured on."""

    train: list[Example]  # the model's view, with the out-of-scope noise
    dev: list[Example] | None
    test: list[Example] | None
    reads_context: bool  # the model reads the requested slots (model.context.enabled, auto)
    lookups: dict[str, list[Entry]] = field(default_factory=dict)  # the data's own lists (Rasa, Snips)
    regexes: dict[str, list[str]] = field(default_factory=dict)  # the data's own patterns (Rasa regex:)


def read_training_data(config: Config, report: bool = True) -> TrainingData:
    """The splits of `config.data`, checked; `report`: log the warnings (rank 0 under torchrun)."""
    splits = read_splits(config.data)
    warning = tokenisation_warning(splits.tokenisation, splits.train_where)
    if report and warning is not None:
        log.warning("%s", warning)
    train = model_view(splits.train, str(splits.train_where))
    if not train:
        raise DataError(f"data.train: {splits.train_where}: no sentence has a word to learn from")
    if _learns_intents(config, train, splits.train_where, report):
        check_calibration(config.out_of_scope, train, splits.dev)
        train += _out_of_scope_noise(config, train, splits.train_where, report)
    reads_context = _reads_context(config, train, splits.train_where, report)
    return TrainingData(train, splits.dev, splits.test, reads_context, splits.lookups, splits.regexes)


def _learns_intents(config: Config, train: Sequence[Example], where: Path, report: bool) -> bool:
    """Whether the run learns intents (and so rejects out-of-scope utterances): the config asks for
    them and the training data has them. Data without intents (slots only, as most span datasets are)
    trains with them off and one warning; a monitor that needs them is a ConfigError, before any work."""
    if not config.model.intent.enabled:
        return False  # (a monitor of intent_accuracy without intents is the config's own error)
    if any(e.intent is not None for e in train):
        return True
    if config.training.monitor == "intent_accuracy":
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
