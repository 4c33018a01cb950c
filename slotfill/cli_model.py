"""`slotfill export` (and the other commands about a model as a whole): parse, call, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from slotfill.cli_common import call, stderr


def export(
    model_dir: Annotated[Path, typer.Argument(help="A model directory (or a run directory holding model/).")],
    out_dir: Annotated[Path, typer.Argument(help="Where the exported model goes (created, or replaced whole).")],
    quantize: Annotated[
        str, typer.Option(help="none, or int8: dynamic int8 quantisation of the weights (smaller, faster).")
    ] = "none",
    overwrite: Annotated[bool, typer.Option(help="Replace OUT_DIR when it is not empty.")] = False,
) -> None:
    """Export a model to ONNX for onnxruntime: predict, tag, evaluate and serve then run it without torch.

    The export is checked against the model before it is written (the ONNX checker, and the
    emissions of onnxruntime against torch's on a probe batch).

    Example:

      slotfill export runs/atis/model runs/atis-onnx --quantize int8
    """
    from slotfill.export import export_model

    info = call(export_model, model_dir, out_dir, quantize, overwrite=overwrite)
    stderr.print(
        f"exported to {out_dir} (onnx opset {info['opset']}, {info['decoder']} decoder, quantize {info['quantize']})",
        soft_wrap=True,
    )
