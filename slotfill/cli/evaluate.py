"""`slotfill evaluate`: a model scored on a labelled split (tables, JSON, an HTML report)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from slotfill.choices import DATA_FORMATS, check_choice, one_of
from slotfill.cli._util import DEVICE_HELP, ModelArgument, ThreadsOption, call, print_result, stderr
from slotfill.options import BATCH_SIZE

if TYPE_CHECKING:
    from slotfill.data.alignment import SpanProblem


def evaluate(
    model_dir: ModelArgument,
    data: Annotated[Path, typer.Argument(help="One split: an ATIS directory or a file in any data format.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    data_format: Annotated[str, typer.Option("--format", help=one_of(("auto", *DATA_FORMATS)))] = "auto",
    device: Annotated[str, typer.Option(help=DEVICE_HELP)] = "auto",
    batch_size: Annotated[int, typer.Option(min=1, help="Sentences per batch.")] = BATCH_SIZE,
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
    from slotfill.cli.progress import metrics_tables

    print_result(metrics, as_json, metrics_tables)


def _evaluate(
    model_dir: Path,
    data: Path,
    data_format: str,
    device: str,
    batch_size: int,
    report: Path | None,
    threads: int | None = None,
) -> dict[str, Any]:
    from slotfill.data.formats import read_split
    from slotfill.evaluation.evaluate import evaluate_model
    from slotfill.export.loading import load_any_model

    check_choice(data_format, ("auto", *DATA_FORMATS), "--format")
    loaded = load_any_model(model_dir, device, threads)
    found: list[SpanProblem] = []  # gold spans read as training reads them by default, counted here
    examples = read_split(data, data_format, found=found)
    evaluation = evaluate_model(loaded, examples, batch_size)
    evaluation.metrics.update(_gold_span_counts(found))
    if report is not None:
        from slotfill.evaluation.report import write_report
        from slotfill.layout import TRAIN_LOG

        # a run directory's log: beside the run's model/, or in the run directory given
        train_log = next((p for p in (model_dir / TRAIN_LOG, model_dir.parent / TRAIN_LOG) if p.is_file()), None)
        write_report(report, examples, evaluation, train_log, title=f"slotfill: {model_dir} on {data}")
    return evaluation.metrics


def _gold_span_counts(found: list[SpanProblem]) -> dict[str, int]:
    """How many gold spans were read otherwise than annotated: expanded to the tokens they touch
    (inside a token), trimmed of punctuation at their edge, the shorter of two overlapping left out."""
    names = {
        "boundaries": "gold_spans_expanded",
        "overlap": "gold_spans_expanded",
        "punctuation": "gold_spans_trimmed",
        "overlapping": "gold_spans_overlapping",
    }
    counts: dict[str, int] = {}
    for problem in found:
        if problem.reason in names:
            counts[names[problem.reason]] = counts.get(names[problem.reason], 0) + 1
    return counts
