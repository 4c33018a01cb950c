"""Numbers in slot text: digits and number words ("twenty five", "one hundred and five", "a dozen"),
ordinals ("2nd", "twenty seventh"), and the quantities built on them: money, percent,
temperature, duration.

Number words are read by `text2num` (MIT): this module finds the runs of number words in a text
and hands each run to it, so "twenty five dollars" is 25 and a currency. Digits never reach it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from slotfill.values.kinds import Value

_CARDINALS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
    "hundred thousand million billion"
).split()
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "sixtieth": 60, "seventieth": 70,
    "eightieth": 80, "ninetieth": 90, "hundredth": 100, "thousandth": 1000,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_WORD_SET = frozenset(_CARDINALS)
_DIGITS = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_SUFFIXED = re.compile(r"(\d+(?:\.\d+)?)(k|m|bn)")  # "100k", "1.5m"
_ORDINAL_DIGITS = re.compile(r"(\d+)(?:st|nd|rd|th)")
_MULTIPLIERS = {"k": 1_000, "m": 1_000_000, "bn": 1_000_000_000}
_WORD = re.compile(
    r"\d{1,4}[/-]\d{1,2}[/-]\d{1,4}|\d{1,2}:\d{2}(?::\d{2})?"  # "12/28/2019", "2026-12-01", "8:30", "09:32:06"
    r"|[a-z]+(?:'[a-z]+)?|\d+(?:[.,]\d+)*(?:st|nd|rd|th|k|m|bn)?|[%$€£¥°]"
)
_HYPHEN_IN_WORD = re.compile(r"(?<=[a-z])-(?=[a-z])")

Number = int | float


def words(text: str) -> list[str]:
    """The lowercase words, digit groups and currency/percent signs of `text`, hyphens split."""
    return _WORD.findall(_HYPHEN_IN_WORD.sub(" ", text.lower()))


def _text2num(run: list[str]) -> int | None:
    from text_to_num import text2num

    try:
        return int(text2num(" ".join(run), "en"))
    except ValueError:
        return None


def _ordinal_word(word: str, before: list[str]) -> int | None:
    """ "seventh" -> 7; with the cardinal words before it: "twenty seventh" -> 27."""
    value = _ORDINALS.get(word)
    if value is None:
        return None
    if before and value < 10 and before[-1] in _TENS:
        return _TENS[before[-1]] + value
    return value


@lru_cache(maxsize=4096)
def tokens(text: str) -> tuple[tuple[str, Number | None, bool], ...]:
    """`text` as (word, number or None, is_ordinal) triples: each run of number words becomes one
    number ("one hundred and five" -> 105), digits and ordinals too ("2nd", "twenty seventh")."""
    items = words(text)
    out: list[tuple[str, Number | None, bool]] = []
    index = 0
    while index < len(items):
        word = items[index]
        if word in _WORD_SET:
            end = index
            while end < len(items) and (
                items[end] in _WORD_SET
                or (items[end] == "and" and end + 1 < len(items) and items[end + 1] in _WORD_SET)
            ):
                end += 1
            run = items[index:end]
            if end < len(items) and (ordinal := _ordinal_word(items[end], run)) is not None:
                if items[end] in _ORDINALS and run and run[-1] in _TENS:  # "twenty seventh"
                    prefix = run[:-1]
                    if prefix:
                        out.append((" ".join(prefix), _text2num(prefix), False))
                    out.append((f"{run[-1]} {items[end]}", ordinal, True))
                    index = end + 1
                    continue
            value = _text2num(run)
            if value is None and len(run) > 1:  # "nineteen ninety one": not one number; read word by word
                out.extend((w, _text2num([w]), False) for w in run)
            else:
                out.append((" ".join(run), value, False))
            index = end
            continue
        if word == "second" and out and (out[-1][1] is not None or out[-1][0] in ("a", "an")):
            out.append((word, None, False))  # "one second", "a second": the unit, not the 2nd
        elif (ordinal := _ordinal_word(word, [])) is not None:
            out.append((word, ordinal, True))
        elif match := _ORDINAL_DIGITS.fullmatch(word):
            out.append((word, int(match.group(1)), True))
        elif match := _SUFFIXED.fullmatch(word):
            out.append((word, _number(float(match.group(1)) * _MULTIPLIERS[match.group(2)]), False))
        elif _DIGITS.fullmatch(word):
            out.append((word, _number(float(word.replace(",", ""))), False))
        else:
            out.append((word, None, False))
        index += 1
    return tuple(out)


def _number(value: float) -> Number:
    return int(value) if value.is_integer() else value


def _one_number(text: str, allowed_words: frozenset[str] | None = None) -> tuple[Number, list[str]] | None:
    """The one number in `text` and its other words, or None when it has none or several, or
    (with `allowed_words`) a word outside them. "a dozen" is 12, "a hundred" 100."""
    items = tokens(text)
    found = [n for _, n, is_ordinal in items if n is not None and not is_ordinal]
    rest = [w for w, n, _ in items if n is None]
    if not found and "dozen" in rest:
        found, rest = [6 if "half" in rest else 12], [w for w in rest if w not in ("a", "half", "dozen")]
    if len(found) != 1 or any(is_ordinal for _, _, is_ordinal in items):
        return None
    if rest[:1] in (["a"], ["an"]) and items[0][1] is None:  # "a hundred": the article is the number's
        rest = rest[1:]
    if allowed_words is not None and any(w not in allowed_words for w in rest):
        return None
    return found[0], rest


# how people say how many they are or want, where no number is written; "a few" and "several" name
# no number (docs/values.md: vague on purpose, so no value)
COUNT_PHRASES = {
    "a couple": 2, "a couple of": 2, "couple": 2, "a pair": 2, "a pair of": 2, "both of us": 2,
    "the two of us": 2, "just me": 1, "only me": 1, "me": 1, "myself": 1, "just myself": 1, "me alone": 1,
    "by myself": 1, "just the two of us": 2, "the three of us": 3, "the four of us": 4,
}  # fmt: skip
_COMPANIONS = frozenset(
    "wife husband partner girlfriend boyfriend friend mum mom dad mother father son daughter brother sister "
    "colleague fiance fiancee date kid child baby".split()
)
_PEOPLE = frozenset(
    "person persons people adult adults kid kids child children guest guests baby babies friend friends "
    "other others colleague colleagues senior seniors student students teen teens teenager teenagers".split()
)
_PARTS = re.compile(r"\b(?:and|plus|with|,|&)\b|,|&")


def number(text: str) -> Value | None:
    """ "three", "3", "twenty five", "5 stars", "three people", "a party of six": the one number of
    the text; and counts of people: "a couple" (2), "just me" (1), "me and my wife" (2), "5 adults
    and 2 kids" (7, its parts kept)."""
    found = _one_number(text)
    if found is not None and not any(w in ("%", "percent", "per", "me", "myself") for w in found[1]):
        return {"kind": "number", "number": found[0]}
    return _count(text)


