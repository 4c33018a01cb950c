"""Patterns (slotfill.features.patterns): token features from named regular expressions, extractors
that fill a slot, Rasa's regex entries read, saved and read back with the model, and hostile
patterns that cannot hang a parse."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from slotfill.config import PatternSource
from slotfill.data.splits import read_splits
from slotfill.errors import ConfigError
from slotfill.features.gazetteer import Gazetteer, GazetteerSet
from slotfill.features.gazetteer_sources import load_gazetteers, save_gazetteers
from slotfill.features.patterns import Pattern, PatternSet, joined, pattern_set
from slotfill.predict import Predictor
from slotfill.text.tokenise import tokenise
from slotfill.training.loop import train

from ..conftest import tiny_config

ORDER = r"\b[A-Z]{2}-\d{5}\b"
EMAIL = r"[\w.]+@\w+(?:\.\w+)+"


def _words(text: str) -> list[str]:
    return [t.text for t in tokenise(text)]


def test_a_match_marks_the_words_it_covers_after_the_lists_bits() -> None:
    words = _words("send KX-48213 to anna.b@mail.org today")
    assert joined(words) == ("send KX-48213 to anna.b@mail.org today", [0, 5, 7, 8, 14, 17, 21, 22, 23, 24, 28, 29, 33])
    patterns = PatternSet([Pattern("order", ORDER), Pattern("email", EMAIL)])
    gazetteers = GazetteerSet([Gazetteer("day", (("today",),), "test")], None, patterns)
    assert gazetteers.num_features == 6
    bits = gazetteers.features(words)
    # list "day": bits 0-1; order: bits 2 (begins) and 3 (inside); email: bits 4 and 5
    assert bits == [0, 1 << 2, 1 << 3, 1 << 3, 0, 1 << 4, 1 << 5, 1 << 5, 1 << 5, 1 << 5, 1 << 5, 1 << 5, 1 << 0]


def test_an_extractor_fills_its_slot_where_no_slot_is_and_nowhere_else() -> None:
    patterns = PatternSet([Pattern("order", ORDER, "order_number"), Pattern("email", EMAIL)])
    text = "is KX-48213 or ZZ-11111 mine"
    assert patterns.extracted(text, []) == [("order_number", 3, 11), ("order_number", 15, 23)]
    assert patterns.extracted(text, [(0, 11)]) == [("order_number", 15, 23)]  # the model's slot stays


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("(a", r"patterns.bad: '\(a' is not a regular expression"),
        ("a*", r"patterns.bad: 'a\*' matches the empty string"),
        ("x" * 1001, r"patterns.bad: a pattern is at most 1000 characters"),
    ],
)
def test_a_pattern_that_cannot_work_is_refused_in_one_line(expression: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        pattern_set({"bad": expression}, {})


def test_catastrophic_backtracking_runs_out_of_time_instead_of_hanging(caplog: pytest.LogCaptureFixture) -> None:
    patterns = PatternSet([Pattern("evil", r"(a|aa)+$"), Pattern("order", ORDER)])  # exponential on a...a!
    words = ["a" * 60 + "!", "KX-48213"]
    started = time.perf_counter()
    bits = patterns.features(words, 0)
    patterns.features(words, 0)
    assert time.perf_counter() - started < 10.0  # without the limit: longer than anyone waits (2^60 steps)
    assert bits == [0, 1 << 2]  # the evil pattern finds nothing, the other still matches
    assert caplog.text.count("pattern evil: a search ran out of time") == 1  # once per pattern


def test_rasa_regex_entries_become_patterns_beside_the_configs(tmp_path: Path) -> None:
    (tmp_path / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: track\n  examples: |\n    - where is [KX-48213](order_number)\n'
        "- regex: order_number\n  examples: |\n    - [A-Z]{2}-\\d{5}\n    - \\d{8}\n"
        "- regex: account\n  examples: |\n    - ACC\\d+\n",
        encoding="utf-8",
    )
    config = tiny_config(data={"format": "rasa", "dir": str(tmp_path), "train": "nlu.yml", "dev": None, "test": None})
    splits = read_splits(config.data)
    assert splits.regexes == {"order_number": ["[A-Z]{2}-\\d{5}", "\\d{8}"], "account": ["ACC\\d+"]}
    patterns = pattern_set({"account": PatternSource(regex=r"ACC-\d+", slot="account")}, splits.regexes)
    assert [(p.name, p.expression, p.slot) for p in patterns.patterns] == [
        ("account", r"ACC-\d+", "account"),  # the config's wins over the data's of the same name
        ("order_number", "(?:[A-Z]{2}-\\d{5})|(?:\\d{8})", None),
    ]


def test_patterns_are_saved_with_the_lists_and_read_back(tmp_path: Path) -> None:
    patterns = PatternSet([Pattern("order", ORDER, "order_number")])
    save_gazetteers(tmp_path, GazetteerSet([], None, patterns))
    saved = json.loads((tmp_path / "gazetteers" / "index.json").read_text(encoding="utf-8"))
    assert saved == {"lists": [], "patterns": [{"name": "order", "regex": ORDER, "slot": "order_number"}]}
    again = load_gazetteers(tmp_path, [])
    assert again.patterns.to_json() == patterns.to_json() and again.num_features == 2
    assert load_gazetteers(tmp_path / "none", []).num_features == 0  # a model without lists or patterns


def test_a_model_trained_with_an_extractor_fills_its_slot(tmp_path: Path) -> None:
    config = tiny_config(
        patterns={"booking_code": {"regex": r"\bBK\d{4}\b", "slot": "booking_code"}}, training={"epochs": 1}
    )
    train(config, tmp_path / "run")
    parsed = Predictor.load(tmp_path / "run", "cpu", values=False).parse("show me flights for BK1234 please")
    code = [slot for slot in parsed["slots"] if slot["slot"] == "booking_code"]
    assert code == [{"slot": "booking_code", "text": "BK1234", "start": 20, "end": 26, "confidence": 1.0}]
    assert parsed["tags"][parsed["tokens"].index("BK1234")] == "B-booking_code"
