"""Dates and times as people type them in chat, rewritten into what the date and time grammars read
(slotfill.values.dates, .times), and the options that settle what the text leaves open
(docs/values.md):

- "7.30pm", "7.30 pm", "19.45": a period between hour and minute; "half 7": 7:30 (British);
- "24/12", "03/04", "24/12/2026", "3.4.27": numeric dates in the configured order
  (`values.date_order: dmy | mdy`; its default is the locale's, `locale.nl_langinfo(D_FMT)`),
  where a part over 12 settles it whatever the order;
- named days ("christmas", "new year's eve", "valentine's day", ...): NAMED_DAYS, which a config
  extends (`values.days: {"company picnic": "06-21"}`), the next such day from the reference date;
- an hour without am/pm ("8", "half past 8") is ambiguous: `values.hours` says how a domain reads
  it (`evening`: 20:00, `day`: 7-11 am and 1-6 pm, `morning`: as written), and without it the value
  keeps the hour as written and lists both readings (`"ambiguous": ["08:00", "20:00"]`).
"""

from __future__ import annotations

import locale
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
# days people name, as (month, day); `values.days` adds to them (docs/values.md)
NAMED_DAYS = {
    "new year's day": (1, 1), "new years day": (1, 1), "new year": (1, 1), "new year's": (1, 1),
    "valentine's day": (2, 14), "valentines day": (2, 14), "valentine's": (2, 14), "valentines": (2, 14),
    "st patrick's day": (3, 17), "st. patrick's day": (3, 17), "saint patrick's day": (3, 17),
    "april fools day": (4, 1), "april fool's day": (4, 1), "may day": (5, 1),
    "independence day": (7, 4), "fourth of july": (7, 4), "4th of july": (7, 4), "halloween": (10, 31),
    "guy fawkes night": (11, 5), "bonfire night": (11, 5), "veterans day": (11, 11), "remembrance day": (11, 11),
    "christmas eve": (12, 24), "christmas": (12, 25), "christmas day": (12, 25), "xmas": (12, 25),
    "boxing day": (12, 26), "new year's eve": (12, 31), "new years eve": (12, 31), "nye": (12, 31),
}  # fmt: skip
_PERIOD_CLOCK = re.compile(r"\b([01]?\d|2[0-3])\.([0-5]\d)(?=\s*(?:am|pm|a\.m\.|p\.m\.)?\b)(?!\.\d)")
_HALF_HOUR = re.compile(r"\bhalf\s+(1[0-2]|[1-9])\b(?!\s*(?:past|to|an?|hours?|dozen))")
_NUMERIC_DATE = re.compile(r"(?<![\d:./-])(\d{1,2})([/.])(\d{1,2})(?:\2(\d{4}|\d{2}))?(?![\d:./-])")


def locale_date_order() -> str:
    """The process locale's order of day and month ("mdy" for C/POSIX and en_US, "dmy" for en_GB, ...)."""
    try:
        pattern = locale.nl_langinfo(locale.D_FMT)
    except (AttributeError, ValueError):  # no nl_langinfo (Windows): the C locale's order
        return "mdy"
    day, month = pattern.find("%d"), pattern.find("%m")
    return "dmy" if 0 <= day < month else "mdy"


@dataclass(frozen=True)
class ValueOptions:
    """What a config's `values:` section says beside its rules: the order of numeric dates, how an
    hour without am/pm is read, and named days of its own."""

    date_order: str = field(default_factory=locale_date_order)
    hours: str | None = None  # None: an ambiguous hour keeps both readings
    days: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    def named(self) -> dict[str, tuple[int, int]]:
        return {**NAMED_DAYS, **self.days}

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> ValueOptions:
        """The options of a config's `values:` section (checked by slotfill.config.rule_error)."""
        days = {name.lower(): _month_day(month_day) for name, month_day in values.get("days", {}).items()}
        return cls(values.get("date_order") or locale_date_order(), values.get("hours"), days)


def _month_day(text: str) -> tuple[int, int]:
    month, day = text.split("-")
    return int(month), int(day)


def typed_date(text: str, today: date, options: ValueOptions) -> str:
    """`text` with its numeric dates and named days written as the date grammar reads them
    ("24/12" -> "december 24", "christmas eve" -> "december 24 2026"); the rest as it was."""
    lowered = _named_days(text.lower(), today, options.named())
    return _NUMERIC_DATE.sub(lambda m: _numeric_date(m, options.date_order) or m.group(0), lowered)


def typed_time(text: str) -> str:
    """`text` with the clock times of chat written as the time grammar reads them: "7.30pm" ->
    "7:30pm", "half 7" -> "7:30"."""
    text = _PERIOD_CLOCK.sub(r"\1:\2", text.lower())
    return _HALF_HOUR.sub(r"\1:30", text)


def _numeric_date(match: re.Match[str], order: str) -> str | None:
    first, second, year = int(match.group(1)), int(match.group(3)), match.group(4)
    if match.group(2) == "." and year is None:
        return None  # "7.30" is a time, "3.5" a number: a dotted date needs its year
    day, month = (first, second) if order == "dmy" else (second, first)
    if month > 12 and day <= 12:  # "24/12" in mdy, "12/24" in dmy: only one reading is a date
        day, month = month, day
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    written = f"{MONTH_NAMES[month - 1]} {day}"
    if year is not None:
        written += f" {int(year) + 2000 if len(year) == 2 else int(year)}"
    return written


def _named_days(text: str, today: date, named: Mapping[str, tuple[int, int]]) -> str:
    for name in sorted(named, key=len, reverse=True):  # "christmas eve" before "christmas"
        if re.search(rf"(?<![\w']){re.escape(name)}(?![\w'])", text):
            month, day = named[name]
            year = today.year if (month, day) >= (today.month, today.day) else today.year + 1
            explicit = re.search(r"\b(\d{4})\b", text)
            written = f"{MONTH_NAMES[month - 1]} {day}" + ("" if explicit else f" {year}")
            return re.sub(rf"(?<![\w']){re.escape(name)}(?![\w'])", written, text, count=1)
    return text


def read_hour(clock: str, hours: str | None) -> tuple[str, list[str] | None]:
    """An ambiguous "HH:MM" (an hour of 1 to 11 written without am/pm) read the domain's way: the
    clock and no candidates where `hours` decides, else the clock as written and both readings."""
    hour, minute = int(clock[:2]), clock[3:]
    later = f"{hour + 12:02d}:{minute}"
    if hours == "evening" or (hours == "day" and hour <= 6):
        return later, None
    if hours in ("morning", "day"):
        return clock, None
    return clock, [clock, later]
