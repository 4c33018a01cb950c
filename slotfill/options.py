"""The options of a predictor and of the server, torch-free and import-light: each declared once,
here, with its default, its bounds and its help. slotfill.predict.Predictor takes them; the
commands (`predict`, `tag`, `serve`, `annotate`) and the server's request schema derive their
options from these declarations (`declared`), so a default or a bound is never written twice."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from slotfill.choices import MAX_ALTERNATIVES
from slotfill.errors import ConfigError

BATCH_SIZE = 256  # sentences tagged together, in inference and evaluation (training.eval_batch_size too)


@dataclass(frozen=True)
class Declared:
    """What an option says of itself: its help, and its bounds where it has any (inclusive)."""

    help: str
    low: float | None = None
    high: float | None = None


def _option(default: Any, help: str, low: float | None = None, high: float | None = None) -> Any:
    return field(default=default, metadata={"declared": Declared(help, low, high)})


def declared(options: type, name: str) -> Declared:
    """The declaration of option `name` of `options` (a dataclass of this module)."""
    return next(f for f in dataclasses.fields(options) if f.name == name).metadata["declared"]


def _check_bounds(options: Any) -> None:
    """ConfigError (one line, naming the option) for a value outside its declared bounds."""
    for item in dataclasses.fields(options):
        bounds: Declared | None = item.metadata.get("declared")
        value = getattr(options, item.name)
        if bounds is None or bounds.low is None or value is None:
            continue
        whole = isinstance(item.default, int) and not isinstance(item.default, bool)
        kind = "whole number" if whole else "number"
        fits = isinstance(value, int) if whole else isinstance(value, int | float)
        high = bounds.high if bounds.high is not None else float("inf")
        if not (fits and not isinstance(value, bool) and bounds.low <= value <= high):
            # NaN fails both comparisons
            upper = f" to {bounds.high:g}" if bounds.high is not None else " or more"
            raise ConfigError(f"{item.name}: {value!r} is not a {kind} from {bounds.low:g}{upper}")


@dataclass(frozen=True)
class Limits:
    """The most one utterance may hold; a longer one gets `{"error": ...}` instead of a parse."""

    max_chars: int = _option(100_000, "Longest utterance tagged (longer: an error line).", 1)
    max_tokens: int = _option(5_000, "Most tokens in an utterance (more: an error line).", 1)


@dataclass(frozen=True)
class ParseOptions:
    """What a parse includes and how it reads: the k best alternatives, the confidence below which
    a slot goes to `low_confidence`, the intent confidence below which the utterance is rejected as
    out of scope, the reference time of relative values, and whether values are resolved."""

    alternatives: int = _option(0, "The K best intents and tag sequences, with probabilities.", 0, MAX_ALTERNATIVES)
    min_confidence: float = _option(0.0, "Slots below this confidence go to low_confidence instead of slots.", 0.0, 1.0)
    min_intent_confidence: float | None = _option(
        None,
        "Reject an utterance whose intent confidence is below this (intent null, rejected: out_of_scope). "
        "Default: the model's threshold, fitted on dev; 0: none (only its out-of-scope class rejects).",
        0.0,
        1.0,
    )
    now: Any = _option(
        None,
        'The reference time relative values resolve against ("tomorrow", "in two hours"), ISO 8601, e.g. '
        "2026-12-01T09:00 or 2026-12-01T09:00:00+01:00. Default: now.",
    )
    values: bool = _option(True, "Resolve slot values and the frame.")

    def __post_init__(self) -> None:
        _check_bounds(self)


@dataclass(frozen=True)
class PredictorOptions:
    """How a Predictor is loaded: the one set of options of `predict`, `tag`, `serve` and
    `annotate`, whose defaults are these. `gazetteers`: NAME=FILE (or NAME=FILE:replace) specs."""

    device: str = "auto"
    batch_size: int = _option(BATCH_SIZE, "Sentences per batch.", 1)
    threads: int | None = None
    gazetteers: tuple[str, ...] = ()
    limits: Limits = Limits()
    values: bool = True
    timezone: str | None = _option(
        None, "The time zone of --now and of the current time, e.g. Europe/Paris. Default: the machine's."
    )


@dataclass(frozen=True)
class ServeLimits:
    """What the server accepts (`slotfill serve`'s options): beyond a limit, a request gets 413
    (408 for a body that stops arriving)."""

    max_text_chars: int = _option(5_000, "Longest text accepted (413 beyond).", 1)
    max_tokens: int = _option(1_000, "Most tokens in one text (413 beyond).", 1)
    max_batch: int = _option(BATCH_SIZE, "Most texts in one /parse/batch request (413 beyond).", 1)
    max_body_bytes: int = 2_000_000
    max_request_tokens: int = 50_000  # all texts of one request together
    tokens_per_step: int = 4_096  # the most the model worker tags in one step, across requests
    read_timeout_s: float = _option(10.0, "Seconds to wait for each piece of a request body (408 beyond).", 0.1)
    keep_alive_s: float = _option(5.0, "Seconds an idle connection stays open.", 0.1)
    shutdown_timeout_s: float = _option(10.0, "Seconds SIGTERM gives open connections before the server stops.", 0.1)
