"""Interrupted and killed training: checkpoints, --resume, and a best model that survives SIGKILL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from slotfill.config import Config
from slotfill.errors import ModelError
from slotfill.layout import CHECKPOINT_SUBDIR
from slotfill.store.checkpoint import load_checkpoint
from slotfill.store.model_dir import load_model
from slotfill.training.loop import TrainingInterrupted, resume_training, train

from ..conftest import ROOT, gazetteer_config, tiny_config


def small_config() -> Config:
    # EMA, a decaying learning rate and per-epoch value substitution and courtesies on: their state
    # must survive the interruption too
    # trained on the 300 sentences of data/demo/dev (scored on test): short epochs, the same machinery
    data = {"train": "dev", "dev": "test", "test": None}
    # six epochs of about 0.3 s: a signal sent up to 0.5 s after the first one lands well before the end
    return gazetteer_config(training={"epochs": 6, "ema_decay": 0.99, "lr_schedule": "linear"}, data=data)


class StopAfter:
    """An observer that asks training to stop after `steps` optimizer steps."""

    def __init__(self, steps: int, stop: threading.Event) -> None:
        self.remaining, self.stop = steps, stop

    def epoch_started(self, epoch: int, num_batches: int, batches_done: int) -> None:
        pass

    def batch_done(self, loss: float) -> None:
        self.remaining -= 1
        if self.remaining == 0:
            self.stop.set()

    def epoch_done(self, summary: object) -> None:
        pass


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("uninterrupted") / "run"
    train(small_config(), run_dir)
    return run_dir


def final_state(run_dir: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    metrics = json.loads((run_dir / "model" / "metrics.json").read_text())
    for key in ("train_seconds", "slotfill_version"):
        metrics.pop(key)
    return metrics, load_file(str(run_dir / "model" / "model.safetensors"))


def assert_same_run(a: Path, b: Path) -> None:
    metrics_a, weights_a = final_state(a)
    metrics_b, weights_b = final_state(b)
    assert metrics_a == metrics_b
    assert weights_a.keys() == weights_b.keys()
    assert all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)
    log_a = [
        {k: v for k, v in json.loads(line).items() if k != "seconds"}
        for line in (a / "train_log.jsonl").read_text().splitlines()
    ]
    log_b = [
        {k: v for k, v in json.loads(line).items() if k != "seconds"}
        for line in (b / "train_log.jsonl").read_text().splitlines()
    ]
    assert log_a == log_b


def test_stop_and_resume_ends_as_an_uninterrupted_run(uninterrupted: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    steps_per_epoch = 10  # 300 sentences / 32
    rng = random.Random(11)
    stops = sorted(rng.sample(range(1, 3 * steps_per_epoch), 2))  # two random interruptions
    stop = threading.Event()
    with pytest.raises(TrainingInterrupted, match=r"resume with `slotfill train --resume"):
        train(small_config(), run_dir, StopAfter(stops[0], stop), stop=stop)
    assert (run_dir / CHECKPOINT_SUBDIR / "state.safetensors").is_file()
    stop.clear()
    with pytest.raises(TrainingInterrupted):
        resume_training(run_dir, StopAfter(stops[1] - stops[0], stop), stop=stop)
    stop.clear()
    resume_training(run_dir)
    assert not (run_dir / CHECKPOINT_SUBDIR).exists()  # a finished run has nothing left to resume
    assert_same_run(uninterrupted, run_dir)


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="nothing to resume"):
        resume_training(tmp_path)


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(small_config().to_yaml())
    return path


def start_training(args: list[str], held: tuple[int, int] | None = None) -> subprocess.Popen[str]:
    """`slotfill train ARGS` in a subprocess; with `held=(step, signals)` its training waits after that
    optimizer step until that many signals have arrived (tests.themes.held_training), so a test
    interrupts the run where it means to, on a fast machine or a loaded one."""
    program = ["-m", "slotfill.cli"] if held is None else ["-m", "tests.themes.held_training", *map(str, held), "any"]
    return subprocess.Popen(
        [sys.executable, *program, "train", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def expect_line(process: subprocess.Popen[str], line: str) -> None:
    """Read the held run's stdout up to `line` (its stderr is read once it has ended)."""
    assert process.stdout is not None
    for printed in process.stdout:
        if printed.strip().endswith(line):  # under torchrun a worker's line may carry its rank first
            return
    raise AssertionError(f"the run ended before printing {line!r}: {process.communicate()}")


