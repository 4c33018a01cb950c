"""Out-of-scope utterances: the threshold fitted on dev, and how well a model tells its intents from
everything else (docs/out-of-scope.md).

An utterance is out of scope in gold when its intent is the config's `out_of_scope.intent` label;
the model rejects one when slotfill.decoding.types.Rejection says so. The measures are those of
the CLINC150 paper (Larson et al. 2019): in-scope accuracy (a rejected in-scope utterance is
wrong), out-of-scope recall (the share rejected) and precision, and beside them the AUROC of the
in-scope confidence and the share of in-scope utterances wrongly rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from slotfill.config import OutOfScopeConfig
from slotfill.data.example import Example
from slotfill.decoding.tagging import Tagged, tag_token_lists
from slotfill.decoding.types import Decoding, Rejection, SentenceDecoder
from slotfill.errors import ConfigError
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.vocab import Vocab


def check_calibration(settings: OutOfScopeConfig, dev: Sequence[Example] | None) -> None:
    """A dev split too small for the threshold is a ConfigError (one line), before training."""
    if settings.method == "class" or dev is None:
        return
    have = sum(1 for e in dev if e.intent is not None and e.intent != settings.intent)
    needed = settings.dev_needed()
    if have < needed:
        raise ConfigError(
            f"out_of_scope.keep: {settings.keep} needs at least {needed} in-scope dev utterances to fit its threshold; "
            f"data.dev has {have} (add dev utterances, lower keep, or set out_of_scope.method: class)"
        )


def fit_rejection(
    decoder: SentenceDecoder,
    vocab: Vocab,
    dev: Sequence[Example],
    settings: OutOfScopeConfig,
    batch_size: int = 256,
    *,
    gazetteers: GazetteerSet = GazetteerSet(),
) -> dict[str, Any]:
    """The rejection to save in calibration.json: the confidence threshold under which fewer than
    1 - keep of the in-scope dev utterances fall (none with method off), the ambiguity gap, and
    what they do on dev."""
    intent_id = vocab.intents[settings.intent] if settings.intent in vocab.intents else None
    tokens = [e.tokens for e in dev]
    unthresholded = Decoding(rejection=Rejection(intent_id))
    tagged = tag_token_lists(decoder, vocab, tokens, batch_size, gazetteers=gazetteers, decoding=unthresholded)
    in_scope = sorted(t.in_scope_confidence or 0.0 for e, t in zip(dev, tagged) if _in_scope(e, settings.intent))
    threshold = 0.0
    if settings.method == "confidence" and in_scope:
        threshold = in_scope[int((1.0 - settings.keep) * len(in_scope))]
    rejection = Rejection(intent_id, threshold, settings.ambiguity)
    tagged = tag_token_lists(
        decoder, vocab, tokens, batch_size, gazetteers=gazetteers, decoding=Decoding(rejection=rejection)
    )
    fitted = {
        "intent": settings.intent,
        "method": settings.method,
        "keep": settings.keep,
        "threshold": round(threshold, 6),
        "ambiguity": settings.ambiguity,
        "dev_in_scope": len(in_scope),
        "dev_in_scope_rejected": sum(1 for e, t in zip(dev, tagged) if _in_scope(e, settings.intent) and t.rejected),
    }
    out = [t for e, t in zip(dev, tagged) if e.intent == settings.intent]
    if out:
        fitted["dev_out_of_scope"] = len(out)
        fitted["dev_out_of_scope_rejected"] = sum(1 for t in out if t.rejected)
    return fitted


def _in_scope(example: Example, label: str) -> bool:
    return example.intent is not None and example.intent != label


def predicted_intent(tagged: Tagged, label: str) -> str | None:
    """The intent a parse answers, for scoring: the out-of-scope label where it is rejected."""
    return label if tagged.rejected else tagged.intent


def out_of_scope_metrics(examples: Sequence[Example], tagged: Sequence[Tagged], label: str) -> dict[str, Any]:
    """The CLINC150 measures, with the AUROC of the in-scope confidence and the histograms of it,
    in scope and out (report.html draws them)."""
    gold_out = [e.intent == label for e in examples]
    rejected = [t.rejected is not None for t in tagged]
    in_scope = [i for i, (e, out) in enumerate(zip(examples, gold_out)) if e.intent is not None and not out]
    out_of_scope = [i for i, out in enumerate(gold_out) if out]
    right = sum(1 for i in in_scope if not rejected[i] and tagged[i].intent == examples[i].intent)
    caught = sum(1 for i in out_of_scope if rejected[i])
    flagged = sum(1 for i in in_scope + out_of_scope if rejected[i])
    precision = _ratio(caught, flagged)
    recall = _ratio(caught, len(out_of_scope))
    confidence = np.array([t.in_scope_confidence if t.in_scope_confidence is not None else 0.0 for t in tagged])
    bins = np.linspace(0.0, 1.0, 21)
    return {
        "in_scope": len(in_scope),
        "out_of_scope": len(out_of_scope),
        "in_scope_accuracy": _ratio(right, len(in_scope)),
        "in_scope_rejected": _ratio(sum(1 for i in in_scope if rejected[i]), len(in_scope)),
        "out_of_scope_precision": precision,
        "out_of_scope_recall": recall,
        "out_of_scope_f1": None if precision is None or recall is None else _f1(precision, recall),
        "auroc": auroc(confidence[in_scope], confidence[out_of_scope]),
        "confidence_histogram": {
            "bins": bins.round(2).tolist(),
            "in_scope": np.histogram(confidence[in_scope], bins)[0].tolist(),
            "out_of_scope": np.histogram(confidence[out_of_scope], bins)[0].tolist(),
        },
    }


# the measures evaluate shows (table, report page), in order; each None where undefined (no utterance
# of the kind it is a share of): shown as n/a, null in --json
OUT_OF_SCOPE_MEASURES = (
    "in_scope_accuracy", "in_scope_rejected", "out_of_scope_precision", "out_of_scope_recall", "out_of_scope_f1",
)  # fmt: skip


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def as_percent(value: float | None) -> str:
    """A measure as people read it: a percentage with two decimals, n/a where it is undefined."""
    return "n/a" if value is None else f"{100 * value:.2f}"


def auroc(in_scope: np.ndarray, out_of_scope: np.ndarray) -> float | None:
    """The probability that an in-scope utterance has a higher in-scope confidence than an
    out-of-scope one (ties half): the area under the ROC curve of rejecting by that confidence
    (Mann-Whitney U over the ranks). None without both kinds."""
    if not len(in_scope) or not len(out_of_scope):
        return None
    scores = np.concatenate([in_scope, out_of_scope])
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    mean_ranks = np.cumsum(counts) - (counts - 1) / 2  # tied scores share the mean of their ranks (from 1)
    u = mean_ranks[inverse][: len(in_scope)].sum() - len(in_scope) * (len(in_scope) + 1) / 2
    return float(u / (len(in_scope) * len(out_of_scope)))
