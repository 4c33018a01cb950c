"""Out-of-scope utterances: the threshold fitted on dev, and how well a model tells its intents from
everything else (docs/out-of-scope.md).

An utterance is out of scope in gold when its intent is the config's `out_of_scope.intent` label;
the model rejects one when slotfill.decoding.types.Rejection says so. The measures are those of
the CLINC150 paper (Larson et al. 2019): in-scope accuracy (a rejected in-scope utterance is
wrong), out-of-scope recall (the share rejected) and precision, and beside them the AUROC of the
in-scope confidence and the share of in-scope utterances wrongly rejected.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np

from slotfill.config import OutOfScopeConfig
from slotfill.data.example import Example
from slotfill.decoding.neighbours import NeighbourIndex, fit_index, out_of_fold_distances
from slotfill.decoding.tagging import Tagged, tag_token_lists
from slotfill.decoding.types import Decoding, Rejection, SentenceDecoder
from slotfill.errors import ConfigError
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.vocab import Vocab
from slotfill.options import BATCH_SIZE


class FittedRejection(NamedTuple):
    calibration: dict[str, Any]  # calibration.json's `out_of_scope`
    rejection: Rejection  # as a model read back from it rejects (its index: out_of_scope.safetensors)


def check_calibration(settings: OutOfScopeConfig, train: Sequence[Example], dev: Sequence[Example] | None) -> None:
    """Too few in-scope utterances for the rejection's threshold is a ConfigError (one line), before
    training: a confidence threshold is fitted on dev, a distance on the training utterances and dev."""
    if settings.method == "class" or dev is None:
        return
    needed, dev_count = settings.scores_needed(), sum(1 for e in dev if _in_scope(e, settings.intent))
    if settings.method == "confidence" and dev_count < needed:
        raise ConfigError(
            f"out_of_scope.keep: {settings.keep} needs at least {needed} in-scope dev utterances to fit its threshold; "
            f"data.dev has {dev_count} (add dev utterances, lower keep, or set out_of_scope.method: class)"
        )
    train_count = sum(1 for e in train if _in_scope(e, settings.intent))
    if settings.method == "distance" and (train_count + dev_count < needed or train_count < 2 * settings.folds):
        raise ConfigError(
            f"out_of_scope.keep: {settings.keep} needs at least {needed} in-scope training and dev utterances "
            f"(at least {2 * settings.folds} of them training ones) to fit its distance; data.train and data.dev "
            f"have {train_count} and {dev_count} (lower keep, or set out_of_scope.method: class)"
        )


def fit_rejection(
    decoder: SentenceDecoder,
    vocab: Vocab,
    dev: Sequence[Example],
    settings: OutOfScopeConfig,
    batch_size: int = BATCH_SIZE,
    *,
    train: Sequence[Example] = (),
    gazetteers: GazetteerSet = GazetteerSet(),
) -> FittedRejection:
    """The rejection fitted, and what to save of it: calibration.json's `out_of_scope` (the
    threshold, the ambiguity gap, how many scores the threshold came from and what it does on dev)
    and, for method distance, the index of the in-scope training utterances (`rejection.index`,
    out_of_scope.safetensors)."""
    intent_id = vocab.intents[settings.intent] if settings.intent in vocab.intents else None
    tag = functools.partial(tag_token_lists, decoder, vocab, batch_size=batch_size, gazetteers=gazetteers)
    contexts = [e.context for e in dev]
    unthresholded = tag([e.tokens for e in dev], decoding=Decoding(rejection=Rejection(intent_id)), contexts=contexts)
    in_dev = [t for e, t in zip(dev, unthresholded) if _in_scope(e, settings.intent)]
    fitted: dict[str, Any] = {"intent": settings.intent, "method": settings.method, "keep": settings.keep}
    rejection = Rejection(intent_id, 0.0, settings.ambiguity)
    if settings.method == "confidence" and in_dev:
        confidences = sorted(t.in_scope_confidence or 0.0 for t in in_dev)
        threshold = confidences[int((1.0 - settings.keep) * len(confidences))]
        rejection = replace(rejection, threshold=round(threshold, 6))  # as calibration.json gives it back
        fitted["scores"] = {"dev": len(confidences)}
    elif settings.method == "distance":
        index, scores = _fit_distance(tag, train, in_dev, settings)
        distance = float(np.quantile(np.concatenate(list(scores.values())), settings.keep, method="higher"))
        rejection = replace(rejection, index=index, max_distance=round(distance, 6))
        fitted.update(distance=rejection.max_distance, neighbours=settings.neighbours, dims=index.projection.shape[1])
        fitted["scores"] = {name: len(values) for name, values in scores.items()}
    fitted.update(threshold=rejection.threshold, ambiguity=settings.ambiguity)
    tagged = tag([e.tokens for e in dev], decoding=Decoding(rejection=rejection), contexts=contexts)
    fitted["dev_in_scope"] = len(in_dev)
    fitted["dev_in_scope_rejected"] = sum(
        1 for e, t in zip(dev, tagged) if _in_scope(e, settings.intent) and t.rejected
    )
    out = [t for e, t in zip(dev, tagged) if e.intent == settings.intent]
    if out:
        fitted["dev_out_of_scope"] = len(out)
        fitted["dev_out_of_scope_rejected"] = sum(1 for t in out if t.rejected)
    return FittedRejection(fitted, rejection)


def _fit_distance(
    tag: Callable[..., list[Tagged]], train: Sequence[Example], in_dev: Sequence[Tagged], settings: OutOfScopeConfig
) -> tuple[NeighbourIndex, dict[str, np.ndarray]]:
    """The index of the in-scope training utterances' states, and the in-scope scores its threshold
    is the `keep` quantile of: the training utterances' out-of-fold distances and dev's."""
    in_train = [e for e in train if _in_scope(e, settings.intent)]
    # only the states are read: no slot confidences (the CRF's forward-backward) for thousands of sentences
    tagged = tag(
        [e.tokens for e in in_train], decoding=Decoding(confidences=False), contexts=[e.context for e in in_train]
    )
    states = np.stack([t.sentence_state for t in tagged if t.sentence_state is not None])  # (N, D)
    index = fit_index(states, settings.dims, settings.neighbours)
    scores = {"train_out_of_fold": out_of_fold_distances(index, states, settings.folds)}
    dev_states = [t.sentence_state for t in in_dev if t.sentence_state is not None]
    if dev_states:
        scores["dev"] = index.distances(np.stack(dev_states))
    return index, scores


def _in_scope(example: Example, label: str) -> bool:
    return example.intent is not None and example.intent != label


def predicted_intent(tagged: Tagged, label: str) -> str | None:
    """The intent a parse answers, for scoring: the out-of-scope label where it is rejected."""
    return label if tagged.rejected else tagged.intent


def rejection_off(examples: Sequence[Example], tagged: Sequence[Tagged], label: str) -> dict[str, float]:
    """The in-scope utterances (gold intent, not `label`) scored both ways: the share whose best
    intent is gold with the rejection off (the figure the literature reports), and the share the
    rejection turns away. Empty without in-scope utterances."""
    in_scope = [(e, t) for e, t in zip(examples, tagged) if _in_scope(e, label)]
    if not in_scope:
        return {}
    return {
        "intent_accuracy_without_rejection": sum(1 for e, t in in_scope if t.intent == e.intent) / len(in_scope),
        "in_scope_rejected": sum(1 for _, t in in_scope if t.rejected) / len(in_scope),
    }


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
