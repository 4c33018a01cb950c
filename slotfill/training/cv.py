"""K-fold cross-validation over the training split: `slotfill cv CONFIG --folds K`.

A 500-sentence dev set is too small to choose between two configs that differ by a few tenths:
cross-validation trains K models, each on K-1 folds of train (dev still drives early stopping and
calibration), scores each on its held-out fold, and reports mean ± std of every metric, plus one
report over all the held-out predictions together. Folds are stratified by intent and seeded.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slotfill.choices import HEADLINE_METRICS
from slotfill.config import Config
from slotfill.data.example import Example
from slotfill.data.formats import write_split
from slotfill.data.splits import read_splits
from slotfill.decoding.tagging import Tagged
from slotfill.errors import ConfigError
from slotfill.evaluation.evaluate import Evaluation, evaluate_model
from slotfill.evaluation.report import write_report
from slotfill.evaluation.scoring import score
from slotfill.nn.device import resolve_device
from slotfill.store.model_dir import load_model
from slotfill.training.events import TrainingObserver
from slotfill.training.loop import train

METRICS = (*HEADLINE_METRICS, "slot_ece")


@dataclass
class CrossValidation:
    folds: list[dict[str, Any]]  # each fold's test metrics (per_slot left out)
    summary: dict[str, dict[str, float]]  # metric -> {"mean", "std"}
    report_dir: Path


def stratified_folds(examples: Sequence[Example], k: int, seed: int) -> list[list[int]]:
    """K lists of example indices: each intent's examples shuffled (seeded) and dealt round the
    folds in turn, so every fold has each intent in proportion."""
    rng = random.Random(f"slotfill-cv/{seed}")
    by_intent: dict[str | None, list[int]] = {}
    for index, example in enumerate(examples):
        by_intent.setdefault(example.intent, []).append(index)
    folds: list[list[int]] = [[] for _ in range(k)]
    turn = 0
    for intent in sorted(by_intent, key=str):
        members = by_intent[intent]
        rng.shuffle(members)
        for index in members:
            folds[turn % k].append(index)
            turn += 1
    return [sorted(fold) for fold in folds]


def cross_validate(
    config: Config, folds: int, output_dir: Path, observer: TrainingObserver | None = None
) -> CrossValidation:
    if folds < 2:
        raise ConfigError(f"--folds {folds}: cross-validation needs at least 2 folds")
    splits = read_splits(config.data)
    if len(splits.train) < folds:
        raise ConfigError(f"--folds {folds}: the training split has only {len(splits.train)} sentences")
    output_dir = Path(output_dir)
    held_out: dict[int, Tagged] = {}
    results = []
    for number, fold in enumerate(stratified_folds(splits.train, folds, config.seed), 1):
        evaluation, metrics = _run_fold(config, splits, set(fold), output_dir / f"fold{number}", observer)
        results.append({k: v for k, v in metrics.items() if k != "per_slot"})
        held_out.update(zip(fold, evaluation.tagged))
    order = sorted(held_out)
    examples = [splits.train[i] for i in order]
    tagged = [held_out[i] for i in order]
    gold_intents = [e.intent for e in examples]
    merged = score([e.tags for e in examples], [t.tags for t in tagged], gold_intents, [t.intent for t in tagged])
    merged["slot_ece"] = statistics.mean(r["slot_ece"] for r in results)
    write_report(
        output_dir / "report", examples, Evaluation(merged, tagged), title=f"slotfill cross-validation, {folds} folds"
    )
    summary = {
        name: {"mean": statistics.mean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0}
        for name in METRICS
        if len(values := [r[name] for r in results if name in r]) == len(results)
    }
    return CrossValidation(results, summary, output_dir / "report")


def _run_fold(
    config: Config, splits: Any, held: set[int], fold_dir: Path, observer: TrainingObserver | None
) -> tuple[Evaluation, dict[str, Any]]:
    """Train on the other folds (dev kept), then score the held-out fold with the fold's model."""
    data_dir = fold_dir / "data"
    training = [e for i, e in enumerate(splits.train) if i not in held]
    testing = [e for i, e in enumerate(splits.train) if i in held]
    write_split(training, data_dir / "train.jsonl", "jsonl")
    write_split(testing, data_dir / "test.jsonl", "jsonl")
    dev = None
    if splits.dev is not None:
        write_split(splits.dev, data_dir / "dev.jsonl", "jsonl")
        dev = "dev.jsonl"
    data = config.data.model_copy(
        update={"dir": data_dir, "dataset": None, "format": "jsonl", "train": "train.jsonl", "dev": dev, "test": None}
    )
    fold_config = config.model_copy(update={"data": data})
    result = train(fold_config, fold_dir / "run", observer, overwrite=True)
    loaded = load_model(result.model_dir, resolve_device(fold_config.device))
    evaluation = evaluate_model(loaded, testing)
    return evaluation, evaluation.metrics
