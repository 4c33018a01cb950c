"""Slot text as the date and time grammars read it: lowercase words, numbers as digits."""

from __future__ import annotations

import re

from slotfill.values.numbers import tokens


def canonical(text: str) -> list[str]:
    """Lowercase words with every number as digits and ordinals as "27th": "November second" ->
    ["november", "2nd"], "half past nine" -> ["half", "past", "9"]; "a.m." -> "am", "o clock" -> "o'clock"."""
    lowered = text.lower().replace("a.m.", "am").replace("p.m.", "pm").replace("o clock", "o'clock")
    lowered = lowered.replace("oclock", "o'clock").replace("o'clock", " o'clock ")
    lowered = re.sub(r"\b(\d{1,2})(am|pm)\b", r"\1 \2", lowered)
    out = []
    for word, value, is_ordinal in tokens(lowered):
        if value is None:
            out.append(word.removesuffix("'s") if word.endswith("'s") else word)
        elif is_ordinal:
            out.append(f"{int(value)}th")
        else:
            out.append(word if word.isdigit() or ":" in word or "/" in word else _digits(value))
    return out


def _digits(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def ordinal_day(word: str) -> int | None:
    match = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)", word)
    return int(match.group(1)) if match else None
