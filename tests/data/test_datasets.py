"""Verified downloads against a real HTTP server on 127.0.0.1: good files, a corrupted file, a server
that dies mid-transfer, no server at all; and imports of a local copy (`--from`)."""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.config import config_from_dict, load_config
from slotfill.data import datasets, downloads, fetching
from slotfill.data.splits import read_splits
from slotfill.errors import DataError

from ..conftest import DEMO, ROOT

runner = CliRunner()


@pytest.fixture
def published(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A tiny dataset `tiny` in the published layout (NAME/SPLIT/FILE) and its checksum registry."""
    root = tmp_path / "published"
    checksums = {}
    for split in datasets.SPLITS:
        for name in datasets.FILES:
            lines = (DEMO / split / name).read_text(encoding="utf-8").splitlines()[:5]
            path = root / "tiny" / split / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            checksums[f"tiny/{split}/{name}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return root, checksums


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the published files; `corrupt` answers one file with other bytes, `die` sends half of
    one file and closes the connection."""

    corrupt: str | None = None
    die: str | None = None
    hostile: str | None = None  # trickle | huge | gzip | endless: what a hostile mirror does with every file

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        name = self.path.lstrip("/")
        if self.hostile is not None:
            self._hostile()
        elif name == self.corrupt:
            self._send(b"not the published bytes\n")
        elif name == self.die:
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"x" * 100)
            self.wfile.flush()
            self.close_connection = True
        else:
            super().do_GET()

    def _hostile(self) -> None:
        try:
            self._misbehave()
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading, as it should
            pass

    def _misbehave(self) -> None:
        import gzip
        import time

        self.send_response(200)
        if self.hostile == "huge":
            self.send_header("Content-Length", str(10 * 1024**3))
        elif self.hostile == "gzip":
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        if self.hostile == "gzip":
            self.wfile.write(gzip.compress(b"\0" * (20 << 20)))  # 20 KB that expand to 20 MB
        elif self.hostile in ("trickle", "endless"):
            for _ in range(200):  # bounded: the test stops reading long before
                self.wfile.write(b"x" * (1 if self.hostile == "trickle" else 1 << 20))
                self.wfile.flush()
                if self.hostile == "trickle":
                    time.sleep(0.2)
        self.close_connection = True

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(published: tuple[Path, dict[str, str]]) -> Iterator[tuple[str, type[Handler]]]:
    root, _ = published

    class Serving(Handler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Serving)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", Serving
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_every_file_and_appears_whole(
    server: tuple[str, type[Handler]], published: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    url, _ = server
    root, checksums = published
    target = downloads.download("datasets", "tiny", tmp_path / "data", url=url, checksums=checksums)
    assert target == tmp_path / "data" / "tiny"
    for key in checksums:
        assert (target / key.removeprefix("tiny/")).read_bytes() == (root / key).read_bytes()
    assert downloads.is_complete("datasets", "tiny", tmp_path / "data", checksums)
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["tiny"]  # no staging directory left


@pytest.mark.parametrize("fault", ["corrupt", "die"])
def test_a_bad_file_or_a_dropped_connection_leaves_nothing(
    server: tuple[str, type[Handler]], published: tuple[Path, dict[str, str]], tmp_path: Path, fault: str
) -> None:
    url, handler = server
    _, checksums = published
    setattr(handler, fault, "tiny/dev/seq.out")
    message = "the file's sha256 is not the registry's" if fault == "corrupt" else "cannot download"
    with pytest.raises(DataError, match=message) as error:
        downloads.download("datasets", "tiny", tmp_path / "data", url=url, checksums=checksums)
    assert str(error.value).startswith(f"{url}/tiny/dev/seq.out: ") and "\n" not in str(error.value)
    assert list((tmp_path / "data").iterdir()) == []  # the dataset directory appears whole or not at all


def test_an_existing_dataset_survives_a_failed_download(
    server: tuple[str, type[Handler]], published: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    url, handler = server
    _, checksums = published
    downloads.download("datasets", "tiny", tmp_path, url=url, checksums=checksums)
    before = {p: p.read_bytes() for p in (tmp_path / "tiny").rglob("*") if p.is_file()}
    handler.die = "tiny/test/label"
    with pytest.raises(DataError):
        downloads.download("datasets", "tiny", tmp_path, url=url, checksums=checksums)
    assert {p: p.read_bytes() for p in (tmp_path / "tiny").rglob("*") if p.is_file()} == before


def test_offline_names_the_url_and_suggests_from(published: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    _, checksums = published
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens
    with pytest.raises(
        DataError,
        match=r"http://127.0.0.1:9/tiny/train/seq.in: cannot download .*slotfill data download tiny --from DIR",
    ):
        downloads.download("datasets", "tiny", tmp_path, url=dead, checksums=checksums)


def test_from_a_local_copy_goes_through_the_same_verification(
    published: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root, checksums = published
    target = downloads.download("datasets", "tiny", tmp_path / "data", source=root / "tiny", checksums=checksums)
    assert (target / "train" / "seq.in").read_bytes() == (root / "tiny" / "train" / "seq.in").read_bytes()
    changed = tmp_path / "changed"
    shutil.copytree(root / "tiny", changed)
    (changed / "test" / "label").write_text("atis_flight\n")
    with pytest.raises(DataError, match=r"changed/test/label: its sha256 is not the registry's"):
        downloads.download("datasets", "tiny", tmp_path / "other", source=changed, checksums=checksums)
    assert not (tmp_path / "other" / "tiny").exists()


def test_the_cli_downloads_from_a_mirror_and_refuses_unknown_names(
    server: tuple[str, type[Handler]], published: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    url, _ = server
    _, checksums = published
    registry = tmp_path / "SHA256SUMS"
    registry.write_text("".join(f"{digest}  {path}\n" for path, digest in checksums.items()))
    args = ["data", "download", "tiny", "--dir", str(tmp_path / "d"), "--base-url", url, "--registry", str(registry)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and "every file verified" in result.stderr
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and "already here" in result.stderr
    result = runner.invoke(app, ["data", "download", "imdb", "--dir", str(tmp_path / "d")])
    assert (
        result.exit_code == 2
        and "'imdb': no such dataset (slotfill knows atis, snips, xsid, clinc150, dstc8; " in result.stderr
    )


def test_the_shipped_registry_covers_every_benchmark() -> None:
    from slotfill.data.xsid import SOURCE_FILES

    checksums = datasets.registry()
    assert len(checksums) == 25 + 28 and all(len(d) == 64 for d in checksums.values())
    jointbert = {f"{n}/{s}/{f}" for n in ("atis", "snips") for s in datasets.SPLITS for f in datasets.FILES}
    xsid = {f"xsid/{path}" for path in SOURCE_FILES}
    dstc8 = {
        f"dstc8/span_extraction/dstc8/{domain}/{split}.json"
        for domain in ("Buses_1", "Events_1", "Homes_1", "RentalCars_1")
        for split in (*(f"train_{n}" for n in range(6)), "test")
    }
    assert jointbert | xsid | {"clinc150/data/data_full.json"} | dstc8 == set(checksums)
    assert tuple(datasets.SOURCES) == datasets.DATASETS  # the table is what the CLI and the config offer


XSID_SENTENCES = {
    "de": "# id = 1\n# text = Zeige alle Erinnerungen?\n# intent = reminder/show\n"
    "1\tZeige\treminder/show\tO\n2\talle\treminder/show\tB-reference\n3\tErinnerungen\treminder/show\tO\n"
    "4\t?\treminder/show\tO\n",
    "ja": "# id = 1\n# text = 今日 の 午後 4 時 に Half a Life\n# intent = reminder/set\n"
    "1\t今\treminder/set\tB-datetime\n2\t日\treminder/set\tI-datetime\n3\tの\treminder/set\tO\n"
    "4\t午後\treminder/set\tB-datetime\n5\t4\treminder/set\tI-datetime\n6\t時\treminder/set\tI-datetime\n"
    "7\tに\treminder/set\tO\n8\tHalf\treminder/set\tB-object\n9\ta\treminder/set\tI-object\n"
    "10\tLife\treminder/set\tI-object\n",
}


def test_xsid_is_verified_then_converted_to_spans(tmp_path: Path) -> None:
    """xSID's files (here tiny ones, with their own checksums) as its authors publish them, imported
    through the same verification, then written as span files slotfill trains from."""
    from slotfill.data.xsid import SOURCE_FILES

    source, checksums = tmp_path / "xSID-0.7", {}
    source.mkdir()
    for path in SOURCE_FILES:
        language = path.split(".")[0]
        block = XSID_SENTENCES.get(language, XSID_SENTENCES["de"])
        (source / path).write_text("\n".join([block] * 5), encoding="utf-8")
        checksums[f"xsid/{path}"] = hashlib.sha256((source / path).read_bytes()).hexdigest()
    where = downloads.download("datasets", "xsid", tmp_path / "d", source=source, checksums=checksums)
    lines = (where / "ja" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4 and len((where / "ja" / "dev.jsonl").read_text().splitlines()) == 1
    record = json.loads(lines[0])
    assert record == {
        "text": "今日の午後4時にHalf a Life",  # the annotators' spaces gone, but between ASCII words
        "intent": "reminder/set",
        "slots": [
            {"start": 0, "end": 2, "slot": "datetime"},
            {"start": 3, "end": 7, "slot": "datetime"},
            {"start": 8, "end": 19, "slot": "object"},
        ],
    }
    german = json.loads((where / "de" / "test.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert german["text"] == "Zeige alle Erinnerungen?" and german["slots"] == [
        {"start": 6, "end": 10, "slot": "reference"}
    ]
    (source / "de.test.conll").write_text("1\tonly\ttwo\n", encoding="utf-8")
    checksums["xsid/de.test.conll"] = hashlib.sha256((source / "de.test.conll").read_bytes()).hexdigest()
    with pytest.raises(DataError, match=r"expected 4 tab-separated columns"):
        downloads.download("datasets", "xsid", tmp_path / "e", source=source, checksums=checksums)
    assert not (tmp_path / "e" / "xsid").exists()  # nothing half-written


def test_dstc8_is_verified_from_a_checkout_and_laid_out_by_domain(tmp_path: Path) -> None:
    """The DSTC8 sets (here tiny files of the same layout, with their own checksums) from a checkout
    of PolyAI-LDN/task-specific-datasets: every file verified, each domain's files under DOMAIN/."""
    from slotfill.data.formats import read_split

    checkout, checksums = tmp_path / "task-specific-datasets", {}
    for path in datasets.SOURCES["dstc8"].files:
        city = Path(path).parent.name.split("_")[0].lower()  # homes, buses, ...
        turns = [{"userInput": {"text": f"to {city}"}, "context": {"requestedSlots": ["to"]},
                  "labels": [{"slot": "to", "valueSpan": {"startIndex": 3, "endIndex": 3 + len(city)}}]}]  # fmt: skip
        (checkout / path).parent.mkdir(parents=True, exist_ok=True)
        (checkout / path).write_text(json.dumps(turns), encoding="utf-8")
        checksums[f"dstc8/{path}"] = hashlib.sha256((checkout / path).read_bytes()).hexdigest()
    where = downloads.download("datasets", "dstc8", tmp_path / "d", source=checkout, checksums=checksums)
    (example,) = read_split(where / "Homes_1" / "train_4.json")
    assert (example.tokens, example.tags, example.context.requested_slots) == (
        ("to", "homes"),
        ("O", "B-to"),
        ("to",),
    )
    assert downloads.is_complete("datasets", "dstc8", tmp_path / "d", checksums)
    (checkout / datasets.SOURCES["dstc8"].files[0]).write_text("[]")
    with pytest.raises(DataError, match="its sha256 is not the registry's"):
        downloads.download("datasets", "dstc8", tmp_path / "e", source=checkout, checksums=checksums)


def test_clinc150_is_verified_then_converted_to_spans_with_its_out_of_scope_utterances(tmp_path: Path) -> None:
    """CLINC150's data_full.json (here a tiny one of the same shape, with its own checksum) from a
    checkout of clinc/oos-eval: in-scope and out-of-scope utterances of a split in one span file."""
    from slotfill.data.formats import read_split

    checkout = tmp_path / "oos-eval"
    (checkout / "data").mkdir(parents=True)
    full = {
        "train": [["what is my balance", "balance"], ["translate hello to french", "translate"]],
        "oos_train": [["how much is an overdraft fee for bank", "oos"]],
        "val": [["balance please", "balance"]],
        "oos_val": [["what size wipers does this car take", "oos"]],
        "test": [["say hi in german", "translate"]],
        "oos_test": [["who won the game", "oos"], ["play a song", "oos"]],
    }
    (checkout / "data" / "data_full.json").write_text(json.dumps(full), encoding="utf-8")
    checksums = {
        "clinc150/data/data_full.json": hashlib.sha256((checkout / "data" / "data_full.json").read_bytes()).hexdigest()
    }
    where = downloads.download("datasets", "clinc150", tmp_path / "d", source=checkout, checksums=checksums)
    test = read_split(where / "test.jsonl")
    assert [(list(e.tokens), e.intent, list(e.tags)) for e in test] == [
        (["say", "hi", "in", "german"], "translate", ["O"] * 4),
        (["who", "won", "the", "game"], "oos", ["O"] * 4),
        (["play", "a", "song"], "oos", ["O"] * 3),
    ]
    assert [e.intent for e in read_split(where / "train.jsonl")] == ["balance", "translate", "oos"]
    the_file = downloads.download(
        "datasets", "clinc150", tmp_path / "f", source=checkout / "data" / "data_full.json", checksums=checksums
    )
    assert read_split(the_file / "test.jsonl") == test  # --from the file itself, not only a checkout
    with pytest.raises(DataError, match=r"other\.json: a file; --from takes a copy of clinc150: a directory with"):
        downloads.download(
            "datasets",
            "clinc150",
            tmp_path / "g",
            source=shutil.copy(checkout / "data" / "data_full.json", tmp_path / "other.json"),
            checksums=checksums,
        )
    (checkout / "data" / "data_full.json").write_text(json.dumps({**full, "test": [["no intent"]]}), encoding="utf-8")
    checksums["clinc150/data/data_full.json"] = hashlib.sha256(
        (checkout / "data" / "data_full.json").read_bytes()
    ).hexdigest()
    with pytest.raises(DataError, match=r"data_full.json: test\[1\]: expected \[text, intent\]"):
        downloads.download("datasets", "clinc150", tmp_path / "e", source=checkout, checksums=checksums)
    assert not (tmp_path / "e" / "clinc150").exists()  # nothing half-written


def test_a_config_names_a_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, published: tuple[Path, dict[str, str]]
) -> None:
    monkeypatch.setenv("SLOTFILL_DATA", str(tmp_path / "cache"))
    config = config_from_dict({"data": {"dataset": "atis", "format": "atis"}})
    with pytest.raises(
        DataError,
        match=r"data.dataset: atis is not downloaded \(looked in .*cache/atis\): run `slotfill data download atis`",
    ):
        read_splits(config.data)
    shutil.copytree(DEMO, tmp_path / "cache" / "atis")  # stands in for the download
    assert len(read_splits(config.data).train) == 2400
    overridden = load_config(ROOT / "configs" / "atis.yaml", ["data.dir=data/demo"])  # --set data.dir still works,
    assert overridden.data.dataset == "atis" and overridden.data.resolved_dir() == Path("data/demo")  # from the cwd


@pytest.mark.parametrize(
    "hostile,message",
    [
        ("trickle", "not complete after 1 s: stopped"),
        ("huge", "announces 10,737,418,240 bytes, more than any published tiny file: not downloaded"),
        ("gzip", "sent compressed (gzip) though asked not to: not downloaded"),
        ("endless", "more than 16,777,216 bytes, more than any published file: stopped"),
    ],
)
def test_a_hostile_mirror_is_stopped_in_time_and_space(
    hostile: str, message: str, server: tuple[str, type[Handler]], published: tuple[Path, dict[str, str]], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    url, handler = server
    handler.hostile = hostile
    # the deadline is what stops a trickle; the others must be stopped by their own check, never by
    # a deadline that a loaded machine could reach first
    monkeypatch.setattr(fetching, "DEADLINE_S", 1.0 if hostile == "trickle" else 60.0)
    _, checksums = published
    with pytest.raises(DataError, match=re.escape(message)):
        downloads.download("datasets", "tiny", tmp_path / "data", url=url, checksums=checksums)
    assert not (tmp_path / "data").exists() or list((tmp_path / "data").iterdir()) == []


def test_a_huge_local_copy_is_refused_before_it_is_copied(
    published: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root, checksums = published
    sparse = root / "tiny" / "train" / "seq.in"
    with sparse.open("r+b") as handle:
        handle.truncate(3 << 30)  # 3 GB that take no room
    with pytest.raises(DataError, match="3,221,225,472 bytes, more than any published tiny file"):
        downloads.download("datasets", "tiny", tmp_path / "data", source=root / "tiny", checksums=checksums)


def test_sigterm_during_a_download_leaves_no_staging_directory(
    server: tuple[str, type[Handler]], published: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    import signal
    import subprocess
    import sys
    import time

    url, handler = server
    handler.hostile = "trickle"
    _, checksums = published
    registry = tmp_path / "SHA256SUMS"
    registry.write_text("".join(f"{digest}  {path}\n" for path, digest in checksums.items()))
    command = [sys.executable, "-m", "slotfill.cli", "data", "download", "tiny", "--registry", str(registry)]
    command += ["--base-url", url, "--dir", str(tmp_path / "data")]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60  # the trickle lasts 40 s: the signal comes while it does, on any machine
    while not any((tmp_path / "data").glob(".tiny.new.*")):
        assert time.monotonic() < deadline and process.poll() is None, "the download never started"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert list((tmp_path / "data").iterdir()) == []  # the staging directory went with it
