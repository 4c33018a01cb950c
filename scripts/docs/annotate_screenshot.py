#!/usr/bin/env python3
"""The README's picture of an annotation session (docs/annotate.svg): `slotfill annotate` run in a
real pseudo-terminal, the answers typed one by one as it asks, its colours kept (rich reads the
terminal's ANSI codes back and writes them as SVG).

    python scripts/docs/annotate_screenshot.py MODEL UTTERANCES OUT.svg ANSWER...

e.g. python scripts/docs/annotate_screenshot.py runs/demo utterances.txt docs/annotate.svg \\
         "d 3" "a toloc.city_name = rome" "" "" "a toloc.city_name 12" "u" "" ""
"""

from __future__ import annotations

import os
import pty
import select
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.text import Text


def read_until_prompt(fd: int, timeout: float) -> bytes:
    """What the session prints until it waits at its `> ` prompt (or ends)."""
    seen, end = b"", time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the session ended
            break
        if not chunk:
            break
        seen += chunk
        if seen.rstrip().endswith(b">") or seen.rstrip().endswith(b"> \x1b[0m"):
            break
    return seen


def main() -> None:
    model, utterances, out, *answers = sys.argv[1:]
    model, utterances = str(Path(model).absolute()), str(Path(utterances).absolute())
    pid, fd = pty.fork()
    if pid == 0:  # the child: the session, in a 100-column colour terminal, writing into a new folder
        os.chdir(tempfile.mkdtemp())
        os.environ.update(COLUMNS="100", TERM="xterm-256color", FORCE_COLOR="1")
        command = [str(Path(sys.executable).parent / "slotfill"), "annotate", model, "--input", utterances,
                   "--output", "corrected.jsonl", "--device", "cpu"]  # fmt: skip
        os.execv(command[0], command)
    shown = read_until_prompt(fd, 60)
    for answer in [*answers, "q"]:
        os.write(fd, (answer + "\r").encode())
        shown += read_until_prompt(fd, 20)
    os.waitpid(pid, 0)
    typed = shown.decode("utf-8", "replace").replace("\r\n", "\n").rstrip()
    screen = Text.from_ansi(typed.removesuffix("q").rstrip())  # the q that ended it is echoed last
    console = Console(record=True, width=100, file=open(os.devnull, "w"), force_terminal=True)  # noqa: SIM115
    console.print(f"$ slotfill annotate {sys.argv[1]} --input {Path(utterances).name} --output corrected.jsonl")
    console.print(screen)
    Path(out).write_text(console.export_svg(title="slotfill annotate"), encoding="utf-8")


if __name__ == "__main__":
    main()
