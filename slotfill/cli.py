"""The `slotfill` command line: each command parses its arguments and calls the library.

Only this module prints. Results go to stdout, logs and progress to stderr; a SlotfillError
becomes one line on stderr and exit code 2. torch is imported only by the commands that need it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from slotfill import __version__
from slotfill.choices import DATA_FORMATS, DEVICES, check_choice, one_of
from slotfill.cli_common import call, fail, stderr
from slotfill.cli_data import data_app
from slotfill.cli_model import export

app = typer.Typer(
    help="Slot filling for dialogue utterances: train a BiLSTM tagger, evaluate it, tag text.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# what a runtime-only install (`pip install 'slotfill[runtime]'`) lacks, and the extra that brings it
EXTRA_OF_MODULE = {
    "torch": "train",
    "safetensors": "train",
    "onnx": "train",
    "pooch": "train",
    "matplotlib": "train",
    "onnxruntime": "runtime",
}
DEVICE_HELP = f"{one_of(DEVICES)} (or cuda:N)"


app.add_typer(data_app, name="data")
app.command()(export)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"slotfill {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show debug logs on stderr.")] = False,
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = None,
) -> None:
    from rich.logging import RichHandler

    logger = logging.getLogger("slotfill")  # slotfill's own logs go to stderr through rich
    for handler in [h for h in logger.handlers if isinstance(h, RichHandler)]:
        logger.removeHandler(handler)
    logger.addHandler(RichHandler(console=stderr, show_time=False, show_path=False, markup=False))
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False


@app.command()
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
) -> None:
    """Train a tagger from a config.

    Ctrl-C or SIGTERM finishes the current step, saves a checkpoint and says how to resume; a
    second one stops at once. An OUTPUT that holds another run is refused unless --overwrite; one
    that holds an interrupted run of the same config is resumed.

    Examples:

      slotfill train configs/demo.yaml

      slotfill train configs/atis.yaml --output runs/atis --set training.epochs=3 --set data.dir=../shared/data/atis

      slotfill train --resume runs/atis
    """
    from slotfill.cli_io import SignalStop
    from slotfill.cli_progress import RichTrainingObserver
    from slotfill.config import load_config
    from slotfill.distributed import World

    if resume is not None:
        if config is not None or overrides or output is not None or overwrite:
            raise fail("--resume continues a run with its saved config: give no CONFIG, --output, --set or --overwrite")
        from slotfill.checkpoint import checkpoint_config

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
            result = call(_train, settings, run_dir, observer, signals.event, resume is not None, overwrite, world)
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


def _train(settings: Any, run_dir: Path, observer: Any, stop: Any, resume: bool, overwrite: bool, world: Any) -> Any:
    """Train (or resume) a run; a run stopped on request raises TrainingStopped."""
    from slotfill.train import TrainingInterrupted, resume_training
    from slotfill.train import train as train_model

    try:
        if resume:
            return resume_training(run_dir, observer, stop=stop, world=world)
        return train_model(settings, run_dir, observer, stop=stop, overwrite=overwrite, world=world)
    except TrainingInterrupted as interrupted:
        raise TrainingStopped(str(interrupted)) from None


def _headline(metrics: dict[str, Any]) -> str:
    names = ("slot_f1", "slot_precision", "slot_recall", "intent_accuracy", "sentence_accuracy")
    return "  ".join(f"{name} {100 * metrics[name]:.2f}" for name in names if name in metrics)


@app.command()
def evaluate(
    model_dir: Annotated[
        Path, typer.Argument(help="A model directory, a run directory holding model/, or an exported model.")
    ],
    data: Annotated[Path, typer.Argument(help="One split: an ATIS directory or a file in any data format.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    data_format: Annotated[str, typer.Option("--format", help=one_of(("auto", *DATA_FORMATS)))] = "auto",
    device: Annotated[str, typer.Option(help=DEVICE_HELP)] = "auto",
    batch_size: Annotated[int, typer.Option(min=1, help="Sentences per batch.")] = 256,
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

      slotfill evaluate runs/atis ../shared/data/atis/test --json

      slotfill evaluate runs/atis ../shared/data/atis/test --report reports/atis
    """
    metrics = call(_evaluate, model_dir, data, data_format, device, batch_size, report)
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
    from slotfill.cli_progress import metrics_tables

    out = Console()
    for table in metrics_tables(metrics):
        out.print(table)


