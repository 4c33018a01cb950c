"""Dates and times in slot text, resolved against a reference time (`now`).

Fast paths, written here, read the forms that fill ATIS, SNIPS and the smart-home data: month
names, day numbers and ordinals, weekdays, relative days and weeks, clock times ("8:30 pm",
"1245 pm", "5 o'clock", "half past nine", "noon"), periods of the day, "before"/"after"/"between"
and offsets ("in two hours", "43 days from now"). Number words reach them as digits
(slotfill.values.numbers). Whatever they do not read goes to `dateparser` (BSD-3), which reads a
wider range of written dates ("12 December 2026", "Dec. 3rd, 2026 at 5pm") at about 10 ms a call.

The rules for dates are in slotfill.values.dates, for times in slotfill.values.times.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from slotfill.values.dates import WEEKDAYS, DateSpan, date_span, month_span, offset, shifted
from slotfill.values.kinds import Value
from slotfill.values.numbers import DURATION_UNITS
from slotfill.values.times import time_span
from slotfill.values.typed import ValueOptions, typed_date, typed_time
from slotfill.values.words import canonical

_FILLERS = frozenset(["the", "of", "on", "at", "in", "for", "please", ",", "day"])


def _date_value(span: DateSpan) -> Value:
    if span[0] == span[1]:
        return {"kind": "date", "date": span[0].isoformat()}
    return {"kind": "date_range", "start": span[0].isoformat(), "end": span[1].isoformat()}


def _clock_words(every: list[str]) -> list[str]:
    """Canonical words as the time grammar reads them (it needs "at", "in", "of")."""
    return [w for w in every if w not in ("the", ",", "please")]


def _words(text: str) -> tuple[list[str], list[str], tuple[float, str] | None]:
    """The canonical words without fillers, the words for the time grammar, and the offset the
    text is ("in 2 hours"), if it is one."""
    every = canonical(text)
    clock = _clock_words(every)
    return [w for w in every if w not in _FILLERS], clock, offset(clock)


def _moment(now: datetime, moved: tuple[float, str]) -> Value:
    """The moment an offset of seconds, minutes or hours after `now` names."""
    moment = now + timedelta(seconds=moved[0] * DURATION_UNITS[moved[1]])
    return {"kind": "datetime", "datetime": moment.replace(microsecond=0).isoformat()}


_CALENDAR = ("days", "weeks", "months", "years")


def resolve_date(text: str, now: datetime, options: ValueOptions | None = None) -> Value | None:
    """A date or date range: "november 2nd", "next monday", "tomorrow", "this weekend", "august",
    "24/12", "christmas eve" (slotfill.values.typed)."""
    options = options if options is not None else ValueOptions()
    text = typed_date(text, now.date(), options)
    words, _, moved = _words(text)
    if moved is not None:
        return _date_value((shifted(now.date(), *moved),) * 2) if moved[1] in _CALENDAR else None
    span = date_span(words, now.date()) if words else None
    if span is not None:
        return _date_value(span)
    if (day_and_time := _day_and_time(words, now)) is not None:
        return _date_value((day_and_time[0],) * 2)  # "monday morning" in a date slot: the day
    return _dateparser(text, words, now, dates_only=True) if words else None


def resolve_time(text: str, now: datetime, options: ValueOptions | None = None) -> Value | None:
    """A clock time or a range of them: "8:30 pm", "7.30pm", "half 7", "noon", "morning", "before 5
    pm", "between 5 and 7 pm"; an hour without am/pm as `options.hours` says."""
    options = options if options is not None else ValueOptions()
    words = _clock_words(canonical(typed_time(text)))
    if (moved := offset(words)) is not None and moved[1] not in _CALENDAR:  # "in ten minutes": a moment
        return _moment(now, moved)
    found = time_span(words, options.hours) if words else None
    return found[0] if found else None


