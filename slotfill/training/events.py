"""What training reports as it goes (epoch summaries to an observer) and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from slotfill.errors import SlotfillError


class TrainingInterrupted(SlotfillError):
    """Training stopped on request after saving a checkpoint; the message says how to resume."""


@dataclass
class EpochSummary:
    epoch: int
    train_loss: float
    dev: dict[str, Any] | None  # metrics without per_slot
    seconds: float
    improved: bool


class TrainingObserver(Protocol):
    def epoch_started(self, epoch: int, num_batches: int, batches_done: int) -> None: ...
    def batch_done(self, loss: float) -> None: ...
    def epoch_done(self, summary: EpochSummary) -> None: ...


class Silent:
    def epoch_started(self, epoch: int, num_batches: int, batches_done: int) -> None:
        pass

    def batch_done(self, loss: float) -> None:
        pass

    def epoch_done(self, summary: EpochSummary) -> None:
        pass


@dataclass
class TrainResult:
    model_dir: Path
    best_epoch: int
    epochs_run: int
    seconds: float
    dev: dict[str, Any] | None
    test: dict[str, Any] | None
    history: list[EpochSummary] = field(default_factory=list)