def _evaluate(
    model_dir: Path, data: Path, data_format: str, device: str, batch_size: int, report: Path | None
) -> dict[str, Any]:
    from slotfill.data import read_split
    from slotfill.evaluate import evaluate as evaluate_model
    from slotfill.predict import load_any_model

    check_choice(data_format, ("auto", *DATA_FORMATS), "--format")
    loaded = load_any_model(model_dir, device)
    examples = read_split(data, data_format)
    evaluation = evaluate_model(
        loaded.decoder,
        loaded.vocab,
        examples,
        batch_size,
        gazetteers=loaded.gazetteers,
        temperature=loaded.temperature,
    )
    if report is not None:
        from slotfill.layout import TRAIN_LOG
        from slotfill.report import write_report

        # a run directory's log: beside the run's model/, or in the run directory given
        train_log = next((p for p in (model_dir / TRAIN_LOG, model_dir.parent / TRAIN_LOG) if p.is_file()), None)
        write_report(report, examples, evaluation, train_log, title=f"slotfill: {model_dir} on {data}")
    return evaluation.metrics


@app.command()
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
    from slotfill.cli_progress import RichTrainingObserver
    from slotfill.config import load_config
    from slotfill.cv import cross_validate

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


def _print_json_lines(results: Iterator[dict[str, Any]], progress: bool = False) -> None:
    """One JSON object per line on stdout; with `progress`, a count and rate on stderr."""
    from slotfill.cli_io import write_json_lines

    if not progress:
        write_json_lines(results)
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.completed:,} sentences"),
        TextColumn("{task.speed} /s"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=stderr, transient=False) as bar:
        task = bar.add_task("predict", total=None)
        count = write_json_lines(results, lambda n: n % 256 == 0 and bar.update(task, completed=n))
        bar.update(task, completed=count)


GazetteerOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--gazetteer",
        help="NAME=FILE adds FILE's entries (one a line, '|' before aliases, '#' comments) to the model's list NAME; "
        "NAME=FILE:replace replaces the list. No retraining. Repeatable.",
    ),
]
AlternativesOption = Annotated[
    int,
    typer.Option(
        "--alternatives", min=0, max=10, help="Also give the K best intents and tag sequences, with probabilities."
    ),
]
MinConfidenceOption = Annotated[
    float,
    typer.Option(
        "--min-confidence", min=0.0, max=1.0, help="Slots below this confidence go to low_confidence instead of slots."
    ),
]
MaxCharsOption = Annotated[
    int, typer.Option("--max-chars", min=1, help="Longest utterance tagged (longer: an error line).")
]
MaxTokensOption = Annotated[
    int, typer.Option("--max-tokens", min=1, help="Most tokens in an utterance (more: an error line).")
]


