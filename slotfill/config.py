"""The training configuration: YAML in, validated by pydantic, unknown keys rejected.

Every section is a model of its own so that each stage receives only the sizes it needs.
A config file's relative paths are read from the file's own folder (`load_config`), so it runs from
anywhere; paths given with `--set`, and those of a config built in code, from the current directory.
"""

from __future__ import annotations

import copy
import difflib
import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from slotfill.choices import (
    BUILTIN_GAZETTEERS,
    CELLS,
    CONTEXT_FEEDS,
    DATA_FORMATS,
    DATASETS,
    DATE_ORDERS,
    DECODERS,
    DEFAULT_VALUE_RULES,
    DEVICES,
    EMBEDDING_KINDS,
    HOUR_READINGS,
    LR_SCHEDULES,
    MAX_GAZETTEERS,
    MISALIGNED,
    MONITORS,
    OUT_OF_SCOPE_LABEL,
    OVERLAPPING,
    REJECTIONS,
    SPAN_PUNCTUATION,
    TRANSFORMER_MODES,
    TRANSFORMER_POOLINGS,
    TRANSFORMER_SOURCES,
    VALUE_OPTIONS,
    VALUE_RESOLVERS,
    VECTOR_FORMATS,
    VECTOR_JOINS,
    VECTOR_SOURCES,
)
from slotfill.errors import ConfigError
from slotfill.files import download_dir
from slotfill.options import BATCH_SIZE

log = logging.getLogger(__name__)


def value_rules(values: Mapping[str, Any]) -> dict[str, str]:
    """A `values:` section's rules (slot-label pattern -> resolver), its options (VALUE_OPTIONS) left out."""
    return {pattern: resolver for pattern, resolver in values.items() if pattern not in VALUE_OPTIONS}


def rule_error(rules: Mapping[str, Any], lists: Sequence[str]) -> str | None:
    """What is wrong with the first bad entry of a `values:` section (naming its key), or None: an
    option must be one of its choices (VALUE_OPTIONS: `date_order`, `hours`, `days` as name -> "MM-DD"),
    and a rule's resolver one of VALUE_RESOLVERS or `entry:LIST` with LIST one of the config's gazetteers."""
    for key, choices in (("date_order", DATE_ORDERS), ("hours", HOUR_READINGS)):
        if key in rules and rules[key] not in choices:
            return f"{key}: {rules[key]!r} is not one of {', '.join(choices)}"
    days = rules.get("days", {})
    if not isinstance(days, dict):
        return f'days: {days!r} is not a mapping of day names to month-day ("christmas": "12-25")'
    for name, month_day in days.items():
        if not isinstance(month_day, str) or not _month_day(month_day):
            return f'days: {name}: {month_day!r} is not a month-day such as "12-25"'
    for pattern, resolver in value_rules(rules).items():
        if not isinstance(resolver, str):
            return f"{pattern}: {resolver!r} is not a resolver's name"
        name, _, target = resolver.partition(":")
        if name == "entry" and target:
            if target not in lists:
                known = ", ".join(lists) or "none"
                return f"{pattern}: {resolver!r} names no gazetteer of the config (it has: {known})"
        elif resolver not in VALUE_RESOLVERS:
            return f"{pattern}: {resolver!r} is not a resolver (one of: {', '.join(VALUE_RESOLVERS)}, entry:LIST)"
    return None


