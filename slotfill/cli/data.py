"""`slotfill data ...`: download verified datasets, convert between formats, describe a dataset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from slotfill.choices import DATA_FORMATS, DATASETS, OUT_OF_SCOPE_LABEL, check_choice, one_of
from slotfill.cli._util import RICH_MARKUP_MODE, Command, call, print_result, stderr
from slotfill.cli.streams import terminated_as_exit

data_app = typer.Typer(
    help="Datasets: download (verified), convert between formats, describe.",
    no_args_is_help=True,
    rich_markup_mode=RICH_MARKUP_MODE,
)
FORMAT_HELP = one_of(("auto", *DATA_FORMATS))


@data_app.command(cls=Command)
def download(
    name: Annotated[str, typer.Argument(help=f"{one_of(DATASETS)}.")],
    directory: Annotated[
        Optional[Path],
        typer.Option("--dir", help="Where datasets live (default: $SLOTFILL_DATA, else the user cache)."),
    ] = None,
    source: Annotated[
        Optional[Path],
        typer.Option(
            "--from",
            help="Import a local copy (DIR/train/seq.in, ...; for xsid a checkout's data/xSID-0.7, for clinc150 a checkout of clinc/oos-eval) instead of downloading.",
        ),
    ] = None,
    base_url: Annotated[
        Optional[str],
        typer.Option(
            help="A mirror with the registry's layout: URL/NAME/PATH (URL/atis/train/seq.in, URL/xsid/de.test.conll)."
        ),
    ] = None,
    registry: Annotated[
        Optional[Path], typer.Option(help="Checksums to verify against ('SHA256  NAME/SPLIT/FILE' lines).")
    ] = None,
) -> None:
    """Download a benchmark dataset (the JointBERT repository's copy, pinned) and verify every file.

    The dataset directory appears whole or not at all; a file whose sha256 differs from the
    registry shipped with slotfill is refused.

    Examples:

      slotfill data download atis

      slotfill data download atis --from ../shared/data/atis
    """
    from slotfill.data import datasets, downloads

    checksums = call(datasets.parse_registry, registry.read_text(encoding="utf-8"), str(registry)) if registry else None
    known = checksums is not None or name in datasets.DATASETS
    if source is None and known and call(downloads.is_complete, "datasets", name, directory, checksums):
        where = downloads.location("datasets", name, directory)
        stderr.print(f"{where}: already here, every file verified", soft_wrap=True)
        return
    with terminated_as_exit():  # SIGTERM unwinds like Ctrl-C: the staging directory is removed
        where = call(
            downloads.download, "datasets", name, directory, source=source, url=base_url or None, checksums=checksums
        )
    stderr.print(f"{name}: every file verified; in {where}", soft_wrap=True)


@data_app.command(cls=Command)
def path(
    name: Annotated[str, typer.Argument(help=f"{one_of(DATASETS)}.")],
    directory: Annotated[Optional[Path], typer.Option("--dir", help="Where datasets live (as for download).")] = None,
) -> None:
    """Print where a dataset is (or would be) downloaded, e.g. for `slotfill evaluate MODEL $(slotfill data path atis)/test`."""
    from slotfill.data import datasets, downloads

    call(check_choice, name, datasets.DATASETS, "NAME")
    typer.echo(str(downloads.location("datasets", name, directory)))


@data_app.command(cls=Command)
def convert(
    source: Annotated[Path, typer.Argument(help="A split: an ATIS directory or a file in any format.")],
    target: Annotated[Path, typer.Argument(help="Where to write it (a directory for atis).")],
    to: Annotated[str, typer.Option("--to", help=f"The format to write: {one_of(DATA_FORMATS)}.")] = "auto",
    source_format: Annotated[str, typer.Option("--format", help=f"The format of SOURCE: {FORMAT_HELP}.")] = "auto",
) -> None:
    """Convert a split between formats (atis, conll, jsonl, spans, rasa, snips).

    Lookup lists (Rasa lookups and synonyms, Snips entities) are kept where the target format holds them.

    Examples:

      slotfill data convert $(slotfill data path atis)/train runs/atis_train.yml --to rasa

      slotfill data convert nlu.yml train.jsonl
    """
    written, left_out, warning = call(_convert, source, target, to, source_format)
    if warning:
        stderr.print(f"warning: {warning}", soft_wrap=True, markup=False)
    stderr.print(f"{written} sentences written to {target}", soft_wrap=True)
    if left_out:
        stderr.print(f"{len(left_out)} records not written:", soft_wrap=True)
        for problem in left_out:
            stderr.print(f"  {problem.where}: {problem.message()}", soft_wrap=True, markup=False)


def _convert(source: Path, target: Path, to: str, source_format: str) -> tuple[int, list[Any], str | None]:
    """Write SOURCE as TARGET: the sentences written, the records left out (no token) and the one
    warning about the span problems read (None: none)."""
    from slotfill.data.alignment import SpanPolicy, SpanProblem
    from slotfill.data.formats import detect_format, format_of_name, read_lookups, read_split, write_split
    from slotfill.data.readers import span_warning

    check_choice(source_format, ("auto", *DATA_FORMATS), "--format")
    fmt = check_choice(to, ("auto", *DATA_FORMATS), "--to")
    if fmt == "auto":
        fmt = detect_format(target) if target.suffix and target.exists() else format_of_name(target)
    found: list[SpanProblem] = []
    examples = read_split(source, source_format, found=found)
    write_split(examples, target, fmt, read_lookups(source, source_format))
    left_out = [problem for problem in found if problem.reason == "empty"]
    spans = [problem for problem in found if problem.reason != "empty"]
    return len(examples), left_out, span_warning(spans, len(examples), SpanPolicy()) if spans else None


@data_app.command(cls=Command)
def stats(
    path: Annotated[Path, typer.Argument(help="A split, or a dataset directory holding train, dev and test.")],
    data_format: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
) -> None:
    """Describe a dataset: sentences, tokens, slots and intents per split.

    Also the labels of dev and test that train never shows (a model cannot predict those).

    Example:

      slotfill data stats $(slotfill data path atis)
    """
    from slotfill.data.stats import dataset_stats

    call(check_choice, data_format, ("auto", *DATA_FORMATS), "--format")
    result = call(dataset_stats, path, data_format)
    print_result(result, as_json, _stats_tables)


@data_app.command(cls=Command)
def validate(
    path: Annotated[Path, typer.Argument(help="A split, or a dataset directory holding train, dev and test.")],
    data_format: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
    out_of_scope: Annotated[
        str,
        typer.Option("--out-of-scope", help="The intent of out-of-scope examples (a config's out_of_scope.intent)."),
    ] = OUT_OF_SCOPE_LABEL,
) -> None:
    """Report every problem of a dataset without training; exit 1 when there is any.

    Tokens the runtime tokeniser would split differently ("lo-fi" typed becomes lo - fi), BIO tags
    that need repair, slots of nothing but punctuation, intents on some sentences only, dev/test
    labels train never shows, dev/test sentences that are also in train, and intents with too few
    examples for the out-of-scope threshold.

    Example:

      slotfill data validate data/smarthome
    """
    from slotfill.data.validate import summary
    from slotfill.data.validate import validate as validate_data

    call(check_choice, data_format, ("auto", *DATA_FORMATS), "--format")
    from slotfill.data.validate import OutOfScope

    problems = call(validate_data, path, data_format, OutOfScope(out_of_scope))
    if as_json:
        typer.echo(json.dumps(summary(problems), ensure_ascii=False))
    elif problems:
        table = Table(title=f"{len(problems)} problem(s) in {path}")
        table.add_column("kind")
        table.add_column("where", overflow="fold", min_width=12)  # folded, never cut: a place must stay whole
        table.add_column("problem", overflow="fold")
        for problem in problems:
            table.add_row(problem.kind, _inside(problem.where, path), problem.message)
        Console().print(table)
    else:
        stderr.print(f"{path}: no problems found", soft_wrap=True)
    if problems:
        raise typer.Exit(1)


def _inside(where: str, root: Path) -> str:
    """A problem's place relative to the dataset it was found in (`dev/seq.in:9`)."""
    if root.is_dir():
        for prefix in (str(root).rstrip("/") + "/", str(root.absolute()).rstrip("/") + "/"):
            if where.startswith(prefix):
                return where[len(prefix) :]
    return where


def _stats_tables(result: dict[str, Any]) -> list[Table]:
    splits = result["splits"]
    summary = Table(title="Splits")
    for column in ("split", "sentences", "tokens", "slots", "slot types", "intents"):
        summary.add_column(column, justify="left" if column == "split" else "right")
    for name, s in splits.items():
        summary.add_row(
            name,
            f"{s['sentences']:,}",
            f"{s['tokens']:,}",
            f"{sum(s['slots'].values()):,}",
            str(len(s["slots"])),
            str(len(s["intents"])),
        )
    tables = [summary]
    for kind in ("slots", "intents"):
        if kind == "intents" and not result["has_intents"]:
            table = Table(title="Intents", show_header=False)
            table.add_column("intents")
            table.add_row("no intents (slots only)")
            tables.append(table)
            continue
        table = Table(title=kind.capitalize())
        table.add_column(kind[:-1])
        for name in splits:
            table.add_column(name, justify="right")
        labels = dict.fromkeys(label for s in splits.values() for label in s[kind])
        for label in labels:
            table.add_row(label, *(str(s[kind].get(label, "")) for s in splits.values()))
        tables.append(table)
    if any(s["requested"]["turns"] for s in splits.values()):
        table = Table(title="Requested slots (the dialogue context)")
        table.add_column("requested")
        for name in splits:
            table.add_column(name, justify="right")
        table.add_row("turns with one", *(str(s["requested"]["turns"]) for s in splits.values()))
        for label in dict.fromkeys(label for s in splits.values() for label in s["requested"]["slots"]):
            table.add_row(label, *(str(s["requested"]["slots"].get(label, "")) for s in splits.values()))
        tables.append(table)
    for name, unseen in result.get("unseen", {}).items():
        if unseen["slots"] or unseen["intents"]:
            table = Table(title=f"In {name}, never in train")
            table.add_column("kind")
            table.add_column("label")
            table.add_column("count", justify="right")
            for kind in ("slots", "intents"):
                for label, count in unseen[kind].items():
                    table.add_row(kind[:-1], label, str(count))
            tables.append(table)
    return tables
