"""`slotfill export` (and the other commands about a model as a whole): parse, call, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from slotfill.choices import SCORES
from slotfill.cli._util import DEVICE_HELP, ModelArgument, call, stderr


def export(
    model_dir: Annotated[Path, typer.Argument(help="A model directory (or a run directory holding model/).")],
    out_dir: Annotated[Path, typer.Argument(help="Where the exported model goes (created, or replaced whole).")],
    quantize: Annotated[
        str,
        typer.Option(help="none, or int8: the weights stored as int8 (a quarter of the size), computed in float32."),
    ] = "none",
    overwrite: Annotated[bool, typer.Option(help="Replace OUT_DIR when it is not empty.")] = False,
) -> None:
    """Export a model to ONNX for onnxruntime: predict, tag, evaluate and serve then run it without torch.

    The export is checked against the model before it is written (the ONNX checker, and the
    emissions of onnxruntime against torch's on a probe batch).

    Example:

      slotfill export runs/atis/model runs/atis-onnx --quantize int8
    """
    from slotfill.export.onnx import export_model

    info = call(export_model, model_dir, out_dir, quantize, overwrite=overwrite)
    stderr.print(
        f"exported to {out_dir} (onnx opset {info['opset']}, {info['decoder']} decoder, quantize {info['quantize']})",
        soft_wrap=True,
    )


def info(
    model_dir: ModelArgument,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    device: Annotated[str, typer.Option(help=DEVICE_HELP)] = "cpu",
) -> None:
    """What a model is: versions, intents, slot types, vocabulary sizes, parameters, vectors, config, metrics, gazetteers.

    Example:

      slotfill info runs/atis
    """
    import json

    from rich.console import Console
    from rich.table import Table

    from slotfill.export.loading import load_any_model
    from slotfill.store.info import describe

    described = call(lambda: describe(load_any_model(model_dir, device)))
    if as_json:
        typer.echo(json.dumps(described, ensure_ascii=False))
        return
    out = Console()
    table = Table(title=f"{model_dir}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    for key in ("kind", "slotfill_version", "format_version", "decoder", "parameters", "temperature"):
        value = described[key]
        table.add_row(key.replace("_", " "), f"{value:,}" if isinstance(value, int) else str(value))
    table.add_row("vocabulary", ", ".join(f"{k} {v:,}" for k, v in described["vocabulary"].items()))
    if described["intents"]:
        table.add_row(f"intents ({len(described['intents'])})", ", ".join(described["intents"]))
    else:
        table.add_row("intents", "no intents (trained on slots only)")
    table.add_row(f"slot types ({len(described['slot_types'])})", ", ".join(described["slot_types"]))
    for gazetteer in described["gazetteers"]:
        table.add_row(f"gazetteer {gazetteer['name']}", f"{gazetteer['entries']:,} entries ({gazetteer['source']})")
    vectors = described["vectors"]
    if vectors is not None:
        table.add_row(
            "word vectors",
            f"{vectors['rows']:,} rows of {vectors['dim']} ({vectors['bytes'] / 1e6:.1f} MB), join {vectors['join']}, "
            f"from {vectors['source']}",
        )
    transformer = described.get("transformer")
    if transformer is not None:
        table.add_row(
            "transformer",
            f"{transformer['type']}, {transformer['parameters'] / 1e6:.1f} M parameters of width {transformer['width']} "
            f"({transformer['bytes'] / 1e6:.1f} MB), {transformer['mode']}, layers {transformer['layers']}, "
            f"{transformer['pooling']} of pieces, from {transformer['source']}",
        )
    metrics = described["metrics"]
    for split in ("dev", "test"):
        if isinstance(metrics.get(split), dict):
            table.add_row(
                f"{split} metrics",
                "  ".join(f"{n} {100 * metrics[split][n]:.2f}" for n in SCORES if n in metrics[split]),
            )
    if "world_size" in metrics:
        table.add_row("trained by", f"{metrics['world_size']} process(es)")
    out.print(table)
    out.print("config (slotfill info --json for everything):", style="dim")
    import yaml

    out.print(yaml.safe_dump(described["config"], sort_keys=False), highlight=False, markup=False)
