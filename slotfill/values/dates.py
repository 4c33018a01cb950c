"""Dates in slot text (canonical words, slotfill.values.words): month names, day numbers and
ordinals, weekdays, relative days, weeks, months and years, offsets ("in 43 days").

The rules (docs/values.md): a date without a year, a bare day number ("the 2nd") and a
month name resolve to the first such day (or month) on or after today, as bookings point forward;
February 29 is the next February 29; a weekday alone or with this/next/coming is the first such
day after today ("next monday" is the coming Monday); a week runs Monday to Sunday.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from slotfill.values.words import ordinal_day

MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
WEEKDAYS = {name.lower(): number for number, name in enumerate(calendar.day_name)}
WEEKDAYS.update({name.lower(): number for number, name in enumerate(calendar.day_abbr)})
WEEKDAYS.update({"tues": 1, "weds": 2, "thur": 3, "thurs": 3})
_SLASHED = re.compile(r"(\d{1,4})[/-](\d{1,2})[/-](\d{1,4})")


DateSpan = tuple[date, date]  # inclusive; one day when start == end


def _next_date(today: date, month: int, day: int) -> date | None:
    """The first `month`/`day` on or after `today` (February 29: the next leap year's)."""
    for year in range(today.year, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _next_day_number(today: date, day: int) -> date | None:
    """The first day numbered `day` on or after `today` ("the 2nd")."""
    year, month = today.year, today.month
    for _ in range(13):
        if day <= calendar.monthrange(year, month)[1] and (found := date(year, month, day)) >= today:
            return found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _weekday_after(today: date, weekday: int, weeks: int = 0) -> date:
    """The first `weekday` after `today` (today excluded), plus `weeks`."""
    ahead = (weekday - today.weekday() - 1) % 7 + 1
    return today + timedelta(days=ahead + 7 * weeks)


def month_span(year: int, month: int) -> DateSpan:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _relative_span(today: date, which: str, unit: str) -> DateSpan | None:
    """ "this week", "next weekend", "next month", "this year", "last week", ..."""
    shift = {"this": 0, "coming": 0, "next": 1, "following": 1, "last": -1, "past": -1, "previous": -1}.get(which)
    if shift is None:
        return None
    if unit == "week":
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=shift)
        return (max(monday, today) if shift == 0 else monday), monday + timedelta(days=6)
    if unit == "weekend":
        saturday = today + timedelta(days=(5 - today.weekday()) % 7) if today.weekday() < 6 else today - timedelta(1)
        saturday += timedelta(weeks=shift)
        return (max(saturday, today) if shift == 0 else saturday), saturday + timedelta(days=1)
    if unit == "month":
        first = _add_months(today.replace(day=1), shift)
        start, end = month_span(first.year, first.month)
        return (today if shift == 0 else start), end
    if unit == "year":
        year = today.year + shift
        return (today if shift == 0 else date(year, 1, 1)), date(year, 12, 31)
    return None


def _month_day_year(words: list[str], today: date) -> DateSpan | None:
    """ "november 2nd", "2nd november", "nov 2 2027", "november", "november 1991", "2nd", "1991"."""
    months = [MONTHS[w] for w in words if w in MONTHS]
    years = [int(w) for w in words if w.isdigit() and len(w) == 4]
    days = [d for w in words if (d := ordinal_day(w) or (int(w) if w.isdigit() and len(w) <= 2 else None))]
    if len(months) > 1 or len(years) > 1 or len(days) > 1 or len(months) + len(years) + len(days) != len(words):
        return None
    if months and days:
        day = date(years[0], months[0], days[0]) if years and _valid(years[0], months[0], days[0]) else None
        found = day or (None if years else _next_date(today, months[0], days[0]))
        return (found, found) if found else None
    if months:
        if years:
            return month_span(years[0], months[0])
        year = today.year if months[0] >= today.month else today.year + 1
        return month_span(year, months[0])
    if days and not years and any(ordinal_day(w) for w in words):  # a bare "2" is not a date; "2nd" is
        found = _next_day_number(today, days[0])
        return (found, found) if found else None
    if years and not days:
        return date(years[0], 1, 1), date(years[0], 12, 31)
    return None


FRIDAY_13TH_MONTHS = 14  # every day number falls on every weekday within 14 months (Friday the 13th at most that far)


def _on_weekday(found: date, weekday: int, words: list[str]) -> DateSpan | None:
    """`found` where it falls on `weekday`; for a day number alone, the next date of that number that
    does ("friday the 13th" is the next Friday the 13th); None where the words fix the month or the
    year ("monday november 2nd" when the coming November 2nd is a Tuesday): never a date whose
    weekday contradicts the text."""
    if found.weekday() == weekday:
        return found, found
    if any(w in MONTHS or (w.isdigit() and len(w) == 4) for w in words):
        return None
    year, month = found.year, found.month
    for _ in range(FRIDAY_13TH_MONTHS):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if _valid(year, month, found.day) and (candidate := date(year, month, found.day)).weekday() == weekday:
            return candidate, candidate
    return None


def _valid(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def _slashed(word: str) -> date | None:
    """ "12/28/2019" (US order, as in SNIPS), "2026-12-01"."""
    match = _SLASHED.fullmatch(word)
    if not match:
        return None
    a, b, c = (int(g) for g in match.groups())
    year, month, day = (a, b, c) if len(match.group(1)) == 4 else (c if c >= 100 else 2000 + c, a, b)
    return date(year, month, day) if _valid(year, month, day) else None


_DAY_WORDS = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}


def date_span(words: list[str], today: date) -> DateSpan | None:
    """The dates `words` (canonical, fillers dropped) name, or None."""
    text = " ".join(words)
    if text in _DAY_WORDS:
        day = today + timedelta(days=_DAY_WORDS[text])
        return day, day
    if text in ("after tomorrow", "day after tomorrow", "overmorrow"):
        return today + timedelta(2), today + timedelta(2)
    if text in ("before yesterday", "day before yesterday"):
        return today - timedelta(2), today - timedelta(2)
    if text in ("weekend", "weekends"):
        return _relative_span(today, "this", "weekend")
    if len(words) == 1 and (found := _slashed(words[0])):
        return found, found
    if len(words) == 2 and words[1] in ("week", "weekend", "month", "year"):
        return _relative_span(today, words[0], words[1])
    weekdays = [WEEKDAYS[w.removesuffix("s")] for w in words if w.removesuffix("s") in WEEKDAYS]
    if weekdays and len(weekdays) == 1:
        rest = [w for w in words if w.removesuffix("s") not in WEEKDAYS]
        if rest in ([], ["this"], ["coming"], ["this", "coming"], ["next"], ["following"], ["this", "week"]):
            day = _weekday_after(today, weekdays[0])
            return day, day
        if rest in (["next", "week"], ["week", "after", "next"]):
            monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1 if rest[0] == "next" else 2)
            day = monday + timedelta(days=weekdays[0])
            return day, day
        if rest in (["last"], ["past"], ["previous"]):  # the latest before today (today excluded)
            day = today - timedelta(days=(today.weekday() - weekdays[0] - 1) % 7 + 1)
            return day, day
        spans = _month_day_year(rest, today)  # "friday the 13th", "monday november 2nd": a date of that weekday
        return _on_weekday(spans[0], weekdays[0], rest) if spans and spans[0] == spans[1] else None
    if words[:1] == ["last"] and len(words) == 2 and words[1] in MONTHS:
        month = MONTHS[words[1]]
        year = today.year if month < today.month else today.year - 1
        return month_span(year, month)
    return _month_day_year(words, today)


