"""The files a model, checkpoint or exported model is rebuilt from (config.yaml, vocab.json,
gazetteers/): reading them, and their checksums, recorded when they are written.

A truncated or damaged `config.yaml` can still be valid YAML (cut between two sections, the keys it
lost take their defaults), so parsing alone cannot tell it from the file that was written. The writer
records the sha256 of each file it wrote; the reader compares before it reads them. Directories
written before the checksums existed (slotfill 0.1, early 0.2) have none and are read as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

from slotfill.config import Config, load_config
from slotfill.errors import ConfigError, ModelError
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.gazetteer_sources import load_gazetteers
from slotfill.features.vocab import Vocab
from slotfill.layout import CONFIG_FILE, METRICS_FILE, VOCAB_FILE


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


def check_digests(directory: Path, record: object, where: Path, only: Collection[str] | None = None) -> None:
    """Raise ModelError naming the first file that is missing or differs from its sha256 in `record`
    (as `encode_digests` wrote it, or already decoded from a JSON file; None: nothing recorded);
    `where` is the file that holds the record; `only`: check just these of the recorded files."""
    for relative, expected in _decoded(record, where).items():
        if only is not None and relative not in only:
            continue
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


def _decoded(record: object, where: Path) -> dict[str, str]:
    if record is None:
        return {}
    try:
        digests = json.loads(record) if isinstance(record, str) else record
    except ValueError:
        digests = None
    valid = isinstance(digests, dict) and all(
        isinstance(k, str) and isinstance(v, str) and ".." not in Path(k).parts and not Path(k).is_absolute()
        for k, v in digests.items()
    )
    if not valid:
        raise ModelError(f"{where}: damaged file checksums")
    return digests


def read_model_files(directory: Path) -> tuple[Config, Vocab, GazetteerSet]:
    """The config, vocabulary and gazetteers saved in `directory`; ModelError (one line, naming the
    file) when one is damaged; callers check the recorded checksums first."""
    try:
        config = load_config(directory / CONFIG_FILE, relative_to_file=False)
    except ConfigError as error:
        raise ModelError(f"{directory / CONFIG_FILE}: damaged config ({error})") from None
    vocab = Vocab.load(directory / VOCAB_FILE)
    return config, vocab, load_gazetteers(directory, list(config.gazetteers))


def read_metrics(directory: Path) -> dict[str, Any]:
    """The metrics saved beside a model ({} when it has none); ModelError naming the file when damaged."""
    path = directory / METRICS_FILE
    if not path.is_file():
        return {}
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ModelError(f"{path}: damaged metrics ({error})") from None
    if not isinstance(metrics, dict):
        raise ModelError(f"{path}: damaged metrics (not a JSON object)")
    return metrics
