"""Out-of-scope utterances: when a parse is rejected, the threshold fitted on dev, the CLINC150
measures, the noise a model is trained to reject, and every bad setting in one line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.config import OutOfScopeConfig, config_from_dict
from slotfill.data.example import Example
from slotfill.data.formats import read_split
from slotfill.decoding.decoder import rejection_reasons
from slotfill.decoding.tagging import Tagged
from slotfill.decoding.types import Rejection
from slotfill.errors import ConfigError
from slotfill.evaluation.out_of_scope import auroc, check_calibration, out_of_scope_metrics
from slotfill.training.noise import noise_examples, training_language

from ..conftest import DEMO, tiny_config

runner = CliRunner()


def test_a_rejection_names_its_reason_and_keeps_the_in_scope_confidence() -> None:
    probabilities = np.array(
        [
            [0.70, 0.20, 0.10],  # sure of intent 0
            [0.10, 0.15, 0.75],  # the out-of-scope class (2) wins
            [0.40, 0.25, 0.35],  # intent 0 at 0.40, over 0.3 and under 0.45
            [0.48, 0.47, 0.05],  # two intents nearly tied
        ]
    )
    reasons, confidences = rejection_reasons(Rejection(intent_id=2, threshold=0.3, ambiguity=0.05), probabilities)
    assert reasons == [None, "out_of_scope", None, "ambiguous"]
    assert confidences == pytest.approx([0.70, 0.15, 0.40, 0.48])
    reasons, _ = rejection_reasons(Rejection(intent_id=2, threshold=0.45), probabilities)
    assert reasons == [None, "out_of_scope", "out_of_scope", None]
    assert rejection_reasons(Rejection(), probabilities)[0] == [None] * 4  # a model without the rejection


def test_the_clinc150_measures_of_a_handful_of_parses() -> None:
    gold = [Example(("a",), ("O",), intent) for intent in ("balance", "balance", "translate", "oos", "oos")]
    tagged = [
        Tagged(["O"], "balance", 0.9, in_scope_confidence=0.9),  # right
        Tagged(["O"], "translate", 0.8, in_scope_confidence=0.8),  # wrong intent
        Tagged(["O"], "translate", 0.3, rejected="out_of_scope", in_scope_confidence=0.3),  # wrongly rejected
        Tagged(["O"], "oos", 0.7, rejected="out_of_scope", in_scope_confidence=0.2),  # caught
        Tagged(["O"], "balance", 0.85, in_scope_confidence=0.85),  # missed
    ]
    measured = out_of_scope_metrics(gold, tagged, "oos")
    histogram = measured.pop("confidence_histogram")
    assert measured == {
        "in_scope": 3,
        "out_of_scope": 2,
        "in_scope_accuracy": pytest.approx(1 / 3),
        "in_scope_rejected": pytest.approx(1 / 3),
        "out_of_scope_precision": 0.5,
        "out_of_scope_recall": 0.5,
        "out_of_scope_f1": 0.5,
        "auroc": pytest.approx(4 / 6),  # in-scope 0.9, 0.8, 0.3 against 0.2 and 0.85: 4 of 6 pairs ordered
    }
    assert sum(histogram["in_scope"]) == 3 and sum(histogram["out_of_scope"]) == 2
    assert auroc(np.array([0.5, 0.9]), np.array([0.5])) == pytest.approx(0.75)  # a tie counts half


def test_measures_without_the_utterances_they_are_shares_of_are_undefined() -> None:
    """Only out-of-scope examples: no in-scope accuracy (it printed 0.00), n/a in the table, null in JSON."""
    from slotfill.evaluation.out_of_scope import OUT_OF_SCOPE_MEASURES, as_percent

    gold = [Example(("a",), ("O",), "oos")] * 2
    tagged = [Tagged(["O"], "balance", 0.9, in_scope_confidence=0.9)] * 2  # none rejected
    measured = out_of_scope_metrics(gold, tagged, "oos")
    assert {name: measured[name] for name in (*OUT_OF_SCOPE_MEASURES, "auroc")} == {
        "in_scope_accuracy": None,
        "in_scope_rejected": None,
        "out_of_scope_precision": None,  # nothing rejected: no precision to speak of
        "out_of_scope_recall": 0.0,
        "out_of_scope_f1": None,
        "auroc": None,
    }
    assert [as_percent(measured[name]) for name in OUT_OF_SCOPE_MEASURES] == ["n/a", "n/a", "n/a", "0.00", "n/a"]


def test_too_few_in_scope_utterances_for_the_threshold_is_one_line() -> None:
    dev = [Example(("a",), ("O",), "x")] * 150 + [Example(("b",), ("O",), "oos")] * 100
    confidence = OutOfScopeConfig(method="confidence", keep=0.995)
    with pytest.raises(ConfigError) as raised:
        check_calibration(confidence, [], dev)
    assert str(raised.value) == (
        "out_of_scope.keep: 0.995 needs at least 200 in-scope dev utterances to fit its threshold; data.dev has 150 "
        "(add dev utterances, lower keep, or set out_of_scope.method: class)"
    )
    check_calibration(OutOfScopeConfig(method="confidence", keep=0.99), [], dev)  # 100 are enough
    # the distance counts training utterances too: 150 + 300 < 500 for keep 0.998
    train = [Example(("c",), ("O",), "y")] * 300 + [Example(("d",), ("O",), "oos")] * 300
    with pytest.raises(ConfigError) as raised:
        check_calibration(OutOfScopeConfig(), train, dev)
    assert str(raised.value) == (
        "out_of_scope.keep: 0.998 needs at least 500 in-scope training and dev utterances (at least 10 of them "
        "training ones) to fit its distance; data.train and data.dev have 300 and 150 (lower keep, or set "
        "out_of_scope.method: class)"
    )
    check_calibration(OutOfScopeConfig(), train * 2, dev)  # 600 + 150
    with pytest.raises(ConfigError, match="at least 10 of them training ones"):
        check_calibration(OutOfScopeConfig(keep=0.99), train[:5], dev)
    check_calibration(OutOfScopeConfig(method="class"), [], dev)
    check_calibration(OutOfScopeConfig(), [], None)  # no dev split: nothing to fit, nothing to check


def test_noise_is_made_of_the_training_languages_words_and_repeats_with_its_seed() -> None:
    english = read_split(DEMO / "train")
    assert training_language(english) == "en"
    german = [Example(tuple("ich möchte einen flug nach berlin und dann zurück".split()), ("O",) * 9, "flug")] * 5
    assert training_language(german) == "de"
    assert training_language([Example(("qqq", "zzz"), ("O", "O"), "x")]) is None
    noise = noise_examples(english, "oos", 50, "en", seed=3)
    assert noise == noise_examples(english, "oos", 50, "en", seed=3)  # the same run draws the same
    assert noise != noise_examples(english, "oos", 50, "en", seed=4)
    lengths = {len(e.tokens) for e in english}
    assert all(e.intent == "oos" and set(e.tags) == {"O"} and len(e.tokens) <= max(lengths) for e in noise)


def test_fluent_noise_keeps_an_utterances_function_words_and_replaces_every_other_word() -> None:
    from slotfill.training.noise import FUNCTION_WORDS, _frequent

    source = Example(
        ("show", "me", "flights", "from", "boston", "to", "denver"),
        ("O", "O", "O", "O", "B-fromloc.city_name", "O", "B-toloc.city_name"),
        "atis_flight",
    )
    function = set(_frequent("en", FUNCTION_WORDS))
    assert {"me", "from", "to"} <= function and not {"flights", "boston", "denver"} & function
    noise = noise_examples([source], "oos", 8, "en", seed=3, fluent=0.5)
    salad, fluent = noise[:4], noise[4:]
    assert salad == noise_examples([source], "oos", 4, "en", seed=3)  # the word salad draws as before
    for example in fluent:
        assert example.intent == "oos" and example.tags == ("O",) * 7
        for token, original in zip(example.tokens, source.tokens):
            if original in function:
                assert token == original
            else:
                assert token not in set(source.tokens) | function
    assert len({e.tokens for e in fluent}) == 4
    assert noise == noise_examples([source], "oos", 8, "en", seed=3, fluent=0.5)


def _train(tmp_path: Path, **sections: dict) -> object:
    config = tiny_config(**sections)
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps(config.model_dump(mode="json")), encoding="utf-8")
    return runner.invoke(app, ["train", str(path), "--output", str(tmp_path / "run"), "--set", "training.epochs=1"])


def _one_line(result: object, pattern: str, tmp_path: Path) -> None:
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert re.search(pattern, result.stderr), result.stderr
    assert not (tmp_path / "run" / "model").exists()


def test_an_out_of_scope_label_that_starts_an_intents_name_is_one_line(tmp_path: Path) -> None:
    result = _train(tmp_path, out_of_scope={"intent": "atis"})
    _one_line(result, r"out_of_scope.intent: 'atis' is the start of the intent 'atis_\w+'", tmp_path)


def test_training_data_all_out_of_scope_is_one_line(tmp_path: Path) -> None:
    flights = [e for e in read_split(DEMO / "dev") if e.intent == "atis_flight"]
    split = tmp_path / "flights"
    split.mkdir()
    for name, lines in (
        ("seq.in", [" ".join(e.tokens) for e in flights]),
        ("seq.out", [" ".join(e.tags) for e in flights]),
        ("label", [e.intent for e in flights]),
    ):
        (split / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = {"dir": str(tmp_path), "train": "flights", "dev": None, "test": None}
    result = _train(tmp_path, data=data, out_of_scope={"intent": "atis_flight"})
    _one_line(result, r"data.train: .*flights: every example is out of scope \(intent 'atis_flight'\)", tmp_path)


def test_too_few_utterances_for_the_threshold_stop_training_before_it_starts(tmp_path: Path) -> None:
    result = _train(tmp_path, out_of_scope={"keep": 0.999, "method": "confidence"})  # 1,000 dev needed; 300
    _one_line(result, r"out_of_scope.keep: 0.999 needs at least 1000 in-scope dev utterances .* has 300", tmp_path)
    result = _train(tmp_path, out_of_scope={"keep": 0.9999})  # 10,000 needed; 2,400 + 300
    _one_line(result, r"0.9999 needs at least 10000 in-scope training and dev .* have 2400 and 300", tmp_path)


def test_the_config_keeps_out_of_scope_settings_in_range() -> None:
    with pytest.raises(ConfigError, match=r"out_of_scope.keep: Input should be less than 1"):
        config_from_dict({"out_of_scope": {"keep": 1.0}})
    with pytest.raises(ConfigError, match=r"out_of_scope.method: Input should be 'distance', 'confidence' or 'class'"):
        config_from_dict({"out_of_scope": {"method": "mahalanobis"}})
