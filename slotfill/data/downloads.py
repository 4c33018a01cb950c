"""Everything slotfill downloads, in one table: datasets, word vectors and transformers, each a
kind with its published sources, the files a finished download holds (with their sha256) and how
they are fetched. One path serves them all: the files are fetched or imported into a staging
directory, verified as they are written, and swapped in whole (slotfill.data.fetching.install), or
nothing is kept. Where a download is kept: `--dir`, else the kind's environment variable, else the
user's cache directory (slotfill.files.download_dir).

    slotfill data download atis                       # a dataset
    slotfill vectors download glove-6b-50d            # word vectors
    slotfill transformers download all-minilm-l6-v2   # a transformer
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slotfill.data import datasets, transformer_sources, vector_sources
from slotfill.data.fetching import install, verified
from slotfill.errors import DataError
from slotfill.files import download_dir


@dataclass(frozen=True)
class Kind:
    """One kind of download: its sources by name, and what a finished download of one holds."""

    noun: str  # for messages: "no such dataset"
    sources: Mapping[str, Any]  # name -> published source (each kind's own record)
    expected_files: Callable[..., dict[str, str]]  # (name, checksums) -> {file: sha256}
    fill: Callable[..., None]  # (name, stage, source, url, checksums): the files into stage, verified
    needs_no_download: str  # what a user gives instead of a name, for the message of an unknown one
    own_registry: bool = False  # a registry of one's own may name more (`slotfill data download --registry`)


KINDS = {
    "datasets": Kind(
        "dataset", datasets.SOURCES, datasets.expected_files, datasets.fill, "a folder of splits", own_registry=True
    ),
    "vectors": Kind(
        "vectors", vector_sources.SOURCES, vector_sources.expected_files, vector_sources.fill, "a file on disk"
    ),
    "transformers": Kind(
        "transformer",
        transformer_sources.SOURCES,
        transformer_sources.expected_files,
        transformer_sources.fill,
        "a model folder",
    ),
}


def location(kind: str, name: str, directory: Path | None = None) -> Path:
    """Where download `name` of `kind` is (or would be) kept."""
    return download_dir(kind, name, directory)


def _known(kind: str, name: str, checksums: Mapping[str, str] | None) -> Kind:
    entry = KINDS[kind]
    if name not in entry.sources and not (entry.own_registry and checksums is not None):
        raise DataError(
            f"{name!r}: no such {entry.noun} (slotfill knows {', '.join(entry.sources)}; "
            f"{entry.needs_no_download} needs no download)"
        )
    return entry


def is_complete(
    kind: str, name: str, directory: Path | None = None, checksums: Mapping[str, str] | None = None
) -> bool:
    """True when download `name` of `kind` is there and every file matches its checksum.
    `checksums`: a registry of one's own (datasets only: `slotfill data download --registry`)."""
    entry = _known(kind, name, checksums)
    return verified(location(kind, name, directory), entry.expected_files(name, checksums))


def download(
    kind: str,
    name: str,
    directory: Path | None = None,
    *,
    source: Path | None = None,
    url: str | None = None,
    checksums: Mapping[str, str] | None = None,
) -> Path:
    """Fetch download `name` of `kind` (from `url`, a mirror, else where it is published; or import
    the local copy `source`), verify every file, and put it in place whole. Returns its folder.
    Raises DataError (one line) on any failure, OutputError where the folder cannot be written."""
    entry = _known(kind, name, checksums)
    target = location(kind, name, directory)
    return install(target, lambda stage: entry.fill(name, stage, source, url, checksums))
