"""The CRF against brute force: every tag sequence of a tiny case enumerated."""

import itertools

import pytest
import torch

from slotfill import bio
from slotfill.crf import CRF

TAGS = ["O", "B-a", "I-a", "B-b", "I-b"]


def viterbi_dense(crf: CRF, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Textbook Viterbi with a (B, T, T) max per step: the reference CRF.viterbi is tested against."""
    start, transitions = crf.constrained()
    batch_size, length, num_tags = emissions.shape
    identity = torch.arange(num_tags).expand(batch_size, num_tags)  # (B, T)
    score = start + emissions[:, 0]  # (B, T)
    backpointers = []
    for t in range(1, length):
        best, previous = (score.unsqueeze(2) + transitions).max(dim=1)  # (B, T), (B, T)
        keep = mask[:, t, None]
        score = torch.where(keep, best + emissions[:, t], score)
        backpointers.append(torch.where(keep, previous, identity))
    tag = (score + crf.end).argmax(dim=1)  # (B,)
    path = [tag]
    for previous in reversed(backpointers):
        tag = previous.gather(1, tag.unsqueeze(1)).squeeze(1)
        path.append(tag)
    path.reverse()
    return torch.stack(path, dim=1)


def make_crf(seed: int) -> CRF:
    torch.manual_seed(seed)
    crf = CRF(len(TAGS), *bio.allowed_transitions(TAGS))
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.normal_()
    return crf


def brute_force(crf: CRF, emissions: torch.Tensor, length: int) -> tuple[torch.Tensor, list[int]]:
    """log Z and the best path of one sentence, over all valid tag sequences."""
    start, transitions = crf.constrained()
    scores, paths = [], []
    for path in itertools.product(range(len(TAGS)), repeat=length):
        score = start[path[0]] + emissions[0, path[0]] + crf.end[path[-1]]
        for t in range(1, length):
            score = score + transitions[path[t - 1], path[t]] + emissions[t, path[t]]
        scores.append(score)
        paths.append(list(path))
    stacked = torch.stack(scores)
    return torch.logsumexp(stacked, 0), paths[int(stacked.argmax())]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_partition_and_viterbi_match_enumeration(seed: int) -> None:
    crf = make_crf(seed)
    lengths = [4, 2, 1, 3]
    emissions = torch.randn(len(lengths), max(lengths), len(TAGS)) * 3
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    log_z = crf.log_partition(emissions, mask)
    best = crf.viterbi(emissions, mask)
    for b, n in enumerate(lengths):
        expected_z, expected_path = brute_force(crf, emissions[b], n)
        assert torch.allclose(log_z[b], expected_z, atol=1e-4)
        assert best[b, :n].tolist() == expected_path


def test_likelihood_of_all_paths_sums_to_one() -> None:
    crf = make_crf(3)
    emissions = torch.randn(1, 3, len(TAGS))
    mask = torch.ones(1, 3, dtype=torch.bool)
    total = 0.0
    for path in itertools.product(range(len(TAGS)), repeat=3):
        nll = crf.neg_log_likelihood(emissions, torch.tensor([path]), mask)
        total += float(torch.exp(-nll.detach()))
    assert total == pytest.approx(1.0, abs=1e-4)


def test_viterbi_paths_are_valid_bio_even_when_emissions_prefer_invalid_ones() -> None:
    crf = make_crf(4)
    emissions = torch.zeros(2, 5, len(TAGS))
    emissions[:, :, TAGS.index("I-a")] = 10.0  # every step screams I-a
    mask = torch.ones(2, 5, dtype=torch.bool)
    for row in crf.viterbi(emissions, mask).tolist():
        assert bio.is_valid([TAGS[t] for t in row])


def test_gradients_are_finite() -> None:
    crf = make_crf(5)
    emissions = torch.randn(3, 6, len(TAGS), requires_grad=True)
    mask = torch.tensor([[1] * 6, [1] * 3 + [0] * 3, [1] + [0] * 5], dtype=torch.bool)
    tags = torch.tensor([[0, 1, 2, 0, 3, 4], [3, 4, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0]])
    crf.neg_log_likelihood(emissions, tags, mask).sum().backward()
    assert torch.isfinite(emissions.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in crf.parameters())
    assert (emissions.grad[1, 3:] == 0).all()  # padding gets no gradient


@pytest.mark.parametrize("scale", [0.1, 1.0, 10.0])
def test_fast_viterbi_equals_the_dense_reference_on_many_tags(scale: float) -> None:
    """120 tags as in ATIS; large transition scales make the top-k shortcut fall back often."""
    labels = [f"slot{i}" for i in range(60)]
    tags = ["O"] + [f"{p}-{label}" for label in labels for p in "BI"][:119]
    torch.manual_seed(int(scale * 10))
    crf = CRF(len(tags), *bio.allowed_transitions(tags))
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.normal_(0, scale)
    lengths = torch.randint(1, 25, (64,))
    emissions = torch.randn(64, int(lengths.max()), len(tags)) * 3
    mask = torch.arange(int(lengths.max()))[None, :] < lengths[:, None]
    fast, dense = crf.viterbi(emissions, mask), viterbi_dense(crf, emissions, mask)
    start, transitions = crf.constrained()

    def path_score(b: int, path: list[int]) -> float:
        return float(
            crf.path_score(
                emissions[b : b + 1], torch.tensor([path + [0] * (emissions.size(1) - len(path))]), mask[b : b + 1]
            )
        )

    for b, n in enumerate(lengths.tolist()):
        if fast[b, :n].tolist() != dense[b, :n].tolist():  # a tie: both must score the same
            assert path_score(b, fast[b, :n].tolist()) == pytest.approx(path_score(b, dense[b, :n].tolist()), abs=1e-4)


BIG_TAGS = ["O"] + [f"{prefix}-s{i}" for i in range(60) for prefix in ("B", "I")]  # 121 tags, as ATIS


def big_case(seed: int) -> tuple[CRF, torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    crf = CRF(len(BIG_TAGS), *bio.allowed_transitions(BIG_TAGS))
    emissions = torch.randn(128, 12, len(BIG_TAGS)) * 3  # (B, L, T): enough rows for the fast path
    mask = torch.ones(128, 12, dtype=torch.bool)
    return crf, emissions, mask


def new_weights(crf: CRF, seed: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {name: torch.randn(p.shape, generator=generator) * 2 for name, p in crf.named_parameters()}


@pytest.mark.parametrize(
    "how", ["copy_", "load_state_dict", "load_state_dict_assign", "optimizer_step", "setattr_parameter"]
)
def test_viterbi_follows_the_weights_however_they_change(how: str) -> None:
    crf, emissions, mask = big_case(5)
    assert torch.equal(crf.viterbi(emissions, mask), viterbi_dense(crf, emissions, mask))  # decoded once before
    weights = new_weights(crf, 6)
    if how == "copy_":
        with torch.no_grad():
            crf.transitions.data.copy_(weights["transitions"])
    elif how == "load_state_dict":
        crf.load_state_dict(weights, strict=False)
    elif how == "load_state_dict_assign":
        crf.load_state_dict(weights, strict=False, assign=True)  # new Parameters, version counters at 0 again
    elif how == "setattr_parameter":
        crf.transitions = torch.nn.Parameter(weights["transitions"])
    else:
        optimizer = torch.optim.SGD(crf.parameters(), lr=10.0)
        crf.neg_log_likelihood(emissions, crf.viterbi(emissions, mask), mask).sum().backward()
        optimizer.step()
    before = viterbi_dense(big_case(5)[0], emissions, mask)
    after = viterbi_dense(crf, emissions, mask)
    assert not torch.equal(before, after)  # the change matters to the best paths
    assert torch.equal(crf.viterbi(emissions, mask), after)


@torch.no_grad()
def all_valid_paths(crf: CRF, emissions: torch.Tensor, length: int) -> list[tuple[list[int], torch.Tensor]]:
    start, transitions = crf.constrained()
    found = []
    for path in itertools.product(range(len(TAGS)), repeat=length):
        score = start[path[0]] + emissions[0, path[0]] + crf.end[path[-1]]
        for t in range(1, length):
            score = score + transitions[path[t - 1], path[t]] + emissions[t, path[t]]
        if torch.isfinite(score):
            found.append((list(path), score))
    return found


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_span_confidence_is_the_brute_force_probability_of_the_span(seed: int) -> None:
    from slotfill.confidence import continuation_index, crf_span_scores
    from slotfill.scoring import span_confidence

    crf = make_crf(seed)
    length = 5
    emissions = torch.randn(2, length, len(TAGS))
    mask = torch.tensor([[True] * length, [True] * 3 + [False] * 2])
    path = crf.viterbi(emissions, mask)
    with torch.no_grad():
        scores = crf_span_scores(crf, emissions, mask, path, continuation_index(TAGS))
    for b, n in enumerate((5, 3)):
        paths = all_valid_paths(crf, emissions[b, :n], n)
        log_z = torch.logsumexp(torch.stack([s for _, s in paths]), 0)
        tags = [TAGS[t] for t in path[b, :n].tolist()]
        rows = tuple(x[b, :n].tolist() for x in scores)
        for span in bio.spans(tags):
            exact = sum(
                torch.exp(score - log_z)
                for p, score in paths
                if bio.spans([TAGS[t] for t in p]) and any(s == span for s in bio.spans([TAGS[t] for t in p]))
            )
            assert span_confidence(rows, span.start, span.end) == pytest.approx(float(exact), abs=1e-5)


def test_k_best_paths_are_the_brute_force_k_best() -> None:
    from slotfill.confidence import k_best_paths

    crf = make_crf(4)
    emissions = torch.randn(2, 4, len(TAGS))
    mask = torch.tensor([[True] * 4, [True] * 2 + [False] * 2])
    paths, probabilities = k_best_paths(crf, emissions, mask, 5)
    for b, n in enumerate((4, 2)):
        ranked = sorted(all_valid_paths(crf, emissions[b, :n], n), key=lambda ps: -float(ps[1]))
        log_z = torch.logsumexp(torch.stack([s for _, s in ranked]), 0)
        assert [p[:n] for p in paths[b].tolist()] == [p for p, _ in ranked[:5]]
        assert probabilities[b].tolist() == pytest.approx(
            [float(torch.exp(s - log_z)) for _, s in ranked[:5]], abs=1e-5
        )
    assert torch.equal(paths[:, 0], crf.viterbi(emissions, mask))  # the best of the k is Viterbi's
