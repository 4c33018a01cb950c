"""Parses never change by accident: `slotfill predict` on the frozen model_v2 fixture prints, byte
for byte, the JSON lines slotfill 0.2.0 printed (tests/fixtures/parses, written before the tagging
path was made faster). Whatever is rewritten for speed (tokeniser, features, spans, confidences,
JSON) must keep every token, offset, tag, slot, confidence and alternative, in any batch size."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from slotfill.cli.app import app

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
@pytest.mark.parametrize("batch_size", ["256", "5"])
def test_predict_prints_exactly_what_it_printed_before(
    texts: str, expected: str, options: list[str], batch_size: str
) -> None:
    arguments = ["predict", str(MODEL), "--input", str(SAMPLES / texts), "--device", "cpu", "--batch-size", batch_size]
    result = runner.invoke(app, [*arguments, *options])
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.splitlines() == (SAMPLES / expected).read_bytes().splitlines()
