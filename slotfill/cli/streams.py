"""The CLI's input and output: untrusted bytes in (bounded, strictly UTF-8), JSON lines out, signals.

Lines are read as bytes in bounded pieces, so a file without newlines (`/dev/zero`) never fills
memory, and decoded strictly: bytes that are not UTF-8 stop the command with one line naming the
file (or stdin) and line. Output is written as UTF-8 bytes whatever the locale.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from slotfill.data.context import NO_CONTEXT, Context, context_from_json, requested_context
from slotfill.errors import DataError, OutputError


def read_lines(source: Path, max_chars: int) -> Iterator[str]:
    """The lines of a file, or of stdin for '-', newline removed, read lazily. A line longer than
    `max_chars` characters is cut to `max_chars + 1` (the rest is skipped unread into memory), so
    that the predictor reports it as too long. Raises DataError on bytes that are not UTF-8."""
    if str(source) == "-":
        yield from _lines_of(sys.stdin.buffer, "stdin", max_chars)
        return
    try:
        handle = open(source, "rb")
    except FileNotFoundError:
        raise DataError(f"{source}: no such file") from None
    except OSError as error:
        raise DataError(f"{source}: cannot read ({error.strerror})") from None
    with handle:
        yield from _lines_of(handle, str(source), max_chars)


_LINE_END = re.compile(rb"\r\n|\r|\n")  # as Python's universal newlines: parse_many(open(path)) agrees
_BLOCK = 1 << 16


def _raw_lines(stream: BinaryIO, limit: int) -> Iterator[tuple[bytes, bool]]:
    """(line, cut) for each line of a byte stream ending in LF, CR LF or CR (the ending removed),
    read in bounded blocks: a line longer than `limit` bytes comes cut to its first `limit` bytes,
    the rest skipped unread into memory."""
    buffer, skipping = b"", False
    while block := stream.read1(_BLOCK) if hasattr(stream, "read1") else stream.read(_BLOCK):
        buffer += block
        start = 0
        for match in _LINE_END.finditer(buffer):
            if match.group() == b"\r" and match.end() == len(buffer):
                break  # perhaps the first half of \r\n: wait for the next block
            if not skipping:
                yield buffer[start : match.start()][:limit], match.start() - start > limit
            skipping, start = False, match.end()
        buffer = buffer[start:]
        if len(buffer) > limit and not skipping:
            yield buffer[:limit], True
            skipping = True
        if skipping:
            buffer = buffer[-1:] if buffer.endswith(b"\r") else b""
    if buffer and not skipping:  # the last line, ended by \r or by nothing
        yield buffer.removesuffix(b"\r")[:limit], len(buffer.removesuffix(b"\r")) > limit


def _lines_of(stream: BinaryIO, name: str, max_chars: int) -> Iterator[str]:
    limit = 4 * (max_chars + 1)  # bytes: a UTF-8 character takes at most four
    for number, (raw, cut) in enumerate(_raw_lines(stream, limit), 1):
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            if cut and error.start >= len(raw) - 3:  # a character cut by the limit
                text = raw[: error.start].decode("utf-8")
            else:
                raise DataError(
                    f"{name}:{number}: not UTF-8 (byte 0x{raw[error.start]:02x} at column {error.start + 1})"
                ) from None
        yield text[: max_chars + 1]


def turns_of(
    lines: Iterable[str], requested: Sequence[str] = (), where: str = "input"
) -> Iterator[tuple[str, Context]]:
    """Each line as a dialogue turn (text, context): a line that is a JSON object with a "text" is
    read as one (`{"text": "13", "context": {"requested_slots": ["people"]}}`); any other line is the
    text itself. A turn without a context of its own takes the slots `requested` (--requested-slot).
    A malformed context is a DataError naming `where` and the line."""
    default = requested_context(list(requested), "--requested-slot") if requested else NO_CONTEXT
    for number, line in enumerate(lines, 1):
        record = _json_turn(line)
        if record is None:
            yield line, default
        elif "context" in record:
            yield record["text"], context_from_json(record["context"], f"{where}:{number}")
        else:
            yield record["text"], default


def _json_turn(line: str) -> dict[str, Any] | None:
    """The JSON object with a "text" string that `line` is, or None (a line of plain text)."""
    if not line.lstrip().startswith("{"):
        return None
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("text"), str) else None


def check_arguments(texts: Iterable[str]) -> list[str]:
    """Texts given as command-line arguments; bytes that are not UTF-8 (which Python keeps as
    lone surrogates) raise DataError naming the argument."""
    checked = []
    for number, text in enumerate(texts, 1):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise DataError(f"argument {number}: not UTF-8 (at character {error.start + 1})") from None
        checked.append(text)
    return checked


def write_json_lines(results: Iterable[dict[str, Any]], on_line: Any = None) -> int:
    """One JSON object per line on stdout, as UTF-8 bytes; `on_line(count)` after each. Returns the
    count. A write that fails (stdout redirected to a full disk) raises OutputError in one line."""
    out = sys.stdout.buffer
    count = 0
    try:
        for count, result in enumerate(results, 1):
            out.write(json.dumps(result, ensure_ascii=False).encode("utf-8") + b"\n")
            if on_line is not None:
                on_line(count)
        out.flush()
    except OSError as error:
        if error.errno == errno.EPIPE:
            raise
        raise OutputError(f"stdout: cannot write ({error.strerror})") from None
    return count


@contextlib.contextmanager
def terminated_as_exit() -> Iterator[None]:
    """While the block runs, SIGTERM raises SystemExit(128 + 15) in the main thread, so the code it
    interrupts unwinds and cleans up as it does for Ctrl-C (KeyboardInterrupt)."""

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class SignalStop:
    """SIGINT and SIGTERM ask a long command to stop: the handler only records the signal and sets
    `event` (the command finishes its step, saves, and exits 128 + the signal's number); a second
    signal restores the default handler and re-sends itself, so the process ends at once with
    that signal. Nothing is printed from the handler: `announce` does that from the main thread."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.event = threading.Event()
        self.received: list[int] = []
        self._announced = False

    def _handler(self, signum: int, frame: Any) -> None:
        if self.received:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self.received.append(signum)
        self.event.set()

    @contextlib.contextmanager
    def installed(self) -> Iterator[SignalStop]:
        previous = {sig: signal.signal(sig, self._handler) for sig in self.SIGNALS}
        try:
            yield self
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    def announcement(self) -> str | None:
        """The message to show once a signal arrived (once), else None."""
        if not self.received or self._announced:
            return None
        self._announced = True
        return f"{signal.Signals(self.received[0]).name}: finishing the current step and saving a checkpoint ..."

    @property
    def exit_code(self) -> int:
        return 128 + (self.received[0] if self.received else signal.SIGINT)
