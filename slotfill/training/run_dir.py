"""A run directory before training writes to it: what an earlier run left, whether it is an
interrupted run of the same config (which resumes), and the refusal to replace anything else.
slotfill never deletes a file it did not write."""

from __future__ import annotations

from pathlib import Path

from slotfill.config import Config
from slotfill.errors import OutputError
from slotfill.layout import (
    CALIBRATION_FILE,
    CHECKPOINT_STATE,
    CHECKPOINT_SUBDIR,
    CHECKPOINT_TENSORS,
    CONFIG_FILE,
    GAZETTEER_SUBDIR,
    METRICS_FILE,
    MODEL_SUBDIR,
    OUT_OF_SCOPE_INDEX,
    TRAIN_LOG,
    VOCAB_FILE,
    WEIGHTS_FILE,
)
from slotfill.store.checkpoint import checkpoint_config

SLOTFILL_FILES = {
    MODEL_SUBDIR: {
        CONFIG_FILE,
        VOCAB_FILE,
        GAZETTEER_SUBDIR,
        WEIGHTS_FILE,
        METRICS_FILE,
        CALIBRATION_FILE,
        OUT_OF_SCOPE_INDEX,
    },
    CHECKPOINT_SUBDIR: {CONFIG_FILE, VOCAB_FILE, GAZETTEER_SUBDIR, CHECKPOINT_TENSORS, CHECKPOINT_STATE},
}


def earlier_run(output_dir: Path) -> list[Path]:
    """What an earlier run left in `output_dir` (its model, checkpoint and log); raises
    OutputError when any other file is in the way, since slotfill will not delete it."""
    found = []
    for name in (MODEL_SUBDIR, CHECKPOINT_SUBDIR, TRAIN_LOG):
        path = output_dir / name
        if not path.exists():
            continue
        if path.is_dir():
            foreign = sorted(p.name for p in path.iterdir() if p.name not in SLOTFILL_FILES[name])
            if foreign:
                raise OutputError(
                    f"{path / foreign[0]}: not written by slotfill; move it away before training into {output_dir}"
                )
        found.append(path)
    return found


def is_interrupted_run_of(output_dir: Path, config: Config) -> bool:
    if not (output_dir / CHECKPOINT_SUBDIR).is_dir():
        return False
    return checkpoint_config(output_dir) == config


def prepare_output(output_dir: Path, config: Config, overwrite: bool) -> str:
    """ "resume" for an interrupted run of this config, else "fresh"; raises OutputError for a
    directory that holds another run (without `overwrite`) or files slotfill did not write."""
    if is_interrupted_run_of(output_dir, config) and not overwrite:
        return "resume"
    earlier = earlier_run(output_dir)
    if earlier and not overwrite:
        names = ", ".join(p.name for p in earlier)
        raise OutputError(
            f"{output_dir}: already holds a run ({names}); choose another --output, or give --overwrite to replace it"
        )
    return "fresh"
