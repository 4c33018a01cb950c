"""Scores that need no model and no torch: span F1 with seqeval (CoNLL micro-F1, as conlleval),
intent and sentence accuracy, and the calibration of slot confidences."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from slotfill.text import bio

CALIBRATION_BINS = 10


def score(
    gold_tags: Sequence[Sequence[str]],
    predicted_tags: Sequence[Sequence[str]],
    gold_intents: Sequence[str | None] | None = None,
    predicted_intents: Sequence[str | None] | None = None,
) -> dict[str, Any]:
    """Metrics as fractions in [0, 1]. With intents, sentence accuracy needs every tag and the
    intent right (the ATIS convention); an intent never seen in training simply counts as wrong.
    A sentence without a gold intent is not scored on its intent (`intents_scored` counts those that are)."""
    with warnings.catch_warnings():
        # imported here: seqeval brings scikit-learn, a second of imports that tagging never needs
        from seqeval.metrics import classification_report

        warnings.simplefilter("ignore")  # seqeval warns about labels with no predicted samples
        report = classification_report(
            [list(t) for t in gold_tags], [list(t) for t in predicted_tags], output_dict=True, zero_division=0, digits=6
        )
    micro = report.get("micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0})
    per_slot = {
        label: {
            "precision": float(row["precision"]),
            "recall": float(row["recall"]),
            "f1": float(row["f1-score"]),
            "support": int(row["support"]),
        }
        for label, row in sorted(report.items())
        if label not in ("micro avg", "macro avg", "weighted avg")
    }
    correct = [list(g) == list(p) for g, p in zip(gold_tags, predicted_tags)]
    metrics: dict[str, Any] = {
        "slot_f1": float(micro["f1-score"]),
        "slot_precision": float(micro["precision"]),
        "slot_recall": float(micro["recall"]),
    }
    if gold_intents is not None and predicted_intents is not None:
        # only sentences with a gold intent are scored on it; the count says how many there were
        scored = [g == p for g, p in zip(gold_intents, predicted_intents) if g is not None]
        if scored:
            metrics["intent_accuracy"] = sum(scored) / len(scored)
            metrics["intents_scored"] = len(scored)
            right = (g is None or g == p for g, p in zip(gold_intents, predicted_intents))
            correct = [c and i for c, i in zip(correct, right)]
    metrics["sentence_accuracy"] = sum(correct) / len(correct) if correct else 0.0
    metrics["sentences"] = len(correct)
    metrics["per_slot"] = per_slot
    return metrics


def slot_calibration(
    gold_tags: Sequence[Sequence[str]], predicted: Sequence[tuple[Sequence[str], Sequence[float]]]
) -> tuple[list[float], list[bool]]:
    """Every predicted slot's confidence, and whether its span and label are exactly gold's;
    `predicted` holds each sentence's (tags, slot confidences)."""
    confidences, correct = [], []
    for gold, (tags, slot_confidences) in zip(gold_tags, predicted):
        right = set(bio.spans(gold))
        for span, confidence in zip(bio.spans(tags), slot_confidences):
            confidences.append(confidence)
            correct.append(span in right)
    return confidences, correct


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = CALIBRATION_BINS
) -> float:
    """ECE: the bin-size-weighted gap between mean confidence and accuracy over equal-width bins."""
    if not confidences:
        return 0.0
    rows = reliability(confidences, correct, bins)
    return sum(row["count"] / len(confidences) * abs(row["confidence"] - row["accuracy"]) for row in rows)


def reliability(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = CALIBRATION_BINS
) -> list[dict[str, float]]:
    """Per bin: its range, how many slots fell in it, their mean confidence and their accuracy."""
    rows = []
    for low in range(bins):  # bin k holds (k/bins, (k+1)/bins]; bin 0 also holds 0
        members = [i for i, c in enumerate(confidences) if low / bins < c <= (low + 1) / bins or (low == 0 and c == 0)]
        rows.append({
            "low": low / bins,
            "high": (low + 1) / bins,
            "count": len(members),
            "confidence": sum(confidences[i] for i in members) / len(members) if members else 0.0,
            "accuracy": sum(correct[i] for i in members) / len(members) if members else 0.0,
        })  # fmt: skip
    return rows
