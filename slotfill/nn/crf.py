"""A linear-chain CRF with BIO constraints for training: its scores and the negative
log-likelihood, vectorised over batch and tags (loops only over time). Decoding (Viterbi, span
confidences, k-best) is slotfill.decoding.crf's, in numpy, for this model and exported ones alike.

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
