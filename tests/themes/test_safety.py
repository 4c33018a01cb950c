"""Run directories that lose nothing, locks, atomic swaps, damaged checkpoints, memory bombs and
untrusted bytes on the command line (the review of issue #10, each case reproduced first)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from slotfill import files
from slotfill.cli.app import app
from slotfill.errors import ConfigError, ModelError, OutputError
from slotfill.features.vocab import Vocab
from slotfill.files import locked_dir, replace_dir, staging_dir, writing_dir
from slotfill.layout import CHECKPOINT_SUBDIR, RUN_LOCK
from slotfill.nn.batching import LengthBucketSampler
from slotfill.nn.device import resolve_device
from slotfill.predict import Limits, Predictor
from slotfill.store.checkpoint import load_checkpoint
from slotfill.training.loop import train

from ..conftest import ROOT, tiny_config, written_before_checksums

runner = CliRunner()


def one_epoch(**data: object) -> object:
    """One short epoch: trained on the 300 sentences of data/demo/dev, early-stopped on test."""
    return tiny_config(training={"epochs": 1}, data={"train": "dev", "dev": "test", "test": None, **data})


# --- run directories --------------------------------------------------------------------------


@pytest.mark.slow
def test_a_finished_run_is_not_replaced_without_overwrite(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    train(one_epoch(), run_dir)
    weights = (run_dir / "model" / "model.safetensors").read_bytes()
    with pytest.raises(OutputError, match=r"already holds a run \(model, train_log.jsonl\); .* --overwrite"):
        train(one_epoch(), run_dir)
    assert (run_dir / "model" / "model.safetensors").read_bytes() == weights
    (run_dir / "notes.txt").write_text("mine")
    train(one_epoch(), run_dir, overwrite=True)
    assert (run_dir / "notes.txt").read_text() == "mine"  # never deleted: slotfill did not write it


@pytest.mark.slow
def test_a_file_slotfill_did_not_write_is_never_deleted(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    train(one_epoch(), run_dir)
    (run_dir / "model" / "notes.txt").write_text("mine")
    for overwrite in (False, True):
        with pytest.raises(OutputError, match=r"model/notes.txt: not written by slotfill"):
            train(one_epoch(), run_dir, overwrite=overwrite)
    assert (run_dir / "model" / "notes.txt").read_text() == "mine"


def test_a_run_directory_in_use_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = tmp_path / "run"
    with locked_dir(run_dir, RUN_LOCK):
        with pytest.raises(OutputError, match="in use by another slotfill run"):
            train(one_epoch(), run_dir)
        monkeypatch.chdir(ROOT)
        result = runner.invoke(app, ["train", "configs/demo.yaml", "--output", str(run_dir)])
        assert result.exit_code == 2 and "in use by another slotfill run" in result.stderr
    assert not (run_dir / "model").exists()


def test_output_that_cannot_be_a_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for output in (a_file, a_file / "below"):
        result = runner.invoke(app, ["train", "configs/demo.yaml", "--output", str(output)])
        assert result.exit_code == 2 and str(output) in result.stderr and len(result.stderr.strip().splitlines()) == 1


# --- atomic directories ----------------------------------------------------------------------


def test_the_two_rename_fallback_replaces_a_directory_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "exchange", lambda a, b: False)  # as on macOS or Windows
    target = tmp_path / "model"
    for version in ("one", "two"):
        with writing_dir(target) as staged:
            (staged / "version.txt").write_text(version)
    assert (target / "version.txt").read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no staging or old directory left


def test_exchange_reports_an_unsupported_platform_instead_of_raising(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def no_libc(*args: object, **kwargs: object) -> object:
        raise OSError("no C library")

    monkeypatch.setattr(files.ctypes, "CDLL", no_libc)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert files.exchange(tmp_path / "a", tmp_path / "b") is False
    staged = tmp_path / "new"
    staged.mkdir()
    replace_dir(staged, tmp_path / "a")
    assert (tmp_path / "a").is_dir() and not staged.exists()


def test_staging_directories_of_a_live_writer_are_kept_and_a_dead_ones_removed(tmp_path: Path) -> None:
    target = tmp_path / "model"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    mine = tmp_path / f".model.new.{os.getpid()}.abc.tmp"
    gone = tmp_path / f".model.new.{dead}.abc.tmp"
    for path in (mine, gone):
        path.mkdir()
    fresh = staging_dir(target)
    assert mine.exists() and not gone.exists()
    assert fresh.name.startswith(f".model.new.{os.getpid()}.")


# --- checkpoints ---------------------------------------------------------------------------------


@pytest.fixture
def checkpointed(tmp_path: Path) -> Path:
    import threading

    from slotfill.training.loop import TrainingInterrupted

    stop = threading.Event()
    stop.set()  # stop after the first step: a checkpoint and no finished run
    run_dir = tmp_path / "run"
    with pytest.raises(TrainingInterrupted):
        train(one_epoch(), run_dir, stop=stop)
    return run_dir


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "state.json").write_text("{"), "state.json: damaged checkpoint"),
        (lambda d: (d / "state.json").write_text('{"checkpoint_version": 99}'), "checkpoint version 99"),
        (lambda d: (d / "state.json").write_text("[1, 2]"), "checkpoint version None"),
        (
            lambda d: (d / "state.json").write_text(
                json.dumps({**json.loads((d / "state.json").read_text()), "progress": {"epochs": 1}})
            ),
            "damaged checkpoint (TypeError",
        ),
        (lambda d: (d / "state.safetensors").write_bytes(b"\x00" * 10), "state.safetensors: damaged or edited"),
        (lambda d: (d / "vocab.json").write_text('{"words": 3}'), "vocab.json: damaged or edited since it was saved"),
        (
            lambda d: (d / "config.yaml").write_text((d / "config.yaml").read_text().split("training:")[0]),
            "config.yaml: damaged or edited since it was saved (its sha256 differs from the one in state.json)",
        ),
        (lambda d: (d / "state.safetensors").unlink(), "state.safetensors: missing (it is listed in state.json)"),
    ],
)
def test_damaged_checkpoints_give_one_line(checkpointed: Path, damage: object, message: str) -> None:
    damage(checkpointed / CHECKPOINT_SUBDIR)  # type: ignore[operator]
    with pytest.raises(ModelError, match=re.escape(message)) as error:
        load_checkpoint(checkpointed)
    assert "\n" not in str(error.value)
    result = runner.invoke(app, ["train", "--resume", str(checkpointed)])
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_an_interrupted_run_of_the_same_config_resumes(checkpointed: Path) -> None:
    result = train(one_epoch(), checkpointed)
    assert result.epochs_run == 1 and not (checkpointed / CHECKPOINT_SUBDIR).exists()
    other = tiny_config(training={"epochs": 2}, data={"test": None})
    with pytest.raises(OutputError, match="already holds a run"):
        train(other, checkpointed)


# --- memory bombs and damaged model directories -----------------------------------------------


UNDER_A_MEMORY_LIMIT = """
import resource, sys, torch
from slotfill.errors import ModelError
from slotfill.store.model_dir import load_model
limit = 2 << 30  # 2 GiB of address space: torch and slotfill need under 1
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    torch.empty(limit, dtype=torch.uint8)
    print("the limit does not bite")
