"""Slot values beyond the expression table: frames, the `values:` rules, lists with synonyms, the
reference time and its rules at year ends and on February 29, and text no resolver may fail on."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotfill.choices import DEFAULT_VALUE_RULES, VALUE_RESOLVERS
from slotfill.config import config_from_dict
from slotfill.errors import ConfigError
from slotfill.features.gazetteer import Gazetteer, GazetteerSet
from slotfill.values import resolve as resolve_module
from slotfill.values.clock import reference_time
from slotfill.values.kinds import KINDS, check_value, value_text
from slotfill.values.resolve import ValueResolver, frame_key

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)  # a Tuesday


def slots(*pairs: tuple[str, str]) -> list[dict]:
    return [{"slot": label, "text": text} for label, text in pairs]


@pytest.fixture(scope="module")
def defaults() -> ValueResolver:
    return ValueResolver(DEFAULT_VALUE_RULES)


def test_an_atis_date_split_over_slots_is_one_date_in_the_frame(defaults: ValueResolver) -> None:
    values, frame = defaults.resolve(
        slots(("toloc.city_name", "Taipei"), ("arrive_date.month_name", "November"), ("arrive_date.day_number", "2nd")),
        NOW,
    )
    taipei = {"kind": "city", "name": "Taipei", "country": "TW", "codes": ["TPE", "TSA"]}
    assert values == [taipei, None, None]  # the parts of a composed date carry no value of their own
    assert frame == {"toloc": taipei, "arrive_date": {"kind": "date", "date": "2027-11-02"}}


def test_a_slot_alone_in_its_frame_keeps_its_own_value(defaults: ValueResolver) -> None:
    values, frame = defaults.resolve(slots(("depart_date.month_name", "november")), NOW)
    november = {"kind": "date_range", "start": "2027-11-01", "end": "2027-11-30"}
    assert values == [november] and frame == {"depart_date": november}


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([("depart_date.date_relative", "next"), ("depart_date.day_name", "monday")], {"kind": "date", "date": "2026-12-07"}),
        ([("depart_date.day_number", "twenty seventh"), ("depart_date.month_name", "august")], {"kind": "date", "date": "2027-08-27"}),
        ([("depart_date.month_name", "june"), ("depart_date.day_number", "1st"), ("depart_date.year", "1991")], {"kind": "date", "date": "1991-06-01"}),
        ([("depart_time.time_relative", "before"), ("depart_time.time", "10 am")], {"kind": "time_range", "start": None, "end": "10:00"}),
        ([("depart_time.period_of_day", "morning"), ("depart_time.time_relative", "before"), ("depart_time.time", "10 am")], {"kind": "time_range", "start": None, "end": "10:00"}),
        ([("depart_time.time", "5"), ("depart_time.period_of_day", "afternoon")], {"kind": "time", "time": "17:00"}),
        ([("depart_time.period_mod", "early"), ("depart_time.period_of_day", "morning")], {"kind": "time_range", "start": "06:00", "end": "09:00"}),
        ([("depart_time.start_time", "5"), ("depart_time.end_time", "7 pm")], {"kind": "time_range", "start": "17:00", "end": "19:00"}),
        ([("arrive_time.start_time", "8"), ("arrive_time.end_time", "11"), ("arrive_time.period_of_day", "morning")], {"kind": "time_range", "start": "08:00", "end": "11:00"}),
        ([("arrive_time.time_relative", "after"), ("arrive_time.time", "6"), ("arrive_time.period_of_day", "evening")], {"kind": "time_range", "start": "18:00", "end": None}),
        ([("arrive_time.end_time", "9 pm")], {"kind": "time_range", "start": None, "end": "21:00"}),
    ],
)  # fmt: skip
def test_atis_frames(defaults: ValueResolver, parts: list[tuple[str, str]], expected: dict) -> None:
    _, frame = defaults.resolve(slots(*parts), NOW)
    assert frame == {frame_key(parts[0][0]): expected}


def test_places_in_one_frame_take_the_most_specific(defaults: ValueResolver) -> None:
    _, frame = defaults.resolve(slots(("toloc.city_name", "portland"), ("toloc.state_name", "maine")), NOW)
    assert frame == {"toloc": {"kind": "city", "name": "Portland", "country": "US", "codes": ["PWM"]}}
    _, frame = defaults.resolve(slots(("fromloc.city_name", "chicago"), ("fromloc.airport_name", "o'hare")), NOW)
    assert frame["fromloc"]["code"] == "ORD"


def test_a_frame_whose_slots_disagree_is_left_out(defaults: ValueResolver) -> None:
    values, frame = defaults.resolve(slots(("party_size_number", "two"), ("party_size_number", "3")), NOW)
    assert values == [{"kind": "number", "number": 2}, {"kind": "number", "number": 3}]
    assert frame == {}


def test_unresolved_slots_have_no_value_and_no_frame(defaults: ValueResolver) -> None:
    values, frame = defaults.resolve(slots(("depart_time.time_relative", "before"), ("artist", "daft punk")), NOW)
    assert values == [None, None] and frame == {}


def test_the_first_matching_rule_wins_and_none_resolves_nothing() -> None:
    resolver = ValueResolver({"flight_time": "none", "*time*": "time", "*": "number"})
    assert resolver.resolver_of("flight_time") == "none"
    assert resolver.resolver_of("depart_time.time") == "time"
    assert resolver.resolver_of("party_size") == "number"
    assert resolver.resolve(slots(("flight_time", "8 am"), ("party_size", "four")), NOW)[0] == [
        None,
        {"kind": "number", "number": 4},
    ]
    assert ValueResolver({}).resolve(slots(("depart_time.time", "8 am")), NOW) == ([None], {})


def test_every_default_rule_names_a_resolver() -> None:
    assert set(DEFAULT_VALUE_RULES.values()) <= set(VALUE_RESOLVERS)
    assert config_from_dict({}).values == DEFAULT_VALUE_RULES


LISTS = GazetteerSet(
    [
        Gazetteer("airline", (("American Airlines", "American", "AA"), ("Delta Air Lines", "Delta"))),
        Gazetteer("city", (("Zorbania Heights",), ("New York City", "NYC", "the Big Apple"))),
    ]
)


def test_a_list_entry_resolves_to_its_canonical_value() -> None:
    resolver = ValueResolver(
        {"*airline_name": "entry", "*carrier": "entry:airline"}, LISTS, {"airline_name": "airline"}
    )
    assert resolver.resolve(slots(("airline_name", "american")), NOW)[0] == [
        {"kind": "entry", "list": "airline", "value": "American Airlines"}
    ]
    assert resolver.value("entry:airline", "DELTA", NOW) == {
        "kind": "entry",
        "list": "airline",
        "value": "Delta Air Lines",
    }
    assert resolver.value("entry:airline", "united", NOW) is None
    assert resolver.value("entry", "american", NOW, "artist") is None  # no list claims `artist`


def test_a_city_only_a_list_knows_has_no_codes_and_an_alias_resolves_to_its_city() -> None:
    resolver = ValueResolver({"*city_name": "city"}, LISTS, {"city_name": "city"})
    found, _ = resolver.resolve(slots(("toloc.city_name", "zorbania heights"), ("fromloc.city_name", "NYC")), NOW)
    assert found[0] == {"kind": "city", "name": "Zorbania Heights", "country": None, "codes": []}
    assert found[1] is not None and found[1]["name"] == "New York" and "JFK" in found[1]["codes"]
    assert ValueResolver({"*city_name": "city"}).value("city", "zorbania heights", NOW) is None


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"*.city_name": "cty"}, r"values: Value error, \*\.city_name: 'cty' is not a resolver \(one of: date, time,"),
        ({"airline_name": "entry:airlines"}, r"values: Value error, airline_name: 'entry:airlines' names no gazetteer of the config \(it has: airline\)"),
        ({"x": 3}, r"values: Value error, x: 3 is not a resolver's name"),
        ({"hours": "noon"}, r"values: Value error, hours: 'noon' is not one of evening, day, morning"),
        ({"days": {"picnic": "13-40"}}, r"values: Value error, days: picnic: '13-40' is not a month-day"),
    ],
)  # fmt: skip
def test_a_bad_rule_is_a_config_error_naming_its_key(rules: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=rf"^demo\.yaml: {message}"):
        config_from_dict({"gazetteers": {"airline": {"slots": ["airline_name"]}}, "values": rules}, "demo.yaml")
    with pytest.raises(ConfigError, match=r"^values: "):
        ValueResolver({"a": "nosuch"})


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        ("2026-12-30T10:00", "january 5th", "2027-01-05"),  # past the year end
        ("2026-12-31T10:00", "december 31", "2026-12-31"),  # today counts
        ("2026-12-31T10:00", "tomorrow", "2027-01-01"),
        ("2026-12-31T10:00", "the 1st", "2027-01-01"),
        ("2026-01-31T10:00", "the 30th", "2026-03-30"),  # February has none
        ("2028-02-29T10:00", "february 29th", "2028-02-29"),
        ("2028-03-01T10:00", "february 29th", "2032-02-29"),
        ("2027-03-01T10:00", "february twenty ninth", "2028-02-29"),
        ("2026-12-05T10:00", "saturday", "2026-12-12"),  # a weekday is the next one, today excluded
        ("2026-12-06T10:00", "next monday", "2026-12-07"),
    ],
)
def test_dates_prefer_the_future(now: str, text: str, expected: str) -> None:
    assert ValueResolver({}).value("date", text, reference_time(now, "UTC")) == {"kind": "date", "date": expected}


def test_this_weekend_on_a_sunday_is_today_alone() -> None:
    sunday = reference_time("2026-12-06T10:00", "UTC")
    assert ValueResolver({}).value("date", "this weekend", sunday) == {"kind": "date", "date": "2026-12-06"}


def test_the_reference_time() -> None:
    assert reference_time("2026-12-01T09:00", "Asia/Taipei").isoformat() == "2026-12-01T09:00:00+08:00"
    assert reference_time("2026-12-01T09:00:00+01:00").isoformat() == "2026-12-01T09:00:00+01:00"  # its offset kept
    moved = reference_time("2026-12-01T23:30:00+00:00", "Asia/Taipei")
    assert moved.isoformat() == "2026-12-02T07:30:00+08:00"  # a zone given moves it: "tomorrow" is Taipei's
    assert ValueResolver({}).value("date", "tomorrow", moved) == {"kind": "date", "date": "2026-12-03"}
    assert reference_time("2026-12-01").isoformat().startswith("2026-12-01T00:00:00")
    current = reference_time(None, "UTC")
    assert abs(current - datetime.now(timezone.utc)) < timedelta(seconds=5)
    in_two_hours = ValueResolver({}).value(
        "datetime", "in two hours", reference_time("2026-12-01T09:00", "Europe/Paris")
    )
    assert in_two_hours == {"kind": "datetime", "datetime": "2026-12-01T11:00:00+01:00"}


@pytest.mark.parametrize("now", ["tomorrow", "2026-13-01", "", "12/01/2026"])
def test_a_bad_reference_time_is_one_line(now: str) -> None:
    with pytest.raises(ConfigError, match=rf"^--now {now!r}: not an ISO 8601 date and time \(e\.g\. "):
        reference_time(now)


def test_a_bad_zone_is_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^--timezone 'Mars/Olympus': not a time zone name"):
        reference_time(None, "Mars/Olympus")


def test_a_resolver_that_raises_leaves_the_slot_without_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str) -> None:
        raise RuntimeError("a bug in a library")

    monkeypatch.setitem(resolve_module.QUANTITIES, "number", broken)
    resolver = ValueResolver({"*": "number"})
    assert resolver.resolve(slots(("party_size_number", "three")), NOW) == ([None], {})


FUZZED = ValueResolver({}, LISTS)  # one set of indexes for every example
TEXT = st.text(st.sampled_from("0123456789 :/-.,'$%°apmondecjulytwhrsfvbkgiz"), max_size=40) | st.text(max_size=30)


@settings(max_examples=400)
@given(text=TEXT, resolver=st.sampled_from([r for r in VALUE_RESOLVERS if r not in ("entry", "none")]))
def test_no_text_makes_a_resolver_fail_or_invent_a_shape(text: str, resolver: str) -> None:
    found = FUZZED.value(resolver, text, NOW)
    assert found is None or check_value(found) is found


def test_the_shapes_and_how_tag_shows_them() -> None:
    shown = {
        "date": {"kind": "date", "date": "2027-11-02"},
        "time_range": {"kind": "time_range", "start": None, "end": "17:00"},
        "money": {"kind": "money", "amount": 20, "currency": "USD"},
        "city": {"kind": "city", "name": "Taipei", "country": "TW", "codes": ["TPE", "TSA"]},
        "temperature": {"kind": "temperature", "degrees": 19, "unit": "C"},
    }
    assert [value_text(check_value(v)) for v in shown.values()] == [
        "2027-11-02",
        "…–17:00",
        "20 USD",
        "Taipei (TW) TPE TSA",
        "19°C",
    ]
    with pytest.raises(ValueError, match="not a value of a documented kind"):
        check_value({"kind": "date", "day": "2027-11-02"})
    assert set(KINDS) >= {"date", "time", "time_range", "number", "money", "duration", "city"}


def test_each_distinct_text_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = resolve_module.QUANTITIES["number"]
    monkeypatch.setitem(resolve_module.QUANTITIES, "number", lambda text: calls.append(text) or original(text))
    resolver = ValueResolver({"*": "number"})
    for _ in range(50):
        resolver.resolve(slots(("party_size_number", "three"), ("rating_value", "5")), NOW)
    assert calls == ["three", "5"]


def test_a_day_with_a_time_of_day_in_a_date_slot_is_read_without_dateparser(monkeypatch) -> None:
    """dateparser's first call loads its locale and time-zone tables (about 0.35 s of a one-shot
    `slotfill predict`); a day the fast paths can read must never reach it."""
    from slotfill.values import temporal

    def no_dateparser(*args: object, **kwargs: object) -> None:
        raise AssertionError("dateparser reached")

    monkeypatch.setattr(temporal, "_dateparser", no_dateparser)
    resolver = ValueResolver({})
    assert [resolver.value("date", text, NOW) for text in ("monday morning", "tomorrow at 8 am", "8 pm friday")] == [
        {"kind": "date", "date": "2026-12-07"},
        {"kind": "date", "date": "2026-12-02"},
        {"kind": "date", "date": "2026-12-04"},
    ]


def test_a_weekday_with_a_day_of_the_month_is_a_date_of_that_weekday(defaults: ValueResolver) -> None:
    """ "friday the 13th" resolved to 2026-12-13, a Sunday: a wrong value is worse than none."""
    monday = datetime(2026, 12, 7, 9, 0)
    values = [defaults.value("date", text, monday) for text in ("friday the 13th", "sunday the 13th", "monday november 2nd 2026", "tuesday november 2nd 2026", "monday december 14th")]  # fmt: skip
    assert [v and v["date"] for v in values] == ["2027-08-13", "2026-12-13", "2026-11-02", None, "2026-12-14"]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]),
    st.integers(1, 31),
    st.sampled_from(["", "january ", "february ", "june ", "december "]),
    st.dates(),
)
def test_no_date_contradicts_the_weekday_its_text_names(weekday: str, day: int, month: str, today: object) -> None:
    from slotfill.values.dates import WEEKDAYS, date_span

    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    words = [weekday, *month.split(), f"{day}{suffix}"]
    span = date_span(words, today)  # type: ignore[arg-type]
    assert span is None or (span[0] == span[1] and span[0].weekday() == WEEKDAYS[weekday] and span[0].day == day)