def _count(text: str) -> Value | None:
    """A count said without one number: a phrase, "me and my wife", or parts summed."""
    lowered = " ".join(words(text))
    lowered = re.sub(r"^(?:for|we are|we're|there are|there will be|table for|party of)\s+", "", lowered)
    if lowered in COUNT_PHRASES:
        return {"kind": "number", "number": COUNT_PHRASES[lowered]}
    people = re.fullmatch(r"(?:just\s+)?me\s+(?:and|&|with|plus)\s+(?:my\s+|a\s+)?(\w+)", lowered)
    if people and people.group(1) in _COMPANIONS:
        return {"kind": "number", "number": 2}
    parts = [p.strip() for p in _PARTS.split(text.lower()) if p.strip()]
    if len(parts) < 2:
        return None
    counted = []
    for part in parts:
        if part in ("me", "myself", "i"):
            counted.append({"number": 1, "of": "me"})
            continue
        one = _one_number(part)
        if one is None or len(one[1]) != 1 or one[1][0] not in _PEOPLE:
            return None
        counted.append({"number": one[0], "of": one[1][0]})
    return {"kind": "number", "number": sum(p["number"] for p in counted), "parts": counted}


def ordinal(text: str) -> int | None:
    """ "2nd", "second", "twenty seventh", "the 2nd" -> the number; None for anything else."""
    found = [n for _, n, is_ordinal in tokens(text) if is_ordinal]
    return int(found[0]) if len(found) == 1 else None


_CURRENCIES = {
    "$": "USD", "dollar": "USD", "dollars": "USD", "usd": "USD", "buck": "USD", "bucks": "USD",
    "€": "EUR", "euro": "EUR", "euros": "EUR", "eur": "EUR",
    "£": "GBP", "pound": "GBP", "pounds": "GBP", "gbp": "GBP", "quid": "GBP",
    "¥": "JPY", "yen": "JPY", "jpy": "JPY",
}  # fmt: skip
_CENTS = ("cent", "cents")


