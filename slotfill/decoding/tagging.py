"""Tokenised sentences in, labels out: the model runs here, and ids become tag and intent names.

Punctuation tokens are not shown to the model: they are tagged `O`, or `I-x` between two tokens
of one slot (bio.fill_skipped), so they never start a slot and never change another token's tag.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from slotfill.data.context import Context
from slotfill.decoding.spans import TagTable, batch_spans, span_confidences
from slotfill.decoding.types import Decoded, Decoding, SentenceDecoder
from slotfill.features.arrays import batches_by_length, encode_sentences
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.rows import ROW_MULTIPLE
from slotfill.features.vocab import Vocab
from slotfill.options import BATCH_SIZE
from slotfill.text import bio
from slotfill.text.tokenise import is_punctuation


@dataclass(frozen=True)
class Tagged:
    tags: list[str]
    intent: str | None
    intent_confidence: float | None
    slots: list[bio.Span] = field(default_factory=list)  # the slots of `tags`, in order (= bio.spans(tags))
    slot_confidences: list[float] = field(default_factory=list)  # one per slot (none without confidences)
    intents: list[tuple[str, float]] | None = None  # the k best intents, with `alternatives`
    alternatives: list[tuple[list[str], float]] | None = None  # the k best tag sequences, with `alternatives`
    # why the intent is rejected ("out_of_scope", "ambiguous"; None: it is not), and the confidence of
    # the best intent that is not the out-of-scope class (Decoding.rejection says when)
    rejected: str | None = None
    in_scope_confidence: float | None = None
    distance: float | None = None  # to the training utterances, where the rejection measures one
    # the (D,) state the intent head read (slotfill.decoding.neighbours); not part of the result
    sentence_state: np.ndarray | None = field(default=None, compare=False, repr=False)


def tag_token_lists(
    decoder: SentenceDecoder,
    vocab: Vocab,
    token_lists: Sequence[Sequence[str]],
    batch_size: int = BATCH_SIZE,
    *,
    gazetteers: GazetteerSet = GazetteerSet(),
    decoding: Decoding = Decoding(),
    contexts: Sequence[Context] | None = None,
) -> list[Tagged]:
    """Tags (and intent) for each tokenised sentence, in input order; a sentence with no token
    but punctuation gets `O` tags and no intent. `contexts`: each sentence's dialogue context (the
    slots the system requested), read by a model that reads them."""
    shown = [[i for i, token in enumerate(tokens) if not is_punctuation(token)] for tokens in token_lists]
    results: list[Tagged | None] = [None] * len(token_lists)
    nonempty = [i for i, positions in enumerate(shown) if positions]
    shown_tokens = [[token_lists[i][p] for p in shown[i]] for i in nonempty]
    shown_contexts = [contexts[i] for i in nonempty] if contexts is not None else None
    corpus = encode_sentences(
        shown_tokens, vocab, gazetteers, transformer_features=decoder.transformer_features, contexts=shown_contexts
    )
    table = _tag_table(tuple(vocab.tags.items))
    for batch_indices in batches_by_length(corpus.lengths(), batch_size):
        arrays = corpus.arrays([corpus[i] for i in batch_indices], ROW_MULTIPLE)
        decoded = decoder.decode(arrays, decoding, rows=len(batch_indices))  # the filler rows are not decoded
        spans = batch_spans(table, decoded.paths, np.asarray(decoded.lengths))
        confidences = span_confidences(decoded.span_scores, spans) if decoded.span_scores is not None else None
        bounds = spans.bounds(len(batch_indices)).tolist()
        columns = [spans.starts.tolist(), spans.ends.tolist(), spans.labels.tolist(), spans.begins_inside.tolist()]
        tag_ids = decoded.tag_ids
        for row, index in enumerate(batch_indices):
            sentence, first, last = nonempty[index], bounds[row], bounds[row + 1]
            own = [
                bio.Span(table.labels[label], *_full_positions(start, end, inside, shown[sentence]))
                for start, end, label, inside in zip(*(column[first:last] for column in columns))
            ]
            own_confidences = confidences[first:last] if confidences is not None else []
            results[sentence] = _tagged(
                decoded, row, tag_ids[row], vocab, own, own_confidences, shown[sentence], len(token_lists[sentence])
            )
    return [r if r is not None else Tagged(["O"] * len(tokens), None, None) for r, tokens in zip(results, token_lists)]


@functools.lru_cache(maxsize=16)
def _tag_table(tags: tuple[str, ...]) -> TagTable:
    """A model's tag table, built once for all its calls (one parse at a time would rebuild it for each)."""
    return TagTable.for_tags(tags)


def _full_positions(start: int, end: int, begins_inside: bool, shown: list[int]) -> tuple[int, int]:
    """A span over the shown tokens, over all of the sentence's: the punctuation inside it belongs
    to it, and so does the punctuation before a slot that starts at an I-x (bio.fill_skipped)."""
    first = shown[start - 1] + 1 if begins_inside and start > 0 else shown[start]
    return first, shown[end - 1] + 1


def _tagged(
    decoded: Decoded,
    row: int,
    tag_ids: list[int],
    vocab: Vocab,
    slots: list[bio.Span],
    confidences: list[float],
    shown: list[int],
    length: int,
) -> Tagged:
    """One sentence's labels: ids become tag and intent names here, punctuation tags are filled in."""
    names = vocab.tags.items
    intent = confidence = ranking = sequences = rejected = in_scope = None
    if decoded.intent_ids is not None and decoded.intent_confidences is not None:
        intent, confidence = vocab.intents.items[decoded.intent_ids[row]], decoded.intent_confidences[row]
    if decoded.rejections is not None and decoded.in_scope_confidences is not None:
        rejected, in_scope = decoded.rejections[row], decoded.in_scope_confidences[row]
    if decoded.intent_ranking is not None:
        ranking = [(vocab.intents.items[i], p) for i, p in decoded.intent_ranking[row]]
    if decoded.alternatives is not None:
        sequences = [
            (bio.fill_skipped([names[t] for t in ids], shown, length), p) for ids, p in decoded.alternatives[row]
        ]
    tags = bio.fill_skipped([names[t] for t in tag_ids], shown, length)  # the same slots, in the same order
    distance = decoded.distances[row] if decoded.distances is not None else None
    state = decoded.sentence_states[row] if decoded.sentence_states is not None else None
    return Tagged(tags, intent, confidence, slots, confidences, ranking, sequences, rejected, in_scope, distance, state)
