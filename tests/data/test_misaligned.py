"""Annotated spans that do not fall on token boundaries, as real data has them (possessive 's,
"6:30 a.m" annotated without its final period): every policy, validate's list, training's warning."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.data.readers import read_split
from slotfill.data.spans import AnnotatedText, to_tokens
from slotfill.data.validate import validate
from slotfill.errors import DataError

FRIDAY = AnnotatedText("give me friday's weather", [(8, 14, "datetime")], "weather", "f.jsonl:1")
ALARM = AnnotatedText("wake me at 6:30 a.m. please", [(11, 19, "time")], "alarm", "f.jsonl:2")


@pytest.mark.parametrize(
    "policy,expected",
    [
        ("expand", (["O", "O", "B-datetime", "O"], ["O", "O", "O", "B-time", "I-time", "O"])),
        ("contract", (["O", "O", "O", "O"], ["O", "O", "O", "B-time", "O", "O"])),
        ("skip_sentence", ([], [])),
    ],
)
def test_each_policy_on_a_span_inside_a_token(policy: str, expected: tuple[list[str], list[str]]) -> None:
    results = [to_tokens(item, policy) for item in (FRIDAY, ALARM)]
    assert tuple(tags for _, tags, _ in results) == expected
    assert [p.text for _, _, found in results for p in found] == ["friday", "6:30 a.m"]
    assert to_tokens(FRIDAY, policy)[2][0].tokens == "give | me | friday's | weather"


def test_the_error_policy_names_file_line_and_text() -> None:
    with pytest.raises(DataError, match=r"f.jsonl:1: slot 'datetime' at characters 8-14 \('friday'\) does not fall"):
        to_tokens(FRIDAY, "error")


def spans_file(path: Path) -> Path:
    records = [
        {
            "text": item.text,
            "intent": item.intent,
            "slots": [{"start": s, "end": e, "slot": label} for s, e, label in item.spans],
        }
        for item in (FRIDAY, ALARM)
    ] + [
        {
            "text": "what is the weather on monday",
            "intent": "weather",
            "slots": [{"start": 23, "end": 29, "slot": "datetime"}],
        }
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_validate_lists_every_misaligned_span(tmp_path: Path) -> None:
    path = spans_file(tmp_path / "train.jsonl")
    problems = [p for p in validate(path) if p.kind == "misaligned"]
    assert [(p.where, p.message.split(" does not")[0]) for p in problems] == [
        (f"{path}:1", "slot 'datetime' at characters 8-14 ('friday')"),
        (f"{path}:2", "slot 'time' at characters 11-19 ('6:30 a.m')"),
    ]


def test_reading_expands_by_default_with_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = spans_file(tmp_path / "train.jsonl")
    with caplog.at_level(logging.WARNING, logger="slotfill"):
        examples = read_split(path)
    assert [e.tags for e in examples][:2] == [("O", "O", "B-datetime", "O"), ("O", "O", "O", "B-time", "I-time", "O")]
    warnings = [r.getMessage() for r in caplog.records if "token boundaries" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].startswith("2 slot spans in 3 utterances do not fall on token boundaries")
    assert "'friday' in give | me | friday's | weather" in warnings[0]


def test_training_runs_on_misaligned_data_and_a_bad_policy_is_a_config_error(tmp_path: Path) -> None:
    from slotfill.config import config_from_dict
    from slotfill.errors import ConfigError

    data = {"format": "spans", "dir": str(tmp_path), "train": "train.jsonl", "dev": None, "test": None}
    spans_file(tmp_path / "train.jsonl")
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({"data": data, "training": {"epochs": 1}, "model": {"encoder": {"hidden_size": 8}}}))
    result = CliRunner().invoke(app, ["train", str(config), "--output", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "2 slot spans in 3 utterances do not fall on token boundaries" in result.stderr
    with pytest.raises(ConfigError, match="misaligned"):
        config_from_dict({"data": {**data, "misaligned": "ignore"}})


def test_evaluate_scores_gold_spans_inside_a_token_as_the_tokens_they_touch(trained_run: Path, tmp_path: Path) -> None:
    path = spans_file(tmp_path / "test.jsonl")
    result = CliRunner().invoke(app, ["evaluate", str(trained_run), str(path), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["gold_spans_expanded"] == 2 and metrics["sentences"] == 3
