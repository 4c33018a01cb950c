"""Every command through the real Typer app; errors are one line on stderr with exit code 2."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.data.formats import read_split
from slotfill.evaluation.evaluate import evaluate
from slotfill.store.model_dir import load_model

from ..conftest import DEMO, ROOT

runner = CliRunner()


def test_help_does_not_import_torch() -> None:
    code = "import sys; from slotfill.cli.app import app; sys.argv=['slotfill','--help']\ntry: app()\nexcept SystemExit: pass\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("False")


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "tag"])
def test_every_command_has_help_with_examples(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Example" in result.output


@pytest.mark.slow
def test_train_evaluate_predict(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = runner.invoke(
        app,
        [
            "train",
            str(ROOT / "configs/demo.yaml"),
            "--output",
            str(run_dir),
            "--set",
            "training.epochs=1",
            "--set",
            f"data.dir={DEMO}",
            "--set",
            "model.encoder.hidden_size=32",
            "--set",
            "data.test=null",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "model saved to" in result.stderr and "epoch   1" in result.stderr
    assert (run_dir / "model" / "model.safetensors").is_file()

    result = runner.invoke(app, ["evaluate", str(run_dir), str(DEMO / "test"), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    loaded = load_model(run_dir, torch.device("cpu"))
    expected = evaluate(
        loaded.decoder,
        loaded.vocab,
        read_split(DEMO / "test"),
        gazetteers=loaded.gazetteers,
        temperature=loaded.temperature,  # the calibration fitted on dev at the end of training
        rejection=loaded.rejection,  # and the out-of-scope threshold
        out_of_scope=loaded.config.out_of_scope.intent,
    ).metrics
    assert metrics == json.loads(json.dumps(expected))  # the whole result, as the library computes it
    assert metrics["slot_f1"] > 0.3 and metrics["intents_scored"] == metrics["sentences"] == 300

    result = runner.invoke(app, ["evaluate", str(run_dir), str(DEMO / "test")])
    assert result.exit_code == 0 and "Per slot" in result.stdout and "toloc.city_name" in result.stdout


def test_predict_arguments_and_input_file(trained_run: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["predict", str(trained_run), "arrive Taipei on November 2nd", "leave Taipei"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["text"] for line in lines] == ["arrive Taipei on November 2nd", "leave Taipei"]
    assert list(lines[0]) == ["text", "tokens", "tags", "slots", "frame", "intent", "intent_confidence"]

    utterances = tmp_path / "in.txt"
    utterances.write_text("fly to boston\r\n\nshow me fares\n")
    result = runner.invoke(app, ["predict", str(trained_run), "--input", str(utterances)])
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == ["fly to boston", "", "show me fares"]

    result = runner.invoke(app, ["predict", str(trained_run), "--input", "-"], input="to paris\nto rome\n")
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == ["to paris", "to rome"]


def test_predict_resolves_values_against_now_or_leaves_them_out(trained_run: Path) -> None:
    text = "leave Taipei on November 2nd"
    result = runner.invoke(app, ["predict", str(trained_run), text, "--now", "2026-12-01T09:00", "--timezone", "UTC"])
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.stdout)
    assert parsed["frame"] == {
        "fromloc": {"kind": "city", "name": "Taipei", "country": "TW", "codes": ["TPE", "TSA"]},
        "depart_date": {"kind": "date", "date": "2027-11-02"},
    }
    assert parsed["slots"][0]["value"] == parsed["frame"]["fromloc"]
    bare = json.loads(runner.invoke(app, ["predict", str(trained_run), text, "--no-values"]).stdout)
    assert "frame" not in bare
    assert bare["slots"] == [{k: v for k, v in slot.items() if k != "value"} for slot in parsed["slots"]]
    for option, message in [
        (["--now", "next friday"], "error: --now 'next friday': not an ISO 8601 date and time"),
        (["--timezone", "Mars/Olympus"], "error: --timezone 'Mars/Olympus': not a time zone name"),
    ]:
        result = runner.invoke(app, ["predict", str(trained_run), text, *option])
        assert result.exit_code == 2 and result.stderr.startswith(message)
        assert len(result.stderr.strip().splitlines()) == 1 and not result.stdout


def test_every_line_ending_splits_lines_as_parse_many_of_an_open_file(trained_run: Path, tmp_path: Path) -> None:
    from slotfill.predict import Predictor

    utterances = tmp_path / "endings.txt"
    utterances.write_bytes(b"to paris\rto rome\r\nfrom boston\n\rto denver")  # CR, CR LF, LF, an empty line
    result = runner.invoke(app, ["predict", str(trained_run), "--input", str(utterances)])
    assert result.exit_code == 0, result.output
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    with open(utterances, encoding="utf-8") as handle:
        assert printed == list(Predictor.load(trained_run, "cpu").parse_many(handle))
    assert [p["text"] for p in printed] == ["to paris", "to rome", "from boston", "", "to denver"]


def test_output_into_a_fifo_and_a_full_disk(trained_run: Path, tmp_path: Path) -> None:
    import os
    import threading

    fifo = tmp_path / "parsed.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = runner.invoke(app, ["predict", str(trained_run), "to rome", "--output", str(fifo)])
    reader.join(timeout=30)
    assert result.exit_code == 0 and json.loads(received[0])["text"] == "to rome"
    full = tmp_path / "full"
    full.symlink_to("/dev/full")
    result = runner.invoke(app, ["predict", str(trained_run), "to rome", "--output", str(full)])
    assert result.exit_code == 2 and result.stderr.strip().endswith("full: cannot write (No space left on device)")
    assert len(result.stderr.strip().splitlines()) == 1
    with open("/dev/full", "wb") as stdout:  # `slotfill predict ... > file` on a full disk
        done = subprocess.run(
            [sys.executable, "-m", "slotfill.cli", "predict", str(trained_run), "to rome"],
            stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        "error: stdout: cannot write (No space left on device)"
    ]


def test_tag_reads_json_lines_when_stdin_is_not_a_terminal(trained_run: Path) -> None:
    result = runner.invoke(app, ["tag", str(trained_run)], input="leave Taipei on November 2nd\n")
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert line["tokens"] == ["leave", "Taipei", "on", "November", "2nd"]


def test_tag_interactive_session_in_a_terminal(trained_run: Path) -> None:
    """A real pseudo-terminal: the sentence is shown with a slot table, an empty line quits."""
    import os
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # child: the CLI on a terminal
        os.execv(sys.executable, [sys.executable, "-m", "slotfill.cli", "tag", str(trained_run), "--device", "cpu"])
    output = b""

    def read_until(marker: bytes, timeout: float = 60.0) -> None:
        nonlocal output
        deadline = time.monotonic() + timeout
        while marker not in output and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                try:
                    output += os.read(fd, 4096)
                except OSError:
                    return

    read_until(b"> ")
    os.write(fd, b"leave Taipei on November 2nd\r")
    read_until(b"depart_date.day_number")
    os.write(fd, b"\r")
    read_until(b"\xff")  # until the child closes the terminal
    _, status = os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert "fromloc.city_name" in text and "Taipei" in text and "depart_date.day_number" in text
    assert "value" in text and "TPE TSA" in text and "frame: " in text  # the values and the frame
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "missing.yaml"], "missing.yaml: no such config file"),
        (["train", "configs/demo.yaml", "--set", "training.epochz=1"], "training.epochz: unknown key"),
        (
            ["train", "configs/demo.yaml", "--set", "data.dir=/nonexistent"],
            "data.train: /nonexistent/train: no such file or directory",
        ),
        (
            ["train", "configs/demo.yaml", "--set", "model.dropout=-1"],
            "model.dropout: Input should be greater than or equal to 0",
        ),
        (
            ["train", "configs/demo.yaml", "--set", "model.encoder.hidden_size=0"],
            "model.encoder.hidden_size: Input should be greater than 0",
        ),
        (
            ["train", "configs/demo.yaml", "--set", "training.epochs=three"],
            "training.epochs: Input should be a valid integer",
        ),
        (["train", "configs/demo.yaml", "--set", "nokey"], "--set 'nokey': expected KEY=VALUE"),
        (["train", "--resume", "/nonexistent"], "/nonexistent: nothing to resume"),
        (["train", "configs/demo.yaml", "--resume", "runs/x"], "--resume continues a run with its saved config"),
        (["train"], "give a CONFIG file, or --resume RUN_DIR"),
        (["evaluate", "/nonexistent", "data/demo/test", "--format", "xml"], "--format: 'xml' is not one of auto"),
        (["train", "configs/demo.yaml", "--set", "device=tpu"], "device: Input should be"),
        (["evaluate", "/nonexistent", "data/demo/test"], "/nonexistent: no such model directory"),
        (["predict", "/nonexistent", "hi"], "/nonexistent: no such model directory"),
        (["tag", "/nonexistent"], "/nonexistent: no such model directory"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(args: list[str], message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_evaluate_warns_about_labels_unseen_in_training(trained_run: Path, tmp_path: Path) -> None:
    data = tmp_path / "x.jsonl"
    data.write_text(
        json.dumps({"tokens": ["to", "boston"], "tags": ["O", "B-never_seen"], "intent": "atis_new"}) + "\n"
    )
    result = runner.invoke(app, ["evaluate", str(trained_run), str(data), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["unseen_in_training"] == {"tags": 1, "intents": 1}
    assert "1 gold tags and 1 gold intents" in " ".join(result.stderr.split())


def test_evaluate_bad_data_exits_2(trained_run: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.conll"
    bad.write_text("fly O\nto\n")
    result = runner.invoke(app, ["evaluate", str(trained_run), str(bad)])
    assert result.exit_code == 2 and "bad.conll:2: expected a token and a tag" in result.stderr


def test_predict_needs_input(trained_run: Path) -> None:
    result = runner.invoke(app, ["predict", str(trained_run)])
    assert result.exit_code == 2 and "give utterances" in result.stderr


def test_progress_path_writes_every_line(capsys: pytest.CaptureFixture[str]) -> None:
    from slotfill.cli.tagging import _print_json_lines

    _print_json_lines(iter([{"text": str(i)} for i in range(600)]), progress=True)
    out = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["text"] for line in out] == [str(i) for i in range(600)]


@pytest.mark.parametrize(
    ("content", "message"), [(None, "no such gazetteer file"), (b"", "no entries"), (b"\xff\n", ":1: not UTF-8")]
)
@pytest.mark.slow
def test_train_with_a_bad_gazetteer_file(
    tmp_path: Path, content: bytes | None, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    path = tmp_path / "cities.txt"
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(
        app, ["train", "configs/demo.yaml", "--output", str(tmp_path / "run"), "--set", f"gazetteers.extra.file={path}"]
    )
    assert result.exit_code == 2, result.output
    assert f"{path}" in result.stderr and message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run" / "model").exists()
