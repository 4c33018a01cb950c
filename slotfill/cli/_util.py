"""What every CLI module shares: the stderr console and the one-line error exit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand

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


# a value's placeholder in --help, as Click writes it (`--format TEXT`, `--batch-size INTEGER`)
PLACEHOLDERS = {
    "str": "TEXT",
    "int": "INTEGER",
    "float": "FLOAT",
    "datetime": "DATETIME",
}


def _placeholder(param: Any) -> str:
    """`TEXT`, `PATH`, `[a|b]`: what a parameter's value is, from Typer's description of its type."""
    if param.metavar is not None:
        return param.metavar
    described = param.type_descriptor
    if described.is_choice:
        return "[" + "|".join(str(choice) for choice in described.choices or ()) + "]"
    if described.is_path:
        return "PATH"
    name = described.ranged_type_name if described.is_ranged else param.bare_type()
    return PLACEHOLDERS.get(name.removeprefix("list[").removesuffix("]"), name.upper())


class Command(TyperCommand):
    """A command whose --help reads as Click's: `Usage: slotfill evaluate [OPTIONS] MODEL_DIR DATA`,
    arguments in capitals, options with their value's placeholder (`--format TEXT`) and flags
    without one. Typer's own plain help writes `{model_dir}` and `<path>`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = _examples_unwrapped(self.help)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = param.name.upper() + ("..." if param.nargs != 1 else "")
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((param.name.upper(), record[1]))
            else:
                names = ", ".join(sorted(param.opts, key=lambda o: (o.startswith("--"), o)))
                if param.is_flag or param.count:
                    names += "".join(f" / {o}" for o in param.secondary_opts)
                else:
                    names += f" {_placeholder(param)}"
                options.append((names, record[1]))
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _examples_unwrapped(help_text: str | None) -> str | None:
    """The docstring with each paragraph after `Examples:` marked for Click not to rewrap (`\\b`):
    a command cut in two at the terminal's width cannot be copied."""
    if help_text is None:
        return None
    for heading in ("\nExamples:\n", "\nExample:\n"):
        head, found, examples = help_text.partition(heading)
        if found:
            blocks = [block.strip("\n") for block in examples.split("\n\n") if block.strip()]
            return head + found + "\n" + "\n\n".join("\b\n" + block for block in blocks)
    return help_text


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


def print_result(result: Any, as_json: bool, tables: Callable[[Any], Iterable[Any]]) -> None:
    """A command's result on stdout: one JSON line with --json, else the rich tables `tables` makes of it."""
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    out = Console()
    for table in tables(result):
        out.print(table)
