"""Clock times and ranges of them in slot text (canonical words, slotfill.values.words):
"8:30 pm", "1245 pm", "2100", "5 o'clock", "half past 9", "noon", periods of the day, "before"
/ "after" / "around" / "between ... and ...", and ATIS-style time frames composed from their parts.

A clock time without am/pm is read as written on a 24-hour clock ("5" is 05:00) unless a period
of the day ("5 in the afternoon") or the other end of its range ("between 5 and 7 pm") says otherwise.
"""

from __future__ import annotations

import re
from datetime import time

from slotfill.values.kinds import Value
from slotfill.values.typed import read_hour

# periods of the day as [start, end) clock times; "24:00" is the end of the day
PERIODS = {
    "morning": ("06:00", "12:00"), "afternoon": ("12:00", "18:00"), "evening": ("18:00", "22:00"),
    "night": ("20:00", "24:00"), "nighttime": ("20:00", "24:00"), "tonight": ("18:00", "24:00"),
    "am": ("00:00", "12:00"), "pm": ("12:00", "24:00"), "daytime": ("06:00", "18:00"),
    "breakfast": ("07:00", "10:00"), "lunch": ("12:00", "14:00"), "lunchtime": ("12:00", "14:00"),
    "dinner": ("18:00", "21:00"), "dinnertime": ("18:00", "21:00"), "supper": ("18:00", "21:00"),
}  # fmt: skip
_PM_PERIODS = frozenset(
    ["afternoon", "evening", "night", "nighttime", "tonight", "pm", "dinner", "dinnertime", "supper"]
)
_BEFORE = ("before", "by", "until", "till", "earlier than", "no later than", "prior to", "not after", "to")
_AFTER = ("after", "later than", "from", "since", "starting", "no earlier than", "not before")
_AROUND = ("around", "about", "approximately", "close to", "near", "vicinity of", "roughly", "at about")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


TimeSpan = tuple[time | None, time | None, bool]  # (start, end, is one moment)


def _parse_hhmm(hour: int, minute: int, second: int = 0) -> time | None:
    return time(hour, minute, second) if 0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59 else None


def _meridiem(clock: time, marker: str | None) -> time | None:
    """Apply am/pm (or a pm period) to a clock time; None when it contradicts a 24-hour time."""
    if marker is None:
        return clock
    if clock.hour > 12:  # "13 pm": not a time
        return None
    if marker == "am":
        return clock.replace(hour=0) if clock.hour == 12 else clock
    return clock if clock.hour == 12 else clock.replace(hour=clock.hour + 12)


def clock_time(words: list[str]) -> tuple[time, bool] | None:
    """One clock time and whether it said am/pm: "8 am", "8:30 pm", "1245 pm", "2100", "5 o'clock",
    "half past 9", "a quarter to 5", "7 30 pm", "noon", "12 noon", "midnight"."""
    words = [w for w in words if w not in ("at", "o'clock", "sharp", "exactly", "hours")]
    marker = words[-1] if words and words[-1] in ("am", "pm") else None
    if marker:
        words = words[:-1]
    text = " ".join(words)
    if text in ("noon", "12 noon", "midday", "12 midday", "mid day"):
        return (time(12), True) if marker in (None, "pm") else None
    if text in ("midnight", "12 midnight"):
        return (time(0), True) if marker in (None, "am") else None
    clock = _plain_clock(words)
    if clock is None:
        return None
    marked = _meridiem(clock, marker)
    return (marked, marker is not None) if marked else None


