"""Verified benchmark datasets: ATIS and SNIPS as the public JointBERT repository has them, xSID 0.7
(German, Japanese, Chinese) and CLINC150 (150 intents and out-of-scope utterances) as their authors
publish them, converted to spans (slotfill.data.xsid, slotfill.data.clinc150). SOURCES says where
each is published, which files it has and how they are converted: one entry a dataset.

    slotfill data download atis                    # from GitHub, into the user's cache directory
    slotfill data download atis --from DIR         # a local copy, through the same verification

Every file is checked against the sha256 registry shipped in the package (registry/SHA256SUMS).
This module says what a dataset's files are (`expected_files`) and how they are fetched
(`fill`); slotfill.data.downloads downloads it, beside vectors and transformers, by the one
verified path of slotfill.data.fetching, into DIR/NAME/{train,dev,test}/{seq.in,seq.out,label}.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from slotfill.choices import DATASETS
from slotfill.data import clinc150, xsid
from slotfill.data.fetching import MAX_FILE_BYTES, fetch, import_verified
from slotfill.errors import DataError

SPLITS = ("train", "dev", "test")
FILES = ("seq.in", "seq.out", "label")
COMMIT = "00324f60dda4a491b2913bc3065ae93966caea3f"
BASE_URL = f"https://raw.githubusercontent.com/monologg/JointBERT/{COMMIT}/data"
XSID_COMMIT = "761d926c3f2e9f6bea13192d2f39cec1d04d9777"
CLINC_COMMIT = "828f8093932c8fe6ca7936c3d2e52903b1c523de"
POLYAI_COMMIT = "57ec275d8078af65b7731c2a98be812d844a6d6b"  # PolyAI-LDN/task-specific-datasets, 2022-04-29
DSTC8_DOMAINS = ("Buses_1", "Events_1", "Homes_1", "RentalCars_1")
DSTC8_SPLITS = ("train_0", "train_1", "train_2", "train_3", "train_4", "train_5", "test")


@dataclass(frozen=True)
class DatasetSource:
    """A published dataset: where its files are, which they are, and what slotfill makes of them."""

    url: str  # {path}: a file's path below the dataset (its registry name after NAME/)
    files: tuple[str, ...]
    layout: str  # what a local copy (--from) holds, for the message of a missing file
    convert: Callable[[Path, Path], None] | None = None  # the verified files -> the span format, beside them


ATIS_LAYOUT = f"train/, dev/, test/ with {', '.join(FILES)}"
SOURCES = {
    "atis": DatasetSource(f"{BASE_URL}/atis/{{path}}", tuple(f"{s}/{f}" for s in SPLITS for f in FILES), ATIS_LAYOUT),
    "snips": DatasetSource(f"{BASE_URL}/snips/{{path}}", tuple(f"{s}/{f}" for s in SPLITS for f in FILES), ATIS_LAYOUT),
    "xsid": DatasetSource(
        f"https://raw.githubusercontent.com/mainlp/xsid/{XSID_COMMIT}/data/xSID-0.7/{{path}}",
        xsid.SOURCE_FILES,
        "LANG.valid.conll and LANG.test.conll",
        xsid.convert,
    ),
    "clinc150": DatasetSource(
        f"https://raw.githubusercontent.com/clinc/oos-eval/{CLINC_COMMIT}/{{path}}",
        clinc150.SOURCE_FILES,
        "data/data_full.json (a checkout of github.com/clinc/oos-eval)",
        clinc150.convert,
    ),
    # the DSTC8 span-extraction sets (Coope et al. 2020; CC BY 4.0) in PolyAI's format: four domains,
    # train_0 (all) to train_5 (the smallest fraction) and test each (slotfill.data.polyai)
    "dstc8": DatasetSource(
        f"https://raw.githubusercontent.com/PolyAI-LDN/task-specific-datasets/{POLYAI_COMMIT}/{{path}}",
        tuple(f"span_extraction/dstc8/{domain}/{split}.json" for domain in DSTC8_DOMAINS for split in DSTC8_SPLITS),
        "span_extraction/dstc8/DOMAIN/{train_0..train_5,test}.json (a checkout of PolyAI-LDN/task-specific-datasets)",
        lambda staged, target: _linked(staged / "span_extraction" / "dstc8", target),
    ),
}


def _linked(source: Path, target: Path) -> None:
    """Each domain folder of `source` also as target/DOMAIN (hard links to the verified files: the
    configs name `dstc8/Buses_1/train_0.json`, the registry the published paths)."""
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        (target / folder.name).mkdir()
        for file in sorted(folder.iterdir()):
            try:
                (target / folder.name / file.name).hardlink_to(file)
            except OSError:  # a file system without hard links
                shutil.copyfile(file, target / folder.name / file.name)


def parse_registry(text: str, where: str) -> dict[str, str]:
    """`sha256  name/split/file` lines (sha256sum's format) -> {path: sha256}."""
    registry = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        digest, _, path = line.partition("  ")
        if len(digest) != 64 or not path.strip():
            raise DataError(f"{where}:{number}: expected 'SHA256  PATH'")
        registry[path.strip()] = digest.lower()
    return registry


def registry() -> dict[str, str]:
    text = resources.files("slotfill").joinpath("data/registry/SHA256SUMS").read_text(encoding="utf-8")
    return parse_registry(text, "slotfill/registry/SHA256SUMS")


def _source(name: str, checksums: Mapping[str, str] | None) -> DatasetSource:
    """SOURCES' entry; for another name with a registry of its own (`checksums`), the files that
    registry lists, in ATIS's layout, from a given address or copy only."""
    if name in SOURCES:
        return SOURCES[name]
    listed = tuple(path.removeprefix(f"{name}/") for path in checksums or {} if path.startswith(f"{name}/"))
    if not listed:
        raise DataError(f"{name!r}: no such dataset (slotfill knows {', '.join(DATASETS)})")
    return DatasetSource("", listed, ATIS_LAYOUT)


def _files(name: str, checksums: Mapping[str, str]) -> list[tuple[str, str]]:
    """(path, sha256) of every file of dataset `name`."""
    files = [(path, checksums.get(f"{name}/{path}", "")) for path in _source(name, checksums).files]
    missing = [path for path, digest in files if not digest]
    if missing:
        raise DataError(f"{name}: the registry has no checksum for {missing[0]}")
    return files


def expected_files(name: str, checksums: Mapping[str, str] | None = None) -> dict[str, str]:
    """Dataset `name`'s files (path -> sha256), from `checksums` (default: the shipped registry)."""
    return dict(_files(name, checksums if checksums is not None else registry()))


def fill(
    name: str, stage: Path, source: Path | None, url: str | None, checksums: Mapping[str, str] | None = None
) -> None:
    """Every file of dataset `name` into `stage`, verified: fetched (from `url`, a mirror with the
    registry's layout URL/NAME/PATH, else where it is published) or imported from the copy `source`;
    then converted to the span format where the dataset needs it."""
    published = _source(name, checksums)
    files = _files(name, checksums if checksums is not None else registry())
    if source is None and not url and not published.url:
        raise DataError(f"{name}: no published address: give --base-url or --from")
    for path, digest in files:
        destination = stage / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source is not None:
            origin = _origin(Path(source), path, name, len(files))
            import_verified(origin, destination, digest, name, f"a copy of {name} has {_layout(name)}", MAX_FILE_BYTES)
        else:
            address = f"{url.rstrip('/')}/{name}/{path}" if url else published.url.format(path=path)
            fetch(address, destination, digest, name)
    if published.convert is not None:  # verified: now in the span format slotfill trains from
        published.convert(stage, stage)


def _layout(name: str) -> str:
    return SOURCES[name].layout if name in SOURCES else ATIS_LAYOUT


def _origin(source: Path, path: str, name: str, count: int) -> Path:
    """Where `--from SOURCE` holds the registry file `path`: under the copy SOURCE, or SOURCE itself
    where it is that file (a dataset of one file: `--from .../data_full.json`)."""
    if not source.is_file():
        return source / path
    if count == 1 and source.name == Path(path).name:
        return source
    raise DataError(f"{source}: a file; --from takes a copy of {name}: a directory with {_layout(name)}")