def wait_for(path: Path, process: subprocess.Popen[str], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def uninterrupted_cli(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same run through the CLI, in a subprocess with the same thread count as the runs it is
    compared with (floating-point sums depend on how work is split between threads)."""
    tmp = tmp_path_factory.mktemp("uninterrupted_cli")
    process = start_training([str(write_config(tmp)), "--output", str(tmp / "run")])
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    return tmp / "run"


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM])  # SIGINT: the same handler, tested as the second signal below
def test_signal_saves_a_checkpoint_and_cli_resume_finishes_the_run(
    signum: int, uninterrupted_cli: Path, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    # held in the middle of the second epoch (10 steps an epoch) until the signal has arrived
    process = start_training([str(write_config(tmp_path)), "--output", str(run_dir)], held=(15, 1))
    expect_line(process, "held")
    process.send_signal(signum)
    expect_line(process, f"signal {signum}")
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signum, stderr
    assert f"slotfill train --resume {run_dir}" in " ".join(stderr.split())
    resumed = subprocess.run(
        [sys.executable, "-m", "slotfill.cli", "train", "--resume", str(run_dir)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert_same_run(uninterrupted_cli, run_dir)


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_the_best_model_loadable(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    config = tmp_path / "small.yaml"
    # a small model that saves every epoch: kills often land in the middle of a save
    config.write_text(tiny_config(training={"epochs": 50, "patience": 50}, data={"test": None}).to_yaml())
    rng = random.Random(5)
    for _ in range(3):
        process = start_training([str(config), "--output", str(run_dir), "--overwrite"])
        wait_for(run_dir / "model", process)
        time.sleep(rng.uniform(0.0, 2.0))
        process.kill()
        process.wait()
        loaded = load_model(run_dir, torch.device("cpu"))  # never half-written
        assert loaded.metrics["best_epoch"] >= 1 and loaded.metrics["dev"]["slot_f1"] > 0
        leftovers = [
            p.name for p in run_dir.iterdir() if p.name not in ("model", "checkpoint", "train_log.jsonl", ".lock")
        ]
        assert all(name.endswith(".tmp") for name in leftovers)  # only a staging dir the next save removes


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT])  # SIGTERM: the same handler, tested as the first signal above
def test_a_second_signal_ends_at_once_with_its_own_number(signum: int, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    config = tmp_path / "steps.yaml"  # 2,400 sentences (no out-of-scope noise) in steps of 600: four steps an epoch
    steps = tiny_config(training={"epochs": 3, "batch_size": 600}, data={"test": None}, out_of_scope={"noise": 0})
    config.write_text(steps.to_yaml())
    # held after the second epoch's first step until both signals have arrived, the second sent only
    # once the first was handled (two sent together would be delivered as one)
    process = start_training([str(config), "--output", str(run_dir)], held=(5, 2))
    expect_line(process, "held")
    process.send_signal(signum)
    expect_line(process, f"signal {signum}")
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == -signum, stderr  # ended by the signal itself: a shell shows 128 + its number
    assert "Traceback" not in stderr
    assert load_model(run_dir, torch.device("cpu")).metrics["best_epoch"] == 1
    progress = load_checkpoint(run_dir).progress  # the first epoch's checkpoint, whole: nothing was being saved
    assert (progress.epoch, progress.batches_done) == (1, 0)
