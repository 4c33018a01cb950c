"""Tokenised sentences in, labels out: the model runs here, and ids become tag and intent names.

Punctuation tokens are not shown to the model: they are tagged `O`, or `I-x` between two tokens
of one slot (bio.fill_skipped), so they never start a slot and never change another token's tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from slotfill.decoding.decoder import span_confidence
from slotfill.decoding.types import Decoded, Decoding, SentenceDecoder
from slotfill.features.arrays import ROW_MULTIPLE, batches_by_length, encode_sentences
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.vocab import Vocab
from slotfill.text import bio
from slotfill.text.tokenise import is_punctuation


@dataclass(frozen=True)
class Tagged:
    tags: list[str]
    intent: str | None
    intent_confidence: float | None
    slot_confidences: list[float] = field(default_factory=list)  # one per slot of `tags`, in order
    intents: list[tuple[str, float]] | None = None  # the k best intents, with `alternatives`
    alternatives: list[tuple[list[str], float]] | None = None  # the k best tag sequences, with `alternatives`


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
        decoded = decoder.decode(corpus.arrays([corpus[i] for i in batch_indices], ROW_MULTIPLE), decoding)
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
