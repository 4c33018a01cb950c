"""Values as people type them (tests/values/typed.tsv, slotfill.values.typed): every row resolves to
exactly its value under its `values:` options; no date contradicts the weekday or the direction
its text names (generated expressions); the date order defaults to the locale's."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotfill.values.dates import WEEKDAYS
from slotfill.values.kinds import check_value
from slotfill.values.resolve import ValueResolver
from slotfill.values.typed import locale_date_order

TABLE = Path(__file__).with_name("typed.tsv")
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)  # a Monday


def typed_rows() -> list[tuple[str, str, dict, dict | None]]:
    found = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            resolver, text, options, expected = line.split("\t")
            found.append(
                (
                    resolver,
                    text,
                    {} if options == "-" else json.loads(options),
                    None if expected == "-" else json.loads(expected),
                )
            )
    return found


@pytest.mark.parametrize(
    ("name", "text", "options", "expected"), typed_rows(), ids=lambda x: x if isinstance(x, str) else ""
)
def test_typed_expression(name: str, text: str, options: dict, expected: dict | None) -> None:
    found = ValueResolver({"date_order": "dmy", **options}).value(name, text, NOW)
    assert found == expected
    if found is not None:
        assert check_value(found) is found


UNITS = {"day": 1, "days": 1, "week": 7, "weeks": 7}
NUMBER = st.integers(min_value=1, max_value=40)
TODAY = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@settings(max_examples=300, deadline=None)
@given(
    today=TODAY,
    amount=NUMBER,
    unit=st.sampled_from(sorted(UNITS)),
    form=st.sampled_from(["ago", "in", "from today", "from now", "before today"]),
)
def test_a_relative_date_goes_the_way_its_text_says(today: date, amount: int, unit: str, form: str) -> None:
    text = f"in {amount} {unit}" if form == "in" else f"{amount} {unit} {form}"
    now = datetime.combine(today, datetime.min.time(), timezone.utc)
    found = ValueResolver({}).value("date", text, now)
    if found is None:
        return
    expected = today + timedelta(days=amount * UNITS[unit] * (-1 if form in ("ago", "before today") else 1))
    assert found == {"kind": "date", "date": expected.isoformat()}, text


@settings(max_examples=300, deadline=None)
@given(
    today=TODAY,
    weekday=st.sampled_from(sorted(WEEKDAYS)),
    which=st.sampled_from(["next", "last", "this", "coming", ""]),
)
def test_a_weekday_is_of_that_weekday_and_on_its_side_of_today(today: date, weekday: str, which: str) -> None:
    now = datetime.combine(today, datetime.min.time(), timezone.utc)
    found = ValueResolver({}).value("date", f"{which} {weekday}".strip(), now)
    assert found is not None and found["kind"] == "date"
    day = date.fromisoformat(found["date"])
    assert day.weekday() == WEEKDAYS[weekday]
    assert (day < today) if which == "last" else (day > today)
    assert abs((day - today).days) <= 7


@settings(max_examples=200, deadline=None)
@given(today=TODAY, weekday=st.sampled_from(sorted(WEEKDAYS)), day=st.integers(min_value=1, max_value=31))
def test_a_weekday_with_a_day_of_the_month_never_contradicts_either(today: date, weekday: str, day: int) -> None:
    now = datetime.combine(today, datetime.min.time(), timezone.utc)
    suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}.get(day, "th")
    found = ValueResolver({}).value("date", f"{weekday} the {day}{suffix}", now)
    if found is not None:
        named = date.fromisoformat(found["date"])
        assert named.weekday() == WEEKDAYS[weekday] and named.day == day and named >= today


def test_the_date_order_defaults_to_the_locales(monkeypatch: pytest.MonkeyPatch) -> None:
    import locale

    monkeypatch.setattr(locale, "nl_langinfo", lambda item: "%d/%m/%y")
    assert locale_date_order() == "dmy"
    assert ValueResolver({}).value("date", "03/04", NOW) == {"kind": "date", "date": "2027-04-03"}
    monkeypatch.setattr(locale, "nl_langinfo", lambda item: "%m/%d/%Y")
    assert locale_date_order() == "mdy"
    assert ValueResolver({}).value("date", "03/04", NOW) == {"kind": "date", "date": "2027-03-04"}
    assert ValueResolver({"date_order": "dmy"}).value("date", "03/04", NOW) == {"kind": "date", "date": "2027-04-03"}