def resolve_datetime(text: str, now: datetime, options: ValueOptions | None = None) -> Value | None:
    """Anything temporal (SNIPS timeRange): "now", "in two hours", "tomorrow at 8 am", "tomorrow
    morning", and every date and time above."""
    options = options if options is not None else ValueOptions()
    text = typed_time(typed_date(text, now.date(), options))
    words, clock, moved = _words(text)
    if not words:
        return None
    if words in (["now"], ["right", "now"]):
        return {"kind": "datetime", "datetime": now.replace(microsecond=0).isoformat()}
    if moved is not None:
        return _date_value((shifted(now.date(), *moved),) * 2) if moved[1] in _CALENDAR else _moment(now, moved)
    span = date_span(words, now.date())
    if span is not None:
        return _date_value(span)
    found = time_span(clock, options.hours)
    if found is not None:
        return found[0]
    return _date_and_time(words, now, options.hours) or _dateparser(text, words, now, dates_only=False)


def _day_and_time(words: list[str], now: datetime, hours: str | None = None) -> tuple[date, Value] | None:
    """One day and a clock time or period, in either order: "tomorrow at 8 am", "8 am tomorrow",
    "tomorrow morning", "monday at noon"; a time of digits alone is no time here ("february 29
    2027" is a year, not 20:27)."""
    for cut in range(1, len(words)):
        for date_words, time_words in ((words[:cut], words[cut:]), (words[cut:], words[:cut])):
            if not any(w.isalpha() for w in time_words):
                continue
            span = date_span([w for w in date_words if w not in ("on", "at")], now.date())
            if span is None or span[0] != span[1]:
                continue
            found = time_span([w for w in time_words if w not in ("at", "on", "in")], hours)
            if found is not None:
                return span[0], found[0]
    return None


def _date_and_time(words: list[str], now: datetime, hours: str | None = None) -> Value | None:
    """A day and a time as one datetime (range): "tomorrow at 8 am" -> 2026-12-02T08:00; "tomorrow
    at 8" keeps both readings of its hour, as a time does (slotfill.values.times.time_span)."""
    found = _day_and_time(words, now, hours)
    if found is None:
        return None
    day, value = found
    if value["kind"] == "time":
        moment = datetime.combine(day, time.fromisoformat(value["time"]), now.tzinfo)
        combined: Value = {"kind": "datetime", "datetime": moment.isoformat()}
        if "ambiguous" in value:
            combined["ambiguous"] = [_at(day, clock, now) for clock in value["ambiguous"]]
        return combined
    start = _at(day, value["start"], now) if value["start"] else None
    end = _at(day, value["end"], now) if value["end"] else None
    return {"kind": "datetime_range", "start": start, "end": end}


def _at(day: date, clock: str, now: datetime) -> str:
    if clock == "24:00":
        return datetime.combine(day + timedelta(days=1), time(0), now.tzinfo).isoformat()
    return datetime.combine(day, time.fromisoformat(clock), now.tzinfo).isoformat()


def _dateparser(text: str, words: list[str], now: datetime, dates_only: bool) -> Value | None:
    """The fallback: dateparser, future-preferring, relative to `now`; its granularity says what
    the text named (a day, or a time). `words`: the text's canonical words without fillers."""
    if not any(word.isalpha() for word in words):
        return None  # numbers alone ("two", "12") are no date: dateparser would read a month or a day
    import dateparser

    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "RETURN_AS_TIMEZONE_AWARE": False,
        "STRICT_PARSING": False,
    }
    try:
        parsed = dateparser.DateDataParser(languages=["en"], settings=settings).get_date_data(text)
    except Exception:  # noqa: BLE001 - a library's failure on odd text is no value, never a failed parse
        return None
    moment, period = parsed.date_obj, parsed.period
    if moment is None:
        return None
    named = {WEEKDAYS[w.removesuffix("s")] for w in words if w.removesuffix("s") in WEEKDAYS}
    if named and moment.weekday() not in named:
        return None  # "tuesday november 2nd 2026" (a Monday): a date that contradicts its text is no value
    base = now.replace(tzinfo=None)
    timed = period == "time" or moment.time() not in (base.time(), time(0))  # "december 3 at 5:30pm": a time too
    if timed and not dates_only:
        return {"kind": "datetime", "datetime": moment.replace(tzinfo=now.tzinfo, microsecond=0).isoformat()}
    if period == "day":
        return {"kind": "date", "date": moment.date().isoformat()}
    if period == "month" and dates_only:
        return _date_value(month_span(moment.year, moment.month))
    if period == "year" and dates_only:
        return _date_value((date(moment.year, 1, 1), date(moment.year, 12, 31)))
    return None
