"""Models written by 0.4 keep parsing and rejecting as they did (tests/fixtures/README.md): the
model directory and its ONNX export, each beside what 0.4 printed for the frozen texts. 0.4 fitted
a confidence threshold (calibration.json, method confidence); 0.5 fits a distance, and reads the
threshold of an earlier model as it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slotfill.cli.app import app
from tests.themes.test_frozen_parses import _same, _without_values

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
runner = CliRunner()


@pytest.mark.parametrize("folder", ["model_v4", "export_v4"])
@pytest.mark.parametrize("batch_size", ["256", "3"])
def test_a_04_model_parses_and_rejects_as_it_did(folder: str, batch_size: str) -> None:
    model = FIXTURES / folder
    arguments = ["--input", str(FIXTURES / "parses" / "texts.txt"), "--device", "cpu", "--batch-size", batch_size]
    arguments.append("--no-values")  # values read more now (ambiguous hours, typed dates): tests/values has them
    result = runner.invoke(app, ["predict", str(model), *arguments])
    assert result.exit_code == 0, result.stderr
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    frozen = [
        _without_values(json.loads(line))
        for line in (model / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len(printed) == len(frozen) == 404
    assert [p.get("rejected") for p in printed] == [f.get("rejected") for f in frozen]
    assert sum(1 for f in frozen if f.get("rejected")) == 35
    for line, (now, before) in enumerate(zip(printed, frozen), 1):
        assert _same(now, before), f"line {line}: {now} != {before}"
    assert not (model / "out_of_scope.safetensors").exists()  # nothing written beside it


def test_a_04_model_with_vectors_and_a_fine_tuned_transformer_loads_under_the_new_names(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """model_v4_transformer (tests/fixtures/README.md): written by 0.4 with the old names
    (model.encoder_features, model.embedding.pretrained, weights word_input.pretrained); it parses
    as 0.4 printed, each old config key noted once in a line naming the new one."""
    from slotfill.predict import Predictor

    model = FIXTURES / "model_v4_transformer"
    with caplog.at_level("WARNING", logger="slotfill.config"):
        predictor = Predictor.load(model, "cpu", values=False)
    notes = [r.getMessage() for r in caplog.records if r.name == "slotfill.config"]
    assert [note.split(": ", 1)[1] for note in notes] == [
        "model.encoder_features is now called model.transformer (the old name still works)",
        "model.embedding.pretrained is now called model.embedding.vectors (the old name still works)",
    ]
    assert predictor.loaded.config.model.transformer.mode == "fine_tuned"
    assert (
        predictor.loaded.tagger.word_input.vectors.abs().sum() > 0
    )  # the vectors came back from word_input.pretrained
    texts = (FIXTURES / "parses" / "texts.txt").read_text(encoding="utf-8").splitlines()
    frozen = [
        _without_values(json.loads(line))
        for line in (model / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    printed = list(predictor.parse_many(texts))
    assert len(printed) == len(frozen) == 404
    for line, (now, before) in enumerate(zip(printed, frozen), 1):
        assert _same(now, before), f"line {line}: {now} != {before}"
