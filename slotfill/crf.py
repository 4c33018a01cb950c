"""A linear-chain CRF with BIO constraints, vectorised over batch and tags (loops only over time).

Shapes: B sentences, L time steps (padded), T tags. `mask` (B, L) is True on real tokens, and
every sentence has at least one, at position 0; no sorting by length is needed.
The forward algorithm runs in shifted exp space, one (B, T) @ (T, T) matmul per step:
    alpha_t = log(exp(alpha_{t-1} - m) @ exp(transitions)) + m + emissions_t,   m = max(alpha_{t-1})
which equals logsumexp over the previous tag without materialising (B, T, T).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


class CRF(nn.Module):
    def __init__(self, num_tags: int, start_allowed: Sequence[bool], allowed: Sequence[Sequence[bool]]) -> None:
        super().__init__()
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))  # (T, T) from row to column
        self.start = nn.Parameter(torch.zeros(num_tags))  # (T,)
        self.end = nn.Parameter(torch.zeros(num_tags))  # (T,)
        # derived from the tag names on every load, so not saved with the weights
        self.register_buffer("start_allowed", torch.tensor(start_allowed, dtype=torch.bool), persistent=False)
        self.register_buffer("allowed", torch.tensor(allowed, dtype=torch.bool), persistent=False)

    def constrained(self) -> tuple[Tensor, Tensor]:
        """Start and transition scores with forbidden moves at -inf: (T,), (T, T)."""
        start = self.start.masked_fill(~self.start_allowed, float("-inf"))
        transitions = self.transitions.masked_fill(~self.allowed, float("-inf"))
        return start, transitions

    def log_partition(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """log Z for each sentence: (B, L, T), (B, L) -> (B,)."""
        start, transitions = self.constrained()
        exp_transitions = transitions.exp()  # (T, T), 0 where forbidden
        tiny = torch.finfo(emissions.dtype).tiny
        alpha = start + emissions[:, 0]  # (B, T)
        for t in range(1, emissions.size(1)):
            shift = alpha.max(dim=1, keepdim=True).values.detach()  # (B, 1)
            summed = torch.exp(alpha - shift) @ exp_transitions  # (B, T)
            step = summed.clamp_min(tiny).log() + shift + emissions[:, t]
            alpha = torch.where(mask[:, t, None], step, alpha)
        return torch.logsumexp(alpha + self.end, dim=1)

    def forward_backward(
        self, emissions: Tensor, mask: Tensor, temperature: float = 1.0
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Forward and backward log scores and log Z: (B, L, T), (B, L) -> alpha (B, L, T), beta (B, L, T), (B,).

        alpha[b, t, j]: log-sum of the scores of every valid path prefix ending in tag j at t;
        beta[b, t, i]: of every valid continuation after tag i at t (the end score at the last
        token). Each step is one (B, T) @ (T, T) matmul in shifted exp space, as in log_partition;
        past a sentence's length alpha repeats and beta is the end score. `emissions` come already
        divided by `temperature`; the transition, start and end scores are divided here."""
        start, transitions = self.constrained()
        start, transitions, end_scores = start / temperature, transitions / temperature, self.end / temperature
        exp_transitions = transitions.exp()  # (T, T), 0 where forbidden
        tiny = torch.finfo(emissions.dtype).tiny
        length = emissions.size(1)
        alphas = [start + emissions[:, 0]]  # each (B, T)
        for t in range(1, length):
            previous = alphas[-1]
            shift = previous.max(dim=1, keepdim=True).values  # (B, 1)
            step = (torch.exp(previous - shift) @ exp_transitions).clamp_min(tiny).log() + shift + emissions[:, t]
            alphas.append(torch.where(mask[:, t, None], step, previous))
        end = end_scores.expand_as(alphas[0])  # (B, T)
        betas = [end]
        for t in range(length - 2, -1, -1):
            following = betas[-1] + emissions[:, t + 1]  # (B, T): enter tag j at t+1, then continue
            shift = following.max(dim=1, keepdim=True).values  # (B, 1)
            step = (torch.exp(following - shift) @ exp_transitions.t()).clamp_min(tiny).log() + shift
            betas.append(torch.where(mask[:, t + 1, None], step, end))
        betas.reverse()
        alpha, beta = torch.stack(alphas, dim=1), torch.stack(betas, dim=1)  # (B, L, T) each
        log_z = torch.logsumexp(alpha[:, -1] + end_scores, dim=1)  # (B,): alpha repeats past each length
        return alpha, beta, log_z

    def path_score(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Score of the given tag paths: (B, L, T), (B, L), (B, L) -> (B,)."""
        start, transitions = self.constrained()
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (B, L)
        moved = transitions[tags[:, :-1], tags[:, 1:]]  # (B, L-1)
        zero = emitted.new_zeros(())
        last = tags.gather(1, (mask.sum(1, keepdim=True) - 1)).squeeze(1)  # (B,)
        return (
            start[tags[:, 0]]
            + torch.where(mask, emitted, zero).sum(1)
            + torch.where(mask[:, 1:], moved, zero).sum(1)
            + self.end[last]
        )

    def neg_log_likelihood(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """-log p(tags | emissions) for each sentence: (B,)."""
        return self.log_partition(emissions, mask) - self.path_score(emissions, tags, mask)

    def viterbi(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """Best valid tag path for each sentence: (B, L, T), (B, L) -> (B, L) long; past each
        sentence's length the path repeats its last tag (mask it out).

        The forward pass keeps only the best score of each tag (an exact max-plus product, see
        `_best_previous`); the path is then traced back one chosen tag at a time, which needs one
        column of the transitions per sentence and step instead of a (B, T, T) argmax."""
        start, transitions = self.constrained()
        length = emissions.size(1)
        shortest = int(mask.sum(dim=1).min())  # steps before it need no masking
        score = start + emissions[:, 0]  # (B, T)
        scores = [score]
        # built from the current weights on every call, so nothing can go stale: about 0.4 ms for
        # 125 tags, 1% of decoding 256 sentences; small batches need no plan (the plain max is faster)
        plan = (
            _DensePlan(transitions)
            if _DensePlan.faster_for(emissions.size(0), self.num_tags)
            else _MaxPlusPlan(transitions)
        )
        for t in range(1, length):
            step = plan.best_previous(score) + emissions[:, t]
            score = step if t < shortest else torch.where(mask[:, t, None], step, score)
            scores.append(score)
        tag = (score + self.end).argmax(dim=1)  # (B,)
        path = [tag]
        for t in range(length - 1, 0, -1):
            previous = (scores[t - 1] + transitions[:, tag].t()).argmax(dim=1)  # (B,)
            tag = previous if t < shortest else torch.where(mask[:, t], previous, tag)  # padding: the tag stays
            path.append(tag)
        path.reverse()
        return torch.stack(path, dim=1)


class _DensePlan:
    """`max_i score[b, i] + transitions[i, j]` as one (B, T, T) max: the fastest for small batches."""

    SMALL_BATCH_ELEMENTS = 1 << 17  # below this many (B, T, T) elements, one op beats the eight of _MaxPlusPlan

    @classmethod
    def faster_for(cls, batch_size: int, num_tags: int) -> bool:
        return batch_size * num_tags * num_tags <= cls.SMALL_BATCH_ELEMENTS

    def __init__(self, transitions: Tensor) -> None:  # (T, T), -inf where forbidden
        self.transitions_t = transitions.detach().t()  # (T, T): [j, i]

    def best_previous(self, score: Tensor) -> Tensor:  # (B, T) -> (B, T)
        return (score.unsqueeze(1) + self.transitions_t).amax(dim=2)


class _MaxPlusPlan:
    """Exact `max_i score[b, i] + transitions[i, j]` without materialising (B, T, T).

    Columns with few allowed predecessors (I-x: only B-x and I-x) gather just those. For the
    others, only the k best-scoring previous tags are tried; a tag outside them scores at most
    (k+1-th best score) + (best transition into j), so where the top-k result reaches that bound it
    is exact. Sentences where it does not (rare: a weak previous tag with a much better transition)
    get the full computation."""

    SPARSE_MAX = 4
    TOP_K = 8

    def __init__(self, transitions: Tensor) -> None:  # (T, T), -inf where forbidden
        transitions = transitions.detach()
        num_tags = transitions.size(0)
        allowed = torch.isfinite(transitions)
        counts = allowed.sum(0)  # (T,) allowed predecessors of each tag
        sparse = counts <= self.SPARSE_MAX
        self.sparse_cols = sparse.nonzero().squeeze(1)  # (S,)
        self.dense_cols = (~sparse).nonzero().squeeze(1)  # (D,)
        width = max(1, int(counts[sparse].max())) if len(self.sparse_cols) else 1
        # each sparse column's allowed predecessors first; the rest of the row scores -inf
        self.sparse_prev = allowed[:, self.sparse_cols].float().topk(width, dim=0).indices.t()  # (S, width)
        self.sparse_trans = transitions[self.sparse_prev, self.sparse_cols.unsqueeze(1)]  # (S, width)
        self.dense_trans = transitions[:, self.dense_cols]  # (T, D)
        self.dense_bound = self.dense_trans.amax(dim=0)  # (D,)
        self.k = min(self.TOP_K, num_tags - 1)

    def best_previous(self, score: Tensor) -> Tensor:  # (B, T) -> (B, T)
        best = torch.empty_like(score)
        if len(self.sparse_cols):
            best[:, self.sparse_cols] = (score[:, self.sparse_prev] + self.sparse_trans).amax(dim=2)  # (B, S)
        if len(self.dense_cols) == 0:
            return best
        if self.k < 1:
            best[:, self.dense_cols] = (score.unsqueeze(2) + self.dense_trans).amax(dim=1)
            return best
        top_scores, top_tags = score.topk(self.k + 1, dim=1)  # (B, k+1)
        dense = (top_scores[:, : self.k, None] + self.dense_trans[top_tags[:, : self.k]]).amax(dim=1)  # (B, D)
        bound = top_scores[:, self.k, None] + self.dense_bound  # (B, D): the best any other tag can do
        unsure = (dense < bound).any(dim=1).nonzero().squeeze(1)  # (N,)
        if len(unsure):
            dense[unsure] = (score[unsure].unsqueeze(2) + self.dense_trans).amax(dim=1)
        best[:, self.dense_cols] = dense
        return best
