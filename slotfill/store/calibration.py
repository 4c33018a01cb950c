"""calibration.json of a model directory (no torch): the temperature of the confidences, and the
out-of-scope rejection fitted on dev (`out_of_scope`: its threshold and ambiguity gap)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from slotfill.decoding.types import Rejection
from slotfill.errors import ModelError
from slotfill.features.vocab import Vocab
from slotfill.files import atomic_write_text
from slotfill.layout import CALIBRATION_FILE


def write_calibration(directory: Path, calibration: dict[str, Any]) -> None:
    """calibration.json: the temperature of the confidences and the ECE before and after fitting it."""
    atomic_write_text(Path(directory) / CALIBRATION_FILE, json.dumps(calibration, indent=2) + "\n")


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
    has it) and the threshold and ambiguity gap calibration.json records (none: no threshold, as
    for a model trained before the rejection). Raises ModelError when they are damaged."""
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
    return Rejection(intent_id, float(values[0]), float(values[1]))  # type: ignore[arg-type]
