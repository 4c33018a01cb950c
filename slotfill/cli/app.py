"""The `slotfill` command line: the Typer app and its commands, one module per command group
(train, evaluate, cv, tagging, annotate, model, data, downloads: vectors and transformers). Each command parses its
arguments and calls the library.

Only the cli package prints. Results go to stdout, logs and progress to stderr; a SlotfillError
becomes one line on stderr and exit code 2. torch is imported only by the commands that need it.
"""

from __future__ import annotations

import logging
from typing import Annotated, Optional

import typer

from slotfill import __version__
from slotfill.cli._util import RICH_MARKUP_MODE, Command, fail, stderr
from slotfill.cli.annotate import annotate
from slotfill.cli.cv import cv
from slotfill.cli.data import data_app
from slotfill.cli.downloads import TRANSFORMERS, VECTORS, group_app
from slotfill.cli.evaluate import evaluate
from slotfill.cli.model import export, info
from slotfill.cli.tagging import predict, serve, tag
from slotfill.cli.train import train

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
    "wordfreq": "train",
    "onnxruntime": "runtime",
    "tokenizers": "runtime",  # the word pieces of an exported model with a transformer
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


# in the order --help lists them
for command in (train, evaluate, cv, predict, tag, annotate, serve, export, info):
    app.command(cls=Command)(command)
app.add_typer(data_app, name="data")
app.add_typer(group_app(VECTORS), name="vectors")
app.add_typer(group_app(TRANSFORMERS), name="transformers")
app.add_typer(group_app(TRANSFORMERS, shown_as="encoders"), name="encoders", hidden=True)  # the 0.4 name


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
