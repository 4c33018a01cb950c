"""The CRF against brute force: every tag sequence of a tiny case enumerated. Training's
log-likelihood is torch's (slotfill.nn.crf), decoding numpy's (slotfill.decoding.crf)."""

import itertools

import numpy as np
import pytest
import torch

from slotfill.decoding.crf import BIOConstraints, NumpyCRF
from slotfill.decoding.spans import TagTable, batch_spans, span_confidences
from slotfill.nn.crf import CRF
from slotfill.text import bio

TAGS = ["O", "B-a", "I-a", "B-b", "I-b"]


def make_crf(seed: int, tags: list[str] = TAGS, scale: float = 1.0) -> CRF:
    generator = torch.Generator().manual_seed(seed)
    crf = CRF(len(tags), *bio.allowed_transitions(tags))
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * scale)
    return crf


def decoder_of(crf: CRF, tags: list[str] = TAGS) -> NumpyCRF:
    """The decoding CRF of a training CRF, as slotfill.nn.tagger.TorchDecoder builds it."""
    scores = (getattr(crf, name).detach().numpy() for name in ("start", "transitions", "end"))
    return NumpyCRF(BIOConstraints.for_tags(tags), *scores)


def case(seed: int, lengths: list[int], num_tags: int = len(TAGS), scale: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    emissions = (rng.standard_normal((len(lengths), max(lengths), num_tags)) * scale).astype(np.float32)  # (B, L, T)
    mask = np.arange(max(lengths))[None, :] < np.array(lengths)[:, None]  # (B, L)
    return emissions, mask


def all_valid_paths(decoder: NumpyCRF, emissions: np.ndarray, length: int) -> list[tuple[list[int], float]]:
    """Every valid tag sequence of one sentence with its score, in float64."""
    start, transitions, end = (x.astype(np.float64) for x in (decoder.start, decoder.transitions, decoder.end))
    found = []
    for path in itertools.product(range(len(start)), repeat=length):
        score = start[path[0]] + emissions[0, path[0]] + end[path[-1]]
        for t in range(1, length):
            score += transitions[path[t - 1], path[t]] + emissions[t, path[t]]
        if np.isfinite(score):
            found.append((list(path), float(score)))
    return found


def log_sum(scores: list[float]) -> float:
    top = max(scores)
    return top + float(np.log(np.sum(np.exp(np.array(scores) - top))))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_partition_and_viterbi_match_enumeration(seed: int) -> None:
    crf = make_crf(seed)
    lengths = [4, 2, 1, 3]
    emissions, mask = case(seed, lengths)
    decoder = decoder_of(crf)
    training_log_z = crf.log_partition(torch.from_numpy(emissions), torch.from_numpy(mask)).detach().numpy()
    decoding_log_z = decoder.log_partition(emissions, mask)
    best = decoder.viterbi(emissions, mask)
    for b, n in enumerate(lengths):
        paths = all_valid_paths(decoder, emissions[b], n)
        expected_z = log_sum([s for _, s in paths])
        assert training_log_z[b] == pytest.approx(expected_z, abs=1e-4)
        assert decoding_log_z[b] == pytest.approx(expected_z, abs=1e-4)
        assert best[b, :n].tolist() == max(paths, key=lambda ps: ps[1])[0]


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
    emissions = np.zeros((2, 5, len(TAGS)), np.float32)
    emissions[:, :, TAGS.index("I-a")] = 10.0  # every step screams I-a
    for row in decoder_of(make_crf(4)).viterbi(emissions, np.ones((2, 5), bool)).tolist():
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


BIG_TAGS = ["O"] + [f"{prefix}-s{i}" for i in range(60) for prefix in ("B", "I")]  # 121 tags, as ATIS


def viterbi_dense(decoder: NumpyCRF, emissions: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Textbook Viterbi with a (B, T, T) max per step: the reference the fast Viterbi is held to."""
    batch, length, num_tags = emissions.shape
    identity = np.broadcast_to(np.arange(num_tags), (batch, num_tags))
    score = decoder.start + emissions[:, 0]
    backpointers = []
    for t in range(1, length):
        candidates = score[:, :, None] + decoder.transitions  # (B, T, T)
        best, previous = candidates.max(axis=1), candidates.argmax(axis=1)
        keep = mask[:, t, None]
        score = np.where(keep, best + emissions[:, t], score)
        backpointers.append(np.where(keep, previous, identity))
    tag = (score + decoder.end).argmax(axis=1)
    path = [tag]
    for previous in reversed(backpointers):
        tag = np.take_along_axis(previous, tag[:, None], axis=1)[:, 0]
        path.append(tag)
    path.reverse()
    return np.stack(path, axis=1)


@pytest.mark.parametrize("scale", [0.1, 1.0, 10.0])
def test_fast_viterbi_equals_the_dense_reference_on_many_tags(scale: float) -> None:
    """121 tags as in ATIS and 128 sentences (the max-plus plan's size); large transition scales
    make its top-k shortcut fall back often."""
    decoder = decoder_of(make_crf(int(scale * 10), BIG_TAGS, scale), BIG_TAGS)
    rng = np.random.default_rng(int(scale * 10))
    lengths = rng.integers(1, 25, 128).tolist()
    emissions, mask = case(int(scale * 10), lengths, len(BIG_TAGS))
    fast, dense = decoder.viterbi(emissions, mask), viterbi_dense(decoder, emissions, mask)

    def score(b: int, path: list[int]) -> float:
        total = decoder.start[path[0]] + decoder.end[path[-1]] + sum(emissions[b, t, p] for t, p in enumerate(path))
        return float(total + sum(decoder.transitions[a, c] for a, c in zip(path, path[1:])))

    for b, n in enumerate(lengths):
        if fast[b, :n].tolist() != dense[b, :n].tolist():  # a tie: both must score the same
            assert score(b, fast[b, :n].tolist()) == pytest.approx(score(b, dense[b, :n].tolist()), abs=1e-4)


@pytest.mark.parametrize("how", ["copy_", "load_state_dict", "optimizer_step", "setattr_parameter"])
def test_decoding_follows_the_weights_however_they_change(how: str) -> None:
    """The torch model builds its decoding CRF from the current weights for every batch."""
    from slotfill.nn.tagger import TorchDecoder

    crf = make_crf(5, BIG_TAGS)
    emissions, mask = case(5, [12] * 128, len(BIG_TAGS))
    before = viterbi_dense(decoder_of(crf, BIG_TAGS), emissions, mask)
    generator = torch.Generator().manual_seed(6)
    weights = {name: torch.randn(p.shape, generator=generator) * 2 for name, p in crf.named_parameters()}
    if how == "copy_":
        with torch.no_grad():
            crf.transitions.data.copy_(weights["transitions"])
    elif how == "load_state_dict":
        crf.load_state_dict(weights, strict=False)
    elif how == "setattr_parameter":
        crf.transitions = torch.nn.Parameter(weights["transitions"])
    else:
        optimizer = torch.optim.SGD(crf.parameters(), lr=10.0)
        tensors = torch.from_numpy(emissions), torch.from_numpy(before), torch.from_numpy(mask)
        crf.neg_log_likelihood(*tensors).sum().backward()
        optimizer.step()
    after = viterbi_dense(decoder_of(crf, BIG_TAGS), emissions, mask)
    assert not np.array_equal(before, after)  # the change matters to the best paths
    assert np.array_equal(
        TorchDecoder.decoding_crf(crf, BIOConstraints.for_tags(BIG_TAGS)).viterbi(emissions, mask), after
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_span_confidence_is_the_brute_force_probability_of_the_span(seed: int) -> None:
    decoder = decoder_of(make_crf(seed))
    emissions, mask = case(seed, [5, 3], scale=1.0)
    path = decoder.viterbi(emissions, mask)
    spans = batch_spans(TagTable.for_tags(TAGS), path, np.array([5, 3]))
    confidences = span_confidences(decoder.span_scores(emissions, mask, path), spans)
    expected = []
    for b, n in enumerate((5, 3)):
        paths = all_valid_paths(decoder, emissions[b, :n], n)
        log_z = log_sum([s for _, s in paths])
        for span in bio.spans([TAGS[t] for t in path[b, :n].tolist()]):
            expected.append(sum(np.exp(s - log_z) for p, s in paths if span in bio.spans([TAGS[t] for t in p])))
    assert len(expected) > 2 and confidences == pytest.approx([float(p) for p in expected], abs=1e-5)


def test_k_best_paths_are_the_brute_force_k_best() -> None:
    decoder = decoder_of(make_crf(4))
    emissions, mask = case(4, [4, 2], scale=1.0)
    paths, log_probabilities = decoder.k_best(emissions, mask, 5)
    probabilities = np.exp(log_probabilities)
    for b, n in enumerate((4, 2)):
        ranked = sorted(all_valid_paths(decoder, emissions[b, :n], n), key=lambda ps: -ps[1])
        log_z = log_sum([s for _, s in ranked])
        assert [p[:n] for p in paths[b].tolist()] == [p for p, _ in ranked[:5]]
        assert probabilities[b].tolist() == pytest.approx([float(np.exp(s - log_z)) for _, s in ranked[:5]], abs=1e-5)
    assert np.array_equal(paths[:, 0], decoder.viterbi(emissions, mask))  # the best of the k is Viterbi's


def test_a_sentence_decodes_the_same_in_any_batch() -> None:
    """Tags, span scores, k-best and log Z of a sentence are bit-identical alone and in batches of
    other sentences of other lengths (the forward-backward products are per sentence)."""
    decoder = decoder_of(make_crf(8, BIG_TAGS), BIG_TAGS)
    rng = np.random.default_rng(8)
    lengths = rng.integers(1, 20, 48).tolist()
    emissions, mask = case(8, lengths, len(BIG_TAGS))

    def decoded(rows: list[int]) -> list[tuple]:
        e, m = emissions[rows][:, : max(lengths[r] for r in rows)], mask[rows][:, : max(lengths[r] for r in rows)]
        path = decoder.viterbi(e, m)
        spans = decoder.span_scores(e, m, path, 1.3)
        k_paths, k_probabilities = decoder.k_best(e, m, 3)  # log-probabilities
        return [
            (
                path[i, :n].tolist(),
                [s[i, :n].tolist() for s in spans],
                k_paths[i, :, :n].tolist(),
                k_probabilities[i].tolist(),
            )
            for i, n in enumerate(lengths[r] for r in rows)
        ]

    alone = [decoded([i])[0] for i in range(len(lengths))]
    for size in (7, 16, 48):
        order = rng.permutation(len(lengths)).tolist()
        for s in range(0, len(order), size):
            rows = order[s : s + size]
            assert decoded(rows) == [alone[r] for r in rows]


def test_k_best_keeps_improbable_valid_sequences_and_its_memory_is_bounded() -> None:
    """Probabilities that underflow to 0 still list the sequence (the first alternative is the
    parse itself); a long sentence's k-best is decoded a few sentences at a time."""
    from slotfill.decoding import decoder as decoding
    from slotfill.decoding.types import Decoding

    crf = decoder_of(make_crf(9))
    emissions, mask = case(9, [30, 3, 2], scale=400.0)  # scores so large that exp(log P) is 0.0
    decoded = decoding.decode_scores(emissions, None, [30, 3, 2], crf, Decoding(alternatives=4))
    assert all(row and row[0][0] == tags for row, tags in zip(decoded.alternatives, decoded.tag_ids))
    for shape in ((1000, 999, 125), (256, 12, 125), (3, 5000, 125)):
        groups = decoding._k_best_rows(shape, 10)
        assert [i for g in groups for i in range(*g.indices(shape[0]))] == list(range(shape[0]))  # each row once
        assert all(
            len(range(*g.indices(shape[0]))) * 10 * shape[1] * shape[2] <= decoding.K_BEST_ELEMENTS
            or g.stop - g.start == 1
            for g in groups
        )
    from slotfill.errors import ConfigError
    from slotfill.predict import ParseOptions

    for bad in ({"alternatives": 10_000}, {"min_confidence": float("nan")}, {"min_intent_confidence": 2.0}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            ParseOptions(**bad)
