"""Choose the torch device from the `device` setting: auto | cpu | cuda (passed explicitly, never
global), and run a block on a chosen number of CPU threads."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from slotfill.choices import DEVICES
from slotfill.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ConfigError(f"device: {name!r} asked for, but no CUDA GPU is available (use auto or cpu)")
        return torch.device(name)
    raise ConfigError(f"device: {name!r} is not one of {', '.join(DEVICES)} (or cuda:N)")


@contextlib.contextmanager
def cpu_threads(count: int | None) -> Iterator[None]:
    """torch's intra-op threads during the block (None: as they are), restored after it: a
    predictor's `threads` never changes the rest of the process."""
    before = torch.get_num_threads()
    if count is None or count == before:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
