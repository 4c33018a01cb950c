"""Choose the torch device from the `device` setting: auto | cpu | cuda (passed explicitly, never global)."""

from __future__ import annotations

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
