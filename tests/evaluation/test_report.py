"""`evaluate --report`: the error file, the confusion tables, the page (driven in headless Chromium)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.data.example import Example
from slotfill.data.formats import read_split
from slotfill.evaluation.report import MISSED, SPURIOUS, classify, slot_confusion
from slotfill.text import bio

from ..conftest import DEMO
from ..serve.test_serve import chromium

runner = CliRunner()


def spans(*items: tuple[str, int, int]) -> list[bio.Span]:
    return [bio.Span(*item) for item in items]


def test_errors_are_classified() -> None:
    gold = spans(("city", 0, 1), ("date", 2, 4), ("time", 5, 6), ("airline", 7, 8))
    predicted = spans(("city", 0, 1), ("date", 2, 3), ("day", 5, 6), ("meal", 9, 10))
    assert classify(gold, predicted) == [
        {"kind": "wrong boundary", "gold": "date", "predicted": "date"},
        {"kind": "wrong label", "gold": "time", "predicted": "day"},
        {"kind": "missed", "gold": "airline"},
        {"kind": "spurious", "predicted": "meal"},
    ]
    assert classify(gold, gold) == []


def test_confusion_counts_aligned_missed_and_spurious() -> None:
    example = Example(tuple("abcdefgh"), ("B-city", "O", "B-date", "I-date", "O", "B-time", "O", "O"))
    counts = slot_confusion([example], [["B-city", "O", "B-date", "O", "O", "B-day", "O", "B-meal"]])
    assert counts == {("city", "city"): 1, ("date", "date"): 1, ("time", "day"): 1, (SPURIOUS, "meal"): 1}
    counts = slot_confusion([example], [["O"] * 8])
    assert counts == {("city", MISSED): 1, ("date", MISSED): 1, ("time", MISSED): 1}


@pytest.fixture(scope="module")
def report(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A report on data/demo/dev with some errors planted (gold labels swapped on a few sentences)."""
    directory = tmp_path_factory.mktemp("report")
    examples = read_split(DEMO / "dev")[:120]
    planted = [
        Example(e.tokens, tuple(t.replace("toloc", "fromloc") for t in e.tags), e.intent if i % 7 else "atis_other")
        if i % 5 == 0
        else e
        for i, e in enumerate(examples)
    ]
    data = directory / "dev.jsonl"
    data.write_text(
        "".join(json.dumps({"tokens": e.tokens, "tags": e.tags, "intent": e.intent}) + "\n" for e in planted)
    )
    result = runner.invoke(app, ["evaluate", str(trained_run), str(data), "--json", "--report", str(directory / "out")])
    assert result.exit_code == 0, result.output
    return directory / "out", json.loads(result.stdout)


def test_the_report_files(report: tuple[Path, dict]) -> None:
    out, metrics = report
    assert sorted(p.name for p in out.iterdir()) == [
        "confusion.csv",
        "errors.jsonl",
        "intent_confusion.csv",
        "predictions.jsonl",
        "report.html",
    ]
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(predictions) == metrics["sentences"] == 120
    assert len(errors) == round((1 - metrics["sentence_accuracy"]) * metrics["sentences"]) >= 15
    kinds = {k["kind"] for e in errors for k in e["errors"]}
    assert {"wrong label", "intent"} <= kinds
    first = errors[0]
    for side in ("gold", "predicted"):
        for slot in first[side]["slots"]:
            assert first["text"][slot["start"] : slot["end"]] == slot["text"]
    assert all("confidence" in s for p in predictions for s in p["predicted"]["slots"])
    with (out / "confusion.csv").open() as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    table = {row[0]: dict(zip(header[1:], map(int, row[1:]))) for row in rows[1:]}
    assert header[0] == "gold slot" and table["fromloc.city_name"]["toloc.city_name"] >= 15  # the planted swaps
    with (out / "intent_confusion.csv").open() as handle:
        intents = list(csv.reader(handle))
    assert intents[0][0] == "gold intent" and "atis_other" in [row[0] for row in intents[1:]]


