"""Span-level evaluation with seqeval (CoNLL micro-F1, as conlleval), intent and sentence accuracy."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from seqeval.metrics import classification_report

from slotfill import bio
from slotfill.confidence import expected_calibration_error
from slotfill.data import Example
from slotfill.gazetteer import GazetteerSet
from slotfill.model import Tagger
from slotfill.tagging import Decoding, Tagged, tag_token_lists
from slotfill.vocab import Vocab


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


@dataclass
class Evaluation:
    metrics: dict[str, Any]
    tagged: list[Tagged]  # the predictions, one per example, in order


def evaluate(
    tagger: Tagger,
    vocab: Vocab,
    examples: Sequence[Example],
    device: torch.device,
    batch_size: int = 256,
    *,
    gazetteers: GazetteerSet = GazetteerSet(),
    temperature: float = 1.0,
) -> Evaluation:
    """Tag the examples' tokens and score against their gold tags and intents; `slot_ece` is the
    expected calibration error of the slot confidences (a slot counts as right when its span and
    label are gold's exactly)."""
    tokens = [e.tokens for e in examples]
    decoding = Decoding(temperature=temperature)
    tagged = tag_token_lists(tagger, vocab, tokens, device, batch_size, gazetteers=gazetteers, decoding=decoding)
    gold_intents = [e.intent for e in examples] if tagger.intent_head is not None else None
    predicted_intents = [t.intent for t in tagged] if tagger.intent_head is not None else None
    metrics = score([e.tags for e in examples], [t.tags for t in tagged], gold_intents, predicted_intents)
    confidences, correct = slot_calibration(examples, tagged)
    metrics["slot_ece"] = expected_calibration_error(confidences, correct)
    metrics["unseen_in_training"] = unseen_labels(examples, vocab, check_intents=gold_intents is not None)
    return Evaluation(metrics, tagged)


def evaluate_examples(
    tagger: Tagger,
    vocab: Vocab,
    examples: Sequence[Example],
    device: torch.device,
    batch_size: int = 256,
    *,
    gazetteers: GazetteerSet = GazetteerSet(),
    temperature: float = 1.0,
) -> dict[str, Any]:
    """The metrics of `evaluate`."""
    return evaluate(tagger, vocab, examples, device, batch_size, gazetteers=gazetteers, temperature=temperature).metrics


def slot_calibration(examples: Sequence[Example], tagged: Sequence[Tagged]) -> tuple[list[float], list[bool]]:
    """Every predicted slot's confidence, and whether its span and label are exactly gold's."""
    confidences, correct = [], []
    for example, result in zip(examples, tagged):
        gold = set(bio.spans(example.tags))
        for span, confidence in zip(bio.spans(result.tags), result.slot_confidences):
            confidences.append(confidence)
            correct.append(span in gold)
    return confidences, correct


TEMPERATURES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.4, 1.6, 1.8, 2.0, 2.5, 3.0)


def fit_temperature(
    tagger: Tagger,
    vocab: Vocab,
    examples: Sequence[Example],
    device: torch.device,
    batch_size: int = 256,
    *,
    gazetteers: GazetteerSet = GazetteerSet(),
) -> dict[str, float]:
    """The temperature (from a grid) that gives the lowest slot ECE on `examples` (dev), with the
    ECE at temperature 1 and at the chosen one. The tags never change with it, only confidences."""
    tokens = [e.tokens for e in examples]
    ece = {}
    for temperature in TEMPERATURES:
        decoding = Decoding(temperature=temperature)
        tagged = tag_token_lists(tagger, vocab, tokens, device, batch_size, gazetteers=gazetteers, decoding=decoding)
        ece[temperature] = expected_calibration_error(*slot_calibration(examples, tagged))
    best = min(TEMPERATURES, key=lambda t: (ece[t], abs(t - 1.0)))
    return {"temperature": best, "dev_ece_at_1": round(ece[1.0], 5), "dev_ece": round(ece[best], 5)}


def unseen_labels(examples: Sequence[Example], vocab: Vocab, *, check_intents: bool) -> dict[str, int]:
    """How many gold tags (tokens) and intents (sentences) the model cannot predict."""
    tags = sum(tag not in vocab.tags for example in examples for tag in example.tags)
    intents = sum(check_intents and e.intent is not None and e.intent not in vocab.intents for e in examples)
    return {"tags": tags, "intents": intents}
