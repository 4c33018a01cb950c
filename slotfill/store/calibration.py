"""calibration.json of a model directory: the temperature of the confidences (no torch)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from slotfill.errors import ModelError
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
