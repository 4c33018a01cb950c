"""Tokenised sentences in, labels out: the model runs here, and ids become tag and intent names.

Punctuation tokens are not shown to the model: they are tagged `O`, or `I-x` between two tokens
of one slot (bio.fill_skipped), so they never start a slot and never change another token's tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from slotfill import bio
from slotfill.features import FeatureArrays, batches_by_length, encode_sentences
from slotfill.gazetteer import GazetteerSet
from slotfill.scoring import span_confidence
from slotfill.text import is_punctuation
from slotfill.vocab import Vocab

SpanRows = tuple[list[float], list[float], list[float]]  # one sentence's (start, prefix, end): see slotfill.confidence


class Decoded(NamedTuple):
    """What a model decodes from one batch, as ids (names are attached in `_tagged`)."""

    tag_ids: list[list[int]]  # one list per sentence, of its length
    intent_ids: list[int] | None
    intent_confidences: list[float] | None
    span_scores: list[SpanRows]  # per sentence, of its length: each slot's confidence comes from these
    intent_ranking: list[list[tuple[int, float]]] | None = None  # per sentence, the k best intents
    alternatives: list[list[tuple[list[int], float]]] | None = None  # per sentence, the k best tag sequences


@dataclass(frozen=True)
class Tagged:
    tags: list[str]
    intent: str | None
    intent_confidence: float | None
    slot_confidences: list[float] = field(default_factory=list)  # one per slot of `tags`, in order
    intents: list[tuple[str, float]] | None = None  # the k best intents, with `alternatives`
    alternatives: list[tuple[list[str], float]] | None = None  # the k best tag sequences, with `alternatives`


@dataclass(frozen=True)
class Decoding:
    """How to decode: the temperature of the confidences (the model's calibration) and how many
    alternative intents and tag sequences to give (0: none)."""

    temperature: float = 1.0
    alternatives: int = 0
    confidences: bool = True  # False: no slot confidences (only for measuring what they cost)


class SentenceDecoder(Protocol):
    """A model that decodes batches of feature arrays: the torch tagger (slotfill.model.TorchDecoder)
    or an exported one run by onnxruntime (slotfill.runtime.OnnxDecoder)."""

    @property
    def has_intent(self) -> bool: ...

    def decode(self, arrays: FeatureArrays, decoding: Decoding) -> Decoded: ...


def tag_token_lists(
    decoder: SentenceDecoder,
    vocab: Vocab,
    token_lists: Sequence[Sequence[str]],
    batch_size: int = 256,
    *,
    gazetteers: GazetteerSet = GazetteerSet(),
    decoding: Decoding = Decoding(),
) -> list[Tagged]:
    """Tags (and intent) for each tokenised sentence, in input order; a sentence with no token
    but punctuation gets `O` tags and no intent."""
    shown = [[i for i, token in enumerate(tokens) if not is_punctuation(token)] for tokens in token_lists]
    results: list[Tagged | None] = [None] * len(token_lists)
    nonempty = [i for i, positions in enumerate(shown) if positions]
    corpus = encode_sentences([[token_lists[i][p] for p in shown[i]] for i in nonempty], vocab, gazetteers)
    for batch_indices in batches_by_length(corpus.lengths(), batch_size):
        decoded = decoder.decode(corpus.arrays([corpus[i] for i in batch_indices]), decoding)
        for row, index in enumerate(batch_indices):
            sentence = nonempty[index]
            results[sentence] = _tagged(decoded, row, vocab, shown[sentence], len(token_lists[sentence]))
    return [r if r is not None else Tagged(["O"] * len(tokens), None, None) for r, tokens in zip(results, token_lists)]


def _tagged(decoded: Decoded, row: int, vocab: Vocab, shown: list[int], length: int) -> Tagged:
    """One sentence's labels: ids become tag and intent names here, punctuation tags are filled in."""
    shown_tags = [vocab.tags.items[t] for t in decoded.tag_ids[row]]
    scores = decoded.span_scores[row]
    confidences = [span_confidence(scores, s.start, s.end) for s in bio.spans(shown_tags)] if scores[0] else []
    intent = confidence = ranking = sequences = None
    if decoded.intent_ids is not None and decoded.intent_confidences is not None:
        intent, confidence = vocab.intents.items[decoded.intent_ids[row]], decoded.intent_confidences[row]
    if decoded.intent_ranking is not None:
        ranking = [(vocab.intents.items[i], p) for i, p in decoded.intent_ranking[row]]
    if decoded.alternatives is not None:
        sequences = [
            (bio.fill_skipped([vocab.tags.items[t] for t in ids], shown, length), p)
            for ids, p in decoded.alternatives[row]
        ]
    tags = bio.fill_skipped(shown_tags, shown, length)  # the same slots, in the same order
    return Tagged(tags, intent, confidence, confidences, ranking, sequences)
