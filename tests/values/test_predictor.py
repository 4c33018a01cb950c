"""Values in parses: a model keeps its `values:` section, lists added at prediction time resolve,
and a parse's values do not depend on the batch it is in."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from slotfill.features.gazetteer import GazetteerUpdate
from slotfill.predict import Predictor

from ..conftest import tiny_config

NOW = "2026-12-01T09:00:00+00:00"


def test_a_model_directory_keeps_its_values_section(tmp_path: Path) -> None:
    from slotfill.training.loop import train

    rules = {"*date*": "date", "*": "none"}  # dates only: cities stay without values
    train(tiny_config(values=rules, training={"epochs": 1}), tmp_path / "run")
    saved = yaml.safe_load((tmp_path / "run" / "model" / "config.yaml").read_text())
    assert saved["values"] == rules
    predictor = Predictor.load(tmp_path / "run", "cpu")
    assert predictor.values is not None and predictor.values.rules == rules
    assert predictor.values.resolver_of("toloc.city_name") == "none"
    assert predictor.values.resolver_of("depart_date.month_name") == "date"


def test_a_list_added_at_prediction_time_resolves(gazetteer_run: Path, tmp_path: Path) -> None:
    predictor = Predictor.load(gazetteer_run, "cpu")
    now = predictor.reference_time(NOW)
    assert (
        predictor.values is not None
        and predictor.values.value("city", "Zorbania Heights", now, "toloc.city_name") is None
    )
    predictor.update_gazetteers([GazetteerUpdate("city", (("Zorbania Heights", "Zorbania"),))])
    assert predictor.values.value("city", "zorbania", now, "toloc.city_name") == {
        "kind": "city",
        "name": "Zorbania Heights",
        "country": None,
        "codes": [],
    }


def test_values_are_the_same_alone_and_in_any_batch(trained_run: Path) -> None:
    texts = [
        "leave Taipei on November 2nd",
        "fly from boston to denver tomorrow",
        "hi",
        "arrive Taipei on November 2nd",
    ] * 3
    predictor = Predictor.load(trained_run, "cpu", batch_size=5)
    alone = [predictor.parse(text, now=NOW) for text in texts]
    assert list(predictor.parse_many(texts, now=NOW)) == alone
    assert alone[0]["frame"]["depart_date"] == {"kind": "date", "date": "2027-11-02"}


def test_without_values_a_parse_is_the_model_s_alone(trained_run: Path) -> None:
    with_values = Predictor.load(trained_run, "cpu").parse("leave Taipei on November 2nd", now=NOW)
    for bare in (
        Predictor.load(trained_run, "cpu", values=False).parse("leave Taipei on November 2nd"),
        Predictor.load(trained_run, "cpu").parse("leave Taipei on November 2nd", values=False),
    ):
        assert "frame" not in bare
        assert bare["slots"] == [{k: v for k, v in s.items() if k != "value"} for s in with_values["slots"]]


@pytest.mark.parametrize("now", ["soon", "2026-02-30"])
def test_a_bad_now_is_refused_before_tagging(trained_run: Path, now: str) -> None:
    from slotfill.errors import ConfigError

    with pytest.raises(ConfigError, match=rf"^now {now!r}: not an ISO 8601 date and time"):
        Predictor.load(trained_run, "cpu").parse("hi", now=now)
