"""Either kind of model directory, loaded: a model directory (torch) or an exported one
(`slotfill export`: onnxruntime, torch never imported)."""

from __future__ import annotations

from pathlib import Path

from slotfill.decoding.types import Model


def load_any_model(model_dir: Path, device: str = "auto") -> Model:
    """A model directory (torch) or an exported one (`slotfill export`: onnxruntime, torch never
    imported)."""
    from slotfill.export.runtime import is_exported, load_exported

    if is_exported(model_dir):
        return load_exported(model_dir, device)
    from slotfill.nn.device import resolve_device
    from slotfill.store.model_dir import load_model

    return load_model(model_dir, resolve_device(device))
