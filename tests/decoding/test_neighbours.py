"""The out-of-scope distance (slotfill.decoding.neighbours): equal to its definition computed by
brute force, the same alone and in any batch, out of fold as its name says, saved and read back
whole, and a damaged index is one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from slotfill.decoding.neighbours import fit_index, out_of_fold_distances, with_points
from slotfill.errors import ModelError
from slotfill.store.calibration import read_index, write_index


def _states(rows: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, 24)) * 3
    return (centres[rng.integers(0, 4, rows)] + rng.normal(size=(rows, 24))).astype(np.float32)


def _brute_force(train: np.ndarray, queries: np.ndarray, dims: int, k: int) -> np.ndarray:
    """1 - the mean cosine similarity of the k nearest, in the whitened principal directions (float64)."""
    x = train.astype(np.float64)
    mean = x.mean(axis=0)
    _, spread, directions = np.linalg.svd(x - mean, full_matrices=False)
    project = directions[:dims].T / (spread[:dims] / np.sqrt(len(x)))

    def unit(a: np.ndarray) -> np.ndarray:
        p = (a - mean) @ project
        return p / np.linalg.norm(p, axis=1, keepdims=True)

    similarity = unit(queries.astype(np.float64)) @ unit(x).T
    return 1.0 - np.sort(similarity, axis=1)[:, ::-1][:, :k].mean(axis=1)


def test_the_distance_is_its_definition() -> None:
    train, queries = _states(300), _states(50, seed=1)
    index = fit_index(train, dims=8, neighbours=5)
    assert index.projection.shape == (24, 8) and index.points.shape == (300, 8)
    np.testing.assert_allclose(index.distances(queries), _brute_force(train, queries, 8, 5), atol=2e-5)
    # a state beside a training cluster is nearer than one between the clusters
    between = (train[0] + train[np.argmax(np.linalg.norm(train - train[0], axis=1))]) / 2
    assert index.distances(train[:1] + 0.01)[0] < index.distances(between[None, :])[0]


def test_a_distance_is_the_same_alone_and_in_any_batch() -> None:
    index = fit_index(_states(300), dims=8, neighbours=5)
    queries = _states(130, seed=2)
    together = index.distances(queries)
    alone = np.concatenate([index.distances(queries[i : i + 1]) for i in range(len(queries))])
    shuffled = np.random.default_rng(3).permutation(len(queries))
    assert together.tobytes() == alone.tobytes()
    assert index.distances(queries[shuffled]).tobytes() == together[shuffled].tobytes()


def test_out_of_fold_distances_leave_each_fold_out_of_its_own_index() -> None:
    train = _states(200)
    index = fit_index(train, dims=6, neighbours=3)
    distances = out_of_fold_distances(index, train, folds=4, seed=9)
    fold = np.random.default_rng(9).permutation(200) % 4
    for f in range(4):
        alone = with_points(index, train[fold != f]).distances(train[fold == f])
        assert distances[fold == f].tobytes() == alone.tobytes()
    assert (distances > index.distances(train)).mean() > 0.9  # a state in its own index is at its own side


def test_the_index_is_saved_and_read_back_whole(tmp_path: Path) -> None:
    index = fit_index(_states(100), dims=6, neighbours=4)
    write_index(tmp_path, index)
    again = read_index(tmp_path, 4)
    assert again == index
    assert again.distances(_states(10, 5)).tobytes() == index.distances(_states(10, 5)).tobytes()


def test_a_missing_or_damaged_index_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"out_of_scope.safetensors: missing or damaged out-of-scope index"):
        read_index(tmp_path, 4)
    (tmp_path / "out_of_scope.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    with pytest.raises(ModelError, match=r"missing or damaged out-of-scope index") as raised:
        read_index(tmp_path, 4)
    assert "\n" not in str(raised.value)


def test_states_that_do_not_vary_are_refused() -> None:
    with pytest.raises(ValueError, match="do not vary"):
        fit_index(np.ones((20, 5), np.float32), dims=4, neighbours=3)


def test_a_rejection_fitted_again_replaces_only_itself(tmp_path: Path) -> None:
    import json

    from slotfill.store.calibration import replace_rejection, write_calibration

    write_calibration(tmp_path, {"temperature": 1.25, "out_of_scope": {"method": "confidence"}})
    index = fit_index(_states(100), dims=6, neighbours=4)
    replace_rejection(tmp_path, {"method": "distance"}, index)
    saved = json.loads((tmp_path / "calibration.json").read_text(encoding="utf-8"))
    assert saved == {"temperature": 1.25, "out_of_scope": {"method": "distance"}}
    assert read_index(tmp_path, 4) == index
    replace_rejection(tmp_path, {"method": "class"}, None)  # no index: the old one goes
    assert not (tmp_path / "out_of_scope.safetensors").exists()