def shifted(today: date, amount: float, unit: str) -> date:
    if unit in ("months", "years"):
        return _add_months(today, int(amount) * (12 if unit == "years" else 1))
    return today + timedelta(days=amount * (7 if unit == "weeks" else 1))


_UNIT_NAMES = {
    word: name + "s"
    for name in ("second", "minute", "hour", "day", "week", "month", "year")
    for word in (name, name + "s")
}
_UNIT_NAMES.update(
    {"min": "minutes", "mins": "minutes", "sec": "seconds", "secs": "seconds", "hr": "hours", "hrs": "hours"}
)


_AHEAD = (["from", "now"], ["from", "today"], ["after", "today"], ["later"], ["hence"], ["from", "tonight"])
_BACK = (["ago"], ["before", "today"], ["before", "now"], ["earlier"], ["back"])


def offset(words: list[str]) -> tuple[float, str] | None:
    """ "in 2 hours", "2 hours from now", "in a week", "12 weeks and a half from now", "3 days from
    today" -> (amount, unit); "3 days ago", "2 weeks before today" -> a negative amount."""
    sign = 1.0
    if words[:1] == ["in"]:
        body = words[1:]
    elif (ahead := next((a for a in _AHEAD if words[-len(a) :] == a), None)) is not None:
        body = words[: -len(ahead)]
    elif (back := next((b for b in _BACK if words[-len(b) :] == b), None)) is not None:
        body, sign = words[: -len(back)], -1.0
    else:
        return None
    if len(body) >= 2 and body[0] in ("a", "an", "one"):
        body = ["1", *body[1:]]
    half = body[-3:] == ["and", "a", "half"]
    body = body[:-3] if half else body
    if len(body) != 2 or body[1] not in _UNIT_NAMES:
        return None
    try:
        amount = float(body[0])
    except ValueError:
        return None
    return sign * (amount + (0.5 if half else 0)), _UNIT_NAMES[body[1]]