@app.command()
def predict(
    model_dir: Annotated[
        Path, typer.Argument(help="A model directory, a run directory holding model/, or an exported model.")
    ],
    texts: Annotated[Optional[list[str]], typer.Argument(help="Utterances to tag.")] = None,
    input_file: Annotated[
        Optional[Path], typer.Option("--input", "-i", help="Read one utterance per line from FILE, or - for stdin.")
    ] = None,
    device: Annotated[str, typer.Option(help=DEVICE_HELP)] = "auto",
    batch_size: Annotated[int, typer.Option(min=1, help="Sentences per batch.")] = 256,
    gazetteer: GazetteerOption = None,
    max_chars: MaxCharsOption = 100_000,
    max_tokens: MaxTokensOption = 5_000,
    alternatives: AlternativesOption = 0,
    min_confidence: MinConfidenceOption = 0.0,
    output: Annotated[
        Optional[Path],
        typer.Option(
            "--output", "-o", help="Write the JSON lines to this file (whole or not at all) instead of stdout."
        ),
    ] = None,
) -> None:
    """Tag utterances; print one JSON object per line, in input order.

    Each line: {"text", "tokens", "tags", "slots": [{"slot", "text", "start", "end", "confidence"}], "intent",
    "intent_confidence"} (with --alternatives, "intents" and "alternatives"; with --min-confidence, "low_confidence");
    an utterance over --max-chars or --max-tokens gives {"error": "..."} in its place, and the others are tagged.

    Examples:

      slotfill predict runs/demo "arrive Taipei on November 2nd"

      slotfill predict runs/atis --input utterances.txt > parsed.jsonl

      slotfill predict runs/atis --gazetteer city=new_cities.txt "fly from Qaanaaq to Denver"

      torchrun --nproc-per-node 4 --no-python slotfill predict runs/atis --input logs.txt --output parsed.jsonl
    """
    from slotfill.cli_io import check_arguments, read_lines
    from slotfill.distributed import World
    from slotfill.sharding import count_lines, line_shard, shard_of, write_output

    if not texts and input_file is None:
        raise fail("give utterances as arguments or --input FILE (- for stdin)")
    if texts and input_file is not None:
        raise fail("give utterances as arguments or --input, not both")
    world = call(World.from_environment)  # under torchrun each rank tags its shard of the file
    if world.distributed and (input_file is None or str(input_file) == "-" or output is None):
        raise fail("under torchrun, predict shards a file: give --input FILE (not stdin) and --output OUT")
    arguments = call(check_arguments, texts or [])
    predictor = call(_predictor, model_dir, device, batch_size, gazetteer, max_chars, max_tokens)
    lines = read_lines(input_file, max_chars) if input_file is not None else iter(arguments)
    if world.distributed:
        lines = shard_of(lines, line_shard(world, call(count_lines, input_file), predictor.chunk_size))
    parses = predictor.parse_many(lines, alternatives=alternatives, min_confidence=min_confidence)
    if output is not None:
        written = call(write_output, output, parses, world)
        if world.is_main and input_file is not None:
            stderr.print(f"{output}: written ({written:,} lines from rank 0 of {world.size})", soft_wrap=True)
        return
    show_progress = input_file is not None and not sys.stdout.isatty() and stderr.is_terminal
    call(_print_json_lines, parses, show_progress)


def _predictor(
    model_dir: Path, device: str, batch_size: int, gazetteer_specs: list[str] | None, max_chars: int, max_tokens: int
) -> Any:
    from slotfill.gazetteer import GazetteerUpdate
    from slotfill.predict import Limits, Predictor

    updates = [GazetteerUpdate.from_spec(spec) for spec in gazetteer_specs or []]
    return Predictor.load(model_dir, device, batch_size, updates, Limits(max_chars, max_tokens))


@app.command()
def tag(
    model_dir: Annotated[
        Path, typer.Argument(help="A model directory, a run directory holding model/, or an exported model.")
    ],
    device: Annotated[str, typer.Option(help=DEVICE_HELP)] = "auto",
    gazetteer: GazetteerOption = None,
    max_chars: MaxCharsOption = 100_000,
    max_tokens: MaxTokensOption = 5_000,
    alternatives: AlternativesOption = 0,
    min_confidence: MinConfidenceOption = 0.0,
) -> None:
    """Tag sentences interactively: type a sentence, see its slots highlighted and listed.

    Each slot shows its confidence; unsure ones (below 50%) are dimmed. An empty line or Ctrl-D
    quits. When stdin is not a terminal, prints JSON lines like predict.

    Example:

      slotfill tag runs/demo
    """
    from slotfill.cli_io import read_lines

    predictor = call(_predictor, model_dir, device, 1, gazetteer, max_chars, max_tokens)
    if not sys.stdin.isatty():
        options = {"alternatives": alternatives, "min_confidence": min_confidence}
        call(_print_json_lines, predictor.parse_many(read_lines(Path("-"), max_chars), **options))
        return
    from slotfill.cli_progress import render_parse

    out = Console()
    out.print("Type a sentence (empty line or Ctrl-D to quit).", style="dim")
    while True:
        try:
            text = out.input("[bold]> [/]")
        except (EOFError, KeyboardInterrupt):
            out.print()
            break
        except UnicodeDecodeError:
            out.print("that line is not UTF-8; type it again", style="red")
            continue
        if not text.strip():
            break
        parsed = call(predictor.parse, text, alternatives=alternatives, min_confidence=min_confidence)
        for renderable in render_parse(parsed):
            out.print(renderable)