def money(text: str) -> Value | None:
    """ "twenty dollars", "$20.50", "1000 dollars", "20 bucks", "5 euros"; a bare number is an
    amount without a currency ("1288" in ATIS's fare_amount)."""
    found = _one_number(text, frozenset([*_CURRENCIES, *_CENTS, "and", "only", "about", "under", "less", "than"]))
    if found is None:
        return None
    amount, rest = found
    currencies = {_CURRENCIES[w] for w in rest if w in _CURRENCIES}
    if len(currencies) > 1:
        return None
    if any(w in _CENTS for w in rest) and not currencies:
        return {"kind": "money", "amount": amount / 100, "currency": "USD"}
    return {"kind": "money", "amount": amount, "currency": currencies.pop() if currencies else None}


def percent(text: str) -> Value | None:
    """ "25%", "40 percent", "fifteen percent", "half" (50)."""
    lowered = text.strip().lower()
    if lowered in ("half", "halfway", "half way"):
        return {"kind": "percent", "percent": 50}
    if lowered in ("full", "maximum", "max", "full power"):
        return {"kind": "percent", "percent": 100}
    found = _one_number(text, frozenset(["%", "percent", "per", "cent", "at"]))
    if found is None or not any(w in ("%", "percent", "cent") for w in found[1]):
        return None
    return {"kind": "percent", "percent": found[0]}


def level(text: str) -> Value | None:
    """A setting of a device: a percent ("25%", "half") or a number on its scale ("three")."""
    return percent(text) or number(text)


_UNITS = {"celsius": "C", "centigrade": "C", "c": "C", "fahrenheit": "F", "f": "F"}


def temperature(text: str) -> Value | None:
    """ "68 degrees" (unit null: the text does not say), "19 degrees celsius", "72 fahrenheit"."""
    found = _one_number(text, frozenset([*_UNITS, "degrees", "degree", "deg", "°"]))
    if found is None:
        return None
    units = {_UNITS[w] for w in found[1] if w in _UNITS}
    if len(units) > 1:
        return None
    return {"kind": "temperature", "degrees": found[0], "unit": units.pop() if units else None}


DURATION_UNITS = {
    "second": 1, "seconds": 1, "sec": 1, "secs": 1, "minute": 60, "minutes": 60, "min": 60, "mins": 60,
    "hour": 3600, "hours": 3600, "hr": 3600, "hrs": 3600, "day": 86400, "days": 86400,
    "week": 604800, "weeks": 604800,
}  # fmt: skip
CALENDAR_UNITS = {"month": "months", "months": "months", "year": "years", "years": "years"}


def duration_parts(text: str) -> list[tuple[Number, str]] | None:
    """ "two hours and a half" -> [(2.5, "hours")], "1 hour 30 minutes" -> [(1, "hour"), (30, "minutes")],
    "an hour" -> [(1, "hour")]; None unless the text is only amounts and units."""
    parts: list[tuple[Number, str]] = []
    pending: Number | None = None
    for word, value, is_ordinal in tokens(text):
        if is_ordinal:
            return None
        if value is not None:
            if pending is not None:
                return None
            pending = value
        elif word in ("a", "an") and pending is None:
            pending = 1
        elif word in DURATION_UNITS or word in CALENDAR_UNITS:
            if pending is None:
                return None
            parts.append((pending, word))
            pending = None
        elif word == "half" and parts and pending in (None, 1):  # "two hours and a half"
            amount, unit = parts[-1]
            parts[-1] = (amount + 0.5, unit)
            pending = None
        elif word not in ("and", "for"):
            return None
    return parts if parts and pending is None else None


def duration(text: str) -> Value | None:
    """ "two hours", "an hour and a half", "20 minutes", "3 days": seconds and ISO 8601."""
    parts = duration_parts(text)
    if parts is None or any(unit in CALENDAR_UNITS for _, unit in parts):
        return None
    seconds = sum(amount * DURATION_UNITS[unit] for amount, unit in parts)
    return {"kind": "duration", "seconds": _number(float(seconds)), "iso": iso_duration(seconds)}


def iso_duration(seconds: float) -> str:
    """7200 -> "PT2H", 5400 -> "PT1H30M", 90061 -> "P1DT1H1M1S"."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "" if days else "T0S")
