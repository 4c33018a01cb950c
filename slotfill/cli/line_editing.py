"""`slotfill tag`'s input line: edited with Python's readline (arrows, Home/End, Ctrl-A/E/K/W, Up and
Down through earlier lines), its history kept between sessions in the user's state directory
(slotfill.files.state_dir: HISTORY_FILE, the last HISTORY_LINES lines). Where readline is not
there (Windows without pyreadline3), lines are read plainly. Measured against prompt_toolkit:
readline is in the standard library and does what `tag` needs (docs/cli.md)."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console

from slotfill.files import state_dir

HISTORY_FILE = "tag_history"
HISTORY_LINES = 1000
_ANSI = re.compile(r"(\x1b\[[0-9;]*m)")


class LineEditor:
    """Reads lines at a prompt (rich markup), with editing and a history that outlives the session."""

    def __init__(self, console: Console, history: Path | None = None) -> None:
        self.console = console
        self.history = history if history is not None else state_dir() / HISTORY_FILE
        self.readline: Any = None
        with contextlib.suppress(ImportError):
            import readline

            self.readline = readline

    def __enter__(self) -> LineEditor:
        if self.readline is not None:
            self.readline.set_history_length(HISTORY_LINES)
            with contextlib.suppress(OSError):
                self.readline.read_history_file(self.history)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.readline is None:
            return
        with contextlib.suppress(OSError):  # a history that cannot be written is no reason to fail
            self.history.parent.mkdir(parents=True, exist_ok=True)
            self.readline.write_history_file(self.history)

    def read(self, prompt: str) -> str:
        """One line typed at `prompt`; EOFError at Ctrl-D, KeyboardInterrupt at Ctrl-C."""
        with self.console.capture() as captured:
            self.console.print(prompt, end="")
        # readline must know which prompt characters take no room, or editing a long line garbles it
        shown = _ANSI.sub("\x01\\1\x02", captured.get()) if self.readline is not None else captured.get()
        return input(shown)  # readline keeps each non-empty line that differs from the one before