def _plain_clock(words: list[str]) -> time | None:
    if len(words) == 1:
        word = words[0]
        if match := _CLOCK.fullmatch(word):
            return _parse_hhmm(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
        if word.isdigit() and len(word) <= 2:
            return _parse_hhmm(int(word), 0)
        if word.isdigit() and len(word) in (3, 4):  # ATIS: "1245", "515", "2100"
            return _parse_hhmm(int(word[:-2]), int(word[-2:]))
        return None
    if len(words) == 2 and all(w.isdigit() for w in words) and len(words[1]) == 2:  # "7 30" (seven thirty)
        return _parse_hhmm(int(words[0]), int(words[1]))
    if words[:1] == ["half"] and len(words) == 2 and words[1].isdigit() and 1 <= int(words[1]) <= 12:
        return _parse_hhmm(int(words[1]), 30)  # "half 7": 7:30, as the British say it
    for prefix, minutes in ((["half", "past"], 30), (["quarter", "past"], 15), (["a", "quarter", "past"], 15)):
        if words[:-1] == prefix and words[-1].isdigit():
            return _parse_hhmm(int(words[-1]), minutes)
    for prefix in (["quarter", "to"], ["a", "quarter", "to"], ["quarter", "of"]):
        if words[:-1] == prefix and words[-1].isdigit() and 1 <= int(words[-1]) <= 24:
            return _parse_hhmm((int(words[-1]) - 1) % 24, 45)
    if len(words) == 4 and words[0].isdigit() and words[1] in ("minutes", "min") and words[2] in ("past", "to"):
        hour, minutes = int(words[3]), int(words[0])
        return _parse_hhmm(hour if words[2] == "past" else hour - 1, minutes if words[2] == "past" else 60 - minutes)
    return None


def _period(words: list[str]) -> tuple[str, str] | None:
    """ "morning", "early morning", "late afternoon", "mornings", "lunch time" -> [start, end)."""
    text = " ".join(w.removesuffix("s") if w.removesuffix("s") in PERIODS else w for w in words)
    text = text.replace("lunch time", "lunch").replace("dinner time", "dinner").replace("in the ", "")
    parts = text.split()
    mod = parts[0] if parts and parts[0] in ("early", "late", "mid") else None
    name = " ".join(parts[1:] if mod else parts)
    if name not in PERIODS:
        return None
    start, end = PERIODS[name]
    if mod is None:
        return start, end
    s, e = _minutes(start), _minutes(end)
    third = (e - s) // 3
    if mod == "early":
        return start, _clock_minutes(s + (e - s) // 2)
    if mod == "late":
        return _clock_minutes(s + (e - s) // 2), end
    return _clock_minutes(s + third), _clock_minutes(e - third)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _clock_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _time_with_period(words: list[str]) -> tuple[time, bool] | None:
    """ "5 in the afternoon", "8 at night", "7 this evening", "5 pm": a clock time a period places."""
    for split in range(len(words) - 1, 0, -1):
        period = [w for w in words[split:] if w not in ("in", "the", "at", "this")]
        clock = clock_time(words[:split])
        name = " ".join(period).removesuffix("s")
        if clock and name in PERIODS and name not in ("am", "pm"):  # "5 pm" is clock_time's
            if clock[1]:
                return clock
            marked = _meridiem(clock[0], "pm" if name in _PM_PERIODS else "am") if clock[0].hour <= 12 else clock[0]
            return (marked, True) if marked else None
    return None


def _one_time(words: list[str]) -> tuple[time, bool] | None:
    return clock_time(words) or _time_with_period(words)


def _range_between(words: list[str]) -> tuple[time, time] | None:
    """ "between 5 and 7 pm", "from 10 am to noon", "5 to 7 pm", "5 - 7": the start shares the end's am/pm."""
    body = words[1:] if words[:1] in (["between"], ["from"]) else words
    for separator in ("and", "to", "until", "till", "-", "through"):
        if separator in body:
            cut = body.index(separator)
            start, end = _one_time(body[:cut]), _one_time(body[cut + 1 :])
            if not start or not end:
                continue
            start_time = start[0]
            if not start[1] and end[1] and end[0].hour >= 12 and start_time.hour < 12:
                shifted = _meridiem(start_time, "pm")
                start_time = shifted if shifted and shifted < end[0] else start_time
            return start_time, end[0]
    return None


def _relative_time(words: list[str]) -> TimeSpan | None:
    """ "before 5 pm", "after noon", "around 8", "no later than 6 pm", "early morning"."""
    text = " ".join(words)
    for phrases, kind in ((_BEFORE, "before"), (_AFTER, "after"), (_AROUND, "around")):
        for phrase in phrases:
            if text.startswith(phrase + " "):
                rest = text[len(phrase) + 1 :].split()
                moment = _one_time(rest)
                if moment is not None:
                    clock = moment[0]
                    return (
                        (None, clock, False)
                        if kind == "before"
                        else (clock, None, False)
                        if kind == "after"
                        else (clock, clock, True)
                    )
                period = _period(rest)
                if period is not None:  # "before noon" is a time; "after the morning" is its end
                    start, end = period
                    return (
                        (None, _time(start), False)
                        if kind == "before"
                        else (_time(end), None, False)
                        if kind == "after"
                        else None
                    )
    return None


def _time(clock: str) -> time | None:
    return None if clock == "24:00" else time.fromisoformat(clock)


def time_span(words: list[str], hours: str | None = None) -> tuple[Value, ...] | None:
    """The time or time range `words` name: ({"kind": "time", ...},) or ({"kind": "time_range", ...},).
    A time of an hour from 1 to 11 without am/pm or a period is read as `hours` says
    (slotfill.values.typed.read_hour), or keeps both readings under "ambiguous"."""
    moment = _one_time(words)
    if moment is not None:
        clock, said = _clock_text(moment[0]), moment[1]
        if said or not 1 <= moment[0].hour <= 11 or any(re.match(r"0\d", w) for w in words):
            return ({"kind": "time", "time": clock},)
        clock, readings = read_hour(clock, hours)
        value: Value = {"kind": "time", "time": clock}
        if readings is not None:
            value["ambiguous"] = readings
        return (value,)
    between = _range_between(words)
    if between is not None:
        return ({"kind": "time_range", "start": _clock_text(between[0]), "end": _clock_text(between[1])},)
    relative = _relative_time(words)
    if relative is not None:
        start, end, single = relative
        if single and start is not None:
            return ({"kind": "time", "time": _clock_text(start)},)
        return ({"kind": "time_range", "start": _fmt(start), "end": _fmt(end)},)
    period = _period(words)
    if period is not None:
        return ({"kind": "time_range", "start": period[0], "end": period[1]},)
    return None


def _fmt(clock: time | None) -> str | None:
    return None if clock is None else _clock_text(clock)


def time_frame_text(parts: list[tuple[str, str]]) -> str:
    """One text from the (role, text) parts of an ATIS-style time frame, in the grammar above:
    `time_relative` + `time` + `period_mod` + `period_of_day` -> "before 10 am in the early morning";
    `start_time` / `end_time` -> "from 5 to 7 pm"."""
    by_role: dict[str, list[str]] = {}
    for role, text in parts:
        by_role.setdefault(role, []).append(text)
    joined = {role: " ".join(texts) for role, texts in by_role.items()}
    period = " ".join(joined[r] for r in ("period_mod", "period_of_day") if r in joined)
    start, end = joined.get("start_time"), joined.get("end_time")
    if start and end:
        core = f"between {_placed(start, period)} and {_placed(end, period)}"
    elif start or end:
        core = f"from {_placed(start, period)}" if start else f"to {_placed(end or '', period)}"
    elif "time" in joined:
        core = _placed(joined["time"], period)
    else:
        core = period
    relative = joined.get("time_relative")
    rest = [text for role, text in joined.items() if role not in _TIME_ROLES]
    return " ".join([*([relative] if relative else []), core, *rest]).strip()


_TIME_ROLES = ("time", "time_relative", "period_mod", "period_of_day", "start_time", "end_time")


def _placed(clock: str, period: str) -> str:
    """ "5" + "afternoon" -> "5 in the afternoon"; a clock that says am/pm keeps its own."""
    return f"{clock} in the {period}" if period and period not in ("am", "pm") else f"{clock} {period}".strip()


def _clock_text(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")
