"""`slotfill train`: a run from a config (or `--resume` of one), its progress, and the stop on a signal."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from slotfill.choices import HEADLINE_METRICS
from slotfill.cli._util import call, fail, stderr


def train(
    config: Annotated[Optional[Path], typer.Argument(help="YAML config, e.g. configs/demo.yaml.")] = None,
    output: Annotated[
        Optional[Path],
        typer.Option(
            "--output", "-o", help="Run directory (default: runs/CONFIG_NAME); the model goes to OUTPUT/model."
        ),
    ] = None,
    overrides: Annotated[
        Optional[list[str]], typer.Option("--set", help="Override a config key: --set training.epochs=3 (repeatable).")
    ] = None,
    resume: Annotated[
        Optional[Path], typer.Option("--resume", help="Continue the interrupted run in this run directory.")
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite", help="Replace the run already in OUTPUT (its model, checkpoint and log; nothing else)."
        ),
    ] = False,
    init_from: Annotated[
        Optional[Path],
        typer.Option(
            "--init-from",
            help="Fine-tune: start from this model's weights, vocabulary (grown with the new data's words, "
            "characters and labels) and gazetteers (unless the config names lists) instead of from scratch.",
        ),
    ] = None,
) -> None:
    """Train a tagger from a config.

    Ctrl-C or SIGTERM finishes the current step, saves a checkpoint and says how to resume; a
    second one stops at once. An OUTPUT that holds another run is refused unless --overwrite; one
    that holds an interrupted run of the same config is resumed.

    Examples:

      slotfill train configs/demo.yaml

      slotfill train configs/atis.yaml --output runs/atis --set training.epochs=3

      slotfill train --resume runs/atis

      slotfill train configs/smarthome.yaml --init-from runs/smarthome --output runs/smarthome-2 --set "data.train=[train.jsonl, $PWD/corrected.jsonl]"
    """
    from slotfill.cli.progress import RichTrainingObserver
    from slotfill.cli.streams import SignalStop
    from slotfill.config import load_config
    from slotfill.parallel.world import World

    if resume is not None:
        if config is not None or overrides or output is not None or overwrite or init_from is not None:
            raise fail(
                "--resume continues a run with its saved config: give no CONFIG, --output, --set, --overwrite or --init-from"
            )
        from slotfill.store.checkpoint import checkpoint_config

        settings, run_dir = call(checkpoint_config, resume), resume
    elif config is None:
        raise fail("give a CONFIG file, or --resume RUN_DIR")
    else:
        settings = call(load_config, config, overrides or [])
        run_dir = output or Path("runs") / config.stem
    world = call(World.from_environment)  # torchrun's ranks; rank 0 of 1 otherwise
    if not world.is_main:  # one voice: rank 0 shows progress and results, the others only warnings
        logging.getLogger("slotfill").setLevel(logging.WARNING)
    signals = SignalStop()
    display = RichTrainingObserver(stderr, settings.training.epochs, signals.announcement) if world.is_main else None
    with signals.installed(), display or contextlib.nullcontext() as observer:
        try:
            result = call(
                _train, settings, run_dir, observer, signals.event, resume is not None, overwrite, world, init_from
            )
        except TrainingStopped as stopped:  # interrupted on purpose: exit 128 + the signal's number
            if world.is_main:
                stderr.print(str(stopped), soft_wrap=True, highlight=False)
            raise typer.Exit(signals.exit_code) from None
    if not world.is_main:
        return
    stderr.print(
        f"best epoch {result.best_epoch} of {result.epochs_run} in {result.seconds:.1f} s; model saved to {result.model_dir}",
        soft_wrap=True,
    )
    if result.test is not None:
        stderr.print("test: " + _headline(result.test), soft_wrap=True)


class TrainingStopped(Exception):
    """Training was stopped by a signal after saving its checkpoint (not an error: exit 128 + signal)."""


def _train(
    settings: Any,
    run_dir: Path,
    observer: Any,
    stop: Any,
    resume: bool,
    overwrite: bool,
    world: Any,
    init_from: Path | None = None,
) -> Any:
    """Train (or resume) a run; a run stopped on request raises TrainingStopped."""
    from slotfill.training.loop import TrainingInterrupted, resume_training
    from slotfill.training.loop import train as train_model

    try:
        if resume:
            return resume_training(run_dir, observer, stop=stop, world=world)
        return train_model(
            settings, run_dir, observer, stop=stop, overwrite=overwrite, world=world, init_from=init_from
        )
    except TrainingInterrupted as interrupted:
        raise TrainingStopped(str(interrupted)) from None


def _headline(metrics: dict[str, Any]) -> str:
    return "  ".join(f"{name} {100 * metrics[name]:.2f}" for name in HEADLINE_METRICS if name in metrics)
