#!/usr/bin/env python3
"""The walk of a training run's config through the code (docs/design.md): how many modules it
passes through and how often it comes back to one it had left.

    python scripts/bench/config_walk.py [--source CHECKOUT] [--config configs/demo.yaml]

Trains CONFIG for one epoch (into a temporary directory) under `sys.setprofile`, following every
call of a slotfill function that receives the config or any part of it (`config.data`,
`config.model.embedding`, ...) as an argument. The walk is the module that holds the config at
each moment: a call moves it into the callee's module, the callee's return moves it back to the
caller's. A step is a change of module; a return is a step into a module that the walk had
already left. Prints, with and without the calls of the config's own methods: modules, steps,
returns, returns per step, and the modules entered most often. SOURCE (default: this checkout) is put first on sys.path, so an earlier commit's
worktree can be measured the same way.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any


def config_parts(config: Any) -> set[int]:
    """The ids of the config and of every pydantic model inside it."""
    from pydantic import BaseModel

    found: set[int] = set()
    pending = [config]
    while pending:
        item = pending.pop()
        if isinstance(item, BaseModel) and id(item) not in found:
            found.add(id(item))
            pending += [getattr(item, name) for name in type(item).model_fields]
    return found


class Walk:
    def __init__(self, parts: set[int]) -> None:
        self.parts = parts
        self.followed: set[int] = set()  # ids of the frames that received a part of the config
        self.path: list[str] = []  # the module holding the config, one entry per step

    def move(self, module: str) -> None:
        if not self.path or self.path[-1] != module:
            self.path.append(module)

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event not in ("call", "return"):
            return
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("slotfill"):
            return
        if event == "call":
            code = frame.f_code
            names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
            if any(id(frame.f_locals.get(name)) in self.parts for name in names):
                self.followed.add(id(frame))
                self.move(module)
        elif id(frame) in self.followed:
            self.followed.discard(id(frame))
            caller = frame.f_back
            if caller is not None and caller.f_globals.get("__name__", "").startswith("slotfill"):
                self.move(caller.f_globals["__name__"])


def summary(path: list[str]) -> dict[str, Any]:
    left: set[str] = set()
    returns = 0
    for previous, module in zip(path, path[1:]):
        left.add(previous)
        returns += module in left
    steps = len(path) - 1
    entered = collections.Counter(path)
    return {
        "modules": len(entered),
        "steps": steps,
        "returns": returns,
        "returns_per_step": round(returns / steps, 2) if steps else 0.0,
        "entered_most": dict(entered.most_common(6)),
        "path": path,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[2])
    parser.add_argument("--config", type=Path, default=Path("configs/demo.yaml"))
    args = parser.parse_args()
    sys.path.insert(0, str(args.source.resolve()))
    from slotfill.config import load_config
    from slotfill.training.loop import train

    config = load_config(args.source / args.config, ["training.epochs=1"])
    walk = Walk(config_parts(config))
    with tempfile.TemporaryDirectory(prefix="slotfill-walk-") as scratch:
        sys.setprofile(walk)
        try:
            train(config, Path(scratch) / "run")
        finally:
            sys.setprofile(None)
    # the config's own methods (config.data.path(...)) are the config answering, not the walk
    outside = [module for module in walk.path if module != "slotfill.config"]
    outside = [module for index, module in enumerate(outside) if index == 0 or outside[index - 1] != module]
    shown = {"all calls": summary(walk.path), "without the config's own methods": summary(outside)}
    print(
        json.dumps({name: {k: v for k, v in result.items() if k != "path"} for name, result in shown.items()}, indent=1)
    )


if __name__ == "__main__":
    main()
