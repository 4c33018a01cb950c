"""Small helpers shared by test modules (fixtures are in conftest.py)."""

from __future__ import annotations

import torch

from slotfill.decoding.types import Decoded, Decoding
from slotfill.features.arrays import FeatureArrays
from slotfill.nn.batching import Batch
from slotfill.nn.tagger import Tagger, TorchDecoder


def decode(tagger: Tagger, batch: Batch, decoding: Decoding = Decoding()) -> Decoded:  # noqa: B008
    """What slotfill.decoding.tagging gets from the torch model for a batch of tensors."""
    arrays = FeatureArrays(*(t.numpy() if t is not None else None for t in batch))
    return TorchDecoder(tagger, torch.device("cpu")).decode(arrays, decoding)
