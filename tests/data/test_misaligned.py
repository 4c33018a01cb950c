"""Annotated spans that do not fall on token boundaries, as real data has them (possessive 's,
"6:30 a.m" annotated without its final period): every policy, validate's list, training's warning."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.data.alignment import SpanPolicy, to_tokens
from slotfill.data.formats import read_split
from slotfill.data.spans import AnnotatedText
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
    results = [to_tokens(item, SpanPolicy(policy)) for item in (FRIDAY, ALARM)]
    assert tuple(tags for _, tags, _ in results) == expected
    assert [p.text for _, _, found in results for p in found] == ["friday", "6:30 a.m"]
    assert to_tokens(FRIDAY, SpanPolicy(policy))[2][0].tokens == "give | me | friday's | weather"


def test_the_error_policy_names_file_line_and_text() -> None:
    with pytest.raises(DataError, match=r"f.jsonl:1: slot 'datetime' at characters 8-14 \('friday'\) does not fall"):
        to_tokens(FRIDAY, SpanPolicy("error"))


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
    assert len(warnings) == 1 and warnings[0].startswith("2 slot spans in 3 sentences do not fall on token boundaries")
    assert "'friday') does not fall on token boundaries (tokens: give | me | friday's | weather)" in warnings[0]


def test_training_runs_on_misaligned_data_and_a_bad_policy_is_a_config_error(tmp_path: Path) -> None:
    from slotfill.config import config_from_dict
    from slotfill.errors import ConfigError

    data = {"format": "spans", "dir": str(tmp_path), "train": "train.jsonl", "dev": None, "test": None}
    spans_file(tmp_path / "train.jsonl")
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({"data": data, "training": {"epochs": 1}, "model": {"encoder": {"hidden_size": 8}}}))
    result = CliRunner().invoke(app, ["train", str(config), "--output", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "2 slot spans in 3 sentences do not fall on token boundaries" in result.stderr
    with pytest.raises(ConfigError, match="misaligned"):
        config_from_dict({"data": {**data, "misaligned": "ignore"}})


def test_evaluate_scores_gold_spans_inside_a_token_as_the_tokens_they_touch(trained_run: Path, tmp_path: Path) -> None:
    path = spans_file(tmp_path / "test.jsonl")
    result = CliRunner().invoke(app, ["evaluate", str(trained_run), str(path), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["gold_spans_expanded"] == 2 and metrics["sentences"] == 3


# real-shaped cases of the multilingual task-oriented dialog data (Schuster et al. 2019), as a new user meets them
ALARMS = AnnotatedText(  # English test: the times of a list, "at 5:00" and "5:10"
    "please schedule the alarm to go off at 5:00,5:10, and 5:20 AM every day",
    [(36, 43, "datetime"), (44, 48, "datetime"), (54, 71, "datetime")],
    "create_alarm",
    "test.jsonl:273",
)
MIKEEL = AnnotatedText(  # Spanish dev: a space lost between "Mike" and "el"; both slots cut the token
    "recuérdame el cumpleaños de Mikeel 6 de Agosto",
    [(14, 32, "todo"), (32, 46, "datetime")],
    "create_reminder",
    "dev.jsonl:509",
)


def test_a_list_of_times_falls_on_tokens() -> None:
    tokens, tags, found = to_tokens(ALARMS, SpanPolicy("error"))
    assert list(zip(tokens, tags))[7:] == [
        ("at", "B-datetime"), ("5:00", "I-datetime"), (",", "O"), ("5:10", "B-datetime"), (",", "O"), ("and", "O"),
        ("5:20", "B-datetime"), ("AM", "I-datetime"), ("every", "I-datetime"), ("day", "I-datetime"),
    ]  # fmt: skip
    assert found == []


@pytest.mark.parametrize(
    "policy,tags,reasons",
    [
        ("expand", ["O", "O", "B-todo", "I-todo", "I-todo", "B-datetime", "I-datetime", "I-datetime"],
         ["boundaries", "boundaries", "overlap"]),
        ("contract", ["O", "O", "B-todo", "I-todo", "O", "B-datetime", "I-datetime", "I-datetime"],
         ["boundaries", "boundaries"]),
        ("skip_sentence", [], ["boundaries"]),
    ],
)  # fmt: skip
def test_spans_that_share_a_token_once_aligned_follow_the_policy(policy: str, tags: list, reasons: list) -> None:
    tokens, got, found = to_tokens(MIKEEL, SpanPolicy(policy))
    assert tokens == (["recuérdame", "el", "cumpleaños", "de", "Mikeel", "6", "de", "Agosto"] if tags else [])
    assert got == tags and [p.reason for p in found] == reasons
    if policy == "expand":
        assert found[2].message() == (
            "slot 'datetime' at characters 32-46 ('el 6 de Agosto') shares a token with an earlier slot once both "
            "fall on tokens (tokens: recuérdame | el | cumpleaños | de | Mikeel | 6 | de | Agosto); kept as '6 de Agosto'"
        )


def test_a_span_left_no_token_is_dropped_and_counted() -> None:
    item = AnnotatedText("call Mikeel now", [(5, 9, "name"), (9, 11, "surname")], None, "f.jsonl:3")
    tokens, tags, found = to_tokens(item, SpanPolicy("expand"))
    assert (tags, [(p.label, p.reason, p.kept) for p in found]) == (
        ["O", "B-name", "O"],
        [("name", "boundaries", None), ("surname", "boundaries", None), ("surname", "overlap", "")],
    )
    assert found[2].message().endswith("; dropped (no token left)")


OVERLAPPING = AnnotatedText(  # a time inside a date phrase, as real booking data annotates it
    "book it for today in an hour", [(12, 28, "date"), (21, 28, "time")], None, "f.jsonl:4"
)


def test_spans_that_overlap_in_the_annotation_keep_the_longer_by_default() -> None:
    tokens, tags, found = to_tokens(OVERLAPPING, SpanPolicy())
    assert tags == ["O", "O", "O", "B-date", "I-date", "I-date", "I-date"]
    assert [(p.reason, p.label, p.text, p.kept) for p in found] == [
        ("overlapping", "time", "an hour", "today in an hour")
    ]
    assert found[0].message() == (
        "slot 'time' at characters 21-28 ('an hour') overlaps slot 'date' ('today in an hour') in the annotation "
        "itself; only 'today in an hour', the longer, is kept"
    )


def test_spans_that_overlap_in_the_annotation_follow_their_own_policy() -> None:
    assert to_tokens(OVERLAPPING, SpanPolicy(overlapping="skip_sentence"))[:2] == ([], [])
    for misaligned in ("expand", "contract", "skip_sentence", "error"):
        with pytest.raises(DataError, match=r"^f\.jsonl:4: slot 'time' at characters 21-28 \('an hour'\) overlaps slot 'date' \('today in an hour'\) in the annotation itself$"):  # fmt: skip
            to_tokens(OVERLAPPING, SpanPolicy(misaligned, overlapping="error"))


def real_shaped_file(path: Path) -> Path:
    """A spans file with one problem of each kind a real dataset has, and clean lines between."""

    def record(item: AnnotatedText) -> str:
        slots = [{"start": s, "end": e, "slot": label} for s, e, label in item.spans]
        return json.dumps({"text": item.text, "intent": item.intent, "slots": slots}, ensure_ascii=False)

    lines = [
        record(ALARMS),  # 1: clean (the comma rule)
        record(MIKEEL),  # 2: two spans inside a token, then sharing it
        '{"text": "broken',  # 3: bad JSON
        record(
            AnnotatedText("to new york city", [(3, 11, "city"), (7, 16, "city")], "x", "")
        ),  # 4: overlap as annotated
        record(AnnotatedText("to boston", [(3, 99, "city")], "x", "")),  # 5: outside the text
        record(FRIDAY),  # 6: inside a token
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_validate_lists_every_problem_of_every_kind_in_one_pass(tmp_path: Path) -> None:
    path = real_shaped_file(tmp_path / "train.jsonl")
    assert [(p.kind, p.where.removeprefix(str(path))) for p in validate(path)] == [
        ("data", ":3"), ("data", ":5"),
        ("misaligned", ":2"), ("misaligned", ":2"), ("overlap", ":2"), ("overlapping_spans", ":4"), ("misaligned", ":6"),
    ]  # fmt: skip
    messages = [p.message for p in validate(path) if p.kind == "data"]
    assert messages[1] == (
        "slot 'city' at characters 3-99 is outside the text, empty or only spaces (an error: training stops at it)"
    )


def test_training_takes_what_alignment_changed_with_the_default_policy_and_says_so(tmp_path: Path) -> None:
    lines = real_shaped_file(tmp_path / "all.jsonl").read_text(encoding="utf-8").splitlines()
    (tmp_path / "train.jsonl").write_text("\n".join(lines[:2] + lines[5:]) + "\n", encoding="utf-8")  # no bad records
    data = {"format": "spans", "dir": str(tmp_path), "train": "train.jsonl", "dev": None, "test": None}
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({"data": data, "training": {"epochs": 1}, "model": {"encoder": {"hidden_size": 8}}}))
    result = CliRunner().invoke(app, ["train", str(config), "--output", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output

    def unfolded(text: str) -> str:  # without the spaces and line breaks, wherever the console folded it
        return "".join(text.split())

    assert unfolded("3 slot spans in 3 sentences do not fall on token boundaries, expanded") in unfolded(result.stderr)
    assert unfolded(
        "1 slot spans in 3 sentences then share a token with an earlier slot, given the tokens left to them "
        f"(dropped where none is) (data.misaligned: expand): {tmp_path / 'train.jsonl'}:2: slot 'datetime' at "
        "characters 32-46 ('el 6 de Agosto') shares a token with an earlier slot once both fall on tokens (tokens: "
        "recuérdame | el | cumpleaños | de | Mikeel | 6 | de | Agosto); kept as '6 de Agosto'"
    ) in unfolded(result.stderr)
    examples = read_split(tmp_path / "train.jsonl")
    assert examples[1].tags == ("O", "O", "B-todo", "I-todo", "I-todo", "B-datetime", "I-datetime", "I-datetime")
