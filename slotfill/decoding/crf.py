"""The CRF's decoding, written once, in numpy: constrained Viterbi, the span scores of the
confidences (forward-backward marginals), and the k best tag sequences. The torch model and the
exported one both decode here, from their emissions; only training's log-likelihood (which needs
autograd) is torch's (slotfill.nn.crf).

Vectorised over batch and tags, looping only over time. Shapes: B sentences, L time steps
(padded), T tags; `mask` (B, L) is True on real tokens, and every sentence has one at position 0.

A sentence's result never depends on the other sentences of its batch: Viterbi and k-best only
add and take maxima (exact in any order), the cumulative sums run along each sentence, and the
forward-backward products are one matrix-vector product per sentence (a stacked matmul: the same
BLAS call whatever the batch), never one matrix product over the batch, whose rows BLAS computes
differently for different batch sizes.

A slot's confidence is the probability, under the model, that exactly this span carries exactly
this label: the sum over every valid tag sequence in which tokens s..e are B-x I-x ... I-x and token
e+1 does not continue x, divided by Z. It comes from three (B, L) arrays, so that for a span s..e
of the decoded path

    log P(span) = start[s] + prefix[e] - prefix[s] + end[e].

Scores can be divided by a temperature (fitted on dev at the end of training).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from slotfill.decoding.spans import continuation_index
from slotfill.text import bio

NEG_INF = np.float32(-np.inf)
DENSE_MAX_ELEMENTS = 1 << 17  # up to this many (B, T, T) elements Viterbi needs no plan (one dense max is faster)


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    top = x.max(axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, np.float32(0))
    with np.errstate(divide="ignore"):
        return (np.log(np.exp(x - top).sum(axis=axis, keepdims=True)) + top).squeeze(axis)


def _shifted_step(previous: np.ndarray, exp_transitions: np.ndarray) -> np.ndarray:
    """log(exp(previous) @ exp(transitions)) for (B, T) scores, without overflow: (B, T).

    One (1, T) @ (T, T) product per sentence (stacked), so each row is the same BLAS call whatever
    the batch (see the module's docstring)."""
    shift = previous.max(axis=1, keepdims=True)  # (B, 1)
    summed = (np.exp(previous - shift)[:, None, :] @ exp_transitions)[:, 0]  # (B, T)
    return np.log(np.maximum(summed, np.finfo(np.float32).tiny)) + shift


class BIOConstraints(NamedTuple):
    """What the tag names allow, computed once per model: `start_allowed` (T,) and `allowed` (T, T)
    bool (from row to column), and `continuation` (T,): for B-x and I-x the index of I-x, else -1."""

    start_allowed: np.ndarray
    allowed: np.ndarray
    continuation: np.ndarray

    @classmethod
    def for_tags(cls, tags: Sequence[str]) -> BIOConstraints:
        start_allowed, allowed = bio.allowed_transitions(tags)
        return cls(np.array(start_allowed, dtype=bool), np.array(allowed, dtype=bool), continuation_index(tags))


class NumpyCRF:
    """Decoding with a CRF's scores: `start` (T,), `transitions` (T, T) from row to column, `end`
    (T,), under the BIO constraints. Built from the current scores for each batch by the torch
    model (its weights change during training), once by the exported one."""

    def __init__(
        self, constraints: BIOConstraints, start: np.ndarray, transitions: np.ndarray, end: np.ndarray
    ) -> None:
        self.start = np.where(constraints.start_allowed, start, NEG_INF).astype(np.float32)  # (T,)
        self.transitions = np.where(constraints.allowed, transitions, NEG_INF).astype(np.float32)  # (T, T)
        self.end = np.asarray(end, dtype=np.float32)  # (T,)
        self.continuation = constraints.continuation  # (T,)
        self._plan: _MaxPlusPlan | None = None  # built on the first batch that needs it

    def viterbi(self, emissions: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Best valid path: (B, L, T), (B, L) -> (B, L) int64; past a length the last tag repeats."""
        length = emissions.shape[1]
        shortest = int(mask.sum(axis=1).min())
        score = self.start + emissions[:, 0]  # (B, T)
        scores = [score]
        # small batches: one dense (B, T, T) max is faster than the plan's several small operations
        dense = score.shape[0] * score.shape[1] ** 2 <= DENSE_MAX_ELEMENTS
        for t in range(1, length):
            best = (score[:, :, None] + self.transitions).max(axis=1) if dense else self._max_plus(score)
            step = best + emissions[:, t]
            score = step if t < shortest else np.where(mask[:, t, None], step, score)
            scores.append(score)
        tag = (score + self.end).argmax(axis=1)  # (B,)
        path = [tag]
        for t in range(length - 1, 0, -1):
            previous = (scores[t - 1] + self.transitions[:, tag].T).argmax(axis=1)  # (B,)
            tag = previous if t < shortest else np.where(mask[:, t], previous, tag)
            path.append(tag)
        path.reverse()
        return np.stack(path, axis=1).astype(np.int64)

    def _max_plus(self, score: np.ndarray) -> np.ndarray:
        if self._plan is None:
            self._plan = _MaxPlusPlan(self.transitions)
        return self._plan.best_previous(score)

    def forward_backward(
        self, emissions: np.ndarray, mask: np.ndarray, temperature: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """alpha (B, L, T), beta (B, L, T), log Z (B,) and the tempered transitions (T, T);
        `emissions` come already divided by `temperature`.

        alpha[b, t, j]: log-sum of the scores of every valid path prefix ending in tag j at t;
        beta[b, t, i]: of every valid continuation after tag i at t (the end score at the last
        token). Past a sentence's length alpha repeats and beta is the end score."""
        transitions, end_scores = self.transitions / temperature, self.end / temperature
        exp_transitions = np.exp(transitions)  # (T, T), 0 where forbidden
        alphas = self._forward(emissions, mask, temperature, exp_transitions)
        end = np.broadcast_to(end_scores, alphas[0].shape)
        betas = [end]
        for t in range(emissions.shape[1] - 2, -1, -1):
            step = _shifted_step(betas[-1] + emissions[:, t + 1], exp_transitions.T)
            betas.append(np.where(mask[:, t + 1, None], step, end))
        betas.reverse()
        alpha, beta = np.stack(alphas, axis=1), np.stack(betas, axis=1)
        log_z = _logsumexp(alphas[-1] + end_scores, axis=1)
        return alpha, beta, log_z, transitions

    def _forward(
        self, emissions: np.ndarray, mask: np.ndarray, temperature: float, exp_transitions: np.ndarray
    ) -> list[np.ndarray]:
        """The forward scores, one (B, T) array per step (past a sentence's length they repeat)."""
        alphas = [self.start / temperature + emissions[:, 0]]
        for t in range(1, emissions.shape[1]):
            step = _shifted_step(alphas[-1], exp_transitions) + emissions[:, t]
            alphas.append(np.where(mask[:, t, None], step, alphas[-1]))
        return alphas

    def span_scores(
        self, emissions: np.ndarray, mask: np.ndarray, path: np.ndarray, temperature: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(start, prefix, end), each (B, L): the span log-probabilities of the decoded `path` (B, L)
        (the module's docstring)."""
        emissions = emissions / np.float32(temperature)
        alpha, beta, log_z, transitions = self.forward_backward(emissions, mask, temperature)
        rows = np.arange(path.shape[0])[:, None]
        steps_idx = np.arange(path.shape[1])[None, :]
        start = alpha[rows, steps_idx, path] - log_z[:, None]  # (B, L)
        steps = transitions[path[:, :-1], path[:, 1:]] + emissions[rows, steps_idx[:, 1:], path[:, 1:]]  # (B, L-1)
        prefix = np.concatenate([np.zeros((path.shape[0], 1), np.float32), steps], axis=1).cumsum(axis=1)
        following = transitions[path[:, :-1]] + emissions[:, 1:] + beta[:, 1:]  # (B, L-1, T)
        extend = self.continuation[path[:, :-1]]  # (B, L-1)
        blocked = np.zeros(following.shape, dtype=bool)
        np.put_along_axis(blocked, np.maximum(extend, 0)[:, :, None], True, axis=2)
        blocked &= (extend >= 0)[:, :, None]
        after = _logsumexp(np.where(blocked, NEG_INF, following), axis=2)  # (B, L-1)
        last = mask.sum(axis=1, keepdims=True) - 1  # (B, 1)
        end_here = (self.end / np.float32(temperature))[path]  # (B, L)
        end = np.where(steps_idx == last, end_here, np.concatenate([after, end_here[:, -1:]], axis=1))
        return start, prefix, end

    def log_partition(self, emissions: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """log Z of each sentence: (B,); the forward pass alone (k-best needs no backward scores)."""
        alphas = self._forward(emissions, mask, 1.0, np.exp(self.transitions))
        return _logsumexp(alphas[-1] + self.end, axis=1)

    def k_best(self, emissions: np.ndarray, mask: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best valid tag sequences and their log-probabilities: (B, k, L) int64, (B, k); a
        sentence with fewer than k valid sequences gets -inf for the rest. Memory: two (B, k, T)
        int32 pointer arrays per step (slotfill.decoding.decoder bounds B x k x T x L)."""
        batch, length, num_tags = emissions.shape
        score = np.full((batch, num_tags, k), NEG_INF, dtype=np.float32)  # (B, T, k)
        score[:, :, 0] = self.start + emissions[:, 0]
        keep_tag = np.broadcast_to(np.arange(num_tags).reshape(1, 1, num_tags), (batch, k, num_tags))
        keep_rank = np.broadcast_to(np.arange(k).reshape(1, k, 1), (batch, k, num_tags))
        pointers = []
        for t in range(1, length):
            candidates = (score[:, :, :, None] + self.transitions.reshape(1, num_tags, 1, num_tags)).reshape(
                batch, num_tags * k, num_tags
            )
            index = _top_k_indices(candidates, k, axis=1)  # (B, k, T), best first
            best = np.take_along_axis(candidates, index, axis=1)
            step = best.transpose(0, 2, 1) + emissions[:, t][:, :, None]  # (B, T, k)
            real = mask[:, t].reshape(batch, 1, 1)
            score = np.where(real, step, score)
            previous_tag = np.where(real, index // k, keep_tag).astype(np.int32)
            pointers.append((previous_tag, np.where(real, index % k, keep_rank).astype(np.int32)))
        final = (score + self.end.reshape(1, num_tags, 1)).reshape(batch, num_tags * k)
        index = _top_k_indices(final, k, axis=1)  # (B, k)
        top = np.take_along_axis(final, index, axis=1)
        tag, rank = index // k, index % k
        path = [tag]
        for previous_tag, previous_rank in reversed(pointers):
            flat = rank * num_tags + tag  # (B, k) into (B, k*T)
            tag = np.take_along_axis(previous_tag.reshape(batch, -1), flat, axis=1)
            rank = np.take_along_axis(previous_rank.reshape(batch, -1), flat, axis=1)
            path.append(tag)
        path.reverse()
        log_probabilities = np.where(np.isfinite(top), top - self.log_partition(emissions, mask)[:, None], NEG_INF)
        return np.stack(path, axis=2).astype(np.int64), log_probabilities


def _top_k_indices(x: np.ndarray, k: int, axis: int) -> np.ndarray:
    """Indices of the k largest along `axis`, largest first (among equal scores, the lower index
    first). A partial selection, then a sort of the k: the k-best of a long sentence's 1,250
    candidates per tag is not a full sort."""
    if k >= x.shape[axis]:
        return np.argsort(-x, axis=axis, kind="stable")
    chosen = np.argpartition(-x, k - 1, axis=axis)
    chosen = np.take(chosen, np.arange(k), axis=axis)  # the k largest, in any order
    chosen.sort(axis=axis)  # by index, so that the stable sort below breaks ties by index
    values = np.take_along_axis(x, chosen, axis=axis)
    return np.take_along_axis(chosen, np.argsort(-values, axis=axis, kind="stable"), axis=axis)


class _MaxPlusPlan:
    """Exact `max_i score[b, i] + transitions[i, j]` without materialising (B, T, T).

    Columns with few allowed predecessors (I-x: only B-x and I-x) gather just those. For the
    others, only the k best-scoring previous tags are tried; a tag outside them scores at most
    (k+1-th best score) + (best transition into j), so where the top-k result reaches that bound it
    is exact. Sentences where it does not (rare: a weak previous tag with a much better transition)
    get the full computation."""

    SPARSE_MAX = 4
    TOP_K = 8

    def __init__(self, transitions: np.ndarray) -> None:
        num_tags = transitions.shape[0]
        allowed = np.isfinite(transitions)
        counts = allowed.sum(axis=0)
        sparse = counts <= self.SPARSE_MAX
        self.sparse_cols, self.dense_cols = np.flatnonzero(sparse), np.flatnonzero(~sparse)
        width = max(1, int(counts[sparse].max())) if len(self.sparse_cols) else 1
        # each sparse column's allowed predecessors (padded with a forbidden one: -inf)
        self.sparse_prev = np.argsort(~allowed[:, self.sparse_cols], axis=0, kind="stable")[:width].T  # (S, width)
        self.sparse_trans = transitions[self.sparse_prev, self.sparse_cols[:, None]]  # (S, width)
        self.dense_trans = transitions[:, self.dense_cols]  # (T, D)
        self.dense_bound = self.dense_trans.max(axis=0)  # (D,)
        self.k = min(self.TOP_K, num_tags - 1)

    def best_previous(self, score: np.ndarray) -> np.ndarray:  # (B, T) -> (B, T)
        best = np.empty_like(score)
        if len(self.sparse_cols):
            best[:, self.sparse_cols] = (score[:, self.sparse_prev] + self.sparse_trans).max(axis=2)
        if len(self.dense_cols) == 0:
            return best
        if self.k < 1:
            best[:, self.dense_cols] = (score[:, :, None] + self.dense_trans).max(axis=1)
            return best
        cut = score.shape[1] - self.k - 1
        order = np.argpartition(score, cut, axis=1)  # (B, T): the k best after `cut`, the k+1-th best at it
        top_tags = order[:, cut + 1 :]  # (B, k), in any order
        top_scores = np.take_along_axis(score, top_tags, axis=1)
        kth = np.take_along_axis(score, order[:, cut : cut + 1], axis=1)[:, 0]  # (B,)
        dense = (top_scores[:, :, None] + self.dense_trans[top_tags]).max(axis=1)  # (B, D)
        bound = kth[:, None] + self.dense_bound  # (B, D)
        unsure = np.flatnonzero((dense < bound).any(axis=1))
        if len(unsure):
            dense[unsure] = (score[unsure][:, :, None] + self.dense_trans).max(axis=1)
        best[:, self.dense_cols] = dense
        return best