@app.command()
def serve(
    model_dir: Annotated[
        Path, typer.Argument(help="A model directory, a run directory holding model/, or an exported model.")
    ],
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. The default 127.0.0.1 answers this machine only; 0.0.0.0 answers every "
            "network the machine is on, so anyone who can reach it can use the model: set an API key then."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    device: Annotated[str, typer.Option(help=DEVICE_HELP)] = "auto",
    max_text_chars: Annotated[int, typer.Option(min=1, help="Longest text accepted (413 beyond).")] = 5_000,
    max_tokens: Annotated[int, typer.Option(min=1, help="Most tokens in one text (413 beyond).")] = 1_000,
    max_batch: Annotated[int, typer.Option(min=1, help="Most texts in one /parse/batch request (413 beyond).")] = 256,
    keep_alive: Annotated[float, typer.Option(min=0.1, help="Seconds an idle connection stays open.")] = 5.0,
    shutdown_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds SIGTERM gives open connections before the server stops.")
    ] = 10.0,
    read_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds to wait for each piece of a request body (408 beyond).")
    ] = 10.0,
    api_key_file: Annotated[
        Optional[Path],
        typer.Option(
            help="A file holding the API key that every request but GET /health must send as 'Authorization: Bearer KEY' "
            "(401 without). Or set SLOTFILL_API_KEY. Never give the key itself on the command line."
        ),
    ] = None,
    gazetteer: GazetteerOption = None,
) -> None:
    """Serve the model over HTTP: POST /parse, POST /parse/batch, GET /health, docs at /docs, a page at /.

    Examples:

      slotfill serve runs/atis

      SLOTFILL_API_KEY=$(cat key.txt) slotfill serve runs/atis --host 0.0.0.0

      curl -s localhost:8000/parse -H 'content-type: application/json' -d '{"text": "leave Taipei on November 2nd"}'
    """
    import uvicorn

    from slotfill.serve import Limits, create_app

    api_key = call(_api_key, api_key_file)
    predictor = call(_predictor, model_dir, device, 256, gazetteer, max_text_chars, max_tokens)
    limits = Limits(max_text_chars=max_text_chars, max_batch=max_batch, read_timeout_s=read_timeout)
    guarded = "with an API key" if api_key else "without an API key"
    stderr.print(
        f"serving {model_dir} on http://{host}:{port} {guarded}  (docs: http://{host}:{port}/docs)", soft_wrap=True
    )
    uvicorn.run(
        create_app(predictor, limits, api_key),
        host=host,
        port=port,
        log_level="warning",
        timeout_keep_alive=keep_alive,  # idle keep-alive connections close
        timeout_graceful_shutdown=shutdown_timeout,  # SIGTERM: open connections get this long, then the server stops
    )


def _api_key(path: Path | None) -> str | None:
    """The key from --api-key-file (first line) or SLOTFILL_API_KEY; None for an open server."""
    import os

    from slotfill.errors import ConfigError

    if path is not None:
        try:
            key = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"--api-key-file {path}: cannot read ({error})") from None
        if not key:
            raise ConfigError(f"--api-key-file {path}: empty")
        return key
    return os.environ.get("SLOTFILL_API_KEY", "").strip() or None


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
