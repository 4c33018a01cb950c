"""calibration.json of a model directory (no torch): the temperature of the confidences, and the
out-of-scope rejection (`out_of_scope`: its method, distance or confidence threshold and ambiguity
gap), with out_of_scope.safetensors, the training utterances' states a distance is measured to."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save

from slotfill.decoding.neighbours import NeighbourIndex
from slotfill.decoding.types import Rejection
from slotfill.errors import ModelError
from slotfill.features.vocab import Vocab
from slotfill.files import atomic_write_bytes, atomic_write_text
from slotfill.layout import CALIBRATION_FILE, OUT_OF_SCOPE_INDEX


def write_calibration(directory: Path, calibration: dict[str, Any]) -> None:
    """calibration.json: the temperature of the confidences and the ECE before and after fitting it."""
    atomic_write_text(Path(directory) / CALIBRATION_FILE, json.dumps(calibration, indent=2) + "\n")


def write_index(directory: Path, index: NeighbourIndex) -> None:
    """out_of_scope.safetensors: the index an out-of-scope distance is measured with."""
    atomic_write_bytes(Path(directory) / OUT_OF_SCOPE_INDEX, save(index.tensors()))


def replace_rejection(directory: Path, fitted: dict[str, Any], index: NeighbourIndex | None) -> None:
    """A model's rejection fitted again: calibration.json's `out_of_scope` replaced (its temperature
    kept), and out_of_scope.safetensors written, or removed where the new rejection has no index."""
    path = Path(directory) / CALIBRATION_FILE
    calibration = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"temperature": 1.0}
    write_calibration(directory, calibration | {"out_of_scope": fitted})
    (Path(directory) / OUT_OF_SCOPE_INDEX).unlink(missing_ok=True)
    if index is not None:
        write_index(directory, index)


def read_index(directory: Path, neighbours: int) -> NeighbourIndex:
    """The index of out_of_scope.safetensors. Raises ModelError when it is missing or damaged."""
    path = Path(directory) / OUT_OF_SCOPE_INDEX
    try:
        tensors = load_file(str(path))
        index = NeighbourIndex(tensors["mean"], tensors["projection"], tensors["points"], neighbours)
    except (OSError, SafetensorError, KeyError) as error:
        raise ModelError(f"{path}: missing or damaged out-of-scope index ({error})") from None
    (dims,), (rows, projected), (_, width) = index.mean.shape, index.projection.shape, index.points.shape
    if rows != dims or width != projected or not all(a.dtype == np.float32 for a in tensors.values()):
        raise ModelError(f"{path}: the out-of-scope index's shapes do not agree ({dims}, {rows}x{projected}, {width})")
    return index


def read_temperature(directory: Path) -> float:
    """The model's temperature (1 without calibration.json). Raises ModelError when it is damaged."""
    path = Path(directory) / CALIBRATION_FILE
    if not path.is_file():
        return 1.0
    try:
        temperature = json.loads(path.read_text(encoding="utf-8"))["temperature"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise ModelError(f"{path}: damaged calibration ({error})") from None
    if not isinstance(temperature, (int, float)) or not 0.05 <= temperature <= 20:
        raise ModelError(f"{path}: temperature {temperature!r} is not a number in [0.05, 20]")
    return float(temperature)


def read_rejection(directory: Path, vocab: Vocab, label: str) -> Rejection:
    """When the model rejects an utterance: its out-of-scope class (`label`, where the vocabulary
    has it) and what calibration.json records: the distance over which it rejects (method
    distance, with out_of_scope.safetensors), or the confidence threshold (method confidence, the
    models of 0.4), and the ambiguity gap (none: no threshold, as for a model trained before the
    rejection). Raises ModelError when they are damaged."""
    intent_id = vocab.intents[label] if label in vocab.intents else None
    path = Path(directory) / CALIBRATION_FILE
    if not path.is_file():
        return Rejection(intent_id)
    try:
        fitted = json.loads(path.read_text(encoding="utf-8")).get("out_of_scope")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError) as error:
        raise ModelError(f"{path}: damaged calibration ({error})") from None
    if fitted is None:
        return Rejection(intent_id)
    values = (fitted.get("threshold"), fitted.get("ambiguity")) if isinstance(fitted, dict) else (None, None)
    if not all(isinstance(v, (int, float)) and 0.0 <= v <= 1.0 for v in values):
        raise ModelError(f"{path}: out_of_scope threshold and ambiguity {values!r} are not numbers in [0, 1]")
    rejection = Rejection(intent_id, float(values[0]), float(values[1]))  # type: ignore[arg-type]
    if fitted.get("method") != "distance":
        return rejection
    distance, neighbours = fitted.get("distance"), fitted.get("neighbours")
    if not isinstance(distance, (int, float)) or not isinstance(neighbours, int) or neighbours < 1:
        raise ModelError(f"{path}: out_of_scope distance {distance!r} and neighbours {neighbours!r} are not numbers")
    return replace(rejection, index=read_index(Path(directory), neighbours), max_distance=float(distance))
