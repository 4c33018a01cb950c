"""A model's scores -> Decoded: the best tags, their span scores, the intent and, on request, the
k best tag sequences and intents. Both runtimes call `decode_scores` with their emissions and
intent logits, so they decode alike, and a sentence decodes alike in any batch
(slotfill.decoding.crf says why)."""

from __future__ import annotations

import math

import numpy as np

from slotfill.decoding.crf import NumpyCRF
from slotfill.decoding.types import Decoded, Decoding, Rejection, SpanScores


def decode_scores(
    emissions: np.ndarray,
    intent_logits: np.ndarray | None,
    lengths: list[int],
    crf: NumpyCRF | None,
    decoding: Decoding,
    sentence_states: np.ndarray | None = None,
) -> Decoded:
    """(B, L, T) float32 emissions, (B, K) intent logits or None, each sentence's length, and the
    (B, D) states the intent head read (None: a model exported before they were an output); without
    a CRF, each token's best tag (the softmax decoder)."""
    mask = np.arange(emissions.shape[1])[None, :] < np.array(lengths)[:, None]  # (B, L)
    best = crf.viterbi(emissions, mask) if crf is not None else emissions.argmax(axis=2)  # (B, L)
    span_scores = _span_scores(emissions, mask, best, crf, decoding.temperature) if decoding.confidences else None
    sequences = _alternatives(emissions, mask, crf, decoding.alternatives, lengths) if decoding.alternatives else None
    if intent_logits is None:
        return Decoded(best, lengths, None, None, span_scores, None, sequences)
    probabilities = np.exp(log_softmax(intent_logits, axis=1))  # (B, K)
    intents = probabilities.argmax(axis=1)
    confidences = probabilities[np.arange(len(intents)), intents]
    ranking = None
    if decoding.alternatives:
        k = min(decoding.alternatives, probabilities.shape[1])
        order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
        ranking = [list(zip(row.tolist(), probabilities[b, row].tolist())) for b, row in enumerate(order)]
    index = decoding.rejection.index
    distances = index.distances(sentence_states) if index is not None and sentence_states is not None else None
    rejections, in_scope = rejection_reasons(decoding.rejection, probabilities, distances)
    return Decoded(
        best, lengths, intents.tolist(), confidences.tolist(), span_scores, ranking, sequences, rejections, in_scope,
        sentence_states, None if distances is None else distances.tolist(),
    )  # fmt: skip


def rejection_reasons(
    rejection: Rejection, probabilities: np.ndarray, distances: np.ndarray | None = None
) -> tuple[list[str | None], list[float]]:
    """(B, K) intent probabilities and (B,) distances to the training utterances (or None) -> each
    sentence's reason to be rejected (or None) and the confidence of its best in-scope intent (the
    out-of-scope class left out)."""
    in_scope = probabilities
    if rejection.intent_id is not None:
        in_scope = probabilities.copy()
        in_scope[:, rejection.intent_id] = -1.0
    ordered = np.sort(in_scope, axis=1)  # (B, K)
    confidence = ordered[:, -1]  # (B,)
    second = ordered[:, -2] if ordered.shape[1] > 1 else np.zeros_like(confidence)  # (B,)
    best = probabilities.argmax(axis=1)  # (B,)
    reasons: list[str | None] = []
    for b in range(len(best)):
        far = distances is not None and distances[b] > rejection.max_distance
        if best[b] == rejection.intent_id or confidence[b] < rejection.threshold or far:
            reasons.append("out_of_scope")
        elif confidence[b] - second[b] < rejection.ambiguity:
            reasons.append("ambiguous")
        else:
            reasons.append(None)
    return reasons, confidence.tolist()


def _span_scores(
    emissions: np.ndarray, mask: np.ndarray, best: np.ndarray, crf: NumpyCRF | None, temperature: float
) -> SpanScores:
    """(start, prefix, end), each (B, L); without a CRF a span's probability is the product of its
    tokens' softmax probabilities."""
    if crf is not None:
        return crf.span_scores(emissions, mask, best, temperature)
    token = chosen_log_probabilities(emissions / np.float32(temperature), best)  # (B, L)
    return token, token.cumsum(axis=1), np.zeros_like(token)


def _alternatives(
    emissions: np.ndarray, mask: np.ndarray, crf: NumpyCRF | None, k: int, lengths: list[int]
) -> list[list[tuple[list[int], float]]]:
    """The k best tag sequences of each sentence with their probabilities (those above 0)."""
    if crf is not None:
        found = []
        for rows in _k_best_rows(emissions.shape, k):  # a sentence's k best do not depend on its neighbours
            paths, log_p = crf.k_best(emissions[rows], mask[rows], k)  # (R, k, L), (R, k)
            for ps, qs, n in zip(paths.tolist(), log_p.tolist(), lengths[rows]):
                # every valid sequence, however improbable (its probability may round to 0.0)
                found.append([(p[:n], math.exp(q)) for p, q in zip(ps, qs) if q > -math.inf])
        return found
    best = emissions.argmax(axis=2)  # (B, L): without a CRF only the best sequence is exact
    log_p = np.where(mask, chosen_log_probabilities(emissions, best), 0.0).cumsum(axis=1)[:, -1]  # (B,)
    return [[(row[:n], q)] for row, q, n in zip(best.tolist(), np.exp(log_p).tolist(), lengths)]


K_BEST_ELEMENTS = 1 << 22  # sentences x k x tags x length decoded at once: two int32 pointer arrays, 32 MB


def _k_best_rows(shape: tuple[int, ...], k: int) -> list[slice]:
    """The batch cut into groups of rows whose k-best pointers stay within K_BEST_ELEMENTS (a
    single sentence may exceed it alone: its length is bounded by the predictor's limits)."""
    batch, length, num_tags = shape
    rows = max(1, K_BEST_ELEMENTS // (k * num_tags * length))
    return [slice(start, start + rows) for start in range(0, batch, rows)]


def log_softmax(scores: np.ndarray, axis: int) -> np.ndarray:
    shifted = scores - scores.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def chosen_log_probabilities(emissions: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """(B, L, T) scores, (B, L) chosen tags -> (B, L) log softmax probability of each chosen tag."""
    return np.take_along_axis(log_softmax(emissions, axis=2), chosen[:, :, None], axis=2)[:, :, 0]
