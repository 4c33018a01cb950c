"""How sure the tagger is: span confidences, the k best tag sequences, and their calibration.

A slot's confidence is the probability, under the model, that exactly this span carries exactly
this label: with the CRF, the sum over every valid tag sequence in which the tokens s..e are
B-x I-x ... I-x and token e+1 does not continue x, divided by Z (forward-backward marginals); with
the softmax decoder, the product of the span's token probabilities. Both are computed in log space
from three (B, L) arrays, so that for a span s..e of the decoded path

    log P(span) = start[s] + prefix[e] - prefix[s] + end[e].

Scores can be divided by a temperature (fitted on dev at the end of training when that makes the
confidences better calibrated; see `fit_temperature`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor

from slotfill.crf import CRF


class SpanScores(NamedTuple):
    start: Tensor  # (B, L)
    prefix: Tensor  # (B, L)
    end: Tensor  # (B, L)


def continuation_index(tags: Sequence[str]) -> Tensor:
    """(T,) long: for B-x and I-x the index of I-x (the tag that would extend the slot), else -1."""
    index = {tag: i for i, tag in enumerate(tags)}
    return torch.tensor([index.get(f"I-{tag[2:]}", -1) if tag != "O" else -1 for tag in tags], dtype=torch.long)


def crf_span_scores(
    crf: CRF, emissions: Tensor, mask: Tensor, path: Tensor, continuation: Tensor, temperature: float = 1.0
) -> SpanScores:
    """Span log-probabilities of the decoded `path` (B, L) from forward-backward marginals."""
    emissions = emissions / temperature
    alpha, beta, log_z = crf.forward_backward(emissions, mask, temperature)  # (B, L, T) x2, (B,)
    _, transitions = crf.constrained()
    transitions = transitions / temperature
    on_path = path.unsqueeze(2)  # (B, L, 1)
    start = alpha.gather(2, on_path).squeeze(2) - log_z.unsqueeze(1)  # (B, L)
    steps = transitions[path[:, :-1], path[:, 1:]] + emissions[:, 1:].gather(2, on_path[:, 1:]).squeeze(2)  # (B, L-1)
    prefix = torch.cat([steps.new_zeros(path.size(0), 1), steps], dim=1).cumsum(dim=1)  # (B, L)
    # after the span: any next tag but the one that would continue it
    following = transitions[path[:, :-1]] + emissions[:, 1:] + beta[:, 1:]  # (B, L-1, T)
    extend = continuation.to(path.device)[path[:, :-1]]  # (B, L-1)
    blocked = torch.zeros_like(following, dtype=torch.bool).scatter_(2, extend.clamp_min(0).unsqueeze(2), True)
    blocked &= (extend >= 0).unsqueeze(2)
    after = following.masked_fill(blocked, float("-inf")).logsumexp(dim=2)  # (B, L-1)
    last = mask.sum(dim=1, keepdim=True) - 1  # (B, 1)
    positions = torch.arange(path.size(1), device=path.device).unsqueeze(0)  # (1, L)
    end_here = (crf.end / temperature)[path]  # (B, L): the sentence ends after this token
    end = torch.where(positions == last, end_here, torch.cat([after, end_here[:, -1:]], dim=1))
    return SpanScores(start, prefix, end)


def softmax_span_scores(emissions: Tensor, path: Tensor, temperature: float = 1.0) -> SpanScores:
    """Span log-probabilities as the sum of the span's token log-probabilities."""
    token = (emissions / temperature).log_softmax(dim=2).gather(2, path.unsqueeze(2)).squeeze(2)  # (B, L)
    return SpanScores(token, token.cumsum(dim=1), torch.zeros_like(token))


def k_best_paths(crf: CRF, emissions: Tensor, mask: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """The k best valid tag sequences of each sentence and their probabilities: (B, L, T), (B, L)
    -> (B, k, L) long, (B, k). Vectorised over the batch, tags and hypotheses; loops over time.
    A sentence with fewer than k valid sequences gets probability 0 for the rest."""
    start, transitions = crf.constrained()
    batch, length, num_tags = emissions.shape
    score = emissions.new_full((batch, num_tags, k), float("-inf"))  # (B, T, k): k best prefixes per tag
    score[:, :, 0] = start + emissions[:, 0]
    keep_tag = torch.arange(num_tags, device=emissions.device).view(1, 1, num_tags).expand(batch, k, num_tags)
    keep_rank = torch.arange(k, device=emissions.device).view(1, k, 1).expand(batch, k, num_tags)
    pointers = []  # per step: (previous tag, previous rank), each (B, k, T)
    for t in range(1, length):
        candidates = (score.unsqueeze(3) + transitions.view(1, num_tags, 1, num_tags)).reshape(
            batch, num_tags * k, num_tags
        )
        best, index = candidates.topk(k, dim=1)  # (B, k, T)
        step = best.transpose(1, 2) + emissions[:, t].unsqueeze(2)  # (B, T, k)
        real = mask[:, t].view(batch, 1, 1)
        score = torch.where(real, step, score)
        pointers.append((torch.where(real, index // k, keep_tag), torch.where(real, index % k, keep_rank)))
    final = (score + crf.end.view(1, num_tags, 1)).reshape(batch, num_tags * k)
    top, index = final.topk(k, dim=1)  # (B, k)
    tag, rank = index // k, index % k  # (B, k)
    path = [tag]
    for previous_tag, previous_rank in reversed(pointers):
        flat = (rank * num_tags + tag).unsqueeze(2)  # (B, k, 1) into (B, k*T)
        tag, rank = (
            previous_tag.reshape(batch, -1).gather(1, flat.squeeze(2)),
            previous_rank.reshape(batch, -1).gather(1, flat.squeeze(2)),
        )
        path.append(tag)
    path.reverse()
    probabilities = (top - crf.log_partition(emissions, mask).unsqueeze(1)).exp().nan_to_num(0.0)  # (B, k)
    return torch.stack(path, dim=2), probabilities
