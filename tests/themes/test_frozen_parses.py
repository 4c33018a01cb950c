"""Parses never change by accident: `slotfill predict` on the frozen model_v2 fixture prints, byte
for byte, the JSON lines slotfill 0.2.0 printed (tests/fixtures/parses, written before the tagging
path was made faster). Whatever is rewritten for speed (tokeniser, features, spans, confidences,
JSON) must keep every token, offset, tag, slot, confidence and alternative, in any batch size."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.errors import ConfigError
from slotfill.predict import Predictor

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "tests" / "fixtures" / "model_v2"
SAMPLES = ROOT / "tests" / "fixtures" / "parses"
ALTERNATIVES = ["--alternatives", "3", "--min-confidence", "0.5", "--min-intent-confidence", "0.5"]
runner = CliRunner()


@pytest.mark.parametrize(
    ("texts", "expected", "options"),
    [
        ("texts.txt", "model_v2.jsonl", []),
        ("texts-alternatives.txt", "model_v2-alternatives.jsonl", ALTERNATIVES),
    ],
)
@pytest.mark.parametrize(
    ("batch_size", "threads"), [("256", []), ("5", ["--threads", "1"]), ("256", ["--threads", "2"])]
)
def test_predict_prints_exactly_what_it_printed_before(
    texts: str, expected: str, options: list[str], batch_size: str, threads: list[str]
) -> None:
    arguments = ["predict", str(MODEL), "--input", str(SAMPLES / texts), "--device", "cpu", "--batch-size", batch_size]
    result = runner.invoke(app, [*arguments, *threads, *options])
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.splitlines() == (SAMPLES / expected).read_bytes().splitlines()


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_threads_must_be_a_whole_number_of_at_least_one(threads: object) -> None:
    with pytest.raises(
        ConfigError, match=rf"^threads: {re.escape(repr(threads))} is not a whole number of at least 1$"
    ):
        Predictor.load(MODEL, "cpu", threads=threads)  # type: ignore[arg-type]


def test_a_predictor_on_one_thread_leaves_the_process_on_its_own() -> None:
    before = torch.get_num_threads()
    predictor = Predictor.load(MODEL, "cpu", threads=1 if before > 1 else 2)
    assert predictor.parse("from boston to denver")["slots"]
    assert torch.get_num_threads() == before
