"""`python -m tests.themes.held_training STEP SIGNALS RANK ARGS...`: `slotfill ARGS`, whose training
holds after its STEP-th optimizer step until SIGNALS signals (SIGINT or SIGTERM) have arrived; under
torchrun only the process of that RANK holds (`any`: every process, which is the one without torchrun).

A test that interrupts a run must not race it: a run that finishes before a signal sent "in its
second epoch" arrives exits 0 (seen on a fast machine), and two signals sent close together are
delivered as one on a slow one. Held here, the run waits for the test. It prints `held` on stdout
when it reaches the step, then `signal N` as each signal is handled (by slotfill's own handler:
the CLI's SignalStop is wrapped, never replaced), so the test sends the next one only after that.
Nothing of this is in slotfill: the wrapper patches the training observers (the CLI's progress bar on
rank 0, the silent one elsewhere) in this process only.
"""

from __future__ import annotations

import os
import sys
import threading

from slotfill.cli import streams
from slotfill.cli.app import run
from slotfill.cli.progress import RichTrainingObserver
from slotfill.training.events import Silent


def hold(step: int, signals: int) -> None:
    """Make this process's training hold as the module says."""
    handled: list[int] = []
    arrived = threading.Event()
    steps = 0
    original_handler = streams.SignalStop._handler

    def handler(self: streams.SignalStop, signum: int, frame: object) -> None:
        handled.append(signum)
        arrived.set()
        original_handler(self, signum, frame)  # the second one ends the process here

    def held_after(batch_done: object) -> object:
        def held_batch_done(self: object, loss: float) -> None:
            batch_done(self, loss)  # type: ignore[operator]
            wait_here()

        return held_batch_done

    def wait_here() -> None:
        nonlocal steps
        steps += 1
        if steps != step:
            return
        print("held", flush=True)
        told = 0
        while told < signals:
            arrived.wait(0.05)  # a timeout: the main thread runs Python's signal handlers between waits
            arrived.clear()
            for signum in handled[told:]:
                print(f"signal {signum}", flush=True)
            told = len(handled)

    streams.SignalStop._handler = handler  # type: ignore[method-assign]
    for observer in (RichTrainingObserver, Silent):
        observer.batch_done = held_after(observer.batch_done)  # type: ignore[method-assign]


if __name__ == "__main__":
    step, signals, rank = sys.argv[1:4]
    if rank in ("any", os.environ.get("RANK", "0")):
        hold(int(step), int(signals))
    sys.argv[1:] = sys.argv[4:]
    run()
