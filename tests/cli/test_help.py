"""--help as Click and Typer users know it, for every command: `MODEL_DIR DATA` in the usage line,
`--format TEXT`, flags without a placeholder, examples never cut in two; -V; shell completion."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from slotfill import __version__
from slotfill.cli.app import app

from ..conftest import ROOT

runner = CliRunner()


def leaves(command: object, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    children = getattr(command, "commands", None)
    if not children:
        return [(path, command)]
    return [leaf for name, child in children.items() for leaf in leaves(child, (*path, name))]


COMMANDS = leaves(typer.main.get_command(app))


def test_every_command_is_covered() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"train", "evaluate", "predict", "tag", "annotate", "serve", "data validate", "vectors download"} <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_reads_as_click_writes_it(path: tuple[str, ...], command: object) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"}, prog_name="slotfill")
    assert result.exit_code == 0, result.output
    shown = result.stdout
    arguments = [p for p in command.params if p.param_type_name == "argument"]  # type: ignore[attr-defined]
    pieces = [
        (p.name.upper() + ("..." if p.nargs != 1 else "")) if p.required else f"[{p.name.upper()}{'...' if p.nargs != 1 else ''}]"
        for p in arguments
    ]  # fmt: skip
    assert shown.splitlines()[0] == " ".join(["Usage: slotfill", *path, "[OPTIONS]", *pieces])
    assert not re.search(r"<(str|int|float|bool|path|Path)[^>]*>|\{[a-z_]+\}", shown)
    for option in command.params:  # type: ignore[attr-defined]
        if option.param_type_name != "option":
            continue
        listed = shown.partition("\nOptions:\n")[2].splitlines()
        line = next(line for line in listed if re.search(rf"(^|, ){re.escape(option.opts[-1])}\b", line.strip()))
        names = line.strip().split("  ")[0]
        if option.is_flag:
            assert re.fullmatch(r"[-\w, /]+", names) and not re.search(r"[A-Z]{3,}", names), line
        else:
            assert re.fullmatch(r"[-\w, ]+ ([A-Z][A-Z0-9_-]*|\[[^\]]+\])", names), line
    examples = (command.help or "").partition("Example")[2]  # type: ignore[attr-defined]
    for example in re.findall(r"^\s*(slotfill .+|SLOTFILL_API_KEY=.+|curl .+)$", examples, re.M):
        assert example.strip() in [line.strip() for line in shown.splitlines()]  # whole, on one line


def test_version_has_a_short_flag() -> None:
    for flag in ("-V", "--version"):
        result = runner.invoke(app, [flag])
        assert result.exit_code == 0 and result.stdout == f"slotfill {__version__}\n"


def test_shell_completion_completes_commands_and_options() -> None:
    program = str(Path(sys.executable).parent / "slotfill")  # the installed command, as a shell calls it

    def complete(words: str) -> list[str]:
        env = {**os.environ, "_SLOTFILL_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - 1)}  # fmt: skip
        done = subprocess.run([program], env=env, cwd=ROOT, capture_output=True, text=True)
        return done.stdout.split()

    assert complete("slotfill eva") == ["evaluate"]
    assert complete("slotfill evaluate --for") == ["--format"]
    assert complete("slotfill data va") == ["validate"]
    # the script a shell sources: asked for by name, not by --show-completion, which detects the
    # shell it runs under from its parent processes (under make that is sh, which Typer does not know)
    env = {**os.environ, "_SLOTFILL_COMPLETE": "source_bash"}
    script = subprocess.run([program], env=env, capture_output=True, text=True)
    assert script.returncode == 0 and "_SLOTFILL_COMPLETE=complete_bash" in script.stdout
    assert "complete -o default -F _slotfill_completion slotfill" in script.stdout
    listed = runner.invoke(app, ["--help"], prog_name="slotfill").stdout
    assert "--install-completion" in listed and "--show-completion" in listed
