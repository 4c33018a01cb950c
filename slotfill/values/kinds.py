"""The JSON shapes of slot values, one per kind, `kind` first (docs/values.md).

A value is a plain dict so that it goes into a parse as it is; the keys of each kind are listed
here once, and tests check every value a resolver returns against them.
"""

from __future__ import annotations

from typing import Any

Value = dict[str, Any]

# kind -> its keys after "kind", in order (a key whose value the text does not give is null)
KINDS: dict[str, tuple[str, ...]] = {
    "date": ("date",),  # "2027-11-02"
    "date_range": ("start", "end"),  # both inclusive dates
    "time": ("time",),  # "20:30" (or "09:32:06")
    "time_range": ("start", "end"),  # clock times, end exclusive; either may be null ("before 5 pm")
    "datetime": ("datetime",),  # ISO 8601 with the reference time's UTC offset
    "datetime_range": ("start", "end"),
    "number": ("number",),
    "money": ("amount", "currency"),  # ISO 4217 code, or null when the text names none
    "percent": ("percent",),
    "temperature": ("degrees", "unit"),  # "C", "F", or null
    "duration": ("seconds", "iso"),  # 7200, "PT2H"
    "city": ("name", "country", "codes"),  # country null when the name is a city in several
    "airport": ("name", "code", "city", "country"),
    "state": ("name", "country"),
    "entry": ("list", "value"),  # the canonical value of a list's entry (a value with synonyms)
}
# keys a value of some kinds may add after its own: the readings of an hour without am/pm
# ("ambiguous": ["08:00", "20:00"], a time or datetime), the parts a count sums ("parts":
# [{"number": 5, "of": "adults"}, ...], a number)
OPTIONAL_KEYS: dict[str, tuple[str, ...]] = {"time": ("ambiguous",), "datetime": ("ambiguous",), "number": ("parts",)}


def check_value(value: Value) -> Value:
    """`value` if its keys are exactly its kind's, in order; else ValueError (a bug, not bad input)."""
    keys = tuple(value)
    if not keys or keys[0] != "kind" or value["kind"] not in KINDS:
        raise ValueError(f"not a value of a documented kind: {value!r}")
    own = KINDS[value["kind"]]
    extra = keys[1 + len(own) :]
    if keys[1 : 1 + len(own)] != own or not set(extra) <= set(OPTIONAL_KEYS.get(value["kind"], ())):
        raise ValueError(f"not a value of a documented kind: {value!r}")
    return value


def value_text(value: Value) -> str:
    """A value as people read it (`tag`'s table): "2027-11-02", "06:00–12:00", "20 USD", "Taipei (TW) TPE TSA"."""
    kind = value["kind"]
    if kind in ("date_range", "time_range", "datetime_range"):
        return f"{value['start'] or '…'}–{value['end'] or '…'}"
    if kind == "money":
        return f"{value['amount']} {value['currency'] or ''}".strip()
    if kind == "percent":
        return f"{value['percent']}%"
    if kind == "temperature":
        return f"{value['degrees']}°{value['unit'] or ''}"
    if kind == "duration":
        return value["iso"]
    if kind == "city":
        country = f" ({value['country']})" if value["country"] else ""
        return f"{value['name']}{country} {' '.join(value['codes'])}".strip()
    if kind == "airport":
        return f"{value['code']} {value['name']}"
    if kind == "state":
        return f"{value['name']} ({value['country']})"
    if kind == "entry":
        return value["value"]
    return str(value[KINDS[kind][0]])
