"""How far an utterance lies from the utterances a model was trained on: the distance that rejects
out-of-scope utterances (docs/out-of-scope.md), in numpy, shared by both runtimes.

A sentence's state is the vector the intent head reads (slotfill.nn.tagger). The index holds the
in-scope training utterances' states, centred, projected on their `dims` principal directions and
whitened (each direction divided by its spread, so that no few high-variance directions decide
the distance), then scaled to length 1. An utterance's distance is 1 minus the mean cosine
similarity of its `neighbours` nearest training utterances: 0 for one surrounded by training
utterances, up to 2. Measured against a Mahalanobis distance to each intent's mean and against
all-MiniLM-L6-v2 sentence embeddings; the table is in docs/out-of-scope.md.

A sentence's distance is the same alone or in any batch: the products are taken in blocks of
exactly ROW_BLOCK rows (slotfill.nn.linear says why), and a row's neighbours depend on its own
similarities only.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

ROW_BLOCK = 64  # rows per product (one BLAS kernel, whatever the batch)


@dataclass(frozen=True, eq=False)
class NeighbourIndex:
    """The training utterances' states as the distance reads them."""

    mean: np.ndarray  # (D,) float32: the training states' mean
    projection: np.ndarray  # (D, d) float32: principal directions, each divided by its spread
    points: np.ndarray  # (N, d) float32: the training states, projected, of length 1
    neighbours: int  # how many nearest training utterances a distance averages over

    def __eq__(self, other: object) -> bool:
        """The same index: the same arrays, element for element, and neighbours."""
        if not isinstance(other, NeighbourIndex):
            return NotImplemented
        same = all(np.array_equal(a, b) for a, b in zip(self.tensors().values(), other.tensors().values()))
        return same and self.neighbours == other.neighbours

    __hash__ = None  # type: ignore[assignment]

    def distances(self, states: np.ndarray) -> np.ndarray:
        """(B, D) sentence states -> (B,) float32 distances to the training utterances. The products
        run on one BLAS thread: BLAS threads left spinning after them slowed the network's next
        batch by 1.8x (measured: docs/out-of-scope.md), and a block of 64 rows gains little from more."""
        with _one_blas_thread():
            return self._distances(states)

    def _distances(self, states: np.ndarray) -> np.ndarray:
        projected = _unit(_blocked(states.astype(np.float32) - self.mean, self.projection))  # (B, d)
        similarity = _blocked(projected, self.points.T)  # (B, N)
        k = min(self.neighbours, similarity.shape[1])
        nearest = np.partition(similarity, similarity.shape[1] - k, axis=1)[:, -k:]  # (B, k), in no order
        nearest.sort(axis=1)  # summed in one order whatever the partition left
        return (1.0 - nearest.mean(axis=1, dtype=np.float64)).astype(np.float32)

    def tensors(self) -> dict[str, np.ndarray]:
        """What out_of_scope.safetensors holds (slotfill.store.calibration), each C-ordered (safetensors
        writes an array's memory as it lies)."""
        return {
            name: np.ascontiguousarray(a)
            for name, a in (("mean", self.mean), ("projection", self.projection), ("points", self.points))
        }


def fit_index(states: np.ndarray, dims: int, neighbours: int) -> NeighbourIndex:
    """The index of (N, D) training states: their `dims` principal directions (fewer where the
    states span fewer), whitened."""
    states = states.astype(np.float64)
    mean = states.mean(axis=0)
    _, spread, directions = np.linalg.svd(states - mean, full_matrices=False)  # (r,), (r, D)
    keep = min(dims, int((spread > spread[0] * 1e-6).sum())) if len(spread) else 0
    if keep == 0:
        raise ValueError("the training states do not vary: no direction to measure a distance along")
    projection = np.ascontiguousarray(
        (directions[:keep].T / (spread[:keep] / np.sqrt(len(states)))), np.float32
    )  # (D, d)
    index = NeighbourIndex(mean.astype(np.float32), projection, np.zeros((0, keep), np.float32), neighbours)
    return with_points(index, states)


def with_points(index: NeighbourIndex, states: np.ndarray) -> NeighbourIndex:
    """`index`'s projection over other training states (one fold's index, for out-of-fold distances)."""
    points = _unit(_blocked(states.astype(np.float32) - index.mean, index.projection))
    return NeighbourIndex(index.mean, index.projection, points, index.neighbours)


def out_of_fold_distances(index: NeighbourIndex, states: np.ndarray, folds: int, seed: int = 0) -> np.ndarray:
    """Each training state's distance to the training states outside its fold (k folds, drawn with
    `seed`): what a training utterance's distance would be had it not been in the index."""
    fold = np.random.default_rng(seed).permutation(len(states)) % folds  # (N,)
    out = np.zeros(len(states), np.float32)
    for f in range(folds):
        inside = fold == f
        out[inside] = with_points(index, states[~inside]).distances(states[inside])
    return out


@functools.cache
def _blas() -> Any:
    """threadpoolctl's controller, built on first use (it inspects the loaded libraries), then kept."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_blas_thread() -> contextlib.AbstractContextManager[object]:
    return _blas().limit(limits=1, user_api="blas")


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.sqrt((x.astype(np.float64) ** 2).sum(axis=1, keepdims=True))
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


def _blocked(x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(B, I) @ (I, O) as products of exactly ROW_BLOCK rows each (the last padded with zeros)."""
    rows = x.shape[0]
    out = np.empty((rows, matrix.shape[1]), np.float32)
    block = np.zeros((ROW_BLOCK, x.shape[1]), np.float32)
    for start in range(0, rows, ROW_BLOCK):
        part = x[start : start + ROW_BLOCK]
        block[: len(part)] = part
        block[len(part) :] = 0.0
        out[start : start + len(part)] = (block @ matrix)[: len(part)]
    return out
