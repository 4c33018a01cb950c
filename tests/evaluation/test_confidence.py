"""Slot confidences, alternatives, calibration (the CRF's marginals are checked against brute force in test_crf)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.data.formats import read_split
from slotfill.decoding.decoder import decode_scores
from slotfill.decoding.spans import BatchSpans, span_confidences
from slotfill.decoding.types import Decoding
from slotfill.errors import ModelError
from slotfill.evaluation.evaluate import evaluate, fit_temperature, slot_calibration
from slotfill.evaluation.out_of_scope import fit_rejection
from slotfill.evaluation.scoring import expected_calibration_error, reliability
from slotfill.predict import Predictor
from slotfill.store.model_dir import load_model
from slotfill.text import bio

from ..conftest import DEMO

runner = CliRunner()
TEXT = "show me flights from boston to denver on monday morning"


def test_softmax_span_confidence_is_the_product_of_token_probabilities() -> None:
    emissions = torch.randn(1, 4, 3)
    decoded = decode_scores(emissions.numpy(), None, [4], None, Decoding())
    path = decoded.tag_ids[0]
    tokens_1_and_2 = BatchSpans(*(np.array([value]) for value in (0, 1, 3, 0, False)))  # sentence 0, tokens 1..2
    probabilities = emissions[0].softmax(dim=1)
    expected = float(probabilities[1, path[1]] * probabilities[2, path[2]])
    assert decoded.span_scores is not None
    assert span_confidences(decoded.span_scores, tokens_1_and_2) == pytest.approx([expected], rel=1e-5)


def test_expected_calibration_error() -> None:
    assert expected_calibration_error([0.95] * 10, [True] * 9 + [False]) == pytest.approx(0.05)
    assert expected_calibration_error([0.3, 0.3, 0.9, 0.9], [False, True, True, True]) == pytest.approx(
        0.5 * 0.2 + 0.5 * 0.1
    )
    assert expected_calibration_error([], []) == 0.0
    bins = reliability([0.05, 0.95, 0.97], [False, True, False])
    assert [b["count"] for b in bins] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 2] and bins[9]["accuracy"] == 0.5


@pytest.fixture(scope="module")
def predictor(trained_run: Path) -> Predictor:
    return Predictor.load(trained_run, "cpu")


def test_every_slot_has_a_confidence(predictor: Predictor) -> None:
    parsed = predictor.parse(TEXT)
    assert parsed["slots"] and all(0 < s["confidence"] <= 1 for s in parsed["slots"])
    assert "intents" not in parsed and "alternatives" not in parsed and "low_confidence" not in parsed


def test_alternatives_rank_the_k_best_readings(predictor: Predictor) -> None:
    parsed = predictor.parse(TEXT, alternatives=4)
    alternatives, intents = parsed["alternatives"], parsed["intents"]
    assert len(alternatives) == 4 and len(intents) == 4
    assert alternatives[0]["tags"] == parsed["tags"]  # the best reading is the parse itself
    assert [a["slots"] for a in alternatives[:1]] == [
        [{k: v for k, v in s.items() if k != "confidence"} for s in parsed["slots"]]
    ]
    probabilities = [a["probability"] for a in alternatives]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0001
    assert len({tuple(a["tags"]) for a in alternatives}) == 4  # four different readings
    assert intents[0] == {"intent": parsed["intent"], "confidence": parsed["intent_confidence"]}
    assert [i["confidence"] for i in intents] == sorted((i["confidence"] for i in intents), reverse=True)
    for alternative in alternatives:
        assert bio.is_valid(alternative["tags"])


def test_min_confidence_moves_unsure_slots_aside_never_drops_them(predictor: Predictor) -> None:
    everything = predictor.parse(TEXT)["slots"]
    cut = sorted(s["confidence"] for s in everything)[len(everything) // 2]
    parsed = predictor.parse(TEXT, min_confidence=cut)
    assert all(s["confidence"] >= cut for s in parsed["slots"]) and all(
        s["confidence"] < cut for s in parsed["low_confidence"]
    )
    assert sorted(parsed["slots"] + parsed["low_confidence"], key=lambda s: s["start"]) == everything


def test_cli_alternatives_and_min_confidence(trained_run: Path) -> None:
    result = runner.invoke(app, ["predict", str(trained_run), TEXT, "--alternatives", "2", "--min-confidence", "0.999"])
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.stdout)
    assert len(parsed["alternatives"]) == 2 and len(parsed["intents"]) == 2 and "low_confidence" in parsed
    result = runner.invoke(app, ["predict", str(trained_run), TEXT, "--alternatives", "11"])
    assert result.exit_code == 2


def test_temperature_changes_confidences_never_tags(trained_run: Path) -> None:
    loaded = load_model(trained_run, torch.device("cpu"))
    examples = read_split(DEMO / "dev")[:100]
    cold = evaluate(loaded.decoder, loaded.vocab, examples, temperature=0.5)
    warm = evaluate(loaded.decoder, loaded.vocab, examples, temperature=3.0)
    assert [t.tags for t in cold.tagged] == [t.tags for t in warm.tagged]
    assert sum(map(sum, (t.slot_confidences for t in cold.tagged))) > sum(
        map(sum, (t.slot_confidences for t in warm.tagged))
    )


def test_training_fits_and_saves_the_temperature_with_the_lowest_dev_ece(trained_run: Path) -> None:
    saved = json.loads((trained_run / "model" / "calibration.json").read_text())
    loaded = load_model(trained_run, torch.device("cpu"))
    dev = read_split(DEMO / "dev")
    fitted = fit_temperature(loaded.decoder, loaded.vocab, dev)
    train = read_split(DEMO / "train")
    fitted["out_of_scope"], rejection = fit_rejection(
        loaded.decoder, loaded.vocab, dev, loaded.config.out_of_scope, train=train
    )
    assert fitted == saved  # the temperature and the out-of-scope distance, as training fitted them
    assert rejection == loaded.rejection  # and the model read back rejects with what was fitted
    assert saved["dev_ece"] <= saved["dev_ece_at_1"] and loaded.temperature == saved["temperature"]
    at = evaluate(loaded.decoder, loaded.vocab, dev, temperature=saved["temperature"])
    assert at.metrics["slot_ece"] == pytest.approx(saved["dev_ece"], abs=1e-5)
    confidences, correct = slot_calibration(dev, at.tagged)
    assert len(confidences) == len(correct) == sum(len(bio.spans(t.tags)) for t in at.tagged)
    metrics = json.loads((trained_run / "model" / "metrics.json").read_text())
    assert metrics["calibration"] == saved and math.isfinite(metrics["test"]["slot_ece"])


def test_a_damaged_calibration_is_a_clear_error(trained_run: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(trained_run / "model", model)
    for content, message in (("{", "damaged calibration"), ('{"temperature": -1}', "is not a number in")):
        (model / "calibration.json").write_text(content)
        with pytest.raises(ModelError, match=message):
            load_model(model, torch.device("cpu"))
    (model / "calibration.json").unlink()
    assert load_model(model, torch.device("cpu")).temperature == 1.0  # a model without one (format 1, 2)
