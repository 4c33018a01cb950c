"""Checksums of the files a model or checkpoint is rebuilt from, recorded when it is written.

A truncated or damaged `config.yaml` can still be valid YAML (cut between two sections, the keys it
lost take their defaults), so parsing alone cannot tell it from the file that was written. The writer
records the sha256 of each file it wrote; the reader compares before it reads them. Directories
written before the checksums existed (slotfill 0.1, early 0.2) have none and are read as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from slotfill.errors import ModelError


def _files(directory: Path, names: Iterable[str]) -> Iterable[tuple[str, Path]]:
    """Each named file in `directory`, and each file under a named subdirectory, by relative path."""
    for name in names:
        path = directory / name
        if path.is_dir():
            for inner in sorted(p for p in path.rglob("*") if p.is_file()):
                yield inner.relative_to(directory).as_posix(), inner
        elif path.is_file():
            yield name, path


def file_digests(directory: Path, names: Iterable[str]) -> dict[str, str]:
    """{relative path: sha256} of the named files (and of the files in named subdirectories) that exist."""
    return {relative: hashlib.sha256(path.read_bytes()).hexdigest() for relative, path in _files(directory, names)}


def check_digests(directory: Path, recorded: Mapping[str, str], where: Path) -> None:
    """Raise ModelError naming the first file that is missing or differs from its recorded sha256;
    `where` is the file that holds the record."""
    for relative, expected in recorded.items():
        path = directory / relative
        if not path.is_file():
            raise ModelError(f"{path}: missing (it is listed in {where.name})")
        if hashlib.sha256(path.read_bytes()).hexdigest() != expected:
            raise ModelError(
                f"{path}: damaged or edited since it was saved (its sha256 differs from the one in {where.name})"
            )


def encode_digests(digests: Mapping[str, str]) -> str:
    """The record as one string (safetensors metadata values are strings)."""
    return json.dumps(dict(digests), sort_keys=True)


def decode_digests(text: object, where: Path) -> dict[str, str]:
    """The record written by `encode_digests` (or already decoded, from a JSON file); {} when absent."""
    if text is None:
        return {}
    try:
        digests = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        digests = None
    valid = isinstance(digests, dict) and all(
        isinstance(k, str) and isinstance(v, str) and ".." not in Path(k).parts and not Path(k).is_absolute()
        for k, v in digests.items()
    )
    if not valid:
        raise ModelError(f"{where}: damaged file checksums")
    return digests
