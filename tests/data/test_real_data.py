"""Real span datasets as a new user brings them (issue 44): validate and train handle every span
problem alike (one SpanPolicy), punctuation at a span's edge is trimmed, records without tokens are
counted, data without intents trains with the defaults, and config/data mismatches stop a run before
it writes anything."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.data.alignment import SpanPolicy
from slotfill.data.formats import detect_format, read_split
from slotfill.data.validate import validate
from slotfill.errors import DataError

runner = CliRunner()


def spans_file(path: Path, records: list[dict | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def slot(text: str, value: str, label: str, occurrence: int = 0) -> dict:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(value, start + 1)
    return {"start": start, "end": start + len(value), "slot": label}


BOOKING = "a table for today in an hour."
RECORDS = [
    {"text": "book it at 5:30 pm.", "slots": [slot("book it at 5:30 pm.", "5:30 pm.", "time")]},  # edge period
    {"text": BOOKING, "slots": [slot(BOOKING, "today in an hour.", "date"), slot(BOOKING, "an hour", "time")]},
    {"text": "fly to St. Louis, please", "slots": [slot("fly to St. Louis, please", "St. Louis,", "city")]},
    {"text": "", "slots": []},  # no token: counted, never silently dropped
    {"text": "   ", "slots": []},
    {"text": "to the U.S. now", "slots": [slot("to the U.S. now", "U.S.", "country")]},  # a period inside: kept
]


def test_validate_and_train_read_every_span_problem_alike(tmp_path: Path) -> None:
    path = spans_file(tmp_path / "train.jsonl", RECORDS)
    problems = [(p.kind, p.where.removeprefix(str(path))) for p in validate(path)]
    assert problems == [
        ("span_punctuation", ":1"), ("overlapping_spans", ":2"), ("span_punctuation", ":2"),
        ("span_punctuation", ":3"), ("empty", ":4"), ("empty", ":5"),
    ]  # fmt: skip
    examples = read_split(path)  # what training reads, with the same default policy
    assert [(e.tokens, e.tags) for e in examples] == [
        (("book", "it", "at", "5:30", "pm", "."), ("O", "O", "O", "B-time", "I-time", "O")),
        (("a", "table", "for", "today", "in", "an", "hour", "."), ("O", "O", "O", "B-date", "I-date", "I-date", "I-date", "O")),
        (("fly", "to", "St.", "Louis", ",", "please"), ("O", "O", "B-city", "I-city", "O", "O")),
        (("to", "the", "U.S.", "now"), ("O", "O", "B-country", "O")),
    ]  # fmt: skip


def test_training_warns_once_with_counts_and_examples(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = spans_file(tmp_path / "train.jsonl", RECORDS)
    with caplog.at_level(logging.WARNING, logger="slotfill"):
        read_split(path)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "1 slot spans in 4 sentences overlap another slot in the annotation itself, the longer of the two kept "
        f"(data.overlapping: longer): {path}:2: slot 'time' at characters 21-28 ('an hour') overlaps slot 'date' "
        "('today in an hour.') in the annotation itself; only 'today in an hour.', the longer, is kept; "
        "3 slot spans in 4 sentences have punctuation at their edge, trimmed (data.span_punctuation: trim): "
        f"{path}:1: slot 'time' ('5:30 pm .') has punctuation at its edge; trimmed to '5:30 pm';"
    )
    assert f"2 records without any token left out ({path}:4: a record without any token (left out); " in warnings[0]


def test_what_validate_calls_an_error_stops_training_too(tmp_path: Path) -> None:
    path = spans_file(
        tmp_path / "train.jsonl", [RECORDS[0], {"text": "to x", "slots": [{"start": 3, "end": 9, "slot": "c"}]}]
    )
    assert [(p.kind, p.message) for p in validate(path)][0] == (
        "data",
        "slot 'c' at characters 3-9 is outside the text, empty or only spaces (an error: training stops at it)",
    )
    with pytest.raises(DataError, match=r":2: slot 'c' at characters 3-9 is outside the text"):
        read_split(path)


def test_each_policy_for_overlaps_and_edge_punctuation(tmp_path: Path) -> None:
    path = spans_file(tmp_path / "train.jsonl", RECORDS[:3])
    kept = read_split(path, policy=SpanPolicy(span_punctuation="keep"))
    assert kept[0].tags == ("O", "O", "O", "B-time", "I-time", "I-time")  # the period stays in the slot
    assert len(read_split(path, policy=SpanPolicy(overlapping="skip_sentence"))) == 2
    with pytest.raises(DataError, match=r":1: slot 'time' \('5:30 pm \.'\) has punctuation at its edge$"):
        read_split(path, policy=SpanPolicy(span_punctuation="error"))
    with pytest.raises(DataError, match=r":2: slot 'time' at characters 21-28 \('an hour'\) overlaps slot 'date'"):
        read_split(path, policy=SpanPolicy(overlapping="error"))


def test_token_formats_trim_edge_punctuation_too(tmp_path: Path) -> None:
    path = tmp_path / "train.conll"
    path.write_text("at O\n5:30 B-time\npm I-time\n. I-time\n\n", encoding="utf-8")
    assert read_split(path)[0].tags == ("O", "B-time", "I-time", "O")


def test_a_whitespace_only_span_names_its_characters_in_order(tmp_path: Path) -> None:
    path = spans_file(tmp_path / "t.jsonl", [{"text": "to    x", "slots": [{"start": 4, "end": 6, "slot": "c"}]}])
    with pytest.raises(DataError, match=r"slot 'c' at characters 4-6 is outside the text, empty or only spaces"):
        read_split(path)


def test_a_broken_first_line_does_not_decide_the_format(tmp_path: Path) -> None:
    path = spans_file(tmp_path / "train.jsonl", ['{"text": "broken', *RECORDS[:1], *RECORDS[2:3]])
    assert detect_format(path) == "spans"
    problems = validate(path)
    assert [(p.kind, p.where.removeprefix(str(path))) for p in problems] == [
        ("data", ":1"), ("span_punctuation", ":2"), ("span_punctuation", ":3"),
    ]  # fmt: skip


def test_problems_name_file_lines_after_a_skipped_record(tmp_path: Path) -> None:
    """tokenisation problems named the record's index: file line 4 was reported as :2."""
    path = tmp_path / "train.jsonl"
    lines = ['{"tokens": ["a"], "tags": ["O"]}', "not json", "", '{"tokens": ["lo-fi"], "tags": ["B-genre"]}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = [(p.kind, p.where.removeprefix(str(path))) for p in validate(path)]
    assert problems == [("data", ":2"), ("tokenisation", ":4")]


def test_a_line_that_is_not_utf8_is_one_problem_and_validate_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    good = json.dumps({"text": "to boston", "slots": [slot("to boston", "boston", "city")]}).encode()
    path.write_bytes(good + b"\n" + b'{"text": "caf\xe9", "slots": []}\n' + good.replace(b"boston", b"denver") + b"\n")
    problems = [(p.kind, p.where.removeprefix(str(path)), p.message) for p in validate(path)]
    assert problems == [("data", ":2", "not UTF-8 (byte 0xe9 at column 14) (an error: training stops at it)")]
    with pytest.raises(DataError, match=r":2: not UTF-8"):
        read_split(path)


def test_convert_reports_every_record_it_does_not_write(tmp_path: Path) -> None:
    source = spans_file(tmp_path / "in.jsonl", [*RECORDS, {"text": "go", "slots": []}])
    result = runner.invoke(app, ["data", "convert", str(source), str(tmp_path / "out.conll")])
    assert result.exit_code == 0, result.output
    assert "5 sentences written to" in result.stderr
    assert (
        f"2 records not written:\n  {source}:4: a record without any token (left out)\n  {source}:5:" in result.stderr
    )
    assert "3 slot spans in 5 sentences have punctuation at their edge, trimmed" in result.stderr


INTENTLESS = [{"text": f"from {a} to {b}", "slots": [slot(f"from {a} to {b}", b, "to")]} for a, b in
              [("boston", "denver"), ("paris", "rome"), ("oslo", "lima"), ("kyiv", "riga")] * 6]  # fmt: skip


def intentless_config(tmp_path: Path, **training: object) -> Path:
    spans_file(tmp_path / "train.jsonl", INTENTLESS)
    spans_file(tmp_path / "dev.jsonl", INTENTLESS[:8])
    data = {"dir": str(tmp_path), "train": "train.jsonl", "dev": "dev.jsonl", "test": "dev.jsonl"}
    config = tmp_path / "c.yaml"
    model = {"encoder": {"hidden_size": 8}, "chars": {"enabled": False}, "embedding": {"dim": 8}}
    config.write_text(json.dumps({"data": data, "training": {"epochs": 1, **training}, "model": model}))
    return config


def test_data_without_intents_trains_with_the_default_config_and_one_warning(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", str(intentless_config(tmp_path)), "--output", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "".join(result.stderr.split()).count("hasnointents:intentclassificationandout-of-scoperejectionareoff") == 1
    info = runner.invoke(app, ["info", str(tmp_path / "run")])
    assert "no intents (trained on slots only)" in info.stdout
    stats = runner.invoke(app, ["data", "stats", str(tmp_path)])
    assert "no intents (slots only)" in stats.stdout
    assert json.loads(runner.invoke(app, ["data", "stats", str(tmp_path), "--json"]).stdout)["has_intents"] is False


def test_a_monitor_that_needs_intents_fails_before_any_directory_is_written(tmp_path: Path) -> None:
    config = intentless_config(tmp_path, monitor="intent_accuracy")
    result = runner.invoke(app, ["train", str(config), "--output", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "training.monitor: intent_accuracy, but data.train" in result.stderr and "has no intents" in result.stderr
    assert not (tmp_path / "run").exists()
