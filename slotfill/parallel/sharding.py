"""`slotfill predict --input FILE --output OUT` across the ranks of a torchrun launch.

Each rank tags a contiguous shard of FILE's lines (counted first, streamed: no rank holds the file)
and writes it to a part file beside OUT; rank 0 then concatenates the parts in rank order into OUT,
which therefore holds the lines in input order, byte for byte what one process writes. OUT appears
whole or not at all (written beside it, then renamed). No torch.distributed: the ranks meet
through the file system (a shared one across nodes), so an exported model shards without torch.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from slotfill.errors import DataError, OutputError
from slotfill.files import atomic_writer
from slotfill.parallel.world import World

CHUNK = 1 << 20


def count_lines(path: Path) -> int:
    """Lines of a file, counted in 1 MB pieces (a last line without a newline counts)."""
    count, last = 0, b"\n"
    try:
        with open(path, "rb") as handle:
            while piece := handle.read(CHUNK):
                count += piece.count(b"\n")
                last = piece[-1:]
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror})") from None
    return count + (last != b"\n")


def line_shard(world: World, count: int, block: int) -> range:
    """This rank's contiguous lines of `count`, cut at multiples of `block` (the predictor's
    chunk): every chunk is then the one a single process tags, batched the same way, so the floats
    (and the rounded confidences) come out the same."""
    blocks = world.shard(-(-count // block))
    return range(min(count, blocks.start * block), min(count, blocks.stop * block))


def shard_of(lines: Iterable[str], shard: range) -> Iterator[str]:
    """The lines of `shard` (a range of line indices), skipping the others as they stream by."""
    return itertools.islice(lines, shard.start, shard.stop)


def _launch_token(environ: dict[str, str]) -> str:
    """What names this launch's part files: torchrun's run id, rendezvous and restart count, so
    that parts left by an earlier, killed launch are never taken for this one's."""
    keys = ("TORCHELASTIC_RUN_ID", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_RESTART_COUNT")
    return hashlib.sha1(json.dumps([environ.get(k, "") for k in keys]).encode()).hexdigest()[:12]


def part_path(output: Path, world: World, rank: int, token: str) -> Path:
    return output.parent / f".{output.name}.part-{rank}-of-{world.size}.{token}"


def _write_lines(path: Path, results: Iterable[dict[str, Any]], on_line: Callable[[int], Any] | None) -> int:
    """JSON lines to `path`, whole or not at all."""
    count = 0
    with atomic_writer(path) as out:
        for count, result in enumerate(results, 1):
            out.write(json.dumps(result, ensure_ascii=False).encode("utf-8") + b"\n")
            if on_line is not None:
                on_line(count)
    return count


def write_output(
    output: Path,
    results: Iterable[dict[str, Any]],
    world: World,
    on_line: Callable[[int], Any] | None = None,
    *,
    poll_seconds: float = 0.2,
    environ: dict[str, str] | None = None,
) -> int:
    """Write this rank's results; on rank 0, wait for every rank's part and join them into
    `output`. Returns how many lines this rank wrote. Raises OutputError when OUT's folder is missing."""
    output = Path(output)
    if not output.parent.is_dir():
        raise OutputError(f"--output {output}: no such directory {output.parent}")
    if output.is_dir():
        raise OutputError(f"--output {output}: is a directory")
    if not world.distributed:
        return _write_lines(output, results, on_line)
    token = _launch_token(dict(os.environ if environ is None else environ))
    written = _write_lines(part_path(output, world, world.rank, token), results, on_line)
    if world.is_main:
        parts = [part_path(output, world, rank, token) for rank in range(world.size)]
        while not all(part.exists() for part in parts):  # a failed rank ends the launch (torchrun)
            time.sleep(poll_seconds)
        with atomic_writer(output) as out:
            for part in parts:
                with open(part, "rb") as piece:
                    shutil.copyfileobj(piece, out, CHUNK)
        for part in parts:
            part.unlink()
    return written