except RuntimeError:
    pass
try:
    load_model(sys.argv[1], torch.device("cpu"))
except ModelError as error:
    print(error)
"""


def test_a_config_that_asks_for_a_huge_model_fails_before_allocating(trained_run: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(trained_run / "model", model)
    written_before_checksums(model)  # with them, the edit is refused before the config is read
    config = yaml.safe_load((model / "config.yaml").read_text())
    config["model"]["embedding"]["dim"] = 2_000_000  # gigabytes of embeddings if it were allocated
    (model / "config.yaml").write_text(yaml.safe_dump(config))
    # under a 2 GiB address-space limit, allocating the planned model would fail (RuntimeError);
    # the shapes are checked on the meta device first, so loading ends in a ModelError instead
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}
    result = subprocess.run(
        [sys.executable, "-c", UNDER_A_MEMORY_LIMIT, str(model)], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    found = re.fullmatch(
        r".*weights do not fit the config and vocabulary \(word_input.table.weight is \[(\d+), 32\] in the file, "
        r"\[\d+, 2000000\] for the config\)\n",
        result.stdout,
    )
    assert found, result.stdout
    assert int(found.group(1)) * 2_000_000 * 4 > 2 << 30  # the table alone would not fit under the limit


@pytest.mark.parametrize(
    ("vocab", "message"),
    [
        ({"words": [["a"]]}, "words: ['a'] is not a non-empty string"),
        ({"tags": ["O", "X-city"]}, "tags: 'X-city' is not a BIO tag"),
        ({"intents": [3]}, "intents: 3 is not a non-empty string"),
        ({"chars": [""]}, "chars: '' is not a non-empty string"),
    ],
)
def test_a_damaged_vocabulary_is_refused(trained_run: Path, vocab: dict, message: str) -> None:
    payload = json.loads((trained_run / "model" / "vocab.json").read_text())
    payload.update(vocab)
    with pytest.raises(ModelError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Vocab.from_json(payload)


def test_an_over_long_utterance_is_one_error_line_and_the_others_are_tagged(trained_run: Path) -> None:
    predictor = Predictor.load(trained_run, "cpu", limits=Limits(max_chars=20_000, max_tokens=300))
    texts = ["fly to boston", "to " * 400, "x" * 20_001, "leave denver"]
    parsed = list(predictor.parse_many(texts))
    assert parsed[1] == {"error": "more than 300 tokens; the limit is 300"}
    assert parsed[2] == {"error": "20,001 characters; the limit is 20,000"}
    assert parsed[0] == predictor.parse("fly to boston") and parsed[3] == predictor.parse("leave denver")


def test_predict_reads_a_file_without_newlines_in_bounded_memory(trained_run: Path, tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:  # 60 MB on one line, then a normal line
        for _ in range(60):
            handle.write(b"to boston " * 100_000)
        handle.write(b"\nfly to denver\n")
    # a parent of its own whose only child is the predict command: its children's peak is that command's
    measure = "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    measure += "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(code)"
    command = [
        sys.executable,
        "-c",
        measure,
        sys.executable,
        "-m",
        "slotfill.cli",
        "predict",
        str(trained_run),
        "--input",
        str(huge),
    ]
    process = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert process.returncode == 0, process.stderr
    first, second = [json.loads(line) for line in process.stdout.splitlines()]
    assert first == {"error": "100,001 characters; the limit is 100,000"}
    assert second["text"] == "fly to denver" and second["slots"]
    peak_kib = int(process.stderr.strip().splitlines()[-1])
    assert peak_kib < 1_500_000, f"{peak_kib} KiB"  # the 60 MB line was never held whole (and never tokenised)


# --- untrusted bytes on the command line --------------------------------------------------------


def run_cli(*args: str | bytes, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "slotfill.cli", *args], input=stdin, capture_output=True, cwd=ROOT, timeout=120
    )


@pytest.mark.parametrize("command", ["predict", "tag"])
def test_invalid_utf8_on_stdin_is_one_line(trained_run: Path, command: str) -> None:
    extra = ["--input", "-"] if command == "predict" else []
    result = runner.invoke(app, [command, str(trained_run), *extra], input=b"fly to boston\nto \xff\xfe denver\n")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["error: stdin:2: not UTF-8 (byte 0xff at column 4)"]
    result.stdout_bytes.decode("utf-8")  # whatever was written is valid UTF-8


def test_invalid_utf8_in_an_argument_is_one_line(trained_run: Path) -> None:
    done = run_cli("predict", str(trained_run), "fly to boston", b"to \xff denver")
    assert done.returncode == 2 and done.stdout == b""
    assert done.stderr.decode().strip() == "error: argument 2: not UTF-8 (at character 4)"


def test_output_is_utf8_whatever_the_locale(trained_run: Path) -> None:
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": "ascii:strict"}
    done = subprocess.run(
        [sys.executable, "-m", "slotfill.cli", "predict", str(trained_run), "fly to Reykjavík"],
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.decode("utf-8"))["text"] == "fly to Reykjavík"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("seed=1e23", "seed: Input should be a valid integer"),
        ("seed=100000000000000000000000", "seed: Input should be less than"),
    ],
)
def test_out_of_range_seeds_are_one_line(override: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["train", "configs/demo.yaml", "--set", override])
    assert result.exit_code == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1


# --- the smaller pieces ----------------------------------------------------------------------------


def test_devices() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto") == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match="'tpu' is not one of auto, cpu, cuda"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU is available"):
            resolve_device("cuda:0")


def test_length_bucket_sampler_covers_every_sentence_once_in_similar_lengths() -> None:
    lengths = [(i * 37) % 50 + 1 for i in range(1000)]
    generator = torch.Generator().manual_seed(3)
    batches = list(LengthBucketSampler(lengths, 32, generator))
    assert sorted(i for batch in batches for i in batch) == list(range(1000))
    assert len(batches) == len(LengthBucketSampler(lengths, 32)) == 32
    spread = [max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches if len(b) == 32]
    assert max(spread) <= 5  # sorted within pools: similar lengths in a batch
    again = list(LengthBucketSampler(lengths, 32, torch.Generator().manual_seed(3)))
    assert (
        again == batches and list(LengthBucketSampler(lengths, 32, generator)) != batches
    )  # seeded; a new draw each epoch
    in_order = list(LengthBucketSampler(lengths, 32))
    assert [lengths[i] for b in in_order for i in b] == sorted(lengths)