def test_the_page_in_headless_chromium(report: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory) -> None:
    from selenium.webdriver.common.by import By

    out, metrics = report
    page = (out / "report.html").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page) and "<script" not in page  # nothing to fetch
    screenshot = tmp_path_factory.mktemp("screenshot") / "report.png"
    with chromium() as browser:
        browser.set_window_size(1300, 2000)
        browser.get((out / "report.html").as_uri())
        figures = {f.get_attribute("id"): f for f in browser.find_elements(By.TAG_NAME, "figure")}
        assert {"plot-training", "plot-f1", "plot-confusion", "plot-reliability"} <= figures.keys()
        assert all(f.find_elements(By.TAG_NAME, "svg") and f.size["height"] > 100 for f in figures.values())
        rows = browser.find_elements(By.CSS_SELECTOR, "#errors tr.error")
        assert len(rows) == round((1 - metrics["sentence_accuracy"]) * metrics["sentences"])
        assert rows[0].find_elements(By.CSS_SELECTOR, "mark.gold") and rows[0].find_elements(
            By.CSS_SELECTOR, "mark.predicted"
        )
        assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
        browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000


def test_stratified_folds_cover_train_once_with_each_intent_in_proportion() -> None:
    from slotfill.training.cv import stratified_folds

    examples = read_split(DEMO / "train")
    folds = stratified_folds(examples, 4, seed=3)
    assert sorted(i for fold in folds for i in fold) == list(range(len(examples)))
    assert stratified_folds(examples, 4, seed=3) == folds and stratified_folds(examples, 4, seed=4) != folds
    for intent in {e.intent for e in examples}:
        counts = [sum(examples[i].intent == intent for i in fold) for fold in folds]
        assert max(counts) - min(counts) <= 1


@pytest.mark.slow
def test_cross_validation_reports_mean_and_spread(tmp_path: Path) -> None:
    from ..conftest import tiny_config

    config = tmp_path / "cv.yaml"
    # cross-validates the 300 sentences of data/demo/dev (test drives early stopping): three short runs
    config.write_text(tiny_config(training={"epochs": 2}, data={"train": "dev", "dev": "test", "test": None}).to_yaml())
    result = runner.invoke(app, ["cv", str(config), "--folds", "3", "--output", str(tmp_path / "cv"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    folds = summary["folds"]
    assert len(folds) == 3 and sum(f["sentences"] for f in folds) == 300
    for name in ("slot_f1", "intent_accuracy", "sentence_accuracy"):
        values = [f[name] for f in folds]
        assert summary["summary"][name]["mean"] == pytest.approx(sum(values) / 3)
    predictions = (tmp_path / "cv" / "report" / "predictions.jsonl").read_text().splitlines()
    assert len(predictions) == 300


def test_every_offset_the_report_writes_indexes_the_original_utterance(trained_run: Path, tmp_path: Path) -> None:
    """`text` was the tokens joined by spaces while gold offsets indexed the original text: scoring
    the file's offsets gave 65.0 where slotfill said 89.3 (issue 44)."""
    import unicodedata

    texts = [
        ("i want to fly from boston to denver, please.", [("boston", "fromloc.city_name"), ("denver,", "toloc.city_name")]),
        (unicodedata.normalize("NFD", "flights to Reykjavík on monday"), [("monday", "depart_date.day_name")]),
        ("show me friday's flights to dallas", [("friday", "depart_date.day_name"), ("dallas", "toloc.city_name")]),
    ]  # fmt: skip
    records = []
    for text, slots in texts:
        found = [
            {"start": text.index(value), "end": text.index(value) + len(value), "slot": label} for value, label in slots
        ]
        records.append(json.dumps({"text": text, "intent": "atis_flight", "slots": found}, ensure_ascii=False))
    data = tmp_path / "test.jsonl"
    data.write_text("\n".join(records) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(trained_run), str(data), "--report", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    for name in ("predictions.jsonl", "errors.jsonl"):
        for line in (tmp_path / "report" / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            assert row["text"] == texts[row["sentence"] - 1][0]  # the original utterance, NFD and all
            for side in ("gold", "predicted"):
                for found in row[side]["slots"]:
                    assert row["text"][found["start"] : found["end"]] == found["text"]
    rows = [json.loads(line) for line in (tmp_path / "report" / "predictions.jsonl").read_text().splitlines()]
    assert [[s["text"] for s in row["gold"]["slots"]] for row in rows] == [
        ["boston", "denver"],  # the comma at the span's edge trimmed
        ["monday"],
        ["friday's", "dallas"],  # a span inside a token: the token it touches
    ]
