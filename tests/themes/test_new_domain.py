"""A new domain: the smart-home walkthrough data, `data validate` and the training warning about
tokenisation, `slotfill info`, `training.monitor`, `--min-intent-confidence`, line endings."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.config import load_config
from slotfill.data.example import Example
from slotfill.data.formats import read_split
from slotfill.data.validate import tokenisation_problems, validate
from slotfill.errors import ConfigError
from slotfill.predict import Predictor
from slotfill.training.loop import _monitored, train
from slotfill.training.run_state import build_run

from ..conftest import ROOT, tiny_config

SMARTHOME = ROOT / "data" / "smarthome"


def test_the_smarthome_data_is_what_its_script_generates(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "data" / "make_smarthome_data.py"), str(tmp_path)], check=True
    )
    for name in ("train.jsonl", "dev.jsonl", "test.jsonl", "ood.txt"):
        assert (tmp_path / name).read_bytes() == (SMARTHOME / name).read_bytes()
    assert validate(SMARTHOME) == []  # the walkthrough's data has no problem
    config = load_config(ROOT / "configs" / "smarthome.yaml")
    assert config.data.split_path(config.data.train) == SMARTHOME / "train.jsonl"  # relative to the config file
    assert len(read_split(SMARTHOME / "train.jsonl")) == 300


def write_atis(directory: Path, lines: list[tuple[str, str, str]]) -> Path:
    directory.mkdir(parents=True)
    for name, column in (("seq.in", 0), ("seq.out", 1), ("label", 2)):
        (directory / name).write_text("".join(line[column] + "\n" for line in lines))
    return directory


@pytest.fixture
def flawed(tmp_path: Path) -> Path:
    """A pre-tokenised dataset with one problem of every kind."""
    write_atis(
        tmp_path / "data" / "train",
        [
            ("play some lo-fi", "O O B-genre", "play"),
            ("heat to 25% now", "O O B-level O", "heat"),
            ("play some jazz", "O O B-genre", "play"),
            ("play some rock-pop now", "O O B-genre O", "play"),
            ("set it to - please", "O O O B-level O", "set"),
            ("lights on please", "O I-device O", "turn_on"),
        ],
    )
    write_atis(tmp_path / "data" / "test", [("play some jazz", "O O B-genre", "play"), ("dim it", "B-x O", "dim")])
    return tmp_path / "data"


def test_validate_reports_every_problem_with_its_place(flawed: Path) -> None:
    result = CliRunner().invoke(app, ["data", "validate", str(flawed), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    train_in, test_in = flawed / "train" / "seq.in", flawed / "test" / "seq.in"
    assert [(p["kind"], p["where"]) for p in report["list"]] == [
        ("bio", f"{flawed / 'train' / 'seq.out'}:6"),  # the line of the I- without its B-
        ("span_punctuation", f"{train_in}:5"),  # a slot of nothing but punctuation: dropped
        ("tokenisation", f"{train_in}:1"),
        ("tokenisation", f"{train_in}:4"),
        ("leak", f"{test_in}:1"),
        ("unseen_label", f"{test_in}:2"),
        ("unseen_label", f"{test_in}:2"),
        *[("few_examples", str(flawed / "train"))] * 4,  # heat, play, set, turn_on: under 10 examples each
    ]
    assert report["list"][0]["message"] == "I- tag without B- of the same slot (read as B-)"
    assert report["list"][1]["message"] == "slot 'level' ('-') has punctuation at its edge; dropped"
    assert report["list"][2]["message"] == "'lo-fi' (B-genre) becomes 'lo' '-' 'fi' when typed"
    assert report["list"][-3]["message"] == (
        "intent 'play' has 3 examples: too few for its confidence to meet the out-of-scope threshold reliably "
        "(at least 10)"
    )
    assert report["by_kind"] == {
        "tokenisation": 2, "span_punctuation": 1, "bio": 1, "leak": 1, "unseen_label": 2, "few_examples": 4,
    }  # fmt: skip
    clean = CliRunner().invoke(app, ["data", "validate", str(SMARTHOME)])
    assert clean.exit_code == 0 and "no problems found" in clean.stderr


def test_the_table_shows_every_place_whole_at_80_columns(flawed: Path) -> None:
    result = CliRunner().invoke(app, ["data", "validate", str(flawed)], env={"COLUMNS": "80"})
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in result.stdout.splitlines() if "│" in line]
    places = [row[1] for row in rows if row[0]]  # a row's first line (a folded message goes on below)
    assert places == ["train/seq.out:6", "train/seq.in:5", "train/seq.in:1", "train/seq.in:4",
                      "test/seq.in:1", "test/seq.in:2", "test/seq.in:2", *["train"] * 4]  # fmt: skip
    assert "…" not in result.stdout


def test_training_warns_once_with_a_count_and_three_examples(
    flawed: Path, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    lines = [("play some lo-fi", "O O B-genre", "play")] * 5
    write_atis(tmp_path / "many" / "train", lines)
    config = tiny_config(data={"dir": str(tmp_path / "many"), "train": "train", "dev": None, "test": None})
    examples = read_split(tmp_path / "many" / "train")
    assert len(tokenisation_problems(examples, tmp_path / "many" / "train", "atis")) == 5
    assert tokenisation_problems([Example(("lo-fi",), ("B-genre",))], tmp_path, "spans") == []  # slotfill tokenised it
    with caplog.at_level(logging.WARNING, logger="slotfill"):
        build_run(config, tmp_path / "run")  # what training does first: read the data, build the model
    tokenisation = [r for r in caplog.records if "split differently" in r.getMessage()]
    assert len(tokenisation) == 1
    message = tokenisation[0].getMessage()
    assert "5 training tokens would be split differently" in message
    assert message.count("'lo-fi' (B-genre) becomes") == 3 and f"{tmp_path / 'many' / 'train' / 'seq.in'}:3" in message


def test_info_describes_the_model_as_json_and_for_people(trained_run: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["info", str(trained_run), "--json"])
    assert result.exit_code == 0, result.output
    described = json.loads(result.stdout)
    predictor = Predictor.load(trained_run, "cpu")
    assert described == json.loads(json.dumps(predictor.describe()))
    vocab = predictor.loaded.vocab
    assert described["intents"] == predictor.intents == vocab.intents.items
    assert described["slot_types"] == predictor.slot_types
    assert set(predictor.slot_types) == {tag[2:] for tag in vocab.tags.items if tag != "O"}
    assert described["parameters"] == sum(p.numel() for p in predictor.loaded.tagger.parameters())
    assert described["metrics"]["test"] == predictor.metrics["test"]
    assert described["config"]["model"]["encoder"]["hidden_size"] == 48
    table = runner.invoke(app, ["info", str(trained_run)])
    assert table.exit_code == 0 and "slot types" in table.stdout and "atis_flight" in table.stdout


def test_the_monitor_chooses_the_best_epoch(tmp_path: Path) -> None:
    dev = {"slot_f1": 0.9, "intent_accuracy": 0.8, "sentence_accuracy": 0.7, "loss": 2.5}
    assert _monitored(dev, "slot_f1") == [0.9, 0.8]
    assert _monitored(dev, "sentence_accuracy") == [0.7, 0.9]
    assert _monitored(dev, "loss") == [-2.5]
    with pytest.raises(ConfigError, match="training.monitor: intent_accuracy is not measured"):
        _monitored({"slot_f1": 0.9}, "intent_accuracy")
    config = tiny_config(
        data={"train": "dev", "dev": "test", "test": None}, training={"epochs": 3, "monitor": "loss", "patience": 3}
    )
    result = train(config, tmp_path / "run")
    log = [json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    losses = [entry["dev"]["loss"] for entry in log]
    assert result.best_epoch == 1 + losses.index(min(losses))
    with pytest.raises(ConfigError, match="model.intent.enabled is false"):
        train(
            tiny_config(model={"intent": {"enabled": False}}, training={"monitor": "intent_accuracy"}), tmp_path / "x"
        )


def test_min_intent_confidence_answers_null_below_it(trained_run: Path) -> None:
    predictor = Predictor.load(trained_run, "cpu")
    text = "show me flights from boston to denver"
    sure = predictor.parse(text)
    unsure = predictor.parse(text, min_intent_confidence=1.0)
    assert sure["intent"] in predictor.intents and sure["intent_confidence"] < 1.0
    assert unsure == {**sure, "intent": None, "rejected": "out_of_scope"}  # the confidence stays: it says why
    # just under the printed confidence (rounded to 4 places, it may lie above the exact one): answered
    assert predictor.parse(text, min_intent_confidence=sure["intent_confidence"] - 1e-4)["intent"] == sure["intent"]
    result = CliRunner().invoke(app, ["predict", str(trained_run), text, "--min-intent-confidence", "1"])
    assert result.exit_code == 0 and json.loads(result.stdout)["intent"] is None


def test_parse_many_of_a_file_is_what_predict_input_prints(trained_run: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_bytes(b"fly to boston\r\nto denver\n\nlast line without newline")
    with open(source, encoding="utf-8", newline="") as handle:
        parsed = list(Predictor.load(trained_run, "cpu").parse_many(handle))
    printed = CliRunner().invoke(app, ["predict", str(trained_run), "--input", str(source)])
    assert [json.loads(line) for line in printed.stdout.splitlines()] == parsed
    assert [p["text"] for p in parsed] == ["fly to boston", "to denver", "", "last line without newline"]
