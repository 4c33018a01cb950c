"""Span-level evaluation with seqeval (CoNLL micro-F1, as conlleval), intent and sentence accuracy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slotfill.choices import OUT_OF_SCOPE_LABEL
from slotfill.data.example import Example
from slotfill.decoding.tagging import Tagged, tag_token_lists
from slotfill.decoding.types import Decoding, Model, Rejection, SentenceDecoder
from slotfill.evaluation import scoring
from slotfill.evaluation.out_of_scope import out_of_scope_metrics, predicted_intent, rejection_off
from slotfill.evaluation.scoring import expected_calibration_error, score
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.vocab import Vocab
from slotfill.options import BATCH_SIZE


@dataclass
class Evaluation:
    metrics: dict[str, Any]
    tagged: list[Tagged]  # the predictions, one per example, in order
    out_of_scope: str = OUT_OF_SCOPE_LABEL  # the intent a rejected prediction answers (the model's out_of_scope.intent)

    def intents(self) -> list[str | None]:
        """The intent each prediction answers: the out-of-scope label where it is rejected."""
        return [predicted_intent(t, self.out_of_scope) for t in self.tagged]


def evaluate(
    decoder: SentenceDecoder,
    vocab: Vocab,
    examples: Sequence[Example],
    batch_size: int = BATCH_SIZE,
    *,
    gazetteers: GazetteerSet = GazetteerSet(),
    temperature: float = 1.0,
    rejection: Rejection = Rejection(),
    out_of_scope: str = OUT_OF_SCOPE_LABEL,
) -> Evaluation:
    """Tag the examples' tokens and score against their gold tags and intents; `slot_ece` is the
    expected calibration error of the slot confidences (a slot counts as right when its span and
    label are gold's exactly). A rejected utterance answers the `out_of_scope` label: right for
    gold out-of-scope examples, wrong for the others; where gold has such examples, the
    out-of-scope measures too (slotfill.evaluation.out_of_scope)."""
    tokens, contexts = [e.tokens for e in examples], [e.context for e in examples]
    decoding = Decoding(temperature=temperature, rejection=rejection)
    tagged = tag_token_lists(
        decoder, vocab, tokens, batch_size, gazetteers=gazetteers, decoding=decoding, contexts=contexts
    )
    gold_intents = [e.intent for e in examples] if decoder.has_intent else None
    predicted_intents = [predicted_intent(t, out_of_scope) for t in tagged] if decoder.has_intent else None
    metrics = score([e.tags for e in examples], [t.tags for t in tagged], gold_intents, predicted_intents)
    confidences, correct = slot_calibration(examples, tagged)
    metrics["slot_ece"] = expected_calibration_error(confidences, correct)
    metrics["unseen_in_training"] = unseen_labels(
        examples, vocab, check_intents=gold_intents is not None, out_of_scope=out_of_scope
    )
    if any(contexts):  # dialogue turns: the turns answering a requested slot, and the others
        metrics["by_context"] = context_split(examples, tagged)
    if decoder.has_intent:
        metrics["rejected"] = sum(1 for t in tagged if t.rejected)
        metrics.update(rejection_off(examples, tagged, out_of_scope))
        if any(e.intent == out_of_scope for e in examples):
            metrics["out_of_scope"] = out_of_scope_metrics(examples, tagged, out_of_scope)
    return Evaluation(metrics, tagged, out_of_scope)


def evaluate_model(model: Model, examples: Sequence[Example], batch_size: int = BATCH_SIZE) -> Evaluation:
    """`evaluate` with a loaded model's own lists, temperature and rejection."""
    return evaluate(
        model.decoder,
        model.vocab,
        examples,
        batch_size,
        gazetteers=model.gazetteers,
        temperature=model.temperature,
        rejection=model.rejection,
        out_of_scope=model.config.out_of_scope.intent,
    )


BARE_ANSWER_TOKENS = 3  # a turn of at most this many tokens with a requested slot: a bare answer ("13")


def context_split(examples: Sequence[Example], tagged: Sequence[Tagged]) -> dict[str, dict[str, Any]]:
    """Slot F1 (with precision, recall and the number of turns) of the turns with a requested slot,
    of those without, and of the bare answers among the first (at most BARE_ANSWER_TOKENS tokens)."""
    groups = {
        "with_requested_slot": [i for i, e in enumerate(examples) if e.context],
        "without_requested_slot": [i for i, e in enumerate(examples) if not e.context],
        "bare_answers": [i for i, e in enumerate(examples) if e.context and len(e.tokens) <= BARE_ANSWER_TOKENS],
    }
    split = {}
    for name, indices in groups.items():
        if indices:
            measured = score([examples[i].tags for i in indices], [tagged[i].tags for i in indices])
            split[name] = {key: measured[key] for key in ("slot_f1", "slot_precision", "slot_recall")}
            split[name]["turns"] = len(indices)
    return split


def slot_calibration(examples: Sequence[Example], tagged: Sequence[Tagged]) -> tuple[list[float], list[bool]]:
    """Every predicted slot's confidence, and whether its span and label are exactly gold's."""
    return scoring.slot_calibration([e.tags for e in examples], [(t.tags, t.slot_confidences) for t in tagged])


TEMPERATURES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.4, 1.6, 1.8, 2.0, 2.5, 3.0)


def fit_temperature(
    decoder: SentenceDecoder,
    vocab: Vocab,
    examples: Sequence[Example],
    batch_size: int = BATCH_SIZE,
    *,
    gazetteers: GazetteerSet = GazetteerSet(),
) -> dict[str, float]:
    """The temperature (from a grid) that gives the lowest slot ECE on `examples` (dev), with the
    ECE at temperature 1 and at the chosen one. The tags never change with it, only confidences."""
    tokens = [e.tokens for e in examples]
    ece = {}
    for temperature in TEMPERATURES:
        decoding = Decoding(temperature=temperature)
        tagged = tag_token_lists(decoder, vocab, tokens, batch_size, gazetteers=gazetteers, decoding=decoding)
        ece[temperature] = expected_calibration_error(*slot_calibration(examples, tagged))
    best = min(TEMPERATURES, key=lambda t: (ece[t], abs(t - 1.0)))
    return {"temperature": best, "dev_ece_at_1": round(ece[1.0], 5), "dev_ece": round(ece[best], 5)}


def unseen_labels(
    examples: Sequence[Example], vocab: Vocab, *, check_intents: bool, out_of_scope: str = OUT_OF_SCOPE_LABEL
) -> dict[str, int]:
    """How many gold tags (tokens) and intents (sentences) the model cannot predict (an
    out-of-scope example it can: by rejecting it)."""
    tags = sum(tag not in vocab.tags for example in examples for tag in example.tags)
    intents = sum(
        check_intents and e.intent is not None and e.intent != out_of_scope and e.intent not in vocab.intents
        for e in examples
    )
    return {"tags": tags, "intents": intents}
