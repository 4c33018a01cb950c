"""The options of a predictor, torch-free and import-light: what `predict`, `tag`, `serve` and
`annotate` declare (their defaults are these) and what slotfill.predict.Predictor takes."""

from __future__ import annotations

from dataclasses import dataclass

from slotfill.choices import MAX_ALTERNATIVES
from slotfill.errors import ConfigError


@dataclass(frozen=True)
class Limits:
    """The most one utterance may hold; a longer one gets `{"error": ...}` instead of a parse."""

    max_chars: int = 100_000
    max_tokens: int = 5_000


@dataclass(frozen=True)
class ParseOptions:
    """What a parse includes: the k best alternatives, the confidence below which a slot goes to
    `low_confidence`, and the intent confidence below which the utterance is rejected as out of
    scope (None: the model's own threshold, fitted on dev; 0: no threshold)."""

    alternatives: int = 0
    min_confidence: float = 0.0
    min_intent_confidence: float | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.alternatives, int) and 0 <= self.alternatives <= MAX_ALTERNATIVES):
            raise ConfigError(f"alternatives: {self.alternatives!r} is not a whole number from 0 to {MAX_ALTERNATIVES}")
        for name in ("min_confidence", "min_intent_confidence"):
            value = getattr(self, name)
            if value is None and name == "min_intent_confidence":
                continue
            if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):  # NaN fails both comparisons
                raise ConfigError(f"{name}: {value!r} is not a number from 0 to 1")


@dataclass(frozen=True)
class PredictorOptions:
    """How a Predictor is loaded: the one set of options of `predict`, `tag`, `serve` and
    `annotate`, whose defaults are these. `gazetteers`: NAME=FILE (or NAME=FILE:replace) specs."""

    device: str = "auto"
    batch_size: int = 256
    threads: int | None = None
    gazetteers: tuple[str, ...] = ()
    limits: Limits = Limits()
    values: bool = True
    timezone: str | None = None
