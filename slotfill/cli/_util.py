"""What every CLI module shares: the stderr console and the one-line error exit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from slotfill.choices import DEVICES, one_of
from slotfill.errors import SlotfillError

stderr = Console(stderr=True)
# help and usage errors as click writes them, not through typer's rich panels: importing those
# (rich.markdown, markdown-it, rich.traceback) doubled `slotfill --help` (0.46 s against 0.23 s,
# measured), and click rewraps each paragraph instead of breaking sentences mid-line
RICH_MARKUP_MODE = None
T = TypeVar("T")
EXIT_USAGE = 2
ModelArgument = Annotated[
    Path, typer.Argument(help="A model directory, a run directory holding model/, or an exported model.")
]


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print `error: message` as one line on stderr; raise the returned Exit."""
    stderr.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run library code; its own errors become one line on stderr and exit code 2."""
    try:
        return function(*args, **kwargs)
    except SlotfillError as error:
        raise fail(str(error)) from None
    except KeyboardInterrupt:
        raise fail("interrupted", 130) from None


DEVICE_HELP = f"{one_of(DEVICES)} (or cuda:N)"
ThreadsOption = Annotated[
    Optional[int],
    typer.Option(
        "--threads",
        min=1,
        help="CPU threads the model runs on (default: one per core). Give 1 to each of several processes "
        "sharing the cores.",
    ),
]
