"""Fine-tuning from a model you have (`slotfill train CONFIG --init-from MODEL`): the model's weights,
vocabulary and gazetteers are the start of a new run on the config's data.

- The config's architecture (`model.*` but the regularisation, which does not change a weight's
  shape) must be the model's: the first key that differs is a ConfigError naming it.
- The vocabulary grows: the model's words, characters, letter trigrams, tags and intents keep their
  ids, and what the new data adds is appended; the weights of the old ids are the model's, the rows
  of the new ones are initialised as a fresh model's are (embedding rows, tag and intent rows of the
  heads, CRF transitions to and from a new tag).
- The gazetteers are the model's unless the config names its own lists (then the same names, in
  the same order, rebuilt from the config's sources).
- A transformer is the model's (its encoder/ folder: a fine-tuned one's trained weights),
  whatever source the config names; the config says how it trains now (frozen or fine_tuned).
Everything else is an ordinary run: its run directory, checkpoints, resume and --overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from slotfill.config import Config
from slotfill.errors import ConfigError
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.vocab import Index, Vocab
from slotfill.text.tokenise import TOKENISATION

# model keys that change how training goes, not a weight's shape: a fine-tuning config may change them
# (and the transformer's source, which the model's own encoder replaces)
TRAINING_ONLY = (
    "dropout", "gazetteer_dropout", "embedding.word_dropout", "embedding.word_dropout_chars", "intent.loss_weight",
    "encoder.dropout", "context.dropout", "transformer.source", "transformer.mode", "transformer.lr", "transformer.warmup",
)  # fmt: skip


@dataclass(frozen=True)
class Start:
    """What a fine-tuning run starts from."""

    model_dir: Path
    vocab: Vocab
    gazetteers: GazetteerSet | None  # None: built from the config's sources (same names as the model's)
    state: dict[str, torch.Tensor]


def _flat(section: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in section.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


# the optional sections of `model`, as people name what they add: one set on one side only is the difference
OPTIONAL_INPUTS = {"transformer": "a transformer", "embedding.vectors": "word vectors"}


def first_difference(model: Config, config: Config) -> str | None:
    """The first architecture difference: an optional input (a transformer, word vectors) one
    side has and the other not, else the first key (`model.encoder.hidden_size`) whose value differs."""
    for section, what in OPTIONAL_INPUTS.items():
        theirs_set, ours_set = (_section(c, section) is not None for c in (model, config))
        if theirs_set != ours_set:
            has, lacks = ("the model", "the config") if theirs_set else ("the config", "the model")
            return f"model.{section}: {has} has {what} and {lacks} none: the two read different inputs"
    theirs, ours = _flat(model.model.model_dump(mode="json")), _flat(config.model.model_dump(mode="json"))
    for key in ours:
        if key not in TRAINING_ONLY and theirs.get(key) != ours[key]:
            return f"model.{key} is {theirs.get(key)!r} in the model and {ours[key]!r} in the config"
    return None


def _section(config: Config, dotted: str) -> Any:
    value: Any = config.model
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def start_from(model_dir: Path, config: Config) -> tuple[Config, Start]:
    """The config to train (the model's gazetteers kept when it names none) and the start.
    Raises ConfigError (one line) when the model cannot start this config."""
    from slotfill.store.model_dir import load_model

    loaded = load_model(Path(model_dir), torch.device("cpu"))
    where = f"--init-from {model_dir}"
    difference = first_difference(loaded.config, config)
    if difference is not None:
        raise ConfigError(f"{where}: {difference}")
    gazetteers: GazetteerSet | None = loaded.gazetteers
    if not config.gazetteers:
        config = config.model_copy(update={"gazetteers": loaded.config.gazetteers})
    elif list(config.gazetteers) != list(loaded.config.gazetteers):
        raise ConfigError(
            f"{where}: the model reads the lists {list(loaded.config.gazetteers)}, the config names "
            f"{list(config.gazetteers)}: give the same lists, or none to keep the model's"
        )
    else:
        gazetteers = None
    if loaded.transformer_features is not None and config.model.transformer is not None:
        features = config.model.transformer.model_copy(
            update={"source": str(loaded.transformer_features.directory.resolve())}
        )
        config = config.model_copy(update={"model": config.model.model_copy(update={"transformer": features})})
    state = {name: tensor.detach().clone() for name, tensor in loaded.tagger.state_dict().items()}
    return config, Start(Path(model_dir), loaded.vocab, gazetteers, state)


def _extended(old: Index, new: Index) -> Index:
    known = set(old.items)
    return Index([*old.items, *(item for item in new.items if item not in known)])


def grown_vocab(old: Vocab, new: Vocab) -> Vocab:
    """`old` with what `new` adds appended: every old id stays what it was."""
    return replace(
        old,
        words=_extended(old.words, new.words),
        chars=_extended(old.chars, new.chars),
        tags=_extended(old.tags, new.tags),
        intents=_extended(old.intents, new.intents),
        trigrams=_extended(old.trigrams, new.trigrams),
        vectors=new.vectors if new.vectors is not None else old.vectors,
        vector_dim=new.vector_dim if new.vectors is not None else old.vector_dim,
        tokenisation=TOKENISATION,
        requested=_extended(old.requested, new.requested),
    )


def load_grown(tagger: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Copy the model's weights into a tagger of the grown vocabulary: a tensor of the same shape
    whole, a larger one (more words, tags, intents) in its leading block; the rest stays as built."""
    own = tagger.state_dict()
    for name, old in state.items():
        new = own.get(name)
        if new is None:
            continue
        if old.shape == new.shape:
            new.copy_(old)
        elif old.dim() == new.dim() and all(o <= n for o, n in zip(old.shape, new.shape)):
            new[tuple(slice(0, o) for o in old.shape)].copy_(old)
        else:
            raise ConfigError(f"--init-from: {name} is {list(old.shape)} in the model and {list(new.shape)} here")
    tagger.load_state_dict(own)