def _month_day(text: str) -> bool:
    match = re.fullmatch(r"(\d{1,2})-(\d{1,2})", text)
    return bool(match) and 1 <= int(match.group(1)) <= 12 and 1 <= int(match.group(2)) <= 31


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(Section):
    format: Literal[("auto", *DATA_FORMATS)] = "auto"  # type: ignore[valid-type]
    dataset: Literal[DATASETS] | None = None  # a downloaded benchmark (`slotfill data download NAME`)  # type: ignore[valid-type]
    dir: Path | None = None  # the splits' directory; default: the dataset's download, else data/demo
    train: str | list[str] = "train"  # one split, or several read as one (e.g. the old data + corrected.jsonl)
    dev: str | None = "dev"
    test: str | None = "test"
    strict_bio: bool = False
    misaligned: Literal[MISALIGNED] = "expand"  # a span inside a token: see docs/data.md  # type: ignore[valid-type]
    overlapping: Literal[OVERLAPPING] = "longer"  # two slots overlapping as annotated  # type: ignore[valid-type]
    span_punctuation: Literal[SPAN_PUNCTUATION] = "trim"  # punctuation at a slot's edge  # type: ignore[valid-type]

    def resolved_dir(self) -> Path:
        """Where the splits are: `dir` when given, else the downloaded `dataset`, else data/demo."""
        if self.dir is not None:
            return self.dir
        if self.dataset is not None:
            return download_dir("datasets", self.dataset)
        return Path("data/demo")

    def split_path(self, split: str) -> Path:
        return self.resolved_dir() / split

    @property
    def train_splits(self) -> list[str]:
        """`train` as a list: the splits read, in order, into one training set."""
        return [self.train] if isinstance(self.train, str) else list(self.train)

    @field_validator("train")
    @classmethod
    def _some_training_split(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not value:
            raise ValueError("name at least one split")
        return value


class VocabConfig(Section):
    min_freq: int = Field(1, ge=1)


class VectorsConfig(Section):
    """Pretrained word vectors beside the learned table (docs/vectors.md)."""

    # a name `slotfill vectors download` knows (choices.VECTOR_SOURCES), or a vectors file or directory
    source: str = Field(min_length=1)
    format: Literal[VECTOR_FORMATS] = "auto"  # type: ignore[valid-type]
    max_words: int = Field(100_000, ge=1)  # the most frequent words of the source are kept (from its top)
    # concat: frozen vectors beside the learned vector; project: the learned vector plus a learned
    # map of the frozen one; init: the learned rows start from the vectors (dim must be theirs)
    join: Literal[VECTOR_JOINS] = "concat"  # type: ignore[valid-type]

    def resolved_path(self) -> Path:
        """Where the vectors are: the download's directory for a known name, else the path given."""
        if self.source in VECTOR_SOURCES:
            return download_dir("vectors", self.source)
        return Path(self.source)


class EmbeddingConfig(Section):
    kind: Literal[EMBEDDING_KINDS] = "learned"  # type: ignore[valid-type]
    dim: int = Field(100, gt=0)  # unused by one_hot, whose size is the vocabulary's
    word_dropout: float = Field(0.1, ge=0.0, lt=1.0)
    # share of the dropped words that also lose their character features: the model then learns
    # to tag a word it knows nothing about from its context alone
    word_dropout_chars: float = Field(0.0, ge=0.0, le=1.0)
    vectors: VectorsConfig | None = None

    @model_validator(mode="after")
    def _vectors_need_a_table(self) -> EmbeddingConfig:
        if self.vectors is not None and self.kind != "learned":
            raise ValueError(f"word vectors join a learned table (kind: learned), not kind {self.kind}")
        return self


class CharConfig(Section):
    enabled: bool = True
    dim: int = Field(32, gt=0)
    filters: int = Field(64, gt=0)
    kernel_size: int = Field(3, gt=0)

    @field_validator("kernel_size")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError("must be odd (one convolution output per character)")
        return value


class EncoderConfig(Section):
    cell: Literal[CELLS] = "lstm"  # type: ignore[valid-type]
    hidden_size: int = Field(200, gt=0)
    num_layers: int = Field(1, ge=1)
    bidirectional: bool = True
    dropout: float = Field(0.3, ge=0.0, lt=1.0)


class IntentConfig(Section):
    enabled: bool = True
    loss_weight: float = Field(1.0, ge=0.0)


DEFAULT_TRANSFORMER_LR = 5e-5  # a fine-tuned transformer's learning rate (BERT's fine-tuning range is 2e-5 to 1e-4)
DEFAULT_TRANSFORMER_WARMUP = 0.1


class TransformerConfig(Section):
    """A pretrained transformer's features beside the others (docs/transformers.md)."""

    # a name `slotfill transformers download` knows (choices.TRANSFORMER_SOURCES), or a Hugging Face model folder
    source: str = Field(min_length=1)
    pooling: Literal[TRANSFORMER_POOLINGS] = "mean"  # type: ignore[valid-type]  # a token's pieces: their mean or the first
    mode: Literal[TRANSFORMER_MODES] = "frozen"  # type: ignore[valid-type]
    # the hidden states averaged into a piece's state: 0 the embeddings, 1..N the layers, -1 the last;
    # the layers above the highest one are not run (a sentence-embedding model's top layers know
    # less of each word than its middle ones: docs/transformers.md)
    layers: list[int] = [-1]
    # fine_tuned only (null otherwise): the transformer's own learning rate, reached by a linear warm-up
    # over the `warmup` share of the run's steps, then decayed linearly to 0 at its last step (the
    # rest of the tagger keeps training.lr and training.lr_schedule)
    lr: float | None = Field(None, gt=0.0)
    warmup: float | None = Field(None, ge=0.0, lt=1.0)

    @model_validator(mode="before")
    @classmethod
    def _fine_tuning_defaults(cls, data: Any) -> Any:
        """A fine_tuned transformer's lr and warmup, where not given (the saved config shows them)."""
        if isinstance(data, dict) and data.get("mode") == "fine_tuned":
            given = {key: value for key, value in data.items() if value is not None or key not in ("lr", "warmup")}
            return {"lr": DEFAULT_TRANSFORMER_LR, "warmup": DEFAULT_TRANSFORMER_WARMUP, **given}
        return data

    @field_validator("layers")
    @classmethod
    def _some_distinct_layers(cls, value: list[int]) -> list[int]:
        if not value or len(set(value)) != len(value):
            raise ValueError("name at least one layer, each once")
        return value

    @model_validator(mode="after")
    def _fine_tuning_keys(self) -> TransformerConfig:
        given = [key for key in ("lr", "warmup") if getattr(self, key) is not None]
        if given and self.mode != "fine_tuned":
            raise ValueError(
                f"{given[0]} is read only with mode: fine_tuned (a {self.mode} transformer is not trained)"
            )
        return self

    def resolved_path(self) -> Path:
        """Where the model folder is: the download's directory for a known name, else the path given."""
        if self.source in TRANSFORMER_SOURCES:
            return download_dir("transformers", self.source)
        return Path(self.source)


class ContextConfig(Section):
    """The dialogue context a model reads: the slots the system requested before the turn
    (docs/dialogue-context.md)."""

    # whether the model reads it: true, false, or auto (when the training data has requested slots)
    enabled: bool | Literal["auto"] = "auto"
    feed: Literal[CONTEXT_FEEDS] = "input"  # type: ignore[valid-type]  # measured best on DSTC8 (docs/dialogue-context.md)
    dim: int = Field(16, gt=0)  # the width of the requested-slot embedding joined to every token (feed input, both)
    # the share of training turns whose context is hidden: the model also parses a turn without one
    dropout: float = Field(0.3, ge=0.0, lt=1.0)


class ModelConfig(Section):
    embedding: EmbeddingConfig = EmbeddingConfig()
    chars: CharConfig = CharConfig()
    encoder: EncoderConfig = EncoderConfig()
    dropout: float = Field(0.3, ge=0.0, lt=1.0)
    # probability, per token and list, of hiding a gazetteer match in training: the model must
    # not trust a list blindly, nor fail on a value missing from it
    gazetteer_dropout: float = Field(0.1, ge=0.0, lt=1.0)
    decoder: Literal[DECODERS] = "crf"  # type: ignore[valid-type]
    intent: IntentConfig = IntentConfig()
    transformer: TransformerConfig | None = None
    context: ContextConfig = ContextConfig()


class TrainingConfig(Section):
    epochs: int = Field(30, ge=1)
    batch_size: int = Field(32, ge=1)
    lr: float = Field(1e-3, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    grad_clip: float = Field(5.0, gt=0.0)
    patience: int = Field(8, ge=1)
    monitor: Literal[MONITORS] = "slot_f1"  # type: ignore[valid-type]  # what picks the best epoch on dev
    lr_schedule: Literal[LR_SCHEDULES] = "constant"  # type: ignore[valid-type]  # linear: decay to 0 at the last epoch
    ema_decay: float = Field(0.0, ge=0.0, lt=1.0)  # > 0: evaluate and keep a moving average of the weights
    eval_batch_size: int = Field(BATCH_SIZE, ge=1)
    # probability of replacing a training slot value by another value of its gazetteer (each epoch anew)
    substitution: float = Field(0.0, ge=0.0, le=1.0)
    # probability of adding a courtesy ("please", "thanks", "hi", ...) at a training sentence's start or end
    courtesy: float = Field(0.0, ge=0.0, le=1.0)


class OutOfScopeConfig(Section):
    """Utterances outside the model's intents (docs/out-of-scope.md): what marks them in
    the data, what trains the model to know them, and how it rejects one."""

    # the intent label of out-of-scope examples, in every data format (training, dev, test); never a
    # real intent's name nor the start of one
    intent: str = Field(OUT_OF_SCOPE_LABEL, min_length=1)
    # generated noise utterances trained as out of scope (words of the model's language, lengths of
    # its training utterances): this many times the mean number of examples an intent has; 0: none
    noise: float = Field(1.0, ge=0.0, le=20.0)
    # the share of that noise made fluent: training utterances whose slot words and words outside the
    # language's most frequent ones are replaced by frequent words the training data never uses
    # ("show me flights from boston" -> "garage me works from user"); the rest is random words
    fluent: float = Field(0.5, ge=0.0, le=1.0)
    # distance: an utterance farther from the training utterances than `keep` of the in-scope training
    # (out of fold) and dev utterances are is rejected, and so is one whose best intent is the
    # out-of-scope class; confidence (0.4's): one whose intent confidence is below the threshold that
    # keeps `keep` of the in-scope dev utterances; class: that class alone rejects
    method: Literal[REJECTIONS] = "distance"  # type: ignore[valid-type]
    keep: float = Field(0.998, gt=0.5, lt=1.0)
    # the distance: 1 - the mean cosine similarity of this many nearest training utterances, in the
    # sentence states' `dims` principal directions, whitened; the training utterances' own distances
    # are taken out of `folds` folds (slotfill.decoding.neighbours)
    neighbours: int = Field(10, ge=1, le=100)
    dims: int = Field(128, ge=2, le=1024)
    folds: int = Field(5, ge=2, le=20)
    # an utterance whose two best intents are closer than this in confidence is rejected as ambiguous
    ambiguity: float = Field(0.0, ge=0.0, lt=1.0)

    def scores_needed(self) -> int:
        """The in-scope utterances a threshold that keeps `keep` of them needs (one may fall beyond it):
        dev utterances for a confidence threshold, training and dev ones for a distance."""
        return math.ceil(round(1.0 / (1.0 - self.keep), 6))


class PatternSource(Section):
    """A named regular expression (the `regex` module, docs/patterns.md): a token feature, and with
    `slot` an extractor that fills that slot type with its matches where the model found none."""

    regex: str = Field(min_length=1, max_length=1000)
    slot: str | None = None


class GazetteerSource(Section):
    """Where one gazetteer's entries come from (merged when several are given)."""

    builtin: Literal[BUILTIN_GAZETTEERS] | None = None  # type: ignore[valid-type]
    file: Path | None = None
    slots: list[str] = []  # slot types whose training values join the list (and are substituted from it)
    lookup: str | None = None  # a lookup list of the training data (Rasa lookup or synonyms, Snips entity)

    @model_validator(mode="after")
    def _has_a_source(self) -> GazetteerSource:
        if self.builtin is None and self.file is None and not self.slots and self.lookup is None:
            raise ValueError("give at least one of builtin, file, slots, lookup")
        return self


class Config(Section):
    seed: int = Field(13, ge=0, lt=2**63)
    device: Literal[DEVICES] = "auto"  # type: ignore[valid-type]
    data: DataConfig = DataConfig()
    vocab: VocabConfig = VocabConfig()
    model: ModelConfig = ModelConfig()
    training: TrainingConfig = TrainingConfig()
    gazetteers: dict[str, GazetteerSource] = {}
    # named regular expressions read as token features (a string) or also as extractors ({regex, slot})
    patterns: dict[str, str | PatternSource] = {}
    out_of_scope: OutOfScopeConfig = OutOfScopeConfig()
    # slot values: slot-label pattern -> resolver, first match wins (docs/values.md); {}: none; beside
    # them the options VALUE_OPTIONS (date_order, hours, days)
    values: dict[str, Any] = dict(DEFAULT_VALUE_RULES)

    @field_validator("gazetteers")
    @classmethod
    def _gazetteer_names(cls, value: dict[str, GazetteerSource]) -> dict[str, GazetteerSource]:
        if len(value) > MAX_GAZETTEERS:
            raise ValueError(f"at most {MAX_GAZETTEERS} gazetteers")
        for name in value:
            if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name):
                raise ValueError(f"{name!r}: a gazetteer name is letters, digits, '_', '.', '-'")
        claimed: dict[str, str] = {}
        for name, source in value.items():
            for slot in source.slots:
                if slot in claimed:
                    raise ValueError(f"slot type {slot!r} is in both {claimed[slot]!r} and {name!r}")
                claimed[slot] = name
        return value

    @field_validator("training")
    @classmethod
    def _monitor_measured(cls, value: TrainingConfig, info: ValidationInfo) -> TrainingConfig:
        model = info.data.get("model")
        if value.monitor == "intent_accuracy" and model is not None and not model.intent.enabled:
            raise ValueError("monitor: intent_accuracy, but model.intent.enabled is false")
        return value

    @field_validator("values")
    @classmethod
    def _value_rules(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        problem = rule_error(value, list(info.data.get("gazetteers") or {}))
        if problem is not None:
            raise ValueError(problem)
        return value

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


def _error_line(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{source}: {key}: {message}{more}"


def parse_override(override: str) -> tuple[list[str], Any]:
    """`training.epochs=3` → (["training", "epochs"], 3); the value is read as YAML."""
    key, sep, raw = override.partition("=")
    if not sep or not key.strip() or any(not part for part in key.strip().split(".")):
        raise ConfigError(f"--set {override!r}: expected KEY=VALUE with a dotted key, e.g. training.epochs=3")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for override in overrides:
        path, value = parse_override(override)
        path = _current_path(path)
        node = raw
        for depth, part in enumerate(path[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {override!r}: {'.'.join(path[: depth + 1])} is not a section")
            node = child
        node[path[-1]] = value
    return raw


# keys renamed since 0.4 (one name per concept: docs/design.md), old -> new: a config or a saved
# model that uses an old one still loads, with one logged line naming the new key
RENAMED_KEYS = {
    "model.encoder_features": "model.transformer",
    "model.embedding.pretrained": "model.embedding.vectors",
}


def with_current_keys(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """`raw` with each old key of RENAMED_KEYS moved to its new name (a note logged for each that
    holds a value; a copy where anything moves, the caller's dict untouched); both given is a
    ConfigError naming them."""
    for old, new in RENAMED_KEYS.items():
        *path, old_name = old.split(".")
        node = _section(raw, path)
        if not isinstance(node, dict) or old_name not in node:
            continue
        raw = copy.deepcopy(raw)  # the caller's dict stays as given
        node = _section(raw, path)
        new_name = new.rsplit(".", 1)[1]
        if new_name in node:
            raise ConfigError(f"{source}: {old} and {new} are the same setting (renamed in 0.5): give {new} only")
        value = node.pop(old_name)
        node[new_name] = value
        if value is not None:
            log.warning("%s: %s is now called %s (the old name still works)", source, old, new)
    return raw


def _section(raw: Any, path: list[str]) -> Any:
    for part in path:
        raw = raw.get(part) if isinstance(raw, dict) else None
    return raw


def _current_path(path: list[str]) -> list[str]:
    """A `--set` key's path with an old key of RENAMED_KEYS at its start replaced by the new one."""
    dotted = ".".join(path)
    for old, new in RENAMED_KEYS.items():
        if dotted == old or dotted.startswith(old + "."):
            log.warning("--set: %s is now called %s (the old name still works)", old, new)
            return (new + dotted[len(old) :]).split(".")
    return path


def config_from_dict(raw: object, source: str = "config") -> Config:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of sections at the top level")
    raw = with_current_keys(raw, source)
    try:
        return Config.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_error_line(error, source)) from None


def _relative_to(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    """Relative paths of a config file (data.dir, gazetteers.*.file, model.embedding.vectors.source)
    read from the file's directory."""
    data = raw.get("data")
    if isinstance(data, dict) and isinstance(data.get("dir"), str) and not Path(data["dir"]).is_absolute():
        data["dir"] = str((base / data["dir"]).resolve())
    model = raw.get("model")
    embedding = model.get("embedding") if isinstance(model, dict) else None
    vectors = embedding.get("vectors") if isinstance(embedding, dict) else None
    source = vectors.get("source") if isinstance(vectors, dict) else None
    if isinstance(source, str) and source not in VECTOR_SOURCES and not Path(source).is_absolute():
        vectors["source"] = str((base / source).resolve())
    transformer = model.get("transformer") if isinstance(model, dict) else None
    source = transformer.get("source") if isinstance(transformer, dict) else None
    if isinstance(source, str) and source not in TRANSFORMER_SOURCES and not Path(source).is_absolute():
        transformer["source"] = str((base / source).resolve())
    gazetteers = raw.get("gazetteers")
    for source in gazetteers.values() if isinstance(gazetteers, dict) else ():
        if isinstance(source, dict) and isinstance(source.get("file"), str) and not Path(source["file"]).is_absolute():
            source["file"] = str((base / source["file"]).resolve())
    return raw


def config_keys(model: type[BaseModel] = None, prefix: str = "") -> list[str]:  # type: ignore[assignment]
    """Every dotted key of the config (`training.epochs`, ...), for suggestions."""
    keys = []
    for name, field in (model or Config).model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += config_keys(annotation, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


def _override_error(error: ValidationError) -> str:
    """An error caused by `--set`: named so, with the nearest key for a mistyped one."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    if first["type"] != "extra_forbidden":
        return _error_line(error, "--set")
    close = difflib.get_close_matches(key, config_keys(), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"--set: {key}: unknown key{hint}"


def load_config(path: str | Path, overrides: list[str] | None = None, *, relative_to_file: bool = True) -> Config:
    """Read a YAML config, apply `KEY=VALUE` overrides, validate. Raises ConfigError.

    With `relative_to_file` (a user's config), its relative paths are read from the file's own
    directory, so it runs from anywhere; paths given with `--set` stay relative to the current
    directory. A saved config (model, checkpoint) holds absolute paths already."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path.absolute()}: no such config file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read ({error})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(error, 'problem', error)})") from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    raw = with_current_keys(raw, str(path))
    if relative_to_file:
        raw = _relative_to(raw, path.parent)
    config = config_from_dict(copy.deepcopy(raw), str(path))  # the file alone: its errors are the file's
    if not overrides:
        return config
    try:
        return Config.model_validate(apply_overrides(raw, overrides))
    except ValidationError as error:
        raise ConfigError(_override_error(error)) from None
