"""`slotfill cv`: cross-validation of a config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from slotfill.cli._util import call, stderr


def cv(
    config: Annotated[Path, typer.Argument(help="YAML config whose training split is cross-validated.")],
    folds: Annotated[int, typer.Option(min=2, help="How many folds.")] = 5,
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Where the folds' runs and the report go.")
    ] = None,
    overrides: Annotated[Optional[list[str]], typer.Option("--set", help="Override a config key (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
) -> None:
    """Cross-validate a config: K models on K-1 folds of train each, scored on the held-out fold.

    Prints mean ± std of every metric, and writes OUTPUT/report/ over all held-out sentences
    (folds stratified by intent and seeded). Read a dev-set difference between two configs
    against this spread.

    Example:

      slotfill cv configs/demo.yaml --folds 5 --output runs/demo-cv
    """
    from slotfill.cli.progress import RichTrainingObserver
    from slotfill.config import load_config
    from slotfill.training.cv import cross_validate

    settings = call(load_config, config, overrides or [])
    output = output or Path("runs") / f"{config.stem}-cv"
    with RichTrainingObserver(stderr, settings.training.epochs) as observer:
        result = call(cross_validate, settings, folds, output, observer)
    if as_json:
        typer.echo(json.dumps({"folds": result.folds, "summary": result.summary, "report": str(result.report_dir)}))
        return
    from rich.table import Table

    table = Table(title=f"{folds}-fold cross-validation of {config}")
    for column in ("metric", *(f"fold {i}" for i in range(1, folds + 1)), "mean ± std"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for name, stat in result.summary.items():
        scale = 1 if name == "slot_ece" else 100
        cells = [f"{scale * fold[name]:.2f}" if scale == 100 else f"{fold[name]:.4f}" for fold in result.folds]
        spread = (
            f"{scale * stat['mean']:.2f} ± {scale * stat['std']:.2f}"
            if scale == 100
            else f"{stat['mean']:.4f} ± {stat['std']:.4f}"
        )
        table.add_row(name, *cells, spread)
    Console().print(table)
    stderr.print(f"report of the held-out predictions: {result.report_dir / 'report.html'}", soft_wrap=True)
