"""`slotfill tag` at a terminal (a pseudo-terminal here): lines are edited and recalled with the Up
arrow, the history outlives the session (in $SLOTFILL_STATE), Ctrl-C clears the line, Ctrl-D ends;
and from a pipe it still prints JSON lines."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

UP, CTRL_C, CTRL_D = "\x1b[A", "\x03", "\x04"
SENTENCE = "show me flights from boston to denver"


class Terminal:
    """`slotfill tag RUN` on a pseudo-terminal: what it printed so far, and keys to send it."""

    def __init__(self, run: Path, state: Path) -> None:
        env = {**os.environ, "SLOTFILL_STATE": str(state), "COLUMNS": "200", "TERM": "xterm"}
        command = [sys.executable, "-m", "slotfill.cli", "tag", str(run), "--device", "cpu", "--no-values"]
        self.pid, self.main = pty.fork()  # the child's controlling terminal: Ctrl-C is a signal there
        if self.pid == 0:
            os.execve(sys.executable, command, env)
        self.seen = ""

    def wait_for(self, text: str, count: int = 1, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.seen.count(text) < count:
            assert time.monotonic() < deadline, f"no {text!r} (x{count}) in {self.seen[-2000:]!r}"
            ready, _, _ = select.select([self.main], [], [], 0.2)
            if ready:
                try:
                    self.seen += os.read(self.main, 65536).decode("utf-8", "replace")
                except OSError:  # the process ended
                    break

    def send(self, keys: str) -> None:
        os.write(self.main, keys.encode("utf-8"))

    def close(self) -> int:
        deadline = time.monotonic() + 60
        while (done := os.waitpid(self.pid, os.WNOHANG))[0] == 0:
            assert time.monotonic() < deadline, f"still running: {self.seen[-1000:]!r}"
            time.sleep(0.1)
            with contextlib.suppress(OSError):
                if select.select([self.main], [], [], 0)[0]:
                    self.seen += os.read(self.main, 65536).decode("utf-8", "replace")
        os.close(self.main)
        return os.waitstatus_to_exitcode(done[1])


def test_tag_edits_recalls_and_keeps_its_history(trained_run: Path, tmp_path: Path) -> None:
    terminal = Terminal(trained_run, tmp_path)
    terminal.wait_for("> ")
    terminal.send(SENTENCE + "\r")
    terminal.wait_for("fromloc.city_name")
    terminal.wait_for("> ", 2)
    terminal.send(UP + "\r")  # the same sentence again, recalled
    terminal.wait_for("fromloc.city_name", 2)
    terminal.wait_for("> ", 3)
    terminal.send("to denver" + CTRL_C)  # cleared, not parsed, not quitting
    terminal.wait_for("> ", 4)
    terminal.send("\x01" + "from boston " + "\r")  # Ctrl-A: typed at the start of an empty line
    terminal.wait_for("> ", 5)
    terminal.send(CTRL_D)
    assert terminal.close() == 0
    assert terminal.seen.count("fromloc.city_name") == 3
    history = (tmp_path / "tag_history").read_text(encoding="utf-8").splitlines()
    # a line recalled as it was is not kept twice (Python's readline)
    assert [line for line in history if not line.startswith("_HiStOrY")] == [SENTENCE, "from boston "]

    again = Terminal(trained_run, tmp_path)  # a new session recalls the last one's lines
    again.wait_for("> ")
    again.send(UP + UP + "\r")
    again.wait_for("fromloc.city_name")
    again.wait_for("> ", 2)
    again.send("\r")  # an empty line quits too
    assert again.close() == 0


def test_tag_reads_a_pipe_as_json_lines(trained_run: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "slotfill.cli", "tag", str(trained_run), "--device", "cpu", "--no-values"],
        input=SENTENCE + "\n", capture_output=True, text=True, env={**os.environ, "SLOTFILL_STATE": str(tmp_path)},
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    parsed = [json.loads(line) for line in done.stdout.splitlines()]
    assert [p["text"] for p in parsed] == [SENTENCE]
    assert not (tmp_path / "tag_history").exists()  # a pipe keeps no history
