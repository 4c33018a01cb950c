"""One table of downloads (slotfill.data.downloads): every kind has its cache folder, its names are
the ones the config and the CLI accept, and an unknown name is one line saying what is known."""

from __future__ import annotations

from pathlib import Path

import pytest

from slotfill.choices import DATASETS, TRANSFORMER_SOURCES, VECTOR_SOURCES
from slotfill.data import downloads
from slotfill.errors import DataError
from slotfill.layout import CACHES


def test_every_kind_has_its_cache_and_the_names_the_config_accepts() -> None:
    assert list(downloads.KINDS) == list(CACHES)
    names = {kind: tuple(entry.sources) for kind, entry in downloads.KINDS.items()}
    assert names == {"datasets": DATASETS, "vectors": VECTOR_SOURCES, "transformers": TRANSFORMER_SOURCES}
    for kind, entry in downloads.KINDS.items():
        for name in entry.sources:
            expected = entry.expected_files(name, None)
            assert expected and all(len(digest) == 64 for digest in expected.values()), (kind, name)


@pytest.mark.parametrize(
    ("kind", "noun"), [("datasets", "dataset"), ("vectors", "vectors"), ("transformers", "transformer")]
)
def test_an_unknown_name_is_one_line_naming_the_known_ones(kind: str, noun: str, tmp_path: Path) -> None:
    known = ", ".join(downloads.KINDS[kind].sources)
    with pytest.raises(DataError, match=rf"^'nope': no such {noun} \(slotfill knows {known}; .* needs no download\)$"):
        downloads.download(kind, "nope", tmp_path)
    with pytest.raises(DataError):
        downloads.is_complete(kind, "nope", tmp_path)
    assert not any(tmp_path.iterdir())


def test_a_download_is_where_dir_or_the_kind_variable_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert downloads.location("vectors", "glove-6b-50d", tmp_path) == tmp_path / "glove-6b-50d"
    monkeypatch.setenv("SLOTFILL_DATA", str(tmp_path / "data"))
    assert downloads.location("datasets", "atis") == tmp_path / "data" / "atis"
    assert not downloads.is_complete("datasets", "atis")


def test_only_datasets_take_a_registry_of_ones_own(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"^'nope': no such vectors"):
        downloads.is_complete("vectors", "nope", tmp_path, checksums={})
    with pytest.raises(DataError, match=r"^'nope': no such dataset"):
        downloads.is_complete("datasets", "nope", tmp_path, checksums={"other/train/seq.in": "0" * 64})
