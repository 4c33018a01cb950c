"""The table of expected values (tests/values/expressions.tsv): every row resolves to exactly its
value, or to none, against a fixed reference time."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from slotfill.values.kinds import check_value
from slotfill.values.resolve import ValueResolver

TABLE = Path(__file__).with_name("expressions.tsv")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)  # a Tuesday


def rows() -> list[tuple[str, str, dict | None]]:
    found = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            resolver, text, expected = line.split("\t")
            found.append((resolver, text, None if expected == "-" else json.loads(expected)))
    return found


def test_the_table_is_large_and_covers_every_resolver() -> None:
    table = rows()
    assert len(table) >= 150
    assert {r for r, _, _ in table} >= {"date", "time", "datetime", "number", "money", "percent", "level"}
    assert {v["kind"] for _, _, v in table if v} == {
        "date", "date_range", "time", "time_range", "datetime", "datetime_range", "number", "money",
        "percent", "temperature", "duration", "city", "airport", "state",
    }  # fmt: skip


@pytest.fixture(scope="module")
def resolver() -> ValueResolver:
    return ValueResolver({"date_order": "mdy"})  # whatever the machine's locale


@pytest.mark.parametrize(("name", "text", "expected"), rows(), ids=lambda x: x if isinstance(x, str) else "")
def test_expression(resolver: ValueResolver, name: str, text: str, expected: dict | None) -> None:
    found = resolver.value(name, text, NOW)
    assert found == expected
    if found is not None:
        assert check_value(found) is found
