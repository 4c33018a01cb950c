"""The `slotfill` command line: each command parses its arguments and calls the library.

Only this module prints. Results go to stdout, logs and progress to stderr; a SlotfillError
becomes one line on stderr and exit code 2. torch is imported only by the commands that need it.
"""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from slotfill import __version__
from slotfill.choices import DATA_FORMATS, check_choice, one_of
from slotfill.cli._util import DEVICE_HELP, RICH_MARKUP_MODE, Command, ModelArgument, ThreadsOption, call, fail, stderr
from slotfill.cli.annotate import annotate
from slotfill.cli.data import data_app
from slotfill.cli.encoders import encoders_app
from slotfill.cli.model import export, info
from slotfill.cli.tagging import predict, serve, tag
from slotfill.cli.vectors import vectors_app

app = typer.Typer(
    help="Slot filling for dialogue utterances: train a BiLSTM tagger, evaluate it, tag text.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion (bash, zsh, fish, PowerShell)
    pretty_exceptions_enable=False,
    rich_markup_mode=RICH_MARKUP_MODE,
)
# what a runtime-only install (`pip install 'slotfill[runtime]'`) lacks, and the extra that brings it
EXTRA_OF_MODULE = {
    "torch": "train",
    "safetensors": "train",
    "onnx": "train",
    "requests": "train",
    "urllib3": "train",
    "matplotlib": "train",
    "onnxruntime": "runtime",
    "tokenizers": "runtime",  # the word pieces of an exported model with a pretrained encoder
    "pyarrow": "vectors",
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"slotfill {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show debug logs on stderr.")] = False,
    version: Annotated[
        Optional[bool], typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version.")
    ] = None,
) -> None:
    from rich.logging import RichHandler

    logger = logging.getLogger("slotfill")  # slotfill's own logs go to stderr through rich
    for handler in [h for h in logger.handlers if isinstance(h, RichHandler)]:
        logger.removeHandler(handler)
    logger.addHandler(RichHandler(console=stderr, show_time=False, show_path=False, markup=False))
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False


@app.command(cls=Command)
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
    names = ("slot_f1", "slot_precision", "slot_recall", "intent_accuracy", "sentence_accuracy")
    return "  ".join(f"{name} {100 * metrics[name]:.2f}" for name in names if name in metrics)


@app.command(cls=Command)
def evaluate(
    model_dir: ModelArgument,
    data: Annotated[Path, typer.Argument(help="One split: an ATIS directory or a file in any data format.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    data_format: Annotated[str, typer.Option("--format", help=one_of(("auto", *DATA_FORMATS)))] = "auto",
    device: Annotated[str, typer.Option(help=DEVICE_HELP)] = "auto",
    batch_size: Annotated[int, typer.Option(min=1, help="Sentences per batch.")] = 256,
    threads: ThreadsOption = None,
    report: Annotated[
        Optional[Path],
        typer.Option(
            help="Also write DIR/errors.jsonl, predictions.jsonl, confusion.csv, intent_confusion.csv and report.html."
        ),
    ] = None,
) -> None:
    """Score a model on a labelled split: slot F1 (seqeval, as conlleval), per-slot table, accuracies, slot ECE.

    Examples:

      slotfill evaluate runs/demo data/demo/test

      slotfill evaluate runs/atis $(slotfill data path atis)/test --json

      slotfill evaluate runs/atis $(slotfill data path atis)/test --report reports/atis
    """
    metrics = call(_evaluate, model_dir, data, data_format, device, batch_size, report, threads)
    unseen = metrics["unseen_in_training"]
    if unseen["tags"] or unseen["intents"]:
        logging.getLogger("slotfill").warning(
            "%d gold tags and %d gold intents of %s were never seen in training: they count as errors",
            unseen["tags"],
            unseen["intents"],
            data,
        )
    if report is not None:
        stderr.print(f"report written to {report} (open {report / 'report.html'})", soft_wrap=True)
    if as_json:
        typer.echo(json.dumps(metrics, ensure_ascii=False))
        return
    from slotfill.cli.progress import metrics_tables

    out = Console()
    for table in metrics_tables(metrics):
        out.print(table)


def _evaluate(
    model_dir: Path,
    data: Path,
    data_format: str,
    device: str,
    batch_size: int,
    report: Path | None,
    threads: int | None = None,
) -> dict[str, Any]:
    from slotfill.data.readers import read_split
    from slotfill.evaluation.evaluate import evaluate as evaluate_model
    from slotfill.export.loading import load_any_model

    check_choice(data_format, ("auto", *DATA_FORMATS), "--format")
    loaded = load_any_model(model_dir, device, threads)
    examples = read_split(data, data_format)
    evaluation = evaluate_model(
        loaded.decoder,
        loaded.vocab,
        examples,
        batch_size,
        gazetteers=loaded.gazetteers,
        temperature=loaded.temperature,
    )
    expanded = _gold_spans_expanded(data, data_format)
    if expanded:  # scored as the whole tokens they touch, as training reads them by default
        evaluation.metrics["gold_spans_expanded"] = expanded
    if report is not None:
        from slotfill.evaluation.report import write_report
        from slotfill.layout import TRAIN_LOG

        # a run directory's log: beside the run's model/, or in the run directory given
        train_log = next((p for p in (model_dir / TRAIN_LOG, model_dir.parent / TRAIN_LOG) if p.is_file()), None)
        write_report(report, examples, evaluation, train_log, title=f"slotfill: {model_dir} on {data}")
    return evaluation.metrics


def _gold_spans_expanded(data: Path, data_format: str) -> int:
    """How many gold spans of a raw-text split fall inside a token (scored as the tokens they touch)."""
    from slotfill.data.readers import detect_format
    from slotfill.data.validate import misaligned_problems

    return len(misaligned_problems(data, detect_format(data) if data_format == "auto" else data_format))


@app.command(cls=Command)
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


# after train, evaluate and cv above, in the order --help lists them
for command in (predict, tag, annotate, serve, export, info):
    app.command(cls=Command)(command)
app.add_typer(data_app, name="data")
app.add_typer(vectors_app, name="vectors")
app.add_typer(encoders_app, name="encoders")


def run() -> None:
    """The `slotfill` command: the app, with a missing optional dependency as one line."""
    try:
        app()
    except ModuleNotFoundError as error:
        extra = EXTRA_OF_MODULE.get((error.name or "").split(".")[0])
        if extra is None:
            raise
        exit_code = fail(
            f"this command needs {error.name}, which this installation of slotfill does not have: "
            f"pip install 'slotfill[{extra}]'"
        ).exit_code
        raise SystemExit(exit_code) from None


if __name__ == "__main__":
    run()
