"""Either kind of model directory, loaded: a model directory (torch) or an exported one
(`slotfill export`: onnxruntime, torch never imported)."""

from __future__ import annotations

from pathlib import Path

from slotfill.decoding.types import Model
from slotfill.errors import ConfigError


def load_any_model(model_dir: Path, device: str = "auto", threads: int | None = None) -> Model:
    """A model directory (torch) or an exported one (`slotfill export`: onnxruntime, torch never
    imported). `threads`: the CPU threads the network runs on (None: the runtime's default)."""
    from slotfill.export.runtime import is_exported, load_exported

    check_threads(threads)
    if is_exported(model_dir):
        return load_exported(model_dir, device, threads)
    from slotfill.nn.device import resolve_device
    from slotfill.store.model_dir import load_model

    return load_model(model_dir, resolve_device(device), threads)


def check_threads(threads: int | None) -> None:
    if threads is not None and not (isinstance(threads, int) and not isinstance(threads, bool) and threads >= 1):
        raise ConfigError(f"threads: {threads!r} is not a whole number of at least 1")
